//! Pure parsers for `create`/`run` flag values. Each accepts what podman 4.3.1 accepts and fails
//! with podman's own message (scripts and users grep for them), so the error strings mimic Go's
//! `strconv`/`time` wording where podman passes those through.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{json, Map, Value};

pub type PResult<T> = Result<T, String>;

// ---------------------------------------------------------------------------------------------
// Go-compatible number and duration parsing.

fn go_num_err(func: &str, s: &str, range: bool) -> String {
    let why = if range {
        "value out of range"
    } else {
        "invalid syntax"
    };
    format!("strconv.{func}: parsing {s:?}: {why}")
}

fn is_go_int_syntax(s: &str, signed: bool) -> bool {
    let digits = if signed {
        s.strip_prefix(['+', '-']).unwrap_or(s)
    } else {
        s
    };
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Go's `strconv.Atoi`.
pub fn atoi(s: &str) -> PResult<i64> {
    if !is_go_int_syntax(s, true) {
        return Err(go_num_err("Atoi", s, false));
    }
    s.parse::<i64>().map_err(|_| go_num_err("Atoi", s, true))
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
pub fn parse_int(s: &str) -> PResult<i64> {
    if !is_go_int_syntax(s, true) {
        return Err(go_num_err("ParseInt", s, false));
    }
    s.parse::<i64>()
        .map_err(|_| go_num_err("ParseInt", s, true))
}

/// Go's `strconv.ParseUint(s, 10, bits)`.
pub fn parse_uint(s: &str, bits: u32) -> PResult<u64> {
    if !is_go_int_syntax(s, false) {
        return Err(go_num_err("ParseUint", s, false));
    }
    let v = s
        .parse::<u64>()
        .map_err(|_| go_num_err("ParseUint", s, true))?;
    if bits < 64 && v >= (1u64 << bits) {
        return Err(go_num_err("ParseUint", s, true));
    }
    Ok(v)
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms people type.
pub fn parse_float(s: &str) -> PResult<f64> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'e' | b'E'));
    match s.parse::<f64>() {
        Ok(v) if ok => Ok(v),
        _ => Err(go_num_err("ParseFloat", s, false)),
    }
}

/// pflag's message for a value its typed flag cannot take.
pub fn flag_error(flag: &str, value: &str, why: &str) -> String {
    format!("invalid argument {value:?} for \"--{flag}\" flag: {why}")
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn duration(s: &str) -> PResult<i64> {
    let invalid = || format!("time: invalid duration {s:?}");
    let mut rest = s;
    let mut neg = false;
    if let Some(r) = rest.strip_prefix('-') {
        neg = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(invalid());
        }
        let v: f64 = num.parse().map_err(|_| invalid())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let mult: f64 = match unit {
            "" => return Err(format!("time: missing unit in duration {s:?}")),
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            u => return Err(format!("time: unknown unit {u:?} in duration {s:?}")),
        };
        total += v * mult;
    }
    if total > i64::MAX as f64 {
        return Err(invalid());
    }
    let n = total.round() as i64;
    Ok(if neg { -n } else { n })
}

/// go-units' `RAMInBytes`: "512m", "1.5g", "1024", "2 GiB" (binary multiples).
pub fn ram_in_bytes(s: &str) -> PResult<i64> {
    parse_size(s, 1024)
}

/// go-units' `FromHumanSize` (decimal multiples), used for log max-size.
pub fn from_human_size(s: &str) -> PResult<i64> {
    parse_size(s, 1000)
}

fn parse_size(s: &str, base: i64) -> PResult<i64> {
    // The go-units podman is built with on Debian matches
    // `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`.
    let invalid = || format!("invalid size: '{s}'");
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let num = &s[..num_len];
    let num_ok = !num.is_empty()
        && num
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !num_ok {
        return Err(invalid());
    }
    let mut rest = &s[num_len..];
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut pow = 0;
    if let Some(c) = rest.chars().next() {
        if let Some(p) = "kmgtp".find(c.to_ascii_lowercase()) {
            pow = p as i32 + 1;
            rest = &rest[1..];
        }
    }
    rest = rest.strip_prefix(['i', 'I']).unwrap_or(rest);
    rest = rest.strip_prefix(['b', 'B']).unwrap_or(rest);
    if !rest.is_empty() {
        return Err(invalid());
    }
    let size = parse_float(num)?;
    Ok((size * (base as f64).powi(pow)) as i64)
}

// ---------------------------------------------------------------------------------------------
// Ports.

/// One `-p` mapping as the SpecGenerator's `portmappings` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: String,
    pub container_port: u16,
    pub host_port: u16,
    pub range: u16,
    pub protocol: String,
}

impl PortMapping {
    pub fn to_json(&self) -> Value {
        json!({
            "host_ip": self.host_ip,
            "container_port": self.container_port,
            "host_port": self.host_port,
            "range": self.range,
            "protocol": self.protocol,
        })
    }
}

fn port_number(p: &str) -> PResult<u16> {
    let n = atoi(p).map_err(|e| format!("invalid port number: {e}"))?;
    if !(1..=65535).contains(&n) {
        return Err(format!(
            "port numbers must be between 1 and 65535 (inclusive), got {n}"
        ));
    }
    Ok(n as u16)
}

/// "8080" or "8080-8090": start and number of ports.
pub fn port_range(r: &str) -> PResult<(u16, u16)> {
    let parts: Vec<&str> = r.split('-').collect();
    if parts.len() > 2 {
        return Err("invalid port format - port ranges are formatted as startPort-stopPort".into());
    }
    if parts[0].is_empty() {
        return Err("port numbers cannot be negative".into());
    }
    let start = port_number(parts[0])?;
    let mut len = 1;
    if parts.len() == 2 {
        if parts[1].is_empty() {
            return Err("must provide ending number for port range".into());
        }
        let end = port_number(parts[1])?;
        if end <= start {
            return Err(format!(
                "the end port of a range must be higher than the start port - {end} is not higher than {start}"
            ));
        }
        len = end - start + 1;
    }
    Ok((start, len))
}

