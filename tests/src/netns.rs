//! A "remote host" in its own network namespace: a second private podman engine and an
//! OpenSSH sshd run inside it, reached from the test process over a veth pair, so the
//! host's loopback is really separate from the engine's (published ports are not visible
//! on the host's 127.0.0.1 unless something forwards them).
//!
//! The filesystem is shared: the engine's socket is reachable directly too (test setup,
//! reference measurements). The world's client keys and host keys are reused.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::cleanup::{DIR_PREFIX, OWNER_FILE, TMP_PARENT};
use crate::run::{run, spawn_daemon, stop_daemon, try_run, Output};
use crate::world::{
    checked, containers_conf, engine_client, engine_env, import_image, sh_quote,
    sshd_config_listen, storage_conf, tail, write, write_executable, World, PODMAN, SSHD,
    STARTUP_TIMEOUT, SYSTEM_PATH,
};

const IP: &str = "/usr/sbin/ip";
/// Enters only the network namespace: `ip netns exec` would also remount /sys, hiding the
/// cgroup mounts runc needs.
const NSENTER: &str = "/usr/bin/nsenter";
/// Prefix of our namespace names: `pre2e-<pid>-<n>`.
const NETNS_PREFIX: &str = "pre2e-";
/// Serializes subnet picking between test binaries running in parallel.
const SUBNET_LOCK: &str = "/tmp/pr-e2e-netns.lock";

/// The engine and its sshd inside a network namespace; see the module docs.
pub struct RemoteHost {
    /// Name of the network namespace.
    pub netns: String,
    /// Private directory (engine storage, config, logs, sshd files).
    pub dir: PathBuf,
    /// The remote host's address (inside the namespace).
    pub ip: Ipv4Addr,
    /// The host's address on the veth pair.
    pub host_ip: Ipv4Addr,
    /// The engine's API socket (reachable from the host's filesystem too).
    pub socket: PathBuf,
    /// The main sshd (port 22 on [`RemoteHost::ip`]).
    pub sshd: Sshd,
    /// Client key (the world's ed25519 key).
    pub key: PathBuf,
    host_key_pub: String,
    host_keys: Vec<PathBuf>,
    authorized_keys: PathBuf,
    bin_dir: PathBuf,
    engine: Mutex<Option<Child>>,
    torn_down: Once,
}

/// One sshd inside the namespace, which tests can kill and restart on the same port.
pub struct Sshd {
    pub port: u16,
    pub name: String,
    config: PathBuf,
    log: PathBuf,
    netns: String,
    listen: String,
    fd_limit: Option<u32>,
    child: Mutex<Option<Child>>,
}

static SHARED: OnceLock<RemoteHost> = OnceLock::new();

