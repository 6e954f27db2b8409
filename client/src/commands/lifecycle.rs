//! Container state and inspection commands: stop, restart, kill, pause/unpause, rename, wait,
//! init, exists, prune, inspect, port, top, diff, export, commit, healthcheck.
//!
//! Multi-container commands resolve their arguments the way podman's remote client does
//! (one listing plus an inspect per name, and the whole command fails before touching anything
//! when a name is unknown), then act on each container, print what the user typed (or the full
//! ID for `--all`/`--filter`) for every success and report failures at the end: all but the
//! last as `Error: ...` lines, the last one as the command's error (exit 125).

use std::io::Write;

use bindings::api::containers::ListContainers;
use bindings::api::lifecycle::CommitOptions;
use bindings::http::ApiClient;
use clap::Args;
use serde_json::{Map, Value};

use super::argcheck::exact_args;
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::signals::parse_signal;

const PROG: &str = "podman-remote";

// ---------------------------------------------------------------------------------------------
// Argument structs
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Stop all running containers.
    #[arg(short, long)]
    pub all: bool,
    /// Ignore errors when a specified container is missing.
    #[arg(short, long)]
    pub ignore: bool,
    /// Read the container ID from the file.
    #[arg(long, hide = true)]
    pub cidfile: Vec<String>,
    /// Seconds to wait for stop before killing the container.
    #[arg(
        short = 't',
        long = "time",
        visible_alias = "timeout",
        value_name = "SECONDS"
    )]
    pub time: Option<u32>,
    /// Filter output based on conditions given.
    #[arg(short, long, value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Containers to stop.
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RestartArgs {
    /// Restart all containers.
    #[arg(short, long)]
    pub all: bool,
    /// Restart only running containers.
    #[arg(long)]
    pub running: bool,
    /// Read the container ID from the file.
    #[arg(long, hide = true)]
    pub cidfile: Vec<String>,
    /// Filter output based on conditions given.
    #[arg(short, long, value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Seconds to wait for stop before killing the container.
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u32>,
    /// Containers to restart.
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal all running containers.
    #[arg(short, long)]
    pub all: bool,
    /// Signal to send to the container.
    #[arg(short, long, default_value = "KILL", allow_hyphen_values = true)]
    pub signal: String,
    /// Read the container ID from the file.
    #[arg(long, hide = true)]
    pub cidfile: Vec<String>,
    /// Containers to signal.
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PauseArgs {
    /// Act on all containers.
    #[arg(short, long)]
    pub all: bool,
    /// Read the container ID from the file.
    #[arg(long, hide = true)]
    pub cidfile: Vec<String>,
    /// Filter output based on conditions given.
    #[arg(short, long, value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Containers to pause or unpause.
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    /// The container and its new name.
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Time interval to wait before polling for completion.
    #[arg(short, long, default_value = "250ms")]
    pub interval: String,
    /// Condition to wait on (a container state).
    #[arg(long, value_delimiter = ',')]
    pub condition: Vec<String>,
    /// Containers to wait for.
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Initialize all containers.
    #[arg(short, long)]
    pub all: bool,
    /// Containers to initialize.
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExistsArgs {
    /// Check external storage containers as well as Podman containers.
    #[arg(long)]
    pub external: bool,
    /// The container.
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub force: bool,
    /// Provide filter values (e.g. 'label=<key>=<value>').
    #[arg(long)]
    pub filter: Vec<String>,
    /// (podman takes no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Format the output to a Go template or json.
    #[arg(short, long, default_value = "json")]
    pub format: String,
    /// Display total file size.
    #[arg(short, long)]
    pub size: bool,
    /// Specify inspect-object type.
    #[arg(short = 't', long = "type", default_value = "all")]
    pub kind: String,
    /// Names or IDs of the objects.
    pub names: Vec<String>,
}

/// `container inspect`: like `inspect` without `--type` (always containers).
#[derive(Args, Debug)]
pub struct ContainerInspectArgs {
    /// Format the output to a Go template or json.
    #[arg(short, long, default_value = "json")]
    pub format: String,
    /// Display total file size.
    #[arg(short, long)]
    pub size: bool,
    /// Names or IDs of the containers.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    /// Display port information for all containers.
    #[arg(short, long)]
    pub all: bool,
    /// CONTAINER [PRIVATE_PORT[/PROTO]]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TopArgs {
    /// CONTAINER [FORMAT-DESCRIPTORS|ARGS...]
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Change the output format (json).
    #[arg(long, default_value = "")]
    pub format: String,
    /// CONTAINER [CONTAINER]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write to a specified file (default: stdout, which must be redirected).
    #[arg(short, long, default_value = "")]
    pub output: String,
    /// The container.
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// Apply the following possible instructions to the created image (`-c` is rewritten to
    /// this by `commit_argv`, as the global `-c/--connection` owns the short name in clap).
    #[arg(long)]
    pub change: Vec<String>,
    /// Format of the image manifest and metadata.
    #[arg(short, long, default_value = "oci")]
    pub format: String,
    /// File to write the image ID to.
    #[arg(long, default_value = "")]
    pub iidfile: String,
    /// Set commit message for imported image.
    #[arg(short, long)]
    pub message: Option<String>,
    /// Set the author for the image committed.
    #[arg(short, long)]
    pub author: Option<String>,
    /// Pause container during commit.
    #[arg(short, long)]
    pub pause: bool,
    /// Suppress output.
    #[arg(short, long)]
    pub quiet: bool,
    /// Squash newly built layers into a single new layer.
    #[arg(short, long)]
    pub squash: bool,
    /// Include container volumes as image volumes (not supported by the remote API).
    #[arg(long)]
    pub include_volumes: bool,
    /// CONTAINER [IMAGE]
    pub args: Vec<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum HealthcheckCmd {
    /// Run the health check of a container.
    Run(HealthcheckRunArgs),
}

#[derive(Args, Debug)]
pub struct HealthcheckRunArgs {
    /// The container.
    pub args: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// cobra's `RangeArgs(min, max)`.
fn range_args(args: &[String], min: usize, max: usize) -> Result<(), Failure> {
    if args.len() < min || args.len() > max {
        return Err(Failure::msg(format!(
            "accepts between {min} and {max} arg(s), received {}",
            args.len()
        )));
    }
    Ok(())
}

/// podman's checks of `--all`, `--filter`, `--cidfile` against container arguments.
fn check_all_and_args(
    all: bool,
    filter_given: bool,
    cidfile_given: bool,
    args: &[String],
    ignore_arg_len: bool,
) -> Result<(), Failure> {
    if filter_given {
        if !args.is_empty() {
            return Err(Failure::msg("--filter takes no arguments"));
        }
        return Ok(());
    }
    if cidfile_given && all {
        return Err(Failure::msg(
            "--all, --latest, and --cidfile cannot be used together",
        ));
    }
    if !args.is_empty() && all {
        return Err(Failure::msg("no arguments are needed with --all"));
    }
    if ignore_arg_len {
        return Ok(());
    }
    if !args.is_empty() && cidfile_given {
        return Err(Failure::msg(
            "no arguments are needed with --latest or --cidfile",
        ));
    }
    if cidfile_given {
        return Ok(());
    }
    if args.is_empty() && !all {
        return Err(Failure::msg("you must provide at least one name or id"));
    }
    Ok(())
}

/// The text Go's os package gives an I/O error, e.g. "open /x: no such file or directory".
pub(crate) fn go_io_error(op: &str, path: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let reason = match e.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::AlreadyExists => "file exists".to_string(),
        _ => match e.raw_os_error() {
            Some(21) => "is a directory".to_string(),
            Some(20) => "not a directory".to_string(),
            _ => e.to_string(),
        },
    };
    format!("{op} {path}: {reason}")
}

/// `--cidfile`: the first line of each file is a container.
fn read_cidfiles(files: &[String], args: &mut Vec<String>) -> Result<(), Failure> {
    for f in files {
        let content = std::fs::read_to_string(f).map_err(|e| {
            Failure::msg(format!("reading CIDFile: {}", go_io_error("open", f, &e)))
        })?;
        args.push(content.split('\n').next().unwrap_or("").to_string());
    }
    Ok(())
}

fn check_filters(filters: &[String]) -> Result<(), Failure> {
    for f in filters {
        if !f.contains('=') {
            return Err(Failure::msg(format!("invalid filter {f:?}")));
        }
    }
    Ok(())
}

/// A container the command acts on: its full ID, what the user typed for it (printed on
/// success), and the listing entry (state, ports).
#[derive(Debug, Clone)]
struct Target {
    id: String,
    raw: String,
    entry: Value,
}

impl Target {
    fn state(&self) -> &str {
        self.entry
            .get("State")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    /// What podman prints for a success: the user's input, else the ID.
    fn shown(&self) -> &str {
        if self.raw.is_empty() {
            &self.id
        } else {
            &self.raw
        }
    }
}

/// Resolve names to containers as podman's remote client does: list every container (with
/// the filters), then inspect each name to learn its full ID and match it in the list. An
/// unknown name fails the whole command unless `ignore`.
async fn resolve(
    client: &ApiClient,
    all: bool,
    ignore: bool,
    names: &[String],
    filters: &[String],
) -> Result<Vec<Target>, Failure> {
    if all && !names.is_empty() {
        return Err(Failure::msg("cannot look up containers and all"));
    }
    let list = client
        .containers(&ListContainers {
            all: true,
            filters: filters.to_vec(),
            ..Default::default()
        })
        .await?;
    let id_of = |c: &Value| {
        c.get("Id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if all || !filters.is_empty() {
        return Ok(list
            .iter()
            .map(|c| Target {
                id: id_of(c),
                raw: id_of(c),
                entry: c.clone(),
            })
            .collect());
    }
    let mut out = Vec::new();
    for name in names {
        let data = match client.container_inspect(name, false).await {
            Ok(d) => d,
            Err(e) if ignore && e.status() == Some(404) => continue,
            Err(e) => return Err(e.into()),
        };
        let id = data.get("Id").and_then(Value::as_str).unwrap_or("");
        match list.iter().find(|c| id_of(c) == id) {
            Some(c) => out.push(Target {
                id: id.to_string(),
                raw: name.clone(),
                entry: c.clone(),
            }),
            None if ignore => {}
            None => {
                return Err(Failure::msg(format!(
                    "unable to find container {name:?}: no such container"
                )))
            }
        }
    }
    Ok(out)
}

/// Print successes as they come and the collected errors at the end, like podman's
/// `OutputErrors`: every error but the last on its own `Error:` line, the last one becomes
/// the command's failure.
struct Reporter {
    errors: Vec<String>,
}

impl Reporter {
    fn new() -> Self {
        Reporter { errors: Vec::new() }
    }

    fn ok(&mut self, shown: &str) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{shown}")?;
        out.flush()?;
        Ok(())
    }

    fn err(&mut self, e: impl ToString) {
        self.errors.push(e.to_string());
    }

    fn finish(mut self) -> Result<u8, Failure> {
        let Some(last) = self.errors.pop() else {
            return Ok(0);
        };
        for e in &self.errors {
            eprintln!("Error: {e}");
        }
        Err(Failure::msg(last))
    }
}

fn is_state_improper(e: &bindings::Error) -> bool {
    e.to_string().contains("container state improper")
}

// ---------------------------------------------------------------------------------------------
// stop, restart, kill, pause/unpause, init
// ---------------------------------------------------------------------------------------------

pub async fn stop(g: &GlobalOpts, a: StopArgs) -> Result<u8, Failure> {
    check_all_and_args(
        a.all,
        !a.filter.is_empty(),
        !a.cidfile.is_empty(),
        &a.containers,
        false,
    )?;
    let mut names = a.containers.clone();
    read_cidfiles(&a.cidfile, &mut names)?;
    check_filters(&a.filter)?;
    let client = g.client().await?;
    let targets = resolve(&client, a.all, a.ignore, &names, &a.filter).await?;
    let mut rep = Reporter::new();
    for t in &targets {
        match client.container_stop(&t.id, a.time, a.ignore).await {
            Ok(()) => rep.ok(t.shown())?,
            // Already stopped, or (with --all) not in a stoppable state: podman counts
            // these as stopped.
            Err(e)
                if e.to_string().contains("container already stopped")
                    || (a.all && is_state_improper(&e)) =>
            {
                rep.ok(t.shown())?
            }
            Err(e) if e.status().is_none() => return Err(e.into()),
            Err(e) => rep.err(e),
        }
    }
    rep.finish()
}

pub async fn restart(g: &GlobalOpts, a: RestartArgs) -> Result<u8, Failure> {
    check_all_and_args(
        a.all,
        !a.filter.is_empty(),
        !a.cidfile.is_empty(),
        &a.containers,
        false,
    )?;
    let mut names = a.containers.clone();
    read_cidfiles(&a.cidfile, &mut names)?;
    check_filters(&a.filter)?;
    let client = g.client().await?;
    let targets = resolve(&client, a.all, false, &names, &a.filter).await?;
    let mut rep = Reporter::new();
    for t in &targets {
        if a.running && t.state() != "running" {
            continue;
        }
        match client.container_restart(&t.id, a.time).await {
            Ok(()) => rep.ok(t.shown())?,
            Err(e) if e.status().is_none() => return Err(e.into()),
            Err(e) => rep.err(e),
        }
    }
    rep.finish()
}

pub async fn kill(g: &GlobalOpts, a: KillArgs) -> Result<u8, Failure> {
    check_all_and_args(a.all, false, !a.cidfile.is_empty(), &a.containers, false)?;
    parse_signal(&a.signal).map_err(Failure::msg)?;
    let mut names = a.containers.clone();
    read_cidfiles(&a.cidfile, &mut names)?;
    let client = g.client().await?;
    let targets = resolve(&client, a.all, false, &names, &[]).await?;
    let mut rep = Reporter::new();
    for t in &targets {
        match client.container_kill(&t.id, &a.signal).await {
            Ok(()) => rep.ok(t.shown())?,
            // --all signals the running ones; the others are skipped silently.
            Err(e) if a.all && is_state_improper(&e) => {}
            Err(e) if e.status().is_none() => return Err(e.into()),
            Err(e) => rep.err(e),
        }
    }
    rep.finish()
}

pub async fn pause(g: &GlobalOpts, a: PauseArgs, pause: bool) -> Result<u8, Failure> {
    check_all_and_args(
        a.all,
        !a.filter.is_empty(),
        !a.cidfile.is_empty(),
        &a.containers,
        false,
    )?;
    let mut names = a.containers.clone();
    read_cidfiles(&a.cidfile, &mut names)?;
    check_filters(&a.filter)?;
    let client = g.client().await?;
    let targets = resolve(&client, a.all, false, &names, &a.filter).await?;
    let mut rep = Reporter::new();
    for t in &targets {
        let r = if pause {
            client.container_pause(&t.id).await
        } else {
            client.container_unpause(&t.id).await
        };
        match r {
            Ok(()) => rep.ok(t.shown())?,
            Err(e) if a.all && is_state_improper(&e) => {}
            Err(e) if e.status().is_none() => return Err(e.into()),
            Err(e) => rep.err(e),
        }
    }
    rep.finish()
}

pub async fn init(g: &GlobalOpts, a: InitArgs) -> Result<u8, Failure> {
    check_all_and_args(a.all, false, false, &a.containers, false)?;
    let client = g.client().await?;
    let targets = resolve(&client, a.all, false, &a.containers, &[]).await?;
    let mut rep = Reporter::new();
    for t in &targets {
        match client.container_init(&t.id).await {
            Ok(()) => rep.ok(t.shown())?,
            // With --all an already initialized container is not an error.
            Err(e) if a.all && is_state_improper(&e) => rep.ok(t.shown())?,
            Err(e) if e.status().is_none() => return Err(e.into()),
            Err(e) => rep.err(e),
        }
    }
    rep.finish()
}

pub async fn rename(g: &GlobalOpts, a: RenameArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 2)?;
    let client = g.client().await?;
    client.container_rename(&a.args[0], &a.args[1]).await?;
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// wait
// ---------------------------------------------------------------------------------------------

/// The container states `--condition` accepts (podman 4.x's `StringToContainerStatus`).
const WAIT_CONDITIONS: &[&str] = &[
    "unknown",
    "configured",
    "created",
    "running",
    "stopped",
    "paused",
    "exited",
    "removing",
];

/// Go's `time.ParseDuration`, to nanoseconds.
fn parse_go_duration(s: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(s));
    let mut rest = s;
    let neg = if let Some(r) = rest.strip_prefix('-') {
        rest = r;
        true
    } else {
        if let Some(r) = rest.strip_prefix('+') {
            rest = r;
        }
        false
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..n];
            rest = &r[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .bytes()
            .take_while(|b| *b != b'.' && !b.is_ascii_digit())
            .count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("time: missing unit in duration {}", go_quote(s))),
            u => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(u),
                    go_quote(s)
                ))
            }
        };
        let int: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut v = int.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            let mut f: i128 = 0;
            let mut div: i128 = 1;
            for b in frac_part.bytes().take(18) {
                f = f * 10 + i128::from(b - b'0');
                div *= 10;
            }
            v += f * scale / div;
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > i128::from(i64::MAX) {
            return Err(invalid());
        }
    }
    Ok(if neg { -total } else { total })
}

