//! The private world: a podman engine, a test image and an OpenSSH server,
//! started once per test binary.

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::fs::{symlink, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::cleanup::{self, DIR_PREFIX, OWNER_FILE, TMP_PARENT};
use crate::home::{Agent, Home};
use crate::run::{run, spawn_daemon, try_run, Output};

/// The image every world has: busybox-static as a ~2 MB rootfs, `CMD /bin/sh`.
pub const IMAGE: &str = "localhost/e2e/busybox:latest";
/// PATH given to every child process we start.
pub(crate) const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The real podman (4.3.1 on Debian 12): engine, image import, reference client.
pub(crate) const PODMAN: &str = "/usr/bin/podman";
pub(crate) const SSHD: &str = "/usr/sbin/sshd";
const SSH: &str = "/usr/bin/ssh";
const SSH_KEYGEN: &str = "/usr/bin/ssh-keygen";
const BUSYBOX: &str = "/bin/busybox";
/// Bound on each readiness wait during startup.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Generous bound for one-shot setup commands (ssh-keygen, tar, import).
const SETUP_CMD_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything a test needs to reach the private engine, directly or over SSH.
///
/// Obtain it with [`world()`]. All paths are under [`World::dir`]
/// (`/tmp/pr-e2e-XXXXXX`), which is deleted when the test binary exits
/// (set `E2E_KEEP=1` to keep it for debugging).
#[derive(Debug)]
pub struct World {
    /// The world's private directory.
    pub dir: PathBuf,
    /// The engine's API socket (`podman system service unix://<socket>`).
    pub socket: PathBuf,
    /// sshd's port on 127.0.0.1.
    pub ssh_port: u16,
    /// The SSH login user: `root` (the tests run as root).
    pub user: String,
    /// ed25519 client private key, no passphrase (OpenSSH format).
    pub key: PathBuf,
    /// RSA (2048 bit) client private key, no passphrase (OpenSSH format).
    pub key_rsa: PathBuf,
    /// ed25519 client private key encrypted with [`World::key_passphrase`].
    pub key_encrypted: PathBuf,
    /// Passphrase of [`World::key_encrypted`].
    pub key_passphrase: String,
    /// sshd's ed25519 host public key: `ssh-ed25519 AAAA…` (no comment).
    pub host_key_pub: String,
    /// sshd's RSA host public key: `ssh-rsa AAAA…` (no comment).
    pub host_key_rsa_pub: String,
    /// The CA that signed the ed25519 host certificate (principals 127.0.0.1 and
    /// localhost) that [`World::cert_ssh_port`]'s sshd presents: `ssh-ed25519 AAAA…`,
    /// for `@cert-authority` lines.
    pub host_ca_pub: String,
    /// The second sshd, presenting a host certificate; see [`World::cert_ssh_port`].
    cert_sshd: OnceLock<Result<u16, String>>,
    /// `SHA256:…` fingerprint of the ed25519 host key, as OpenSSH prints it.
    pub host_key_fingerprint: String,
    /// `SHA256:…` fingerprint of the RSA host key.
    pub host_key_rsa_fingerprint: String,
    /// The test image, [`IMAGE`].
    pub image: String,
    /// The file sshd reads authorized keys from (holds all three client keys).
    pub authorized_keys: PathBuf,
    /// Directory put first in PATH of SSH sessions; holds the `podman` wrapper.
    pub bin_dir: PathBuf,
    /// The engine's containers.conf.
    pub containers_conf: PathBuf,
    /// The engine's stdout+stderr.
    pub engine_log_path: PathBuf,
    /// sshd's log (`-e`, LogLevel VERBOSE: shows which key authenticated).
    pub sshd_log_path: PathBuf,
    /// How long starting the world took.
    pub startup: Duration,
    /// When each startup step finished, counted from the start.
    pub startup_steps: Vec<(&'static str, Duration)>,
}

static WORLD: OnceLock<Result<World, String>> = OnceLock::new();

/// The world of this test binary, started on first use and shared by all
/// its tests. Fails the calling test (panics) if it could not be started;
/// the message has the daemons' logs.
#[track_caller]
pub fn world() -> &'static World {
    let result = WORLD.get_or_init(|| {
        let started = std::panic::catch_unwind(start).unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("panic while starting: {msg}"))
        });
        if started.is_err() {
            // Nothing will use the half-started world; don't leave daemons
            // running until the binary exits.
            cleanup::teardown();
        }
        started
    });
    match result {
        Ok(world) => world,
        Err(e) => panic!("the e2e world (private podman engine + sshd) could not be started:\n{e}"),
    }
}

