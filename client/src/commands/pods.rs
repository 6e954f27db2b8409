//! `pod ...`: podman's pod commands over the libpod pods endpoints. Like podman's remote
//! client, commands acting on named pods first resolve every name (so a typo fails before
//! anything changes), then act on the full IDs and print them.

use std::collections::HashMap;
use std::io::Write;

use bindings::api::pods::PodActionReport;
use bindings::http::ApiClient;
use bindings::http::Query;
use clap::Args;
use serde_json::{json, Map, Value};

use super::containers::{parse_rfc3339, s, trunc};
use super::logs;
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::{ago, go_json_indent};

const PROG: &str = "podman-remote";

#[derive(Args, Debug)]
pub struct PodCreateArgs {
    /// Assign a name to the pod.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Publish a container's port, or a range of ports, to the host.
    #[arg(short, long = "publish")]
    pub publish: Vec<String>,
    /// Create an infra container associated with the pod to share namespaces with.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub infra: bool,
    /// The image of the infra container to associate with the pod.
    #[arg(long)]
    pub infra_image: Option<String>,
    /// The name used as infra container name.
    #[arg(long)]
    pub infra_name: Option<String>,
    /// The command to run on the infra container when the pod is started.
    #[arg(long)]
    pub infra_command: Option<String>,
    /// A comma-delimited list of kernel namespaces the pod will share.
    #[arg(long)]
    pub share: Option<String>,
    /// Connect a container to a network.
    #[arg(long, visible_alias = "net")]
    pub network: Vec<String>,
    /// Set metadata on a pod.
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Set a hostname to the pod.
    #[arg(long)]
    pub hostname: Option<String>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Set custom DNS servers.
    #[arg(long)]
    pub dns: Vec<String>,
    /// Behaviour when the last container exits: continue or stop.
    #[arg(long, default_value = "continue", value_parser = ["continue", "stop"])]
    pub exit_policy: String,
    /// Write the pod ID to the file.
    #[arg(long)]
    pub pod_id_file: Option<std::path::PathBuf>,
    /// If a pod with the same name exists, replace it.
    #[arg(long)]
    pub replace: bool,
    /// Pod name (alternative to --name).
    pub pod: Option<String>,
}

#[derive(Args, Debug)]
pub struct PodPsArgs {
    /// Display the container names.
    #[arg(long)]
    pub ctr_names: bool,
    /// Display the container UUIDs. If no-trunc is not set they will be truncated.
    #[arg(long)]
    pub ctr_ids: bool,
    /// Display the container status.
    #[arg(long)]
    pub ctr_status: bool,
    /// Filter output based on conditions given.
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Pretty-print pods to JSON or using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Do not print headers.
    #[arg(short, long)]
    pub noheading: bool,
    /// Display namespace information of the pod.
    #[arg(long)]
    pub ns: bool,
    /// Do not truncate pod and container IDs.
    #[arg(long)]
    pub no_trunc: bool,
    /// Print the numeric IDs of the pods only.
    #[arg(short, long)]
    pub quiet: bool,
    /// Sort output by created, id, name, or number.
    #[arg(long, default_value = "created")]
    pub sort: String,
}

#[derive(Args, Debug)]
pub struct PodInspectArgs {
    /// Format the output to a Go template or json.
    #[arg(short, long)]
    pub format: Option<String>,
    /// Pods to inspect.
    pub pods: Vec<String>,
}

