//! Windows host paths as a WSL machine sees them, podman's rules (`specgen.ConvertWinMountPath`,
//! `SplitVolumeString`, `IsHostWinPath`): `C:\x` → `/mnt/c/x`, Git Bash's `/c/x` → `/mnt/c/x`,
//! relative paths made absolute against the client's working directory first, `\\.\X` (a disk
//! attached with `wsl --mount`) → `/mnt/wsl/X`, `\\?\` prefixes dropped, and UNC shares refused:
//! WSL does not mount them. Pure string logic so every rule is tested on any host; the client
//! applies it only when it runs on Windows.

/// Why a path cannot be given to the machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WinPathError {
    #[error(
        "{0}: UNC paths (\\\\server\\share) cannot be mounted into a WSL machine; map the share \
         to a drive letter or copy the files to a local drive"
    )]
    Unc(String),
}

fn has_drive(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic()
}

/// `\\server` or `\/server`: Windows takes either separator after the first backslash as
/// the start of a UNC name (a leading `/` is a Unix path here, handled before).
fn unc_start(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() >= 2 && b[0] == b'\\' && (b[1] == b'\\' || b[1] == b'/')
}

/// Whether `p` names a Windows host path (drive-letter or `\\` form).
pub fn is_host_win_path(p: &str) -> bool {
    unc_start(p) || has_drive(p)
}

/// Resolve `.` and `..` in a `\`-separated path below its root (`C:` or `\\.\X`).
fn clean(root: &str, rest: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in rest.split(['\\', '/']) {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("{root}\\{}", out.join("\\"))
}

/// `path` made absolute against `cwd` (a Windows absolute path such as `C:\Users\me`), as
/// Go's `filepath.Abs` does on Windows.
pub fn absolute(path: &str, cwd: &str) -> String {
    for prefix in [r"\\.\", r"\\?\"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            // The device (or drive) after the prefix is the root: `..` cannot climb above
            // it, as GetFullPathName resolves it.
            return match rest.split_once(['\\', '/']).unwrap_or((rest, "")) {
                ("" | "." | "..", _) => clean(&prefix[..3], rest),
                (dev, tail) => clean(&format!("{prefix}{dev}"), tail),
            };
        }
    }
    if unc_start(path) {
        return path.to_string();
    }
    if has_drive(path) {
        let rest = &path[2..];
        if rest.starts_with(['\\', '/']) {
            return clean(&path[..2], rest);
        }
        // `C:x` is relative to C:'s current directory; only the current drive's is known.
        if has_drive(cwd) && cwd[..2].eq_ignore_ascii_case(&path[..2]) {
            return clean(&cwd[..2], &format!("{}\\{rest}", &cwd[2..]));
        }
        return clean(&path[..2], rest);
    }
    let (root, base) = if has_drive(cwd) {
        (&cwd[..2], &cwd[2..])
    } else {
        ("", cwd)
    };
    if path.starts_with(['\\', '/']) {
        // Rooted on the current drive.
        return clean(root, path);
    }
    clean(root, &format!("{base}\\{path}"))
}

