//! Flags → podman's SpecGenerator JSON (the body of `POST /libpod/containers/create`), with
//! the same keys and client-side defaults podman 4.3.1's remote client sends, and its checks in
//! the same order: network flags and option conflicts first (before any pull), then the rest.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::flags::CreateFlags;
use super::parse::{self, PResult};

/// What the spec builder may read from the client machine; injected so the translation stays a
/// pure function under test.
pub struct Host<'a> {
    pub lookup_env: &'a dyn Fn(&str) -> Option<String>,
    pub all_env: &'a dyn Fn() -> Vec<(String, String)>,
    /// Contents of a local file, or Go's "open PATH: reason" message.
    pub read_file: &'a dyn Fn(&str) -> PResult<String>,
}

/// Network-related flags, parsed first as podman does.
#[derive(Debug, Default, Clone)]
pub struct NetOptions {
    /// `netns`; an empty object lets the engine pick its default.
    pub netns: Map<String, Value>,
    /// `Networks`: null unless --network was given.
    pub networks: Option<Map<String, Value>>,
    pub network_options: Option<Map<String, Value>>,
    pub ports: Vec<parse::PortMapping>,
    pub add_hosts: Vec<String>,
    pub dns_servers: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub use_image_resolv_conf: bool,
}

fn ns(mode: &str, value: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("nsmode".into(), json!(mode));
    if let Some(v) = value {
        m.insert("value".into(), json!(v));
    }
    m
}

/// Per-network options "name:ip=..,mac=..,alias=..,interface_name=..".
fn network_options(opts: &str) -> PResult<Map<String, Value>> {
    let mut m = Map::new();
    if opts.is_empty() {
        return Ok(m);
    }
    for opt in opts.split(',') {
        let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
        match k {
            "ip" | "ip6" => {
                let ip: std::net::IpAddr =
                    v.parse().map_err(|_| format!("invalid ip address {v:?}"))?;
                let list = m.entry("static_ips").or_insert_with(|| json!([]));
                if let Value::Array(a) = list {
                    a.push(json!(ip.to_string()));
                }
            }
            "mac" => {
                m.insert("static_mac".into(), json!(v));
            }
            "alias" => {
                let list = m.entry("aliases").or_insert_with(|| json!([]));
                if let Value::Array(a) = list {
                    a.push(json!(v));
                }
            }
            "interface_name" => {
                m.insert("interface_name".into(), json!(v));
            }
            _ => return Err(format!("unknown bridge network option: {k}")),
        }
    }
    Ok(m)
}

const NS_KEYWORDS: &[&str] = &[
    "bridge",
    "slirp4netns",
    "pod",
    "none",
    "default",
    "private",
    "path",
    "container",
    "host",
];

fn parse_network(values: &[String], o: &mut NetOptions) -> PResult<()> {
    let first = values.first().map(String::as_str).unwrap_or("");
    let mut networks = Map::new();
    let mut bridge = false;
    if first == "slirp4netns" || first.starts_with("slirp4netns:") {
        if let Some((_, opts)) = first.split_once(':') {
            let mut no = Map::new();
            no.insert(
                "slirp4netns".into(),
                json!(opts.split(',').collect::<Vec<_>>()),
            );
            o.network_options = Some(no);
        }
        o.netns = ns("slirp4netns", None);
    } else if first == "pod" {
        o.netns = ns("pod", None);
    } else if first.is_empty() || first == "default" || first == "private" {
        o.netns = ns("private", None);
    } else if first == "bridge" || first.starts_with("bridge:") {
        let opts = first.split_once(':').map(|(_, o)| o).unwrap_or("");
        networks.insert("default".into(), Value::Object(network_options(opts)?));
        o.netns = ns("bridge", None);
        bridge = true;
    } else if first == "none" {
        o.netns = ns("none", None);
    } else if first == "host" {
        o.netns = ns("host", None);
    } else if let Some(path) = first.strip_prefix("ns:") {
        o.netns = ns("path", Some(path));
    } else if let Some(c) = first.strip_prefix("container:") {
        o.netns = ns("container", Some(c));
    } else {
        match first.split_once(':') {
            None => {
                // A comma-separated list of networks, for backwards compatibility.
                for n in first.split(',') {
                    networks.insert(n.to_string(), json!({}));
                }
            }
            Some(("", _)) => return Err("network name cannot be empty".into()),
            Some((name, opts)) => {
                let no = network_options(opts)
                    .map_err(|e| format!("invalid option for network {name}: {e}"))?;
                networks.insert(name.to_string(), Value::Object(no));
            }
        }
        o.netns = ns("bridge", None);
        bridge = true;
    }
    if values.len() > 1 {
        if !bridge {
            return Err(format!(
                "cannot set multiple networks without bridge network mode, selected mode {}: invalid argument",
                o.netns.get("nsmode").and_then(Value::as_str).unwrap_or("")
            ));
        }
        for n in &values[1..] {
            let (name, opts) = n.split_once(':').unwrap_or((n, ""));
            if name.is_empty() {
                return Err("network name cannot be empty: invalid argument".into());
            }
            if NS_KEYWORDS.contains(&name) {
                return Err(format!(
                    "can only set extra network names, selected mode {name} conflicts with bridge: invalid argument"
                ));
            }
            let no = network_options(opts)
                .map_err(|e| format!("invalid option for network {name}: {e}"))?;
            networks.insert(name.to_string(), Value::Object(no));
        }
    }
    o.networks = Some(networks);
    Ok(())
}

