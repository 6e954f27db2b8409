//! Where servers listen and keep their files: one socket per connection in a private runtime
//! directory, with the pid, log and state files beside it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::listener::ListenAddr;

/// Name of our directory inside the runtime directory.
const DIR_NAME: &str = "podman-remote";

/// The directory holding the default sockets and the state of every server of this user:
/// `$XDG_RUNTIME_DIR/podman-remote` (else `/run/user/UID/podman-remote`, else
/// `$TMPDIR/podman-remote-UID`) on Linux, `$TMPDIR/podman-remote` on macOS,
/// `%TEMP%\podman-remote` on Windows. Not created here.
pub fn runtime_dir() -> PathBuf {
    base_runtime_dir().join(dir_name())
}

fn dir_name() -> String {
    // A directory of our own under a shared temp dir needs the uid in its name, or the first
    // user to create it would lock out the others.
    if shared_base() {
        #[cfg(unix)]
        {
            // SAFETY: plain syscall without arguments.
            return format!("{DIR_NAME}-{}", unsafe { libc::getuid() });
        }
    }
    DIR_NAME.to_string()
}

fn shared_base() -> bool {
    cfg!(target_os = "linux")
        && std::env::var_os("XDG_RUNTIME_DIR").is_none_or(|v| v.is_empty())
        && !user_run_dir().is_some_and(|d| d.is_dir())
}

#[cfg(unix)]
fn user_run_dir() -> Option<PathBuf> {
    // SAFETY: plain syscall without arguments.
    Some(PathBuf::from(format!("/run/user/{}", unsafe {
        libc::getuid()
    })))
}

#[cfg(not(unix))]
fn user_run_dir() -> Option<PathBuf> {
    None
}

fn base_runtime_dir() -> PathBuf {
    if cfg!(target_os = "linux") {
        if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
            return PathBuf::from(d);
        }
        if let Some(d) = user_run_dir().filter(|d| d.is_dir()) {
            return d;
        }
    }
    std::env::temp_dir()
}

/// A short, stable name for a connection: the same URL and identity always give the same
/// socket, so that the client finds the server of its connection without any registry.
pub fn connection_key(uri: &str, identity: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(uri.as_bytes());
    h.update([0u8]);
    h.update(identity.unwrap_or("").as_bytes());
    let digest = h.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The default listening address for a connection: `<runtime dir>/api-<key>.sock`, or the
/// named pipe `\\.\pipe\podman-remote-<key>` on Windows.
pub fn default_listen_addr(uri: &str, identity: Option<&str>) -> ListenAddr {
    let key = connection_key(uri, identity);
    if cfg!(windows) {
        ListenAddr::Pipe(format!(r"\\.\pipe\podman-remote-{key}"))
    } else {
        ListenAddr::Unix(runtime_dir().join(format!("api-{key}.sock")))
    }
}

/// The pid, log and state files of the server listening on `addr`: beside the socket
/// (`x.sock` -> `x.pid`, `x.log`, `x.state.json`), or in the runtime directory for a pipe.
#[derive(Debug, Clone)]
pub struct ServerFiles {
    pub pid: PathBuf,
    pub log: PathBuf,
    pub state: PathBuf,
}

impl ServerFiles {
    pub fn for_addr(addr: &ListenAddr) -> ServerFiles {
        let base = match addr {
            ListenAddr::Unix(p) => strip_sock(p),
            ListenAddr::Pipe(name) => {
                let leaf = name.rsplit(['\\', '/']).next().unwrap_or(name);
                runtime_dir().join(leaf)
            }
        };
        let with = |ext: &str| {
            let mut s = base.clone().into_os_string();
            s.push(ext);
            PathBuf::from(s)
        };
        ServerFiles {
            pid: with(".pid"),
            log: with(".log"),
            state: with(".state.json"),
        }
    }
}

fn strip_sock(p: &Path) -> PathBuf {
    match p.extension() {
        Some(e) if e == "sock" => p.with_extension(""),
        _ => p.to_path_buf(),
    }
}

/// Creates `dir` (and its parents) if missing; a directory we create ourselves is made
/// owner-only (0700). An existing one is left as it is unless it is our runtime directory,
/// which must not be readable by others.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
        set_owner_only_dir(dir)?;
    } else if dir == runtime_dir() {
        set_owner_only_dir(dir)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_owner_only_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let md = std::fs::metadata(dir).map_err(|e| Error::file(dir, e))?;
    // SAFETY: plain syscall without arguments.
    let uid = unsafe { libc::geteuid() };
    if md.uid() != uid {
        return Err(Error::Unsafe(format!(
            "{} belongs to uid {}, not to you (uid {uid}); refusing to put an API socket there",
            dir.display(),
            md.uid()
        )));
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::file(dir, e))
}

#[cfg(not(unix))]
fn set_owner_only_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        let a = connection_key("ssh://root@h:22/run/podman/podman.sock", None);
        assert_eq!(a.len(), 16);
        assert_eq!(
            a,
            connection_key("ssh://root@h:22/run/podman/podman.sock", None)
        );
        assert_ne!(
            a,
            connection_key("ssh://root@h:22/run/podman/podman.sock", Some("/k"))
        );
        assert_ne!(
            a,
            connection_key("ssh://root@h:23/run/podman/podman.sock", None)
        );
    }

    #[test]
    fn files_sit_beside_the_socket() {
        let f = ServerFiles::for_addr(&ListenAddr::Unix("/r/api-1.sock".into()));
        assert_eq!(f.pid, PathBuf::from("/r/api-1.pid"));
        assert_eq!(f.log, PathBuf::from("/r/api-1.log"));
        assert_eq!(f.state, PathBuf::from("/r/api-1.state.json"));
        let f = ServerFiles::for_addr(&ListenAddr::Unix("/r/docker".into()));
        assert_eq!(f.pid, PathBuf::from("/r/docker.pid"));
    }
}
