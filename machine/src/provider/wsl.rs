//! WSL2: the machine image (a root filesystem tarball) imported as a distribution named
//! `podman-<name>`, provisioned once by a fixed shell script run as root inside it (user,
//! sudo, SSH keys, sshd on the machine's port, systemd with podman.socket), started by
//! attaching a keep-alive process, stopped with `wsl --terminate`, removed with
//! `wsl --unregister`. sshd listens on the machine port and WSL2's localhost forwarding
//! publishes it on the Windows side, so no gvproxy is involved.
//!
//! Nothing user-supplied is ever put into a command string: the script is constant, values
//! reach it as environment variables forwarded through `WSLENV`, and files with secrets go
//! through stdin.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::runner::{Cmd, Runner};
use super::{DiskFormat, Provider, StartOptions, VmState, VmType};
use crate::config::{MachineConfig, Provisioner};
use crate::dirs::Dirs;
use crate::{path_ctx, Error, IoContext, Result};

/// The first-boot script. Runs as root with `sh -s`; reads only `PODMAN_MACHINE_*`.
pub const PROVISION_SCRIPT: &str = r#"set -eu
u="$PODMAN_MACHINE_USER"
uid="$PODMAN_MACHINE_UID"
port="$PODMAN_MACHINE_SSH_PORT"
case "$port" in ''|*[!0-9]*) echo "invalid ssh port" >&2; exit 1;; esac
case "$uid" in ''|*[!0-9]*) echo "invalid uid" >&2; exit 1;; esac
# Fedora's WSL images strip setuid bits from shadow-utils; restore them for newuidmap.
if command -v rpm >/dev/null 2>&1; then rpm --restore shadow-utils >/dev/null 2>&1 || true; fi
getent group wheel >/dev/null 2>&1 || groupadd wheel
if ! id -u "$u" >/dev/null 2>&1; then
  useradd -m -u "$uid" -G wheel -s /bin/bash "$u" 2>/dev/null || useradd -m -G wheel "$u"
fi
mkdir -p /etc/sudoers.d
printf '%%wheel ALL=(ALL) NOPASSWD: ALL\n' > /etc/sudoers.d/podman-machine
chmod 0440 /etc/sudoers.d/podman-machine
home=$(getent passwd "$u" | cut -d: -f6)
for d in /root "$home"; do
  install -d -m 0700 "$d/.ssh"
  printf '%s\n' "$PODMAN_MACHINE_PUBKEY" > "$d/.ssh/authorized_keys"
  chmod 0600 "$d/.ssh/authorized_keys"
done
chown -R "$u:" "$home/.ssh"
grep -q "^$u:" /etc/subuid 2>/dev/null || printf '%s:100000:1000000\n' "$u" >> /etc/subuid
grep -q "^$u:" /etc/subgid 2>/dev/null || printf '%s:100000:1000000\n' "$u" >> /etc/subgid
sed -i '/^Port /d' /etc/ssh/sshd_config
printf 'Port %s\n' "$port" >> /etc/ssh/sshd_config
printf '[boot]\nsystemd=true\n[user]\ndefault=%s\n[interop]\nappendWindowsPath=false\n' "$u" > /etc/wsl.conf
mkdir -p /var/lib/systemd/linger
: > "/var/lib/systemd/linger/$u"
mkdir -p /etc/containers
printf 'wsl\n' > /etc/containers/podman-machine
if [ "${PODMAN_MACHINE_ROOTFUL:-false}" = true ]; then
  sock=/run/podman/podman.sock
else
  sock="/run/user/$uid/podman/podman.sock"
fi
mkdir -p /etc/tmpfiles.d
printf 'L+ /run/docker.sock - - - - %s\n' "$sock" > /etc/tmpfiles.d/podman-docker.conf
systemctl enable sshd.service >/dev/null 2>&1 || systemctl enable ssh.service >/dev/null
systemctl enable podman.socket >/dev/null
mkdir -p /etc/systemd/user/sockets.target.wants
ln -sf /usr/lib/systemd/user/podman.socket /etc/systemd/user/sockets.target.wants/podman.socket
"#;

/// Writes stdin to the file named by `$1` with owner-only permissions.
const WRITE_FILE: &str =
    r#"umask 077; cat > "$1.tmp" && chmod "$2" "$1.tmp" && mv -f "$1.tmp" "$1""#;