/// A name unique within this machine and run, for containers, pods,
/// volumes… so that tests sharing the engine don't collide.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl World {
    /// Port of a second sshd, started on first use, identical to the main one but also
    /// presenting a host certificate signed by [`World::host_ca_pub`]. It is separate
    /// because podman 4.3.1's own client cannot connect to a server that offers a host
    /// certificate unless known_hosts has an `@cert-authority` line ("no authorities for
    /// hostname"), and the main sshd must keep serving it as the reference client.
    #[track_caller]
    pub fn cert_ssh_port(&self) -> u16 {
        let started = self.cert_sshd.get_or_init(|| {
            let ssh = self.dir.join("ssh");
            let host_ed = ssh.join("ssh_host_ed25519_key");
            let host_rsa = ssh.join("ssh_host_rsa_key");
            start_sshd(
                &self.dir,
                "sshd-cert",
                &[&host_ed, &host_rsa],
                Some(&ssh.join("ssh_host_ed25519_key-cert.pub")),
                &self.authorized_keys,
                &self.bin_dir,
                &ssh.join("sshd-cert.log"),
            )
        });
        match started {
            Ok(port) => *port,
            Err(e) => panic!("the certificate sshd could not be started: {e}"),
        }
    }

    /// `ssh://root@127.0.0.1:PORT/tmp/pr-e2e-XXXXXX/podman.sock`
    pub fn ssh_url(&self) -> String {
        format!("{}{}", self.ssh_url_no_path(), self.socket.display())
    }

    /// `ssh://root@127.0.0.1:PORT` — the socket is then discovered by running
    /// `podman info --format '{{.Host.RemoteSocket.Path}}'` over SSH, which
    /// prints [`World::unix_url`] (note: a URL, with the `unix://` scheme).
    pub fn ssh_url_no_path(&self) -> String {
        format!("ssh://{}@127.0.0.1:{}", self.user, self.ssh_port)
    }

    /// `unix:///tmp/pr-e2e-XXXXXX/podman.sock`
    pub fn unix_url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The known_hosts line for the ed25519 host key: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.ssh_port, self.host_key_pub)
    }

    /// The known_hosts line for the RSA host key.
    pub fn known_hosts_line_rsa(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.ssh_port, self.host_key_rsa_pub)
    }

    /// A fresh private HOME for one test: `.ssh/` (0700, no known_hosts),
    /// `.config/` and `run/` (0700). Deleted when dropped.
    #[track_caller]
    pub fn home(&self) -> Home {
        Home::new(self)
    }

    /// The real podman 4.3.1 as a remote client, with the Home's clean
    /// environment plus `CONTAINERS_CONF=<home>/.config/containers/containers.conf`
    /// (created empty if missing) so that it reads and writes (`system
    /// connection add`) only the Home's config, never /etc/containers.
    /// `--remote` is already given; add `--url`/`--identity`/… and the command.
    ///
    /// Reference behaviour observed: with no `~/.ssh/known_hosts` it warns
    /// "please create a known_hosts file…" and connects without checking or
    /// creating the file; with an existing (even empty) file an unknown host
    /// key is appended (it negotiates the RSA host key first); a changed key
    /// fails with "ssh: handshake failed: knownhosts: key mismatch".
    #[track_caller]
    pub fn real_podman(&self, home: &Home) -> Command {
        let conf = home.containers_conf_path();
        if !conf.exists() {
            if let Some(parent) = conf.parent() {
                fs::create_dir_all(parent)
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
            }
            fs::write(&conf, "")
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", conf.display()));
        }
        let mut cmd = Command::new(PODMAN);
        cmd.env_clear()
            .envs(home.env())
            .env("CONTAINERS_CONF", &conf)
            .arg("--remote");
        cmd
    }

    /// podman talking straight to the engine socket (`--url unix://…`), for
    /// test setup and verification (creating containers, inspecting state).
    pub fn engine_podman(&self) -> Command {
        engine_client(&self.dir, &self.socket)
    }

    /// Runs `podman --url unix://… ARGS` against the engine and fails the
    /// test unless it succeeds. Returns its output.
    #[track_caller]
    pub fn engine(&self, args: &[&str]) -> Output {
        let out = run(
            self.engine_podman().args(args),
            None,
            Duration::from_secs(120),
        );
        out.assert_success();
        out
    }

    /// Like [`World::engine`], parsing stdout as JSON (for `inspect`,
    /// `ps --format json`, …).
    #[track_caller]
    pub fn engine_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.engine(args);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
    }

    /// The OpenSSH client, set up to log into the world's sshd as root with
    /// [`World::key`], checking the host key against the world's own pinned
    /// known_hosts; append the remote command. Independent of any Home
    /// (OpenSSH takes `~` from the password database, not from $HOME).
    pub fn ssh(&self) -> Command {
        let mut cmd = Command::new(SSH);
        cmd.env_clear()
            .env("PATH", SYSTEM_PATH)
            .env("HOME", self.dir.join("enginehome"))
            .env("LANG", "C")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .arg("-o")
            .arg(format!("IdentityFile={}", self.key.display()))
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.dir.join("ssh/known_hosts").display()
            ))
            .args([
                "-o",
                "GlobalKnownHostsFile=/dev/null",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .args(["-o", "LogLevel=ERROR", "-p"])
            .arg(self.ssh_port.to_string())
            .arg(format!("{}@127.0.0.1", self.user));
        cmd
    }

    /// Starts a private ssh-agent holding no keys; see [`Agent::add`].
    #[track_caller]
    pub fn agent(&self) -> Agent {
        Agent::start(self)
    }

    /// The engine's log so far (`podman --log-level info system service`).
    pub fn engine_log(&self) -> String {
        fs::read_to_string(&self.engine_log_path).unwrap_or_default()
    }

    /// sshd's log so far (LogLevel VERBOSE: accepted/refused keys with fingerprints).
    pub fn sshd_log(&self) -> String {
        fs::read_to_string(&self.sshd_log_path).unwrap_or_default()
    }
}

