//! Hyper-V: the image converted to a dynamic VHDX with `qemu-img`, a Generation 2 VM made
//! and driven with the Hyper-V PowerShell cmdlets, Ignition pushed as KVP items
//! (`ignition.config.N`, 990-byte pieces as libhvee cuts them), networking by gvproxy over
//! hvsock (`-listen vsock://<service GUID>`, SSH forwarded to `127.0.0.1:<port>`) and
//! readiness as a `Ready` written by the guest to an hvsock service the host listens on.
//!
//! Every cmdlet call goes through [`super::powershell::Script`]: fixed script text, values in
//! the environment (podman CVE-2026-33414 was a script built from names and paths).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::powershell::Script;
use super::runner::{Cmd, Runner};
use super::{DiskFormat, Provider, ProvisionDelivery, StartOptions, VmState, VmType};
use crate::config::{MachineConfig, Provisioner};
use crate::dirs::Dirs;
use crate::{path_ctx, Error, IoContext, Result};

/// The suffix of hvsock service GUIDs for Linux guests (`<port as %08X>-FACB-…`).
pub const LINUX_VM_GUID_SUFFIX: &str = "FACB-11E6-BD58-64006A7986D3";
/// Largest KVP value Hyper-V passes to a Linux guest in practice (libhvee's limit).
pub const KVP_CHUNK: usize = 990;

pub fn service_guid(port: u32) -> String {
    format!("{port:08X}-{LINUX_VM_GUID_SUFFIX}")
}

/// Who we are: elevated, or in the Hyper-V Administrators group (S-1-5-32-578).
pub const PRIVILEGES: &str = r#"$p = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
$admin = $p.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
$hv = $p.IsInRole([Security.Principal.SecurityIdentifier]'S-1-5-32-578')
$mod = [bool](Get-Command -Name New-VM -ErrorAction SilentlyContinue)
@{ admin = $admin; hyperv_admin = $hv; module = $mod } | ConvertTo-Json -Compress"#;

/// Finds podman's hvsock registry entries of a purpose, or creates one with a random unused
/// port (needs elevation). Prints the port.
pub const HVSOCK_ENTRY: &str = r#"$base = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices'
$purpose = $env:PODMAN_PS_PURPOSE
foreach ($k in Get-ChildItem -Path $base) {
  $v = Get-ItemProperty -Path $k.PSPath
  if ($v.ToolName -eq 'podman' -and $v.Purpose -eq $purpose) {
    [Convert]::ToUInt32($k.PSChildName.Substring(0, 8), 16)
    return
  }
}
if ($env:PODMAN_PS_CREATE -ne 'true') { throw "no podman hvsock registry entry for $purpose" }
do {
  $port = Get-Random -Minimum 1024 -Maximum 2147483647
  $name = ('{0:X8}-FACB-11E6-BD58-64006A7986D3' -f $port)
} while (Test-Path -LiteralPath (Join-Path $base $name))
$key = New-Item -Path $base -Name $name
New-ItemProperty -LiteralPath $key.PSPath -Name ElementName -Value ('podman ' + $purpose) -PropertyType String | Out-Null
New-ItemProperty -LiteralPath $key.PSPath -Name Purpose -Value $purpose -PropertyType String | Out-Null
New-ItemProperty -LiteralPath $key.PSPath -Name ToolName -Value 'podman' -PropertyType String | Out-Null
if ($env:PODMAN_PS_KEEP -eq 'true') {
  New-ItemProperty -LiteralPath $key.PSPath -Name KeepAfterMachineRemove -Value 1 -PropertyType DWord | Out-Null
}
$port"#;

pub const CREATE_VM: &str = r#"$name = $env:PODMAN_PS_NAME
New-VM -Name $name -Generation 2 -MemoryStartupBytes ([int64]$env:PODMAN_PS_MEMORY_MIB * 1MB) -VHDPath $env:PODMAN_PS_VHDX | Out-Null
Set-VMProcessor -VMName $name -Count ([int]$env:PODMAN_PS_CPUS)
Set-VMMemory -VMName $name -DynamicMemoryEnabled $false
Set-VMFirmware -VMName $name -EnableSecureBoot Off
Set-VM -Name $name -AutomaticCheckpointsEnabled $false -AutomaticStopAction ShutDown -Notes 'podman machine'"#;

pub const RESIZE_VHD: &str =
    "Resize-VHD -Path $env:PODMAN_PS_VHDX -SizeBytes ([uint64]$env:PODMAN_PS_SIZE_BYTES)";