/// The in-machine path for a bind-mount source given on a Windows client.
pub fn to_machine_path(path: &str, cwd: &str) -> Result<String, WinPathError> {
    if let Some(rest) = path.strip_prefix('/') {
        let b = rest.as_bytes();
        // Git Bash / MSYS `/c/Users/x`.
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b'/' {
            return Ok(format!(
                "/mnt/{}/{}",
                (b[0] as char).to_ascii_lowercase(),
                &rest[2..]
            ));
        }
        return Ok(path.to_string());
    }
    let p = absolute(path, cwd);
    let p = p.strip_prefix(r"\\?\").unwrap_or(&p);
    let out = if let Some(dev) = p.strip_prefix(r"\\.\") {
        format!("/mnt/wsl/{dev}")
    } else if has_drive(p) {
        format!("/mnt/{}{}", p[..1].to_ascii_lowercase(), &p[2..])
    } else {
        return Err(WinPathError::Unc(path.to_string()));
    };
    let out = out.replace('\\', "/");
    // `C:\` becomes `/mnt/c/`; keep the root, drop the trailing slash elsewhere.
    Ok(if out.len() > 7 && out.ends_with('/') {
        out.trim_end_matches('/').to_string()
    } else {
        out
    })
}

/// Split `-v SRC:DST[:OPTS]` where SRC may carry a drive letter's colon.
pub fn split_volume(vol: &str) -> Vec<String> {
    let parts: Vec<&str> = vol.split(':').collect();
    let owned = || parts.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let last_is_path = parts.last().is_some_and(|l| l.starts_with('/'));
    // `name:/ctr` and `name:/ctr:ro`: nothing to join.
    if (last_is_path && parts.len() == 2) || (!last_is_path && parts.len() == 3) {
        return owned();
    }
    let first = parts[0].strip_prefix(r"\\?\").unwrap_or(parts[0]);
    let drive_first = first.len() == 1
        && first.as_bytes()[0].is_ascii_alphabetic()
        && parts.len() >= 2
        && parts[1].starts_with(['\\', '/']);
    if drive_first {
        let mut v = vec![format!("{}:{}", parts[0], parts[1])];
        v.extend(parts[2..].iter().map(|s| s.to_string()));
        return v;
    }
    owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CWD: &str = r"C:\Users\me\proj";

    #[test]
    fn conversion_table() {
        let ok: &[(&str, &str)] = &[
            (r"C:\x", "/mnt/c/x"),
            (r"c:\Users\me\data", "/mnt/c/Users/me/data"),
            (r"D:\", "/mnt/d/"),
            ("C:/Users/me", "/mnt/c/Users/me"),
            (r"C:\a\..\b\.\c\", "/mnt/c/b/c"),
            ("/c/Users/me", "/mnt/c/Users/me"),
            ("/D/tmp", "/mnt/d/tmp"),
            ("/home/user", "/home/user"),
            ("/", "/"),
            ("/cx/y", "/cx/y"),
            (".", "/mnt/c/Users/me/proj"),
            (r".\src", "/mnt/c/Users/me/proj/src"),
            ("src/app", "/mnt/c/Users/me/proj/src/app"),
            (r"..\other", "/mnt/c/Users/me/other"),
            (r"\rooted", "/mnt/c/rooted"),
            ("C:rel", "/mnt/c/Users/me/proj/rel"),
            (r"E:rel", "/mnt/e/rel"),
            (r"\\.\PHYSICALDRIVE2", "/mnt/wsl/PHYSICALDRIVE2"),
            (r"\\?\C:\long\path", "/mnt/c/long/path"),
            // Found by fuzz/fuzz_targets/winpath.rs: `..` stays below the device or drive.
            (r"\\.\X\..\..\etc", "/mnt/wsl/X/etc"),
            (r"\\?\C:\a\..\..\b", "/mnt/c/b"),
            (r"C:\Program Files\x y", "/mnt/c/Program Files/x y"),
        ];
        for (input, want) in ok {
            assert_eq!(to_machine_path(input, CWD).as_deref(), Ok(*want), "{input}");
        }
        // `\/server/share` was found by fuzz/fuzz_targets/winpath.rs.
        for unc in [
            r"\\server\share\dir",
            r"\\?\UNC\server\share",
            r"\/server/share",
        ] {
            let e = to_machine_path(unc, CWD).unwrap_err();
            assert_eq!(e, WinPathError::Unc(unc.to_string()));
            let msg = e.to_string();
            assert!(
                msg.contains("UNC paths") && msg.contains("drive letter"),
                "{msg}"
            );
        }
    }

    #[test]
    fn a_working_directory_without_a_drive_does_not_panic() {
        // Found by fuzz/fuzz_targets/winpath.rs: a multi-byte character where a drive was
        // expected used to be sliced through.
        assert_eq!(absolute("d::", "/\u{3e1}"), r"d:\:");
        assert_eq!(
            to_machine_path("d:x", "\u{20ac}x").as_deref(),
            Ok("/mnt/d/x")
        );
    }

    #[test]
    fn volume_splitting_keeps_drive_colons() {
        let cases: &[(&str, &[&str])] = &[
            (r"C:\Users\me:/data", &[r"C:\Users\me", "/data"]),
            (r"C:\Users\me:/data:ro", &[r"C:\Users\me", "/data", "ro"]),
            ("C:/x:/data:ro,z", &["C:/x", "/data", "ro,z"]),
            (r"\\?\C:\x:/data", &[r"\\?\C:\x", "/data"]),
            ("vol:/data", &["vol", "/data"]),
            ("vol:/data:ro", &["vol", "/data", "ro"]),
            ("c:/data", &["c", "/data"]),
            ("/data", &["/data"]),
            ("./rel:/data", &["./rel", "/data"]),
        ];
        for (input, want) in cases {
            assert_eq!(split_volume(input), *want, "{input}");
        }
    }

    #[test]
    fn host_path_detection() {
        for p in [r"C:\x", "c:", r"\\server\s", r"\\.\X"] {
            assert!(is_host_win_path(p), "{p}");
        }
        for p in ["ctr:/x", "/x", "1:/x", "x"] {
            assert!(!is_host_win_path(p), "{p}");
        }
    }
}
