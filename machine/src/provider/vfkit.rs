//! Apple's Virtualization framework through vfkit (podman's `applehv`), and — sharing all of
//! it but the binary and one flag — libkrun through krunkit ([`super::krunkit`]). The VM gets
//! a raw disk, an EFI variable store, virtio-fs shares for `--volume`, its NIC from gvproxy
//! (`-listen-vfkit`, which also forwards `127.0.0.1:<ssh port>` to the guest's sshd), Ignition
//! served over HTTP on vsock port 1024 on first boot, and it reports readiness on vsock port
//! 1025. State and stop go through the REST endpoint ([`super::vfkit_rest`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

#[cfg(unix)]
use super::runner::Child;
use super::runner::{Cmd, Runner};
use super::vfkit_rest::{self, Endpoint, VfState};
#[cfg(unix)]
use super::ProvisionDelivery;
use super::{DiskFormat, Provider, StartOptions, VmState, VmType};
use crate::config::{MachineConfig, Provisioner};
use crate::dirs::Dirs;
use crate::{path_ctx, Error, IoContext, Result};

/// The MAC gvproxy hands the machine's static lease to.
pub const MAC: &str = "5a:94:ef:e4:0c:ee";
/// vsock port the guest's ready unit writes `Ready` to.
pub const READY_PORT: u32 = 1025;
/// vsock port Ignition fetches its config from on first boot.
pub const IGNITION_PORT: u32 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Vfkit,
    Krunkit,
}

impl Kind {
    pub fn binary(self) -> &'static str {
        match self {
            Kind::Vfkit => "vfkit",
            Kind::Krunkit => "krunkit",
        }
    }
    fn vm_type(self) -> VmType {
        match self {
            Kind::Vfkit => VmType::Applehv,
            Kind::Krunkit => VmType::Libkrun,
        }
    }
    /// podman's config section and sub-key for this hypervisor.
    fn config_keys(self) -> (&'static str, &'static str) {
        match self {
            Kind::Vfkit => ("AppleHypervisor", "Vfkit"),
            Kind::Krunkit => ("LibKrunHypervisor", "KRun"),
        }
    }
}

/// Everything one vfkit/krunkit command line is made of.
#[derive(Debug, Clone)]
pub struct Spec {
    pub kind: Kind,
    pub cpus: u32,
    pub memory_mib: u64,
    pub efi_store: PathBuf,
    pub disk: PathBuf,
    pub ready_socket: PathBuf,
    pub serial_log: PathBuf,
    pub gvproxy_socket: PathBuf,
    /// (host directory, mount tag).
    pub shares: Vec<(String, String)>,
    pub rest: Endpoint,
    /// Set on first boot: the unix socket Ignition is served on.
    pub ignition_socket: Option<PathBuf>,
    pub rosetta: bool,
}

/// vfkit splits device options on commas, so a comma inside a path would silently turn into
/// a different option.
fn option_value(what: &str, v: &str) -> Result<String> {
    if v.contains(',') {
        return Err(Error::Invalid(format!(
            "{what} {v:?} contains a comma, which vfkit/krunkit cannot take in a device option; \
             rename or move it"
        )));
    }
    Ok(v.to_string())
}

fn pv(what: &str, p: &Path) -> Result<String> {
    option_value(what, &p.display().to_string())
}

/// The arguments (without the program), in podman's order.
pub fn argv(s: &Spec) -> Result<Vec<String>> {
    let mut a: Vec<String> = vec![
        "--cpus".into(),
        s.cpus.to_string(),
        "--memory".into(),
        s.memory_mib.to_string(),
        "--bootloader".into(),
        format!(
            "efi,variable-store={},create",
            pv("EFI variable store", &s.efi_store)?
        ),
    ];
    let mut dev = |d: String| {
        a.push("--device".into());
        a.push(d);
    };
    dev(format!("virtio-blk,path={}", pv("disk", &s.disk)?));
    dev("virtio-rng".into());
    dev(format!(
        "virtio-vsock,port={READY_PORT},socketURL={},listen",
        pv("ready socket", &s.ready_socket)?
    ));
    dev(format!(
        "virtio-serial,logFilePath={}",
        pv("serial log", &s.serial_log)?
    ));
    if s.rosetta && s.kind == Kind::Vfkit {
        dev("rosetta,mountTag=rosetta,install".into());
    }
    dev(format!(
        "virtio-net,unixSocketPath={},mac={MAC}",
        pv("gvproxy socket", &s.gvproxy_socket)?
    ));
    for (src, tag) in &s.shares {
        dev(format!(
            "virtio-fs,sharedDir={},mountTag={}",
            option_value("shared directory", src)?,
            option_value("mount tag", tag)?
        ));
    }
    a.push("--restful-uri".into());
    a.push(s.rest.restful_uri());
    if s.kind == Kind::Krunkit {
        a.push("--nested".into());
    }
    if let Some(ign) = &s.ignition_socket {
        a.push("--device".into());
        a.push(format!(
            "virtio-vsock,port={IGNITION_PORT},socketURL={},listen",
            pv("ignition socket", ign)?
        ));
    }
    Ok(a)
}

