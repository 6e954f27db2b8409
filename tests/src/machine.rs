//! Shared setup of the machine tests (tests/tests/machine*.rs): the project's VM image, and a
//! private home whose `podman-remote` runs see only their own HOME/XDG dirs, and whose QEMU and
//! watcher processes are killed when it is dropped, whatever state a failed test left.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::{podman_remote_bin, run, Output};

/// A boot under TCG on a loaded machine (the product's boot timeout in these homes).
pub const MACHINE_BOOT: Duration = Duration::from_secs(900);
/// Any other machine command.
pub const MACHINE_CMD: Duration = Duration::from_secs(300);

/// The test image: built by the project's script (cached by a hash of the script).
pub fn machine_image() -> &'static Path {
    static IMG: OnceLock<PathBuf> = OnceLock::new();
    IMG.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("vm-image/build.sh");
        let out = run(
            Command::new(&script).env("LANG", "C"),
            None,
            Duration::from_secs(1800),
        );
        out.assert_success();
        let p = PathBuf::from(out.stdout.lines().last().unwrap_or_default().trim());
        assert!(p.is_file(), "build.sh printed no image path:\n{out}");
        p
    })
}

/// A private home for one machine test.
pub struct MachineHome {
    dir: tempfile::TempDir,
    /// Extra environment for every command run in this home.
    pub extra: Vec<(String, String)>,
}

impl MachineHome {
    /// `prefix` names the test file in /tmp (kept short: unix socket paths must fit in 108
    /// bytes).
    pub fn new(prefix: &str) -> MachineHome {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in("/tmp")
            .unwrap();
        for d in ["run", ".config", ".local/share", ".ssh"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        MachineHome { dir, extra: vec![] }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `podman-remote` with nothing inherited but a fixed PATH.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(podman_remote_bin());
        let h = self.path();
        c.env_clear()
            .env("HOME", h)
            .env("XDG_CONFIG_HOME", h.join(".config"))
            .env("XDG_DATA_HOME", h.join(".local/share"))
            .env("XDG_RUNTIME_DIR", h.join("run"))
            // Root's podman 4 connection file is /etc/containers/containers.conf otherwise.
            .env(
                "CONTAINERS_CONF",
                h.join(".config/containers/containers.conf"),
            )
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .env("USER", "root")
            .env("LANG", "C")
            .env(
                "PODMAN_REMOTE_MACHINE_BOOT_TIMEOUT",
                MACHINE_BOOT.as_secs().to_string(),
            );
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c
    }

    pub fn pr(&self, args: &[&str]) -> Output {
        run(self.cmd().args(args), None, MACHINE_CMD)
    }

    /// A command that boots a VM.
    pub fn pr_boot(&self, args: &[&str]) -> Output {
        run(
            self.cmd().args(args),
            None,
            MACHINE_BOOT + Duration::from_secs(60),
        )
    }

    pub fn runtime(&self) -> PathBuf {
        self.path().join("run/podman")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.path().join(".config/containers/podman/machine/qemu")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.path()
            .join(".local/share/containers/podman/machine/qemu")
    }

    pub fn connections_file(&self) -> PathBuf {
        self.path()
            .join(".config/containers/podman-connections.json")
    }

    /// The live QEMU of machine `name`, by its pid file, if it is this home's.
    pub fn qemu_pid(&self, name: &str) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.runtime().join(format!("{name}_vm.pid")))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (pid_alive(pid) && cmdline(pid).contains(&self.runtime().display().to_string()))
            .then_some(pid)
    }

    /// Every live QEMU of this home, pid file or not (an orphan would have none).
    pub fn all_qemus(&self) -> Vec<i32> {
        let rt = self.runtime().display().to_string();
        live_pids(|pid| {
            let c = cmdline(pid);
            c.contains("qemu-system") && c.contains(&rt)
        })
    }

    /// Every live watcher (`machine __watch`) of this home.
    pub fn all_watchers(&self) -> Vec<i32> {
        let home = self.path().display().to_string();
        live_pids(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ"))
                .map(|b| String::from_utf8_lossy(&b).to_string())
                .unwrap_or_default();
            cmdline(pid).contains("__watch") && env.contains(&home)
        })
    }

    /// `machine list --format json`.
    pub fn list(&self) -> Vec<serde_json::Value> {
        let out = self.pr(&["machine", "list", "--format", "json"]);
        out.assert_success();
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{out}"))
    }
}

impl Drop for MachineHome {
    fn drop(&mut self) {
        for pid in self.all_qemus().into_iter().chain(self.all_watchers()) {
            // SAFETY: kill(2) on a pid whose command line/environment shows it is this home's.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// A process's command line, arguments joined by spaces ("" when it is gone).
pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default()
}

/// The process exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn live_pids(mut matches: impl FnMut(i32) -> bool) -> Vec<i32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|&pid| matches(pid) && pid_alive(pid))
        .collect()
}