/// Replaces the VM's host-to-guest KVP items with the Ignition file cut in pieces. WMI is
/// the only interface for KVP; the VM is matched by comparing names, never by a WQL filter
/// built from one.
pub const PUSH_IGNITION: &str = r#"$ns = 'root\virtualization\v2'
$svc = Get-WmiObject -Namespace $ns -Class Msvm_VirtualSystemManagementService
$vm = Get-WmiObject -Namespace $ns -Class Msvm_ComputerSystem | Where-Object { $_.ElementName -eq $env:PODMAN_PS_NAME }
if (-not $vm) { throw "no Hyper-V VM named $env:PODMAN_PS_NAME" }
$data = [IO.File]::ReadAllText($env:PODMAN_PS_IGNITION)
$size = [int]$env:PODMAN_PS_CHUNK
function Wait-Job($r) {
  if ($r.ReturnValue -eq 4096) {
    $job = [wmi]$r.Job
    while ($job.JobState -lt 7) { Start-Sleep -Milliseconds 100; $job = [wmi]$r.Job }
    if ($job.JobState -ne 7) { throw $job.ErrorDescription }
  } elseif ($r.ReturnValue -ne 0) { throw "KVP update failed: $($r.ReturnValue)" }
}
$class = [wmiclass]"\\.\root\virtualization\v2:Msvm_KvpExchangeDataItem"
for ($i = 0; $i * $size -lt $data.Length; $i++) {
  $item = $class.CreateInstance()
  $item.Name = 'ignition.config.' + $i
  $item.Data = $data.Substring($i * $size, [Math]::Min($size, $data.Length - $i * $size))
  $item.Source = 0
  $text = $item.PSBase.GetText(1)
  $r = $svc.RemoveKvpItems($vm, @($text))
  if ($r.ReturnValue -eq 4096) { Wait-Job $r }
  Wait-Job ($svc.AddKvpItems($vm, @($text)))
}"#;

pub const START_VM: &str = "Start-VM -Name $env:PODMAN_PS_NAME";
/// Graceful shutdown through the guest's shutdown integration service.
pub const STOP_VM: &str = "Stop-VM -Name $env:PODMAN_PS_NAME -Force";
pub const KILL_VM: &str = "Stop-VM -Name $env:PODMAN_PS_NAME -TurnOff -Force";
pub const REMOVE_VM: &str = r#"if (Get-VM -Name $env:PODMAN_PS_NAME -ErrorAction SilentlyContinue) { Remove-VM -Name $env:PODMAN_PS_NAME -Force }"#;
pub const VM_STATE: &str = r#"$vm = Get-VM -Name $env:PODMAN_PS_NAME -ErrorAction SilentlyContinue
if ($vm) { $vm.State.ToString() } else { 'Missing' }"#;

/// Hyper-V VM states to ours.
pub fn map_state(s: &str) -> Result<VmState> {
    Ok(match s.trim() {
        "Running" | "Stopping" | "Saving" | "Pausing" | "Resuming" => VmState::Running,
        "Off" | "Saved" | "Missing" => VmState::Stopped,
        "Starting" | "Reset" => VmState::Starting,
        "Paused" => VmState::Paused,
        other => {
            return Err(Error::Provider(format!(
                "Hyper-V reports an unexpected VM state {other:?}"
            )))
        }
    })
}

pub struct HyperV {
    runner: Arc<dyn Runner>,
    ps: Option<String>,
    gvproxy: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privileges {
    pub admin: bool,
    pub hyperv_admin: bool,
    pub module: bool,
}

/// The message for a user who may not manage Hyper-V VMs.
pub const NOT_ELEVATED: &str = "Hyper-V machines need an administrator terminal or membership \
in the 'Hyper-V Administrators' group. Run `podman-remote system hyperv-prep` once in an \
administrator terminal (it registers the hvsock services and adds you to that group), sign out \
and in again, or run this command as administrator";

impl HyperV {
    pub fn new(runner: Arc<dyn Runner>) -> HyperV {
        HyperV {
            runner,
            ps: None,
            gvproxy: None,
        }
    }

    /// Use this gvproxy.exe instead of searching for one.
    pub fn with_gvproxy(mut self, p: impl Into<PathBuf>) -> HyperV {
        self.gvproxy = Some(p.into());
        self
    }

    pub fn with_powershell(runner: Arc<dyn Runner>, exe: &str) -> HyperV {
        HyperV {
            runner,
            ps: Some(exe.to_string()),
            gvproxy: None,
        }
    }

    fn ps(&self) -> Result<String> {
        self.ps
            .clone()
            .or_else(super::powershell::find_exe)
            .ok_or_else(|| Error::MissingProgram {
                program: "powershell.exe".into(),
                hint: "Windows PowerShell ships with Windows; check that System32 is intact".into(),
            })
    }

    /// Run a fixed script; its trimmed stdout.
    pub fn run(&self, s: &Script, what: &str) -> Result<String> {
        let cmd = s.command(&self.ps()?)?;
        Ok(self
            .runner
            .check(&cmd, what)?
            .stdout_text()
            .trim()
            .to_string())
    }

