//! The machine's config JSON, podman v5's `MachineConfig` shape (`Version` 1) so podman's own
//! tools read it, plus a few keys of ours that podman ignores. Nothing about the VM's *state*
//! is stored here: state comes from the live process (podman #16945).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::dirs::Dirs;
use crate::provider::VmType;
use crate::{Error, Result};

pub const CONFIG_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PathRef {
    #[serde(rename = "Path")]
    pub path: PathBuf,
}

impl PathRef {
    pub fn new(p: impl Into<PathBuf>) -> PathRef {
        PathRef { path: p.into() }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct HostUser {
    pub rootful: bool,
    #[serde(rename = "UID")]
    pub uid: u32,
    pub host_user_modified: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Resources {
    #[serde(rename = "CPUs")]
    pub cpus: u32,
    /// GiB.
    #[serde(rename = "DiskSize")]
    pub disk_size: u64,
    /// MiB.
    #[serde(rename = "Memory")]
    pub memory: u64,
    #[serde(rename = "USBs", default)]
    pub usbs: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct SshConfig {
    pub identity_path: PathBuf,
    pub port: u16,
    pub remote_username: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Mount {
    pub original_input: String,
    pub read_only: bool,
    pub source: String,
    pub tag: String,
    pub target: String,
    /// `virtiofs` or `9p`.
    #[serde(rename = "Type")]
    pub kind: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QmpMonitor {
    #[serde(rename = "Address")]
    pub address: PathRef,
    #[serde(rename = "Network")]
    pub network: String,
    /// Nanoseconds, as Go's time.Duration.
    #[serde(rename = "Timeout")]
    pub timeout: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QemuHypervisor {
    #[serde(rename = "QMPMonitor")]
    pub qmp_monitor: QmpMonitor,
    #[serde(rename = "QEMUPidPath")]
    pub pid_path: PathRef,
}

/// How the guest is provisioned on first boot.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Provisioner {
    /// Ignition v3 (Fedora CoreOS, podman machine-os), delivered by the provider.
    #[default]
    Ignition,
    /// cloud-init NoCloud seed (Debian, Ubuntu, Fedora Cloud images).
    CloudInit,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MachineConfig {
    #[serde(rename = "ConfigPath")]
    pub config_path: PathRef,
    #[serde(rename = "Created")]
    pub created: DateTime<Utc>,
    #[serde(rename = "HostUser")]
    pub host_user: HostUser,
    #[serde(rename = "LastUp")]
    pub last_up: DateTime<Utc>,
    #[serde(rename = "Mounts", default)]
    pub mounts: Vec<Mount>,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Resources")]
    pub resources: Resources,
    #[serde(rename = "SSH")]
    pub ssh: SshConfig,
    #[serde(rename = "Version")]
    pub version: u32,
    #[serde(rename = "Swap", default)]
    pub swap: u64,
    #[serde(rename = "ImagePath")]
    pub image_path: PathRef,
    #[serde(
        rename = "QEMUHypervisor",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub qemu: Option<QemuHypervisor>,
    /// Kept for podman's readers; always false here, state is never stored.
    #[serde(rename = "Starting", default)]
    pub starting: bool,
    #[serde(rename = "Rosetta", default)]
    pub rosetta: bool,

    // podman-remote's own keys (podman ignores unknown keys).
    #[serde(rename = "VMType")]
    pub vm_type: VmType,
    #[serde(rename = "Provisioner", default)]
    pub provisioner: Provisioner,
    #[serde(rename = "IgnitionPath", default)]
    pub ignition_path: PathRef,
    /// The user gave `--ignition-path`: no connections were added.
    #[serde(rename = "UserIgnition", default)]
    pub user_ignition: bool,
    #[serde(rename = "KnownHostsPath", default)]
    pub known_hosts_path: PathRef,
    #[serde(rename = "Timezone", default)]
    pub timezone: String,
    /// Where the image came from (path, URL or OCI reference), for `inspect`.
    #[serde(rename = "ImageSource", default)]
    pub image_source: String,
    /// Provider files to delete with the machine (firmware variables and the like).
    #[serde(rename = "ProviderFiles", default)]
    pub provider_files: Vec<PathBuf>,
    /// Other providers' sections and future keys, kept as they are when we rewrite the file.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Machine names: podman's container-name rule, at most 30 characters.
pub fn validate_name(name: &str) -> Result<()> {
    let ok_first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_rest = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok_first || !ok_rest {
        return Err(Error::Invalid(format!(
            "invalid name {name:?}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        )));
    }
    if name.len() > 30 {
        return Err(Error::Invalid(format!(
            "invalid name {name:?}: machine names must be 30 characters or less"
        )));
    }
    if VmType::parse(name).is_some() {
        return Err(Error::Invalid(format!(
            "invalid name {name:?}: a machine cannot be named after a provider"
        )));
    }
    Ok(())
}

impl MachineConfig {
    pub fn path(dirs: &Dirs, name: &str) -> PathBuf {
        dirs.config_file(name)
    }

    pub fn exists(dirs: &Dirs, name: &str) -> bool {
        dirs.config_file(name).is_file()
    }

    pub fn load(dirs: &Dirs, name: &str) -> Result<MachineConfig> {
        let p = dirs.config_file(name);
        match std::fs::read(&p) {
            Ok(b) => Self::from_bytes(&p, &b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::NotFound(name.to_string()))
            }
            Err(e) => Err(Error::Io {
                context: format!("cannot read {}", p.display()),
                source: e,
            }),
        }
    }

    pub fn from_bytes(p: &Path, b: &[u8]) -> Result<MachineConfig> {
        let bad = |e: serde_json::Error| Error::Config {
            path: p.display().to_string(),
            reason: format!("{e} (not a podman v5 machine config?)"),
        };
        let mut v: serde_json::Value = serde_json::from_slice(b).map_err(bad)?;
        // podman 5 stores neither the file's own path nor the provider (both follow from
        // where the file is), and Go writes an empty list as null.
        if let Some(o) = v.as_object_mut() {
            o.entry("ConfigPath")
                .or_insert_with(|| serde_json::json!({ "Path": p }));
            if !o.contains_key("VMType") {
                if let Some(t) = p
                    .parent()
                    .and_then(Path::file_name)
                    .and_then(|n| n.to_str())
                    .and_then(VmType::parse)
                {
                    o.insert("VMType".into(), t.as_str().into());
                }
            }
            for k in ["Mounts", "ProviderFiles"] {
                if o.get(k).is_some_and(serde_json::Value::is_null) {
                    o.remove(k);
                }
            }
            if let Some(r) = o.get_mut("Resources").and_then(|r| r.as_object_mut()) {
                if r.get("USBs").is_some_and(serde_json::Value::is_null) {
                    r.remove("USBs");
                }
            }
        }
        let mc: MachineConfig = serde_json::from_value(v).map_err(bad)?;
        if mc.version != CONFIG_VERSION {
            return Err(Error::Config {
                path: p.display().to_string(),
                reason: format!("unsupported version {}", mc.version),
            });
        }
        Ok(mc)
    }

    /// Written atomically (0644, like podman; nothing secret is in it).
    pub fn save(&self) -> Result<()> {
        let mut b = serde_json::to_vec_pretty(self).map_err(|e| Error::Config {
            path: self.config_path.path.display().to_string(),
            reason: e.to_string(),
        })?;
        b.push(b'\n');
        crate::write_atomic(&self.config_path.path, &b, 0o644)
    }

    /// Every machine of this provider, sorted by name; unreadable files are skipped with a
    /// warning rather than hiding the others.
    pub fn list(dirs: &Dirs) -> Result<Vec<MachineConfig>> {
        let rd = match std::fs::read_dir(&dirs.config) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::Io {
                    context: format!("cannot read {}", dirs.config.display()),
                    source: e,
                })
            }
        };
        let mut out = Vec::new();
        for ent in rd.flatten() {
            let p = ent.path();
            if p.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&p)
                .map_err(|e| Error::Io {
                    context: format!("cannot read {}", p.display()),
                    source: e,
                })
                .and_then(|b| Self::from_bytes(&p, &b))
            {
                Ok(mc) => out.push(mc),
                Err(e) => tracing::warn!("skipping {}: {e}", p.display()),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The API socket of the rootless (or rootful) engine in the guest.
    pub fn guest_socket(&self, rootful: bool) -> String {
        if rootful {
            "/run/podman/podman.sock".to_string()
        } else {
            format!("/run/user/{}/podman/podman.sock", self.host_user.uid)
        }
    }

    /// The user SSH logs in as: root for rootful machines, as podman does.
    pub fn ssh_user(&self) -> &str {
        if self.host_user.rootful {
            "root"
        } else {
            &self.ssh.remote_username
        }
    }

    /// All files that belong to this machine (what `rm` lists and deletes).
    pub fn files(&self, dirs: &Dirs) -> Vec<PathBuf> {
        let mut v = vec![
            self.config_path.path.clone(),
            self.image_path.path.clone(),
            self.known_hosts_path.path.clone(),
            dirs.identity_file(&self.name),
            dirs.identity_file(&self.name).with_extension("pub"),
            dirs.host_key_file(&self.name),
            dirs.host_key_file(&self.name).with_extension("pub"),
            dirs.serial_log(&self.name),
            dirs.lock_file(&self.name),
        ];
        if !self.user_ignition {
            v.push(self.ignition_path.path.clone());
        }
        v.push(dirs.seed_dir(&self.name));
        v.extend(self.provider_files.iter().cloned());
        v.retain(|p| !p.as_os_str().is_empty());
        v
    }
}

#[cfg(test)]
mod podman5_tests {
    use super::*;

    /// A file as podman 5.x writes it for a QEMU machine on Linux: no ConfigPath or VMType,
    /// nulls for empty lists, Go's zero time, a GvProxy section we do not model.
    const PODMAN5: &str = r#"{
 "Created": "2024-04-02T15:43:22.515858385+02:00",
 "GvProxy": {"HostSocks": ["/run/user/1000/podman/podman-machine-default-api.sock"], "RemoteSocket": {"Path": "/run/user/1000/podman/podman.sock", "Symlink": null}},
 "HostUser": {"HostUserModified": false, "Rootful": false, "UID": 1000},
 "LastUp": "0001-01-01T00:00:00Z",
 "Mounts": null,
 "Name": "podman-machine-default",
 "Resources": {"CPUs": 6, "DiskSize": 100, "Memory": 2048, "USBs": null},
 "SSH": {"IdentityPath": "/home/u/.local/share/containers/podman/machine/machine", "Port": 40937, "RemoteUsername": "core"},
 "Starting": false,
 "Version": 1,
 "ImagePath": {"Path": "/home/u/.local/share/containers/podman/machine/qemu/podman-machine-default-amd64.qcow2", "Symlink": null},
 "QEMUHypervisor": {"QMPMonitor": {"Address": {"Path": "/run/user/1000/podman/qmp_podman-machine-default.sock", "Symlink": null}, "Network": "unix", "Timeout": 2000000000}, "QEMUPidPath": {"Path": "/run/user/1000/podman/podman-machine-default_vm.pid", "Symlink": null}},
 "Rosetta": false,
 "Swap": 0
}"#;

    #[test]
    fn podman5_written_config_loads_and_rewrites_losslessly() {
        let p =
            Path::new("/home/u/.config/containers/podman/machine/qemu/podman-machine-default.json");
        let mc = MachineConfig::from_bytes(p, PODMAN5.as_bytes()).unwrap();
        assert_eq!(mc.vm_type, VmType::Qemu);
        assert_eq!(mc.config_path.path, p);
        assert!(mc.mounts.is_empty() && mc.resources.usbs.is_empty());
        assert_eq!(mc.ssh.port, 40937);
        assert!(mc.extra.contains_key("GvProxy"));
        let again = MachineConfig::from_bytes(p, &serde_json::to_vec(&mc).unwrap()).unwrap();
        assert_eq!(again, mc);
        // The provider comes from the directory; elsewhere it must be in the file.
        assert!(MachineConfig::from_bytes(Path::new("/x/y.json"), PODMAN5.as_bytes()).is_err());
    }
}