/// gvproxy for one machine: the vfkit datagram socket and the SSH port forward.
pub fn gvproxy_argv(ssh_port: u16, socket: &Path, pid_file: &Path, log: &Path) -> Vec<String> {
    vec![
        "-mtu".into(),
        "1500".into(),
        "-ssh-port".into(),
        ssh_port.to_string(),
        "-listen-vfkit".into(),
        format!("unixgram://{}", socket.display()),
        "-pid-file".into(),
        pid_file.display().to_string(),
        "-log-file".into(),
        log.display().to_string(),
    ]
}

pub struct Apple {
    kind: Kind,
    runner: Arc<dyn Runner>,
    /// (hypervisor, gvproxy) binaries instead of the searched ones.
    programs: Option<(PathBuf, PathBuf)>,
}

/// Directories podman searches for its helper binaries on macOS (containers.conf
/// `helper_binaries_dir` defaults), after PATH.
const HELPER_DIRS: &[&str] = &[
    "/usr/local/opt/podman/libexec/podman",
    "/opt/homebrew/opt/podman/libexec/podman",
    "/opt/homebrew/bin",
    "/usr/local/bin",
    "/usr/local/libexec/podman",
    "/opt/podman/bin",
];

pub fn find_helper(name: &str) -> Option<PathBuf> {
    crate::find_program(name).or_else(|| {
        HELPER_DIRS
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    })
}

fn runtime_file(dirs: &Dirs, name: &str, suffix: &str) -> PathBuf {
    dirs.runtime.join(format!("{name}{suffix}"))
}

impl Apple {
    pub fn new(kind: Kind, runner: Arc<dyn Runner>) -> Apple {
        Apple {
            kind,
            runner,
            programs: None,
        }
    }

    /// Use these binaries for the hypervisor and gvproxy (a non-standard install, or the
    /// simulated ones of the tests).
    pub fn with_programs(
        kind: Kind,
        runner: Arc<dyn Runner>,
        hypervisor: PathBuf,
        gvproxy: PathBuf,
    ) -> Apple {
        Apple {
            kind,
            runner,
            programs: Some((hypervisor, gvproxy)),
        }
    }

    fn program(&self, name: &str) -> Result<PathBuf> {
        if let Some((vm, gv)) = &self.programs {
            return Ok(if name == "gvproxy" {
                gv.clone()
            } else {
                vm.clone()
            });
        }
        find_helper(name).ok_or_else(|| Error::MissingProgram {
            program: name.into(),
            hint: match name {
                "vfkit" => "install vfkit (brew install vfkit) or podman's macOS installer".into(),
                "krunkit" => {
                    "install krunkit (brew tap slp/krunkit && brew install krunkit)".into()
                }
                _ => "install gvproxy (brew install podman, or gvisor-tap-vsock)".into(),
            },
        })
    }

    /// The REST endpoint recorded at create.
    pub fn endpoint(&self, mc: &MachineConfig) -> Result<Endpoint> {
        let (sec, sub) = self.kind.config_keys();
        let ep = mc
            .extra
            .get(sec)
            .and_then(|v| v[sub]["Endpoint"].as_str())
            .ok_or_else(|| Error::Config {
                path: mc.config_path.path.display().to_string(),
                reason: format!("{sec}.{sub}.Endpoint is missing; re-create the machine"),
            })?;
        Endpoint::parse(ep)
    }

    pub fn efi_store(dirs: &Dirs, name: &str) -> PathBuf {
        dirs.data.join(format!("efi-bl-{name}"))
    }

