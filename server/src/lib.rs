//! The SSH-tunnelled API server: exposes a remote engine as a local socket over one
//! persistent, multiplexed SSH session.
//!
//! Not built yet. `podman-remote system service` reports that clearly (exit 125) instead of
//! pretending to serve; see the server issue for the scope.

/// Errors of the API server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Bindings(#[from] bindings::Error),
}