/// podman's NetFlagsToNetOptions.
pub fn net_options(f: &CreateFlags) -> PResult<NetOptions> {
    let mut o = NetOptions::default();
    for h in &f.add_host {
        parse::add_host(h)?;
    }
    o.add_hosts = f.add_host.clone();
    for d in &f.dns {
        if d == "none" {
            o.use_image_resolv_conf = true;
            if f.dns.len() > 1 {
                return Err(format!(
                    "{d} is not allowed to be specified with other DNS ip addresses"
                ));
            }
            break;
        }
        let ip: std::net::IpAddr = d.parse().map_err(|_| format!("{d} is not an ip address"))?;
        o.dns_servers.push(ip.to_string());
    }
    o.dns_options = f.dns_option.clone();
    for d in &f.dns_search {
        if d == "." {
            if f.dns_search.len() > 1 {
                return Err(
                    "cannot pass additional search domains when also specifying '.'".into(),
                );
            }
            continue;
        }
        parse::validate_domain(d)?;
    }
    o.dns_search = f.dns_search.clone();
    for p in &f.publish {
        o.ports.push(parse::publish(p)?);
    }
    if !f.network.is_empty() {
        parse_network(&f.network, &mut o)?;
    }
    Ok(o)
}

/// The option conflicts podman rejects before pulling (its CreateInit).
pub fn init_checks(f: &CreateFlags, net: &NetOptions) -> PResult<()> {
    if f.group_add.iter().any(|g| g == "keep-groups") {
        if f.group_add.len() > 1 {
            return Err("the '--group-add keep-groups' option is not allowed with any other --group-add options".into());
        }
        return Err("the '--group-add keep-groups' option is not supported in remote mode".into());
    }
    if let Some(p) = &f.pids_limit {
        parse::parse_int(p).map_err(|e| parse::flag_error("pids-limit", p, &e))?;
    }
    if let Some(p) = &f.pod {
        if !p.starts_with("new:") && f.userns.is_some() {
            return Err("--userns and --pod cannot be set together".into());
        }
    }
    let nsmode = net
        .netns
        .get("nsmode")
        .and_then(Value::as_str)
        .unwrap_or("");
    if (!f.dns.is_empty() || !f.dns_option.is_empty() || !f.dns_search.is_empty())
        && (nsmode == "none" || nsmode == "container")
    {
        return Err(format!(
            "conflicting options: dns and the network mode: {nsmode}"
        ));
    }
    if f.no_hosts && !f.add_host.is_empty() {
        return Err("--no-hosts and --add-host cannot be set together".into());
    }
    Ok(())
}

/// The pull policy as podman spells it on the wire, or its error.
pub fn pull_policy(p: &str) -> PResult<&'static str> {
    match p {
        "always" | "Always" => Ok("always"),
        "missing" | "Missing" | "ifnotpresent" | "IfNotPresent" | "" => Ok("missing"),
        "newer" | "Newer" | "ifnewer" | "IfNewer" => Ok("newer"),
        "never" | "Never" => Ok("never"),
        _ => Err(format!("unsupported pull policy {p:?}")),
    }
}

fn user_ns(v: &str) -> PResult<Map<String, Value>> {
    Ok(match v {
        "" | "host" => ns("host", None),
        "keep-id" => ns("keep-id", None),
        "nomap" => ns("nomap", None),
        "private" => ns("private", None),
        v if v == "auto" || v.starts_with("auto:") => {
            return Err("--userns=auto is not implemented yet in podman-remote".into())
        }
        v => {
            if let Some(o) = v.strip_prefix("keep-id:") {
                ns("keep-id", Some(o))
            } else if let Some(p) = v.strip_prefix("ns:") {
                ns("path", Some(p))
            } else if let Some(c) = v.strip_prefix("container:") {
                ns("container", Some(c))
            } else {
                return Err(format!("unrecognized namespace mode {v} passed"));
            }
        }
    })
}