/// A private sshd for one test (see [`World::private_sshd`]): the world's host keys, client
/// keys and engine on a port of its own, so that the test can kill it without disturbing
/// the tests that share the world's sshd.
#[derive(Debug)]
pub struct PrivateSshd {
    pub port: u16,
    /// Its log (LogLevel VERBOSE).
    pub log_path: PathBuf,
    pid: libc::pid_t,
}

impl World {
    /// Starts a [`PrivateSshd`]; it is stopped with the world at exit if the test did not
    /// kill it.
    #[track_caller]
    pub fn private_sshd(&self) -> PrivateSshd {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        // The cleanup registry names daemons with static strings; a handful per binary.
        let name: &'static str = Box::leak(format!("sshd-private-{n}").into_boxed_str());
        let ssh = self.dir.join("ssh");
        let log_path = ssh.join(format!("{name}.log"));
        let port = start_sshd(
            &self.dir,
            name,
            &[
                &ssh.join("ssh_host_ed25519_key"),
                &ssh.join("ssh_host_rsa_key"),
            ],
            None,
            &self.authorized_keys,
            &self.bin_dir,
            &log_path,
        )
        .unwrap_or_else(|e| panic!("a private sshd could not be started: {e}"));
        // sshd -D does not fork: the PidFile names the process start_sshd spawned.
        let pid_file = ssh.join(format!("{name}.pid"));
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let pid = loop {
            if let Some(pid) = fs::read_to_string(&pid_file)
                .ok()
                .and_then(|t| t.trim().parse::<libc::pid_t>().ok())
            {
                break pid;
            }
            assert!(
                Instant::now() < deadline,
                "sshd wrote no pid file {}",
                pid_file.display()
            );
            thread::sleep(Duration::from_millis(10));
        };
        PrivateSshd {
            port,
            log_path,
            pid,
        }
    }
}

