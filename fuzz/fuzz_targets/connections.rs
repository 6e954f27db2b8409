//! The connection files podman-remote shares with podman: podman-connections.json (podman 5)
//! and containers.conf (podman 4). Input = JSON file, a NUL byte, containers.conf. Reading any
//! pair never panics; an edit either succeeds and leaves files that read back with the change,
//! or fails and leaves both files byte for byte as they were (never a corrupt file).
#![no_main]

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use bindings::connections::{Destination, Registry};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // The registry fsyncs every write: tmpfs keeps that cheap.
        // run.sh names a scratch directory it removes afterwards; tmpfs when there is one.
        let base = std::env::var_os("FUZZ_SCRATCH")
            .map(PathBuf::from)
            .into_iter()
            .chain(["/dev/shm", "/tmp"].map(PathBuf::from))
            .find(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        tempfile::Builder::new()
            .prefix("fuzz-connections-")
            .tempdir_in(base)
            .expect("a temp dir")
            .keep()
    })
}

fn snapshot(registry: &Registry) -> (Vec<u8>, Vec<u8>) {
    (
        fs::read(registry.json_path()).unwrap_or_default(),
        fs::read(registry.conf_path()).unwrap_or_default(),
    )
}

fuzz_target!(|data: &[u8]| {
    let (json, conf) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let dir = dir();
    let registry = Registry::with_paths(
        dir.join("podman-connections.json"),
        dir.join("containers.conf"),
    );
    fs::write(registry.json_path(), json).expect("write the JSON file");
    fs::write(registry.conf_path(), conf).expect("write containers.conf");

    if registry.list().is_err() {
        let before = snapshot(&registry);
        assert!(registry
            .add(
                "fuzz-new",
                Destination::new("ssh://u@h/run/podman.sock"),
                false
            )
            .is_err());
        assert_eq!(
            snapshot(&registry),
            before,
            "a failed edit changed the files"
        );
        return;
    }
    let _ = registry.default_connection();
    let _ = registry.get("fuzz-new");

    let uri = "ssh://u@h:22/run/podman.sock";
    type Edit<'a> = (
        &'a str,
        &'a dyn Fn(&Registry) -> bindings::Result<()>,
        &'a dyn Fn(&Registry),
    );
    let edits: [Edit; 4] = [
        (
            "add",
            &|r| r.add("fuzz-new", Destination::new(uri), true),
            &|r| {
                let conn = r.get("fuzz-new").expect("readable").expect("added");
                assert_eq!(conn.destination.uri, uri);
                let default = r.default_connection().expect("readable").map(|c| c.name);
                assert_eq!(default.as_deref(), Some("fuzz-new"));
            },
        ),
        ("rename", &|r| r.rename("fuzz-new", "fuzz-renamed"), &|r| {
            assert!(r.get("fuzz-new").expect("readable").is_none());
            assert!(r.get("fuzz-renamed").expect("readable").is_some());
        }),
        ("set default", &|r| r.set_default("fuzz-renamed"), &|r| {
            let default = r.default_connection().expect("readable").map(|c| c.name);
            assert_eq!(default.as_deref(), Some("fuzz-renamed"));
        }),
        ("remove", &|r| r.remove("fuzz-renamed"), &|r| {
            assert!(r.get("fuzz-renamed").expect("readable").is_none());
        }),
    ];
    for (what, edit, check) in edits {
        let before = snapshot(&registry);
        match edit(&registry) {
            Ok(()) => {
                let after = registry.list();
                assert!(
                    after.is_ok(),
                    "{what} left files that do not read back: {after:?}"
                );
                check(&registry);
            }
            Err(_) => assert_eq!(
                snapshot(&registry),
                before,
                "a failed {what} changed the files"
            ),
        }
    }
});