fn read_only_tmpfs_mount(dest: &str) -> parse::Mount {
    parse::Mount {
        destination: dest.into(),
        kind: "tmpfs".into(),
        source: "tmpfs".into(),
        options: ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

fn duplicate(dest: &str) -> String {
    format!("{dest}: duplicate mount destination")
}

/// -v, --mount and --tmpfs unified as podman does: the same destination twice is an error
/// unless it is the very same mount.
fn mounts_and_volumes(f: &CreateFlags) -> PResult<(Vec<parse::Mount>, Vec<parse::NamedVolume>)> {
    let mut mounts: BTreeMap<String, parse::Mount> = BTreeMap::new();
    let mut volumes: BTreeMap<String, parse::NamedVolume> = BTreeMap::new();
    for m in &f.mount {
        match parse::mount(m)? {
            parse::MountSpec::Mount(m) => {
                if mounts.contains_key(&m.destination) {
                    return Err(duplicate(&m.destination));
                }
                mounts.insert(m.destination.clone(), m);
            }
            parse::MountSpec::Volume(v) => {
                if volumes.contains_key(&v.dest) {
                    return Err(duplicate(&v.dest));
                }
                volumes.insert(v.dest.clone(), v);
            }
        }
    }
    let mut v_mounts: BTreeMap<String, parse::Mount> = BTreeMap::new();
    let mut v_volumes: BTreeMap<String, parse::NamedVolume> = BTreeMap::new();
    for v in &f.volume {
        match parse::volume(v)? {
            parse::VolumeSpec::Bind(m) => {
                if let Some(old) = v_mounts.get(&m.destination) {
                    if old.source == m.source && old.options == m.options {
                        continue;
                    }
                    return Err(duplicate(&m.destination));
                }
                v_mounts.insert(m.destination.clone(), m);
            }
            parse::VolumeSpec::Named(nv) => {
                if let Some(old) = v_volumes.get(&nv.dest) {
                    if old.name == nv.name {
                        continue;
                    }
                    return Err(duplicate(&nv.dest));
                }
                v_volumes.insert(nv.dest.clone(), nv);
            }
        }
    }
    let mut tmpfs: BTreeMap<String, parse::Mount> = BTreeMap::new();
    for t in &f.tmpfs {
        let m = parse::tmpfs(t)?;
        if let Some(old) = tmpfs.get(&m.destination) {
            if old.options == m.options {
                continue;
            }
            return Err(duplicate(&m.destination));
        }
        tmpfs.insert(m.destination.clone(), m);
    }
    for (dest, m) in v_mounts {
        if let Some(old) = mounts.get(&dest) {
            if old.source == m.source && old.options == m.options {
                continue;
            }
            return Err(duplicate(&dest));
        }
        mounts.insert(dest, m);
    }
    for (dest, v) in v_volumes {
        if let Some(old) = volumes.get(&dest) {
            if old.name == v.name && old.options == v.options {
                continue;
            }
            return Err(duplicate(&dest));
        }
        volumes.insert(dest, v);
    }
    for (dest, m) in tmpfs {
        if let Some(old) = mounts.get(&dest) {
            if old.kind != "tmpfs" {
                return Err(duplicate(&dest));
            }
            continue;
        }
        mounts.insert(dest, m);
    }
    if f.read_only && f.read_only_tmpfs {
        for dest in ["/tmp", "/var/tmp", "/run"] {
            if !mounts.contains_key(dest) && !volumes.contains_key(dest) {
                mounts.insert(dest.into(), read_only_tmpfs_mount(dest));
            }
        }
    }
    for dest in volumes.keys() {
        if mounts.contains_key(dest) {
            return Err(duplicate(dest));
        }
    }
    Ok((
        mounts.into_values().collect(),
        volumes.into_values().collect(),
    ))
}

fn str_map(m: BTreeMap<String, String>) -> Value {
    Value::Object(m.into_iter().map(|(k, v)| (k, json!(v))).collect())
}

/// Everything after the pull: podman's FillOutSpecGen. `args` is IMAGE followed by the command;
/// `create_command` is our command line (recorded by the engine for `inspect`).
pub fn fill_spec(
    f: &CreateFlags,
    image: &str,
    command: &[String],
    net: &NetOptions,
    create_command: &[String],
    host: &Host,
) -> PResult<Map<String, Value>> {
    // podman's validate(): --rm only goes with no restart policy (on-failure without a count
    // too).
    if let Some(r) = &f.restart {
        if f.rm && !r.is_empty() && r != "no" && r != "on-failure" {
            return Err(
                "the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\""
                    .into(),
            );
        }
    }
    pull_policy(&f.pull)?;

    let mut s = Map::new();
    s.insert("image".into(), json!(image));
    s.insert("raw_image_name".into(), json!(image));
    if let Some(u) = &f.user {
        s.insert("user".into(), json!(u));
    }

    if let Some(cmd) = &f.health_cmd {
        if f.no_healthcheck {
            return Err("cannot specify both --no-healthcheck and --health-cmd".into());
        }
        let retries = parse::parse_uint(&f.health_retries, 64)
            .map_err(|e| parse::flag_error("health-retries", &f.health_retries, &e))?;
        s.insert(
            "healthconfig".into(),
            parse::healthcheck(
                cmd,
                &f.health_interval,
                retries,
                &f.health_timeout,
                &f.health_start_period,
            )?,
        );
    } else if f.no_healthcheck {
        s.insert("healthconfig".into(), json!({"Test": ["NONE"]}));
    }

    // Namespaces: an empty object lets the engine choose.
    for key in ["cgroupns", "ipcns", "pidns", "utsns"] {
        s.insert(key.into(), json!({}));
    }
    s.insert(
        "userns".into(),
        match &f.userns {
            Some(u) => Value::Object(user_ns(u)?),
            None => json!({}),
        },
    );
    s.insert("netns".into(), Value::Object(net.netns.clone()));
    s.insert(
        "idmappings".into(),
        json!({
            "HostUIDMapping": true,
            "HostGIDMapping": true,
            "UIDMap": null,
            "GIDMap": null,
            "AutoUserNs": false,
            "AutoUserNsOpts": {
                "Size": 0, "InitialSize": 0, "PasswdFile": "", "GroupFile": "",
                "AdditionalUIDMappings": null, "AdditionalGIDMappings": null
            }
        }),
    );
    if f.tty {
        s.insert("terminal".into(), json!(true));
    }

    let expose = parse::expose(&f.expose)?;
    if !net.ports.is_empty() {
        s.insert(
            "portmappings".into(),
            Value::Array(net.ports.iter().map(parse::PortMapping::to_json).collect()),
        );
    }
    if f.publish_all {
        s.insert("publish_image_ports".into(), json!(true));
    }
    if let Some(p) = &f.pod {
        if p.starts_with("new:") {
            return Err("--pod new:NAME is not implemented yet in podman-remote; create the pod first with podman".into());
        }
        s.insert("pod".into(), json!(p));
    }
    if !expose.is_empty() {
        s.insert(
            "expose".into(),
            Value::Object(
                expose
                    .into_iter()
                    .map(|(p, proto)| (p.to_string(), json!(proto)))
                    .collect(),
            ),
        );
    }
    if let Some(sig) = &f.stop_signal {
        s.insert("stop_signal".into(), json!(parse::signal(sig)?));
    }

    // Environment: env files first, then -e; the image's and the engine's defaults are merged
    // on the server.
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for file in &f.env_file {
        let text = (host.read_file)(file).map_err(|e| format!("parsing env file {file:?}: {e}"))?;
        parse::env_file_text(&mut env, &text, host.lookup_env, host.all_env)
            .map_err(|e| format!("parsing env file {file:?}: {e}"))?;
    }
    for e in &f.env {
        parse::env_entry(&mut env, e, host.lookup_env, host.all_env)?;
    }
    if !env.is_empty() {
        s.insert("env".into(), str_map(env));
    }
    s.insert("httpproxy".into(), json!(true));

    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for file in &f.label_file {
        let text = (host.read_file)(file).map_err(|e| format!("unable to process labels: {e}"))?;
        parse::label_file_text(&mut labels, &text)
            .map_err(|e| format!("unable to process labels: {e}"))?;
    }
    for l in &f.label {
        parse::label(&mut labels, l).map_err(|e| format!("unable to process labels: {e}"))?;
    }
    // podman records the systemd unit it runs under, when it does.
    if let Some(unit) = (host.lookup_env)("PODMAN_SYSTEMD_UNIT") {
        labels.insert("PODMAN_SYSTEMD_UNIT".into(), unit);
    }
    if !labels.is_empty() {
        s.insert("labels".into(), str_map(labels));
    }

    let mut annotations: BTreeMap<String, String> = BTreeMap::new();
    annotations.insert(
        "io.kubernetes.cri-o.TTY".into(),
        if f.tty { "true" } else { "false" }.into(),
    );
    for a in &f.annotation {
        let Some((k, v)) = a.split_once('=') else {
            return Err("annotations must be formatted KEY=VALUE".into());
        };
        annotations.insert(k.into(), v.into());
    }

    if let Some(w) = &f.workdir {
        s.insert("work_dir".into(), json!(w));
    }
    if let Some(ep) = &f.entrypoint {
        // A JSON array is taken as the entrypoint's words, anything else as one word.
        let words: Vec<String> = serde_json::from_str(ep).unwrap_or_else(|_| vec![ep.clone()]);
        s.insert("entrypoint".into(), json!(words));
    }
    s.insert("containerCreateCommand".into(), json!(create_command));
    if !command.is_empty() {
        s.insert("command".into(), json!(command));
    }
    if let Some(shm) = &f.shm_size {
        let v =
            parse::ram_in_bytes(shm).map_err(|e| format!("unable to translate --shm-size: {e}"))?;
        s.insert("shm_size".into(), json!(v));
    }
    s.insert(
        "Networks".into(),
        match &net.networks {
            Some(n) => Value::Object(n.clone()),
            None => Value::Null,
        },
    );
    if let Some(no) = &net.network_options {
        s.insert("network_options".into(), Value::Object(no.clone()));
    }
    if !net.add_hosts.is_empty() {
        s.insert("hostadd".into(), json!(net.add_hosts));
    }
    if net.use_image_resolv_conf {
        s.insert("use_image_resolve_conf".into(), json!(true));
    }
    if !net.dns_servers.is_empty() {
        s.insert("dns_server".into(), json!(net.dns_servers));
    }
    if !net.dns_search.is_empty() {
        s.insert("dns_search".into(), json!(net.dns_search));
    }
    if !net.dns_options.is_empty() {
        s.insert("dns_option".into(), json!(net.dns_options));
    }
    s.insert("use_image_hosts".into(), json!(f.no_hosts));
    s.insert("image_volume_mode".into(), json!("anonymous"));
    s.insert("systemd".into(), json!("true"));
    s.insert("sdnotifyMode".into(), json!("container"));

    // Resources.
    let mut resources = Map::new();
    if let Some(m) = &f.memory {
        let limit = parse::ram_in_bytes(m).map_err(|e| format!("invalid value for memory: {e}"))?;
        if limit > 0 {
            // As podman: without --memory-swap, swap may be as large as the memory limit.
            resources.insert("memory".into(), json!({"limit": limit, "swap": 2 * limit}));
        }
    }
    if let Some(c) = &f.cpus {
        let cpus = parse::parse_float(c).map_err(|e| parse::flag_error("cpus", c, &e))?;
        if cpus > 0.0 {
            let (period, quota) = parse::cpus_to_period_quota(cpus);
            resources.insert("cpu".into(), json!({"period": period, "quota": quota}));
        }
    }
    if let Some(p) = &f.pids_limit {
        let mut n = parse::parse_int(p).map_err(|e| parse::flag_error("pids-limit", p, &e))?;
        // -1 means unlimited, which the runtime spells 0.
        if n == -1 {
            n = 0;
        }
        resources.insert("pids".into(), json!({"limit": n}));
    }
    if !resources.is_empty() {
        s.insert("resource_limits".into(), Value::Object(resources));
    }

    let mut log = Map::new();
    if let Some(d) = &f.log_driver {
        if d == "passthrough" {
            return Err(
                "the '--log-driver passthrough' option is not supported in remote mode".into(),
            );
        }
        log.insert("driver".into(), json!(d));
    }
    s.insert("cgroups_mode".into(), json!("enabled"));
    if !f.group_add.is_empty() {
        s.insert("groups".into(), json!(f.group_add));
    }
    if let Some(h) = &f.hostname {
        s.insert("hostname".into(), json!(h));
    }
    let mut sysctl = Map::new();
    for c in &f.sysctl {
        let Some((k, v)) = c.split_once('=') else {
            return Err(format!("{c:?} is not a valid sysctl format"));
        };
        sysctl.insert(k.into(), json!(v));
    }
    if !sysctl.is_empty() {
        s.insert("sysctl".into(), Value::Object(sysctl));
    }
    if !f.cap_add.is_empty() {
        s.insert("cap_add".into(), json!(f.cap_add));
    }
    if !f.cap_drop.is_empty() {
        s.insert("cap_drop".into(), json!(f.cap_drop));
    }
    if f.privileged {
        s.insert("privileged".into(), json!(true));
    }
    if f.read_only {
        s.insert("read_only_filesystem".into(), json!(true));
    }
    if let Some(c) = &f.cidfile {
        annotations.insert("io.podman.annotations.cid-file".into(), c.clone());
    }

    let mut selinux: Vec<String> = Vec::new();
    let mut mask: Vec<String> = Vec::new();
    let mut unmask: Vec<String> = Vec::new();
    for opt in &f.security_opt {
        if opt == "no-new-privileges" {
            s.insert("no_new_privileges".into(), json!(true));
            continue;
        }
        // Docker's deprecated "key:value" spelling is still accepted.
        let kv = if opt.contains('=') {
            opt.split_once('=')
        } else {
            opt.split_once(':')
        };
        let Some((k, v)) = kv else {
            return Err(format!("invalid --security-opt 1: {opt:?}"));
        };
        match k {
            "apparmor" => {
                s.insert("apparmor_profile".into(), json!(v));
                annotations.insert("io.podman.annotations.apparmor".into(), v.into());
            }
            "label" => {
                selinux.push(v.into());
                annotations.insert(
                    "io.podman.annotations.label".into(),
                    selinux.join(",label="),
                );
            }
            "mask" => mask.extend(v.split(':').map(str::to_string)),
            "proc-opts" => {
                s.insert(
                    "procfs_opts".into(),
                    json!(v.split(',').collect::<Vec<_>>()),
                );
            }
            "seccomp" => {
                s.insert("seccomp_profile_path".into(), json!(v));
                annotations.insert("io.podman.annotations.seccomp".into(), v.into());
            }
            "systempaths" => {
                if v != "unconfined" {
                    return Err(format!(
                        "invalid systempaths option {v:?}, only `unconfined` is supported"
                    ));
                }
                unmask.push("ALL".into());
            }
            "unmask" => unmask.push(v.into()),
            "no-new-privileges" => {
                let b = match v {
                    "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
                    "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
                    _ => return Err(format!("invalid --security-opt 2: {opt:?}")),
                };
                s.insert("no_new_privileges".into(), json!(b));
            }
            _ => return Err(format!("invalid --security-opt 2: {opt:?}")),
        }
    }
    if !selinux.is_empty() {
        s.insert("selinux_opts".into(), json!(selinux));
    }
    if !mask.is_empty() {
        s.insert("mask".into(), json!(mask));
    }
    if !unmask.is_empty() {
        s.insert("unmask".into(), json!(unmask));
    }
    s.insert("seccomp_policy".into(), json!("default"));

    let (mounts, volumes) = mounts_and_volumes(f)?;
    if !mounts.is_empty() {
        s.insert(
            "mounts".into(),
            Value::Array(mounts.iter().map(parse::Mount::to_json).collect()),
        );
    }
    if !volumes.is_empty() {
        s.insert(
            "volumes".into(),
            Value::Array(volumes.iter().map(parse::NamedVolume::to_json).collect()),
        );
    }
    if !f.device.is_empty() {
        let mut devs = Vec::new();
        for d in &f.device {
            parse::device(d)?;
            // The engine parses src:dst:perms itself from the path field.
            devs.push(json!({"path": d, "type": "", "major": 0, "minor": 0}));
        }
        s.insert("devices".into(), Value::Array(devs));
    }
    if f.init {
        s.insert("init".into(), json!(true));
    }
    if f.interactive {
        s.insert("stdin".into(), json!(true));
    }

    let mut rlimits = Vec::new();
    for u in &f.ulimit {
        // "host" keeps the engine's own limits.
        if u == "host" {
            rlimits.clear();
            break;
        }
        let (name, soft, hard) = parse::ulimit(u)?;
        // The spec's limits are unsigned: -1 (unlimited) travels as its two's complement.
        rlimits.push(json!({"type": name, "hard": hard as u64, "soft": soft as u64}));
    }
    if !rlimits.is_empty() {
        s.insert("r_limits".into(), Value::Array(rlimits));
    }

    let mut log_opts = Map::new();
    for o in &f.log_opt {
        let Some((k, v)) = o.split_once('=') else {
            return Err(format!("invalid log option {o:?}"));
        };
        match k.to_lowercase().as_str() {
            "driver" => {
                log.insert("driver".into(), json!(v));
            }
            "path" => {
                log.insert("path".into(), json!(v));
            }
            "max-size" => {
                log.insert("size".into(), json!(parse::from_human_size(v)?));
            }
            _ => {
                log_opts.insert(k.into(), json!(v));
            }
        }
    }
    if !log_opts.is_empty() {
        log.insert("options".into(), Value::Object(log_opts));
    }
    s.insert("log_configuration".into(), Value::Object(log));
    if let Some(n) = &f.name {
        s.insert("name".into(), json!(n));
    }
    if let Some(r) = &f.restart {
        let (policy, retries) = parse::restart(r)?;
        s.insert("restart_policy".into(), json!(policy));
        if let Some(n) = retries {
            s.insert("restart_tries".into(), json!(n));
        }
    }
    if f.rm {
        s.insert("remove".into(), json!(true));
        // podman keeps --rm containers' state on tmpfs.
        s.insert("volatile".into(), json!(true));
    }
    let stop_timeout = parse::parse_uint(&f.stop_timeout, 32)
        .map_err(|e| parse::flag_error("stop-timeout", &f.stop_timeout, &e))?;
    s.insert("stop_timeout".into(), json!(stop_timeout));
    if let Some(tz) = &f.tz {
        s.insert("timezone".into(), json!(tz));
    }
    s.insert("umask".into(), json!(f.umask));
    s.insert("init_container_type".into(), json!(""));
    s.insert("manage_password".into(), json!(true));
    s.insert("annotations".into(), str_map(annotations));
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    #[command(disable_help_flag = true)]
    struct T {
        #[command(flatten)]
        f: CreateFlags,
    }

    fn flags(args: &[&str]) -> CreateFlags {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"))
            .f
    }

    fn build(args: &[&str]) -> PResult<Map<String, Value>> {
        let f = flags(args);
        let net = net_options(&f)?;
        init_checks(&f, &net)?;
        let lookup = |k: &str| (k == "HOME").then(|| "/home/me".to_string());
        let all = Vec::new;
        let read = |p: &str| -> PResult<String> {
            match p {
                "envf" => Ok("A=1\n# c\nHOME\n".into()),
                "lblf" => Ok("lf1=a\nlf2\n".into()),
                _ => Err(format!("open {p}: no such file or directory")),
            }
        };
        let host = Host {
            lookup_env: &lookup,
            all_env: &all,
            read_file: &read,
        };
        fill_spec(&f, "img", &["echo".into(), "hi".into()], &net, &[], &host)
    }

    #[test]
    fn defaults_match_podman() {
        let s = build(&[]).unwrap();
        assert_eq!(s["Networks"], Value::Null);
        assert_eq!(s["netns"], json!({}));
        assert_eq!(s["stop_timeout"], json!(10));
        assert_eq!(
            s["annotations"],
            json!({"io.kubernetes.cri-o.TTY": "false"})
        );
        assert_eq!(s["umask"], json!("0022"));
        assert_eq!(s["command"], json!(["echo", "hi"]));
        assert!(s.get("env").is_none());
        assert!(s.get("resource_limits").is_none());
    }

    #[test]
    fn the_big_combination() {
        let s = build(&[
            "-i",
            "-t",
            "-e",
            "X=1",
            "-e",
            "HOME",
            "--env-file",
            "envf",
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1:9090:90/udp",
            "-P",
            "-v",
            "vol1:/data:ro,z",
            "-v",
            "/tmp:/hosttmp",
            "-v",
            "/anon",
            "--mount",
            "type=tmpfs,dst=/tm,tmpfs-size=1m",
            "-w",
            "/work",
            "-u",
            "1000:1000",
            "--entrypoint",
            "[\"/bin/sh\",\"-c\"]",
            "--restart",
            "on-failure:3",
            "-l",
            "a=b",
            "--label-file",
            "lblf",
            "--hostname",
            "hh",
            "--cap-add",
            "NET_ADMIN,SYS_TIME",
            "--cap-drop",
            "CHOWN",
            "--read-only",
            "--memory",
            "512m",
            "--cpus",
            "1.5",
            "--health-cmd",
            "echo hi",
            "--log-opt",
            "max-size=10mb",
            "--log-opt",
            "tag=foo",
            "--security-opt",
            "seccomp=unconfined",
            "--ulimit",
            "nofile=1024:2048",
            "--stop-signal",
            "SIGINT",
            "--stop-timeout",
            "20",
            "--cidfile",
            "/tmp/cid",
            "--expose",
            "7000",
            "--network",
            "host",
            "--dns",
            "8.8.8.8",
        ])
        .unwrap();
        assert_eq!(s["env"], json!({"A": "1", "HOME": "/home/me", "X": "1"}));
        assert_eq!(s["stdin"], json!(true));
        assert_eq!(s["terminal"], json!(true));
        assert_eq!(
            s["portmappings"],
            json!([
                {"host_ip": "", "container_port": 80, "host_port": 8080, "range": 1, "protocol": ""},
                {"host_ip": "127.0.0.1", "container_port": 90, "host_port": 9090, "range": 1, "protocol": "udp"}
            ])
        );
        assert_eq!(s["publish_image_ports"], json!(true));
        assert_eq!(
            s["volumes"],
            json!([
                {"Name": "", "Dest": "/anon", "Options": null, "IsAnonymous": false},
                {"Name": "vol1", "Dest": "/data", "Options": ["ro", "z"], "IsAnonymous": false}
            ])
        );
        let mounts = s["mounts"].as_array().unwrap();
        let dests: Vec<&str> = mounts
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(dests, ["/hosttmp", "/run", "/tm", "/tmp", "/var/tmp"]);
        assert_eq!(s["entrypoint"], json!(["/bin/sh", "-c"]));
        assert_eq!(s["restart_policy"], json!("on-failure"));
        assert_eq!(s["restart_tries"], json!(3));
        assert_eq!(s["labels"], json!({"a": "b", "lf1": "a"}));
        assert_eq!(s["cap_add"], json!(["NET_ADMIN", "SYS_TIME"]));
        assert_eq!(
            s["resource_limits"],
            json!({"memory": {"limit": 536870912, "swap": 1073741824},
                   "cpu": {"period": 100000, "quota": 150000}})
        );
        assert_eq!(s["healthconfig"]["Test"], json!(["CMD-SHELL", "echo hi"]));
        assert_eq!(
            s["log_configuration"],
            json!({"size": 10000000, "options": {"tag": "foo"}})
        );
        assert_eq!(
            s["annotations"],
            json!({"io.kubernetes.cri-o.TTY": "true",
                   "io.podman.annotations.cid-file": "/tmp/cid",
                   "io.podman.annotations.seccomp": "unconfined"})
        );
        assert_eq!(
            s["r_limits"],
            json!([{"type": "nofile", "hard": 2048, "soft": 1024}])
        );
        assert_eq!(s["stop_signal"], json!(2));
        assert_eq!(s["stop_timeout"], json!(20));
        assert_eq!(s["expose"], json!({"7000": "tcp"}));
        assert_eq!(s["netns"], json!({"nsmode": "host"}));
        assert_eq!(s["Networks"], json!({}));
        assert_eq!(s["dns_server"], json!(["8.8.8.8"]));
    }

    #[test]
    fn networks() {
        let s = build(&["--network", "mynet", "--network", "other:alias=a"]).unwrap();
        assert_eq!(s["netns"], json!({"nsmode": "bridge"}));
        assert_eq!(
            s["Networks"],
            json!({"mynet": {}, "other": {"aliases": ["a"]}})
        );
        let s = build(&["--network", "none"]).unwrap();
        assert_eq!(s["netns"], json!({"nsmode": "none"}));
        let s = build(&["--network", "container:abc"]).unwrap();
        assert_eq!(s["netns"], json!({"nsmode": "container", "value": "abc"}));
        assert_eq!(
            build(&["--network", "host", "--network", "x"]).unwrap_err(),
            "cannot set multiple networks without bridge network mode, selected mode host: invalid argument"
        );
        assert_eq!(
            build(&["--network", "none", "--dns", "1.1.1.1"]).unwrap_err(),
            "conflicting options: dns and the network mode: none"
        );
    }

    #[test]
    fn errors_are_podmans() {
        assert_eq!(
            build(&["--rm", "--restart", "always"]).unwrap_err(),
            "the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\""
        );
        assert_eq!(
            build(&["--env-file", "nope"]).unwrap_err(),
            "parsing env file \"nope\": open nope: no such file or directory"
        );
        assert_eq!(
            build(&["--stop-timeout", "abc"]).unwrap_err(),
            "invalid argument \"abc\" for \"--stop-timeout\" flag: strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            build(&["--cpus", "abc"]).unwrap_err(),
            "invalid argument \"abc\" for \"--cpus\" flag: strconv.ParseFloat: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            build(&["--annotation", "foo"]).unwrap_err(),
            "annotations must be formatted KEY=VALUE"
        );
        assert_eq!(
            build(&["-l", "=x"]).unwrap_err(),
            "unable to process labels: invalid label format: \"=x\""
        );
        assert_eq!(
            build(&["--security-opt", "foo"]).unwrap_err(),
            "invalid --security-opt 1: \"foo\""
        );
        assert_eq!(
            build(&["--pod", "p", "--userns", "host"]).unwrap_err(),
            "--userns and --pod cannot be set together"
        );
        assert_eq!(
            build(&["-v", "/a:/d", "--mount", "type=bind,src=/b,dst=/d"]).unwrap_err(),
            "/d: duplicate mount destination"
        );
        assert_eq!(
            build(&["--dns", "abc"]).unwrap_err(),
            "abc is not an ip address"
        );
        assert_eq!(
            build(&["--pull", "bogus"]).unwrap_err(),
            "unsupported pull policy \"bogus\""
        );
        assert_eq!(
            build(&["--memory", "12q"]).unwrap_err(),
            "invalid value for memory: invalid size: '12q'"
        );
    }

    #[test]
    fn read_only_tmpfs_can_be_turned_off() {
        let s = build(&["--read-only", "--read-only-tmpfs=false"]).unwrap();
        assert!(s.get("mounts").is_none());
    }
}