impl PrivateSshd {
    /// `ssh://root@127.0.0.1:PORT/<the world's engine socket>`
    pub fn ssh_url(&self, world: &World) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            world.user,
            self.port,
            world.socket.display()
        )
    }

    /// known_hosts lines for both host keys under this port.
    pub fn known_hosts_lines(&self, world: &World) -> String {
        format!(
            "[127.0.0.1]:{port} {}\n[127.0.0.1]:{port} {}\n",
            world.host_key_pub,
            world.host_key_rsa_pub,
            port = self.port
        )
    }

    /// SIGKILLs the listening sshd and every process it started (one per connection, each
    /// in its own session), so established connections die too, as when the server crashes.
    pub fn kill(&self) {
        // SAFETY: plain syscalls on processes of our own sshd. Stopping the listener first
        // means it can fork no new connection while its descendants are collected.
        unsafe { libc::kill(self.pid, libc::SIGSTOP) };
        for _ in 0..3 {
            for pid in descendants(self.pid) {
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        // SAFETY: as above.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }
}

/// Every live descendant of `root`, from /proc.
fn descendants(root: libc::pid_t) -> Vec<libc::pid_t> {
    let mut parent_of = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let ppid = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
                .and_then(|p| p.parse::<libc::pid_t>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parent_of
                .iter()
                .filter(|&&(_, pp)| pp == parent)
                .map(|&(p, _)| p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// The environment of the engine and of podman commands acting on its
/// storage: only our config files are read (CONTAINERS_CONF and
/// CONTAINERS_STORAGE_CONF each replace the whole system search path), so
/// nothing in /etc/containers, /var/lib/containers or /run/podman is used.
pub(crate) fn engine_env(dir: &Path) -> Vec<(&'static str, String)> {
    let p = |rel: &str| dir.join(rel).display().to_string();
    vec![
        ("PATH", SYSTEM_PATH.to_string()),
        ("HOME", p("enginehome")),
        ("LANG", "C".to_string()),
        ("TMPDIR", p("tmp")),
        ("CONTAINERS_CONF", p("containers.conf")),
        ("CONTAINERS_STORAGE_CONF", p("storage.conf")),
    ]
}

/// `podman --url unix://<socket>` with the engine's environment.
pub(crate) fn engine_client(dir: &Path, socket: &Path) -> Command {
    let mut cmd = Command::new(PODMAN);
    cmd.env_clear()
        .envs(engine_env(dir))
        .arg("--url")
        .arg(format!("unix://{}", socket.display()));
    cmd
}

/// podman acting directly on the world's storage, without the engine
/// (used at cleanup, when the engine may be gone).
pub(crate) fn direct_podman(dir: &Path) -> Command {
    let mut cmd = Command::new(PODMAN);
    cmd.env_clear().envs(engine_env(dir));
    cmd
}

/// Error context for startup steps.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, String> {
        self.map_err(|e| format!("{}: {e}", what()))
    }
}

fn start() -> Result<World, String> {
    let t0 = Instant::now();
    let mut steps = Vec::new();
    check_prerequisites()?;
    cleanup::sweep_stale();
    steps.push(("stale worlds swept", t0.elapsed()));

    let dir = tempfile::Builder::new()
        .prefix(DIR_PREFIX)
        .tempdir_in(TMP_PARENT)
        .context(|| format!("cannot create a world directory in {TMP_PARENT}"))?
        .keep();
    write(&dir.join(OWNER_FILE), &std::process::id().to_string())?;
    cleanup::install(&dir);
    for sub in ["enginehome", "tmp", "bin", "ssh", "homes", "agents"] {
        fs::create_dir_all(dir.join(sub))
            .context(|| format!("cannot create {}/{sub}", dir.display()))?;
    }

    // Two lines of work in parallel: the engine boots (~0.3 s) and gets the
    // image, while we generate keys (RSA and the encrypted key's bcrypt KDF
    // take ~0.3 s each) and start sshd.
    let socket = dir.join("podman.sock");
    let engine_log_path = dir.join("engine.log");
    start_engine(&dir, &socket, &engine_log_path)?;
    steps.push(("engine spawned", t0.elapsed()));
    let (engine_steps, ssh_setup) = thread::scope(|s| {
        let engine = s.spawn(|| -> Result<Vec<(&'static str, Duration)>, String> {
            wait_for_engine(&socket, &engine_log_path)?;
            let ready = t0.elapsed();
            import_image(&dir, &socket)?;
            Ok(vec![
                ("engine answers _ping", ready),
                ("image imported", t0.elapsed()),
            ])
        });
        let ssh_setup = setup_ssh(&dir, &socket, t0);
        let engine_steps = engine
            .join()
            .unwrap_or_else(|_| Err("engine startup thread panicked".into()));
        (engine_steps, ssh_setup)
    });
    steps.extend(engine_steps?);
    let ssh = ssh_setup?;
    steps.extend(ssh.steps);
    let world = World {
        containers_conf: dir.join("containers.conf"),
        dir,
        socket,
        ssh_port: ssh.port,
        user: "root".into(),
        key: ssh.key,
        key_rsa: ssh.key_rsa,
        key_encrypted: ssh.key_encrypted,
        key_passphrase: ssh.key_passphrase,
        host_key_pub: ssh.host_key_pub,
        host_key_rsa_pub: ssh.host_key_rsa_pub,
        host_ca_pub: ssh.host_ca_pub,
        cert_sshd: OnceLock::new(),
        host_key_fingerprint: ssh.host_key_fingerprint,
        host_key_rsa_fingerprint: ssh.host_key_rsa_fingerprint,
        image: IMAGE.into(),
        authorized_keys: ssh.authorized_keys,
        bin_dir: ssh.bin_dir,
        engine_log_path,
        sshd_log_path: ssh.sshd_log_path,
        startup: Duration::ZERO,
        startup_steps: Vec::new(),
    };
    // Needs both the engine and sshd.
    verify_ssh_discovery(&world)?;
    steps.push(("ssh discovery verified", t0.elapsed()));
    steps.sort_by_key(|&(_, at)| at);
    Ok(World {
        startup: t0.elapsed(),
        startup_steps: steps,
        ..world
    })
}

/// What [`setup_ssh`] made.
struct SshSetup {
    port: u16,
    host_ca_pub: String,
    key: PathBuf,
    key_rsa: PathBuf,
    key_encrypted: PathBuf,
    key_passphrase: String,
    host_key_pub: String,
    host_key_rsa_pub: String,
    host_key_fingerprint: String,
    host_key_rsa_fingerprint: String,
    authorized_keys: PathBuf,
    bin_dir: PathBuf,
    sshd_log_path: PathBuf,
    steps: Vec<(&'static str, Duration)>,
}

/// Keys, the remote `podman` wrapper, and a running sshd.
fn setup_ssh(dir: &Path, socket: &Path, t0: Instant) -> Result<SshSetup, String> {
    let ssh = dir.join("ssh");
    let key = ssh.join("id_ed25519");
    let key_rsa = ssh.join("id_rsa");
    let key_encrypted = ssh.join("id_ed25519_encrypted");
    let key_passphrase = "e2e passphrase".to_string();
    let host_ed = ssh.join("ssh_host_ed25519_key");
    let host_rsa = ssh.join("ssh_host_rsa_key");
    let host_ca = ssh.join("host_ca");
    let jobs: [(&Path, &str, &str, &str); 6] = [
        (&host_ca, "ed25519", "", "e2e-host-ca"),
        (&host_ed, "ed25519", "", "e2e-host"),
        (&host_rsa, "rsa", "", "e2e-host"),
        (&key, "ed25519", "", "e2e-client-ed25519"),
        (&key_rsa, "rsa", "", "e2e-client-rsa"),
        (
            &key_encrypted,
            "ed25519",
            &key_passphrase,
            "e2e-client-encrypted",
        ),
    ];
    thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|&(path, kind, pass, comment)| s.spawn(move || keygen(path, kind, pass, comment)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("ssh-keygen thread panicked".into()))
            })
            .collect::<Result<Vec<()>, String>>()
    })?;
    let mut steps = vec![("ssh keys generated", t0.elapsed())];
    // A host certificate for the ed25519 host key, signed by the world's CA, so that
    // clients can trust the server through `@cert-authority` instead of its key.
    sign_host_key(&host_ca, &host_ed)?;
    let host_ca_pub = public_key(&host_ca)?;
    let host_key_pub = public_key(&host_ed)?;
    let host_key_rsa_pub = public_key(&host_rsa)?;
    let host_key_fingerprint = fingerprint(&host_ed)?;
    let host_key_rsa_fingerprint = fingerprint(&host_rsa)?;
    let authorized_keys = ssh.join("authorized_keys");
    let mut keys = String::new();
    for k in [&key, &key_rsa, &key_encrypted] {
        let line = fs::read_to_string(k.with_extension("pub"))
            .context(|| format!("cannot read {}.pub", k.display()))?;
        keys.push_str(line.trim_end());
        keys.push('\n');
    }
    write(&authorized_keys, &keys)?;

    // SSH sessions must find *this* engine when they run `podman info` for
    // socket discovery; sshd puts bin_dir first in their PATH (SetEnv).
    let bin_dir = dir.join("bin");
    write_executable(
        &bin_dir.join("podman"),
        &format!(
            "#!/bin/sh\n# e2e: the remote side's `podman` is the private engine's client\nexec {PODMAN} --url {} \"$@\"\n",
            sh_quote(&format!("unix://{}", socket.display()))
        ),
    )?;
    // For `ssh-add` of the encrypted key without a terminal.
    write_executable(
        &dir.join("askpass"),
        &format!("#!/bin/sh\nprintf '%s\\n' {}\n", sh_quote(&key_passphrase)),
    )?;

    let sshd_log_path = ssh.join("sshd.log");
    let port = start_sshd(
        dir,
        "sshd",
        &[&host_ed, &host_rsa],
        None,
        &authorized_keys,
        &bin_dir,
        &sshd_log_path,
    )?;
    steps.push(("sshd listening", t0.elapsed()));
    write(
        &ssh.join("known_hosts"),
        &format!("[127.0.0.1]:{port} {host_key_pub}\n[127.0.0.1]:{port} {host_key_rsa_pub}\n"),
    )?;
    Ok(SshSetup {
        port,
        host_ca_pub,
        key,
        key_rsa,
        key_encrypted,
        key_passphrase,
        host_key_pub,
        host_key_rsa_pub,
        host_key_fingerprint,
        host_key_rsa_fingerprint,
        authorized_keys,
        bin_dir,
        sshd_log_path,
        steps,
    })
}