/// `-p [[hostIP:]hostPort[-end]:]containerPort[-end][/protocol]`, IPv6 host IPs in brackets.
pub fn publish(spec: &str) -> PResult<PortMapping> {
    let proto_split: Vec<&str> = spec.split('/').collect();
    let proto = match proto_split.len() {
        1 => None,
        2 => Some(proto_split[1]),
        _ => return Err("invalid port format - protocol can only be specified once".into()),
    };
    let mut remainder = proto_split[0];
    let mut host_ip: Option<&str> = None;
    let mut have_v6 = false;
    let v6: Vec<&str> = remainder.split(']').collect();
    match v6.len() {
        1 => {}
        2 => {
            have_v6 = true;
            let Some(ip) = v6[0].strip_prefix('[') else {
                return Err("invalid port format - IPv6 addresses must be enclosed by []".into());
            };
            let Some(rest) = v6[1].strip_prefix(':') else {
                return Err(
                    "invalid port format - IPv6 address must be followed by a colon (':')".into(),
                );
            };
            host_ip = Some(ip);
            remainder = rest;
        }
        _ => {
            return Err(
                "invalid port format - at most one IPv6 address can be specified in a --publish"
                    .into(),
            )
        }
    }
    let parts: Vec<&str> = remainder.split(':').collect();
    let (host_port, ctr_port) =
        match parts.len() {
            1 if have_v6 => return Err(
                "invalid port format - must provide host and destination port if specifying an IP"
                    .into(),
            ),
            1 => (None, parts[0]),
            2 => (Some(parts[0]), parts[1]),
            3 if have_v6 => return Err(
                "invalid port format - when v6 address specified, must be [ipv6]:hostPort:ctrPort"
                    .into(),
            ),
            3 => {
                host_ip = Some(parts[0]);
                (Some(parts[1]), parts[2])
            }
            _ => {
                return Err(
                    "invalid port format - format is [[hostIP:]hostPort:]containerPort".into(),
                )
            }
        };
    if ctr_port.is_empty() {
        return Err("must provide a non-empty container port to publish".into());
    }
    let (ctr_start, ctr_len) =
        port_range(ctr_port).map_err(|e| format!("parsing container port: {e}"))?;
    let mut m = PortMapping {
        host_ip: String::new(),
        container_port: ctr_start,
        host_port: 0,
        range: ctr_len,
        protocol: String::new(),
    };
    if let Some(p) = proto {
        if p.is_empty() {
            return Err("must provide a non-empty protocol to publish".into());
        }
        m.protocol = p.to_string();
    }
    if let Some(ip) = host_ip {
        if ip.is_empty() {
            return Err("must provide a non-empty container host IP to publish".into());
        }
        // 0.0.0.0 means "all addresses", which the engine expresses as no host IP.
        if ip != "0.0.0.0" {
            let parsed: IpAddr = ip
                .parse()
                .map_err(|_| format!("cannot parse {ip:?} as an IP address"))?;
            m.host_ip = parsed.to_string();
        }
    }
    if let Some(hp) = host_port {
        // An empty host port lets the engine choose a free one (0).
        if !hp.is_empty() {
            let (start, len) = port_range(hp).map_err(|e| format!("parsing host port: {e}"))?;
            if len != ctr_len {
                return Err(format!(
                    "host and container port ranges have different lengths: {len} vs {ctr_len}"
                ));
            }
            m.host_port = start;
        }
    }
    Ok(m)
}

/// `--expose 80`, `--expose 7000-7002/udp`: port → protocols ("tcp,udp" when both).
pub fn expose(values: &[String]) -> PResult<BTreeMap<u16, String>> {
    let mut out: BTreeMap<u16, String> = BTreeMap::new();
    for e in values {
        let (port, proto) = match e.split_once('/') {
            Some((p, pr)) => (p, pr),
            None => (e.as_str(), "tcp"),
        };
        verify_expose_range(e, port)?;
        if e.split('/').count() > 2 {
            return Err("invalid expose format - protocol can only be specified once".into());
        }
        let (start, len) = port_range(port)?;
        for i in 0..len {
            let p = start + i;
            match out.get_mut(&p) {
                Some(existing) => {
                    existing.push(',');
                    existing.push_str(proto);
                }
                None => {
                    out.insert(p, proto.to_string());
                }
            }
        }
    }
    Ok(out)
}

// podman first validates --expose with Docker's nat parser, whose messages differ.
fn verify_expose_range(full: &str, port: &str) -> PResult<()> {
    let (a, b) = match port.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (port, None),
    };
    let wrap = |e: String| format!("invalid range format for --expose: {full}: {e}");
    let start = parse_uint(a, 16).map_err(wrap)?;
    if let Some(b) = b {
        let end = parse_uint(b, 16).map_err(wrap)?;
        if end < start {
            return Err(wrap(format!(
                "invalid range specified for the Port: {port}"
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Volumes and mounts.

/// An OCI mount for the `mounts` list (bind and tmpfs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub destination: String,
    pub kind: String,
    pub source: String,
    pub options: Vec<String>,
}

impl Mount {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("destination".into(), json!(self.destination));
        m.insert("type".into(), json!(self.kind));
        m.insert("source".into(), json!(self.source));
        if !self.options.is_empty() {
            m.insert("options".into(), json!(self.options));
        }
        Value::Object(m)
    }
}

/// A named (or anonymous, empty name) volume for the `volumes` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedVolume {
    pub name: String,
    pub dest: String,
    pub options: Vec<String>,
}

impl NamedVolume {
    pub fn to_json(&self) -> Value {
        json!({
            "Name": self.name,
            "Dest": self.dest,
            "Options": if self.options.is_empty() { Value::Null } else { json!(self.options) },
            "IsAnonymous": false,
        })
    }
}

/// containers/common's check of `-v` options.
pub fn validate_volume_opts(options: &[String]) -> PResult<Vec<String>> {
    let joined = options.join(", ");
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    let mut out = Vec::new();
    let mut bump = |group: &'static str, msg: &str| -> PResult<()> {
        let c = counts.entry(group).or_insert(0);
        *c += 1;
        if *c > 1 {
            return Err(format!("invalid options {joined:?}, {msg}"));
        }
        Ok(())
    };
    for opt in options {
        if opt.contains("upperdir") {
            bump("upper", "can only specify 1 upperdir per overlay")?;
            out.push(opt.clone());
            continue;
        }
        if opt.contains("workdir") {
            bump("work", "can only specify 1 workdir per overlay")?;
            out.push(opt.clone());
            continue;
        }
        if opt.starts_with("idmap") {
            out.push(opt.clone());
            continue;
        }
        match opt.as_str() {
            "noexec" | "exec" => bump("exec", "can only specify 1 'noexec' or 'exec' option")?,
            "nodev" | "dev" => bump("dev", "can only specify 1 'nodev' or 'dev' option")?,
            "nosuid" | "suid" => bump("suid", "can only specify 1 'nosuid' or 'suid' option")?,
            "rw" | "ro" => bump("rwro", "can only specify 1 'rw' or 'ro' option")?,
            "z" | "Z" | "O" => bump("label", "can only specify 1 'z', 'Z', or 'O' option")?,
            "U" => bump("chown", "can only specify 1 'U' option")?,
            "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "unbindable"
            | "runbindable" => bump(
                "prop",
                "can only specify 1 '[r]shared', '[r]private', '[r]slave' or '[r]unbindable' option",
            )?,
            "bind" | "rbind" => bump("bind", "can only specify 1 '[r]bind' option")?,
            // macOS-only hints Docker accepts and drops.
            "cached" | "delegated" => continue,
            "copy" | "nocopy" => bump("copy", "can only specify 1 'copy' or 'nocopy' option")?,
            _ => return Err(format!("invalid option type {opt:?}")),
        }
        out.push(opt.clone());
    }
    Ok(out)
}

/// What one `-v` produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSpec {
    Bind(Mount),
    Named(NamedVolume),
}

