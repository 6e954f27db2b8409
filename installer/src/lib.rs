//! Release tooling: static builds, archives with checksums, install scripts, shell
//! completions and man pages. Not built yet.

/// Errors of the installer tooling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