fn check_prerequisites() -> Result<(), String> {
    let missing: Vec<&str> = [
        PODMAN,
        SSHD,
        SSH,
        SSH_KEYGEN,
        "/usr/bin/ssh-agent",
        "/usr/bin/ssh-add",
        BUSYBOX,
    ]
    .into_iter()
    .filter(|p| !Path::new(p).exists())
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing {}; install the packages listed in .ci/run (podman, runc, netavark, openssh-server, openssh-client, busybox-static, …)",
            missing.join(", ")
        ));
    }
    // The image has no libc: a dynamically linked busybox (package
    // `busybox`, not `busybox-static`) would not run in it.
    let elf = fs::read(BUSYBOX).context(|| format!("cannot read {BUSYBOX}"))?;
    if !is_static_elf(&elf) {
        return Err(format!(
            "{BUSYBOX} is dynamically linked; the test image needs a static one (apt-get install busybox-static)"
        ));
    }
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 {
        return Err(
            "the e2e tests must run as root (rootful podman engine, ssh login as root)".into(),
        );
    }
    Ok(())
}

/// A 64-bit little-endian ELF file without a PT_INTERP program header.
fn is_static_elf(b: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let u64_at = |o: usize| {
        b.get(o..o + 8)
            .map(|s| u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
    };
    if b.get(0..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..phnum as usize).all(|i| {
        let at = phoff as usize + i * phentsize as usize;
        u32_at(at).is_some_and(|ty| ty != PT_INTERP)
    })
}

/// Minimal engine configuration for a rootful engine on this kind of
/// machine (Debian 12, podman 4.3.1, cgroup v1/v2 hybrid, no systemd).
pub(crate) fn containers_conf(dir: &Path) -> String {
    let q = |rel: &str| toml_str(&dir.join(rel).display().to_string());
    format!(
        r#"# Written by the e2e harness (tests/src/world.rs).
[containers]
# Rootful podman raises RLIMIT_NOFILE/NPROC to 1048576 in every container by
# default; this sandbox refuses that ("error setting rlimit type 7").
default_ulimits = []

[engine]
# crun fails on this machine's hybrid cgroup layout; runc works.
runtime = "runc"
# No systemd here; podman would mostly pick these too, but be explicit.
cgroup_manager = "cgroupfs"
events_logger = "file"
# The default "shm" lock type shares one /dev/shm/libpod_lock segment with
# every other rootful podman on the machine, and a new engine frees *all*
# locks in it on first start; file locks live in our tmp_dir.
lock_type = "file"
tmp_dir = {tmp}
image_copy_tmp_dir = {tmp}

[network]
# Explicit, so a machine with only CNI plugins fails loudly.
network_backend = "netavark"
network_config_dir = {netconf}
"#,
        tmp = q("tmp"),
        netconf = q("root/networks"),
    )
}

pub(crate) fn storage_conf(dir: &Path) -> String {
    let q = |rel: &str| toml_str(&dir.join(rel).display().to_string());
    format!(
        r#"# Written by the e2e harness (tests/src/world.rs).
[storage]
# vfs: plain directories, no overlay mounts to leak; the test image is 2 MB.
driver = "vfs"
graphroot = {root}
runroot = {runroot}
"#,
        root = q("root"),
        runroot = q("runroot"),
    )
}

fn start_engine(dir: &Path, socket: &Path, log: &Path) -> Result<(), String> {
    write(&dir.join("containers.conf"), &containers_conf(dir))?;
    write(&dir.join("storage.conf"), &storage_conf(dir))?;
    let log_file = fs::File::create(log).context(|| format!("cannot create {}", log.display()))?;
    let log_file2 = log_file
        .try_clone()
        .context(|| "dup log file".to_string())?;
    let mut cmd = Command::new(PODMAN);
    cmd.env_clear()
        .envs(engine_env(dir))
        .args(["--log-level", "info", "system", "service", "--time=0"])
        .arg(format!("unix://{}", socket.display()))
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_file2);
    let child = spawn_daemon(cmd).context(|| format!("cannot start {PODMAN} system service"))?;
    cleanup::add_daemon("engine", child);
    Ok(())
}