/// `-v` split into its parts. On a Windows client the source may carry a drive letter and is
/// translated to the WSL machine's view of it (podman's `SplitVolumeString` and
/// `ConvertWinMountPath`); elsewhere it is a plain split.
#[cfg(windows)]
fn volume_parts(spec: &str) -> PResult<Vec<String>> {
    use bindings::winpath;
    let mut parts = winpath::split_volume(spec);
    if parts.len() > 1 {
        let src = &parts[0];
        if src.starts_with(['.', '/']) || winpath::is_host_win_path(src) {
            parts[0] = host_source(src)?;
        }
    }
    Ok(parts)
}

#[cfg(not(windows))]
fn volume_parts(spec: &str) -> PResult<Vec<String>> {
    Ok(spec.split(':').map(str::to_string).collect())
}

/// A bind-mount source as the engine's host sees it: unchanged, except on Windows clients.
#[cfg(windows)]
fn host_source(src: &str) -> PResult<String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    bindings::winpath::to_machine_path(src, &cwd.to_string_lossy()).map_err(|e| e.to_string())
}

#[cfg(not(windows))]
fn host_source(src: &str) -> PResult<String> {
    Ok(src.to_string())
}

/// `-v [src:]dst[:opts]`: a path source is a bind mount (on the engine's host), any other
/// source a named volume, no source an anonymous volume.
pub fn volume(spec: &str) -> PResult<VolumeSpec> {
    let owned = volume_parts(spec)?;
    let parts: Vec<&str> = owned.iter().map(String::as_str).collect();
    if parts.len() > 3 {
        return Err(format!(
            "{spec}: incorrect volume format, should be [host-dir:]ctr-dir[:option]"
        ));
    }
    let (src, dest) = if parts.len() == 1 {
        ("", parts[0])
    } else {
        (parts[0], parts[1])
    };
    let options = if parts.len() > 2 {
        validate_volume_opts(&parts[2].split(',').map(str::to_string).collect::<Vec<_>>())?
    } else {
        Vec::new()
    };
    if parts.len() > 1 && src.is_empty() {
        return Err("host directory cannot be empty".into());
    }
    if options.iter().any(|o| o == "O") {
        return Err("overlay volumes (:O) are not implemented yet in podman-remote".into());
    }
    if src.starts_with('/') || src.starts_with('.') {
        // The source names a path on the engine's machine; relative paths would resolve
        // against our working directory, which means nothing there.
        if src.starts_with('.') {
            return Err(format!(
                "{spec}: relative host paths are not supported by the remote client; give an absolute path on the server"
            ));
        }
        Ok(VolumeSpec::Bind(Mount {
            destination: dest.to_string(),
            kind: "bind".into(),
            source: src.to_string(),
            options,
        }))
    } else {
        Ok(VolumeSpec::Named(NamedVolume {
            name: src.to_string(),
            dest: dest.to_string(),
            options,
        }))
    }
}

fn validate_ctr_dir(d: &str) -> PResult<()> {
    if d.is_empty() {
        return Err("container directory cannot be empty".into());
    }
    if !d.starts_with('/') {
        return Err(format!(
            "invalid container path {d:?}, must be an absolute path"
        ));
    }
    Ok(())
}

/// Go's `path.Clean` for absolute container paths.
pub fn clean_path(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !abs {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let joined = out.join("/");
    if abs {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// What one `--mount` produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSpec {
    Mount(Mount),
    Volume(NamedVolume),
}

const MOUNT_FORMAT: &str = "incorrect mount format: should be --mount type=<bind|tmpfs|volume>,[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]";
const NO_DEST: &str = "must set volume destination";

fn option_arg(what: &str) -> String {
    format!("{what}: must provide an argument for option")
}

fn bad_mount_option(what: &str) -> String {
    format!("{what}: invalid mount option")
}

/// `--mount type=bind|volume|tmpfs,...`.
pub fn mount(spec: &str) -> PResult<MountSpec> {
    let fields = csv_fields(spec);
    let mut kind: Option<String> = None;
    let mut tokens: Vec<String> = Vec::new();
    for f in fields {
        let kv: Vec<&str> = f.split('=').collect();
        if kind.is_none() && kv.len() == 2 && kv[0] == "type" {
            kind = Some(kv[1].to_string());
        } else {
            tokens.push(f);
        }
    }
    let Some(kind) = kind else {
        return Err(MOUNT_FORMAT.into());
    };
    match kind.as_str() {
        "bind" => bind_mount(&tokens).map(MountSpec::Mount),
        "tmpfs" => tmpfs_mount(&tokens).map(MountSpec::Mount),
        "volume" => named_volume_mount(&tokens).map(MountSpec::Volume),
        "image" | "devpts" => Err(format!(
            "--mount type={kind} is not implemented yet in podman-remote"
        )),
        other => Err(format!("invalid filesystem type {other:?}")),
    }
}

/// Go's csv reader on one line: commas split, double quotes group.
fn csv_fields(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn once(flag: &mut bool, msg: &str) -> PResult<()> {
    if *flag {
        return Err(format!("{msg}: must provide an argument for option"));
    }
    *flag = true;
    Ok(())
}

fn chown_flag(val: &str) -> PResult<bool> {
    match val.split_once('=') {
        None => Ok(true),
        Some((_, v)) => match v.to_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!(
                "'U' or 'chown' must be set to true or false, instead received {v:?}: must provide an argument for option"
            )),
        },
    }
}

fn bind_mount(tokens: &[String]) -> PResult<Mount> {
    let mut m = Mount {
        destination: String::new(),
        kind: "bind".into(),
        source: String::new(),
        options: Vec::new(),
    };
    let (mut src_set, mut dst_set) = (false, false);
    let (mut rorw, mut suid, mut dev, mut exec, mut relabel, mut owner) =
        (false, false, false, false, false, false);
    for val in tokens {
        let (k, v) = match val.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (val.as_str(), None),
        };
        match k {
            "bind-nonrecursive" => m.options.push("bind".into()),
            "readonly" | "ro" | "rw" => {
                once(
                    &mut rorw,
                    "cannot pass 'readonly', 'ro', or 'rw' options more than once",
                )?;
                let k = if k == "readonly" { "ro" } else { k };
                match v.map(str::to_lowercase).as_deref() {
                    None | Some("true") => m.options.push(k.into()),
                    Some("false") => {
                        if k == "rw" {
                            m.options.push("ro".into());
                        }
                    }
                    Some(_) => {
                        return Err(format!(
                            "'readonly', 'ro', or 'rw' must be set to true or false, instead received {:?}: must provide an argument for option",
                            v.unwrap_or("")
                        ))
                    }
                }
            }
            "nosuid" | "suid" => {
                once(
                    &mut suid,
                    "cannot pass 'nosuid' and 'suid' options more than once",
                )?;
                m.options.push(k.into());
            }
            "nodev" | "dev" => {
                once(
                    &mut dev,
                    "cannot pass 'nodev' and 'dev' options more than once",
                )?;
                m.options.push(k.into());
            }
            "noexec" | "exec" => {
                once(
                    &mut exec,
                    "cannot pass 'noexec' and 'exec' options more than once",
                )?;
                m.options.push(k.into());
            }
            "shared" | "rshared" | "private" | "rprivate" | "slave" | "rslave" | "unbindable"
            | "runbindable" | "Z" | "z" => m.options.push(k.into()),
            "bind-propagation" => match v {
                Some(v) => m.options.push(v.into()),
                None => return Err(option_arg(k)),
            },
            "src" | "source" => match v {
                None => return Err(option_arg(k)),
                Some("") => {
                    return Err(
                        "host directory cannot be empty: must provide an argument for option"
                            .into(),
                    )
                }
                Some(v) => {
                    m.source = host_source(v)?;
                    src_set = true;
                }
            },
            "target" | "dst" | "destination" => {
                let Some(v) = v else {
                    return Err(option_arg(k));
                };
                validate_ctr_dir(v)?;
                m.destination = clean_path(v);
                dst_set = true;
            }
            "relabel" => {
                once(&mut relabel, "cannot pass 'relabel' option more than once")?;
                match v {
                    Some("private") => m.options.push("Z".into()),
                    Some("shared") => m.options.push("z".into()),
                    _ => {
                        return Err(format!(
                            "{k} mount option must be 'private' or 'shared': invalid mount option"
                        ))
                    }
                }
            }
            "U" | "chown" => {
                once(
                    &mut owner,
                    "cannot pass 'U' or 'chown' option more than once",
                )?;
                if chown_flag(val)? {
                    m.options.push("U".into());
                }
            }
            "idmap" => match v {
                Some(v) => m.options.push(format!("idmap={v}")),
                None => m.options.push("idmap".into()),
            },
            "consistency" => {}
            _ => return Err(bad_mount_option(k)),
        }
    }
    if !dst_set {
        return Err(NO_DEST.into());
    }
    if !src_set {
        m.source = m.destination.clone();
    }
    m.options = validate_volume_opts(&m.options)?;
    Ok(m)
}

