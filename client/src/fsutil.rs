//! Writing local files so that nothing partial is ever left behind: a temporary file in the
//! destination's directory, flushed to disk, then renamed over the destination.

use std::io::{self, Write};
use std::path::Path;

/// Which step of an atomic write failed, for podman-style messages ("open x: ...").
#[derive(Debug)]
pub struct WriteFailure {
    pub op: &'static str,
    pub error: io::Error,
}

impl From<WriteFailure> for io::Error {
    fn from(f: WriteFailure) -> io::Error {
        f.error
    }
}

/// Write `data` to `path` atomically; `mode` sets the permission bits on unix (the temporary
/// file is otherwise created 0600). The directory must exist.
pub fn write_atomic(path: &Path, data: &[u8], mode: Option<u32>) -> Result<(), WriteFailure> {
    let fail = |op| move |error| WriteFailure { op, error };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".podman-remote-")
        .tempfile_in(dir)
        .map_err(fail("open"))?;
    #[cfg(unix)]
    if let Some(m) = mode {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(m))
            .map_err(fail("chmod"))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(data).map_err(fail("write"))?;
    tmp.as_file().sync_all().map_err(fail("write"))?;
    tmp.persist(path).map_err(|e| WriteFailure {
        op: "rename",
        error: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id");
        std::fs::write(&p, "old contents").unwrap();
        write_atomic(&p, b"new", Some(0o644)).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(m & 0o777, 0o644);
        }
    }

    #[test]
    fn missing_directory_is_an_open_failure() {
        let e = write_atomic(Path::new("/no/such/dir/f"), b"x", None).unwrap_err();
        assert_eq!(e.op, "open");
        assert_eq!(e.error.kind(), io::ErrorKind::NotFound);
    }
}