impl RemoteHost {
    /// The remote host of this test binary, started on first use and torn down (namespace,
    /// containers, daemons, directory) when the process exits.
    #[track_caller]
    pub fn shared(world: &World) -> &'static RemoteHost {
        SHARED.get_or_init(|| {
            let h = RemoteHost::start(world);
            // SAFETY: registering a plain extern "C" fn without captured state.
            unsafe { libc::atexit(teardown_shared) };
            h
        })
    }

    /// A new remote host of its own; torn down when dropped.
    #[track_caller]
    pub fn start(world: &World) -> RemoteHost {
        match Self::try_start(world) {
            Ok(h) => h,
            Err(e) => panic!("the network-namespace remote host could not be started: {e}"),
        }
    }

    fn try_start(world: &World) -> Result<RemoteHost, String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        sweep_stale_namespaces();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let netns = format!("{NETNS_PREFIX}{pid}-{n}");
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(TMP_PARENT)
            .map_err(|e| format!("cannot create a directory in {TMP_PARENT}: {e}"))?
            .keep();
        write(&dir.join(OWNER_FILE), &pid.to_string())?;
        for sub in ["enginehome", "tmp", "bin", "ssh"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| format!("mkdir {sub}: {e}"))?;
        }
        let (host_ip, ip) = match create_namespace(&netns, pid, n) {
            Ok(x) => x,
            Err(e) => {
                delete_namespace(&netns);
                return Err(e);
            }
        };
        let socket = dir.join("podman.sock");
        let ssh = world.dir.join("ssh");
        let host_keys = vec![
            ssh.join("ssh_host_ed25519_key"),
            ssh.join("ssh_host_rsa_key"),
        ];
        let bin_dir = dir.join("bin");
        write_executable(
            &bin_dir.join("podman"),
            &format!(
                "#!/bin/sh\nexec {PODMAN} --url {} \"$@\"\n",
                sh_quote(&format!("unix://{}", socket.display()))
            ),
        )?;
        let sshd = Sshd {
            port: 22,
            name: "sshd".into(),
            config: dir.join("ssh/sshd_config"),
            log: dir.join("ssh/sshd.log"),
            netns: netns.clone(),
            listen: format!("{ip}:22"),
            fd_limit: None,
            child: Mutex::new(None),
        };
        let host = RemoteHost {
            netns,
            ip,
            host_ip,
            socket,
            sshd,
            key: world.key.clone(),
            host_key_pub: world.host_key_pub.clone(),
            host_keys,
            authorized_keys: world.authorized_keys.clone(),
            bin_dir,
            engine: Mutex::new(None),
            torn_down: Once::new(),
            dir,
        };
        // From here on, Drop cleans up whatever was started.
        host.start_engine()?;
        host.sshd
            .write_config(&host, "")
            .and_then(|_| host.sshd.spawn())?;
        import_image(&host.dir, &host.socket)?;
        Ok(host)
    }

    fn start_engine(&self) -> Result<(), String> {
        write(
            &self.dir.join("containers.conf"),
            &containers_conf(&self.dir),
        )?;
        write(&self.dir.join("storage.conf"), &storage_conf(&self.dir))?;
        let log = self.dir.join("engine.log");
        let f = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let f2 = f.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(NSENTER);
        cmd.env_clear()
            .envs(engine_env(&self.dir))
            .arg(format!("--net=/run/netns/{}", self.netns))
            .arg(PODMAN)
            .args(["--log-level", "info", "system", "service", "--time=0"])
            .arg(format!("unix://{}", self.socket.display()))
            .stdin(Stdio::null())
            .stdout(f)
            .stderr(f2);
        let mut child = spawn_daemon(cmd).map_err(|e| format!("cannot start the engine: {e}"))?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if ping(&self.socket) {
                break;
            }
            if let Ok(Some(st)) = child.try_wait() {
                return Err(format!("the engine exited ({st}):\n{}", tail(&log)));
            }
            if Instant::now() > deadline {
                stop_daemon(&mut child, Duration::from_secs(2));
                return Err(format!("the engine did not answer _ping:\n{}", tail(&log)));
            }
            thread::sleep(Duration::from_millis(20));
        }
        *self.engine.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        Ok(())
    }

    /// Kills the engine (`podman system service`) with SIGKILL, as a crash would; the
    /// containers it started keep running under their conmon. Its socket file stays behind.
    pub fn kill_engine(&self) {
        if let Some(mut c) = self.engine.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the engine again on the same socket after [`RemoteHost::kill_engine`] (or stops
    /// the running one first), and waits until it answers `_ping`.
    #[track_caller]
    pub fn restart_engine(&self) {
        self.kill_engine();
        if let Err(e) = self.start_engine() {
            panic!("cannot restart the engine: {e}");
        }
    }

    /// `ssh://root@IP:PORT<engine socket>` for one of this host's sshds.
    pub fn ssh_url_for(&self, sshd: &Sshd) -> String {
        format!(
            "ssh://root@{}:{}{}",
            self.ip,
            sshd.port,
            self.socket.display()
        )
    }

    /// [`RemoteHost::ssh_url_for`] the main sshd.
    pub fn ssh_url(&self) -> String {
        self.ssh_url_for(&self.sshd)
    }

    /// known_hosts lines trusting every sshd of this host (ports 22 and 2200-2299).
    pub fn known_hosts(&self) -> String {
        let mut s = format!("{} {}\n", self.ip, self.host_key_pub);
        for port in 2200..2300 {
            s.push_str(&format!("[{}]:{port} {}\n", self.ip, self.host_key_pub));
        }
        s
    }

    /// `podman --url unix://<engine socket>` from the host, for setup and checks.
    pub fn engine_podman(&self) -> Command {
        engine_client(&self.dir, &self.socket)
    }

    /// Runs [`RemoteHost::engine_podman`] with `args`; fails the test unless it succeeds.
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

    /// A command run inside the namespace.
    pub fn exec(&self, program: &str) -> Command {
        let mut cmd = Command::new(NSENTER);
        cmd.env_clear()
            .env("PATH", SYSTEM_PATH)
            .arg(format!("--net=/run/netns/{}", self.netns))
            .arg(program);
        cmd
    }

    /// Starts another sshd in the namespace on `port` (2200-2299, covered by
    /// [`RemoteHost::known_hosts`]) with `extra` appended to its config and, optionally,
    /// a limit on its open files (each forwarded channel holds one in sshd).
    #[track_caller]
    pub fn start_sshd(&self, name: &str, port: u16, extra: &str, fd_limit: Option<u32>) -> Sshd {
        assert!((2200..2300).contains(&port), "sshd ports are 2200-2299");
        let sshd = Sshd {
            port,
            name: name.to_string(),
            config: self.dir.join(format!("ssh/{name}_config")),
            log: self.dir.join(format!("ssh/{name}.log")),
            netns: self.netns.clone(),
            listen: format!("{}:{port}", self.ip),
            fd_limit,
            child: Mutex::new(None),
        };
        if let Err(e) = sshd.write_config(self, extra).and_then(|_| sshd.spawn()) {
            panic!("cannot start {name}: {e}");
        }
        sshd
    }

    fn teardown(&self) {
        self.torn_down.call_once(|| {
            // Containers live in their own namespaces under conmon: remove them through
            // the engine first (it tears down their networks inside our namespace).
            if ping(&self.socket) {
                for args in [
                    &["pod", "rm", "--all", "--force", "--time", "0"][..],
                    &["rm", "--all", "--force", "--time", "0"][..],
                ] {
                    let _ = try_run(
                        self.engine_podman().args(args),
                        None,
                        Duration::from_secs(60),
                    );
                }
            }
            self.sshd.kill();
            if let Some(mut c) = self.engine.lock().unwrap_or_else(|p| p.into_inner()).take() {
                stop_daemon(&mut c, Duration::from_secs(5));
            }
            kill_namespace_processes(&self.netns);
            delete_namespace(&self.netns);
            if std::env::var_os("E2E_KEEP").is_none() {
                crate::cleanup::remove_world_dir(&self.dir);
            }
        });
    }
}

impl Drop for RemoteHost {
    fn drop(&mut self) {
        self.teardown();
    }
}

extern "C" fn teardown_shared() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(h) = SHARED.get() {
            h.teardown();
        }
    });
}