fn tmpfs_mount(tokens: &[String]) -> PResult<Mount> {
    let mut m = Mount {
        destination: String::new(),
        kind: "tmpfs".into(),
        source: "tmpfs".into(),
        options: Vec::new(),
    };
    let mut dst_set = false;
    let (mut copyup, mut rorw, mut suid, mut dev, mut exec, mut owner) =
        (false, false, false, false, false, false);
    for val in tokens {
        let (k, v) = match val.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (val.as_str(), None),
        };
        match k {
            "tmpcopyup" | "notmpcopyup" => {
                once(
                    &mut copyup,
                    "cannot pass 'tmpcopyup' and 'notmpcopyup' options more than once",
                )?;
                m.options.push(k.into());
            }
            "ro" | "rw" => {
                once(
                    &mut rorw,
                    "cannot pass 'ro' and 'rw' options more than once",
                )?;
                m.options.push(k.into());
            }
            "nosuid" | "suid" => {
                once(
                    &mut suid,
                    "cannot pass 'nosuid' and 'suid' options more than once",
                )?;
                m.options.push(k.into());
            }
            "nodev" | "dev" => {
                once(
                    &mut dev,
                    "cannot pass 'nodev' and 'dev' options more than once",
                )?;
                m.options.push(k.into());
            }
            "noexec" | "exec" => {
                once(
                    &mut exec,
                    "cannot pass 'noexec' and 'exec' options more than once",
                )?;
                m.options.push(k.into());
            }
            "tmpfs-mode" => match v {
                Some(v) => m.options.push(format!("mode={v}")),
                None => return Err(option_arg(k)),
            },
            "tmpfs-size" => match v {
                Some(v) => m.options.push(format!("size={v}")),
                None => return Err(option_arg(k)),
            },
            "src" | "source" => return Err("source is not supported with tmpfs mounts".into()),
            "target" | "dst" | "destination" => {
                let Some(v) = v else {
                    return Err(option_arg(k));
                };
                validate_ctr_dir(v)?;
                m.destination = clean_path(v);
                dst_set = true;
            }
            "U" | "chown" => {
                once(
                    &mut owner,
                    "cannot pass 'U' or 'chown' option more than once",
                )?;
                if chown_flag(val)? {
                    m.options.push("U".into());
                }
            }
            "consistency" => {}
            _ => return Err(bad_mount_option(k)),
        }
    }
    if !dst_set {
        return Err(NO_DEST.into());
    }
    Ok(m)
}

fn named_volume_mount(tokens: &[String]) -> PResult<NamedVolume> {
    let mut nv = NamedVolume {
        name: String::new(),
        dest: String::new(),
        options: Vec::new(),
    };
    let mut dst_set = false;
    let (mut rorw, mut suid, mut dev, mut exec, mut owner) = (false, false, false, false, false);
    for val in tokens {
        let (k, v) = match val.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (val.as_str(), None),
        };
        match k {
            "volume-opt" => nv.options.push(val.clone()),
            "ro" | "rw" => {
                once(
                    &mut rorw,
                    "cannot pass 'ro' and 'rw' options more than once",
                )?;
                nv.options.push(k.into());
            }
            "nosuid" | "suid" => {
                once(
                    &mut suid,
                    "cannot pass 'nosuid' and 'suid' options more than once",
                )?;
                nv.options.push(k.into());
            }
            "nodev" | "dev" => {
                once(
                    &mut dev,
                    "cannot pass 'nodev' and 'dev' options more than once",
                )?;
                nv.options.push(k.into());
            }
            "noexec" | "exec" => {
                once(
                    &mut exec,
                    "cannot pass 'noexec' and 'exec' options more than once",
                )?;
                nv.options.push(k.into());
            }
            "volume-label" => {
                return Err("the --volume-label option is not presently implemented".into())
            }
            "src" | "source" => match v {
                Some(v) => nv.name = v.into(),
                None => return Err(option_arg(k)),
            },
            "target" | "dst" | "destination" => {
                let Some(v) = v else {
                    return Err(option_arg(k));
                };
                validate_ctr_dir(v)?;
                nv.dest = clean_path(v);
                dst_set = true;
            }
            "U" | "chown" => {
                once(
                    &mut owner,
                    "cannot pass 'U' or 'chown' option more than once",
                )?;
                if chown_flag(val)? {
                    nv.options.push("U".into());
                }
            }
            "consistency" => {}
            _ => return Err(bad_mount_option(k)),
        }
    }
    if !dst_set {
        return Err(NO_DEST.into());
    }
    Ok(nv)
}