pub(crate) fn wait_for_engine(socket: &Path, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if ping(socket).is_ok() {
            return Ok(());
        }
        if let Some(status) = cleanup::daemon_exited("engine") {
            return Err(format!(
                "the podman engine exited ({status}) before answering _ping on {}; its log ({}):\n{}",
                socket.display(),
                log.display(),
                tail(log)
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the podman engine did not answer _ping on {} within {} s; its log ({}):\n{}",
                socket.display(),
                STARTUP_TIMEOUT.as_secs(),
                log.display(),
                tail(log)
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// `GET /_ping` over the unix socket; the engine answers `200 OK` with body `OK`.
fn ping(socket: &Path) -> std::io::Result<()> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    if reply.starts_with("HTTP/1.") && reply.contains(" 200 ") && reply.ends_with("OK") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "unexpected _ping reply: {reply:?}"
        )))
    }
}

fn keygen(path: &Path, kind: &str, passphrase: &str, comment: &str) -> Result<(), String> {
    let mut cmd = Command::new(SSH_KEYGEN);
    cmd.env_clear()
        .env("PATH", SYSTEM_PATH)
        .args(["-q", "-t", kind]);
    if kind == "rsa" {
        // 2048 bits: generating 3072-bit keys takes ~0.8 s here.
        cmd.args(["-b", "2048"]);
    }
    cmd.args(["-N", passphrase, "-C", comment, "-f"]).arg(path);
    checked(&mut cmd)?;
    Ok(())
}

/// `type base64` of a private key's `.pub` file (the comment dropped).
fn public_key(private: &Path) -> Result<String, String> {
    let pubfile = private.with_extension("pub");
    let text =
        fs::read_to_string(&pubfile).context(|| format!("cannot read {}", pubfile.display()))?;
    let mut fields = text.split_whitespace();
    match (fields.next(), fields.next()) {
        (Some(kind), Some(b64)) => Ok(format!("{kind} {b64}")),
        _ => Err(format!(
            "malformed public key in {}: {text:?}",
            pubfile.display()
        )),
    }
}