/// Succeeds once the guest's sshd is up under systemd.
const SSHD_ACTIVE: &str =
    "systemctl is-active --quiet sshd.service || systemctl is-active --quiet ssh.service";

/// Messages of `wsl --import` that mean WSL 2 itself is missing or disabled (podman
/// `wutil.go`), answered with what to do instead of the raw text.
const NOT_INSTALLED: &[&str] = &[
    "kernel file is not found",
    "The Windows Subsystem for Linux is not installed",
    "enable the Virtual Machine Platform Windows feature",
    "Enable \"Virtual Machine Platform\"",
    "enable the \"Windows Subsystem for Linux\" optional component",
    "HCS_E_HYPERV_NOT_INSTALLED",
    "ERROR_NOT_SUPPORTED",
];

/// The distribution name for machine `name` (podman's `WithPodmanPrefix`).
pub fn dist_name(name: &str) -> String {
    super::winpipe::with_podman_prefix(name)
}

/// `wsl.exe` as podman 5.6 finds it — a PATH lookup of `wsl` (Go's `exec.Command`, which
/// never looks in the current directory) — except that the `Microsoft\WindowsApps` app
/// execution alias is skipped in favour of the inbox `%SystemRoot%\System32\wsl.exe`: the
/// alias is a zero-byte reparse stub that opens the Store when WSL is missing instead of
/// failing. Pure so it is tested with made-up directories.
pub fn pick_wsl(
    system_root: Option<&Path>,
    path_dirs: &[PathBuf],
    is_file: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if let Some(root) = system_root {
        let p = root.join("System32").join("wsl.exe");
        if is_file(&p) {
            return Some(p);
        }
    }
    path_dirs
        .iter()
        .filter(|d| {
            let s = d.to_string_lossy().to_ascii_lowercase().replace('/', "\\");
            !s.trim_end_matches('\\')
                .ends_with("\\microsoft\\windowsapps")
        })
        .filter(|d| !d.as_os_str().is_empty() && d.as_os_str() != ".")
        .map(|d| d.join("wsl.exe"))
        .find(|p| is_file(p))
}

pub fn find_wsl() -> Option<PathBuf> {
    let root = std::env::var_os("SystemRoot").map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    pick_wsl(root.as_deref(), &dirs, |p| p.is_file())
}

pub struct Wsl {
    runner: Arc<dyn Runner>,
    /// Overrides discovery (tests, unusual installs).
    exe: Option<PathBuf>,
}

impl Wsl {
    pub fn new(runner: Arc<dyn Runner>) -> Wsl {
        Wsl { runner, exe: None }
    }

    pub fn with_exe(runner: Arc<dyn Runner>, exe: impl Into<PathBuf>) -> Wsl {
        Wsl {
            runner,
            exe: Some(exe.into()),
        }
    }

    fn exe(&self) -> Result<PathBuf> {
        self.exe
            .clone()
            .or_else(find_wsl)
            .ok_or_else(|| Error::MissingProgram {
                program: "wsl.exe".into(),
                hint: "install WSL 2: run `wsl --install --no-distribution` in an administrator \
                   terminal and reboot"
                    .into(),
            })
    }

    /// A `wsl` command with UTF-8 output (`WSL_UTF8=1`, as podman sets it).
    pub fn cmd(&self) -> Result<Cmd> {
        Ok(Cmd::new(self.exe()?).env("WSL_UTF8", "1"))
    }

    pub fn import_cmd(&self, dist: &str, install_dir: &Path, tarball: &Path) -> Result<Cmd> {
        Ok(self
            .cmd()?
            .arg("--import")
            .arg(dist)
            .arg(install_dir)
            .arg(tarball)
            .args(["--version", "2"]))
    }

    /// `wsl -u root -d DIST --exec PROG ARGS…`: `--exec` runs the program directly, without
    /// the distribution's shell re-parsing the arguments.
    pub fn exec_cmd(&self, dist: &str, prog: &[&str]) -> Result<Cmd> {
        Ok(self
            .cmd()?
            .args(["-u", "root", "-d", dist, "--exec"])
            .args(prog.iter().copied()))
    }

