//! Go-template `--format` strings: any template parses or fails cleanly, and executing it
//! against podman-like rows (plain, `table` and `json` forms) never panics, never overflows the
//! stack and never runs away with memory or time.
//!
//! The format engine lives in the client binary crate; it only depends on serde_json, so the
//! module is compiled in here from its source file rather than exposing it through a library.
#![no_main]

#[path = "../../client/src/format/mod.rs"]
mod format;

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn rows() -> &'static [Value] {
    static ROWS: OnceLock<Vec<Value>> = OnceLock::new();
    ROWS.get_or_init(|| {
        vec![
            json!({
                "ID": "3f2a9c0d1e4b", "Names": ["web", "alias"], "Image": "localhost/e2e/busybox:latest",
                "Command": ["/bin/sh", "-c", "sleep 1000"], "Created": 1732780800, "CreatedAt": "2024-11-28 08:00:00 +0000 UTC",
                "State": "running", "Status": "Up 2 minutes", "Size": 1234567, "Pid": 4242, "Exited": false,
                "ExitCode": 0, "Labels": {"app": "web", "tier": "front"}, "Ports": [{"host_port": 8080, "container_port": 80, "protocol": "tcp"}],
                "Mounts": [], "Networks": null, "Ratio": 0.25, "Nested": {"Inner": {"Deep": [1, 2, 3], "Flag": true}}
            }),
            json!({
                "ID": "", "Names": [], "Image": "", "Command": null, "Created": -1, "State": "exited",
                "Status": "", "Size": 0, "Pid": 0, "Exited": true, "ExitCode": 137, "Labels": {},
                "Ports": [], "Mounts": ["/a", "/b"], "Networks": ["podman"], "Ratio": 1e300,
                "Nested": {"Inner": null}
            }),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let rows = rows();
    let mut out = Vec::new();
    let _ = format::render_one(text, &rows[0], &mut out);
    let headers: HashMap<String, String> = [("ID".to_string(), "CONTAINER ID".to_string())].into();
    for user in [true, false] {
        out.clear();
        let _ = format::print_rows(text, rows, &headers, user, false, &mut out);
    }
    let _ = format::is_json(text);
    let _ = format::enforce_range(text);
    let _ = format::normalize_format(text);
});