fn fingerprint(private: &Path) -> Result<String, String> {
    let mut cmd = Command::new(SSH_KEYGEN);
    cmd.env_clear()
        .env("PATH", SYSTEM_PATH)
        .args(["-l", "-E", "sha256", "-f"])
        .arg(private.with_extension("pub"));
    let out = checked(&mut cmd)?;
    // "256 SHA256:xxxx comment (ED25519)"
    out.stdout
        .split_whitespace()
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| format!("cannot parse fingerprint from {out}"))
}

/// `ssh-keygen -s CA -h`: writes `<key>-cert.pub` next to the host key.
fn sign_host_key(ca: &Path, host_key: &Path) -> Result<(), String> {
    let out = Command::new(SSH_KEYGEN)
        .args(["-q", "-s"])
        .arg(ca)
        .args([
            "-I",
            "e2e-host",
            "-h",
            "-n",
            "127.0.0.1,localhost",
            "-V",
            "-5m:+1d",
        ])
        .arg(host_key.with_extension("pub"))
        .stdin(Stdio::null())
        .output()
        .context(|| format!("cannot run {SSH_KEYGEN}"))?;
    if !out.status.success() {
        return Err(format!(
            "signing the host key failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn sshd_config(
    name: &str,
    port: u16,
    host_keys: &[&Path],
    host_cert: Option<&Path>,
    authorized_keys: &Path,
    bin_dir: &Path,
    dir: &Path,
) -> String {
    sshd_config_listen(
        name,
        &format!("127.0.0.1:{port}"),
        host_keys,
        host_cert,
        authorized_keys,
        bin_dir,
        dir,
    )
}

/// [`sshd_config`] for any listen address (the network namespace's sshd, tests/src/netns.rs).
pub(crate) fn sshd_config_listen(
    name: &str,
    listen: &str,
    host_keys: &[&Path],
    host_cert: Option<&Path>,
    authorized_keys: &Path,
    bin_dir: &Path,
    dir: &Path,
) -> String {
    let mut c = String::from("# Written by the e2e harness (tests/src/world.rs).\n");
    let _ = writeln!(c, "ListenAddress {listen}");
    for k in host_keys {
        let _ = writeln!(c, "HostKey {}", k.display());
    }
    if let Some(cert) = host_cert {
        let _ = writeln!(c, "HostCertificate {}", cert.display());
    }
    let _ = write!(
        c,
        "PidFile {pid}
AuthorizedKeysFile {ak}
# Key files are in a directory only root can enter, but skip the ownership
# checks of the home directory: we use an absolute AuthorizedKeysFile.
StrictModes no
# Without PAM sshd needs no /etc/pam.d setup; root's password hash must not
# be locked ('!'), which it isn't on Debian ('*').
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
# podman dials the API socket through direct-streamlocal@openssh.com;
# ProxyJump tests use this sshd as the jump host (direct-tcpip).
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
# Socket discovery runs `podman info` in an exec session: find the wrapper
# first. SetEnv is applied after sshd builds the session environment, so it
# replaces the default PATH (login shell rc files may still prepend to it).
SetEnv PATH={bin}:{path}
PermitUserRC no
PrintMotd no
PrintLastLog no
# Parallel tests open many connections at once; never drop them early.
MaxStartups 100:30:200
LogLevel VERBOSE
Subsystem sftp internal-sftp
",
        pid = dir.join(format!("ssh/{name}.pid")).display(),
        ak = authorized_keys.display(),
        bin = bin_dir.display(),
        path = SYSTEM_PATH,
    );
    c
}

/// Starts sshd on a free loopback port. The port is found by binding port 0
/// and releasing it, so another process may grab it before sshd binds;
/// then sshd exits with "Address already in use" and we try another port.
fn start_sshd(
    dir: &Path,
    name: &'static str,
    host_keys: &[&Path],
    host_cert: Option<&Path>,
    authorized_keys: &Path,
    bin_dir: &Path,
    log: &Path,
) -> Result<u16, String> {
    // sshd refuses to start without its privilege separation directory,
    // which only the ssh service (not the package) creates.
    fs::create_dir_all("/run/sshd").context(|| "cannot create /run/sshd".to_string())?;
    let config = dir.join(format!("ssh/{name}_config"));
    let mut last_error = String::new();
    for _attempt in 0..5 {
        let port = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .context(|| "cannot find a free port on 127.0.0.1".to_string())?
            .port();
        write(
            &config,
            &sshd_config(
                name,
                port,
                host_keys,
                host_cert,
                authorized_keys,
                bin_dir,
                dir,
            ),
        )?;
        let log_file =
            fs::File::create(log).context(|| format!("cannot create {}", log.display()))?;
        let mut cmd = Command::new(SSHD);
        // -D: stay in the foreground (our child, killed with us);
        // -e: log to stderr (the log file) instead of syslog.
        cmd.env_clear()
            .env("PATH", SYSTEM_PATH)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        let mut child = spawn_daemon(cmd).context(|| format!("cannot start {SSHD}"))?;
        let listening = format!("Server listening on 127.0.0.1 port {port}.");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let text = fs::read_to_string(log).unwrap_or_default();
            if text.contains(&listening) && TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
            {
                cleanup::add_daemon(name, child);
                return Ok(port);
            }
            if let Ok(Some(status)) = child.try_wait() {
                last_error = format!("sshd exited ({status}) on port {port}; its log:\n{text}");
                if text.contains("Address already in use") {
                    break; // lost the port race: try another port
                }
                return Err(last_error);
            }
            if Instant::now() > deadline {
                crate::run::stop_daemon(&mut child, Duration::from_secs(2));
                return Err(format!(
                    "sshd did not start listening on 127.0.0.1:{port} within {} s; its log:\n{text}",
                    STARTUP_TIMEOUT.as_secs()
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
    Err(format!(
        "sshd could not bind a port after 5 attempts; last: {last_error}"
    ))
}

/// Builds the busybox rootfs tarball and imports it through the engine.
pub(crate) fn import_image(dir: &Path, socket: &Path) -> Result<(), String> {
    let rootfs = dir.join("rootfs");
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "tmp", "var/tmp", "proc", "sys",
        "dev", "home",
    ] {
        fs::create_dir_all(rootfs.join(d)).context(|| format!("cannot create rootfs/{d}"))?;
    }
    for d in ["tmp", "var/tmp"] {
        fs::set_permissions(rootfs.join(d), fs::Permissions::from_mode(0o1777))
            .context(|| format!("chmod rootfs/{d}"))?;
    }
    fs::copy(BUSYBOX, rootfs.join("bin/busybox")).context(|| format!("cannot copy {BUSYBOX}"))?;
    // Every applet at its canonical path (bin/sh, usr/bin/env, sbin/ip, …).
    let mut list = Command::new(BUSYBOX);
    list.arg("--list-full");
    let applets = checked(&mut list)?;
    for applet in applets
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let link = rootfs.join(applet);
        if applet == "bin/busybox" || link.exists() {
            continue;
        }
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent).context(|| format!("cannot create {}", parent.display()))?;
        }
        symlink("/bin/busybox", &link).context(|| format!("cannot create {}", link.display()))?;
    }
    write(
        &rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    write(&rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")?;

    let tarball = dir.join("rootfs.tar");
    let mut tar = Command::new("tar");
    tar.env_clear()
        .env("PATH", SYSTEM_PATH)
        .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(&rootfs)
        .args(["-cf"])
        .arg(&tarball)
        .arg(".");
    checked(&mut tar)?;
    let mut import = engine_client(dir, socket);
    import
        .args([
            "import",
            "--quiet",
            "--change",
            "CMD=/bin/sh",
            "--message",
            "e2e busybox",
        ])
        .arg(&tarball)
        .arg(IMAGE);
    checked(&mut import)?;
    let _ = fs::remove_dir_all(&rootfs);
    let _ = fs::remove_file(&tarball);
    Ok(())
}

/// Checks the whole chain a path-less ssh:// URL relies on: sshd accepts the
/// key, the session's PATH finds the wrapper, and the wrapper's engine
/// reports its own socket.
fn verify_ssh_discovery(world: &World) -> Result<(), String> {
    let mut cmd = world.ssh();
    cmd.arg("podman info --format '{{.Host.RemoteSocket.Path}}'");
    let out = checked(&mut cmd).map_err(|e| format!("{e}\nsshd log:\n{}", world.sshd_log()))?;
    let expected = world.unix_url();
    if out.stdout.trim_end() != expected {
        return Err(format!(
            "`podman info` over SSH reported {:?}, expected {expected:?}: the SSH session's PATH does not start with {} (check root's shell rc files)\n{out}",
            out.stdout.trim_end(),
            world.bin_dir.display()
        ));
    }
    Ok(())
}

/// Runs a setup command; a non-zero exit is an error with its output.
pub(crate) fn checked(cmd: &mut Command) -> Result<Output, String> {
    let out = try_run(cmd, None, SETUP_CMD_TIMEOUT)?;
    if out.success() {
        Ok(out)
    } else {
        Err(format!("setup command failed:\n{out}"))
    }
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn write_executable(path: &Path, text: &str) -> Result<(), String> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o755)
        .open(path)
        .context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .context(|| format!("cannot write {}", path.display()))
}

/// The last 8 KiB of a log file.
pub(crate) fn tail(path: &Path) -> String {
    let text = fs::read(path).unwrap_or_default();
    let start = text.len().saturating_sub(8192);
    String::from_utf8_lossy(&text[start..]).into_owned()
}

/// A TOML basic string. JSON string escapes are a subset of TOML's.
fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A single-quoted POSIX shell word.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_detection() {
        assert!(!is_static_elf(b"#!/bin/sh\n"));
        if let Ok(sh) = fs::read("/bin/bash") {
            assert!(!is_static_elf(&sh), "/bin/bash is dynamically linked");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(toml_str(r#"/tmp/a"b\c"#), r#""/tmp/a\"b\\c""#);
    }
}
