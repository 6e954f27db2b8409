//! known_hosts text: parsing never panics, and whatever the file says, a host key it does not
//! list for a host is never reported as known (the check fails closed).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use bindings::ssh::known_hosts::{changed_message, host_pattern, HostKeyStatus, KnownHosts};
use libfuzzer_sys::fuzz_target;
use russh::keys::PublicKey;

/// A key that appears in no seed and that random bytes will not produce.
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAKLfBxG8VkFVl08V1KG7uN8u7WMSYxbPt37YkuDKI fuzz";

fn key() -> &'static PublicKey {
    static KEY_CELL: OnceLock<PublicKey> = OnceLock::new();
    KEY_CELL.get_or_init(|| PublicKey::from_openssh(KEY).expect("the fixed key parses"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let known = KnownHosts::parse(&text, Path::new("known_hosts"));
    let _ = known.warnings();
    // The base64 body minus its last characters, which non-canonical padding bits may vary.
    let key_text = &KEY.split_whitespace().nth(1).unwrap_or_default()[..60];
    for (host, port) in [
        ("example.com", 22),
        ("127.0.0.1", 2222),
        ("::1", 22),
        ("", 0),
    ] {
        let status = known.check(host, port, key());
        let _ = known.known_algorithms(host, port);
        let _ = known.has_cert_authority(host, port);
        let _ = host_pattern(host, port);
        let _ = changed_message(host, port, &status);
        // Only a line carrying the key itself can make it known.
        if status == HostKeyStatus::Known {
            assert!(
                text.contains(key_text),
                "a key the file does not contain was accepted for {host}:{port}"
            );
        }
    }
});