/// Go's `strconv.Quote` for the ASCII text of error messages.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// Go's `time.Duration.String`.
fn format_go_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    let frac = |v: u128, digits: u32| -> String {
        let div = 10u128.pow(digits);
        let (i, f) = (v / div, v % div);
        if f == 0 {
            i.to_string()
        } else {
            let fs = format!("{f:0width$}", width = digits as usize);
            format!("{i}.{}", fs.trim_end_matches('0'))
        }
    };
    if u < 1_000_000_000 {
        let (v, d, unit) = if u < 1_000 {
            (u, 0, "ns")
        } else if u < 1_000_000 {
            (u, 3, "µs")
        } else {
            (u, 6, "ms")
        };
        return format!("{sign}{}{unit}", frac(v, d));
    }
    let hours = u / 3_600_000_000_000;
    let rem = u % 3_600_000_000_000;
    let mins = rem / 60_000_000_000;
    let secs = rem % 60_000_000_000;
    let mut out = String::from(sign);
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || mins > 0 {
        out.push_str(&format!("{mins}m"));
    }
    out.push_str(&format!("{}s", frac(secs, 9)));
    out
}

pub async fn wait(g: &GlobalOpts, a: WaitArgs) -> Result<u8, Failure> {
    // podman retries a bare number as milliseconds.
    let interval = match parse_go_duration(&a.interval) {
        Ok(d) => d,
        Err(e) => parse_go_duration(&format!("{}ms", a.interval)).map_err(|_| Failure::msg(e))?,
    };
    if a.containers.is_empty() {
        return Err(Failure::msg(format!(
            "\"{PROG} wait\" requires a name, id, or the \"--latest\" flag"
        )));
    }
    for c in &a.condition {
        if !WAIT_CONDITIONS.contains(&c.as_str()) {
            return Err(Failure::msg(format!(
                "unknown container state: {c}: invalid argument"
            )));
        }
    }
    let client = g.client().await?;
    let targets = resolve(&client, false, false, &a.containers, &[]).await?;
    let interval = format_go_duration(interval);
    let mut rep = Reporter::new();
    for t in &targets {
        match client
            .container_wait_for(&t.id, &a.condition, Some(&interval))
            .await
        {
            Ok(code) => rep.ok(&code.to_string())?,
            Err(e) if e.status().is_none() => return Err(e.into()),
            Err(e) => rep.err(e),
        }
    }
    rep.finish()
}

