//! The one error type of the bindings crate. Every variant carries enough context to tell the
//! user what failed, why, and (where we know it) what to do about it.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A connection URL that cannot be used; `part` names the offending piece.
    #[error("invalid connection URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },

    /// Could not reach the engine at all (TCP refused, timeout, DNS, unix socket missing).
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },

    /// The SSH server's host key is not acceptable.
    #[error("{0}")]
    HostKey(String),

    /// The SSH server refused every authentication method we offered.
    #[error("ssh authentication to {target} failed: {reason}")]
    Auth { target: String, reason: String },

    /// Any other SSH protocol failure (channel refused, session dropped).
    #[error("ssh: {0}")]
    Ssh(String),

    /// A forwarding channel (`direct-streamlocal`, `direct-tcpip`) was not opened. When the
    /// session itself is still up (`session_closed` false) the server refused this one
    /// channel, which a caller holding several sessions may retry on another one.
    #[error("ssh: {message}")]
    ChannelRefused {
        message: String,
        session_closed: bool,
    },

    /// A private key could not be read or decrypted.
    #[error("identity {path}: {reason}")]
    Identity { path: PathBuf, reason: String },

    /// The engine answered with an error document (`{"cause","message","response"}`).
    #[error("{message}")]
    Api {
        status: u16,
        message: String,
        cause: String,
    },

    /// The engine is too old or did not identify itself as libpod.
    #[error("{0}")]
    Version(String),

    /// HTTP framing or an unexpected response.
    #[error("http: {0}")]
    Http(String),

    /// A response body that is not what libpod documents.
    #[error("decoding response of {what}: {source}")]
    Decode {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// Connection registry problems (unknown name, unreadable file, duplicate).
    #[error("{0}")]
    Connection(String),

    /// A configuration or state file could not be read or written.
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }

    /// HTTP status of an engine error, if this is one (404 = no such object, 409 = conflict).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the failure happened before any engine answered: podman prints its
    /// "Cannot connect to Podman" hint for these.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::HostKey(_) | Error::Auth { .. } | Error::Identity { .. }
        )
    }
}
