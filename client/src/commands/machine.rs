//! `machine ...`: the Linux VM that runs the engine, with podman's flags and output.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use podman_machine::config::Provisioner;
use podman_machine::ops::{InitOptions, Machines, SetOptions};
use podman_machine::DEFAULT_NAME;
use serde_json::{json, Value};

use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::human_duration;

#[derive(Args, Debug)]
pub struct MachineArgs {
    #[command(subcommand)]
    pub cmd: MachineCmd,
}

#[derive(Subcommand, Debug)]
pub enum MachineCmd {
    /// Initialize a virtual machine.
    Init(InitArgs),
    /// Start an existing machine.
    Start(StartArgs),
    /// Stop an existing machine.
    Stop(NameArg),
    /// Remove an existing machine.
    Rm(RmArgs),
    /// List machines.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Inspect an existing machine.
    Inspect(InspectArgs),
    /// SSH into an existing machine.
    Ssh(SshArgs),
    /// Set a virtual machine setting.
    Set(SetArgs),
    /// Remove all machines.
    Reset(ResetArgs),
    /// Display machine host info.
    Info(InfoArgs),
    /// Securely copy contents between the virtual machine.
    Cp(CpArgs),
    /// Keeps a running machine's clock in step (started by `start`).
    #[command(name = "__watch", hide = true)]
    Watch(NameArg),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Number of CPUs.
    #[arg(long)]
    pub cpus: Option<u32>,
    /// Memory in MiB.
    #[arg(short = 'm', long)]
    pub memory: Option<u64>,
    /// Disk size in GiB.
    #[arg(long)]
    pub disk_size: Option<u64>,
    /// Bootable image for the machine: file, http(s) URL or docker:// OCI reference.
    #[arg(long, alias = "image-path", default_value = "")]
    pub image: String,
    /// Username used in the image.
    #[arg(long, default_value = "core")]
    pub username: String,
    /// Whether this machine should prefer rootful container execution.
    #[arg(long)]
    pub rootful: bool,
    /// Start the machine now.
    #[arg(long)]
    pub now: bool,
    /// Volumes to mount, source:target[:ro].
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Set timezone (an IANA name or `local`).
    #[arg(long, default_value = "")]
    pub timezone: String,
    /// Path to an Ignition file to use instead of the generated one.
    #[arg(long)]
    pub ignition_path: Option<PathBuf>,
    /// First-boot provisioning: ignition or cloud-init (default: from the image name).
    #[arg(long, value_parser = ["ignition", "cloud-init"])]
    pub provisioner: Option<String>,
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Suppress informational tips.
    #[arg(long)]
    pub no_info: bool,
    /// Suppress machine starting status output.
    #[arg(short, long)]
    pub quiet: bool,
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct NameArg {
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Stop and do not prompt before removing.
    #[arg(short, long)]
    pub force: bool,
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Format output: json or a Go template.
    #[arg(long, default_value = "")]
    pub format: String,
    /// Do not print headers.
    #[arg(short = 'n', long = "noheading")]
    pub noheading: bool,
    /// Show only machine names.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show machines from all providers (only QEMU here).
    #[arg(long)]
    pub all_providers: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Format volume output using JSON or a Go template.
    #[arg(long, default_value = "")]
    pub format: String,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct SshArgs {
    /// Username to use when ssh-ing into the VM.
    #[arg(long)]
    pub username: Option<String>,
    /// [NAME] [COMMAND [ARG ...]]
    #[arg(allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    #[arg(long)]
    pub cpus: Option<u32>,
    #[arg(short = 'm', long)]
    pub memory: Option<u64>,
    /// Disk size in GiB (grow only).
    #[arg(long)]
    pub disk_size: Option<u64>,
    /// Whether this machine should prefer rootful container execution.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub rootful: Option<bool>,
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct ResetArgs {
    /// Do not prompt before reset.
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Change the output format to JSON or a Go template.
    #[arg(short, long, default_value = "")]
    pub format: String,
}

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Suppress copy status output.
    #[arg(short, long)]
    pub quiet: bool,
    pub src: String,
    pub dest: String,
}

fn fail(e: podman_machine::Error) -> Failure {
    Failure::msg(e.to_string())
}

fn machines() -> Result<Machines, Failure> {
    Machines::new().map_err(fail)
}

fn name_or_default(n: Option<String>) -> String {
    n.unwrap_or_else(|| DEFAULT_NAME.to_string())
}

pub async fn machine(_g: &GlobalOpts, a: MachineArgs) -> Result<u8, Failure> {
    match a.cmd {
        MachineCmd::Init(a) => init(a).await,
        MachineCmd::Start(a) => start(a).await,
        MachineCmd::Stop(a) => stop(a).await,
        MachineCmd::Rm(a) => rm(a).await,
        MachineCmd::List(a) => list(a),
        MachineCmd::Inspect(a) => inspect(a),
        MachineCmd::Ssh(a) => ssh(a).await,
        MachineCmd::Set(a) => set(a),
        MachineCmd::Reset(a) => reset(a).await,
        MachineCmd::Info(a) => info(a),
        MachineCmd::Cp(a) => cp(a),
        MachineCmd::Watch(a) => {
            let m = machines()?;
            m.watch(&name_or_default(a.name)).await.map_err(fail)?;
            Ok(0)
        }
    }
}

async fn init(a: InitArgs) -> Result<u8, Failure> {
    let m = machines()?;
    let name = name_or_default(a.name);
    let opts = InitOptions {
        name: name.clone(),
        cpus: a.cpus,
        memory: a.memory,
        disk_size: a.disk_size,
        image: a.image,
        username: a.username,
        rootful: a.rootful,
        volumes: a.volume,
        timezone: a.timezone,
        ignition_path: a.ignition_path,
        provisioner: a.provisioner.as_deref().map(|p| match p {
            "cloud-init" => Provisioner::CloudInit,
            _ => Provisioner::Ignition,
        }),
    };
    let progress: Box<dyn podman_machine::image::Progress + Send> =
        if std::io::stderr().is_terminal() {
            Box::new(podman_machine::image::Bar::new())
        } else {
            Box::new(podman_machine::image::NoProgress)
        };
    let mut signals = Terminate::catch();
    let interrupt = podman_machine::ops::Interrupt::default();
    let (m2, i2) = (m, interrupt.clone());
    let mut task = tokio::task::spawn_blocking(move || {
        let r = m2.init_interruptible(&opts, progress.as_ref(), &i2);
        (m2, r)
    });
    let joined = tokio::select! {
        j = &mut task => j,
        _ = signals.recv() => {
            // As podman: say so, roll back, exit 1. The init stops at its next step and
            // removes what it made; a second signal does not wait for a long download.
            println!("Received a terminate signal");
            let _ = std::io::stdout().flush();
            interrupt.raise();
            let j = tokio::select! {
                j = &mut task => j,
                _ = signals.recv() => {
                    eprintln!(
                        "Error: rollback interrupted; files of machine {name} may be left \
                         behind (`podman-remote machine rm -f {name}` removes them)"
                    );
                    return Ok(1);
                }
            };
            // It completed before it saw the interruption: remove the whole machine.
            if let Ok((m, Ok(mc))) = j {
                let n = mc.name.clone();
                tokio::task::spawn_blocking(move || m.remove(&n, true))
                    .await
                    .map_err(|e| Failure::msg(format!("rollback failed: {e}")))?
                    .map_err(fail)?;
            }
            println!("Machine command rollback completed");
            return Ok(1);
        }
    };
    let (m, mc) = joined.map_err(|e| Failure::msg(format!("init failed: {e}")))?;
    let mc = mc.map_err(fail)?;
    println!("Machine init complete");
    if a.now {
        return do_start(&m, &mc.name, false, false, &mut signals).await;
    }
    let suffix = if name == DEFAULT_NAME {
        String::new()
    } else {
        format!(" {name}")
    };
    println!("To start your machine run:\n\n\tpodman-remote machine start{suffix}\n");
    Ok(0)
}

/// The watcher's stderr (the API server's reports): a file owner-only, else nowhere.
fn watcher_log(dirs: &podman_machine::dirs::Dirs, name: &str) -> std::process::Stdio {
    let path = podman_machine::api::watcher_log(dirs, name);
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
        .map(std::process::Stdio::from)
        .unwrap_or_else(|_| std::process::Stdio::null())
}

/// Launch the detached watcher (`machine __watch NAME`) that keeps the guest clock right.
fn spawn_watcher(dirs: &podman_machine::dirs::Dirs, name: &str) -> podman_machine::Result<()> {
    let exe = std::env::current_exe().map_err(|e| podman_machine::Error::Io {
        context: "cannot find the podman-remote executable".into(),
        source: e,
    })?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["machine", "__watch", name])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(watcher_log(dirs, name));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own session: it outlives this command and ignores the terminal's signals.
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        // No console of its own and out of the terminal's process group: it outlives this
        // command and its window, and Ctrl+C there does not reach it (it serves the pipes).
        const DETACHED_PROCESS: u32 = 0x0000_0008;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
    }
    cmd.spawn().map_err(|e| podman_machine::Error::Io {
        context: "cannot start the machine's clock watcher".into(),
        source: e,
    })?;
    Ok(())
}

