//! The VM provider trait and its implementations, one file each. A provider knows how to
//! create, boot, watch and stop one kind of VM; everything common (config files, keys,
//! provisioning content, connections, SSH, clock) lives outside it, in [`crate::ops`].
//!
//! Providers planned beside QEMU: WSL2 and Hyper-V (Windows), vfkit and krunkit (macOS). They
//! add a file here, a [`VmType`] variant and a branch in [`for_type`].

pub mod hyperv;
pub mod hyperv_prep;
pub mod ignpatch;
pub mod krunkit;
pub mod powershell;
pub mod qemu;
pub mod runner;
pub mod select;
pub mod vfkit;
pub mod vfkit_rest;
pub mod winpipe;
pub mod wsl;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{MachineConfig, Provisioner};
use crate::dirs::Dirs;
use crate::Result;

/// podman's `VMType` names (also the provider's directory name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VmType {
    Qemu,
    Wsl,
    Hyperv,
    Applehv,
    Libkrun,
}

impl VmType {
    pub fn as_str(self) -> &'static str {
        match self {
            VmType::Qemu => "qemu",
            VmType::Wsl => "wsl",
            VmType::Hyperv => "hyperv",
            VmType::Applehv => "applehv",
            VmType::Libkrun => "libkrun",
        }
    }

    pub fn parse(s: &str) -> Option<VmType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "qemu" => VmType::Qemu,
            "wsl" => VmType::Wsl,
            "hyperv" => VmType::Hyperv,
            "applehv" => VmType::Applehv,
            "libkrun" => VmType::Libkrun,
            _ => return None,
        })
    }

    /// The provider used when neither `CONTAINERS_MACHINE_PROVIDER` nor a flag says otherwise.
    pub fn host_default() -> VmType {
        if cfg!(windows) {
            VmType::Wsl
        } else if cfg!(target_os = "macos") {
            VmType::Applehv
        } else {
            VmType::Qemu
        }
    }

    /// `CONTAINERS_MACHINE_PROVIDER`, else the host default.
    pub fn from_env() -> Result<VmType> {
        match std::env::var("CONTAINERS_MACHINE_PROVIDER") {
            Ok(v) if !v.is_empty() => VmType::parse(&v).ok_or_else(|| {
                crate::Error::Invalid(format!(
                    "CONTAINERS_MACHINE_PROVIDER={v:?} is not a provider (qemu, wsl, hyperv, \
                     applehv, libkrun)"
                ))
            }),
            _ => Ok(VmType::host_default()),
        }
    }
}

impl std::fmt::Display for VmType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The disk format a provider boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFormat {
    Qcow2,
    Raw,
    Vhdx,
    /// A root filesystem tarball (WSL).
    Tar,
}

impl DiskFormat {
    pub fn ext(self) -> &'static str {
        match self {
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Raw => "raw",
            DiskFormat::Vhdx => "vhdx",
            DiskFormat::Tar => "tar",
        }
    }
}

/// What the VM is doing, read from the live process (and QMP for QEMU) every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VmState {
    Stopped,
    /// The process is there but not (yet) answering its monitor.
    Starting,
    Running,
    /// Paused or otherwise not executing guest code.
    Paused,
}

impl VmState {
    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Stopped => "stopped",
            VmState::Starting => "starting",
            VmState::Running => "running",
            VmState::Paused => "paused",
        }
    }
}

/// How first-boot provisioning reaches the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionDelivery {
    /// An Ignition file the provider passes at boot (QEMU fw_cfg, vsock HTTP, Hyper-V KVP).
    Ignition(PathBuf),
    /// A NoCloud seed directory (`user-data`, `meta-data`) the provider attaches as a
    /// `cidata` volume.
    NoCloud(PathBuf),
    /// The provider provisions by itself (WSL runs scripts inside the distribution).
    None,
}

