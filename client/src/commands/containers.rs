//! Container listing and removal (ps, rm), and the `container ...` group that dispatches to
//! every container command (each group of commands lives in its own file).

use std::collections::HashMap;
use std::io::Write;

use bindings::api::containers::{ListContainers, RemoveOptions};
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use super::{attach, cp, create, lifecycle, logs, stats};
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::{ago, go_json_indent, human_duration, human_size, now_unix};

#[derive(Subcommand, Debug)]
pub enum ContainerCmd {
    /// List containers.
    #[command(visible_aliases = ["ls", "list"])]
    Ps(PsArgs),
    /// Remove one or more containers.
    Rm(RmArgs),
    /// Run a command in a new container.
    Run(create::RunArgs),
    /// Create but do not start a container.
    Create(create::CreateArgs),
    /// Start one or more containers.
    Start(attach::StartArgs),
    /// Attach to a running container.
    Attach(attach::AttachArgs),
    /// Run a process in a running container.
    Exec(attach::ExecArgs),
    /// Stop one or more containers.
    Stop(lifecycle::StopArgs),
    /// Restart one or more containers.
    Restart(lifecycle::RestartArgs),
    /// Kill one or more running containers with a specific signal.
    Kill(lifecycle::KillArgs),
    /// Pause all the processes in one or more containers.
    Pause(lifecycle::PauseArgs),
    /// Unpause the processes in one or more containers.
    Unpause(lifecycle::PauseArgs),
    /// Rename an existing container.
    Rename(lifecycle::RenameArgs),
    /// Block on one or more containers.
    Wait(lifecycle::WaitArgs),
    /// Initialize one or more containers.
    Init(lifecycle::InitArgs),
    /// Check if a container exists in local storage.
    Exists(lifecycle::ExistsArgs),
    /// Remove all non running containers.
    Prune(lifecycle::PruneArgs),
    /// Display the configuration of a container.
    Inspect(lifecycle::ContainerInspectArgs),
    /// List port mappings or a specific mapping for the container.
    Port(lifecycle::PortArgs),
    /// Display the running processes of a container.
    Top(lifecycle::TopArgs),
    /// Inspect changes to the container's file systems.
    Diff(lifecycle::DiffArgs),
    /// Export a container's filesystem contents as a tar archive.
    Export(lifecycle::ExportArgs),
    /// Create new image based on the changed container.
    Commit(lifecycle::CommitArgs),
    /// Fetch the logs of one or more containers.
    Logs(logs::LogsArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(cp::CpArgs),
    /// Display a live stream of container resource usage statistics.
    Stats(stats::StatsArgs),
    #[command(external_subcommand)]
    Other(Vec<String>),
}

pub async fn container(g: &GlobalOpts, c: ContainerCmd) -> Result<u8, Failure> {
    match c {
        ContainerCmd::Ps(a) => ps(g, a).await,
        ContainerCmd::Rm(a) => rm(g, a).await,
        ContainerCmd::Run(a) => create::run(g, a).await,
        ContainerCmd::Create(a) => create::create(g, a).await,
        ContainerCmd::Start(a) => attach::start(g, a).await,
        ContainerCmd::Attach(a) => attach::attach(g, a).await,
        ContainerCmd::Exec(a) => attach::exec(g, a).await,
        ContainerCmd::Stop(a) => lifecycle::stop(g, a).await,
        ContainerCmd::Restart(a) => lifecycle::restart(g, a).await,
        ContainerCmd::Kill(a) => lifecycle::kill(g, a).await,
        ContainerCmd::Pause(a) => lifecycle::pause(g, a, true).await,
        ContainerCmd::Unpause(a) => lifecycle::pause(g, a, false).await,
        ContainerCmd::Rename(a) => lifecycle::rename(g, a).await,
        ContainerCmd::Wait(a) => lifecycle::wait(g, a).await,
        ContainerCmd::Init(a) => lifecycle::init(g, a).await,
        ContainerCmd::Exists(a) => lifecycle::exists(g, a).await,
        ContainerCmd::Prune(a) => lifecycle::prune(g, a).await,
        ContainerCmd::Inspect(a) => lifecycle::container_inspect(g, a).await,
        ContainerCmd::Port(a) => lifecycle::port(g, a).await,
        ContainerCmd::Top(a) => lifecycle::top(g, a).await,
        ContainerCmd::Diff(a) => lifecycle::container_diff(g, a).await,
        ContainerCmd::Export(a) => lifecycle::export(g, a).await,
        ContainerCmd::Commit(a) => lifecycle::commit(g, a).await,
        ContainerCmd::Logs(a) => logs::logs(g, a).await,
        ContainerCmd::Cp(a) => cp::cp(g, a).await,
        ContainerCmd::Stats(a) => stats::stats(g, a).await,
        ContainerCmd::Other(args) => {
            let name = args.first().cloned().unwrap_or_default();
            match name.as_str() {
                "mount" | "unmount" | "umount" | "cleanup" | "runlabel" | "checkpoint"
                | "restore" => Err(Failure::msg(format!(
                    "cannot use command \"podman-remote container {name}\" with the remote podman client"
                ))),
                "clone" | "update" => Err(Failure::not_built(&format!("container {name}"), "")),
                _ => Err(Failure::msg(format!(
                    "unrecognized command `podman-remote container {name}`\nTry 'podman-remote container --help' for more information"
                ))),
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all the containers, default is only running containers.
    #[arg(short, long)]
    all: bool,
    /// Filter output based on conditions given.
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Pretty-print containers to JSON or using a Go template.
    #[arg(long)]
    format: Option<String>,
    /// Print the n last created containers (all states).
    #[arg(short = 'n', long, default_value_t = -1, allow_negative_numbers = true)]
    last: i64,
    /// Display the extended information.
    #[arg(long)]
    no_trunc: bool,
    /// Do not print headers.
    #[arg(long)]
    noheading: bool,
    /// Print the numeric IDs of the containers only.
    #[arg(short, long)]
    quiet: bool,
    /// Display the total file sizes.
    #[arg(short, long)]
    size: bool,
    /// Show containers in storage not controlled by Podman.
    #[arg(long)]
    external: bool,
    /// Print the ID and name of the pod the containers are associated with.
    #[arg(short, long)]
    pod: bool,
    /// Display namespace information.
    #[arg(long)]
    ns: bool,
    /// Sort output by: command, created, id, image, names, runningfor, size, status.
    #[arg(long, value_parser = ["command", "created", "id", "image", "names", "runningfor", "size", "status"])]
    sort: Option<String>,
}

pub(crate) fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn i(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}

pub(crate) fn trunc(id: &str, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        id.chars().take(12).collect()
    }
}

/// Seconds since the epoch of the `Created` field, which libpod sends as RFC 3339.
pub(crate) fn created_unix(c: &Value) -> i64 {
    match c.get("Created") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(t)) => parse_rfc3339(t).unwrap_or(0),
        _ => 0,
    }
}

/// Minimal RFC 3339 parser (libpod timestamps), to whole seconds.
pub fn parse_rfc3339(t: &str) -> Option<i64> {
    let (date, rest) = t.split_once('T')?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let tz_pos = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (clock, tz) = rest.split_at(tz_pos);
    let mut c = clock.split(':');
    let (hh, mm): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let ss: f64 = c.next()?.parse().ok()?;
    let offset = if tz.is_empty() || tz == "Z" {
        0
    } else {
        let sign = if tz.starts_with('-') { -1 } else { 1 };
        let (oh, om) = tz[1..].split_once(':')?;
        sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
    };
    // Days from civil date (proleptic Gregorian), Howard Hinnant's algorithm.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = if y2 >= 0 { y2 } else { y2 - 399 } / 400;
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + hh * 3600 + mm * 60 + ss as i64 - offset)
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// podman's ps STATUS column.
fn status(c: &Value) -> String {
    let mut st = match s(c, "State") {
        "running" => format!("Up {}", human_duration(now_unix() - i(c, "StartedAt"))),
        "exited" | "stopped" => format!(
            "Exited ({}) {} ago",
            i(c, "ExitCode"),
            human_duration(now_unix() - i(c, "ExitedAt"))
        ),
        other => title(other),
    };
    let hc = s(c, "Status");
    if !hc.is_empty() {
        st.push_str(&format!(" ({hc})"));
    }
    st
}

fn ports(c: &Value) -> String {
    let mut out = Vec::new();
    if let Some(ps) = c.get("Ports").and_then(Value::as_array) {
        for p in ps {
            let host_ip = match s(p, "host_ip") {
                "" => "0.0.0.0",
                ip => ip,
            };
            let (hp, cp, range) = (i(p, "host_port"), i(p, "container_port"), i(p, "range"));
            let proto = s(p, "protocol");
            if range > 1 {
                out.push(format!(
                    "{host_ip}:{hp}-{}->{cp}-{}/{proto}",
                    hp + range - 1,
                    cp + range - 1
                ));
            } else {
                out.push(format!("{host_ip}:{hp}->{cp}/{proto}"));
            }
        }
    }
    out.join(", ")
}

/// The fields podman's `psReporter` offers to templates, computed as podman computes them.
fn ps_row(c: &Value, no_trunc: bool) -> Value {
    let mut m: Map<String, Value> = c.as_object().cloned().unwrap_or_default();
    let command = c
        .get("Command")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let command = if !no_trunc && command.len() > 17 {
        let mut cut = 17;
        while !command.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &command[..cut])
    } else {
        command
    };
    let names = c
        .get("Names")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let created = created_unix(c);
    m.insert("ID".into(), json!(trunc(s(c, "Id"), no_trunc)));
    m.insert("ImageID".into(), json!(trunc(s(c, "ImageID"), no_trunc)));
    m.insert("Pod".into(), json!(trunc(s(c, "Pod"), no_trunc)));
    m.insert("Command".into(), json!(command));
    m.insert("Names".into(), json!(names));
    m.insert("Status".into(), json!(status(c)));
    m.insert("State".into(), json!(s(c, "State")));
    m.insert("CreatedHuman".into(), json!(ago(created)));
    m.insert("RunningFor".into(), json!(ago(created)));
    m.insert("CreatedAt".into(), json!(s(c, "Created")));
    m.insert("Ports".into(), json!(ports(c)));
    m.insert("Restarts".into(), json!(i(c, "Restarts").to_string()));
    let networks = c
        .get("Networks")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    m.insert("Networks".into(), json!(networks));
    if let Some(sz) = c.get("Size").filter(|v| v.is_object()) {
        let rw = sz.get("RwSize").and_then(Value::as_f64).unwrap_or(0.0);
        let root = sz.get("RootFsSize").and_then(Value::as_f64).unwrap_or(0.0);
        m.insert(
            "Size".into(),
            json!(format!("{} (virtual {})", human_size(rw), human_size(root))),
        );
    }
    // podman's Namespaces struct always has these fields (empty for a container that never
    // ran); templates see them both as `.Namespaces.X` and `.X`.
    let mut ns = c
        .get("Namespaces")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in ["Cgroup", "IPC", "MNT", "NET", "PIDNS", "User", "UTS"] {
        let v = ns.get(k).cloned().unwrap_or_else(|| json!(""));
        ns.insert(k.to_string(), v.clone());
        m.entry(k.to_string()).or_insert(v);
    }
    m.insert("Namespaces".into(), Value::Object(ns));
    // JSON has no typed empty values: Go's nil map and nil slice arrive as null, but podman's
    // templates print them as `map[]` and `[]`.
    for (k, empty) in [
        ("Labels", json!({})),
        ("Mounts", json!([])),
        ("ExposedPorts", json!({})),
    ] {
        if m.get(k).is_none_or(Value::is_null) {
            m.insert(k.to_string(), empty);
        }
    }
    Value::Object(m)
}

