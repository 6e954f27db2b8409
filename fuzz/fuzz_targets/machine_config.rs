//! Machine files podman-remote reads back: `<name>.json` (podman 5's MachineConfig, as podman
//! writes it or as we do, other providers' sections and future keys included) and the Ignition
//! file a vsock provider patches before boot. Input: config JSON, a NUL byte, Ignition JSON.
//! Nothing panics; a config that loads is written back (as every `machine set`/`start` does)
//! into a file that loads to the same config and that the machine listing finds, and a bad
//! one is a config error naming the file; a patched Ignition file holds exactly one
//! `ready.service`, ours, and the extra units, and its other units are kept.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use podman_machine::config::{MachineConfig, PathRef};
use podman_machine::dirs::Dirs;
use podman_machine::provider::ignpatch::{vsock_ready_unit, with_units};
use podman_machine::Error;
use serde_json::{json, Value};

fn dirs() -> &'static Dirs {
    static DIRS: OnceLock<Dirs> = OnceLock::new();
    DIRS.get_or_init(|| {
        // run.sh names a scratch directory it removes afterwards; tmpfs when there is one.
        let base = std::env::var_os("FUZZ_SCRATCH")
            .map(PathBuf::from)
            .into_iter()
            .chain(["/dev/shm", "/tmp"].map(PathBuf::from))
            .find(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let root = tempfile::Builder::new()
            .prefix("fuzz-machine-")
            .tempdir_in(base)
            .expect("a temp dir")
            .keep();
        let d = Dirs {
            config: root.join("config/qemu"),
            data: root.join("data/qemu"),
            global_data: root.join("data"),
            runtime: root.join("run"),
        };
        d.ensure().expect("machine dirs");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let (config, ign) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let dirs = dirs();
    let path = dirs.config.join("fuzz.json");
    match MachineConfig::from_bytes(&path, config) {
        Ok(mc) => {
            for p in mc.files(dirs) {
                assert!(!p.as_os_str().is_empty());
            }
            let _ = (mc.guest_socket(false), mc.ssh_user());
            let mut mine = mc.clone();
            mine.config_path = PathRef::new(&path);
            mine.save().expect("a loaded config saves");
            let bytes = std::fs::read(&path).expect("saved file");
            let back = MachineConfig::from_bytes(&path, &bytes).expect("a saved config loads");
            assert_eq!(back, mine, "the config changed on a write and a read");
            let listed = MachineConfig::list(dirs).expect("listing");
            assert_eq!(listed, vec![mine]);
            std::fs::remove_file(&path).expect("remove");
        }
        Err(Error::Config { path: p, .. }) => assert_eq!(p, path.display().to_string()),
        Err(e) => panic!("not a config error: {e}"),
    }

    let unit = vsock_ready_unit(1025, "vsock-network.service");
    let extra = json!({"name": "vsock-network.service", "enabled": true, "contents": "x"});
    if let Ok(out) = with_units(ign, &unit, std::slice::from_ref(&extra)) {
        let v: Value = serde_json::from_slice(&out).expect("the patched file is JSON");
        let units = v["systemd"]["units"].as_array().expect("units");
        let ready: Vec<&Value> = units
            .iter()
            .filter(|u| u["name"] == "ready.service")
            .collect();
        assert_eq!(ready.len(), 1, "{units:?}");
        assert_eq!(ready[0]["contents"], unit.as_str());
        assert!(units.contains(&extra));
        let before: Value = serde_json::from_slice(ign).expect("it was JSON");
        if let Some(old) = before.pointer("/systemd/units").and_then(Value::as_array) {
            for u in old.iter().filter(|u| u["name"] != "ready.service") {
                assert!(units.contains(u), "lost {u}");
            }
        }
    }
});