    pub fn privileges(&self) -> Result<Privileges> {
        let out = self.run(&Script::new(PRIVILEGES), "checking Hyper-V privileges")?;
        let v: Value = serde_json::from_str(&out).map_err(|e| {
            Error::Provider(format!(
                "unexpected answer to the privilege check ({e}): {out}"
            ))
        })?;
        Ok(Privileges {
            admin: v["admin"].as_bool().unwrap_or(false),
            hyperv_admin: v["hyperv_admin"].as_bool().unwrap_or(false),
            module: v["module"].as_bool().unwrap_or(false),
        })
    }

    fn require_privileges(&self) -> Result<Privileges> {
        let p = self.privileges()?;
        if !p.module {
            return Err(Error::Provider(
                "the Hyper-V PowerShell module is missing: enable the feature with \
                 `Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All` \
                 in an administrator terminal and reboot"
                    .into(),
            ));
        }
        if !p.admin && !p.hyperv_admin {
            return Err(Error::Provider(NOT_ELEVATED.into()));
        }
        Ok(p)
    }

    /// The hvsock port registered for `purpose` (`Network`, `Events`), created if `create`.
    pub fn hvsock_port(&self, purpose: &str, create: bool, keep: bool) -> Result<u32> {
        let out = self.run(
            &Script::new(HVSOCK_ENTRY)
                .param("PURPOSE", purpose)
                .param("CREATE", create.to_string())
                .param("KEEP", keep.to_string()),
            &format!("registering the {purpose} hvsock service"),
        )?;
        out.lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| Error::Provider(format!("unexpected hvsock port answer: {out}")))
    }

    pub fn vhdx_cmd(src: &Path, dst: &Path) -> Cmd {
        Cmd::new("qemu-img")
            .args(["convert", "-O", "vhdx", "-o", "subformat=dynamic"])
            .arg(src)
            .arg(dst)
    }

    fn ports(mc: &MachineConfig) -> Result<(u32, u32)> {
        let h = mc.extra.get("HyperVHypervisor");
        let port = |k: &str| {
            h.and_then(|v| v[k]["port"].as_u64())
                .map(|p| p as u32)
                .ok_or_else(|| Error::Config {
                    path: mc.config_path.path.display().to_string(),
                    reason: format!("HyperVHypervisor.{k} is missing; re-create the machine"),
                })
        };
        Ok((port("ReadyVsock")?, port("NetworkVSock")?))
    }

    fn gvproxy_pid_file(dirs: &Dirs, name: &str) -> PathBuf {
        dirs.runtime.join(format!("{name}-gvproxy.pid"))
    }

    pub fn gvproxy_argv(ssh_port: u16, net_port: u32, pid: &Path, log: &Path) -> Vec<String> {
        vec![
            "-mtu".into(),
            "1500".into(),
            "-ssh-port".into(),
            ssh_port.to_string(),
            "-listen".into(),
            format!("vsock://{}", service_guid(net_port)),
            "-pid-file".into(),
            pid.display().to_string(),
            "-log-file".into(),
            log.display().to_string(),
        ]
    }

    /// The guest units Hyper-V needs: ready over hvsock, and gvforwarder bringing up the
    /// `vsock0` NIC that gvproxy serves.
    pub fn ignition_units(ready_port: u32, net_port: u32) -> (String, Vec<Value>) {
        let net = format!(
            "[Unit]\nDescription=vsock network for podman machine\nAfter=NetworkManager.service\n\
[Service]\nExecStart=/usr/libexec/podman/gvforwarder -preexisting -iface vsock0 -url vsock://2:{net_port}/connect\n\
ExecStartPost=/usr/bin/nmcli c up vsock0\n[Install]\nWantedBy=multi-user.target\n"
        );
        (
            super::ignpatch::vsock_ready_unit(ready_port, "vsock-network.service"),
            vec![json!({ "name": "vsock-network.service", "enabled": true, "contents": net })],
        )
    }

    fn push_ignition(&self, dirs: &Dirs, mc: &MachineConfig, ign: &Path) -> Result<()> {
        let (ready, net) = Self::ports(mc)?;
        let raw = std::fs::read(ign).ctx(path_ctx("read", ign))?;
        let (unit, extra) = Self::ignition_units(ready, net);
        let patched = super::ignpatch::with_units(&raw, &unit, &extra)?;
        let tmp = dirs.runtime.join(format!("{}-hyperv.ign", mc.name));
        crate::write_atomic(&tmp, &patched, 0o600)?;
        let r = self.run(
            &Script::new(PUSH_IGNITION)
                .param("NAME", mc.name.as_str())
                .param("IGNITION", tmp.display().to_string())
                .param("CHUNK", KVP_CHUNK.to_string()),
            "passing Ignition to the VM over KVP",
        );
        crate::remove_quiet(&tmp);
        r.map(|_| ())
    }
}

impl Provider for HyperV {
    fn vm_type(&self) -> VmType {
        VmType::Hyperv
    }

    fn disk_format(&self) -> DiskFormat {
        DiskFormat::Vhdx
    }

