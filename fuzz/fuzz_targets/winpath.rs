//! Windows path rules for bind mounts into a WSL machine (`bindings::winpath`). Input = a path,
//! or a working directory, a NUL byte and a path; also split as a whole `-v` argument.
//! Properties: never a panic; a converted path is absolute, uses `/` only and keeps no `.` or
//! `..` component; a drive letter lands under `/mnt/<lowercase letter>`; a UNC share is
//! always refused; splitting a `-v` argument loses nothing.
#![no_main]

use bindings::winpath::{absolute, is_host_win_path, split_volume, to_machine_path, WinPathError};
use libfuzzer_sys::fuzz_target;

const CWD: &str = r"C:\Users\me\proj";

fn sep(b: u8) -> bool {
    b == b'\\' || b == b'/'
}

/// `\\server\share` as Windows reads it: two separators, the first a backslash (a leading `/`
/// is a Unix path, passed through), and neither `\\.\` (device) nor `\\?\` (extended) form;
/// `\\?\UNC\server\share` is the extended spelling of the same.
fn is_unc(p: &str) -> bool {
    let b = p.as_bytes();
    if b.len() >= 2 && b[0] == b'\\' && sep(b[1]) {
        let device = b.len() >= 4 && (b[2] == b'.' || b[2] == b'?') && sep(b[3]);
        if !device {
            return true;
        }
    }
    p.len() >= 8 && p.is_char_boundary(8) && p[..8].eq_ignore_ascii_case(r"\\?\UNC\")
}

/// A working directory as Windows gives one: a drive, a separator, then anything.
fn plausible_cwd(cwd: &str) -> bool {
    let b = cwd.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && sep(b[2])
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (cwd, path) = match text.split_once('\0') {
        Some((c, p)) => (c, p),
        None => (CWD, text),
    };
    let _ = is_host_win_path(path);
    let _ = absolute(path, cwd);

    let parts = split_volume(text);
    assert!(!parts.is_empty(), "split_volume({text:?}) is empty");
    assert_eq!(parts.join(":"), text, "split_volume lost or added text");

    let converted = to_machine_path(path, cwd);
    if is_unc(path) {
        assert_eq!(
            converted,
            Err(WinPathError::Unc(path.to_string())),
            "UNC path {path:?} was not refused"
        );
        return;
    }
    let Ok(out) = converted else {
        return;
    };
    assert!(out.starts_with('/'), "{path:?} -> {out:?} is not absolute");
    if path.starts_with('/') {
        // Unix paths and Git Bash's `/c/x` are passed on as the user wrote them.
        return;
    }
    if !plausible_cwd(cwd) {
        return;
    }
    assert!(out.starts_with("/mnt/"), "{path:?} -> {out:?} is outside /mnt");
    assert!(!out.contains('\\'), "{path:?} -> {out:?} keeps a backslash");
    assert!(
        !out.split('/').any(|c| c == "." || c == ".."),
        "{path:?} -> {out:?} keeps a . or .. component"
    );
    let b = path.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && sep(b[2]) {
        let want = format!("/mnt/{}", (b[0] as char).to_ascii_lowercase());
        assert!(
            out == want || out.starts_with(&format!("{want}/")),
            "{path:?} -> {out:?}, not under {want}"
        );
    }
});