/// SIGINT and SIGTERM, caught from creation on: those signals no longer end the process
/// before it has rolled back what it was doing.
struct Terminate {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Terminate {
    fn catch() -> Terminate {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Terminate {
                signals: signal(SignalKind::interrupt())
                    .and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        Terminate {}
    }

    /// The next signal (never, when they could not be caught).
    async fn recv(&mut self) {
        #[cfg(unix)]
        match &mut self.signals {
            Some((i, t)) => {
                tokio::select! {
                    _ = i.recv() => {}
                    _ = t.recv() => {}
                }
            }
            None => std::future::pending().await,
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

async fn do_start(
    m: &Machines,
    name: &str,
    quiet: bool,
    no_info: bool,
    signals: &mut Terminate,
) -> Result<u8, Failure> {
    if !quiet {
        println!("Starting machine \"{name}\"");
        let _ = std::io::stdout().flush();
    }
    let spawner = |n: &str| spawn_watcher(&m.dirs, n);
    let mut start = Box::pin(m.start(name, Some(&spawner)));
    let outcome = tokio::select! {
        r = &mut start => Some(r),
        _ = signals.recv() => None,
    };
    let Some(started) = outcome else {
        // As podman: say so, roll back (dropping the start stops the half-booted VM, its
        // watcher and API socket, then releases the machine's lock) and exit 1.
        if !quiet {
            println!("Received a terminate signal");
            let _ = std::io::stdout().flush();
        }
        drop(start);
        if !quiet {
            println!("Machine command rollback completed");
        }
        return Ok(1);
    };
    let started = started.map_err(|e| Failure::msg(format!("unable to start \"{name}\": {e}")))?;
    if let Some(w) = started.clock_warning {
        eprintln!("Warning: {w}");
    }
    if !quiet {
        if let Some(sock) = &started.api_socket {
            if !no_info {
                println!("{}", podman_machine::api::docker_host_lines(sock));
            }
        }
        println!("Machine \"{name}\" started successfully");
    }
    Ok(0)
}

async fn start(a: StartArgs) -> Result<u8, Failure> {
    let mut signals = Terminate::catch();
    let m = machines()?;
    do_start(
        &m,
        &name_or_default(a.name),
        a.quiet,
        a.no_info,
        &mut signals,
    )
    .await
}

async fn stop(a: NameArg) -> Result<u8, Failure> {
    let m = machines()?;
    let name = name_or_default(a.name);
    let n2 = name.clone();
    let m = tokio::task::spawn_blocking(move || m.stop(&n2))
        .await
        .map_err(|e| Failure::msg(format!("stop failed: {e}")))?;
    m.map_err(|e| Failure::msg(format!("unable to stop \"{name}\": {e}")))?;
    println!("Machine \"{name}\" stopped successfully");
    Ok(0)
}

async fn rm(a: RmArgs) -> Result<u8, Failure> {
    let m = machines()?;
    let name = name_or_default(a.name);
    if !a.force {
        let files = m.remove_plan(&name).map_err(fail)?;
        println!(
            "The following files will be deleted:\n\n{}\n",
            podman_machine::ops::display_files(&files)
        );
        if !crate::commands::pods::confirm("Are you sure you want to continue? [y/N] ")? {
            return Ok(0);
        }
    }
    let force = a.force;
    let n2 = name.clone();
    tokio::task::spawn_blocking(move || m.remove(&n2, force))
        .await
        .map_err(|e| Failure::msg(format!("rm failed: {e}")))?
        .map_err(fail)?;
    Ok(0)
}

/// go-units `BytesSize`: binary units, 4 significant digits.
fn bytes_size(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    let s = format!("{v:.4}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    // %.4g keeps four significant digits in total.
    let digits = s.split('.').next().unwrap_or("").len();
    let s = if digits >= 4 {
        format!("{v:.0}")
    } else {
        let frac = 4 - digits;
        let t = format!("{v:.frac$}");
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    };
    format!("{s}{}", units[i])
}

fn ago(rfc3339: &str) -> String {
    match chrono_secs_since(rfc3339) {
        Some(s) => format!("{} ago", human_duration(s)),
        None => String::new(),
    }
}

fn chrono_secs_since(rfc3339: &str) -> Option<i64> {
    podman_machine::ops::secs_since(rfc3339)
}

/// podman's `toHumanFormat` for table and template output.
fn human_row(r: &Value) -> Value {
    let mut h = r.clone();
    let name = r["Name"].as_str().unwrap_or_default();
    if r["Default"].as_bool() == Some(true) {
        h["Name"] = json!(format!("{name}*"));
    }
    h["Created"] = json!(ago(r["Created"].as_str().unwrap_or_default()));
    let last_up = if r["Running"].as_bool() == Some(true) {
        "Currently running".to_string()
    } else if r["Starting"].as_bool() == Some(true) {
        "Currently starting".to_string()
    } else if r["LastUp"]
        .as_str()
        .is_some_and(|s| s.starts_with("1970-01-01"))
    {
        "Never".to_string()
    } else {
        ago(r["LastUp"].as_str().unwrap_or_default())
    };
    h["LastUp"] = json!(last_up);
    for k in ["Memory", "DiskSize", "Swap"] {
        let n: f64 = r[k].as_str().and_then(|s| s.parse().ok()).unwrap_or(0.0);
        h[k] = json!(bytes_size(n));
    }
    h
}

fn list(a: ListArgs) -> Result<u8, Failure> {
    let m = machines()?;
    let rows = m.list_reports().map_err(fail)?;
    let mut out = std::io::stdout().lock();
    if format::is_json(&a.format) {
        writeln!(
            out,
            "{}",
            format::to_go_json(&Value::Array(rows), false, Some("    "))
        )?;
        return Ok(0);
    }
    let human: Vec<Value> = rows.iter().map(human_row).collect();
    let (template, user) = if a.quiet {
        ("{{.Name}}\n".to_string(), true)
    } else if a.format.is_empty() {
        (
            "{{.Name}}\t{{.VMType}}\t{{.Created}}\t{{.LastUp}}\t{{.CPUs}}\t{{.Memory}}\t{{.DiskSize}}\n"
                .to_string(),
            false,
        )
    } else {
        (a.format.clone(), true)
    };
    let headers: HashMap<String, String> = [
        ("Name", "NAME"),
        ("VMType", "VM TYPE"),
        ("Created", "CREATED"),
        ("LastUp", "LAST UP"),
        ("CPUs", "CPUS"),
        ("Memory", "MEMORY"),
        ("DiskSize", "DISK SIZE"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    format::print_rows(&template, &human, &headers, user, a.noheading, &mut out)
        .map_err(|e| Failure::msg(e.to_string()))?;
    Ok(0)
}

fn inspect(a: InspectArgs) -> Result<u8, Failure> {
    let m = machines()?;
    let names = if a.names.is_empty() {
        vec![DEFAULT_NAME.to_string()]
    } else {
        a.names
    };
    let mut docs = Vec::new();
    let mut errs = Vec::new();
    for n in &names {
        match m.inspect(n) {
            Ok(v) => docs.push(v),
            Err(e) => errs.push(e.to_string()),
        }
    }
    let mut out = std::io::stdout().lock();
    if a.format.is_empty() || format::is_json(&a.format) {
        writeln!(
            out,
            "{}",
            format::to_go_json(&Value::Array(docs), false, Some("    "))
        )?;
    } else {
        for d in &docs {
            format::render_one(&a.format, d, &mut out).map_err(|e| Failure::msg(e.to_string()))?;
            writeln!(out)?;
        }
    }
    if let Some(last) = errs.pop() {
        for e in errs {
            eprintln!("Error: {e}");
        }
        return Err(Failure::msg(last));
    }
    Ok(0)
}

async fn ssh(a: SshArgs) -> Result<u8, Failure> {
    let m = machines()?;
    // podman: a first argument that is not a machine is the command for the default machine.
    let (name, cmd) = match a.args.split_first() {
        Some((first, rest)) if m.load(first).is_ok() => (first.clone(), rest.to_vec()),
        _ => (DEFAULT_NAME.to_string(), a.args.clone()),
    };
    let mc = m.load(&name).map_err(fail)?;
    if m.state(&mc).map_err(fail)? != podman_machine::provider::VmState::Running {
        return Err(Failure::msg(format!(
            "vm \"{name}\" is not running; start it with `podman-remote machine start {name}`"
        )));
    }
    let tty = cmd.is_empty() && std::io::stdin().is_terminal();
    let argv = m.ssh_argv(&mc, a.username.as_deref(), tty, &cmd);
    let ssh = podman_machine::find_program("ssh").ok_or_else(|| {
        Failure::msg("ssh not found: install OpenSSH's client (apt-get install openssh-client)")
    })?;
    let st = std::process::Command::new(ssh)
        .args(argv)
        .status()
        .map_err(|e| Failure::msg(format!("cannot run ssh: {e}")))?;
    let code = st.code().unwrap_or(255);
    if code == 255 {
        // ssh's own failures and a remote command's 255 look alike: find out (only on this
        // path) whether the guest's host key is the one pinned with the machine.
        let (host, port) = m.provider.ssh_endpoint(&mc);
        let user = a.username.as_deref().unwrap_or(mc.ssh_user());
        if let Err(podman_machine::Error::Bindings(e @ bindings::Error::HostKey(_))) =
            podman_machine::guest::connect(&mc, user, &host, port).await
        {
            return Err(Failure::msg(format!(
                "machine {name}: the VM's SSH host key is not the one pinned for this machine \
                 (VM re-created or replaced?); refusing to connect: {e}"
            )));
        }
    }
    Ok(code as u8)
}

fn set(a: SetArgs) -> Result<u8, Failure> {
    let m = machines()?;
    let name = name_or_default(a.name);
    m.set(
        &name,
        &SetOptions {
            cpus: a.cpus,
            memory: a.memory,
            disk_size: a.disk_size,
            rootful: a.rootful,
        },
    )
    .map_err(fail)?;
    Ok(0)
}

async fn reset(a: ResetArgs) -> Result<u8, Failure> {
    let m = machines()?;
    if !a.force {
        let names: Vec<String> = m
            .list_reports()
            .map_err(fail)?
            .iter()
            .filter_map(|r| r["Name"].as_str().map(str::to_string))
            .collect();
        println!(
            "Warning: this command will delete all existing Podman machines\nand all of the \
             configuration and data directories for Podman machines\n\nThe following machine(s) \
             will be deleted:\n\n{}\n",
            names.join("\n")
        );
        if !crate::commands::pods::confirm("Are you sure you want to continue? [y/N] ")? {
            return Ok(0);
        }
    }
    tokio::task::spawn_blocking(move || m.reset())
        .await
        .map_err(|e| Failure::msg(format!("reset failed: {e}")))?
        .map_err(fail)?;
    Ok(0)
}

fn info(a: InfoArgs) -> Result<u8, Failure> {
    let m = machines()?;
    let doc = json!({
        "Host": m.info_host().map_err(fail)?,
        "Version": {
            "APIVersion": "5.0.0",
            "Version": env!("CARGO_PKG_VERSION"),
            "GoVersion": "n/a (podman-remote is written in Rust)",
            "OsArch": format!("{}/{}", std::env::consts::OS, podman_machine::provider::guest_arch()),
            "Os": std::env::consts::OS,
        },
    });
    let mut out = std::io::stdout().lock();
    if a.format.is_empty() {
        writeln!(out, "{}", crate::yaml::to_yaml(&doc))?;
    } else if format::is_json(&a.format) {
        writeln!(out, "{}", format::to_go_json(&doc, false, Some("    ")))?;
    } else {
        format::render_one(&a.format, &doc, &mut out).map_err(|e| Failure::msg(e.to_string()))?;
        writeln!(out)?;
    }
    Ok(0)
}

fn cp(a: CpArgs) -> Result<u8, Failure> {
    let m = machines()?;
    let machine_of = |s: &str| s.split_once(':').map(|(n, _)| n.to_string());
    let name = match (machine_of(&a.src), machine_of(&a.dest)) {
        (Some(n), None) | (None, Some(n)) => n,
        _ => {
            return Err(Failure::msg(
                "exactly one of SRC and DEST must be MACHINE:PATH (copies go between the host and one machine)",
            ))
        }
    };
    let mc = m.load(&name).map_err(fail)?;
    let scp = podman_machine::find_program("scp").ok_or_else(|| {
        Failure::msg("scp not found: install OpenSSH's client (apt-get install openssh-client)")
    })?;
    let st = std::process::Command::new(scp)
        .args(m.scp_argv(&mc, a.quiet, &a.src, &a.dest))
        .status()
        .map_err(|e| Failure::msg(format!("cannot run scp: {e}")))?;
    if !st.success() {
        return Err(Failure::msg(format!(
            "copy between the host and machine {name} failed"
        )));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_units_bytes() {
        assert_eq!(bytes_size(2147483648.0), "2GiB");
        assert_eq!(bytes_size(107374182400.0), "100GiB");
        assert_eq!(bytes_size(1536.0 * 1024.0 * 1024.0), "1.5GiB");
        assert_eq!(bytes_size(0.0), "0B");
    }

    #[test]
    fn human_rows_like_podman() {
        let r = json!({"Name": "m", "Default": true, "Running": false, "Starting": false,
            "Created": "2020-01-01T00:00:00Z", "LastUp": "1970-01-01T00:00:00+00:00",
            "Memory": "2147483648", "DiskSize": "10737418240", "Swap": "0"});
        let h = human_row(&r);
        assert_eq!(h["Name"], "m*");
        assert_eq!(h["LastUp"], "Never");
        assert_eq!(h["Memory"], "2GiB");
        assert_eq!(h["DiskSize"], "10GiB");
        assert!(h["Created"].as_str().unwrap().ends_with(" ago"));
    }
}