    pub fn spec(&self, dirs: &Dirs, mc: &MachineConfig, first_boot: bool) -> Result<Spec> {
        Ok(Spec {
            kind: self.kind,
            cpus: mc.resources.cpus,
            memory_mib: mc.resources.memory,
            efi_store: Self::efi_store(dirs, &mc.name),
            disk: mc.image_path.path.clone(),
            ready_socket: dirs.ready_socket(&mc.name),
            serial_log: dirs.serial_log(&mc.name),
            gvproxy_socket: runtime_file(dirs, &mc.name, "-gvproxy.sock"),
            shares: mc
                .mounts
                .iter()
                .map(|m| (m.source.clone(), m.tag.clone()))
                .collect(),
            rest: self.endpoint(mc)?,
            ignition_socket: first_boot
                .then(|| dirs.data.join(format!("{}-ignition.sock", mc.name))),
            rosetta: mc.rosetta,
        })
    }

    fn vm_pid_file(dirs: &Dirs, name: &str) -> PathBuf {
        dirs.pid_file(name)
    }
    fn gvproxy_pid_file(dirs: &Dirs, name: &str) -> PathBuf {
        runtime_file(dirs, name, "-gvproxy.pid")
    }

    fn stop_gvproxy(dirs: &Dirs, name: &str) {
        let pf = Self::gvproxy_pid_file(dirs, name);
        if let Some(pid) = read_pid(&pf) {
            terminate(pid, Duration::from_secs(5));
        }
        crate::remove_quiet(&pf);
        crate::remove_quiet(&runtime_file(dirs, name, "-gvproxy.sock"));
    }

    fn kill_vm_process(dirs: &Dirs, name: &str) {
        let pf = Self::vm_pid_file(dirs, name);
        if let Some(pid) = read_pid(&pf) {
            terminate(pid, Duration::from_secs(5));
        }
        crate::remove_quiet(&pf);
    }

    fn wait_state(
        ep: &Endpoint,
        timeout: Duration,
        done: impl Fn(Option<VfState>) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(vfkit_rest::get_state(ep).unwrap_or(None)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn read_pid(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&p| p > 0)
}

/// Whether `pid` still runs. A child of ours that exited stays a zombie until reaped, so
/// reap it first (a VM started by this same process, as in `start` then `stop`).
#[cfg(unix)]
fn alive(pid: i32) -> bool {
    // SAFETY: waitpid with WNOHANG on a single pid; ECHILD when it is not our child.
    let r = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
    if r == pid {
        return false;
    }
    // SAFETY: signal 0 only probes.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[cfg(unix)]
fn terminate(pid: i32, grace: Duration) {
    if !alive(pid) {
        return;
    }
    // SAFETY: kill(2) with a pid read from our own pid file.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && alive(pid) {
        std::thread::sleep(Duration::from_millis(100));
    }
    if alive(pid) {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = alive(pid);
    }
}

#[cfg(not(unix))]
fn terminate(_pid: i32, _grace: Duration) {}

/// A free localhost TCP port for the REST endpoint (krunkit only takes tcp).
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .ctx(|| "cannot find a free localhost port".into())?;
    Ok(l.local_addr().ctx(|| "local_addr".into())?.port())
}

/// The endpoint a new machine gets: vfkit listens on an owner-only unix socket (a localhost
/// TCP port would let any local user stop the VM); krunkit's REST server only speaks TCP.
fn new_endpoint(kind: Kind, dirs: &Dirs, name: &str) -> Result<Endpoint> {
    let sock = runtime_file(dirs, name, "-vfkit.sock");
    Ok(match kind {
        // macOS caps unix socket paths at 104 bytes; a deep $TMPDIR falls back to TCP.
        Kind::Vfkit if sock.as_os_str().len() < 104 => Endpoint::Unix(sock),
        Kind::Vfkit => Endpoint::Tcp {
            host: "localhost".into(),
            port: free_port()?,
        },
        Kind::Krunkit => Endpoint::Tcp {
            host: "localhost".into(),
            port: free_port()?,
        },
    })
}

/// Convert the image to raw next to it (Apple's framework boots raw disks only).
fn raw_disk_cmd(src: &Path, dst: &Path) -> Cmd {
    Cmd::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(src)
        .arg(dst)
}

impl Provider for Apple {
    fn vm_type(&self) -> VmType {
        self.kind.vm_type()
    }

    fn disk_format(&self) -> DiskFormat {
        DiskFormat::Raw
    }

    fn oci_disk_type(&self) -> &'static str {
        "applehv"
    }

    fn supports(&self, p: Provisioner) -> bool {
        p == Provisioner::Ignition
    }

    fn exclusive(&self) -> bool {
        true
    }