// ---------------------------------------------------------------------------------------------
// exists, prune, healthcheck
// ---------------------------------------------------------------------------------------------

pub async fn exists(g: &GlobalOpts, a: ExistsArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 1)?;
    let client = g.client().await?;
    let path = format!(
        "/containers/{}/exists{}",
        bindings::http::seg(&a.args[0]),
        if a.external { "?external=true" } else { "" }
    );
    Ok(if client.exists(&path).await? { 0 } else { 1 })
}

pub async fn prune(g: &GlobalOpts, a: PruneArgs) -> Result<u8, Failure> {
    if !a.args.is_empty() {
        return Err(Failure::msg(format!(
            "`{PROG} container prune` takes no arguments"
        )));
    }
    if !a.force {
        print!("WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        let n = std::io::stdin().read_line(&mut answer)?;
        // Like podman: end of input before a newline is an error, an empty line means no.
        if n == 0 || !answer.ends_with('\n') {
            return Err(Failure::msg("EOF"));
        }
        if !answer.to_lowercase().starts_with('y') {
            return Ok(0);
        }
    }
    for f in &a.filter {
        if !f.contains('=') {
            return Err(Failure::msg(format!(
                "filter input must be in the form of filter=value: {f} is invalid"
            )));
        }
    }
    let client = g.client().await?;
    let reports = client.containers_prune(&a.filter).await?;
    let mut rep = Reporter::new();
    for r in &reports {
        rep.ok(&r.id)?;
        if let Some(e) = r.error() {
            rep.err(e);
        }
    }
    rep.finish()
}

pub async fn healthcheck(g: &GlobalOpts, c: HealthcheckCmd) -> Result<u8, Failure> {
    let HealthcheckCmd::Run(a) = c;
    exact_args(&a.args, 1)?;
    let client = g.client().await?;
    let result = client.container_healthcheck(&a.args[0]).await?;
    let status = result.get("Status").and_then(Value::as_str).unwrap_or("");
    if status == "unhealthy" {
        println!("{status}");
        return Ok(1);
    }
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Container,
    Image,
    Volume,
    Network,
    Pod,
}

/// Times that podman's Go structs hold as `time.Time`: templates print those with Go's
/// `Time.String`, JSON keeps RFC 3339.
fn time_paths(kind: Kind) -> &'static [&'static [&'static str]] {
    match kind {
        Kind::Container => &[
            &["Created"],
            &["State", "StartedAt"],
            &["State", "FinishedAt"],
            &["State", "CheckpointedAt"],
            &["State", "RestoredAt"],
        ],
        Kind::Image => &[&["Created"], &["Metadata", "LastTagTime"]],
        Kind::Volume => &[&["CreatedAt"]],
        Kind::Network => &[&["created"]],
        Kind::Pod => &[&["Created"]],
    }
}

/// Go's `time.Time.String()` of an RFC 3339 timestamp as decoded by `encoding/json`
/// ("2024-01-02 03:04:05.123 +0000 UTC").
pub(crate) fn go_time_string(t: &str) -> Option<String> {
    let (date, rest) = t.split_once('T')?;
    if date.len() < 10 {
        return None;
    }
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (clock, zone) = rest.split_at(zone_at);
    let (hms, frac) = match clock.split_once('.') {
        Some((h, f)) => (h, f.trim_end_matches('0')),
        None => (clock, ""),
    };
    if hms.len() != 8 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    let zone = if zone.eq_ignore_ascii_case("z") || zone == "+00:00" {
        "+0000 UTC".to_string()
    } else {
        let z = zone.replace(':', "");
        format!("{z} {z}")
    };
    Some(format!("{date} {hms}{frac} {zone}"))
}

/// Maps that podman's structs leave nil (JSON `null`) and Go's templates print as `map[]`.
fn nil_map_paths(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Container => &["/Config/Labels", "/Config/Annotations"],
        Kind::Image => &["/Labels", "/Annotations", "/Config/Labels"],
        _ => &[],
    }
}

