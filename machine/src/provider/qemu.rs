//! QEMU: q35 (x86_64) or virt (aarch64) with UEFI firmware, a QMP socket, a pid file, the
//! serial console kept in a log, podman's virtio-serial ready port, user-mode networking with a
//! host port forwarded to the guest's sshd, Ignition through fw_cfg or a NoCloud seed, and
//! `--volume` shares (virtiofs when virtiofsd exists, 9p otherwise).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{DiskFormat, Provider, ProvisionDelivery, StartOptions, VmState, VmType};
use crate::config::{MachineConfig, Mount, Provisioner, QemuHypervisor, QmpMonitor};
use crate::dirs::Dirs;
use crate::{path_ctx, Error, IoContext, Result};

/// Overrides the accelerator: `kvm`, `hvf`, `tcg` or `auto` (the default).
pub const ACCEL_ENV: &str = "PODMAN_REMOTE_MACHINE_ACCEL";
/// Overrides the QEMU binary (path or name).
pub const QEMU_ENV: &str = "PODMAN_REMOTE_QEMU";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Hvf,
    Tcg,
}

impl Accel {
    pub fn parse(s: &str) -> Option<Option<Accel>> {
        Some(match s.to_ascii_lowercase().as_str() {
            "" | "auto" => None,
            "kvm" => Some(Accel::Kvm),
            "hvf" => Some(Accel::Hvf),
            "tcg" => Some(Accel::Tcg),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firmware {
    pub code: PathBuf,
    /// Template of the variable store, copied per machine.
    pub vars: Option<PathBuf>,
}

/// Everything one QEMU command line is made of; [`argv`] turns it into arguments.
#[derive(Debug, Clone)]
pub struct VmSpec {
    pub name: String,
    pub arch: String,
    pub cpus: u32,
    pub memory_mib: u64,
    pub accel: Accel,
    pub firmware: Option<Firmware>,
    pub efi_vars: Option<PathBuf>,
    pub disk: PathBuf,
    pub disk_format: DiskFormat,
    pub ssh_port: u16,
    pub qmp: PathBuf,
    pub ready: PathBuf,
    pub pid_file: PathBuf,
    pub serial_log: PathBuf,
    pub provision: ProvisionDelivery,
    /// (mount, virtiofsd socket when shared by virtiofs).
    pub mounts: Vec<(Mount, Option<PathBuf>)>,
    pub daemonize: bool,
}

/// The QEMU arguments (without the program) for a spec. Pure, so it is unit tested.
pub fn argv(s: &VmSpec) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |xs: &[&str]| a.extend(xs.iter().map(|x| x.to_string()));
    push(&["-name", &s.name]);
    let machine = if s.arch == "aarch64" {
        "virt,highmem=on"
    } else {
        "q35"
    };
    let shared_mem = s.mounts.iter().any(|(_, sock)| sock.is_some());
    let machine = if shared_mem {
        format!("{machine},memory-backend=mem")
    } else {
        machine.to_string()
    };
    push(&["-machine", &machine]);
    match s.accel {
        Accel::Kvm => push(&["-accel", "kvm", "-cpu", "host"]),
        Accel::Hvf => push(&["-accel", "hvf", "-cpu", "host"]),
        Accel::Tcg if s.arch == "aarch64" => push(&["-accel", "tcg", "-cpu", "max"]),
        // The default qemu64 model lacks x86-64-v2 instructions some distributions need.
        Accel::Tcg => push(&["-accel", "tcg,thread=multi", "-cpu", "max"]),
    }
    let mem = s.memory_mib.to_string();
    if shared_mem {
        // virtiofsd maps guest memory, which must be shareable.
        push(&[
            "-object",
            &format!("memory-backend-memfd,id=mem,size={mem}M,share=on"),
        ]);
    }
    push(&["-m", &mem, "-smp", &s.cpus.to_string()]);
    if let Some(fw) = &s.firmware {
        push(&[
            "-drive",
            &format!(
                "if=pflash,format=raw,unit=0,readonly=on,file={}",
                fw.code.display()
            ),
        ]);
        if let Some(v) = &s.efi_vars {
            push(&[
                "-drive",
                &format!("if=pflash,format=raw,unit=1,file={}", v.display()),
            ]);
        }
    }
    push(&[
        "-drive",
        &format!(
            "if=virtio,format={},file={}",
            s.disk_format.ext(),
            s.disk.display()
        ),
    ]);
    match &s.provision {
        ProvisionDelivery::Ignition(p) => push(&[
            "-fw_cfg",
            &format!("name=opt/com.coreos/config,file={}", p.display()),
        ]),
        ProvisionDelivery::NoCloud(dir) => push(&[
            "-drive",
            &format!(
                "if=virtio,format=raw,readonly=on,file.driver=vvfat,file.dir={},file.label=cidata",
                dir.display()
            ),
        ]),
        ProvisionDelivery::None => {}
    }
    push(&[
        "-qmp",
        &format!("unix:{},server=on,wait=off", s.qmp.display()),
    ]);
    push(&[
        "-netdev",
        &format!("user,id=net0,hostfwd=tcp:127.0.0.1:{}-:22", s.ssh_port),
        "-device",
        "virtio-net-pci,netdev=net0,mac=5a:94:ef:e4:0c:ee",
    ]);
    let chardev = format!("a{}_ready", s.name);
    push(&[
        "-device",
        "virtio-serial",
        "-chardev",
        &format!(
            "socket,path={},server=on,wait=off,id={chardev}",
            s.ready.display()
        ),
        "-device",
        &format!("virtserialport,chardev={chardev},name=org.fedoraproject.port.0"),
    ]);
    for (i, (m, sock)) in s.mounts.iter().enumerate() {
        match sock {
            Some(sock) => push(&[
                "-chardev",
                &format!("socket,id=vfs{i},path={}", sock.display()),
                "-device",
                &format!(
                    "vhost-user-fs-pci,queue-size=1024,chardev=vfs{i},tag={}",
                    m.tag
                ),
            ]),
            None => push(&[
                "-virtfs",
                &format!(
                    "local,path={},mount_tag={},security_model=none{}",
                    m.source,
                    m.tag,
                    if m.read_only { ",readonly=on" } else { "" }
                ),
            ]),
        }
    }
    push(&[
        "-pidfile",
        &s.pid_file.display().to_string(),
        "-serial",
        &format!("file:{}", s.serial_log.display()),
        "-display",
        "none",
        "-vga",
        "none",
    ]);
    if s.daemonize {
        push(&["-daemonize"]);
    }
    a
}

pub struct Qemu {
    binary: String,
    accel_override: Option<Accel>,
}

impl Qemu {
    pub fn from_env() -> Result<Qemu> {
        let binary = std::env::var(QEMU_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("qemu-system-{}", super::qemu_arch()));
        let accel_override = match std::env::var(ACCEL_ENV) {
            Ok(v) => Accel::parse(&v).ok_or_else(|| {
                Error::Invalid(format!("{ACCEL_ENV}={v:?}: expected kvm, hvf, tcg or auto"))
            })?,
            Err(_) => None,
        };
        Ok(Qemu {
            binary,
            accel_override,
        })
    }

    fn binary_path(&self) -> Result<PathBuf> {
        crate::find_program(&self.binary).ok_or_else(|| Error::MissingProgram {
            program: self.binary.clone(),
            hint: package_hint("qemu"),
        })
    }

    fn qemu_img() -> Result<PathBuf> {
        crate::find_program("qemu-img").ok_or_else(|| Error::MissingProgram {
            program: "qemu-img".into(),
            hint: package_hint("qemu-img"),
        })
    }

    /// The accelerator for this boot: the override, else KVM/HVF when a probe shows it really
    /// runs guest code, else TCG.
    pub fn accel(&self, dirs: &Dirs) -> Accel {
        if let Some(a) = self.accel_override {
            return a;
        }
        if cfg!(target_os = "macos") {
            return Accel::Hvf;
        }
        if cfg!(target_os = "linux") && kvm_usable(&self.binary, dirs) {
            return Accel::Kvm;
        }
        Accel::Tcg
    }

    fn spec(&self, dirs: &Dirs, mc: &MachineConfig, opts: &StartOptions) -> Result<VmSpec> {
        let arch = super::qemu_arch().to_string();
        let firmware = find_firmware(&arch);
        if firmware.is_none() {
            return Err(Error::MissingProgram {
                program: "UEFI firmware".into(),
                hint: package_hint(if arch == "aarch64" { "aavmf" } else { "ovmf" }),
            });
        }
        let efi_vars = mc
            .provider_files
            .iter()
            .find(|p| p.to_string_lossy().ends_with("_efivars.fd"))
            .cloned();
        let mounts = mc
            .mounts
            .iter()
            .map(|m| {
                let sock = (m.kind == "virtiofs").then(|| {
                    dirs.runtime
                        .join(format!("{}-{}-virtiofs.sock", mc.name, m.tag))
                });
                (m.clone(), sock)
            })
            .collect();
        Ok(VmSpec {
            name: mc.name.clone(),
            arch,
            cpus: mc.resources.cpus,
            memory_mib: mc.resources.memory,
            accel: self.accel(dirs),
            firmware,
            efi_vars,
            disk: mc.image_path.path.clone(),
            disk_format: disk_format_of(&mc.image_path.path),
            ssh_port: mc.ssh.port,
            qmp: dirs.qmp_socket(&mc.name),
            ready: dirs.ready_socket(&mc.name),
            pid_file: dirs.pid_file(&mc.name),
            serial_log: dirs.serial_log(&mc.name),
            provision: opts.provision.clone(),
            mounts,
            daemonize: true,
        })
    }

    fn cleanup_runtime(dirs: &Dirs, name: &str) {
        crate::remove_quiet(&dirs.qmp_socket(name));
        crate::remove_quiet(&dirs.ready_socket(name));
        crate::remove_quiet(&dirs.pid_file(name));
    }
}

fn disk_format_of(p: &Path) -> DiskFormat {
    match p.extension().and_then(|e| e.to_str()) {
        Some("raw") | Some("img") => DiskFormat::Raw,
        _ => DiskFormat::Qcow2,
    }
}

/// Where to get a missing program, per distribution.
pub fn package_hint(what: &str) -> String {
    let (deb, rpm, brew) = match what {
        "qemu" => (
            format!(
                "qemu-system-{}",
                if super::qemu_arch() == "aarch64" {
                    "arm"
                } else {
                    "x86"
                }
            ),
            "qemu-kvm",
            "qemu",
        ),
        "qemu-img" => ("qemu-utils".to_string(), "qemu-img", "qemu"),
        "ovmf" => ("ovmf".to_string(), "edk2-ovmf", "qemu"),
        "aavmf" => ("qemu-efi-aarch64".to_string(), "edk2-aarch64", "qemu"),
        other => (other.to_string(), other, other),
    };
    format!(
        "install the {deb} package (Debian/Ubuntu: apt-get install {deb}; Fedora: dnf install \
         {rpm}; macOS: brew install {brew}), or point {QEMU_ENV} at the QEMU binary"
    )
}

/// UEFI firmware in the places distributions install it.
pub fn find_firmware(arch: &str) -> Option<Firmware> {
    let candidates: &[(&str, Option<&str>)] = if arch == "aarch64" {
        &[
            (
                "/usr/share/AAVMF/AAVMF_CODE.fd",
                Some("/usr/share/AAVMF/AAVMF_VARS.fd"),
            ),
            (
                "/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw",
                Some("/usr/share/edk2/aarch64/vars-template-pflash.raw"),
            ),
            ("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd", None),
            (
                "/opt/homebrew/share/qemu/edk2-aarch64-code.fd",
                Some("/opt/homebrew/share/qemu/edk2-arm-vars.fd"),
            ),
        ]
    } else {
        &[
            (
                "/usr/share/OVMF/OVMF_CODE_4M.fd",
                Some("/usr/share/OVMF/OVMF_VARS_4M.fd"),
            ),
            (
                "/usr/share/OVMF/OVMF_CODE.fd",
                Some("/usr/share/OVMF/OVMF_VARS.fd"),
            ),
            (
                "/usr/share/edk2/ovmf/OVMF_CODE.fd",
                Some("/usr/share/edk2/ovmf/OVMF_VARS.fd"),
            ),
            (
                "/usr/share/edk2-ovmf/x64/OVMF_CODE.fd",
                Some("/usr/share/edk2-ovmf/x64/OVMF_VARS.fd"),
            ),
            (
                "/usr/share/qemu/ovmf-x86_64-code.bin",
                Some("/usr/share/qemu/ovmf-x86_64-vars.bin"),
            ),
            (
                "/usr/local/share/qemu/edk2-x86_64-code.fd",
                Some("/usr/local/share/qemu/edk2-i386-vars.fd"),
            ),
            (
                "/opt/homebrew/share/qemu/edk2-x86_64-code.fd",
                Some("/opt/homebrew/share/qemu/edk2-i386-vars.fd"),
            ),
        ]
    };
    if let Ok(code) = std::env::var("PODMAN_REMOTE_MACHINE_FIRMWARE") {
        return Some(Firmware {
            code: PathBuf::from(code),
            vars: std::env::var("PODMAN_REMOTE_MACHINE_FIRMWARE_VARS")
                .ok()
                .map(PathBuf::from),
        });
    }
    candidates.iter().find_map(|(c, v)| {
        Path::new(c).is_file().then(|| Firmware {
            code: PathBuf::from(c),
            vars: v.map(PathBuf::from).filter(|p| p.is_file()),
        })
    })
}

/// A boot sector that writes "OK" to QEMU's debug console port (0xe9) and halts: enough to see
/// that a vCPU under KVM runs guest code rather than aborting or hanging.
fn probe_boot_sector() -> [u8; 512] {
    let mut s = [0u8; 512];
    let code: [u8; 12] = [
        0xB0, b'O', 0xE6, 0xE9, // mov al,'O'; out 0xe9,al
        0xB0, b'K', 0xE6, 0xE9, // mov al,'K'; out 0xe9,al
        0xFA, 0xF4, // cli; hlt
        0xEB, 0xFC, // jmp back to hlt
    ];
    s[..code.len()].copy_from_slice(&code);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

/// Whether KVM really runs a guest here. Nested KVM can abort at vCPU setup or hang, so the
/// probe boots a tiny guest under a timeout. The answer is cached for this host boot.
fn kvm_usable(binary: &str, dirs: &Dirs) -> bool {
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_err()
    {
        return false;
    }
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let cache = dirs.runtime.join("kvm-probe");
    if let Ok(c) = std::fs::read_to_string(&cache) {
        if let Some((id, verdict)) = c.trim().rsplit_once(' ') {
            if id == boot_id.trim() {
                return verdict == "ok";
            }
        }
    }
    let ok = run_kvm_probe(binary).unwrap_or(false);
    let _ = std::fs::create_dir_all(&dirs.runtime);
    let _ = std::fs::write(
        &cache,
        format!("{} {}\n", boot_id.trim(), if ok { "ok" } else { "broken" }),
    );
    if !ok {
        tracing::info!("KVM does not run guests here (probe failed); using TCG");
    }
    ok
}

fn run_kvm_probe(binary: &str) -> Result<bool> {
    let dir = tempfile::tempdir().ctx(|| "cannot create a temp dir for the KVM probe".into())?;
    let disk = dir.path().join("boot.img");
    let out = dir.path().join("debugcon");
    std::fs::write(&disk, probe_boot_sector()).ctx(path_ctx("write", &disk))?;
    let mut child = Command::new(binary)
        .args([
            "-accel", "kvm", "-cpu", "host", "-machine", "q35", "-m", "32",
        ])
        .args(["-display", "none", "-nodefaults", "-no-reboot"])
        .arg("-drive")
        .arg(format!("file={},format=raw,if=ide", disk.display()))
        .arg("-debugcon")
        .arg(format!("file:{}", out.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ctx(|| format!("cannot run {binary}"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ok = false;
    while Instant::now() < deadline {
        if std::fs::read(&out).is_ok_and(|b| b.windows(2).any(|w| w == b"OK")) {
            ok = true;
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(ok)
}

/// The pid of this machine's QEMU if it is alive (and really ours: the pid file may be stale
/// and the pid reused).
fn live_pid(dirs: &Dirs, name: &str) -> Option<i32> {
    let pidf = dirs.pid_file(name);
    let pid: i32 = std::fs::read_to_string(&pidf).ok()?.trim().parse().ok()?;
    if pid <= 0 || !process_alive(pid) {
        return None;
    }
    #[cfg(target_os = "linux")]
    {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let qmp = dirs.qmp_socket(name);
        let needle = qmp.to_string_lossy();
        if !String::from_utf8_lossy(&cmdline).contains(needle.as_ref()) {
            return None;
        }
    }
    Some(pid)
}

#[cfg(unix)]
fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    if r != 0 {
        return false;
    }
    // A zombie (exited child not yet reaped) is not a running VM.
    #[cfg(target_os = "linux")]
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        if let Some(rest) = stat.rsplit_once(')') {
            if rest.1.trim_start().starts_with('Z') {
                return false;
            }
        }
    }
    true
}

#[cfg(not(unix))]
fn process_alive(_pid: i32) -> bool {
    false
}

#[cfg(unix)]
fn kill_pid(pid: i32) {
    // SAFETY: plain kill(2) on a pid we verified to be our QEMU.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_pid(_pid: i32) {}

fn wait_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    !process_alive(pid)
}

/// The last lines of the serial console, for error messages.
pub fn log_tail(p: &Path, lines: usize) -> String {
    let Ok(b) = std::fs::read(p) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&b);
    let v: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

/// The virtiofsd binary, if installed (Debian/Fedora put it in libexec).
fn find_virtiofsd() -> Option<PathBuf> {
    crate::find_program("virtiofsd").or_else(|| {
        ["/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    })
}

/// The mount type `init` records for a volume on this host.
pub fn share_type() -> &'static str {
    if find_virtiofsd().is_some() {
        "virtiofs"
    } else {
        "9p"
    }
}

impl Provider for Qemu {
    fn vm_type(&self) -> VmType {
        VmType::Qemu
    }

    fn disk_format(&self) -> DiskFormat {
        DiskFormat::Qcow2
    }

    fn oci_disk_type(&self) -> &'static str {
        "qemu"
    }

    fn supports(&self, _p: Provisioner) -> bool {
        true
    }

    fn check_host(&self) -> Result<()> {
        self.binary_path()?;
        Self::qemu_img()?;
        Ok(())
    }

    fn create(&self, dirs: &Dirs, mc: &mut MachineConfig) -> Result<()> {
        self.resize_disk(mc, mc.resources.disk_size)?;
        if let Some(fw) = find_firmware(super::qemu_arch()) {
            if let Some(tmpl) = fw.vars {
                let vars = dirs.data.join(format!("{}_efivars.fd", mc.name));
                let b = std::fs::read(&tmpl).ctx(path_ctx("read", &tmpl))?;
                crate::write_atomic(&vars, &b, 0o600)?;
                mc.provider_files.push(vars);
            }
        }
        mc.qemu = Some(QemuHypervisor {
            qmp_monitor: QmpMonitor {
                address: crate::config::PathRef::new(dirs.qmp_socket(&mc.name)),
                network: "unix".into(),
                timeout: 2_000_000_000,
            },
            pid_path: crate::config::PathRef::new(dirs.pid_file(&mc.name)),
        });
        Ok(())
    }

    fn start(&self, dirs: &Dirs, mc: &MachineConfig, opts: &StartOptions) -> Result<()> {
        let bin = self.binary_path()?;
        if !mc.image_path.path.is_file() {
            return Err(Error::Image {
                image: mc.image_path.path.display().to_string(),
                reason: "the machine's disk is missing; remove the machine and init it again"
                    .into(),
            });
        }
        dirs.ensure()?;
        Self::cleanup_runtime(dirs, &mc.name);
        let spec = self.spec(dirs, mc, opts)?;
        crate::remove_quiet(&spec.serial_log);
        let mut virtiofsd = Vec::new();
        for (m, sock) in &spec.mounts {
            if let Some(sock) = sock {
                virtiofsd.push(spawn_virtiofsd(dirs, &mc.name, m, sock)?);
            }
        }
        tracing::debug!("{} {}", bin.display(), argv(&spec).join(" "));
        let started = Instant::now();
        let mut cmd = Command::new(&bin);
        cmd.args(argv(&spec)).stdin(Stdio::null());
        // Its own process group: the terminal's Ctrl-C is for `start`, which rolls back,
        // not for a QEMU halfway through daemonizing (it would leave an orphan behind).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let out = cmd
            .output()
            .ctx(|| format!("cannot run {}", bin.display()))?;
        if !out.status.success() {
            let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let hint =
                if msg.contains("hostfwd") || msg.contains("Could not set up host forwarding") {
                    format!(
                        " (port {} is in use; another VM or program holds it)",
                        mc.ssh.port
                    )
                } else if msg.contains("write\" lock") {
                    " (the disk is in use by another QEMU)".to_string()
                } else {
                    String::new()
                };
            return Err(Error::Provider(format!(
                "QEMU failed to start machine {}{hint}: {msg}",
                mc.name
            )));
        }
        wait_ready(dirs, mc, started, opts.ready_timeout)
    }

    fn state(&self, dirs: &Dirs, mc: &MachineConfig) -> Result<VmState> {
        if live_pid(dirs, &mc.name).is_none() {
            return Ok(VmState::Stopped);
        }
        #[cfg(unix)]
        {
            let sock = dirs.qmp_socket(&mc.name);
            let st = crate::qmp::connect(&sock, Duration::from_secs(2)).and_then(|s| {
                let mut q = crate::qmp::Qmp::handshake(&s, &sock)?;
                q.status()
            });
            Ok(match st {
                Ok((true, _)) => VmState::Running,
                Ok((false, s)) if s == "prelaunch" || s == "inmigrate" => VmState::Starting,
                Ok((false, _)) => VmState::Paused,
                // Alive but its monitor does not answer (yet): booting QEMU or busy monitor.
                Err(e) => {
                    tracing::debug!("{e}");
                    VmState::Starting
                }
            })
        }
        #[cfg(not(unix))]
        Ok(VmState::Running)
    }

    fn stop(&self, dirs: &Dirs, mc: &MachineConfig, timeout: Duration) -> Result<()> {
        let Some(pid) = live_pid(dirs, &mc.name) else {
            Self::cleanup_runtime(dirs, &mc.name);
            return Ok(());
        };
        #[cfg(unix)]
        {
            let sock = dirs.qmp_socket(&mc.name);
            let asked = crate::qmp::connect(&sock, Duration::from_secs(5)).and_then(|s| {
                let mut q = crate::qmp::Qmp::handshake(&s, &sock)?;
                q.system_powerdown()
            });
            if let Err(e) = asked {
                tracing::warn!("could not ask machine {} to power off: {e}", mc.name);
            }
        }
        if !wait_gone(pid, timeout) {
            tracing::warn!(
                "machine {} did not power off within {} s; killing it",
                mc.name,
                timeout.as_secs()
            );
            kill_pid(pid);
            wait_gone(pid, Duration::from_secs(10));
        }
        stop_virtiofsd(dirs, &mc.name);
        Self::cleanup_runtime(dirs, &mc.name);
        Ok(())
    }

    fn kill(&self, dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
        if let Some(pid) = live_pid(dirs, &mc.name) {
            kill_pid(pid);
            if !wait_gone(pid, Duration::from_secs(10)) {
                return Err(Error::Provider(format!(
                    "QEMU (pid {pid}) of machine {} does not exit",
                    mc.name
                )));
            }
        }
        stop_virtiofsd(dirs, &mc.name);
        Self::cleanup_runtime(dirs, &mc.name);
        Ok(())
    }

    fn resize_disk(&self, mc: &MachineConfig, gib: u64) -> Result<()> {
        let disk = &mc.image_path.path;
        let current = virtual_size(disk)?;
        let want = gib * 1024 * 1024 * 1024;
        if want < current {
            return Err(Error::Invalid(format!(
                "new disk size must be larger than the current disk size: {} GiB",
                current.div_ceil(1024 * 1024 * 1024)
            )));
        }
        if want == current {
            return Ok(());
        }
        let want = want.to_string();
        let out = run_qemu_img(
            &["resize", "-f", disk_format_of(disk).ext()],
            disk,
            &[&want],
        )?;
        if !out.status.success() {
            return Err(Error::Provider(format!(
                "qemu-img resize {}: {}",
                disk.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    fn log_file(&self, dirs: &Dirs, mc: &MachineConfig) -> Option<PathBuf> {
        Some(dirs.serial_log(&mc.name))
    }
}

/// `qemu-img ARGS DISK EXTRA`; the caller reads the status (failures differ in meaning).
fn run_qemu_img(args: &[&str], disk: &Path, extra: &[&str]) -> Result<std::process::Output> {
    let img = Qemu::qemu_img()?;
    Command::new(&img)
        .args(args)
        .arg(disk)
        .args(extra)
        .output()
        .ctx(|| format!("cannot run {}", img.display()))
}

/// `qemu-img info` as JSON; `-U` so a disk a running VM holds can be read too. A failure
/// becomes an image error prefixed by `failed`.
fn image_info(disk: &Path, failed: &str) -> Result<serde_json::Value> {
    let out = run_qemu_img(&["info", "--output=json", "-U"], disk, &[])?;
    let image = || disk.display().to_string();
    if !out.status.success() {
        return Err(Error::Image {
            image: image(),
            reason: format!("{failed}{}", String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    serde_json::from_slice(&out.stdout).map_err(|e| Error::Image {
        image: image(),
        reason: format!("unreadable qemu-img info: {e}"),
    })
}

/// The disk's virtual size in bytes (`qemu-img info`).
pub fn virtual_size(disk: &Path) -> Result<u64> {
    let v = image_info(disk, "")?;
    v["virtual-size"].as_u64().ok_or_else(|| Error::Image {
        image: disk.display().to_string(),
        reason: "qemu-img info has no virtual-size".into(),
    })
}

/// Check an image file is a disk QEMU can open, and tell its format.
pub fn probe_image(disk: &Path) -> Result<DiskFormat> {
    let v = image_info(disk, "not a disk image QEMU can use: ")?;
    match v["format"].as_str() {
        Some("qcow2") => {
            // A truncated or corrupted qcow2 still has a header; `check` reads the metadata.
            let chk = run_qemu_img(&["check", "-U", "-q"], disk, &[])?;
            if !chk.status.success() {
                return Err(Error::Image {
                    image: disk.display().to_string(),
                    reason: format!(
                        "corrupted qcow2 image: {}",
                        String::from_utf8_lossy(&chk.stderr).trim()
                    ),
                });
            }
            Ok(DiskFormat::Qcow2)
        }
        Some("raw") => {
            // Raw has no header; demand a partition table or a filesystem in the first MiB.
            let mut f = std::fs::File::open(disk).ctx(path_ctx("open", disk))?;
            let mut head = vec![0u8; 2048];
            let n = f.read(&mut head).ctx(path_ctx("read", disk))?;
            let mbr = n >= 512 && head[510] == 0x55 && head[511] == 0xAA;
            let ext = n >= 1082 && head[1080] == 0x53 && head[1081] == 0xEF;
            if !mbr && !ext {
                return Err(Error::Image {
                    image: disk.display().to_string(),
                    reason: "no partition table or file system: not a bootable disk image".into(),
                });
            }
            Ok(DiskFormat::Raw)
        }
        Some(other) => Err(Error::Image {
            image: disk.display().to_string(),
            reason: format!("unsupported disk format {other} (qcow2 or raw expected)"),
        }),
        None => Err(Error::Image {
            image: disk.display().to_string(),
            reason: "qemu-img could not tell the format".into(),
        }),
    }
}

fn wait_ready(dirs: &Dirs, mc: &MachineConfig, started: Instant, timeout: Duration) -> Result<()> {
    let log = dirs.serial_log(&mc.name);
    let deadline = started + timeout;
    let died = || {
        Error::Provider(format!(
            "machine {} stopped while booting; serial console ({}):\n{}",
            mc.name,
            log.display(),
            log_tail(&log, 15)
        ))
    };
    loop {
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "machine {} did not report ready within {} s; serial console ({}):\n{}",
                mc.name,
                timeout.as_secs(),
                log.display(),
                log_tail(&log, 15)
            )));
        }
        if live_pid(dirs, &mc.name).is_none() && started.elapsed() > Duration::from_secs(1) {
            return Err(died());
        }
        #[cfg(unix)]
        {
            use std::io::{BufRead, BufReader};
            if let Ok(s) = std::os::unix::net::UnixStream::connect(dirs.ready_socket(&mc.name)) {
                // Read in short slices so a VM that dies or hangs is noticed.
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut r = BufReader::new(s);
                let mut line = String::new();
                loop {
                    match r.read_line(&mut line) {
                        Ok(0) => break,
                        Ok(_) if line.contains("Ready") => return Ok(()),
                        Ok(_) => line.clear(),
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => break,
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                    if live_pid(dirs, &mc.name).is_none() {
                        return Err(died());
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn_virtiofsd(dirs: &Dirs, name: &str, m: &Mount, sock: &Path) -> Result<u32> {
    let bin = find_virtiofsd().ok_or_else(|| Error::MissingProgram {
        program: "virtiofsd".into(),
        hint: "install the virtiofsd package".into(),
    })?;
    crate::remove_quiet(sock);
    let mut cmd = Command::new(&bin);
    if bin.starts_with("/usr/lib/qemu") {
        // QEMU's older C virtiofsd (Debian 12) takes FUSE-style options; read-only is then
        // enforced by the guest's mount options.
        cmd.arg(format!("--socket-path={}", sock.display()))
            .arg("-o")
            .arg(format!("source={}", m.source))
            .args(["-o", "cache=auto", "-o", "sandbox=chroot"]);
    } else {
        cmd.arg("--socket-path")
            .arg(sock)
            .arg("--shared-dir")
            .arg(&m.source)
            .args(["--sandbox", "none", "--cache", "auto"])
            .args(if m.read_only {
                vec!["--readonly"]
            } else {
                vec![]
            });
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ctx(|| format!("cannot run {}", bin.display()))?;
    let pid = child.id();
    let pidf = dirs.runtime.join(format!("{name}-{}-virtiofsd.pid", m.tag));
    std::fs::write(&pidf, pid.to_string()).ctx(path_ctx("write", &pidf))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sock.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(pid)
}

fn stop_virtiofsd(dirs: &Dirs, name: &str) {
    let Ok(rd) = std::fs::read_dir(&dirs.runtime) else {
        return;
    };
    let prefix = format!("{name}-");
    for e in rd.flatten() {
        let f = e.file_name().to_string_lossy().to_string();
        if f.starts_with(&prefix) && f.ends_with("-virtiofsd.pid") {
            if let Ok(pid) = std::fs::read_to_string(e.path()) {
                if let Ok(pid) = pid.trim().parse::<i32>() {
                    if process_alive(pid) {
                        kill_pid(pid);
                    }
                }
            }
            crate::remove_quiet(&e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VmSpec {
        VmSpec {
            name: "m1".into(),
            arch: "x86_64".into(),
            cpus: 2,
            memory_mib: 2048,
            accel: Accel::Tcg,
            firmware: Some(Firmware {
                code: "/fw/CODE.fd".into(),
                vars: None,
            }),
            efi_vars: Some("/d/m1_efivars.fd".into()),
            disk: "/d/m1-amd64.qcow2".into(),
            disk_format: DiskFormat::Qcow2,
            ssh_port: 40022,
            qmp: "/r/qmp_m1.sock".into(),
            ready: "/r/m1.sock".into(),
            pid_file: "/r/m1_vm.pid".into(),
            serial_log: "/r/m1.log".into(),
            provision: ProvisionDelivery::Ignition("/c/m1.ign".into()),
            mounts: vec![],
            daemonize: true,
        }
    }

    fn after<'a>(a: &'a [String], flag: &str) -> Vec<&'a str> {
        a.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn argv_has_podmans_devices_and_our_plumbing() {
        let a = argv(&spec());
        assert_eq!(after(&a, "-machine"), ["q35"]);
        assert_eq!(after(&a, "-accel"), ["tcg,thread=multi"]);
        assert_eq!(after(&a, "-m"), ["2048"]);
        assert_eq!(after(&a, "-smp"), ["2"]);
        assert_eq!(
            after(&a, "-fw_cfg"),
            ["name=opt/com.coreos/config,file=/c/m1.ign"]
        );
        assert_eq!(
            after(&a, "-qmp"),
            ["unix:/r/qmp_m1.sock,server=on,wait=off"]
        );
        assert_eq!(
            after(&a, "-netdev"),
            ["user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22"]
        );
        assert_eq!(
            after(&a, "-chardev"),
            ["socket,path=/r/m1.sock,server=on,wait=off,id=am1_ready"]
        );
        assert!(after(&a, "-device")
            .contains(&"virtserialport,chardev=am1_ready,name=org.fedoraproject.port.0"));
        assert_eq!(after(&a, "-pidfile"), ["/r/m1_vm.pid"]);
        assert_eq!(after(&a, "-serial"), ["file:/r/m1.log"]);
        assert_eq!(
            after(&a, "-drive"),
            [
                "if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd",
                "if=pflash,format=raw,unit=1,file=/d/m1_efivars.fd",
                "if=virtio,format=qcow2,file=/d/m1-amd64.qcow2"
            ]
        );
        assert_eq!(a.last().unwrap(), "-daemonize");
        assert!(!a.iter().any(|x| x.contains("memory-backend")));
    }

    #[test]
    fn kvm_and_aarch64_and_nocloud() {
        let mut s = spec();
        s.accel = Accel::Kvm;
        s.arch = "aarch64".into();
        s.provision = ProvisionDelivery::NoCloud("/d/seed".into());
        let a = argv(&s);
        assert_eq!(after(&a, "-accel"), ["kvm"]);
        assert_eq!(after(&a, "-cpu"), ["host"]);
        assert_eq!(after(&a, "-machine"), ["virt,highmem=on"]);
        assert!(after(&a, "-drive").contains(
            &"if=virtio,format=raw,readonly=on,file.driver=vvfat,file.dir=/d/seed,file.label=cidata"
        ));
        assert!(after(&a, "-fw_cfg").is_empty());
    }

    #[test]
    fn mounts_use_virtiofs_with_shared_memory_or_9p() {
        let mut s = spec();
        let m = |tag: &str, kind: &str, ro: bool| Mount {
            original_input: "/src:/dst".into(),
            read_only: ro,
            source: "/src".into(),
            tag: tag.into(),
            target: "/dst".into(),
            kind: kind.into(),
        };
        s.mounts = vec![
            (
                m("t1", "virtiofs", false),
                Some("/r/m1-t1-virtiofs.sock".into()),
            ),
            (m("t2", "9p", true), None),
        ];
        let a = argv(&s);
        assert_eq!(after(&a, "-machine"), ["q35,memory-backend=mem"]);
        assert_eq!(
            after(&a, "-object"),
            ["memory-backend-memfd,id=mem,size=2048M,share=on"]
        );
        assert!(
            after(&a, "-device").contains(&"vhost-user-fs-pci,queue-size=1024,chardev=vfs0,tag=t1")
        );
        assert_eq!(
            after(&a, "-virtfs"),
            ["local,path=/src,mount_tag=t2,security_model=none,readonly=on"]
        );
    }

    #[test]
    fn accel_override_values() {
        assert_eq!(Accel::parse("TCG"), Some(Some(Accel::Tcg)));
        assert_eq!(Accel::parse("auto"), Some(None));
        assert_eq!(Accel::parse("kvm"), Some(Some(Accel::Kvm)));
        assert_eq!(Accel::parse("xen"), None);
    }

    #[test]
    fn probe_sector_is_bootable() {
        let s = probe_boot_sector();
        assert_eq!(&s[510..], &[0x55, 0xAA]);
        assert_eq!(&s[..4], &[0xB0, b'O', 0xE6, 0xE9]);
    }

    #[test]
    fn missing_qemu_names_the_package() {
        let h = package_hint("qemu");
        assert!(h.contains("apt-get install qemu-system-"), "{h}");
        assert!(h.contains(QEMU_ENV));
    }
}