    fn check_host(&self) -> Result<()> {
        if !cfg!(target_os = "macos") {
            return Err(Error::Provider(format!(
                "the {} provider runs on macOS only; use CONTAINERS_MACHINE_PROVIDER=qemu here",
                self.kind.vm_type()
            )));
        }
        if self.kind == Kind::Krunkit && std::env::consts::ARCH != "aarch64" {
            return Err(Error::Provider(
                "the libkrun provider needs an Apple silicon (arm64) Mac".into(),
            ));
        }
        self.program(self.kind.binary())?;
        self.program("gvproxy")?;
        Ok(())
    }

    fn create(&self, dirs: &Dirs, mc: &mut MachineConfig) -> Result<()> {
        let img = mc.image_path.path.clone();
        if img.extension().and_then(|e| e.to_str()) != Some("raw") {
            let raw = img.with_extension("raw");
            let tmp = img.with_extension("raw.partial");
            self.runner.check(
                &raw_disk_cmd(&img, &tmp),
                "converting the image to a raw disk",
            )?;
            std::fs::rename(&tmp, &raw).ctx(path_ctx("rename into", &raw))?;
            crate::remove_quiet(&img);
            mc.image_path.path = raw;
        }
        self.resize_disk(mc, mc.resources.disk_size)?;
        let ep = new_endpoint(self.kind, dirs, &mc.name)?;
        let (sec, sub) = self.kind.config_keys();
        mc.extra.insert(
            sec.to_string(),
            json!({ sub: { "Endpoint": ep.config_form() } }),
        );
        mc.provider_files.push(Self::efi_store(dirs, &mc.name));
        Ok(())
    }

    fn start(&self, dirs: &Dirs, mc: &MachineConfig, opts: &StartOptions) -> Result<()> {
        #[cfg(unix)]
        {
            self.start_unix(dirs, mc, opts)
        }
        #[cfg(not(unix))]
        {
            let _ = (dirs, mc, opts);
            Err(Error::Provider(format!(
                "the {} provider runs on macOS only",
                self.kind.vm_type()
            )))
        }
    }

    fn state(&self, _dirs: &Dirs, mc: &MachineConfig) -> Result<VmState> {
        Ok(match vfkit_rest::get_state(&self.endpoint(mc)?)? {
            None | Some(VfState::Stopped) => VmState::Stopped,
            Some(VfState::Running) | Some(VfState::Stopping) => VmState::Running,
            Some(VfState::Starting) => VmState::Starting,
            Some(VfState::Paused) => VmState::Paused,
            Some(VfState::Error) => {
                return Err(Error::Provider(format!(
                    "{} reports machine {} in error state",
                    self.kind.binary(),
                    mc.name
                )))
            }
        })
    }

    fn stop(&self, dirs: &Dirs, mc: &MachineConfig, timeout: Duration) -> Result<()> {
        let ep = self.endpoint(mc)?;
        let gone = |s: Option<VfState>| matches!(s, None | Some(VfState::Stopped));
        if !gone(vfkit_rest::get_state(&ep)?) {
            vfkit_rest::set_state(&ep, "Stop")?;
            if !Self::wait_state(&ep, timeout, gone) {
                tracing::warn!("machine {} did not power off; hard stop", mc.name);
                let _ = vfkit_rest::set_state(&ep, "HardStop");
                Self::wait_state(&ep, Duration::from_secs(10), gone);
            }
        }
        Self::kill_vm_process(dirs, &mc.name);
        Self::stop_gvproxy(dirs, &mc.name);
        Ok(())
    }

    fn kill(&self, dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
        if let Ok(ep) = self.endpoint(mc) {
            let _ = vfkit_rest::set_state(&ep, "HardStop");
        }
        Self::kill_vm_process(dirs, &mc.name);
        Self::stop_gvproxy(dirs, &mc.name);
        Ok(())
    }

    fn resize_disk(&self, mc: &MachineConfig, gib: u64) -> Result<()> {
        let disk = &mc.image_path.path;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(disk)
            .ctx(path_ctx("open", disk))?;
        let cur = f.metadata().ctx(path_ctx("stat", disk))?.len();
        let want = gib * 1024 * 1024 * 1024;
        if want < cur {
            return Err(Error::Invalid(format!(
                "new disk size must be larger than the current disk size: {} GiB",
                cur.div_ceil(1024 * 1024 * 1024)
            )));
        }
        // A raw disk grows by extending the (sparse) file, as podman does with truncate.
        f.set_len(want).ctx(path_ctx("resize", disk))
    }

    fn log_file(&self, dirs: &Dirs, mc: &MachineConfig) -> Option<PathBuf> {
        Some(dirs.serial_log(&mc.name))
    }
}