    pub fn provision_cmd(&self, dist: &str, p: &Provision) -> Result<Cmd> {
        let vars = [
            ("PODMAN_MACHINE_USER", p.user.clone()),
            ("PODMAN_MACHINE_UID", p.uid.to_string()),
            ("PODMAN_MACHINE_SSH_PORT", p.ssh_port.to_string()),
            ("PODMAN_MACHINE_PUBKEY", p.authorized_key.clone()),
            ("PODMAN_MACHINE_ROOTFUL", p.rootful.to_string()),
        ];
        let mut c = self.exec_cmd(dist, &["/bin/sh", "-s"])?;
        let mut wslenv: Vec<String> = std::env::var("WSLENV")
            .ok()
            .filter(|s| !s.is_empty())
            .map(|s| s.split(':').map(str::to_string).collect())
            .unwrap_or_default();
        for (k, v) in vars {
            wslenv.push(k.to_string());
            c = c.env(k, v);
        }
        Ok(c.env("WSLENV", wslenv.join(":"))
            .stdin(PROVISION_SCRIPT.as_bytes().to_vec()))
    }

    pub fn write_file_cmd(&self, dist: &str, path: &str, mode: &str, data: &[u8]) -> Result<Cmd> {
        Ok(self
            .exec_cmd(dist, &["/bin/sh", "-c", WRITE_FILE, "sh", path, mode])?
            .stdin(data.to_vec()))
    }

    pub fn terminate_cmd(&self, dist: &str) -> Result<Cmd> {
        Ok(self.cmd()?.args(["--terminate", dist]))
    }

    pub fn unregister_cmd(&self, dist: &str) -> Result<Cmd> {
        Ok(self.cmd()?.args(["--unregister", dist]))
    }

    pub fn list_cmd(&self, running: bool) -> Result<Cmd> {
        let mut c = self.cmd()?.args(["--list", "--quiet"]);
        if running {
            c = c.arg("--running");
        }
        Ok(c)
    }

    /// Distributions `wsl --list --quiet [--running]` prints.
    pub fn list(&self, running: bool) -> Result<Vec<String>> {
        let out = self
            .runner
            .run(&self.list_cmd(running)?)
            .map_err(|e| Error::Provider(format!("cannot run wsl --list: {e}")))?;
        // With nothing registered (or running) wsl exits non-zero and says so.
        if !out.success() {
            return Ok(Vec::new());
        }
        Ok(parse_list(&out.stdout_text()))
    }

    fn import_error(msg: &str) -> Error {
        if NOT_INSTALLED.iter().any(|m| msg.contains(m)) {
            return Error::Provider(format!(
                "WSL 2 is not installed or not enabled ({}); run `wsl --install \
                 --no-distribution` in an administrator terminal, reboot, and try again",
                msg.trim()
            ));
        }
        Error::Provider(format!("wsl --import failed: {}", msg.trim()))
    }

    fn keepalive_pid_file(dirs: &Dirs, name: &str) -> PathBuf {
        dirs.runtime.join(format!("{name}_wsl-keepalive.pid"))
    }
}

/// Values the provisioning script is run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    pub user: String,
    pub uid: u32,
    pub ssh_port: u16,
    pub authorized_key: String,
    pub rootful: bool,
}

/// `wsl --list --quiet` output: one name per line, possibly with CR and a BOM.
pub fn parse_list(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\0'))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// WSL users are created by `useradd`: keep to the portable user-name set.
pub fn validate_user(u: &str) -> Result<()> {
    let ok = u.len() <= 32
        && u.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "invalid user name {u:?} for a WSL machine: use lower-case letters, digits, _ and -"
        )))
    }
}

impl Provider for Wsl {
    fn vm_type(&self) -> VmType {
        VmType::Wsl
    }

    fn disk_format(&self) -> DiskFormat {
        DiskFormat::Tar
    }