/// Options of one boot.
#[derive(Debug, Clone)]
pub struct StartOptions {
    pub provision: ProvisionDelivery,
    /// Give up waiting for the guest after this long (boot under TCG takes 15-40 s).
    pub ready_timeout: Duration,
}

/// One VM technology. Implementations are blocking; callers run them off the async runtime
/// where that matters.
pub trait Provider: Send + Sync {
    fn vm_type(&self) -> VmType;

    /// The disk format this provider boots, used to pick and convert images.
    fn disk_format(&self) -> DiskFormat;

    /// The `disktype` annotation of podman's machine-os OCI artifact for this provider.
    fn oci_disk_type(&self) -> &'static str;

    /// Which provisioners the provider can deliver.
    fn supports(&self, p: Provisioner) -> bool;

    /// Whether only one VM of this provider may run at a time (podman: qemu, applehv,
    /// hyperv, libkrun). Ours allows several for QEMU: each has its own ports and sockets.
    fn exclusive(&self) -> bool {
        false
    }

    /// Check that the programs and host features the provider needs are there; the error
    /// names the package that provides a missing program.
    fn check_host(&self) -> Result<()>;

    /// Provider-side setup after the disk image is in place at `mc.image_path`: size the disk
    /// to `mc.resources.disk_size`, firmware variable stores, registration. Files it creates
    /// are added to `mc.provider_files`.
    fn create(&self, dirs: &Dirs, mc: &mut MachineConfig) -> Result<()>;

    /// Boot the VM and return once the guest said it is ready (ready channel) or fail with
    /// the tail of the serial log. SSH readiness is checked by the caller.
    fn start(&self, dirs: &Dirs, mc: &MachineConfig, opts: &StartOptions) -> Result<()>;

    /// Current state, from the live process.
    fn state(&self, dirs: &Dirs, mc: &MachineConfig) -> Result<VmState>;

    /// Ask the guest to power off; kill it if it has not gone after `timeout`.
    fn stop(&self, dirs: &Dirs, mc: &MachineConfig, timeout: Duration) -> Result<()>;

    /// Kill the VM at once (rm -f of a running machine).
    fn kill(&self, dirs: &Dirs, mc: &MachineConfig) -> Result<()>;

    /// Grow the disk to `gib` (never shrinks; the caller checks).
    fn resize_disk(&self, mc: &MachineConfig, gib: u64) -> Result<()>;

    /// Remove provider registrations (WSL distribution, Hyper-V VM). Files listed by
    /// `MachineConfig::files` are deleted by the caller.
    fn remove(&self, _dirs: &Dirs, _mc: &MachineConfig) -> Result<()> {
        Ok(())
    }

    /// Where the guest's sshd is reachable from the host.
    fn ssh_endpoint(&self, mc: &MachineConfig) -> (String, u16) {
        ("127.0.0.1".to_string(), mc.ssh.port)
    }

    /// Files for diagnostics (serial console log).
    fn log_file(&self, dirs: &Dirs, mc: &MachineConfig) -> Option<PathBuf>;
}

/// The provider implementation for a VM type.
pub fn for_type(vm: VmType) -> Result<Box<dyn Provider>> {
    match vm {
        VmType::Qemu => Ok(Box::new(qemu::Qemu::from_env()?)),
        VmType::Wsl => Ok(Box::new(wsl::Wsl::new(runner::system()))),
        VmType::Hyperv => Ok(Box::new(hyperv::HyperV::new(runner::system()))),
        VmType::Applehv => Ok(Box::new(vfkit::Apple::new(
            vfkit::Kind::Vfkit,
            runner::system(),
        ))),
        VmType::Libkrun => Ok(Box::new(krunkit::provider(runner::system()))),
    }
}

/// The guest architecture, in podman's file-name spelling (GOARCH).
pub fn guest_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The architecture as machine-os artifacts and QEMU binaries name it.
pub fn qemu_arch() -> &'static str {
    std::env::consts::ARCH
}
