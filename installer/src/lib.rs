//! Release tooling for podman-remote: static builds for every target we can build here,
//! reproducible `.tar.gz`/`.zip` archives with completions and man pages, and `SHA256SUMS`.
//! `cargo run -p installer -- dist` drives it; `install.sh`/`install.ps1` consume the result.

pub mod archive;
pub mod build;
pub mod checksum;
pub mod dist;
pub mod targets;

use std::path::PathBuf;

/// Errors of the release tooling, each saying what it was doing and on which file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run {program}: {source} (is it installed? see scripts/install-deps.sh)")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}){detail}")]
    Command {
        command: String,
        status: std::process::ExitStatus,
        detail: String,
    },
    #[error("unknown target `{0}`; known targets: {known}", known = targets::names().join(", "))]
    UnknownTarget(String),
    #[error("{target} cannot be built on this machine: {why}")]
    NotBuildableHere { target: String, why: String },
    #[error("the {target} binary is {size} bytes, over the {limit} byte limit")]
    TooBig {
        target: String,
        size: u64,
        limit: u64,
    },
    #[error("writing zip archive {}: {source}", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
}

impl Error {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