/// Flags shared by start, pause, unpause, restart.
#[derive(Args, Debug)]
pub struct PodStartArgs {
    /// Act on all pods.
    #[arg(short, long)]
    pub all: bool,
    /// Read the pod ID from the file.
    #[arg(long)]
    pub pod_id_file: Vec<std::path::PathBuf>,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodStopArgs {
    /// Stop all running pods.
    #[arg(short, long)]
    pub all: bool,
    /// Ignore errors when a specified pod is missing.
    #[arg(short, long)]
    pub ignore: bool,
    /// Seconds to wait for pod stop before killing the container.
    #[arg(short, long, allow_negative_numbers = true)]
    pub time: Option<i64>,
    /// Read the pod ID from the file.
    #[arg(long)]
    pub pod_id_file: Vec<std::path::PathBuf>,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodRestartArgs {
    /// Restart all running pods.
    #[arg(short, long)]
    pub all: bool,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodKillArgs {
    /// Kill all pods.
    #[arg(short, long)]
    pub all: bool,
    /// Signal to send to the containers in the pod.
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodPauseArgs {
    /// Pause all running pods.
    #[arg(short, long)]
    pub all: bool,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodUnpauseArgs {
    /// Unpause all paused pods.
    #[arg(short, long)]
    pub all: bool,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodRmArgs {
    /// Remove all pods.
    #[arg(short, long)]
    pub all: bool,
    /// Stop running containers and remove them and the pod.
    #[arg(short, long)]
    pub force: bool,
    /// Ignore errors when a specified pod is missing.
    #[arg(short, long)]
    pub ignore: bool,
    /// Seconds to wait for pod stop before killing the container.
    #[arg(short, long)]
    pub time: Option<u32>,
    /// Read the pod ID from the file.
    #[arg(long)]
    pub pod_id_file: Vec<std::path::PathBuf>,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodPruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct PodTopArgs {
    /// The pod, then ps descriptors (`pid`, `args`, ...).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodStatsArgs {
    /// Provide stats for all pods.
    #[arg(short, long)]
    pub all: bool,
    /// Pretty-print container statistics to JSON or using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Disable streaming stats and only pull the first result.
    #[arg(long)]
    pub no_stream: bool,
    /// Do not clear the terminal between updates.
    #[arg(long)]
    pub no_reset: bool,
    pub pods: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodLogsArgs {
    /// The container of the pod whose logs to show (required remotely, as in podman).
    /// Its `-c` is the global `--connection`'s short name too: [`pod_logs_argv`] turns a `-c`
    /// given after `pod logs` into `--container`, as podman's local flag shadows the global one.
    #[arg(long)]
    pub container: Option<String>,
    #[command(flatten)]
    pub logs: logs::LogsArgs,
}

#[derive(Args, Debug)]
pub struct PodExistsArgs {
    pub pod: Vec<String>,
}

/// Map an engine 404 for a pod to podman's wording.
fn not_found(name: &str) -> Failure {
    Failure::msg(format!("unable to find pod {name:?}: no such pod"))
}

/// Names from `--pod-id-file` files (their first line, as podman reads them).
fn id_files(files: &[std::path::PathBuf]) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Failure::msg(format!("reading pod ID from file {}: {e}", f.display())))?;
        out.push(text.lines().next().unwrap_or("").trim().to_string());
    }
    Ok(out)
}

/// The pods a multi-pod command acts on, as full IDs. Missing pods fail the whole command
/// (before anything changes) unless `ignore`.
async fn resolve(
    client: &ApiClient,
    all: bool,
    names: &[String],
    ignore: bool,
) -> Result<Vec<String>, Failure> {
    if all {
        if !names.is_empty() {
            return Err(Failure::msg(
                "when using the --all switch, you may not pass any pod names or IDs",
            ));
        }
        let list = client.pods(&[]).await?;
        return Ok(list.iter().map(|p| s(p, "Id").to_string()).collect());
    }
    if names.is_empty() {
        return Err(Failure::msg("you must provide at least one name or id"));
    }
    let mut ids = Vec::new();
    for n in names {
        match client.pod_inspect(n).await {
            Ok(v) => ids.push(s(&v, "Id").to_string()),
            Err(e) if e.status() == Some(404) => {
                if !ignore {
                    return Err(not_found(n));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ids)
}

/// Print the IDs of pods whose action succeeded; errors go to stderr as podman prints a list
/// of errors (all but the last here, the last one becomes the command's error).
fn report_actions(reports: Vec<PodActionReport>) -> Result<u8, Failure> {
    let mut errs = Vec::new();
    let mut out = std::io::stdout().lock();
    for r in reports {
        let e = r.errors();
        if e.is_empty() {
            let _ = writeln!(out, "{}", r.id);
        } else {
            errs.extend(e);
        }
    }
    finish_errors(errs)
}

fn finish_errors(mut errs: Vec<String>) -> Result<u8, Failure> {
    let Some(last) = errs.pop() else {
        return Ok(0);
    };
    for e in errs {
        eprintln!("Error: {e}");
    }
    Err(Failure::msg(last))
}

async fn act(
    g: &GlobalOpts,
    all: bool,
    names: Vec<String>,
    ignore: bool,
    action: &str,
    q: Query,
) -> Result<u8, Failure> {
    let client = g.client().await?;
    let ids = resolve(&client, all, &names, ignore).await?;
    let mut reports = Vec::new();
    for id in ids {
        match client.pod_action(&id, action, &q).await {
            Ok(r) => reports.push(r),
            Err(e) if ignore && e.status() == Some(404) => {}
            Err(e) => reports.push(PodActionReport {
                id,
                errs: Some(vec![Value::String(e.to_string())]),
            }),
        }
    }
    report_actions(reports)
}

/// `[[ip:]hostPort[-end]:]containerPort[-end][/proto]` as podman's PortMapping.
fn parse_publish(spec: &str) -> Result<Value, Failure> {
    let bad = |why: &str| Failure::msg(format!("invalid port format {spec:?}: {why}"));
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p.to_string()),
        None => (spec, String::new()),
    };
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let (ctr, host, ip) = match parts.as_slice() {
        [c] => (*c, "", ""),
        [c, h] => (*c, *h, ""),
        [c, h, ip] => (*c, *h, *ip),
        _ => return Err(bad("empty")),
    };
    let range = |r: &str| -> Result<(u16, u16), Failure> {
        let (a, b) = r.split_once('-').unwrap_or((r, r));
        let a: u16 = a
            .parse()
            .map_err(|_| bad("ports must be numbers from 1 to 65535"))?;
        let b: u16 = b
            .parse()
            .map_err(|_| bad("ports must be numbers from 1 to 65535"))?;
        if b < a || a == 0 {
            return Err(bad("invalid port range"));
        }
        Ok((a, b - a + 1))
    };
    let (cp, n) = range(ctr)?;
    let hp = if host.is_empty() {
        0
    } else {
        let (h, hn) = range(host)?;
        if hn != n {
            return Err(bad("host and container port ranges differ in length"));
        }
        h
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Ok(json!({"host_ip": ip, "container_port": cp, "host_port": hp, "range": n, "protocol": proto}))
}

fn key_values(items: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    for l in items {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        m.insert(k.to_string(), json!(v));
    }
    m
}

/// The PodSpecGenerator podman's remote client posts for `pod create`.
fn pod_spec(a: &PodCreateArgs, name: &str) -> Result<Value, Failure> {
    let mut spec = Map::new();
    if !name.is_empty() {
        spec.insert("name".into(), json!(name));
    }
    if let Some(h) = &a.hostname {
        spec.insert("hostname".into(), json!(h));
    }
    spec.insert("exit_policy".into(), json!(a.exit_policy));
    if !a.label.is_empty() {
        spec.insert("labels".into(), Value::Object(key_values(&a.label)));
    }
    if !a.infra {
        let sharing_flags = a.share.is_some()
            || !a.publish.is_empty()
            || !a.network.is_empty()
            || a.infra_image.is_some()
            || a.infra_name.is_some()
            || a.infra_command.is_some();
        if sharing_flags {
            return Err(Failure::msg(
                "cannot set --share, --publish, --network, --infra-image, --infra-name or \
                 --infra-command without an infra container (drop --infra=false)",
            ));
        }
        spec.insert("no_infra".into(), json!(true));
    } else {
        if let Some(i) = &a.infra_image {
            spec.insert("infra_image".into(), json!(i));
        }
        if let Some(n) = &a.infra_name {
            spec.insert("infra_name".into(), json!(n));
        }
        if let Some(c) = &a.infra_command {
            spec.insert("infra_command".into(), json!([c]));
        }
        let default = ["ipc", "net", "uts"];
        let shared: Vec<String> = match a.share.as_deref() {
            None => default.iter().map(|s| s.to_string()).collect(),
            Some(s) if s.starts_with('+') => {
                let mut v: Vec<String> = default.iter().map(|s| s.to_string()).collect();
                v.extend(
                    s[1..]
                        .split(',')
                        .filter(|x| !x.is_empty())
                        .map(String::from),
                );
                v
            }
            Some(s) => s
                .split(',')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect(),
        };
        for ns in &shared {
            if !["cgroup", "ipc", "net", "pid", "uts", "none"].contains(&ns.as_str()) {
                return Err(Failure::msg(format!(
                    "{ns:?} is not a valid namespace to share: use cgroup, ipc, net, pid or uts"
                )));
            }
        }
        let shared: Vec<String> = shared.into_iter().filter(|s| s != "none").collect();
        if !shared.is_empty() {
            spec.insert("shared_namespaces".into(), json!(shared));
        }
        spec.insert("share_parent".into(), json!(true));
    }
    spec.insert("pidns".into(), json!({"nsmode": "private"}));
    spec.insert("userns".into(), json!({}));
    spec.insert("utsns".into(), json!({}));
    let mut networks = Value::Null;
    let netns = match a.network.first().map(String::as_str) {
        None => json!({}),
        Some(mode @ ("host" | "none" | "private" | "slirp4netns" | "bridge")) => {
            json!({"nsmode": mode})
        }
        Some(p) if p.starts_with("ns:") => json!({"nsmode": "path", "value": &p[3..]}),
        Some(_) => {
            let mut m = Map::new();
            for n in a.network.iter().flat_map(|n| n.split(',')) {
                m.insert(n.to_string(), json!({"interface_name": ""}));
            }
            networks = Value::Object(m);
            json!({"nsmode": "bridge"})
        }
    };
    spec.insert("netns".into(), netns);
    if !a.publish.is_empty() {
        let ports: Result<Vec<Value>, Failure> =
            a.publish.iter().map(|p| parse_publish(p)).collect();
        spec.insert("portmappings".into(), Value::Array(ports?));
    }
    if !a.add_host.is_empty() {
        spec.insert("hostadd".into(), json!(a.add_host));
    }
    if !a.dns.is_empty() {
        spec.insert("dns_server".into(), json!(a.dns));
    }
    spec.insert("Networks".into(), networks);
    spec.insert("resource_limits".into(), json!({"cpu": {}}));
    Ok(Value::Object(spec))
}

pub async fn create(g: &GlobalOpts, a: PodCreateArgs) -> Result<u8, Failure> {
    let name = match (&a.name, &a.pod) {
        (Some(_), Some(_)) => {
            return Err(Failure::msg(
                "cannot specify --name and give a pod name as an argument",
            ))
        }
        (Some(n), None) | (None, Some(n)) => n.clone(),
        (None, None) => String::new(),
    };
    let spec = pod_spec(&a, &name)?;
    let client = g.client().await?;
    if a.replace && !name.is_empty() {
        match client.pod_remove(&name, true, None).await {
            Ok(_) => {}
            Err(e) if e.status() == Some(404) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let id = client.pod_create(&spec).await?;
    if let Some(f) = &a.pod_id_file {
        write_atomic(f, &id)?;
    }
    println!("{id}");
    Ok(0)
}

/// podman's `--pod-id-file`: written whole or not at all.
fn write_atomic(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    crate::fsutil::write_atomic(path, text.as_bytes(), None)
        .map_err(|e| Failure::msg(format!("cannot write {}: {}", path.display(), e.error)))
}

/// The fields podman's pod ps reporter offers to templates.
fn ps_row(p: &Value, no_trunc: bool) -> Value {
    let mut m = p.as_object().cloned().unwrap_or_default();
    let ctrs: Vec<Value> = p
        .get("Containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let join = |f: &dyn Fn(&Value) -> String| -> String {
        ctrs.iter().map(f).collect::<Vec<_>>().join(",")
    };
    let id = trunc(s(p, "Id"), no_trunc);
    let created = parse_rfc3339(s(p, "Created")).unwrap_or(0);
    m.insert("Id".into(), json!(id));
    m.insert("ID".into(), json!(id));
    m.insert("Created".into(), json!(ago(created)));
    let infra = trunc(s(p, "InfraId"), no_trunc);
    m.insert("InfraId".into(), json!(infra));
    m.insert("InfraID".into(), json!(infra));
    m.insert(
        "ContainerIds".into(),
        json!(join(&|c| trunc(s(c, "Id"), no_trunc))),
    );
    m.insert(
        "ContainerNames".into(),
        json!(join(&|c| s(c, "Names").to_string())),
    );
    m.insert(
        "ContainerStatuses".into(),
        json!(join(&|c| s(c, "Status").to_string())),
    );
    m.insert("NumberOfContainers".into(), json!(ctrs.len()));
    let restarts: i64 = ctrs
        .iter()
        .map(|c| c.get("RestartCount").and_then(Value::as_i64).unwrap_or(0))
        .sum();
    m.insert("Restarts".into(), json!(restarts.to_string()));
    let nets = p
        .get("Networks")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    m.insert("Networks".into(), json!(nets));
    if m.get("Labels").is_none_or(Value::is_null) {
        m.insert("Labels".into(), json!({}));
    }
    Value::Object(m)
}

fn ps_headers() -> HashMap<String, String> {
    [
        ("Id", "POD ID"),
        ("ID", "POD ID"),
        ("Name", "NAME"),
        ("Status", "STATUS"),
        ("Labels", "LABELS"),
        ("NumberOfContainers", "# OF CONTAINERS"),
        ("Created", "CREATED"),
        ("InfraID", "INFRA ID"),
        ("InfraId", "INFRA ID"),
        ("ContainerIds", "IDS"),
        ("ContainerNames", "NAMES"),
        ("ContainerStatuses", "STATUS"),
        ("Cgroup", "CGROUP"),
        ("Namespace", "NAMESPACES"),
        ("Restarts", "RESTARTS"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub async fn ps(g: &GlobalOpts, a: PodPsArgs) -> Result<u8, Failure> {
    if a.quiet && a.format.is_some() {
        return Err(Failure::msg("quiet and format cannot be used together"));
    }
    for f in &a.filter {
        if !f.contains('=') {
            return Err(Failure::msg(format!(
                "filter input must be in the form of filter=value: {f} is invalid"
            )));
        }
    }
    let client = g.client().await?;
    let mut list = client.pods(&a.filter).await?;
    let created = |p: &Value| parse_rfc3339(s(p, "Created")).unwrap_or(0);
    let count = |p: &Value| {
        p.get("Containers")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    match a.sort.as_str() {
        "created" => list.sort_by_key(|p| std::cmp::Reverse(created(p))),
        "id" => list.sort_by(|x, y| s(x, "Id").cmp(s(y, "Id"))),
        "name" => list.sort_by(|x, y| s(x, "Name").cmp(s(y, "Name"))),
        "number" => list.sort_by_key(count),
        "status" => list.sort_by(|x, y| s(x, "Status").cmp(s(y, "Status"))),
        _ => {
            return Err(Failure::msg(
                "invalid option for --sort, options are: created, id, name, number, or status",
            ))
        }
    }
    let mut out = std::io::stdout().lock();
    if a.format.as_deref().is_some_and(format::is_json) {
        // podman's JSON encoder writes an empty label map over three lines.
        let text = go_json_indent(&Value::Array(list), "  ")
            .replace("\"Labels\": {}", "\"Labels\": {\n      \n    }");
        writeln!(out, "{text}")?;
        return Ok(0);
    }
    if a.quiet {
        for p in &list {
            writeln!(out, "{}", trunc(s(p, "Id"), a.no_trunc))?;
        }
        return Ok(0);
    }
    let rows: Vec<Value> = list.iter().map(|p| ps_row(p, a.no_trunc)).collect();
    let (template, user) = match &a.format {
        Some(f) => (f.clone(), true),
        None => {
            let mut row = vec![
                "{{.Id}}",
                "{{.Name}}",
                "{{.Status}}",
                "{{.Created}}",
                "{{.InfraID}}",
            ];
            if a.ctr_ids {
                row.push("{{.ContainerIds}}");
            }
            if a.ctr_names {
                row.push("{{.ContainerNames}}");
            }
            if a.ctr_status {
                row.push("{{.ContainerStatuses}}");
            }
            if a.ns {
                row.push("{{.Cgroup}}");
                row.push("{{.Namespace}}");
            }
            if !a.ctr_ids && !a.ctr_names && !a.ctr_status {
                row.push("{{.NumberOfContainers}}");
            }
            (row.join("\t"), false)
        }
    };
    format::print_rows(&template, &rows, &ps_headers(), user, a.noheading, &mut out)
        .map_err(|e| Failure::msg(e.to_string()))?;
    Ok(0)
}

pub async fn inspect(g: &GlobalOpts, a: PodInspectArgs) -> Result<u8, Failure> {
    if a.pods.is_empty() {
        return Err(Failure::msg(format!(
            "\"{PROG} pod inspect\" requires a name, id, or the \"--latest\" flag"
        )));
    }
    let client = g.client().await?;
    let mut data = Vec::new();
    let mut errs = Vec::new();
    for n in &a.pods {
        match client.pod_inspect(n).await {
            Ok(v) => data.push(v),
            Err(e) if e.status() == Some(404) => errs.push(format!("no such pod {n:?}")),
            Err(e) => return Err(e.into()),
        }
    }
    let mut out = std::io::stdout().lock();
    let fmt = a.format.as_deref().unwrap_or("");
    if fmt.is_empty() || format::is_json(fmt) {
        // podman prints a lone pod as an object, several (or none) as an array.
        let doc = if data.len() == 1 {
            data.remove(0)
        } else {
            Value::Array(data)
        };
        writeln!(out, "{}", format::to_go_json(&doc, false, Some("     ")))?;
    } else {
        format::print_rows(fmt, &data, &HashMap::new(), true, true, &mut out)
            .map_err(|e| Failure::msg(e.to_string()))?;
    }
    match errs.pop() {
        None => Ok(0),
        Some(last) => {
            for e in errs {
                eprintln!("Error: {e}");
            }
            Err(Failure::msg(format!("inspecting object: {last}")))
        }
    }
}

pub async fn start(g: &GlobalOpts, a: PodStartArgs) -> Result<u8, Failure> {
    let mut names = a.pods;
    names.extend(id_files(&a.pod_id_file)?);
    act(g, a.all, names, false, "start", Query::new()).await
}

pub async fn stop(g: &GlobalOpts, a: PodStopArgs) -> Result<u8, Failure> {
    let mut names = a.pods;
    names.extend(id_files(&a.pod_id_file)?);
    let q = Query::new().opt("t", a.time);
    act(g, a.all, names, a.ignore, "stop", q).await
}

pub async fn restart(g: &GlobalOpts, a: PodRestartArgs) -> Result<u8, Failure> {
    act(g, a.all, a.pods, false, "restart", Query::new()).await
}

pub async fn kill(g: &GlobalOpts, a: PodKillArgs) -> Result<u8, Failure> {
    let sig = crate::signals::parse_signal(&a.signal).map_err(Failure::msg)?;
    act(
        g,
        a.all,
        a.pods,
        false,
        "kill",
        Query::new().add("signal", sig),
    )
    .await
}

pub async fn pause(g: &GlobalOpts, a: PodPauseArgs) -> Result<u8, Failure> {
    act(g, a.all, a.pods, false, "pause", Query::new()).await
}

pub async fn unpause(g: &GlobalOpts, a: PodUnpauseArgs) -> Result<u8, Failure> {
    act(g, a.all, a.pods, false, "unpause", Query::new()).await
}

pub async fn rm(g: &GlobalOpts, a: PodRmArgs) -> Result<u8, Failure> {
    let mut names = a.pods;
    names.extend(id_files(&a.pod_id_file)?);
    let client = g.client().await?;
    let ids = match resolve(&client, a.all, &names, a.ignore).await {
        Ok(ids) => ids,
        // podman's `pod rm` exits 1 when a named pod does not exist.
        Err(f) if f.message.contains("no such pod") => {
            return Err(Failure::with_code(1, f.message))
        }
        Err(f) => return Err(f),
    };
    let mut errs = Vec::new();
    let mut out = std::io::stdout().lock();
    for id in ids {
        match client.pod_remove(&id, a.force, a.time).await {
            Ok(r) => match r.error() {
                None => writeln!(out, "{}", r.id)?,
                Some(e) => errs.push(e),
            },
            Err(e) if e.status() == Some(404) && a.ignore => {}
            Err(e) => errs.push(e.to_string()),
        }
    }
    finish_errors(errs)
}

pub async fn prune(g: &GlobalOpts, a: PodPruneArgs) -> Result<u8, Failure> {
    if !a.force && !confirm("WARNING! This will remove all stopped/exited pods..\nAre you sure you want to continue? [y/N] ")? {
        return Ok(0);
    }
    let client = g.client().await?;
    let reports = client.pod_prune().await?;
    let mut errs = Vec::new();
    let mut out = std::io::stdout().lock();
    for r in reports {
        match r.error() {
            None => writeln!(out, "{}", r.id)?,
            Some(e) => errs.push(e),
        }
    }
    finish_errors(errs)
}

/// podman's y/N prompt: anything but y/Y (or yes) declines.
pub fn confirm(prompt: &str) -> Result<bool, Failure> {
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::msg(format!("error reading input: {e}")))?;
    let answer = line.trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}

pub async fn top(g: &GlobalOpts, a: PodTopArgs) -> Result<u8, Failure> {
    let Some((name, descriptors)) = a.args.split_first() else {
        return Err(Failure::msg(format!(
            "\"{PROG} pod top\" requires a name, id, or the \"--latest\" flag"
        )));
    };
    let client = g.client().await?;
    let body = match client.pod_top(name, descriptors).await {
        Ok(b) => b,
        // The engine answers 200 without a body when the pod has no running container.
        Err(bindings::Error::Decode { .. }) => {
            return Err(Failure::msg(format!(
                "unexpected end of JSON input: the engine sent no process table for pod \
                 {name:?} (is the pod running, and are the descriptors valid?)"
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

pub async fn stats(g: &GlobalOpts, a: PodStatsArgs) -> Result<u8, Failure> {
    if a.all && !a.pods.is_empty() {
        return Err(Failure::msg("--all and pod names cannot be used together"));
    }
    let client = g.client().await?;
    let all = a.all || a.pods.is_empty();
    let headers: HashMap<String, String> = [
        ("Pod", "POD"),
        ("CID", "CID"),
        ("Name", "NAME"),
        ("CPU", "CPU %"),
        ("MemUsage", "MEM USAGE/ LIMIT"),
        ("MemUsageBytes", "MEM USAGE/ LIMIT"),
        ("Mem", "MEM %"),
        ("NetIO", "NET IO"),
        ("BlockIO", "BLOCK IO"),
        ("PIDS", "PIDS"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    loop {
        let rows = client
            .pod_stats(&a.pods, all)
            .await
            .map_err(|e| Failure::msg(format!("unable to get list of pods: {e}")))?;
        let mut out = std::io::stdout().lock();
        if !a.no_stream && !a.no_reset {
            write!(out, "\x1b[2J\x1b[H")?;
        }
        match a.format.as_deref() {
            Some(f) if format::is_json(f) => {
                writeln!(out, "{}", format::to_go_json(&Value::Array(rows), false, Some("     ")))?;
            }
            Some(f) => {
                // podman heads even a plain (non-table) template's output with its column
                // names, rendered through the same template.
                if !f.trim_start().starts_with("table") {
                    let head: serde_json::Map<String, Value> = headers
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                    format::print_rows(f, &[Value::Object(head)], &headers, true, true, &mut out)
                        .map_err(|e| Failure::msg(e.to_string()))?;
                }
                format::print_rows(f, &rows, &headers, true, false, &mut out)
                    .map_err(|e| Failure::msg(e.to_string()))?
            }
            None => format::print_rows(
                "{{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPU}}\t{{.MemUsage}}\t{{.Mem}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDS}}",
                &rows,
                &headers,
                false,
                false,
                &mut out,
            )
            .map_err(|e| Failure::msg(e.to_string()))?,
        }
        out.flush()?;
        if a.no_stream {
            return Ok(0);
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Rewrites a `-c` given after `pod logs` (alone, `-cNAME`, `-c=NAME`, or ending a cluster of
/// boolean short flags such as `-fc`) into `--container`, so that it names the pod's container
/// and not the global `--connection`; everything else is left as it is.
pub fn pod_logs_argv(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
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
    // Options of `pod logs` that take a separate value, which must stay as they are.
    const VALUED: &[&str] = &["--container", "--since", "--until", "--tail"];
    let mut words = Vec::new();
    let mut i = 1;
    while i < args.len() && words.len() < 2 {
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
        if !t.starts_with('-') {
            words.push(t.to_string());
        }
        i += 1;
    }
    if words != ["pod", "logs"] {
        return args;
    }
    while i < args.len() {
        let Some(t) = args[i].to_str().map(str::to_string) else {
            i += 1;
            continue;
        };
        if t == "--" {
            break;
        }
        if VALUED.contains(&t.as_str()) {
            i += 2;
            continue;
        }
        let Some(body) = t
            .strip_prefix('-')
            .filter(|b| !b.is_empty() && !b.starts_with('-'))
        else {
            i += 1;
            continue;
        };
        // Boolean short flags of `pod logs` that may precede `c` in a cluster.
        let lead = body
            .find(|ch| !matches!(ch, 'f' | 'n' | 't'))
            .unwrap_or(body.len());
        if !body[lead..].starts_with('c') {
            i += 1;
            continue;
        }
        let rest = body[lead + 1..].trim_start_matches('=');
        let mut parts: Vec<std::ffi::OsString> = Vec::new();
        if lead > 0 {
            parts.push(format!("-{}", &body[..lead]).into());
        }
        let takes_next = rest.is_empty();
        parts.push(if takes_next {
            "--container".into()
        } else {
            format!("--container={rest}").into()
        });
        let n = parts.len();
        args.splice(i..=i, parts);
        i += n + usize::from(takes_next);
    }
    args
}

pub async fn logs(g: &GlobalOpts, a: PodLogsArgs) -> Result<u8, Failure> {
    // podman's remote client cannot merge the logs of a pod's containers: it requires the one
    // container to show.
    let Some(ctr) = a.container.filter(|c| !c.is_empty()) else {
        return Err(Failure::msg(
            "-c or --container cannot be empty: invalid argument",
        ));
    };
    let mut la = a.logs;
    if la.containers.is_empty() {
        return Err(Failure::msg(format!(
            "\"{PROG} pod logs\" requires a pod name or ID"
        )));
    }
    let client = g.client().await?;
    let pod = la.containers.remove(0);
    let info = match client.pod_inspect(&pod).await {
        Ok(v) => v,
        Err(e) if e.status() == Some(404) => return Err(not_found(&pod)),
        Err(e) => return Err(e.into()),
    };
    let member = info
        .get("Containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| s(c, "Name") == ctr || s(c, "Id").starts_with(&ctr));
    if !member {
        return Err(Failure::msg(format!(
            "container {ctr:?} is not in pod {pod:?}"
        )));
    }
    la.containers = vec![ctr];
    logs::logs(g, la).await
}

pub async fn exists(g: &GlobalOpts, a: PodExistsArgs) -> Result<u8, Failure> {
    if a.pod.len() != 1 {
        return Err(Failure::msg(format!(
            "accepts 1 arg(s), received {}",
            a.pod.len()
        )));
    }
    let client = g.client().await?;
    Ok(if client.pod_exists(&a.pod[0]).await? {
        0
    } else {
        1
    })
}

#[derive(clap::Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum PodCmd {
    /// Create a new empty pod.
    Create(PodCreateArgs),
    /// List pods.
    #[command(visible_aliases = ["ls", "list"])]
    Ps(PodPsArgs),
    /// Display a pod configuration.
    Inspect(PodInspectArgs),
    /// Start one or more pods.
    Start(PodStartArgs),
    /// Stop one or more pods.
    Stop(PodStopArgs),
    /// Restart one or more pods.
    Restart(PodRestartArgs),
    /// Send the specified signal or SIGKILL to containers in pod.
    Kill(PodKillArgs),
    /// Pause one or more pods.
    Pause(PodPauseArgs),
    /// Unpause one or more pods.
    Unpause(PodUnpauseArgs),
    /// Remove one or more pods.
    Rm(PodRmArgs),
    /// Remove all stopped pods and their containers.
    Prune(PodPruneArgs),
    /// Display the running processes of containers in a pod.
    Top(PodTopArgs),
    /// Display a live stream of resource usage statistics for the containers in one or more pods.
    Stats(PodStatsArgs),
    /// Fetch logs for pod with one or more containers.
    Logs(PodLogsArgs),
    /// Check if a pod exists in local storage.
    Exists(PodExistsArgs),
}

pub async fn pod(g: &GlobalOpts, c: PodCmd) -> Result<u8, Failure> {
    match c {
        PodCmd::Create(a) => create(g, a).await,
        PodCmd::Ps(a) => ps(g, a).await,
        PodCmd::Inspect(a) => inspect(g, a).await,
        PodCmd::Start(a) => start(g, a).await,
        PodCmd::Stop(a) => stop(g, a).await,
        PodCmd::Restart(a) => restart(g, a).await,
        PodCmd::Kill(a) => kill(g, a).await,
        PodCmd::Pause(a) => pause(g, a).await,
        PodCmd::Unpause(a) => unpause(g, a).await,
        PodCmd::Rm(a) => rm(g, a).await,
        PodCmd::Prune(a) => prune(g, a).await,
        PodCmd::Top(a) => top(g, a).await,
        PodCmd::Stats(a) => stats(g, a).await,
        PodCmd::Logs(a) => logs(g, a).await,
        PodCmd::Exists(a) => exists(g, a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_logs_c_means_container() {
        let v = |a: &[&str]| -> Vec<std::ffi::OsString> { a.iter().map(Into::into).collect() };
        assert_eq!(
            pod_logs_argv(v(&["p", "-c", "conn", "pod", "logs", "-c", "ctr", "mypod"])),
            v(&[
                "p",
                "-c",
                "conn",
                "pod",
                "logs",
                "--container",
                "ctr",
                "mypod"
            ])
        );
        assert_eq!(
            pod_logs_argv(v(&[
                "p", "pod", "logs", "-fcctr", "--tail", "-c", "-c=x", "pod"
            ])),
            v(&[
                "p",
                "pod",
                "logs",
                "-f",
                "--container=ctr",
                "--tail",
                "-c",
                "--container=x",
                "pod"
            ])
        );
        // Other commands keep -c as the global --connection.
        assert_eq!(
            pod_logs_argv(v(&["p", "pod", "ps", "-c", "x"])),
            v(&["p", "pod", "ps", "-c", "x"])
        );
        assert_eq!(
            pod_logs_argv(v(&["p", "logs", "-c", "x"])),
            v(&["p", "logs", "-c", "x"])
        );
    }

    #[test]
    fn publish_specs() {
        assert_eq!(
            parse_publish("8080:80").unwrap(),
            json!({"host_ip":"","container_port":80,"host_port":8080,"range":1,"protocol":""})
        );
        assert_eq!(
            parse_publish("127.0.0.1:9000-9001:90-91/udp").unwrap(),
            json!({"host_ip":"127.0.0.1","container_port":90,"host_port":9000,"range":2,"protocol":"udp"})
        );
        assert!(parse_publish("x:80").is_err());
        assert!(parse_publish("1-3:80-81").is_err());
    }

    #[test]
    fn ps_row_fields() {
        let p = json!({"Id":"0123456789abcdef","InfraId":"","Created":"2020-01-01T00:00:00Z",
            "Containers":[{"Id":"aaaaaaaaaaaaaaaa","Names":"x","Status":"running","RestartCount":2},
                          {"Id":"bbbbbbbbbbbbbbbb","Names":"y","Status":"exited"}],"Networks":["a","b"]});
        let r = ps_row(&p, false);
        assert_eq!(r["Id"], "0123456789ab");
        assert_eq!(r["ContainerIds"], "aaaaaaaaaaaa,bbbbbbbbbbbb");
        assert_eq!(r["ContainerStatuses"], "running,exited");
        assert_eq!(r["NumberOfContainers"], 2);
        assert_eq!(r["Restarts"], "2");
        assert_eq!(r["Networks"], "a,b");
        assert_eq!(r["Labels"], json!({}));
    }
}