    fn oci_disk_type(&self) -> &'static str {
        "hyperv"
    }

    fn supports(&self, p: Provisioner) -> bool {
        p == Provisioner::Ignition
    }

    fn exclusive(&self) -> bool {
        true
    }

    fn check_host(&self) -> Result<()> {
        if !cfg!(windows) {
            return Err(Error::Provider(
                "the hyperv provider runs on Windows only; use CONTAINERS_MACHINE_PROVIDER=qemu \
                 here"
                    .into(),
            ));
        }
        self.require_privileges()?;
        if super::vfkit::find_helper("gvproxy").is_none()
            && crate::find_program("gvproxy.exe").is_none()
        {
            return Err(Error::MissingProgram {
                program: "gvproxy.exe".into(),
                hint:
                    "install podman for Windows (it ships gvproxy.exe) or put gvproxy.exe on PATH"
                        .into(),
            });
        }
        Ok(())
    }

    fn create(&self, _dirs: &Dirs, mc: &mut MachineConfig) -> Result<()> {
        if !mc.mounts.is_empty() {
            return Err(Error::Invalid(
                "--volume is not supported by the hyperv provider in podman-remote (podman \
                 shares host folders over 9p on hvsock, which is not implemented): create the \
                 machine with `--provider wsl`, where C:\\ is /mnt/c in the machine, or copy \
                 files in with `podman-remote machine cp SRC NAME:DEST`"
                    .into(),
            ));
        }
        let p = self.require_privileges()?;
        let img = mc.image_path.path.clone();
        if img.extension().and_then(|e| e.to_str()) != Some("vhdx") {
            let vhdx = img.with_extension("vhdx");
            let tmp = img.with_extension("partial.vhdx");
            self.runner
                .check(&Self::vhdx_cmd(&img, &tmp), "converting the image to VHDX")?;
            std::fs::rename(&tmp, &vhdx).ctx(path_ctx("rename into", &vhdx))?;
            crate::remove_quiet(&img);
            mc.image_path.path = vhdx;
        }
        let ready = self
            .hvsock_port("Events", p.admin, false)
            .map_err(|e| Error::Provider(format!("{e}\n{NOT_ELEVATED}")))?;
        let net = self
            .hvsock_port("Network", p.admin, false)
            .map_err(|e| Error::Provider(format!("{e}\n{NOT_ELEVATED}")))?;
        let entry = |port: u32, purpose: u32| {
            json!({ "key_name": service_guid(port), "purpose": purpose, "port": port,
                    "machineName": mc.name })
        };
        mc.extra.insert(
            "HyperVHypervisor".into(),
            json!({ "ReadyVsock": entry(ready, 1), "NetworkVSock": entry(net, 0) }),
        );
        self.run(
            &Script::new(CREATE_VM)
                .param("NAME", mc.name.as_str())
                .param("MEMORY_MIB", mc.resources.memory.to_string())
                .param("CPUS", mc.resources.cpus.to_string())
                .param("VHDX", mc.image_path.path.display().to_string()),
            "creating the Hyper-V VM",
        )?;
        self.resize_disk(mc, mc.resources.disk_size)
    }

    fn start(&self, dirs: &Dirs, mc: &MachineConfig, opts: &StartOptions) -> Result<()> {
        let (ready, net) = Self::ports(mc)?;
        dirs.ensure()?;
        match &opts.provision {
            ProvisionDelivery::Ignition(p) => self.push_ignition(dirs, mc, p)?,
            ProvisionDelivery::NoCloud(_) => {
                return Err(Error::Provider(
                    "the hyperv provider boots Ignition images only".into(),
                ))
            }
            ProvisionDelivery::None => {}
        }
        let gv_bin =
            self.gvproxy
                .clone()
                .or_else(find_gvproxy)
                .ok_or_else(|| Error::MissingProgram {
                    program: "gvproxy.exe".into(),
                    hint: "install podman for Windows or put gvproxy.exe on PATH".into(),
                })?;
        let pid = Self::gvproxy_pid_file(dirs, &mc.name);
        let log = dirs.runtime.join(format!("{}-gvproxy.log", mc.name));
        let mut gv = self
            .runner
            .spawn(
                &Cmd::new(&gv_bin).args(Self::gvproxy_argv(mc.ssh.port, net, &pid, &log)),
                None,
            )
            .ctx(|| format!("cannot run {}", gv_bin.display()))?;
        let listener = hvsock::listen(ready).map_err(|e| {
            let _ = gv.kill();
            Error::Provider(format!(
                "cannot listen on hvsock service {}: {e}",
                service_guid(ready)
            ))
        })?;
        if let Err(e) = self.run(
            &Script::new(START_VM).param("NAME", mc.name.as_str()),
            "starting the Hyper-V VM",
        ) {
            let _ = gv.kill();
            return Err(e);
        }
        if let Err(e) = hvsock::wait_ready(listener, opts.ready_timeout) {
            let _ = self.kill(dirs, mc);
            let _ = gv.kill();
            return Err(Error::Provider(format!(
                "machine {} did not become ready: {e}",
                mc.name
            )));
        }
        Ok(())
    }

    fn state(&self, _dirs: &Dirs, mc: &MachineConfig) -> Result<VmState> {
        map_state(&self.run(
            &Script::new(VM_STATE).param("NAME", mc.name.as_str()),
            "reading the Hyper-V VM state",
        )?)
    }

    fn stop(&self, dirs: &Dirs, mc: &MachineConfig, _timeout: Duration) -> Result<()> {
        if self.state(dirs, mc)? != VmState::Stopped {
            if let Err(e) = self.run(
                &Script::new(STOP_VM).param("NAME", mc.name.as_str()),
                "stopping the Hyper-V VM",
            ) {
                tracing::warn!("{e}; turning it off");
                self.kill(dirs, mc)?;
            }
        }
        stop_gvproxy(&Self::gvproxy_pid_file(dirs, &mc.name));
        Ok(())
    }

    fn kill(&self, dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
        self.run(
            &Script::new(KILL_VM).param("NAME", mc.name.as_str()),
            "turning the Hyper-V VM off",
        )?;
        stop_gvproxy(&Self::gvproxy_pid_file(dirs, &mc.name));
        Ok(())
    }

    fn resize_disk(&self, mc: &MachineConfig, gib: u64) -> Result<()> {
        self.run(
            &Script::new(RESIZE_VHD)
                .param("VHDX", mc.image_path.path.display().to_string())
                .param("SIZE_BYTES", (gib * 1024 * 1024 * 1024).to_string()),
            "resizing the VHDX",
        )
        .map(|_| ())
    }

    fn remove(&self, _dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
        self.run(
            &Script::new(REMOVE_VM).param("NAME", mc.name.as_str()),
            "removing the Hyper-V VM",
        )
        .map(|_| ())
    }

    fn log_file(&self, _dirs: &Dirs, _mc: &MachineConfig) -> Option<PathBuf> {
        None
    }
}

