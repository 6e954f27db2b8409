//! Where machine files live, podman v5's layout: per-provider config and data dirs, the
//! global data dir, and the runtime dir for sockets, pid files and the serial log.

use std::path::{Path, PathBuf};

use crate::provider::VmType;
use crate::{path_ctx, IoContext, Result};

#[derive(Debug, Clone)]
pub struct Dirs {
    /// `~/.config/containers/podman/machine/<provider>/`: `<name>.json`, `<name>.ign`, locks.
    pub config: PathBuf,
    /// `~/.local/share/containers/podman/machine/<provider>/`: disks, keys, `cache/`.
    pub data: PathBuf,
    /// `~/.local/share/containers/podman/machine/`.
    pub global_data: PathBuf,
    /// `$XDG_RUNTIME_DIR/podman` (or `/run/podman` for root, a private temp dir otherwise).
    pub runtime: PathBuf,
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

fn home() -> PathBuf {
    let h = bindings::ssh::session::home_dir();
    // QEMU runs daemonized in `/`: a relative HOME would make it read the NoCloud seed (vvfat
    // reads lazily) and other files from the wrong place.
    std::path::absolute(&h).unwrap_or(h)
}

impl Dirs {
    pub fn for_provider(vm: VmType) -> Dirs {
        let config_home = env_dir("XDG_CONFIG_HOME").unwrap_or_else(|| home().join(".config"));
        let data_home =
            env_dir("XDG_DATA_HOME").unwrap_or_else(|| home().join(".local").join("share"));
        let global_data = data_home.join("containers").join("podman").join("machine");
        Dirs {
            config: config_home
                .join("containers")
                .join("podman")
                .join("machine")
                .join(vm.as_str()),
            data: global_data.join(vm.as_str()),
            global_data,
            runtime: runtime_dir(),
        }
    }

    /// Create every directory owner-only: they hold keys, sockets and the Ignition file.
    pub fn ensure(&self) -> Result<()> {
        for d in [&self.config, &self.data, &self.global_data, &self.runtime] {
            std::fs::create_dir_all(d).ctx(path_ctx("create directory", d))?;
        }
        for d in [&self.config, &self.data, &self.runtime] {
            crate::set_mode(d, 0o700)?;
        }
        Ok(())
    }

    pub fn config_file(&self, name: &str) -> PathBuf {
        self.config.join(format!("{name}.json"))
    }
    pub fn ignition_file(&self, name: &str) -> PathBuf {
        self.config.join(format!("{name}.ign"))
    }
    pub fn lock_file(&self, name: &str) -> PathBuf {
        self.config.join(format!("{name}.lock"))
    }
    /// The guest's SSH host key pinned for this machine (never the user's known_hosts).
    pub fn known_hosts_file(&self, name: &str) -> PathBuf {
        self.config.join(format!("{name}.known_hosts"))
    }
    pub fn identity_file(&self, name: &str) -> PathBuf {
        self.data.join(format!("{name}_ed25519"))
    }
    pub fn host_key_file(&self, name: &str) -> PathBuf {
        self.data.join(format!("{name}_host_ed25519"))
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.data.join("cache")
    }
    pub fn seed_dir(&self, name: &str) -> PathBuf {
        self.data.join(format!("{name}-cidata"))
    }
    pub fn disk_file(&self, name: &str, ext: &str) -> PathBuf {
        self.data
            .join(format!("{name}-{}.{ext}", crate::provider::guest_arch()))
    }
    pub fn qmp_socket(&self, name: &str) -> PathBuf {
        self.runtime.join(format!("qmp_{name}.sock"))
    }
    pub fn ready_socket(&self, name: &str) -> PathBuf {
        self.runtime.join(format!("{name}.sock"))
    }
    pub fn pid_file(&self, name: &str) -> PathBuf {
        self.runtime.join(format!("{name}_vm.pid"))
    }
    pub fn serial_log(&self, name: &str) -> PathBuf {
        self.runtime.join(format!("{name}.log"))
    }
    pub fn api_socket(&self, name: &str) -> PathBuf {
        self.runtime.join(format!("{name}-api.sock"))
    }
    /// pid file of the per-machine watcher (clock resync, API server).
    pub fn watcher_pid_file(&self, name: &str) -> PathBuf {
        self.runtime.join(format!("{name}_watch.pid"))
    }
    pub fn is_under(&self, p: &Path) -> bool {
        p.starts_with(&self.data) || p.starts_with(&self.config)
    }
}

fn runtime_dir() -> PathBuf {
    if let Some(d) = env_dir("XDG_RUNTIME_DIR") {
        return d.join("podman");
    }
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
        if uid == 0 {
            return PathBuf::from("/run/podman");
        }
        std::env::temp_dir()
            .join(format!("podman-run-{uid}"))
            .join("podman")
    }
    #[cfg(not(unix))]
    {
        std::env::temp_dir().join("podman")
    }
}
