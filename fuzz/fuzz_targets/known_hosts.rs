//! known_hosts text: parsing never panics; whatever the file says, a host key it does not list
//! for a host is never reported as known (the check fails closed); and a key we append to that
//! file, hashed or not, is known for its host when the file is read back (the append repairs a
//! missing final newline instead of gluing our line to the last one).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bindings::ssh::known_hosts::{
    append, changed_message, host_pattern, HostKeyStatus, KnownHosts,
};
use libfuzzer_sys::fuzz_target;
use russh::keys::PublicKey;

/// A key that appears in no seed and that random bytes will not produce.
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAKLfBxG8VkFVl08V1KG7uN8u7WMSYxbPt37YkuDKI fuzz";

fn key() -> &'static PublicKey {
    static KEY_CELL: OnceLock<PublicKey> = OnceLock::new();
    KEY_CELL.get_or_init(|| PublicKey::from_openssh(KEY).expect("the fixed key parses"))
}

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // run.sh names a scratch directory it removes afterwards; tmpfs when there is one.
        let base = std::env::var_os("FUZZ_SCRATCH")
            .map(PathBuf::from)
            .into_iter()
            .chain(["/dev/shm", "/tmp"].map(PathBuf::from))
            .find(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        tempfile::Builder::new()
            .prefix("fuzz-known-hosts-")
            .tempdir_in(base)
            .expect("a temp dir")
            .keep()
    })
}

/// A host name or address made from the input's first bytes, in the characters a URL's host
/// can have, and a port from the next two.
fn host_and_port(data: &[u8]) -> (String, u16) {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABC0123456789.-:_";
    let host: String = data
        .iter()
        .take(24)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    let host = if host.is_empty() {
        "h".to_string()
    } else {
        host
    };
    let port = match data.get(24..26) {
        Some(&[a, b]) if u16::from_be_bytes([a, b]) != 0 => u16::from_be_bytes([a, b]),
        _ => 22,
    };
    (host, port)
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

    if text.contains(key_text) {
        return;
    }
    let (host, port) = host_and_port(data);
    for hash in [false, true] {
        let path = scratch().join("known_hosts");
        std::fs::write(&path, data).expect("write known_hosts");
        append(&path, &host, port, key(), hash).expect("append");
        let reread = KnownHosts::load(&[path]);
        let status = reread.check(&host, port, key());
        assert_eq!(
            status,
            HostKeyStatus::Known,
            "appended {host}:{port} (hashed: {hash}) is not known when read back"
        );
    }
});