/// gvproxy.exe: PATH, then where podman's Windows installer puts its helpers.
pub fn find_gvproxy() -> Option<PathBuf> {
    crate::find_program("gvproxy").or_else(|| {
        let pf = std::env::var_os("ProgramFiles")?;
        let p = Path::new(&pf)
            .join("RedHat")
            .join("Podman")
            .join("gvproxy.exe");
        p.is_file().then_some(p)
    })
}

fn stop_gvproxy(pid_file: &Path) {
    if let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
    {
        // gvproxy exits cleanly on WM_QUIT/Ctrl-Break; taskkill /F is the dependable stop.
        let _ = std::process::Command::new("taskkill")
            .args(["/F", "/PID", &pid.to_string()])
            .output();
    }
    crate::remove_quiet(pid_file);
}

/// The host side of the ready channel: an AF_HYPERV listener on the service GUID of the
/// ready port, accepting from any VM (wildcard VM id).
#[cfg(windows)]
mod hvsock {
    use std::time::{Duration, Instant};
    use windows_sys::core::GUID;
    use windows_sys::Win32::Networking::WinSock::{
        accept, bind, closesocket, listen as ws_listen, recv, select, socket, WSAStartup,
        AF_HYPERV, FD_SET, INVALID_SOCKET, SOCKADDR, SOCKET, SOCK_STREAM, TIMEVAL, WSADATA,
    };
    use windows_sys::Win32::System::Hypervisor::{HV_PROTOCOL_RAW, SOCKADDR_HV};

    pub struct Listener(SOCKET);

    impl Drop for Listener {
        fn drop(&mut self) {
            // SAFETY: closing a socket we own.
            unsafe { closesocket(self.0) };
        }
    }

    pub fn listen(port: u32) -> Result<Listener, String> {
        // SAFETY: plain Winsock calls on locals; every handle is closed by `Listener`.
        unsafe {
            let mut wsa: WSADATA = std::mem::zeroed();
            if WSAStartup(0x0202, &mut wsa) != 0 {
                return Err("WSAStartup failed".into());
            }
            let s = socket(AF_HYPERV as i32, SOCK_STREAM, HV_PROTOCOL_RAW as i32);
            if s == INVALID_SOCKET {
                return Err(std::io::Error::last_os_error().to_string());
            }
            let l = Listener(s);
            let addr = SOCKADDR_HV {
                Family: AF_HYPERV,
                Reserved: 0,
                VmId: GUID::from_u128(0),
                ServiceId: GUID {
                    data1: port,
                    data2: 0xFACB,
                    data3: 0x11E6,
                    data4: [0xBD, 0x58, 0x64, 0x00, 0x6A, 0x79, 0x86, 0xD3],
                },
            };
            if bind(
                l.0,
                &addr as *const SOCKADDR_HV as *const SOCKADDR,
                std::mem::size_of::<SOCKADDR_HV>() as i32,
            ) != 0
                || ws_listen(l.0, 1) != 0
            {
                return Err(std::io::Error::last_os_error().to_string());
            }
            Ok(l)
        }
    }