/// `--tmpfs /dst[:opts]`.
pub fn tmpfs(spec: &str) -> PResult<Mount> {
    let parts: Vec<&str> = spec.split(':').collect();
    validate_ctr_dir(parts[0])?;
    let options = if parts.len() > 1 {
        parts[1].split(',').map(str::to_string).collect()
    } else {
        Vec::new()
    };
    Ok(Mount {
        destination: clean_path(parts[0]),
        kind: "tmpfs".into(),
        source: "tmpfs".into(),
        options,
    })
}

// ---------------------------------------------------------------------------------------------
// Other flags.

const ULIMIT_NAMES: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// `--ulimit name=soft[:hard]` → (name, soft, hard); -1 means unlimited.
pub fn ulimit(val: &str) -> PResult<(String, i64, i64)> {
    let wrap = |e: String| {
        format!("ulimit option {val:?} requires name=SOFT:HARD, failed to be parsed: {e}")
    };
    let Some((name, limits)) = val.split_once('=') else {
        return Err(wrap(format!("invalid ulimit argument: {val}")));
    };
    if !ULIMIT_NAMES.contains(&name) {
        return Err(wrap(format!("invalid ulimit type: {name}")));
    }
    let parts: Vec<&str> = limits.split(':').collect();
    let (soft, hard) = match parts.len() {
        1 => {
            let s = parse_int(parts[0]).map_err(wrap)?;
            (s, s)
        }
        2 => {
            let h = parse_int(parts[1]).map_err(wrap)?;
            (parse_int(parts[0]).map_err(wrap)?, h)
        }
        _ => {
            return Err(wrap(format!(
                "too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`"
            )))
        }
    };
    if hard != -1 {
        if soft == -1 {
            return Err(wrap(format!(
                "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: {hard}"
            )));
        }
        if soft > hard {
            return Err(wrap(format!(
                "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            )));
        }
    }
    Ok((name.to_string(), soft, hard))
}

/// `--cpus 1.5` → (period, quota) in microseconds, as podman's CoresToPeriodAndQuota.
pub fn cpus_to_period_quota(cpus: f64) -> (u64, i64) {
    const PERIOD: u64 = 100_000;
    (PERIOD, (cpus * PERIOD as f64) as i64)
}

/// `--restart policy[:retries]` → (policy, retries).
pub fn restart(val: &str) -> PResult<(String, Option<u64>)> {
    let parts: Vec<&str> = val.split(':').collect();
    match parts.len() {
        1 => Ok((parts[0].to_string(), None)),
        2 => {
            if parts[0].to_lowercase() != "on-failure" {
                return Err(
                    "restart policy retries can only be specified with on-failure restart policy"
                        .into(),
                );
            }
            let n =
                atoi(parts[1]).map_err(|e| format!("parsing restart policy retry count: {e}"))?;
            if n < 0 {
                return Err(
                    "must specify restart policy retry count as a number greater than 0".into(),
                );
            }
            Ok((parts[0].to_string(), Some(n as u64)))
        }
        _ => Err("invalid restart policy: may specify retries at most once".into()),
    }
}

/// `--stop-signal TERM|SIGTERM|15` → signal number.
pub fn signal(raw: &str) -> PResult<i64> {
    crate::signals::parse_signal(raw).map(i64::from)
}

/// `--add-host name:ip`.
pub fn add_host(val: &str) -> PResult<()> {
    match val.split_once(':') {
        Some((name, ip)) if !name.is_empty() => {
            if ip.trim().parse::<IpAddr>().is_err() {
                return Err(format!("invalid IP address in add-host: {ip:?}"));
            }
            Ok(())
        }
        _ => Err(format!("bad format for add-host: {val:?}")),
    }
}

/// `--dns-search` domains as podman validates them.
pub fn validate_domain(val: &str) -> PResult<()> {
    let bad = || format!("{val} is not a valid domain");
    if !val.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let trimmed = val.trim_end();
    let body = trimmed.strip_suffix('.').unwrap_or(trimmed);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if body.len() < 255 && body.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// `--device src[:dst][:perms]` validation (the engine parses the string itself).
pub fn device(dev: &str) -> PResult<()> {
    let valid_mode = |m: &str| {
        !m.is_empty() && m.len() <= 3 && m.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) && {
            let mut seen = std::collections::HashSet::new();
            m.chars().all(|c| seen.insert(c))
        }
    };
    let arr: Vec<&str> = dev.split(':').collect();
    match arr.len() {
        1..=3 => {
            if arr.len() == 3 && !valid_mode(arr[2]) {
                return Err(format!("invalid device mode: {}", arr[2]));
            }
            if arr.len() >= 2 && !valid_mode(arr[1]) && !arr[1].starts_with('/') {
                return Err(format!("invalid device mode: {}", arr[1]));
            }
            if arr[0].is_empty() {
                return Err(format!("invalid device specification: {dev}"));
            }
            Ok(())
        }
        _ => Err(format!("invalid device specification: {dev}")),
    }
}

/// `--health-*` flags → the `healthconfig` object (durations in nanoseconds, zero ones left
/// out as the engine's Go encoder does).
pub fn healthcheck(
    cmd: &str,
    interval: &str,
    retries: u64,
    timeout: &str,
    start_period: &str,
) -> PResult<Value> {
    let as_array: Option<Vec<String>> = serde_json::from_str(cmd).ok();
    let is_arr = as_array.is_some();
    let mut test: Vec<String> = match as_array {
        Some(a) => a,
        None => cmd.splitn(2, ' ').map(str::to_string).collect(),
    };
    if test.is_empty() {
        return Err("must define a healthcheck command for all healthchecks".into());
    }
    let first = test[0].to_uppercase();
    if first == "CMD" || first == "NONE" {
        test = cmd.split_whitespace().map(str::to_string).collect();
    } else if first != "CMD-SHELL" {
        if is_arr && test.len() > 1 {
            test.insert(0, "CMD".into());
        } else {
            test = vec!["CMD-SHELL".into(), test.join(" ")];
        }
    }
    if test.first().is_some_and(|t| t.to_uppercase() == "NONE") {
        test = vec!["NONE".into()];
    }
    let interval = if interval == "disable" { "0" } else { interval };
    let interval = duration(interval).map_err(|e| format!("invalid healthcheck-interval: {e}"))?;
    if retries < 1 {
        return Err("healthcheck-retries must be greater than 0".into());
    }
    let timeout = duration(timeout).map_err(|e| format!("invalid healthcheck-timeout: {e}"))?;
    if timeout < 1 {
        return Err("healthcheck-timeout must be at least 1 second".into());
    }
    let start =
        duration(start_period).map_err(|e| format!("invalid healthcheck-start-period: {e}"))?;
    if start < 0 {
        return Err("healthcheck-start-period must be 0 seconds or greater".into());
    }
    let mut m = Map::new();
    m.insert("Test".into(), json!(test));
    for (k, v) in [
        ("Interval", interval),
        ("Timeout", timeout),
        ("StartPeriod", start),
    ] {
        if v != 0 {
            m.insert(k.into(), json!(v));
        }
    }
    m.insert("Retries".into(), json!(retries));
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------------------------
// Environment and labels.

const WS: &[char] = &[' ', '\t'];

/// One `-e`/env-file entry into `env`: `K=V`, `K` (value from our environment when set) or
/// `PREFIX*` (every variable of ours starting with PREFIX).
pub fn env_entry(
    env: &mut BTreeMap<String, String>,
    line: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    all: &dyn Fn() -> Vec<(String, String)>,
) -> PResult<()> {
    let (name, value) = match line.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (line, None),
    };
    if name.is_empty() {
        return Err(format!("invalid environment variable: {line:?}"));
    }
    let name = name.trim_start_matches(WS);
    match value {
        Some(v) => {
            env.insert(name.to_string(), v.to_string());
        }
        None => {
            if let Some(prefix) = name.strip_suffix('*') {
                for (k, v) in all() {
                    if k.starts_with(prefix) {
                        env.insert(k, v);
                    }
                }
            } else if let Some(v) = lookup(name) {
                env.insert(name.to_string(), v);
            }
        }
    }
    Ok(())
}

/// An env file's text: one entry per line, leading blanks ignored, `#` comments.
pub fn env_file_text(
    env: &mut BTreeMap<String, String>,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    all: &dyn Fn() -> Vec<(String, String)>,
) -> PResult<()> {
    for raw in text.lines() {
        let line = raw.trim_start_matches(WS);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        env_entry(env, line, lookup, all)?;
    }
    Ok(())
}

/// A label file's text. Unlike env files a bare `KEY` sets nothing (as in podman).
pub fn label_file_text(labels: &mut BTreeMap<String, String>, text: &str) -> PResult<()> {
    for raw in text.lines() {
        let line = raw.trim_start_matches(WS);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        if name.is_empty() {
            return Err(format!("invalid environment variable: {line:?}"));
        }
        let name = name.trim_start_matches(WS);
        if name.contains(WS) {
            return Err(format!(
                "name {name:?} has white spaces, poorly formatted name"
            ));
        }
        if let Some(v) = value {
            labels.insert(name.to_string(), v.to_string());
        }
    }
    Ok(())
}

/// `-l key[=value]`.
pub fn label(labels: &mut BTreeMap<String, String>, l: &str) -> PResult<()> {
    let (k, v) = l.split_once('=').unwrap_or((l, ""));
    if k.is_empty() {
        return Err(format!("invalid label format: {l:?}"));
    }
    labels.insert(k.to_string(), v.to_string());
    Ok(())
}

/// Go's `os.Open` error text: "open PATH: no such file or directory".
pub fn go_open_error(path: &str, e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    };
    format!("open {path}: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pm(host_ip: &str, ctr: u16, host: u16, range: u16, proto: &str) -> PortMapping {
        PortMapping {
            host_ip: host_ip.into(),
            container_port: ctr,
            host_port: host,
            range,
            protocol: proto.into(),
        }
    }

    #[test]
    fn publish_forms() {
        assert_eq!(publish("8080:80").unwrap(), pm("", 80, 8080, 1, ""));
        assert_eq!(
            publish("127.0.0.1:8080:80/udp").unwrap(),
            pm("127.0.0.1", 80, 8080, 1, "udp")
        );
        assert_eq!(publish("80").unwrap(), pm("", 80, 0, 1, ""));
        assert_eq!(
            publish("3000-3001:4000-4001").unwrap(),
            pm("", 4000, 3000, 2, "")
        );
        assert_eq!(publish("0.0.0.0:1:2").unwrap(), pm("", 2, 1, 1, ""));
        assert_eq!(publish(":80").unwrap(), pm("", 80, 0, 1, ""));
        assert_eq!(
            publish("[::1]:8080:80").unwrap(),
            pm("::1", 80, 8080, 1, "")
        );
        assert_eq!(
            publish("80/tcp,udp").unwrap().protocol,
            "tcp,udp".to_string()
        );
    }

    #[test]
    fn publish_errors_are_podmans() {
        assert_eq!(
            publish("abc").unwrap_err(),
            "parsing container port: invalid port number: strconv.Atoi: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            publish("1-2:3").unwrap_err(),
            "host and container port ranges have different lengths: 2 vs 1"
        );
        assert_eq!(
            publish("0").unwrap_err(),
            "parsing container port: port numbers must be between 1 and 65535 (inclusive), got 0"
        );
        assert_eq!(
            publish("8080:80/").unwrap_err(),
            "must provide a non-empty protocol to publish"
        );
        assert_eq!(
            publish("80/tcp/udp").unwrap_err(),
            "invalid port format - protocol can only be specified once"
        );
        assert_eq!(
            publish("a:b:c:d").unwrap_err(),
            "invalid port format - format is [[hostIP:]hostPort:]containerPort"
        );
        assert_eq!(
            publish("nohost:1:2").unwrap_err(),
            "cannot parse \"nohost\" as an IP address"
        );
        assert_eq!(
            publish("5-3").unwrap_err(),
            "parsing container port: the end port of a range must be higher than the start port - 3 is not higher than 5"
        );
    }

    #[test]
    fn expose_ranges_and_protocols() {
        let e = expose(&["7000".into(), "7100-7101/udp".into(), "7000/udp".into()]).unwrap();
        assert_eq!(e[&7000], "tcp,udp");
        assert_eq!(e[&7100], "udp");
        assert_eq!(e[&7101], "udp");
        assert_eq!(
            expose(&["abc".into()]).unwrap_err(),
            "invalid range format for --expose: abc: strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
    }

    #[test]
    fn volume_forms() {
        assert_eq!(
            volume("name:/dst:ro,z").unwrap(),
            VolumeSpec::Named(NamedVolume {
                name: "name".into(),
                dest: "/dst".into(),
                options: vec!["ro".into(), "z".into()]
            })
        );
        assert_eq!(
            volume("/host:/dst").unwrap(),
            VolumeSpec::Bind(Mount {
                destination: "/dst".into(),
                kind: "bind".into(),
                source: "/host".into(),
                options: vec![]
            })
        );
        assert_eq!(
            volume("/dst").unwrap(),
            VolumeSpec::Named(NamedVolume {
                name: "".into(),
                dest: "/dst".into(),
                options: vec![]
            })
        );
        // "cached" is a macOS hint podman drops.
        assert_eq!(
            volume("/h:/d:cached,rw").unwrap(),
            VolumeSpec::Bind(Mount {
                destination: "/d".into(),
                kind: "bind".into(),
                source: "/h".into(),
                options: vec!["rw".into()]
            })
        );
    }

    /// On a Windows client the source of `-v` is the WSL machine's view of a Windows path.
    #[cfg(windows)]
    #[test]
    fn windows_volume_sources_are_translated() {
        match volume(r"C:\Users\me:/data:ro").unwrap() {
            VolumeSpec::Bind(m) => {
                assert_eq!(m.source, "/mnt/c/Users/me");
                assert_eq!(m.destination, "/data");
                assert_eq!(m.options, ["ro"]);
            }
            _ => panic!("not a bind mount"),
        }
        match volume("/c/work:/w").unwrap() {
            VolumeSpec::Bind(m) => assert_eq!(m.source, "/mnt/c/work"),
            _ => panic!("not a bind mount"),
        }
        match volume("data:/w").unwrap() {
            VolumeSpec::Named(v) => assert_eq!(v.name, "data"),
            _ => panic!("not a named volume"),
        }
        let e = volume(r"\\srv\share:/w").unwrap_err();
        assert!(e.contains("UNC paths"), "{e}");
    }

    #[test]
    fn volume_errors() {
        assert_eq!(
            volume("a:b:c:d").unwrap_err(),
            "a:b:c:d: incorrect volume format, should be [host-dir:]ctr-dir[:option]"
        );
        assert_eq!(volume(":/x").unwrap_err(), "host directory cannot be empty");
        assert_eq!(
            volume("v:/d:bogus").unwrap_err(),
            "invalid option type \"bogus\""
        );
        assert_eq!(
            volume("v:/d:ro,rw").unwrap_err(),
            "invalid options \"ro, rw\", can only specify 1 'rw' or 'ro' option"
        );
    }

    #[test]
    fn mount_forms() {
        assert_eq!(
            mount("type=bind,src=/etc,dst=/hostetc,ro").unwrap(),
            MountSpec::Mount(Mount {
                destination: "/hostetc".into(),
                kind: "bind".into(),
                source: "/etc".into(),
                options: vec!["ro".into()]
            })
        );
        assert_eq!(
            mount("type=bind,target=/x/../y/").unwrap(),
            MountSpec::Mount(Mount {
                destination: "/y".into(),
                kind: "bind".into(),
                source: "/y".into(),
                options: vec![]
            })
        );
        assert_eq!(
            mount("type=volume,src=v2,dst=/v2,ro").unwrap(),
            MountSpec::Volume(NamedVolume {
                name: "v2".into(),
                dest: "/v2".into(),
                options: vec!["ro".into()]
            })
        );
        assert_eq!(
            mount("type=tmpfs,dst=/tm,tmpfs-size=1m,tmpfs-mode=1777").unwrap(),
            MountSpec::Mount(Mount {
                destination: "/tm".into(),
                kind: "tmpfs".into(),
                source: "tmpfs".into(),
                options: vec!["size=1m".into(), "mode=1777".into()]
            })
        );
        assert_eq!(
            mount("type=bind,src=/a,dst=/b,readonly=false").unwrap(),
            MountSpec::Mount(Mount {
                destination: "/b".into(),
                kind: "bind".into(),
                source: "/a".into(),
                options: vec![]
            })
        );
    }

    #[test]
    fn mount_errors() {
        assert_eq!(mount("dst=/x").unwrap_err(), MOUNT_FORMAT);
        assert_eq!(
            mount("type=foo,dst=/x").unwrap_err(),
            "invalid filesystem type \"foo\""
        );
        assert_eq!(mount("type=bind,src=/x").unwrap_err(), NO_DEST);
        assert_eq!(
            mount("type=bind,dst=rel").unwrap_err(),
            "invalid container path \"rel\", must be an absolute path"
        );
        assert_eq!(
            mount("type=tmpfs,src=/x,dst=/y").unwrap_err(),
            "source is not supported with tmpfs mounts"
        );
        assert_eq!(
            mount("type=bind,dst=/y,bogus").unwrap_err(),
            "bogus: invalid mount option"
        );
    }

    #[test]
    fn tmpfs_flag() {
        assert_eq!(
            tmpfs("/run2:rw,size=64k").unwrap(),
            Mount {
                destination: "/run2".into(),
                kind: "tmpfs".into(),
                source: "tmpfs".into(),
                options: vec!["rw".into(), "size=64k".into()]
            }
        );
        assert_eq!(
            tmpfs("rel").unwrap_err(),
            "invalid container path \"rel\", must be an absolute path"
        );
    }

    #[test]
    fn ulimits() {
        assert_eq!(
            ulimit("nofile=1024:2048").unwrap(),
            ("nofile".into(), 1024, 2048)
        );
        assert_eq!(ulimit("nproc=100").unwrap(), ("nproc".into(), 100, 100));
        assert_eq!(ulimit("core=-1").unwrap(), ("core".into(), -1, -1));
        assert_eq!(
            ulimit("nofile").unwrap_err(),
            "ulimit option \"nofile\" requires name=SOFT:HARD, failed to be parsed: invalid ulimit argument: nofile"
        );
        assert_eq!(
            ulimit("foo=1").unwrap_err(),
            "ulimit option \"foo=1\" requires name=SOFT:HARD, failed to be parsed: invalid ulimit type: foo"
        );
        assert_eq!(
            ulimit("nofile=a").unwrap_err(),
            "ulimit option \"nofile=a\" requires name=SOFT:HARD, failed to be parsed: strconv.ParseInt: parsing \"a\": invalid syntax"
        );
        assert_eq!(
            ulimit("nofile=3:2").unwrap_err(),
            "ulimit option \"nofile=3:2\" requires name=SOFT:HARD, failed to be parsed: ulimit soft limit must be less than or equal to hard limit: 3 > 2"
        );
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(ram_in_bytes("512m").unwrap(), 536_870_912);
        assert_eq!(ram_in_bytes("1g").unwrap(), 1_073_741_824);
        assert_eq!(ram_in_bytes("1.5k").unwrap(), 1536);
        assert_eq!(ram_in_bytes("100").unwrap(), 100);
        assert_eq!(ram_in_bytes("2 MiB").unwrap(), 2 * 1024 * 1024);
        assert_eq!(ram_in_bytes("10b").unwrap(), 10);
        assert_eq!(ram_in_bytes("12q").unwrap_err(), "invalid size: '12q'");
        assert_eq!(
            ram_in_bytes("1.5.3").unwrap_err(),
            "strconv.ParseFloat: parsing \"1.5.3\": invalid syntax"
        );
        assert_eq!(ram_in_bytes("abc").unwrap_err(), "invalid size: 'abc'");
        assert_eq!(from_human_size("10mb").unwrap(), 10_000_000);
    }

    #[test]
    fn cpus() {
        assert_eq!(cpus_to_period_quota(1.5), (100_000, 150_000));
        assert_eq!(cpus_to_period_quota(0.25), (100_000, 25_000));
    }

    #[test]
    fn restart_policies() {
        assert_eq!(restart("always").unwrap(), ("always".into(), None));
        assert_eq!(
            restart("on-failure:3").unwrap(),
            ("on-failure".into(), Some(3))
        );
        assert_eq!(
            restart("always:3").unwrap_err(),
            "restart policy retries can only be specified with on-failure restart policy"
        );
        assert_eq!(
            restart("on-failure:x").unwrap_err(),
            "parsing restart policy retry count: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            restart("on-failure:1:2").unwrap_err(),
            "invalid restart policy: may specify retries at most once"
        );
    }

    #[test]
    fn signals() {
        assert_eq!(signal("SIGINT").unwrap(), 2);
        assert_eq!(signal("term").unwrap(), 15);
        assert_eq!(signal("9").unwrap(), 9);
        assert_eq!(signal("RTMIN+3").unwrap(), 37);
        assert_eq!(signal("FOO").unwrap_err(), "invalid signal: FOO");
        assert_eq!(signal("99").unwrap_err(), "valid signals are 1 through 64");
        assert_eq!(signal("0").unwrap_err(), "invalid signal: 0");
    }

    #[test]
    fn durations() {
        assert_eq!(duration("10s").unwrap(), 10_000_000_000);
        assert_eq!(duration("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(duration("1.5h").unwrap(), 5_400_000_000_000);
        assert_eq!(duration("0").unwrap(), 0);
        assert_eq!(duration("250ms").unwrap(), 250_000_000);
        assert_eq!(
            duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            duration("5x").unwrap_err(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert_eq!(
            duration("abc").unwrap_err(),
            "time: invalid duration \"abc\""
        );
    }

    #[test]
    fn health() {
        let h = healthcheck("echo hi", "10s", 5, "3s", "2s").unwrap();
        assert_eq!(
            h,
            json!({"Test": ["CMD-SHELL", "echo hi"], "Interval": 10_000_000_000i64,
                   "Timeout": 3_000_000_000i64, "StartPeriod": 2_000_000_000i64, "Retries": 5})
        );
        let h = healthcheck("CMD ls -l", "30s", 3, "30s", "0s").unwrap();
        assert_eq!(h["Test"], json!(["CMD", "ls", "-l"]));
        assert!(h.get("StartPeriod").is_none());
        // podman 4.3.1 splits a JSON array starting with CMD on blanks, keeping it whole.
        let h = healthcheck("[\"CMD\",\"ls\",\"-l\"]", "30s", 3, "30s", "0s").unwrap();
        assert_eq!(h["Test"], json!(["[\"CMD\",\"ls\",\"-l\"]"]));
        let h = healthcheck("[\"ls\",\"-l\"]", "30s", 3, "30s", "0s").unwrap();
        assert_eq!(h["Test"], json!(["CMD", "ls", "-l"]));
        let h = healthcheck("none", "30s", 3, "30s", "0s").unwrap();
        assert_eq!(h["Test"], json!(["NONE"]));
        let h = healthcheck("x", "disable", 3, "30s", "0s").unwrap();
        assert!(h.get("Interval").is_none());
        assert_eq!(
            healthcheck("x", "5", 3, "30s", "0s").unwrap_err(),
            "invalid healthcheck-interval: time: missing unit in duration \"5\""
        );
        assert_eq!(
            healthcheck("x", "1s", 0, "30s", "0s").unwrap_err(),
            "healthcheck-retries must be greater than 0"
        );
        assert_eq!(
            healthcheck("x", "1s", 1, "0s", "0s").unwrap_err(),
            "healthcheck-timeout must be at least 1 second"
        );
    }

    #[test]
    fn devices() {
        assert!(device("/dev/null").is_ok());
        assert!(device("/dev/null:/dev/mynull:rw").is_ok());
        assert!(device("/dev/null:rwm").is_ok());
        assert_eq!(device("/dev/null:x").unwrap_err(), "invalid device mode: x");
        assert_eq!(
            device("/dev/null:/d:rwx").unwrap_err(),
            "invalid device mode: rwx"
        );
        assert_eq!(
            device(":/d").unwrap_err(),
            "invalid device specification: :/d"
        );
    }

    #[test]
    fn hosts_and_domains() {
        assert!(add_host("foo:1.2.3.4").is_ok());
        assert!(add_host("foo:::1").is_ok());
        assert_eq!(
            add_host("foo").unwrap_err(),
            "bad format for add-host: \"foo\""
        );
        assert_eq!(
            add_host("foo:bar").unwrap_err(),
            "invalid IP address in add-host: \"bar\""
        );
        assert!(validate_domain("example.com").is_ok());
        assert_eq!(
            validate_domain("-bad-.com").unwrap_err(),
            "-bad-.com is not a valid domain"
        );
        assert_eq!(
            validate_domain("1.2").unwrap_err(),
            "1.2 is not a valid domain"
        );
    }

    #[test]
    fn env_files() {
        let lookup = |k: &str| (k == "HOME").then(|| "/home/me".to_string());
        let all = || {
            vec![
                ("APP_A".to_string(), "1".to_string()),
                ("APP_B".to_string(), "2".to_string()),
                ("OTHER".to_string(), "3".to_string()),
            ]
        };
        let mut env = BTreeMap::new();
        env_file_text(
            &mut env,
            "A=1\n# comment\n  B = x\nHOME\nUNSET\nC=with=eq\n\nAPP_*\n",
            &lookup,
            &all,
        )
        .unwrap();
        let want: BTreeMap<String, String> = [
            ("A", "1"),
            ("B ", " x"),
            ("HOME", "/home/me"),
            ("C", "with=eq"),
            ("APP_A", "1"),
            ("APP_B", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(env, want);
        assert_eq!(
            env_entry(&mut env, "=x", &lookup, &all).unwrap_err(),
            "invalid environment variable: \"=x\""
        );
    }

    #[test]
    fn labels() {
        let mut l = BTreeMap::new();
        label_file_text(&mut l, "lf1=a\nlf2\n# c\n").unwrap();
        label(&mut l, "a=b").unwrap();
        label(&mut l, "c").unwrap();
        assert_eq!(
            l.into_iter().collect::<Vec<_>>(),
            vec![
                ("a".to_string(), "b".to_string()),
                ("c".to_string(), String::new()),
                ("lf1".to_string(), "a".to_string())
            ]
        );
        let mut l = BTreeMap::new();
        assert_eq!(
            label(&mut l, "=x").unwrap_err(),
            "invalid label format: \"=x\""
        );
    }

    #[test]
    fn go_numbers() {
        assert_eq!(
            parse_uint("-1", 64).unwrap_err(),
            "strconv.ParseUint: parsing \"-1\": invalid syntax"
        );
        assert_eq!(parse_uint("20", 64).unwrap(), 20);
        assert_eq!(
            parse_float("abc").unwrap_err(),
            "strconv.ParseFloat: parsing \"abc\": invalid syntax"
        );
        assert_eq!(parse_float("1.5").unwrap(), 1.5);
        assert_eq!(
            atoi("99999999999999999999").unwrap_err(),
            "strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
    }

    #[test]
    fn paths() {
        assert_eq!(clean_path("/a/b/../c/"), "/a/c");
        assert_eq!(clean_path("/../x"), "/x");
        assert_eq!(clean_path("/"), "/");
    }
}
