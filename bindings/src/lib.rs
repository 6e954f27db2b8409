//! The library every podman-remote part builds on: connection URLs, the SSH transport to the
//! engine's unix socket, the registry of named connections and typed libpod REST calls.
//!
//! Layering: this crate depends on no other crate of the workspace.

pub mod api;
pub mod connections;
pub mod error;
pub mod http;
pub mod ssh;
pub mod stream;
pub mod transport;
pub mod url;
pub mod winpath;

pub use error::{Error, Result};