impl Sshd {
    fn write_config(&self, host: &RemoteHost, extra: &str) -> Result<(), String> {
        let keys: Vec<&Path> = host.host_keys.iter().map(PathBuf::as_path).collect();
        let mut config = sshd_config_listen(
            &self.name,
            &self.listen,
            &keys,
            None,
            &host.authorized_keys,
            &host.bin_dir,
            &host.dir,
        );
        config.push_str(extra);
        write(&self.config, &config)
    }

    fn spawn(&self) -> Result<(), String> {
        fs::create_dir_all("/run/sshd").map_err(|e| format!("mkdir /run/sshd: {e}"))?;
        let log =
            fs::File::create(&self.log).map_err(|e| format!("{}: {e}", self.log.display()))?;
        let inner = format!(
            "exec {NSENTER} --net=/run/netns/{} {SSHD} -D -e -f {}",
            self.netns,
            sh_quote(&self.config.display().to_string())
        );
        let script = match self.fd_limit {
            Some(n) => format!("ulimit -n {n} && {inner}"),
            None => inner,
        };
        let mut cmd = Command::new("/bin/sh");
        cmd.env_clear()
            .env("PATH", SYSTEM_PATH)
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let mut child = spawn_daemon(cmd).map_err(|e| format!("cannot start sshd: {e}"))?;
        let (ip, port) = self.listen.rsplit_once(':').unwrap_or((&self.listen, "22"));
        let listening = format!("Server listening on {ip} port {port}.");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            if text.contains(&listening) && TcpStream::connect(&self.listen).is_ok() {
                break;
            }
            if let Ok(Some(st)) = child.try_wait() {
                return Err(format!("sshd exited ({st}); its log:\n{text}"));
            }
            if Instant::now() > deadline {
                stop_daemon(&mut child, Duration::from_secs(2));
                return Err(format!("sshd did not start listening; its log:\n{text}"));
            }
            thread::sleep(Duration::from_millis(10));
        }
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        Ok(())
    }

    /// Kills sshd and every session it serves (as a crash or reboot of the host would).
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let pid = c.id() as libc::pid_t;
            for p in descendants(pid) {
                // SAFETY: plain syscall on a pid that was our sshd's child a moment ago.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts sshd again on the same address after [`Sshd::kill`].
    #[track_caller]
    pub fn restart(&self) {
        if let Err(e) = self.spawn() {
            panic!("cannot restart {}: {e}", self.name);
        }
    }

    /// sshd's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many logins sshd has accepted so far.
    pub fn logins(&self) -> usize {
        self.log().matches("Accepted publickey").count()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// All processes below `pid` (children first found, then theirs), from /proc.
fn descendants(pid: libc::pid_t) -> Vec<libc::pid_t> {
    let mut parents: Vec<(libc::pid_t, libc::pid_t)> = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<libc::pid_t>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|x| x.parse().ok()) {
                parents.push((p, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &parents {
            if parent == p && !out.contains(&child) {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

fn ping(socket: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply.contains(" 200 ") && reply.ends_with("OK")
}

fn ip(args: &[&str]) -> Result<Output, String> {
    let mut cmd = Command::new(IP);
    cmd.env_clear().env("PATH", SYSTEM_PATH).args(args);
    checked(&mut cmd)
}

/// Creates the namespace and a veth pair `10.213.K.1` (host) <-> `10.213.K.2` (namespace)
/// with a /24 no other namespace of ours uses.
fn create_namespace(netns: &str, pid: u32, n: u32) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(SUBNET_LOCK)
        .map_err(|e| format!("{SUBNET_LOCK}: {e}"))?;
    use std::os::fd::AsRawFd;
    // SAFETY: flock on an open file; released when `lock` is closed.
    unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    let used = ip(&["-4", "-o", "addr", "show"])?.stdout;
    let start = (pid.wrapping_mul(7).wrapping_add(n)) % 250;
    let k = (0..250)
        .map(|i| (start + i) % 250 + 1)
        .find(|k| !used.contains(&format!("10.213.{k}.")))
        .ok_or("no free 10.213.K.0/24 subnet left for a test namespace")?;
    let host_ip = Ipv4Addr::new(10, 213, k as u8, 1);
    let ns_ip = Ipv4Addr::new(10, 213, k as u8, 2);
    let hv = format!("ph{pid}x{n}");
    let nv = format!("pn{pid}x{n}");
    ip(&["netns", "add", netns])?;
    ip(&["link", "add", &hv, "type", "veth", "peer", "name", &nv])?;
    ip(&["link", "set", &nv, "netns", netns])?;
    ip(&["addr", "add", &format!("{host_ip}/24"), "dev", &hv])?;
    ip(&["link", "set", &hv, "up"])?;
    ip(&[
        "-n",
        netns,
        "addr",
        "add",
        &format!("{ns_ip}/24"),
        "dev",
        &nv,
    ])?;
    ip(&["-n", netns, "link", "set", &nv, "up"])?;
    ip(&["-n", netns, "link", "set", "lo", "up"])?;
    ip(&[
        "-n",
        netns,
        "route",
        "add",
        "default",
        "via",
        &host_ip.to_string(),
    ])?;
    drop(lock);
    Ok((host_ip, ns_ip))
}

fn kill_namespace_processes(netns: &str) {
    if let Ok(out) = ip(&["netns", "pids", netns]) {
        for p in out
            .stdout
            .split_whitespace()
            .filter_map(|p| p.parse::<libc::pid_t>().ok())
        {
            // SAFETY: plain syscall; these processes live in our private namespace.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
    }
}

fn delete_namespace(netns: &str) {
    // Deleting the namespace destroys its veth end and with it the host's end.
    let _ = ip(&["netns", "del", netns]);
}

/// Removes namespaces of test processes that died without cleaning up.
fn sweep_stale_namespaces() {
    let Ok(out) = ip(&["netns", "list"]) else {
        return;
    };
    for line in out.stdout.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(NETNS_PREFIX) else {
            continue;
        };
        let Some(pid) = rest
            .split('-')
            .next()
            .and_then(|p| p.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks for existence.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            kill_namespace_processes(name);
            delete_namespace(name);
        }
    }
}
