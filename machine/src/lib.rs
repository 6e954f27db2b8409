//! Provisioning and running the Linux VM that hosts the real podman engine, the way
//! `podman machine` does: one file per provider behind [`provider::Provider`] (QEMU first;
//! WSL2, Hyper-V, vfkit and krunkit plug in the same way), podman-compatible machine files
//! ([`config`], [`dirs`]), Ignition and cloud-init provisioning, image acquisition and the
//! high-level operations the CLI calls ([`ops`]).

pub mod api;
pub mod api_windows;
pub mod clock;
pub mod cloudinit;

pub mod config;
pub mod dirs;
pub mod guest;

pub mod ignition;
pub mod image;

pub mod lock;
pub mod ops;

pub mod provider;
#[cfg(unix)]
pub mod qmp;

use std::path::{Path, PathBuf};

/// Name `init` uses when none is given.
pub const DEFAULT_NAME: &str = "podman-machine-default";

/// Errors of the machine layer. Each carries what failed and, where there is one, what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Bindings(#[from] bindings::Error),
    #[error("API server: {0}")]
    Server(#[from] podman_server::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// podman: `<name>: VM does not exist`.
    #[error("{0}: VM does not exist")]
    NotFound(String),
    #[error("{0}: VM already exists")]
    Exists(String),
    /// podman: `machine <name>: VM already running or starting`.
    #[error("machine {0}: VM already running or starting")]
    AlreadyRunning(String),
    #[error("machine {0}: VM is running; stop it first with `podman-remote machine stop {0}`")]
    MustBeStopped(String),
    #[error("{0}")]
    Invalid(String),
    /// A program the provider needs is not installed; the message names the package.
    #[error("{program} not found: {hint}")]
    MissingProgram { program: String, hint: String },
    #[error("{0}")]
    Provider(String),
    #[error("image {image}: {reason}")]
    Image { image: String, reason: String },
    #[error("QMP {socket}: {reason}")]
    Qmp { socket: String, reason: String },
    #[error("{0}")]
    Timeout(String),
    #[error("machine config {path}: {reason}")]
    Config { path: String, reason: String },
    /// The command was interrupted (SIGINT/SIGTERM) and rolled back.
    #[error("interrupted")]
    Interrupted,
}

pub type Result<T> = std::result::Result<T, Error>;

/// `io::Error` with the operation and path it happened on.
pub(crate) trait IoContext<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: what(),
            source,
        })
    }
}

pub(crate) fn path_ctx(verb: &str, p: &Path) -> impl FnOnce() -> String {
    let s = format!("cannot {verb} {}", p.display());
    move || s
}

/// Write `data` to `path` through a temp file in the same directory and a rename, so a crash
/// leaves the old file or the new one, never half of one.
pub(crate) fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx(path_ctx("create directory", dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .ctx(path_ctx("create a temp file in", dir))?;
    tmp.write_all(data).ctx(path_ctx("write", tmp.path()))?;
    set_mode(tmp.path(), mode)?;
    tmp.as_file().sync_all().ctx(path_ctx("sync", path))?;
    tmp.persist(path).map_err(|e| Error::Io {
        context: format!("cannot rename into {}", path.display()),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .ctx(path_ctx("chmod", path))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Remove a file, ignoring "not there".
pub(crate) fn remove_quiet(p: &Path) {
    let _ = std::fs::remove_file(p);
}

/// Look a program up in PATH (as `which` would).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.components().count() > 1 {
        return p.is_file().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| {
            let mut c = vec![d.join(name)];
            if cfg!(windows) {
                c.push(d.join(format!("{name}.exe")));
            }
            c
        })
        .find(|c| c.is_file())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