#[cfg(unix)]
impl Apple {
    fn start_unix(&self, dirs: &Dirs, mc: &MachineConfig, opts: &StartOptions) -> Result<()> {
        use std::os::unix::net::UnixListener;
        let vm_bin = self.program(self.kind.binary())?;
        let gv_bin = self.program("gvproxy")?;
        if !mc.image_path.path.is_file() {
            return Err(Error::Image {
                image: mc.image_path.path.display().to_string(),
                reason: "the machine's disk is missing; remove the machine and init it again"
                    .into(),
            });
        }
        dirs.ensure()?;
        let ignition = match &opts.provision {
            ProvisionDelivery::Ignition(p) => {
                let raw = std::fs::read(p).ctx(path_ctx("read", p))?;
                Some(super::ignpatch::with_units(
                    &raw,
                    &super::ignpatch::vsock_ready_unit(READY_PORT, ""),
                    &[],
                )?)
            }
            ProvisionDelivery::NoCloud(_) => {
                return Err(Error::Provider(format!(
                    "the {} provider boots Ignition images only",
                    self.kind.vm_type()
                )))
            }
            ProvisionDelivery::None => None,
        };
        let spec = self.spec(dirs, mc, ignition.is_some())?;
        for p in [&spec.ready_socket, &spec.gvproxy_socket] {
            crate::remove_quiet(p);
        }
        if let Endpoint::Unix(p) = &spec.rest {
            crate::remove_quiet(p);
        }
        crate::remove_quiet(&spec.serial_log);

        let gv = Cmd::new(&gv_bin).args(gvproxy_argv(
            mc.ssh.port,
            &spec.gvproxy_socket,
            &Self::gvproxy_pid_file(dirs, &mc.name),
            &runtime_file(dirs, &mc.name, "-gvproxy.log"),
        ));
        let mut gv_child = self
            .runner
            .spawn(&gv, None)
            .ctx(|| format!("cannot run {}", gv_bin.display()))?;
        let deadline = Instant::now() + Duration::from_secs(3);
        while !spec.gvproxy_socket.exists() {
            if Instant::now() > deadline || gv_child.try_wait().ok().flatten().is_some() {
                let _ = gv_child.kill();
                return Err(Error::Provider(format!(
                    "gvproxy did not create {}; see {}",
                    spec.gvproxy_socket.display(),
                    runtime_file(dirs, &mc.name, "-gvproxy.log").display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }

        let ready = UnixListener::bind(&spec.ready_socket)
            .ctx(path_ctx("listen on", &spec.ready_socket))?;
        let ign_server = match (&spec.ignition_socket, ignition) {
            (Some(sock), Some(content)) => Some(IgnitionServer::start(sock, content)?),
            _ => None,
        };
        let vm = Cmd::new(&vm_bin).args(argv(&spec)?);
        tracing::debug!("{}", vm.display());
        let vm_log = runtime_file(dirs, &mc.name, &format!("-{}.log", self.kind.binary()));
        let mut child = self
            .runner
            .spawn(&vm, Some(&vm_log))
            .ctx(|| format!("cannot run {}", vm_bin.display()))?;
        crate::write_atomic(
            &Self::vm_pid_file(dirs, &mc.name),
            format!("{}\n", child.id()).as_bytes(),
            0o600,
        )?;
        let r = wait_ready(&ready, child.as_mut(), opts.ready_timeout);
        drop(ign_server);
        crate::remove_quiet(&spec.ready_socket);
        if let Err(e) = r {
            let _ = child.kill();
            let _ = gv_child.kill();
            crate::remove_quiet(&Self::vm_pid_file(dirs, &mc.name));
            let tail = super::qemu::log_tail(&vm_log, 10);
            return Err(Error::Provider(format!(
                "machine {} did not become ready: {e}{}",
                mc.name,
                if tail.is_empty() {
                    String::new()
                } else {
                    format!("\n{tail}")
                }
            )));
        }
        Ok(())
    }
}

/// Wait for the guest to connect to the ready socket and say `Ready`, watching the VM process
/// so an early exit fails at once instead of at the timeout.
#[cfg(unix)]
fn wait_ready(
    l: &std::os::unix::net::UnixListener,
    child: &mut dyn Child,
    timeout: Duration,
) -> std::result::Result<(), String> {
    use std::io::Read;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    loop {
        match l.accept() {
            Ok((mut c, _)) => {
                c.set_nonblocking(false).map_err(|e| e.to_string())?;
                c.set_read_timeout(Some(Duration::from_secs(5)))
                    .map_err(|e| e.to_string())?;
                let mut b = Vec::new();
                let _ = c.read_to_end(&mut b);
                if String::from_utf8_lossy(&b).contains("Ready") {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.to_string()),
        }
        if let Ok(Some(code)) = child.try_wait() {
            return Err(format!("the VM process exited (status {code})"));
        }
        if Instant::now() >= deadline {
            return Err(format!("no ready signal within {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Serves the Ignition config over HTTP on a unix socket (vfkit bridges guest vsock port 1024
/// to it) until dropped: Ignition's applehv platform fetches it with a plain GET.
#[cfg(unix)]
pub struct IgnitionServer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    path: PathBuf,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[cfg(unix)]
impl IgnitionServer {
    pub fn start(path: &Path, content: Vec<u8>) -> Result<IgnitionServer> {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        crate::remove_quiet(path);
        let l = std::os::unix::net::UnixListener::bind(path).ctx(path_ctx("listen on", path))?;
        crate::set_mode(path, 0o600)?;
        l.set_nonblocking(true).ctx(path_ctx("configure", path))?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            while !s2.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        let _ = c.set_nonblocking(false);
                        let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                        let mut head = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match c.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            content.len()
                        );
                        let _ = c.write_all(resp.as_bytes());
                        let _ = c.write_all(&content);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        Ok(IgnitionServer {
            stop,
            path: path.to_path_buf(),
            thread: Some(thread),
        })
    }
}

#[cfg(unix)]
impl Drop for IgnitionServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        crate::remove_quiet(&self.path);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn spec(kind: Kind, first_boot: bool) -> Spec {
        Spec {
            kind,
            cpus: 4,
            memory_mib: 4096,
            efi_store: "/d/efi-bl-m".into(),
            disk: "/d/m-arm64.raw".into(),
            ready_socket: "/r/m.sock".into(),
            serial_log: "/r/m.log".into(),
            gvproxy_socket: "/r/m-gvproxy.sock".into(),
            shares: vec![("/Users".into(), "a1b2".into())],
            rest: Endpoint::Unix("/r/m-vfkit.sock".into()),
            ignition_socket: first_boot.then(|| "/d/m-ignition.sock".into()),
            rosetta: false,
        }
    }

    #[test]
    fn vfkit_command_line_is_podmans() {
        let a = argv(&spec(Kind::Vfkit, true)).unwrap();
        assert_eq!(
            a,
            [
                "--cpus",
                "4",
                "--memory",
                "4096",
                "--bootloader",
                "efi,variable-store=/d/efi-bl-m,create",
                "--device",
                "virtio-blk,path=/d/m-arm64.raw",
                "--device",
                "virtio-rng",
                "--device",
                "virtio-vsock,port=1025,socketURL=/r/m.sock,listen",
                "--device",
                "virtio-serial,logFilePath=/r/m.log",
                "--device",
                "virtio-net,unixSocketPath=/r/m-gvproxy.sock,mac=5a:94:ef:e4:0c:ee",
                "--device",
                "virtio-fs,sharedDir=/Users,mountTag=a1b2",
                "--restful-uri",
                "unix:///r/m-vfkit.sock",
                "--device",
                "virtio-vsock,port=1024,socketURL=/d/m-ignition.sock,listen",
            ]
        );
    }

    #[test]
    fn later_boots_have_no_ignition_device_and_rosetta_is_vfkit_only() {
        let mut s = spec(Kind::Vfkit, false);
        s.rosetta = true;
        let a = argv(&s).unwrap();
        assert!(!a.iter().any(|x| x.contains("port=1024")));
        assert!(a.contains(&"rosetta,mountTag=rosetta,install".to_string()));
    }

    #[test]
    fn commas_in_paths_are_refused() {
        let mut s = spec(Kind::Vfkit, false);
        s.shares = vec![("/Users/a,b".into(), "t".into())];
        let e = argv(&s).unwrap_err().to_string();
        assert!(e.contains("\"/Users/a,b\" contains a comma"), "{e}");
    }

    #[test]
    fn gvproxy_command_line() {
        assert_eq!(
            gvproxy_argv(
                2222,
                Path::new("/r/m-gvproxy.sock"),
                Path::new("/r/m-gvproxy.pid"),
                Path::new("/r/m-gvproxy.log")
            ),
            [
                "-mtu",
                "1500",
                "-ssh-port",
                "2222",
                "-listen-vfkit",
                "unixgram:///r/m-gvproxy.sock",
                "-pid-file",
                "/r/m-gvproxy.pid",
                "-log-file",
                "/r/m-gvproxy.log"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn ignition_is_served_over_http_on_the_socket() {
        use std::io::{Read, Write};
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("m-ignition.sock");
        let srv = IgnitionServer::start(&sock, br#"{"ignition":{}}"#.to_vec()).unwrap();
        for _ in 0..2 {
            let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
            c.write_all(b"GET /config HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            c.read_to_string(&mut out).unwrap();
            assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
            assert!(out.ends_with("\r\n\r\n{\"ignition\":{}}"), "{out}");
        }
        drop(srv);
        assert!(!sock.exists());
    }

    /// Stands in for gvproxy: binds the vfkit datagram socket, writes its pid file, waits.
    const FAKE_GVPROXY: &str = r#"#!/usr/bin/env python3
import os, socket, sys, time
a = sys.argv[1:]
sock = a[a.index("-listen-vfkit") + 1][len("unixgram://"):]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
open(a[a.index("-pid-file") + 1], "w").write(str(os.getpid()))
while True:
    time.sleep(1)
"#;

    /// Stands in for vfkit, speaking the host side of its protocols as vfkit does when the
    /// guest boots: fetches Ignition over the `port=1024` socket with HTTP GET, writes Ready
    /// to the `port=1025` socket, serves `/vm/state` on the REST socket and exits on Stop.
    const FAKE_VFKIT: &str = r#"#!/usr/bin/env python3
import json, os, socket, socketserver, sys, threading
from http.server import BaseHTTPRequestHandler
a = sys.argv[1:]
out = os.environ["FAKE_OUT"]
json.dump(a, open(os.path.join(out, "argv.json"), "w"))
dev = {}
for i, x in enumerate(a):
    if x == "--device":
        d = a[i + 1]
        if d.startswith("virtio-vsock,"):
            kv = dict(p.split("=", 1) for p in d.split(",")[1:] if "=" in p)
            dev[kv["port"]] = kv["socketURL"]
rest = a[a.index("--restful-uri") + 1]
state = {"s": "VirtualMachineStateRunning"}
class H(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_GET(self):
        body = json.dumps({"state": state["s"], "canStop": True}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        open(os.path.join(out, "post.json"), "w").write(json.dumps(req))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        if req["state"] in ("Stop", "HardStop"):
            threading.Timer(0.3, lambda: os._exit(0)).start()
if rest.startswith("unix://"):
    class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer): pass
    srv = S(rest[len("unix://"):], H)
else:
    host, port = rest[len("tcp://"):].rsplit(":", 1)
    class S(socketserver.ThreadingMixIn, socketserver.TCPServer): allow_reuse_address = True
    srv = S(("127.0.0.1", int(port)), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
if "1024" in dev:
    c = socket.socket(socket.AF_UNIX); c.connect(dev["1024"])
    c.sendall(b"GET /config HTTP/1.1\r\nHost: d\r\n\r\n")
    data = b""
    while True:
        b = c.recv(65536)
        if not b: break
        data += b
    open(os.path.join(out, "ignition.json"), "wb").write(data.split(b"\r\n\r\n", 1)[1])
c = socket.socket(socket.AF_UNIX); c.connect(dev["1025"]); c.sendall(b"Ready\n"); c.close()
threading.Event().wait()
"#;

    /// The system runner with the simulated programs' output directory in their environment
    /// (set per command, not process-wide: tests run in parallel).
    #[cfg(unix)]
    struct EnvRunner(PathBuf);

    #[cfg(unix)]
    impl Runner for EnvRunner {
        fn run(&self, cmd: &Cmd) -> std::io::Result<super::super::runner::Output> {
            super::super::runner::System.run(&cmd.clone().env("FAKE_OUT", &self.0))
        }
        fn spawn(&self, cmd: &Cmd, log: Option<&Path>) -> std::io::Result<Box<dyn Child>> {
            super::super::runner::System.spawn(&cmd.clone().env("FAKE_OUT", &self.0), log)
        }
    }

    #[cfg(unix)]
    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[cfg(unix)]
    #[test]
    fn lifecycle_against_a_simulated_vfkit() {
        lifecycle(Kind::Vfkit);
    }

    #[cfg(unix)]
    #[test]
    fn lifecycle_against_a_simulated_krunkit() {
        lifecycle(Kind::Krunkit);
    }

    #[cfg(unix)]
    fn lifecycle(kind: Kind) {
        use crate::config::{HostUser, Mount, PathRef, Resources, SshConfig};
        if crate::find_program("python3").is_none() {
            eprintln!("python3 missing: the simulated vfkit cannot run");
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let dirs = Dirs {
            config: d.path().join("c"),
            data: d.path().join("d"),
            global_data: d.path().join("g"),
            runtime: d.path().join("r"),
        };
        dirs.ensure().unwrap();
        let disk = dirs.data.join("m-arm64.raw");
        std::fs::write(&disk, b"").unwrap();
        let ign = dirs.config.join("m.ign");
        std::fs::write(
            &ign,
            br#"{"ignition":{"version":"3.2.0"},"systemd":{"units":[{"name":"ready.service","enabled":true,"contents":"vport1p1"}]}}"#,
        )
        .unwrap();
        let mut mc = MachineConfig {
            config_path: PathRef::new(dirs.config.join("m.json")),
            created: chrono::Utc::now(),
            host_user: HostUser::default(),
            last_up: chrono::Utc::now(),
            mounts: vec![Mount {
                original_input: "/Users:/Users".into(),
                read_only: false,
                source: "/Users".into(),
                tag: "a1b2".into(),
                target: "/Users".into(),
                kind: "virtiofs".into(),
            }],
            name: "m".into(),
            resources: Resources {
                cpus: 2,
                disk_size: 1,
                memory: 1024,
                usbs: vec![],
            },
            ssh: SshConfig {
                identity_path: "/k".into(),
                port: 2222,
                remote_username: "core".into(),
            },
            version: 1,
            swap: 0,
            image_path: PathRef::new(&disk),
            qemu: None,
            starting: false,
            rosetta: false,
            vm_type: VmType::Applehv,
            provisioner: Provisioner::Ignition,
            ignition_path: PathRef::new(&ign),
            user_ignition: false,
            known_hosts_path: PathRef::default(),
            timezone: String::new(),
            image_source: String::new(),
            provider_files: vec![],
            extra: Default::default(),
        };
        let p = Apple::with_programs(
            kind,
            Arc::new(EnvRunner(out.clone())),
            script(d.path(), "vfkit", FAKE_VFKIT),
            script(d.path(), "gvproxy", FAKE_GVPROXY),
        );
        p.create(&dirs, &mut mc).unwrap();
        assert_eq!(std::fs::metadata(&disk).unwrap().len(), 1 << 30);
        let ep = p.endpoint(&mc).unwrap();
        match kind {
            Kind::Vfkit => assert_eq!(
                mc.extra["AppleHypervisor"]["Vfkit"]["Endpoint"],
                format!("unix://{}", dirs.runtime.join("m-vfkit.sock").display())
            ),
            Kind::Krunkit => {
                assert!(matches!(ep, Endpoint::Tcp { .. }), "{ep:?}");
                assert!(mc.extra["LibKrunHypervisor"]["KRun"]["Endpoint"]
                    .as_str()
                    .unwrap()
                    .starts_with("http://localhost:"));
            }
        }
        assert_eq!(p.state(&dirs, &mc).unwrap(), VmState::Stopped);

        let opts = StartOptions {
            provision: ProvisionDelivery::Ignition(ign.clone()),
            ready_timeout: Duration::from_secs(30),
        };
        p.start(&dirs, &mc, &opts).unwrap();
        let argv_seen: Vec<String> =
            serde_json::from_slice(&std::fs::read(out.join("argv.json")).unwrap()).unwrap();
        assert_eq!(argv_seen, argv(&p.spec(&dirs, &mc, true).unwrap()).unwrap());
        let served: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("ignition.json")).unwrap()).unwrap();
        let ready = served["systemd"]["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == "ready.service")
            .unwrap();
        assert!(ready["contents"]
            .as_str()
            .unwrap()
            .contains("VSOCK-CONNECT:2:1025"));
        assert!(
            !dirs.data.join("m-ignition.sock").exists(),
            "ignition socket left behind"
        );
        assert_eq!(p.state(&dirs, &mc).unwrap(), VmState::Running);
        let gv_pid = read_pid(&Apple::gvproxy_pid_file(&dirs, "m")).unwrap();

        p.stop(&dirs, &mc, Duration::from_secs(20)).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("post.json")).unwrap(),
            r#"{"state": "Stop"}"#
        );
        assert_eq!(p.state(&dirs, &mc).unwrap(), VmState::Stopped);
        assert!(!Apple::vm_pid_file(&dirs, "m").exists());
        assert!(!alive(gv_pid), "gvproxy still running");
    }
}