    pub fn wait_ready(l: Listener, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no ready signal within {} s", timeout.as_secs()));
            }
            // SAFETY: select/accept/recv on our listening socket with stack buffers.
            unsafe {
                let mut set: FD_SET = std::mem::zeroed();
                set.fd_count = 1;
                set.fd_array[0] = l.0;
                let tv = TIMEVAL {
                    tv_sec: left.as_secs().min(1) as i32,
                    tv_usec: 0,
                };
                if select(0, &mut set, std::ptr::null_mut(), std::ptr::null_mut(), &tv) <= 0 {
                    continue;
                }
                let c = accept(l.0, std::ptr::null_mut(), std::ptr::null_mut());
                if c == INVALID_SOCKET {
                    continue;
                }
                let c = Listener(c);
                let mut buf = [0u8; 64];
                let n = recv(c.0, buf.as_mut_ptr(), buf.len() as i32, 0);
                if n > 0 && String::from_utf8_lossy(&buf[..n as usize]).contains("Ready") {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(not(windows))]
mod hvsock {
    use std::time::Duration;

    pub struct Listener;

    pub fn listen(_port: u32) -> Result<Listener, String> {
        Err("hvsock exists on Windows hosts only".into())
    }

    pub fn wait_ready(_l: Listener, _timeout: Duration) -> Result<(), String> {
        Err("hvsock exists on Windows hosts only".into())
    }
}

#[cfg(test)]
mod tests {
    use super::super::powershell::HOSTILE;
    use super::super::runner::{Output, Recorder};
    use super::*;
    use base64::Engine;

    fn decode(cmd: &Cmd) -> String {
        let b64 = cmd.argv().last().unwrap().clone();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let u: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&u).unwrap()
    }

    fn hv(r: &Recorder) -> HyperV {
        HyperV::with_powershell(Arc::new(r.clone()), "powershell.exe")
    }

    /// A machine whose name and disk path are each hostile value in turn (names are
    /// validated upstream, paths are not: a user's home may hold any of these).
    #[test]
    fn every_cmdlet_call_keeps_hostile_values_out_of_the_script() {
        let scripts: &[(&str, &[&str])] = &[
            (CREATE_VM, &["NAME", "MEMORY_MIB", "CPUS", "VHDX"]),
            (RESIZE_VHD, &["VHDX", "SIZE_BYTES"]),
            (PUSH_IGNITION, &["NAME", "IGNITION", "CHUNK"]),
            (START_VM, &["NAME"]),
            (STOP_VM, &["NAME"]),
            (KILL_VM, &["NAME"]),
            (REMOVE_VM, &["NAME"]),
            (VM_STATE, &["NAME"]),
            (HVSOCK_ENTRY, &["PURPOSE", "CREATE", "KEEP"]),
        ];
        for (body, params) in scripts {
            for v in HOSTILE {
                let mut s = Script::new(body);
                for p in *params {
                    s = s.param(p, *v);
                }
                let cmd = s.command("powershell.exe").unwrap();
                let text = decode(&cmd);
                assert!(!text.contains(v), "{v:?} interpolated into {body}");
                assert_eq!(text, Script::new(body).text());
                for p in *params {
                    assert!(body.contains(&format!("$env:PODMAN_PS_{p}")), "{p} unused");
                    assert_eq!(
                        cmd.env_value(&format!("PODMAN_PS_{p}")).as_deref(),
                        Some(*v)
                    );
                }
            }
        }
    }

    #[test]
    fn scripts_never_build_wql_or_invoke_expressions() {
        for body in [
            CREATE_VM,
            RESIZE_VHD,
            PUSH_IGNITION,
            START_VM,
            STOP_VM,
            KILL_VM,
            REMOVE_VM,
            VM_STATE,
            HVSOCK_ENTRY,
            PRIVILEGES,
            super::super::hyperv_prep::LIST_ENTRIES,
            super::super::hyperv_prep::ENSURE_ENTRIES,
            super::super::hyperv_prep::REMOVE_ENTRIES,
            super::super::hyperv_prep::GROUP_MEMBER,
            super::super::hyperv_prep::ADD_TO_GROUP,
            super::super::hyperv_prep::REMOVE_FROM_GROUP,
        ] {
            for bad in [
                "Invoke-Expression",
                "iex ",
                "-Filter",
                "-Query",
                "[scriptblock]::Create",
            ] {
                assert!(!body.contains(bad), "{bad} in {body}");
            }
        }
    }

    #[test]
    fn create_converts_registers_creates_and_resizes() {
        let d = tempfile::tempdir().unwrap();
        let img = d.path().join("O'Brien $(x)").join("m-amd64.qcow2");
        std::fs::create_dir_all(img.parent().unwrap()).unwrap();
        std::fs::write(&img, b"qcow").unwrap();
        let r = Recorder::new();
        r.answer("qemu-img", Output::ok(0, ""));
        // The converter "writes" its output: the recorder cannot, so create it up front.
        std::fs::write(img.with_extension("partial.vhdx"), b"vhdx").unwrap();
        let priv_answer = r#"{"admin":true,"hyperv_admin":false,"module":true}"#;
        // All PowerShell calls go through powershell.exe: answer by decoded script instead.
        let runner = ScriptAnswers {
            inner: r.clone(),
            answers: vec![
                (PRIVILEGES, priv_answer.into()),
                (HVSOCK_ENTRY, "1234\n".into()),
            ],
        };
        let h = HyperV::with_powershell(Arc::new(runner), "powershell.exe");
        let mut mc = test_machine(&img);
        h.create(&Dirs::for_provider(VmType::Hyperv), &mut mc)
            .unwrap();
        assert_eq!(mc.image_path.path, img.with_extension("vhdx"));
        let calls = r.calls();
        let qi = calls
            .iter()
            .find(|c| c.program == Path::new("qemu-img"))
            .unwrap();
        assert_eq!(
            qi.argv(),
            [
                "convert".to_string(),
                "-O".into(),
                "vhdx".into(),
                "-o".into(),
                "subformat=dynamic".into(),
                img.display().to_string(),
                img.with_extension("partial.vhdx").display().to_string()
            ]
        );
        let bodies: Vec<String> = calls
            .iter()
            .filter(|c| c.program == Path::new("powershell.exe"))
            .map(decode)
            .collect();
        assert!(bodies.iter().any(|b| b.ends_with(CREATE_VM)));
        assert!(bodies.last().unwrap().ends_with(RESIZE_VHD));
        let create = calls
            .iter()
            .find(|c| c.program == Path::new("powershell.exe") && decode(c).ends_with(CREATE_VM))
            .unwrap();
        assert_eq!(
            create.env_value("PODMAN_PS_VHDX").unwrap(),
            img.with_extension("vhdx").display().to_string()
        );
        assert_eq!(
            create.env_value("PODMAN_PS_MEMORY_MIB").as_deref(),
            Some("2048")
        );
        assert_eq!(
            mc.extra["HyperVHypervisor"]["ReadyVsock"]["key_name"],
            "000004D2-FACB-11E6-BD58-64006A7986D3"
        );
    }

    #[test]
    fn volumes_are_refused_with_what_to_do_instead() {
        let h = HyperV::with_powershell(Arc::new(Recorder::new()), "powershell.exe");
        let mut mc = test_machine(Path::new("/x/m.vhdx"));
        mc.mounts = vec![crate::config::Mount {
            original_input: "C:\\src:/src".into(),
            read_only: false,
            source: "C:\\src".into(),
            tag: "vol0".into(),
            target: "/src".into(),
            kind: "9p".into(),
        }];
        let e = h
            .create(&Dirs::for_provider(VmType::Hyperv), &mut mc)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--volume is not supported by the hyperv provider"),
            "{e}"
        );
        assert!(
            e.contains("--provider wsl") && e.contains("machine cp"),
            "{e}"
        );
    }