fn ps_headers() -> HashMap<String, String> {
    [
        ("ID", "CONTAINER ID"),
        ("CreatedHuman", "CREATED"),
        ("Pod", "POD ID"),
        ("PodName", "PODNAME"),
        ("RunningFor", "RUNNING FOR"),
        ("Cgroup", "CGROUPNS"),
        ("User", "USERNS"),
        ("PIDNS", "PIDNS"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn sort_key(c: &Value, by: &str) -> (String, i64) {
    match by {
        "command" => (ps_row(c, true)["Command"].as_str().unwrap_or("").into(), 0),
        "created" | "runningfor" => (String::new(), created_unix(c)),
        "id" => (s(c, "Id").into(), 0),
        "image" => (s(c, "Image").into(), 0),
        "names" => (ps_row(c, true)["Names"].as_str().unwrap_or("").into(), 0),
        "status" => (s(c, "State").into(), 0),
        "size" => (
            String::new(),
            c.get("Size")
                .and_then(|s| s.get("RootFsSize"))
                .and_then(Value::as_i64)
                .unwrap_or(0),
        ),
        _ => (String::new(), 0),
    }
}

pub async fn ps(g: &GlobalOpts, a: PsArgs) -> Result<u8, Failure> {
    if a.quiet && (a.size || a.ns) {
        return Err(Failure::msg("quiet conflicts with size and namespace"));
    }
    if a.size && a.ns {
        return Err(Failure::msg("size and namespace options conflict"));
    }
    for f in &a.filter {
        if !f.contains('=') {
            return Err(Failure::msg(format!("invalid filter {f:?}")));
        }
    }
    let client = g.client().await?;
    let opts = ListContainers {
        all: a.all,
        filters: a.filter.clone(),
        last: (a.last >= 0).then_some(a.last),
        size: a.size,
        external: a.external,
        namespace: a.ns,
        pod: a.pod || a.format.as_deref().is_some_and(|f| f.contains(".PodName")),
    };
    let mut list = client.containers(&opts).await?;
    if let Some(by) = &a.sort {
        list.sort_by_key(|c| sort_key(c, by));
    }
    let fmt = a.format.as_deref();
    let mut out = std::io::stdout().lock();
    if fmt.is_some_and(format::is_json) {
        // podman prints ListContainer with Created as unix seconds and the human fields filled.
        let rows: Vec<Value> = list
            .iter()
            .map(|c| {
                let mut m = c.as_object().cloned().unwrap_or_default();
                let created = created_unix(c);
                m.shift_remove("Created");
                m.insert("CreatedAt".into(), json!(ago(created)));
                m.insert("Status".into(), json!(status(c)));
                m.insert("Created".into(), json!(created));
                Value::Object(m)
            })
            .collect();
        writeln!(out, "{}", go_json_indent(&Value::Array(rows), "  "))?;
        return Ok(0);
    }
    if a.quiet && fmt.is_none() {
        for c in &list {
            writeln!(out, "{}", trunc(s(c, "Id"), a.no_trunc))?;
        }
        return Ok(0);
    }
    let rows: Vec<Value> = list.iter().map(|c| ps_row(c, a.no_trunc)).collect();
    let (template, user) = match fmt {
        // podman lets `.Namespaces.NET` and `.NET` mean the same.
        Some(f) => (f.replace(".Namespaces.", "."), true),
        None if a.ns => (
            "{{.ID}}\t{{.Names}}\t{{.Pid}}\t{{.Cgroup}}\t{{.IPC}}\t{{.MNT}}\t{{.NET}}\t{{.PIDNS}}\t{{.User}}\t{{.UTS}}"
                .to_string(),
            false,
        ),
        None => {
            let mut row =
                "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
                    .to_string();
            if a.pod {
                row.push_str("\t{{.Pod}}\t{{.PodName}}");
            }
            if a.size {
                row.push_str("\t{{.Size}}");
            }
            (row, false)
        }
    };
    format::print_rows(&template, &rows, &ps_headers(), user, a.noheading, &mut out)
        .map_err(|e| Failure::msg(e.to_string()))?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Remove all containers.
    #[arg(short, long)]
    all: bool,
    /// Force removal of a running or unusable container.
    #[arg(short, long)]
    force: bool,
    /// Ignore errors when a specified container is missing.
    #[arg(short, long)]
    ignore: bool,
    /// Remove anonymous volumes associated with the container.
    #[arg(short, long)]
    volumes: bool,
    /// Remove container and all containers that depend on it.
    #[arg(long)]
    depend: bool,
    /// Seconds to wait for stop before killing the container.
    #[arg(short, long)]
    time: Option<u32>,
    /// Containers to remove.
    containers: Vec<String>,
}

pub async fn rm(g: &GlobalOpts, a: RmArgs) -> Result<u8, Failure> {
    if a.all && !a.containers.is_empty() {
        return Err(Failure::msg(
            "when using the --all switch, you may not pass any containers names or IDs",
        ));
    }
    if !a.all && a.containers.is_empty() {
        return Err(Failure::msg("you must provide at least one name or id"));
    }
    let client = g.client().await?;
    let targets: Vec<String> = if a.all {
        client
            .containers(&ListContainers {
                all: true,
                ..Default::default()
            })
            .await?
            .iter()
            .map(|c| s(c, "Id").to_string())
            .collect()
    } else {
        a.containers.clone()
    };
    let opts = RemoveOptions {
        force: a.force,
        volumes: a.volumes,
        ignore: a.ignore,
        depend: a.depend,
        timeout: a.time,
    };
    // podman rm: 1 when a container did not exist, 2 when one is running, 125 otherwise.
    let mut code = 0u8;
    let mut out = std::io::stdout().lock();
    for name in &targets {
        match client.container_remove(name, &opts).await {
            Ok(reports) => {
                for r in reports {
                    match r.err {
                        Some(err) if !err.is_empty() => {
                            eprintln!("Error: {err}");
                            code = code.max(125);
                        }
                        _ => writeln!(out, "{}", if a.all { &r.id } else { name })?,
                    }
                }
            }
            Err(e) if e.status() == Some(404) => {
                eprintln!("Error: {e}");
                if code == 0 {
                    code = 1;
                }
            }
            Err(e) if e.status() == Some(409) => {
                eprintln!("Error: {e}");
                if code < 2 {
                    code = 2;
                }
            }
            Err(e) if e.status().is_none() => return Err(e.into()),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 125;
            }
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-28T11:00:00.123456789Z"),
            Some(1795863600)
        );
        assert_eq!(parse_rfc3339("2026-11-28T12:00:00+01:00"), Some(1795863600));
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn ps_status_and_ports() {
        let c = json!({"State": "created", "Status": ""});
        assert_eq!(status(&c), "Created");
        let c = json!({"State": "exited", "ExitCode": 3, "ExitedAt": now_unix() - 5, "Status": ""});
        assert_eq!(status(&c), "Exited (3) 5 seconds ago");
        let c = json!({"Ports": [
            {"host_ip": "", "host_port": 8080, "container_port": 80, "protocol": "tcp", "range": 1},
            {"host_ip": "127.0.0.1", "host_port": 9000, "container_port": 9000, "protocol": "udp", "range": 3}
        ]});
        assert_eq!(
            ports(&c),
            "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9002->9000-9002/udp"
        );
    }

    #[test]
    fn ps_row_truncates_like_podman() {
        let c = json!({"Id": "0123456789abcdef0123", "Command": ["sh", "-c", "echo hello world forever"],
                       "Names": ["n1"], "State": "running", "StartedAt": now_unix()});
        let r = ps_row(&c, false);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["Command"], "sh -c echo hello ...");
        assert_eq!(r["Names"], "n1");
        let r = ps_row(&c, true);
        assert_eq!(r["ID"], "0123456789abcdef0123");
        assert_eq!(r["Command"], "sh -c echo hello world forever");
    }
}
