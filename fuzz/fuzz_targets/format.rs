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
                "Command": ["/bin/sh", "-c", "sleep 1000"], "Created": 1732780800.0, "CreatedAt": "2024-11-28 08:00:00 +0000 UTC",
                "State": "running", "Status": "Up 2 minutes", "Size": 1234567.0, "Pid": 3, "Exited": false,
                "ExitCode": 0, "Labels": {"app": "web", "tier": "front"}, "Ports": [{"host_port": 8080.0, "container_port": 80.0, "protocol": "tcp"}],
                "Mounts": [], "Networks": null, "Ratio": 0.25, "Nested": {"Inner": {"Deep": [1, 2, 3], "Flag": true}}
            }),
            json!({
                "ID": "", "Names": [], "Image": "", "Command": null, "Created": -1, "State": "exited",
                "Status": "", "Size": 0, "Pid": 0, "Exited": true, "ExitCode": 2, "Labels": {},
                "Ports": [], "Mounts": ["/a", "/b"], "Networks": ["podman"], "Ratio": 1e300,
                "Nested": {"Inner": null}
            }),
        ]
    })
}

/// `{{range N}}` loops N times, as in Go 1.22, and ranges nest: `{{range 999}}` three deep is
/// a billion iterations. That is a slow template, not a bug, and would only trip the fuzzer's
/// timeout, so templates whose ranges could multiply past about a million iterations are left
/// out: digits of the longest integer literal times the number of `range`s at most 6, and no
/// literal spelled with a prefix, exponent or separator, nor a character literal (up to
/// 0x10FFFF) under two ranges. The rows' integers are all below 4; their large numbers are
/// floats, which `range` refuses.
fn huge_range(text: &str) -> bool {
    let ranges = text.matches("range").count();
    if ranges == 0 {
        return false;
    }
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let (mut run, mut longest) = (0, 1);
    for i in 0..b.len() {
        run = if digit(i) { run + 1 } else { 0 };
        longest = longest.max(run);
        let prefixed =
            b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B'));
        let spelled = digit(i) && matches!(b.get(i + 1), Some(b'e' | b'E' | b'_' | b'p' | b'P'));
        if prefixed || spelled {
            return true;
        }
    }
    longest * ranges > 6 || (ranges > 1 && text.contains('\''))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if huge_range(text) {
        return;
    }
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
