//! Provisioning and running the Linux VM that hosts the real podman engine (QEMU, WSL2,
//! Hyper-V, Apple Hypervisor), one file per provider behind a common trait.
//!
//! Not built yet: `podman-remote machine ...` fails with a clear message and exit 125.

/// Errors of the machine layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Bindings(#[from] bindings::Error),
}