    #[test]
    fn not_elevated_gets_the_prep_hint() {
        let r = Recorder::new();
        let runner = ScriptAnswers {
            inner: r,
            answers: vec![(
                PRIVILEGES,
                r#"{"admin":false,"hyperv_admin":false,"module":true}"#.into(),
            )],
        };
        let h = HyperV::with_powershell(Arc::new(runner), "powershell.exe");
        let mut mc = test_machine(Path::new("/x/m.vhdx"));
        let e = h
            .create(&Dirs::for_provider(VmType::Hyperv), &mut mc)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("hyperv-prep") && e.contains("Hyper-V Administrators"),
            "{e}"
        );
    }

    #[test]
    fn states_and_ignition_units() {
        assert_eq!(map_state("Running\r\n").unwrap(), VmState::Running);
        assert_eq!(map_state("Off").unwrap(), VmState::Stopped);
        assert_eq!(map_state("Missing").unwrap(), VmState::Stopped);
        assert!(map_state("Weird").is_err());
        let (ready, extra) = HyperV::ignition_units(1234, 5678);
        assert!(ready.contains("VSOCK-CONNECT:2:1234"));
        assert!(ready.contains("After=sshd.socket sshd.service vsock-network.service"));
        assert!(extra[0]["contents"]
            .as_str()
            .unwrap()
            .contains("-url vsock://2:5678/connect"));
        assert_eq!(service_guid(0x400), "00000400-FACB-11E6-BD58-64006A7986D3");
    }

    #[test]
    fn gvproxy_listens_on_the_network_service() {
        let a = HyperV::gvproxy_argv(2222, 0x10, Path::new("p"), Path::new("l"));
        assert_eq!(
            a[4..6],
            ["-listen", "vsock://00000010-FACB-11E6-BD58-64006A7986D3"]
        );
        assert_eq!(a[2..4], ["-ssh-port", "2222"]);
        let r = Recorder::new();
        r.answer("powershell", Output::ok(0, "Off\n"));
        let mc = test_machine(Path::new("/x/m.vhdx"));
        assert_eq!(
            hv(&r)
                .state(&Dirs::for_provider(VmType::Hyperv), &mc)
                .unwrap(),
            VmState::Stopped
        );
    }

    #[test]
    fn first_start_pushes_patched_ignition_then_gvproxy_then_start_vm() {
        let d = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            config: d.path().join("c"),
            data: d.path().join("d"),
            global_data: d.path().join("g"),
            runtime: d.path().join("r"),
        };
        let ign = d.path().join("m.ign");
        std::fs::write(
            &ign,
            br#"{"ignition":{"version":"3.2.0"},"systemd":{"units":[]}}"#,
        )
        .unwrap();
        let mut mc = test_machine(Path::new("/x/m.vhdx"));
        mc.extra.insert(
            "HyperVHypervisor".into(),
            json!({ "ReadyVsock": { "port": 0x500 }, "NetworkVSock": { "port": 0x501 } }),
        );
        let r = Recorder::new();
        let seen = Arc::new(std::sync::Mutex::new(String::new()));
        let runner = Capture {
            inner: r.clone(),
            pushed: seen.clone(),
        };
        let h =
            HyperV::with_powershell(Arc::new(runner), "powershell.exe").with_gvproxy("gvproxy.exe");
        let opts = StartOptions {
            provision: ProvisionDelivery::Ignition(ign),
            ready_timeout: Duration::from_secs(1),
        };
        let res = h.start(&dirs, &mc, &opts);
        let pushed = seen.lock().unwrap().clone();
        assert!(pushed.contains("VSOCK-CONNECT:2:1280"), "{pushed}");
        assert!(pushed.contains("vsock://2:1281/connect"), "{pushed}");
        let calls = r.calls();
        let push = &calls[0];
        assert!(decode(push).ends_with(PUSH_IGNITION));
        assert_eq!(push.env_value("PODMAN_PS_CHUNK").as_deref(), Some("990"));
        assert!(
            !Path::new(&push.env_value("PODMAN_PS_IGNITION").unwrap()).exists(),
            "temp Ignition left"
        );
        assert_eq!(calls[1].program, Path::new("gvproxy.exe"));
        assert_eq!(
            calls[1].argv()[5],
            "vsock://00000501-FACB-11E6-BD58-64006A7986D3"
        );
        if cfg!(windows) {
            return;
        }
        // No hvsock off Windows: the start stops there, before Start-VM.
        let e = res.unwrap_err().to_string();
        assert!(e.contains("hvsock exists on Windows hosts only"), "{e}");
        assert_eq!(calls.len(), 2);
    }

    /// Keeps a copy of the Ignition file the KVP script is given (it is deleted afterwards).
    struct Capture {
        inner: Recorder,
        pushed: Arc<std::sync::Mutex<String>>,
    }

    impl Runner for Capture {
        fn run(&self, cmd: &Cmd) -> std::io::Result<Output> {
            if let Some(p) = cmd.env_value("PODMAN_PS_IGNITION") {
                *self.pushed.lock().unwrap() = std::fs::read_to_string(p)?;
            }
            self.inner.run(cmd)
        }
        fn spawn(
            &self,
            cmd: &Cmd,
            log: Option<&Path>,
        ) -> std::io::Result<Box<dyn super::super::runner::Child>> {
            self.inner.spawn(cmd, log)
        }
    }

    /// Answers PowerShell calls by which fixed script they run.
    struct ScriptAnswers {
        inner: Recorder,
        answers: Vec<(&'static str, String)>,
    }

    impl Runner for ScriptAnswers {
        fn run(&self, cmd: &Cmd) -> std::io::Result<Output> {
            let out = self.inner.run(cmd)?;
            if cmd.program == Path::new("powershell.exe") {
                let text = decode(cmd);
                if let Some((_, a)) = self.answers.iter().find(|(b, _)| text.ends_with(b)) {
                    return Ok(Output::ok(0, a));
                }
            }
            Ok(out)
        }
        fn spawn(
            &self,
            cmd: &Cmd,
            log: Option<&Path>,
        ) -> std::io::Result<Box<dyn super::super::runner::Child>> {
            self.inner.spawn(cmd, log)
        }
    }

    fn test_machine(img: &Path) -> MachineConfig {
        use crate::config::{HostUser, PathRef, Resources, SshConfig};
        MachineConfig {
            config_path: PathRef::new("/c/m.json"),
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
                identity_path: "/k".into(),
                port: 2222,
                remote_username: "core".into(),
            },
            version: 1,
            swap: 0,
            image_path: PathRef::new(img),
            qemu: None,
            starting: false,
            rosetta: false,
            vm_type: VmType::Hyperv,
            provisioner: Provisioner::Ignition,
            ignition_path: PathRef::default(),
            user_ignition: false,
            known_hosts_path: PathRef::default(),
            timezone: String::new(),
            image_source: String::new(),
            provider_files: vec![],
            extra: Default::default(),
        }
    }
}