    fn oci_disk_type(&self) -> &'static str {
        "wsl"
    }

    /// WSL provisions itself inside [`Provider::create`]; callers deliver nothing at boot.
    fn supports(&self, _p: Provisioner) -> bool {
        false
    }

    fn check_host(&self) -> Result<()> {
        if !cfg!(windows) {
            return Err(Error::Provider(
                "the wsl provider runs on Windows only; use CONTAINERS_MACHINE_PROVIDER=qemu here"
                    .into(),
            ));
        }
        self.exe().map(|_| ())
    }

    fn create(&self, dirs: &Dirs, mc: &mut MachineConfig) -> Result<()> {
        // podman: the WSL user is `user` when left at the default `core`, and UID 1000.
        if mc.ssh.remote_username == "core" || mc.ssh.remote_username.is_empty() {
            mc.ssh.remote_username = "user".into();
        }
        validate_user(&mc.ssh.remote_username)?;
        mc.host_user.uid = 1000;
        if !mc.mounts.is_empty() {
            // As podman: WSL mounts every Windows drive at /mnt/<letter> by itself.
            tracing::warn!(
                "--volume is ignored for WSL machines: Windows drives are at /mnt/<letter>"
            );
            mc.mounts.clear();
        }
        let dist = dist_name(&mc.name);
        if self
            .list(false)?
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&dist))
        {
            return Err(Error::Exists(format!("WSL distribution {dist}")));
        }
        let install_dir = dirs.data.join("wsldist").join(&mc.name);
        std::fs::create_dir_all(&install_dir).ctx(path_ctx("create directory", &install_dir))?;
        let out = self
            .runner
            .run(&self.import_cmd(&dist, &install_dir, &mc.image_path.path)?)
            .map_err(|e| Error::Provider(format!("cannot run wsl --import: {e}")))?;
        if !out.success() {
            let msg = format!("{}{}", out.stderr_text(), out.stdout_text());
            return Err(Self::import_error(&msg));
        }
        mc.provider_files.push(install_dir);

        let pubkey_path = mc.ssh.identity_path.with_extension("pub");
        let authorized_key = std::fs::read_to_string(&pubkey_path)
            .ctx(path_ctx("read", &pubkey_path))?
            .trim()
            .to_string();
        let p = Provision {
            user: mc.ssh.remote_username.clone(),
            uid: mc.host_user.uid,
            ssh_port: mc.ssh.port,
            authorized_key,
            rootful: mc.host_user.rootful,
        };
        let r = (|| -> Result<()> {
            self.runner.check(
                &self.provision_cmd(&dist, &p)?,
                "provisioning the WSL distribution",
            )?;
            // The guest host key generated on the host, so the machine's known_hosts pins it.
            let hk = dirs.host_key_file(&mc.name);
            if hk.is_file() {
                let key = std::fs::read(&hk).ctx(path_ctx("read", &hk))?;
                let hk_pub = hk.with_extension("pub");
                let pubk = std::fs::read(&hk_pub).ctx(path_ctx("read", &hk_pub))?;
                for (path, mode, data) in [
                    ("/etc/ssh/ssh_host_ed25519_key", "0600", key),
                    ("/etc/ssh/ssh_host_ed25519_key.pub", "0644", pubk),
                ] {
                    self.runner.check(
                        &self.write_file_cmd(&dist, path, mode, &data)?,
                        &format!("writing {path} in the WSL distribution"),
                    )?;
                }
            }
            // Restart so /etc/wsl.conf (systemd, default user) takes effect on next start.
            self.runner
                .check(&self.terminate_cmd(&dist)?, "wsl --terminate")?;
            Ok(())
        })();
        if r.is_err() {
            let _ = self.runner.run(&self.unregister_cmd(&dist)?);
        }
        r
    }

    fn start(&self, dirs: &Dirs, mc: &MachineConfig, opts: &StartOptions) -> Result<()> {
        let dist = dist_name(&mc.name);
        if !self
            .list(false)?
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&dist))
        {
            return Err(Error::Provider(format!(
                "WSL distribution {dist} of machine {} is not registered; remove the machine \
                 and init it again",
                mc.name
            )));
        }
        // WSL shuts an idle distribution down a few seconds after its last wsl.exe session
        // ends, systemd services notwithstanding; a sleeping session keeps it up until
        // `wsl --terminate`.
        let keep = self.exec_cmd(&dist, &["/bin/sleep", "infinity"])?;
        let mut child = self
            .runner
            .spawn(&keep, None)
            .map_err(|e| Error::Provider(format!("cannot start WSL distribution {dist}: {e}")))?;
        dirs.ensure()?;
        crate::write_atomic(
            &Self::keepalive_pid_file(dirs, &mc.name),
            format!("{}\n", child.id()).as_bytes(),
            0o600,
        )?;
        let probe = self.exec_cmd(&dist, &["/bin/sh", "-c", SSHD_ACTIVE])?;
        let deadline = Instant::now() + opts.ready_timeout;
        loop {
            if self.runner.run(&probe).is_ok_and(|o| o.success()) {
                return Ok(());
            }
            if let Ok(Some(code)) = child.try_wait() {
                return Err(Error::Provider(format!(
                    "WSL distribution {dist} exited during start (status {code})"
                )));
            }
            if Instant::now() >= deadline {
                let _ = self.runner.run(&self.terminate_cmd(&dist)?);
                return Err(Error::Timeout(format!(
                    "machine {}: sshd did not come up in WSL distribution {dist} within {} s",
                    mc.name,
                    opts.ready_timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn state(&self, _dirs: &Dirs, mc: &MachineConfig) -> Result<VmState> {
        let dist = dist_name(&mc.name);
        Ok(
            if self
                .list(true)?
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&dist))
            {
                VmState::Running
            } else {
                VmState::Stopped
            },
        )
    }

    fn stop(&self, dirs: &Dirs, mc: &MachineConfig, _timeout: Duration) -> Result<()> {
        let dist = dist_name(&mc.name);
        if self.state(dirs, mc)? == VmState::Running {
            self.runner
                .check(&self.terminate_cmd(&dist)?, "wsl --terminate")?;
        }
        crate::remove_quiet(&Self::keepalive_pid_file(dirs, &mc.name));
        Ok(())
    }

    fn kill(&self, dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
        self.stop(dirs, mc, Duration::ZERO)
    }

    fn resize_disk(&self, mc: &MachineConfig, gib: u64) -> Result<()> {
        if gib == mc.resources.disk_size {
            return Ok(());
        }
        Err(Error::Invalid(
            "WSL machines cannot change their disk size (WSL manages the virtual disk)".into(),
        ))
    }

    fn remove(&self, _dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
        let dist = dist_name(&mc.name);
        if self
            .list(false)?
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&dist))
        {
            self.runner
                .check(&self.unregister_cmd(&dist)?, "wsl --unregister")?;
        }
        Ok(())
    }

    fn log_file(&self, _dirs: &Dirs, _mc: &MachineConfig) -> Option<PathBuf> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::runner::{Output, Recorder};
    use super::*;
    use crate::config::{HostUser, PathRef, Resources, SshConfig};

    fn wsl(r: &Recorder) -> Wsl {
        Wsl::with_exe(Arc::new(r.clone()), r"C:\Windows\System32\wsl.exe")
    }

    fn machine(dir: &Path) -> (Dirs, MachineConfig) {
        let dirs = Dirs {
            config: dir.join("config"),
            data: dir.join("data"),
            global_data: dir.join("g"),
            runtime: dir.join("run"),
        };
        std::fs::create_dir_all(&dirs.data).unwrap();
        let id = dirs.data.join("m_ed25519");
        std::fs::write(id.with_extension("pub"), "ssh-ed25519 AAAA key@host\n").unwrap();
        let mc = MachineConfig {
            config_path: PathRef::new(dirs.config.join("m.json")),
            created: chrono::Utc::now(),
            host_user: HostUser::default(),
            last_up: chrono::Utc::now(),
            mounts: vec![],
            name: "m".into(),
            resources: Resources {
                cpus: 2,
                disk_size: 100,
                memory: 2048,
                usbs: vec![],
            },
            ssh: SshConfig {
                identity_path: id,
                port: 41234,
                remote_username: "core".into(),
            },
            version: 1,
            swap: 0,
            image_path: PathRef::new(dirs.data.join("m-amd64")),
            qemu: None,
            starting: false,
            rosetta: false,
            vm_type: VmType::Wsl,
            provisioner: Provisioner::Ignition,
            ignition_path: PathRef::default(),
            user_ignition: false,
            known_hosts_path: PathRef::default(),
            timezone: String::new(),
            image_source: String::new(),
            provider_files: vec![],
            extra: Default::default(),
        };
        (dirs, mc)
    }

    #[test]
    fn wsl_exe_is_found_like_podman_without_the_store_stub() {
        let stub = PathBuf::from(r"C:\Users\u\AppData\Local\Microsoft\WindowsApps");
        let real = PathBuf::from(r"C:\Program Files\WSL");
        let files = [stub.join("wsl.exe"), real.join("wsl.exe")];
        let exists = |p: &Path| files.iter().any(|f| f == p);
        // No System32 copy: PATH order, stub skipped.
        assert_eq!(
            pick_wsl(None, &[stub.clone(), real.clone()], exists),
            Some(real.join("wsl.exe"))
        );
        assert_eq!(
            pick_wsl(None, &[stub.clone(), PathBuf::from(".")], exists),
            None
        );
        let sys = PathBuf::from(r"C:\Windows");
        let with_sys = |p: &Path| p == sys.join("System32").join("wsl.exe") || exists(p);
        assert_eq!(
            pick_wsl(Some(&sys), std::slice::from_ref(&real), with_sys),
            Some(sys.join("System32").join("wsl.exe"))
        );
    }

    #[test]
    fn distribution_names_follow_podman() {
        assert_eq!(dist_name("m"), "podman-m");
        assert_eq!(
            dist_name("podman-machine-default"),
            "podman-machine-default"
        );
    }

    #[test]
    fn create_imports_provisions_and_terminates() {
        let d = tempfile::tempdir().unwrap();
        let (dirs, mut mc) = machine(d.path());
        let r = Recorder::new();
        r.answer("--list --quiet", Output::ok(0, "Ubuntu\r\n"));
        wsl(&r).create(&dirs, &mut mc).unwrap();
        assert_eq!(mc.ssh.remote_username, "user");
        assert_eq!(mc.host_user.uid, 1000);
        let calls = r.calls();
        let lines: Vec<Vec<String>> = calls.iter().map(|c| c.argv()).collect();
        let install = dirs.data.join("wsldist").join("m");
        assert_eq!(lines[0], ["--list", "--quiet"]);
        assert_eq!(
            lines[1],
            [
                "--import".to_string(),
                "podman-m".into(),
                install.display().to_string(),
                mc.image_path.path.display().to_string(),
                "--version".into(),
                "2".into()
            ]
        );
        assert_eq!(
            lines[2],
            ["-u", "root", "-d", "podman-m", "--exec", "/bin/sh", "-s"]
        );
        let prov = &calls[2];
        assert_eq!(prov.stdin.as_deref(), Some(PROVISION_SCRIPT.as_bytes()));
        assert_eq!(
            prov.env_value("PODMAN_MACHINE_USER").as_deref(),
            Some("user")
        );
        assert_eq!(
            prov.env_value("PODMAN_MACHINE_UID").as_deref(),
            Some("1000")
        );
        assert_eq!(
            prov.env_value("PODMAN_MACHINE_SSH_PORT").as_deref(),
            Some("41234")
        );
        assert_eq!(
            prov.env_value("PODMAN_MACHINE_PUBKEY").as_deref(),
            Some("ssh-ed25519 AAAA key@host")
        );
        let wslenv = prov.env_value("WSLENV").unwrap();
        for k in [
            "PODMAN_MACHINE_USER",
            "PODMAN_MACHINE_SSH_PORT",
            "PODMAN_MACHINE_PUBKEY",
        ] {
            assert!(wslenv.split(':').any(|x| x == k), "{wslenv}");
        }
        assert_eq!(prov.env_value("WSL_UTF8").as_deref(), Some("1"));
        assert_eq!(lines.last().unwrap(), &["--terminate", "podman-m"]);
        assert!(mc.provider_files.contains(&install));
    }

    #[test]
    fn provisioning_script_runs_in_a_real_shell_against_a_fake_root() {
        // The script's own logic (validation, file contents) run by /bin/sh with the commands
        // that need root replaced by stubs on PATH, in a throwaway root via sed of paths.
        if cfg!(windows) {
            return;
        }
        let bad = std::process::Command::new("/bin/sh")
            .args(["-c", PROVISION_SCRIPT])
            .env("PODMAN_MACHINE_USER", "u")
            .env("PODMAN_MACHINE_UID", "1000")
            .env("PODMAN_MACHINE_SSH_PORT", "22; reboot")
            .env("PODMAN_MACHINE_PUBKEY", "k")
            .output()
            .unwrap();
        assert!(!bad.status.success());
        assert_eq!(
            String::from_utf8_lossy(&bad.stderr).trim(),
            "invalid ssh port"
        );
        let sh = std::process::Command::new("/bin/sh")
            .args(["-n", "-c", PROVISION_SCRIPT])
            .status()
            .unwrap();
        assert!(sh.success(), "script does not parse");
    }

    #[test]
    fn import_without_wsl2_says_how_to_install_it() {
        let d = tempfile::tempdir().unwrap();
        let (dirs, mut mc) = machine(d.path());
        let r = Recorder::new();
        r.answer(
            "--import",
            Output {
                code: Some(1),
                stdout: vec![],
                stderr: b"Please enable the Virtual Machine Platform Windows feature".to_vec(),
            },
        );
        let e = wsl(&r).create(&dirs, &mut mc).unwrap_err().to_string();
        assert!(e.contains("wsl --install --no-distribution"), "{e}");
    }

    #[test]
    fn failed_provisioning_unregisters_the_half_made_distribution() {
        let d = tempfile::tempdir().unwrap();
        let (dirs, mut mc) = machine(d.path());
        let r = Recorder::new();
        r.answer(
            "/bin/sh -s",
            Output {
                code: Some(1),
                stdout: vec![],
                stderr: b"useradd: failure".to_vec(),
            },
        );
        let e = wsl(&r).create(&dirs, &mut mc).unwrap_err().to_string();
        assert!(e.contains("useradd: failure"), "{e}");
        assert_eq!(
            r.calls().last().unwrap().argv(),
            ["--unregister", "podman-m"]
        );
    }

    #[test]
    fn host_key_goes_through_stdin_not_arguments() {
        let d = tempfile::tempdir().unwrap();
        let (dirs, mut mc) = machine(d.path());
        let hk = dirs.host_key_file("m");
        std::fs::write(&hk, "PRIVATE KEY\n").unwrap();
        std::fs::write(hk.with_extension("pub"), "ssh-ed25519 HOST\n").unwrap();
        let r = Recorder::new();
        wsl(&r).create(&dirs, &mut mc).unwrap();
        let w = r
            .calls()
            .into_iter()
            .find(|c| {
                c.argv()
                    .contains(&"/etc/ssh/ssh_host_ed25519_key".to_string())
            })
            .unwrap();
        assert_eq!(w.stdin.as_deref(), Some(&b"PRIVATE KEY\n"[..]));
        assert!(w.argv().iter().all(|a| !a.contains("PRIVATE")));
        assert!(w.argv().contains(&"0600".to_string()));
    }

    #[test]
    fn state_stop_and_rm_use_list_terminate_unregister() {
        let d = tempfile::tempdir().unwrap();
        let (dirs, mc) = machine(d.path());
        let r = Recorder::new();
        let utf16: Vec<u8> = "podman-m\r\nUbuntu\r\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        r.answer(
            "--list --quiet",
            Output {
                code: Some(0),
                stdout: utf16,
                stderr: vec![],
            },
        );
        let w = wsl(&r);
        assert_eq!(w.state(&dirs, &mc).unwrap(), VmState::Running);
        w.stop(&dirs, &mc, Duration::from_secs(1)).unwrap();
        w.remove(&dirs, &mc).unwrap();
        let lines: Vec<Vec<String>> = r.calls().iter().map(|c| c.argv()).collect();
        assert_eq!(lines[0], ["--list", "--quiet", "--running"]);
        assert!(lines.contains(&vec!["--terminate".to_string(), "podman-m".into()]));
        assert_eq!(lines.last().unwrap(), &["--unregister", "podman-m"]);
    }

    #[test]
    fn start_attaches_a_session_and_waits_for_sshd() {
        let d = tempfile::tempdir().unwrap();
        let (dirs, mc) = machine(d.path());
        let r = Recorder::new();
        r.answer("--list --quiet", Output::ok(0, "podman-m\n"));
        let opts = StartOptions {
            provision: super::super::ProvisionDelivery::None,
            ready_timeout: Duration::from_secs(5),
        };
        wsl(&r).start(&dirs, &mc, &opts).unwrap();
        let lines: Vec<Vec<String>> = r.calls().iter().map(|c| c.argv()).collect();
        assert_eq!(
            lines[1],
            [
                "-u",
                "root",
                "-d",
                "podman-m",
                "--exec",
                "/bin/sleep",
                "infinity"
            ]
        );
        assert_eq!(
            lines[2][..7],
            ["-u", "root", "-d", "podman-m", "--exec", "/bin/sh", "-c"]
        );
        assert_eq!(lines[2][7], SSHD_ACTIVE);
    }

    #[test]
    fn user_names_are_checked() {
        assert!(validate_user("user").is_ok());
        for bad in ["Root", "a b", "x;y", "$(id)", ""] {
            assert!(validate_user(bad).is_err(), "{bad}");
        }
    }
}
