//! Provider-specific edits of the generated Ignition config: the shared generator writes the
//! QEMU ready unit (virtio-serial); vsock-based providers replace it with their own.

use serde_json::{json, Value};

use crate::{Error, Result};

/// The ready unit for a guest that reports over vsock to the host (CID 2) on `port`, as
/// podman's applehv/libkrun/hyperv units do; `after` orders it behind extra units.
pub fn vsock_ready_unit(port: u32, after: &str) -> String {
    format!(
        "[Unit]\n\
Description=Tell the host the machine is ready\n\
After=sshd.socket sshd.service {after}\n\
OnFailure=emergency.target\n\
OnFailureJobMode=isolate\n\
[Service]\n\
Type=oneshot\n\
RemainAfterExit=yes\n\
ExecStart=/bin/sh -c '/usr/bin/echo Ready | socat - VSOCK-CONNECT:2:{port}'\n\
[Install]\n\
RequiredBy=default.target\n"
    )
}

/// `ign` with `ready.service` replaced by `unit` (added if absent) and `extra_units` added.
pub fn with_units(ign: &[u8], unit: &str, extra_units: &[Value]) -> Result<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(ign)
        .map_err(|e| Error::Invalid(format!("the machine's Ignition file is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(Error::Invalid(
            "the machine's Ignition file is not a JSON object (an Ignition v3 config)".into(),
        ));
    }
    let units = v
        .pointer_mut("/systemd/units")
        .and_then(Value::as_array_mut);
    let ready = json!({ "name": "ready.service", "enabled": true, "contents": unit });
    match units {
        Some(units) => {
            units.retain(|u| u["name"] != "ready.service");
            units.push(ready);
            units.extend(extra_units.iter().cloned());
        }
        None => {
            let mut all = vec![ready];
            all.extend(extra_units.iter().cloned());
            v["systemd"] = json!({ "units": all });
        }
    }
    serde_json::to_vec(&v).map_err(|e| Error::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_unit_is_replaced_not_duplicated() {
        let ign = br#"{"ignition":{"version":"3.2.0"},"systemd":{"units":[
            {"name":"podman.socket","enabled":true},
            {"name":"ready.service","enabled":true,"contents":"vport"}]}}"#;
        let out = with_units(ign, &vsock_ready_unit(1025, ""), &[]).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let units = v["systemd"]["units"].as_array().unwrap();
        let ready: Vec<_> = units
            .iter()
            .filter(|u| u["name"] == "ready.service")
            .collect();
        assert_eq!(ready.len(), 1);
        let c = ready[0]["contents"].as_str().unwrap();
        assert!(c.contains("socat - VSOCK-CONNECT:2:1025"), "{c}");
        assert!(units.iter().any(|u| u["name"] == "podman.socket"));
        assert!(with_units(b"not json", "x", &[]).is_err());
    }

    /// Found by the machine_config fuzz target: JSON that is not an object panicked (indexing
    /// an array by key) instead of being refused.
    #[test]
    fn json_that_is_not_an_object_is_refused() {
        for ign in [&b"[]"[..], b"3", b"\"x\"", b"true", b"null"] {
            let e = with_units(ign, "x", &[]).unwrap_err().to_string();
            assert!(e.contains("not a JSON object"), "{e}");
        }
    }
}
