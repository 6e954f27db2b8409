//! cloud-init NoCloud seed for generic cloud images (Debian, Ubuntu, Fedora Cloud): `user-data`
//! and `meta-data` doing what the Ignition config does. The user-data body is JSON, which is
//! YAML, so no YAML writer is needed; the `#cloud-config` header line makes cloud-init read it.

use std::path::Path;

use serde_json::{json, Value};

use crate::ignition::{mount_unit, socket_path, ProvisionSpec, READY_UNIT};
use crate::Result;

pub fn user_data(s: &ProvisionSpec) -> String {
    let mut user = json!({
        "name": s.user,
        "sudo": "ALL=(ALL) NOPASSWD:ALL",
        "shell": "/bin/bash",
        "lock_passwd": true,
        "ssh_authorized_keys": [s.authorized_key],
    });
    if s.user != "core" {
        user["uid"] = json!(s.uid);
        user["groups"] = json!(["sudo", "adm", "systemd-journal"]);
    }
    let mut write_files = vec![
        json!({ "path": format!("/var/lib/systemd/linger/{}", s.user), "content": "" }),
        json!({ "path": "/etc/containers/podman-machine", "content": "qemu\n" }),
        json!({
            "path": "/etc/tmpfiles.d/podman-docker.conf",
            "content": format!("L+ /run/docker.sock - - - - {}\n", socket_path(s.uid, s.rootful)),
        }),
        json!({ "path": "/etc/systemd/system/ready.service", "content": READY_UNIT }),
        json!({
            "path": format!("/etc/subuid"),
            "content": format!("{}:100000:1000000\n", s.user),
        }),
        json!({
            "path": format!("/etc/subgid"),
            "content": format!("{}:100000:1000000\n", s.user),
        }),
    ];
    if !s.proxy_env.is_empty() {
        let lines: String = s
            .proxy_env
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        write_files
            .push(json!({ "path": "/etc/environment.d/default-env.conf", "content": lines }));
    }
    // --volume shares: the same mount units as with Ignition (cloud-init's own `mounts` module
    // would take a virtiofs/9p tag for a /dev name).
    let mut runcmd = vec![
        json!(["systemctl", "daemon-reload"]),
        json!(["systemctl", "enable", "--now", "podman.socket"]),
        json!(["systemctl", "--global", "enable", "podman.socket"]),
    ];
    // The default engine's service starts with the boot (as with Ignition): its first start
    // then overlaps the boot instead of delaying the first command after `machine start`.
    runcmd.push(if s.rootful {
        json!(["systemctl", "enable", "--now", "podman.service"])
    } else {
        json!(["systemctl", "--global", "enable", "podman.service"])
    });
    runcmd.push(json!(["loginctl", "enable-linger", s.user]));
    for (tag, target, kind, ro) in &s.mounts {
        let (unit, contents) = mount_unit(tag, target, kind, *ro);
        write_files
            .push(json!({ "path": format!("/etc/systemd/system/{unit}"), "content": contents }));
        runcmd.push(json!(["systemctl", "enable", "--now", unit]));
    }
    // Last: the host takes Ready as "provisioned".
    runcmd.push(json!(["systemctl", "enable", "--now", "ready.service"]));
    let ca: Vec<Value> = s.ca_certs.iter().map(|(_, pem)| json!(pem)).collect();
    let mut doc = json!({
        "users": [user],
        "disable_root": false,
        "ssh_pwauth": false,
        // root gets the machine key too, as with Ignition (rootful connections log in as root).
        "ssh_authorized_keys": [s.authorized_key],
        "ssh_deletekeys": true,
        // Only a missing key of a listed type is generated, and ssh_keys brings this one (an
        // empty list would do the same but fails cloud-init's schema).
        "ssh_genkeytypes": ["ed25519"],
        // The seed's hostname must resolve (sudo, podman) as it did under the image's name.
        "manage_etc_hosts": true,
        "ssh_keys": {
            "ed25519_private": s.host_key_private,
            "ed25519_public": s.host_key_public,
        },
        "write_files": write_files,
        "runcmd": runcmd,
    });
    if !s.timezone.is_empty() {
        doc["timezone"] = json!(s.timezone);
    }
    if !ca.is_empty() {
        doc["ca_certs"] = json!({ "trusted": ca });
    }
    format!(
        "#cloud-config\n{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

pub fn meta_data(s: &ProvisionSpec, instance_id: &str) -> String {
    format!("instance-id: {instance_id}\nlocal-hostname: {}\n", s.name)
}

/// Write the seed directory (delivered as a `cidata` volume by the provider).
pub fn write_seed(dir: &Path, s: &ProvisionSpec, instance_id: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::Io {
        context: format!("cannot create {}", dir.display()),
        source: e,
    })?;
    crate::set_mode(dir, 0o700)?;
    crate::write_atomic(&dir.join("user-data"), user_data(s).as_bytes(), 0o600)?;
    crate::write_atomic(
        &dir.join("meta-data"),
        meta_data(s, instance_id).as_bytes(),
        0o600,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ProvisionSpec {
        ProvisionSpec {
            name: "m1".into(),
            user: "core".into(),
            uid: 1000,
            authorized_key: "ssh-ed25519 AAAA machine".into(),
            host_key_private: "PRIVATE".into(),
            host_key_public: "ssh-ed25519 BBBB host".into(),
            timezone: "UTC".into(),
            ..Default::default()
        }
    }

    #[test]
    fn user_data_is_cloud_config_with_keys_and_units() {
        let ud = user_data(&spec());
        let (head, body) = ud.split_once('\n').unwrap();
        assert_eq!(head, "#cloud-config");
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["users"][0]["name"], "core");
        assert_eq!(
            v["users"][0]["ssh_authorized_keys"][0],
            "ssh-ed25519 AAAA machine"
        );
        assert_eq!(v["ssh_keys"]["ed25519_public"], "ssh-ed25519 BBBB host");
        assert_eq!(v["timezone"], "UTC");
        assert!(v["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "/etc/systemd/system/ready.service"));
        assert!(v["runcmd"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == &json!(["systemctl", "enable", "--now", "podman.socket"])));
    }

    #[test]
    fn volumes_become_mount_units_enabled_before_ready() {
        let mut s = spec();
        s.mounts = vec![(
            "vol0".into(),
            "/mnt/host-data".into(),
            "virtiofs".into(),
            true,
        )];
        let ud = user_data(&s);
        let v: Value = serde_json::from_str(ud.split_once('\n').unwrap().1).unwrap();
        let unit = v["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/etc/systemd/system/mnt-host\\x2ddata.mount")
            .expect("mount unit written");
        let c = unit["content"].as_str().unwrap();
        assert!(c.contains("What=vol0\n"), "{c}");
        assert!(c.contains("Where=/mnt/host-data\n"), "{c}");
        assert!(c.contains("Type=virtiofs\nOptions=ro\n"), "{c}");
        let cmds = v["runcmd"].as_array().unwrap();
        let mount = cmds
            .iter()
            .position(|c| c == &json!(["systemctl", "enable", "--now", "mnt-host\\x2ddata.mount"]))
            .expect("mount enabled");
        let ready = cmds
            .iter()
            .position(|c| c == &json!(["systemctl", "enable", "--now", "ready.service"]))
            .unwrap();
        assert!(
            mount < ready,
            "Ready must come after the volumes are mounted"
        );
        assert_eq!(ready, cmds.len() - 1);
    }

    #[test]
    fn the_default_engine_starts_with_the_boot() {
        let has = |rootful: bool, cmd: Value| {
            let mut s = spec();
            s.rootful = rootful;
            let doc: Value =
                serde_json::from_str(user_data(&s).strip_prefix("#cloud-config\n").unwrap())
                    .unwrap();
            doc["runcmd"].as_array().unwrap().contains(&cmd)
        };
        let user = json!(["systemctl", "--global", "enable", "podman.service"]);
        let root = json!(["systemctl", "enable", "--now", "podman.service"]);
        assert!(has(false, user.clone()) && !has(false, root.clone()));
        assert!(has(true, root) && !has(true, user));
    }

    #[test]
    fn seed_files_are_written_owner_only() {
        let d = tempfile::tempdir().unwrap();
        let seed = d.path().join("seed");
        write_seed(&seed, &spec(), "m1-1").unwrap();
        assert_eq!(
            std::fs::read_to_string(seed.join("meta-data")).unwrap(),
            "instance-id: m1-1\nlocal-hostname: m1\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(seed.join("user-data"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600);
        }
    }
}