/// podman 4.3's `report.IsJSON` (shared with every other command).
fn inspect_is_json(format: &str) -> bool {
    format::is_json(format)
}

/// The document a `--format` template sees. Go's templates print podman's `time.Time`
/// fields with `Time.String` and nil maps as `map[]`, while `{{json ...}}` shows the JSON
/// encoding; the rendering is adapted for templates that do not use `json`.
fn template_view(kind: Kind, v: &Value, uses_json: bool) -> Value {
    let mut v = v.clone();
    if uses_json {
        return v;
    }
    for pointer in nil_map_paths(kind) {
        let Some((parent, key)) = pointer.rsplit_once('/') else {
            continue;
        };
        let parent = if parent.is_empty() {
            Some(&mut v)
        } else {
            v.pointer_mut(parent)
        };
        // Missing (omitempty) or null: a nil map either way.
        if let Some(Value::Object(m)) = parent {
            let slot = m.entry(key.to_string()).or_insert(Value::Null);
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
        }
    }
    for path in time_paths(kind) {
        let pointer = format!("/{}", path.join("/"));
        if let Some(Value::String(s)) = v.pointer_mut(&pointer) {
            if let Some(go) = go_time_string(s) {
                *s = go;
            }
        }
    }
    v
}

/// podman's `inspectNormalize`: the field names it rewrites in user templates.
fn inspect_normalize(template: &str, image: bool) -> String {
    // `{{ .Id }}` becomes `{{.ID}}` (any spacing inside the braces).
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let trimmed = after.trim_start_matches(is_go_space);
        let replaced = trimmed.strip_prefix(".Id").and_then(|r| {
            let r2 = r.trim_start_matches(is_go_space);
            r2.strip_prefix("}}")
        });
        match replaced {
            Some(tail) => {
                out.push_str("{{.ID}}");
                rest = tail;
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    let mut pairs = vec![
        (".Src", ".Source"),
        (".Dst", ".Destination"),
        (".ImageID", ".Image"),
    ];
    if image {
        pairs.push((".Config.Healthcheck", ".HealthCheck"));
    }
    // A single left-to-right pass, first listed pattern winning, as Go's strings.Replacer.
    let mut res = String::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        if let Some((from, to)) = pairs.iter().find(|(f, _)| out[i..].starts_with(f)) {
            res.push_str(to);
            i += from.len();
        } else {
            let ch = out[i..].chars().next().unwrap_or(' ');
            res.push(ch);
            i += ch.len_utf8();
        }
    }
    res
}

fn is_go_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

async fn inspect_one(
    client: &ApiClient,
    kind: Kind,
    name: &str,
    size: bool,
) -> Result<Result<Value, String>, Failure> {
    let r = match kind {
        Kind::Container => client.container_inspect(name, size).await,
        Kind::Image => client.image_inspect(name, size).await,
        Kind::Volume => client.volume_inspect(name).await,
        Kind::Network => client.network_inspect(name).await,
        Kind::Pod => client.pod_inspect(name).await,
    };
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.status() == Some(404) => Ok(Err(match kind {
            Kind::Container => format!("no such container {name:?}"),
            Kind::Image => format!("unable to inspect {name:?}: {e}"),
            Kind::Volume => format!("no such volume {name:?}"),
            Kind::Network => format!("network {name}: network not found"),
            Kind::Pod => format!("no such pod {name:?}"),
        })),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn run_inspect(
    g: &GlobalOpts,
    kind_name: &str,
    format_text: &str,
    size: bool,
    names: &[String],
) -> Result<u8, Failure> {
    let kind = match kind_name {
        "all" => None,
        "container" => Some(Kind::Container),
        "image" => Some(Kind::Image),
        "volume" => Some(Kind::Volume),
        "network" => Some(Kind::Network),
        "pod" => Some(Kind::Pod),
        other => {
            return Err(Failure::msg(format!(
                "invalid type {other:?}: must be \"image\", \"container\", \"pod\", \"network\", \"volume\", or \"all\""
            )))
        }
    };
    if size && matches!(kind, Some(Kind::Image) | Some(Kind::Pod)) {
        return Err(Failure::msg(format!(
            "size is not supported for type {kind_name:?}"
        )));
    }
    if names.is_empty() {
        return Err(Failure::msg("no names or ids specified"));
    }
    let client = g.client().await?;
    let mut data: Vec<(Kind, Value)> = Vec::new();
    let mut errs: Vec<String> = Vec::new();
    for name in names {
        match kind {
            Some(k) => match inspect_one(&client, k, name, size).await? {
                Ok(v) => data.push((k, v)),
                Err(e) => errs.push(e),
            },
            None => {
                // The generic inspect tries each object type in podman's order.
                let mut found = false;
                for k in [
                    Kind::Container,
                    Kind::Image,
                    Kind::Volume,
                    Kind::Network,
                    Kind::Pod,
                ] {
                    let sized = size && matches!(k, Kind::Container);
                    if let Ok(v) = inspect_one(&client, k, name, sized).await? {
                        data.push((k, v));
                        found = true;
                        break;
                    }
                }
                if !found {
                    errs.push(format!("no such object: {name:?}"));
                }
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if inspect_is_json(format_text) || format_text.is_empty() {
        // podman re-encodes the documents with 5-space indentation and no HTML escaping.
        let arr = Value::Array(data.into_iter().map(|(_, v)| v).collect());
        writeln!(out, "{}", format::to_go_json(&arr, false, Some("     ")))?;
    } else {
        let template = inspect_normalize(format_text, kind == Some(Kind::Image));
        let uses_json = template.contains("json");
        let rows: Vec<Value> = data
            .iter()
            .map(|(k, v)| template_view(*k, v, uses_json))
            .collect();
        // podman's inspect never prints a header row, even for `table` templates.
        let r = format::print_rows(&template, &rows, &Default::default(), true, true, &mut out);
        if let Err(e) = r {
            errs.push(format!("printing inspect output: {e}"));
        }
    }
    out.flush()?;
    drop(out);
    if errs.is_empty() {
        return Ok(0);
    }
    for e in &errs[1..] {
        eprintln!("error inspecting object: {e}");
    }
    Err(Failure::msg(format!("inspecting object: {}", errs[0])))
}

pub async fn inspect(g: &GlobalOpts, a: InspectArgs) -> Result<u8, Failure> {
    run_inspect(g, &a.kind, &a.format, a.size, &a.names).await
}

pub async fn container_inspect(g: &GlobalOpts, a: ContainerInspectArgs) -> Result<u8, Failure> {
    run_inspect(g, "container", &a.format, a.size, &a.names).await
}

// ---------------------------------------------------------------------------------------------
// port, top, diff
// ---------------------------------------------------------------------------------------------

pub async fn port(g: &GlobalOpts, a: PortArgs) -> Result<u8, Failure> {
    if !a.args.is_empty() && a.all {
        return Err(Failure::msg("no arguments are needed with --all"));
    }
    if a.args.is_empty() && !a.all {
        return Err(Failure::msg(
            "you must supply a running container name or id",
        ));
    }
    if a.args.len() > 2 {
        return Err(Failure::msg("`port` accepts at most 2 arguments"));
    }
    let container = a.args.first().cloned();
    let wanted = a.args.get(1).cloned().unwrap_or_default();
    let mut user: Option<(u32, String)> = None;
    if !wanted.is_empty() {
        let fields: Vec<&str> = wanted.split('/').collect();
        if fields.len() > 2 {
            return Err(Failure::msg(format!(
                "port formats are port/protocol. '{wanted}' is invalid"
            )));
        }
        let proto = fields.get(1).copied().unwrap_or("tcp").to_string();
        let num: u32 = match fields[0].parse::<u16>() {
            Ok(n) if !fields[0].starts_with('+') => u32::from(n),
            _ => {
                let why = if !fields[0].is_empty() && fields[0].bytes().all(|b| b.is_ascii_digit())
                {
                    "value out of range"
                } else {
                    "invalid syntax"
                };
                return Err(Failure::msg(format!(
                    "strconv.ParseUint: parsing {:?}: {why}",
                    fields[0]
                )));
            }
        };
        user = Some((num, proto));
    }
    let client = g.client().await?;
    let names: Vec<String> = container.into_iter().collect();
    let targets = resolve(&client, a.all, false, &names, &[]).await?;
    let mut out = std::io::stdout().lock();
    let mut found = false;
    for t in targets.iter().filter(|t| t.state() == "running") {
        let Some(ports) = t
            .entry
            .get("Ports")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
        else {
            continue;
        };
        let prefix = if a.all {
            format!("{}\t", t.id.chars().take(12).collect::<String>())
        } else {
            String::new()
        };
        for p in ports {
            let num = |k: &str| p.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
            let host_ip = match p.get("host_ip").and_then(Value::as_str).unwrap_or("") {
                "" => "0.0.0.0",
                ip => ip,
            };
            let (cport, hport, range) = (num("container_port"), num("host_port"), num("range"));
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("");
            for proto in protocol.split(',') {
                match &user {
                    None => {
                        for i in 0..range {
                            writeln!(
                                out,
                                "{prefix}{}/{proto} -> {host_ip}:{}",
                                cport + i,
                                hport + i
                            )?;
                        }
                    }
                    Some((up, uproto)) => {
                        if protocol == uproto && cport <= *up && cport + range > *up {
                            writeln!(out, "{prefix}{host_ip}:{}", hport + up - cport)?;
                            found = true;
                            break;
                        }
                    }
                }
            }
        }
        if !found && user.is_some() {
            return Err(Failure::msg(format!(
                "failed to find published port {wanted:?}"
            )));
        }
    }
    Ok(0)
}

pub async fn top(g: &GlobalOpts, a: TopArgs) -> Result<u8, Failure> {
    let Some((name, descriptors)) = a.args.split_first() else {
        return Err(Failure::msg(
            "you must provide the name or id of a running container",
        ));
    };
    let client = g.client().await?;
    let body = match client.container_top(name, descriptors).await {
        Ok(b) => b,
        // The engine answers 200 and then fails without a body when it cannot run ps (the
        // container is not running, or a descriptor is not valid); podman reports Go's JSON
        // error for that.
        Err(bindings::Error::Decode { .. }) => {
            return Err(Failure::msg(format!(
                "unexpected end of JSON input: the engine sent no process table for {name:?} \
                 (is the container running, and are the descriptors valid?)"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let mut text = body.titles.join("\t");
    text.push('\n');
    for p in body.processes.unwrap_or_default() {
        text.push_str(&p.join("\t"));
        text.push('\n');
    }
    let mut out = std::io::stdout().lock();
    let mut tw = format::TabWriter::podman(&mut out);
    tw.write_all(text.as_bytes())?;
    tw.flush()?;
    Ok(0)
}

async fn run_diff(
    g: &GlobalOpts,
    a: DiffArgs,
    command: &str,
    diff_type: &str,
) -> Result<u8, Failure> {
    if a.args.is_empty() {
        return Err(Failure::msg(format!(
            "\"{PROG} {command}\" requires a name, id, or the \"--latest\" flag"
        )));
    }
    range_args(&a.args, 1, 2)?;
    let client = g.client().await?;
    let changes = client
        .container_changes(&a.args[0], a.args.get(1).map(String::as_str), diff_type)
        .await?;
    let mut out = std::io::stdout().lock();
    if format::is_json(&a.format) {
        let mut m = Map::new();
        for (key, kind) in [("changed", 0u8), ("added", 1), ("deleted", 2)] {
            let paths: Vec<Value> = changes
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| Value::String(c.path.clone()))
                .collect();
            if !paths.is_empty() {
                m.insert(key.into(), Value::Array(paths));
            }
        }
        writeln!(
            out,
            "{}",
            format::to_go_json(&Value::Object(m), true, Some("     "))
        )?;
    } else if a.format.is_empty() {
        for c in &changes {
            writeln!(out, "{} {}", c.letter(), c.path)?;
        }
    } else {
        return Err(Failure::msg(
            "only supported value for '--format' is 'json'",
        ));
    }
    Ok(0)
}

/// `podman diff`: a container or an image.
pub async fn diff(g: &GlobalOpts, a: DiffArgs) -> Result<u8, Failure> {
    run_diff(g, a, "diff", "all").await
}

/// `podman container diff`: containers only.
pub async fn container_diff(g: &GlobalOpts, a: DiffArgs) -> Result<u8, Failure> {
    run_diff(g, a, "container diff", "container").await
}

// ---------------------------------------------------------------------------------------------
// export, commit
// ---------------------------------------------------------------------------------------------

fn stdout_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

pub async fn export(g: &GlobalOpts, a: ExportArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 1)?;
    if a.output.is_empty() {
        if stdout_is_terminal() {
            return Err(Failure::msg(
                "refusing to export to terminal. Use -o flag or redirect",
            ));
        }
    } else if a.output.contains(':') {
        return Err(Failure::msg(format!(
            "invalid filename (should not contain ':') {:?}",
            a.output
        )));
    }
    // The file is written under a temporary name next to its destination and renamed into
    // place only when the whole archive arrived, so a failed export leaves nothing behind.
    let mut tmp = if a.output.is_empty() {
        None
    } else {
        let path = std::path::Path::new(&a.output);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let f = tempfile::Builder::new()
            .prefix(".podman-export-")
            .tempfile_in(&dir)
            .map_err(|e| Failure::msg(go_io_error("open", &a.output, &e)))?;
        Some(f)
    };
    let client = g.client().await?;
    let mut stdout = std::io::stdout().lock();
    let result = client
        .container_export(&a.args[0], |d| match tmp.as_mut() {
            Some(f) => f.write_all(d),
            None => stdout.write_all(d),
        })
        .await;
    if let Err(e) = result {
        return Err(match e {
            bindings::Error::Io { source, .. } if !a.output.is_empty() => {
                Failure::msg(go_io_error("write", &a.output, &source))
            }
            e => e.into(),
        });
    }
    match tmp {
        Some(f) => {
            f.as_file()
                .sync_all()
                .map_err(|e| Failure::msg(go_io_error("write", &a.output, &e)))?;
            let f = f.into_temp_path();
            // tempfile creates 0600; podman's os.Create gives 0666 minus the umask.
            set_default_mode(&f);
            f.persist(&a.output)
                .map_err(|e| Failure::msg(go_io_error("rename", &a.output, &e.error)))?;
        }
        None => stdout.flush()?,
    }
    Ok(0)
}

#[cfg(unix)]
fn set_default_mode(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask only swaps the process's file mode mask; we put the old value back.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    let mode = 0o666 & !(mask as u32);
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_default_mode(_path: &std::path::Path) {}

/// Split an image reference into repository and tag the way podman's remote commit does
/// (docker reference grammar, no normalization; tag defaults to "latest").
pub(crate) fn parse_commit_reference(s: &str) -> Result<(String, String), String> {
    fn alnum(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }
    fn path_component(s: &str) -> bool {
        // alnum (separator alnum)*, separator = [_.] | __ | -+
        let b = s.as_bytes();
        if b.is_empty() || !(b[0].is_ascii_lowercase() || b[0].is_ascii_digit()) {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_lowercase() || b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            if b[i] == b'_' && b.get(i + 1) == Some(&b'_') {
                i += 2;
            } else if b[i] == b'.' || b[i] == b'_' {
                i += 1;
            } else if b[i] == b'-' {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            } else {
                return false;
            }
            if i == start || i >= b.len() || !(b[i].is_ascii_lowercase() || b[i].is_ascii_digit()) {
                return false;
            }
        }
        true
    }
    fn domain(s: &str) -> bool {
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        if let Some(p) = port {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
        }
        !host.is_empty()
            && host.split('.').all(|c| {
                let b = c.as_bytes();
                !b.is_empty()
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
                    && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
            })
    }
    fn tag_ok(t: &str) -> bool {
        let b = t.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b.iter()
                .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
    }
    fn digest_ok(d: &str) -> bool {
        match d.split_once(':') {
            Some((alg, hex)) => {
                !alg.is_empty()
                    && alg.as_bytes()[0].is_ascii_alphabetic()
                    && alg.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'.')
                    })
                    && hex.len() >= 32
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
            }
            None => false,
        }
    }
    let parse = |s: &str| -> Option<(String, Option<String>)> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (s, None),
        };
        if let Some(d) = digest {
            if !digest_ok(d) {
                return None;
            }
        }
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            if !tag_ok(t) {
                return None;
            }
        }
        let comps: Vec<&str> = name.split('/').collect();
        let all_paths = comps.iter().all(|c| path_component(c));
        let with_domain =
            comps.len() > 1 && domain(comps[0]) && comps[1..].iter().all(|c| path_component(c));
        if !(all_paths || with_domain) {
            return None;
        }
        let _ = alnum;
        Some((name.to_string(), tag.map(str::to_string)))
    };
    let err = |why: &str| format!("parsing reference {s:?}: {why}");
    match parse(s) {
        Some((name, tag)) => {
            if name.len() > 255 {
                return Err(err("repository name must not be more than 255 characters"));
            }
            Ok((name, tag.unwrap_or_else(|| "latest".into())))
        }
        None if s.is_empty() => Err(err("repository name must have at least one component")),
        None if parse(&s.to_lowercase()).is_some() => Err(err("repository name must be lowercase")),
        None => Err(err("invalid reference format")),
    }
}

pub async fn commit(g: &GlobalOpts, a: CommitArgs) -> Result<u8, Failure> {
    range_args(&a.args, 1, 2)?;
    let (repo, tag) = match a.args.get(1) {
        Some(name) => {
            let (r, t) = parse_commit_reference(name).map_err(Failure::msg)?;
            (Some(r), t)
        }
        None => (None, "latest".to_string()),
    };
    let client = g.client().await?;
    let id = client
        .commit(
            &a.args[0],
            &CommitOptions {
                author: a.author.clone(),
                changes: a.change.clone(),
                comment: a.message.clone(),
                format: Some(a.format.clone()),
                pause: a.pause,
                squash: a.squash,
                repo,
                tag: Some(tag),
            },
        )
        .await?;
    if !a.iidfile.is_empty() {
        write_atomically(&a.iidfile, id.as_bytes())
            .map_err(|e| Failure::msg(format!("failed to write image ID: {e}")))?;
    }
    println!("{id}");
    Ok(0)
}

/// `--iidfile`, `--cidfile`-style outputs: written whole or not at all, with Go's messages.
fn write_atomically(path: &str, data: &[u8]) -> Result<(), String> {
    crate::fsutil::write_atomic(std::path::Path::new(path), data, Some(0o644))
        .map_err(|e| go_io_error(e.op, path, &e.error))
}

/// podman's `commit -c` means `--change` while every other command's `-c` is the global
/// `--connection`: clap cannot shadow a global short option in one subcommand, so the
/// command line is rewritten before parsing, turning `-c` after `commit` into `--change`.
pub fn commit_argv(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
    // Global options that take a separate value, which must not be mistaken for the command.
    const GLOBAL_VALUED: &[&str] = &[
        "--url",
        "--host",
        "-H",
        "-c",
        "--connection",
        "--identity",
        "--log-level",
    ];
    let mut i = 1;
    let mut seen_container = false;
    while i < args.len() {
        let Some(t) = args[i].to_str() else {
            return args;
        };
        if t == "--" {
            return args;
        }
        if GLOBAL_VALUED.contains(&t) {
            i += 2;
            continue;
        }
        if t.starts_with('-') {
            i += 1;
            continue;
        }
        if t == "container" && !seen_container {
            seen_container = true;
            i += 1;
            continue;
        }
        if t != "commit" {
            return args;
        }
        break;
    }
    // Options of commit that take a separate value, so that a value such as `-m -c` stays.
    const VALUED: &[&str] = &[
        "--change",
        "--format",
        "--iidfile",
        "--message",
        "--author",
        "-f",
        "-m",
        "-a",
    ];
    let mut j = i + 1;
    while j < args.len() {
        let Some(t) = args[j].to_str().map(str::to_string) else {
            j += 1;
            continue;
        };
        if t == "--" {
            break;
        }
        if VALUED.contains(&t.as_str()) {
            j += 2;
            continue;
        }
        if t.starts_with('-') && !t.starts_with("--") && t.len() > 1 {
            // A cluster of short options: bools p, q, s may precede; a, f, m take the rest.
            let body = &t[1..];
            let mut replacement: Option<Vec<std::ffi::OsString>> = None;
            for (k, ch) in body.char_indices() {
                match ch {
                    'p' | 'q' | 's' | 'r' => continue,
                    'c' => {
                        let mut parts = Vec::new();
                        if k > 0 {
                            parts.push(format!("-{}", &body[..k]).into());
                        }
                        let rest = &body[k + 1..];
                        if rest.is_empty() {
                            parts.push("--change".into());
                        } else {
                            parts.push(format!("--change={rest}").into());
                        }
                        replacement = Some(parts);
                        break;
                    }
                    _ => break,
                }
            }
            match replacement {
                Some(parts) => {
                    let takes_next = parts
                        .last()
                        .is_some_and(|p: &std::ffi::OsString| p == "--change");
                    let n = parts.len();
                    args.splice(j..=j, parts);
                    j += n + usize::from(takes_next);
                    continue;
                }
                None => {
                    // `-mVALUE`, `-m VALUE`: skip the separate value if there is one.
                    let last_valued = body
                        .chars()
                        .position(|c| matches!(c, 'a' | 'f' | 'm'))
                        .is_some_and(|p| p == body.len() - 1);
                    j += if last_valued { 2 } else { 1 };
                    continue;
                }
            }
        }
        j += 1;
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("KILL"), Ok(9));
        assert_eq!(parse_signal("sigterm"), Ok(15));
        assert_eq!(parse_signal("-9"), Ok(9));
        assert_eq!(parse_signal("SIGRTMIN+3"), Ok(37));
        assert_eq!(parse_signal("RTMAX-1"), Ok(63));
        assert_eq!(parse_signal("FOO"), Err("invalid signal: FOO".into()));
        assert_eq!(parse_signal("0"), Err("invalid signal: 0".into()));
        assert_eq!(
            parse_signal("99"),
            Err("valid signals are 1 through 64".into())
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(
            parse_go_duration("xx"),
            Err("time: invalid duration \"xx\"".into())
        );
        assert!(parse_go_duration("10").is_err());
        assert_eq!(format_go_duration(250_000_000), "250ms");
        assert_eq!(format_go_duration(10_000_000), "10ms");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(90_000_000_000), "1m30s");
        assert_eq!(format_go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(format_go_duration(1_500), "1.5µs");
        assert_eq!(format_go_duration(0), "0s");
    }

    #[test]
    fn go_times() {
        assert_eq!(
            go_time_string("2026-11-28T11:38:27.9641622Z").as_deref(),
            Some("2026-11-28 11:38:27.9641622 +0000 UTC")
        );
        assert_eq!(
            go_time_string("0001-01-01T00:00:00Z").as_deref(),
            Some("0001-01-01 00:00:00 +0000 UTC")
        );
        assert_eq!(
            go_time_string("2026-11-28T12:38:27.500+01:00").as_deref(),
            Some("2026-11-28 12:38:27.5 +0100 +0100")
        );
        assert_eq!(go_time_string("garbage"), None);
        let v = serde_json::json!({"Created": "2026-11-28T11:38:27Z", "State": {"StartedAt": "0001-01-01T00:00:00Z", "Health": {"Log": []}}});
        let t = template_view(Kind::Container, &v, false);
        assert_eq!(template_view(Kind::Container, &v, true), v);
        assert_eq!(t["Created"], "2026-11-28 11:38:27 +0000 UTC");
        assert_eq!(t["State"]["StartedAt"], "0001-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn json_formats() {
        for f in ["json", " json ", "{{json}}", "{{ json . }}", "{{json .}}"] {
            assert!(inspect_is_json(f), "{f}");
        }
        for f in ["{{json .State}}", "{{.Id}}", "jsonx", "{{jsonx .}}"] {
            assert!(!inspect_is_json(f), "{f}");
        }
    }

    #[test]
    fn normalize() {
        assert_eq!(
            inspect_normalize("{{ .Id }} {{.ImageID}}", false),
            "{{.ID}} {{.Image}}"
        );
        assert_eq!(
            inspect_normalize("{{range .Mounts}}{{.Src}}:{{.Dst}}{{end}}", false),
            "{{range .Mounts}}{{.Source}}:{{.Destination}}{{end}}"
        );
        assert_eq!(
            inspect_normalize("{{.Config.Healthcheck}}", true),
            "{{.HealthCheck}}"
        );
        assert_eq!(
            inspect_normalize("{{.Config.Healthcheck}}", false),
            "{{.Config.Healthcheck}}"
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            parse_commit_reference("img"),
            Ok(("img".into(), "latest".into()))
        );
        assert_eq!(
            parse_commit_reference("quay.io/a/b:v2"),
            Ok(("quay.io/a/b".into(), "v2".into()))
        );
        assert_eq!(
            parse_commit_reference("localhost:5000/x"),
            Ok(("localhost:5000/x".into(), "latest".into()))
        );
        assert_eq!(
            parse_commit_reference("Bad"),
            Err("parsing reference \"Bad\": repository name must be lowercase".into())
        );
        assert_eq!(
            parse_commit_reference("a b"),
            Err("parsing reference \"a b\": invalid reference format".into())
        );
        assert_eq!(
            parse_commit_reference("x:"),
            Err("parsing reference \"x:\": invalid reference format".into())
        );
    }

    #[test]
    fn commit_change_flag() {
        let conv = |v: &[&str]| -> Vec<String> {
            commit_argv(v.iter().map(std::ffi::OsString::from))
                .into_iter()
                .map(|s| s.into_string().unwrap())
                .collect()
        };
        assert_eq!(
            conv(&[
                "p",
                "-c",
                "conn",
                "commit",
                "-c",
                "ENV a=1",
                "-qcLABEL x=y",
                "ctr"
            ]),
            [
                "p",
                "-c",
                "conn",
                "commit",
                "--change",
                "ENV a=1",
                "-q",
                "--change=LABEL x=y",
                "ctr"
            ]
        );
        assert_eq!(
            conv(&["p", "container", "commit", "-m", "-c", "ctr"]),
            ["p", "container", "commit", "-m", "-c", "ctr"]
        );
        assert_eq!(conv(&["p", "ps", "-c", "x"]), ["p", "ps", "-c", "x"]);
        assert_eq!(
            conv(&["p", "--url", "commit", "stop", "-c", "x"]),
            ["p", "--url", "commit", "stop", "-c", "x"]
        );
    }

    #[test]
    fn arg_checks() {
        let none: Vec<String> = vec![];
        let one = vec!["a".to_string()];
        assert!(check_all_and_args(false, false, false, &one, false).is_ok());
        assert_eq!(
            check_all_and_args(false, false, false, &none, false)
                .unwrap_err()
                .message,
            "you must provide at least one name or id"
        );
        assert_eq!(
            check_all_and_args(true, false, false, &one, false)
                .unwrap_err()
                .message,
            "no arguments are needed with --all"
        );
        assert_eq!(
            check_all_and_args(false, true, false, &one, false)
                .unwrap_err()
                .message,
            "--filter takes no arguments"
        );
        assert!(check_all_and_args(false, false, true, &none, false).is_ok());
    }
}
