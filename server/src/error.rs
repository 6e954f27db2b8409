//! The one error type of the server crate.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Connecting, authenticating or talking to the engine failed.
    #[error(transparent)]
    Bindings(#[from] bindings::Error),

    /// The connection cannot be served (not an ssh:// URL, unparsable listen URI).
    #[error("{0}")]
    Usage(String),

    /// Could not listen on the local address.
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },

    /// Another live server owns the address.
    #[error(
        "a server is already listening on {addr}{pid}; stop it first \
         (podman-remote system service --stop) or choose another URI"
    )]
    AlreadyRunning { addr: String, pid: String },

    /// A file or directory is not owned by us or is open to others.
    #[error("{0}")]
    Unsafe(String),

    /// A state, pid or log file could not be read or written.
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A background server did not come up.
    #[error("the API server did not start: {reason}{log}")]
    Start { reason: String, log: String },

    /// No server runs at the address asked about.
    #[error("no API server is running on {0}")]
    NotRunning(String),
}

impl Error {
    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }
}
