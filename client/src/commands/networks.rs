//! `network ...`: create, ls, inspect, rm, prune, connect, disconnect, exists.

use std::io::{self, Write};
use std::net::IpAddr;

use clap::Args;
use serde_json::{json, Map, Value};

use super::argcheck::exact_args;
use super::volumes::{confirm, headers, kv_map, ls_json, template_failure, Errors};
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;

#[derive(Args, Debug)]
pub struct NetworkCreateArgs {
    /// Disable the DNS plugin.
    #[arg(long)]
    pub disable_dns: bool,
    /// Driver to manage the network.
    #[arg(short, long, default_value = "bridge")]
    pub driver: String,
    /// IPv4 or IPv6 gateway for the subnet.
    #[arg(long, value_delimiter = ',')]
    pub gateway: Vec<String>,
    /// Restrict external access from this network.
    #[arg(long)]
    pub internal: bool,
    /// Allocate container IP from range.
    #[arg(long)]
    pub ip_range: Vec<String>,
    /// IP Address Management Driver.
    #[arg(long)]
    pub ipam_driver: Option<String>,
    /// Enable IPv6 networking.
    #[arg(long)]
    pub ipv6: bool,
    /// Set metadata on a network.
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options.
    #[arg(short, long)]
    pub opt: Vec<String>,
    /// Subnets in CIDR format.
    #[arg(long)]
    pub subnet: Vec<String>,
    /// Do not fail if the network already exists.
    #[arg(long)]
    pub ignore: bool,
    /// Name of the network (generated when omitted).
    pub name: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkLsArgs {
    /// Provide filter values (e.g. 'name=podman').
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Pretty-print networks to JSON or using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate the network ID.
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not print headers.
    #[arg(long)]
    pub noheading: bool,
    /// Display only names.
    #[arg(short, long)]
    pub quiet: bool,
    /// (podman takes no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkInspectArgs {
    /// Pretty-print network to JSON or using a Go template.
    #[arg(short, long, default_value = "json")]
    pub format: String,
    /// Networks to inspect.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkRmArgs {
    /// Remove any containers using the network.
    #[arg(short, long)]
    pub force: bool,
    /// Seconds to wait for running containers to stop before killing the container.
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    /// Networks to remove.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkPruneArgs {
    /// Provide filter values (e.g. 'label=<key>=<value>').
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub force: bool,
    /// (podman takes no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkConnectArgs {
    /// Network scoped alias for the container.
    #[arg(long, value_delimiter = ',')]
    pub alias: Vec<String>,
    /// Static IPv4 address for this container network.
    #[arg(long)]
    pub ip: Option<String>,
    /// Static IPv6 address for this container network.
    #[arg(long)]
    pub ip6: Option<String>,
    /// Static MAC address for this container network.
    #[arg(long)]
    pub mac_address: Option<String>,
    /// NETWORK CONTAINER
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkDisconnectArgs {
    /// Force removal of container from network.
    #[arg(short, long)]
    pub force: bool,
    /// NETWORK CONTAINER
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkExistsArgs {
    /// The network.
    pub names: Vec<String>,
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// An address with its prefix length, as Go's `net.ParseCIDR` reads it.
fn parse_cidr(s: &str) -> Result<(IpAddr, u32), Failure> {
    let bad = || Failure::msg(format!("invalid CIDR address: {s}"));
    let (ip, bits) = s.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    let bits: u32 = bits.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(bad());
    }
    Ok((ip, bits))
}

/// `--ip-range CIDR` becomes a lease range from the first host address of the range to its
/// last address, as podman computes it client-side.
fn lease_range(s: &str) -> Result<Value, Failure> {
    let (ip, bits) = parse_cidr(s)?;
    let (first, last) = match ip {
        IpAddr::V4(v4) => {
            let n = u32::from(v4);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            let net = n & mask;
            let bcast = net | !mask;
            let first = if bits == 32 { net } else { net + 1 };
            (
                IpAddr::V4(first.into()).to_string(),
                IpAddr::V4(bcast.into()).to_string(),
            )
        }
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            let net = n & mask;
            let bcast = net | !mask;
            let first = if bits == 128 { net } else { net + 1 };
            (
                IpAddr::V6(first.into()).to_string(),
                IpAddr::V6(bcast.into()).to_string(),
            )
        }
    };
    Ok(json!({"start_ip": first, "end_ip": last}))
}

fn parse_ip(flag: &str, s: &str) -> Result<IpAddr, Failure> {
    s.trim().parse().map_err(|_| {
        Failure::msg(format!(
            "invalid argument {s:?} for \"--{flag}\" flag: invalid string being converted to IP address: {s}"
        ))
    })
}

/// The network document podman's client sends for `network create`.
fn create_body(a: &NetworkCreateArgs) -> Result<Value, Failure> {
    let mut options = kv_map(&a.opt);
    let mut net = Map::new();
    if let Some(n) = a.name.first() {
        net.insert("name".into(), json!(n));
    }
    net.insert("driver".into(), json!(a.driver));
    if a.driver == "macvlan" {
        // `-d macvlan -o parent=DEV` names the interface rather than being an option.
        if let Some(Value::String(p)) = options.remove("parent") {
            net.insert("network_interface".into(), json!(p));
        }
    }
    for g in &a.gateway {
        parse_ip("gateway", g)?;
    }
    let mut subnets = Vec::new();
    if !a.subnet.is_empty() {
        if a.gateway.len() > a.subnet.len() {
            return Err(Failure::msg("cannot set more gateways than subnets"));
        }
        if a.ip_range.len() > a.subnet.len() {
            return Err(Failure::msg("cannot set more ranges than subnets"));
        }
        for (i, s) in a.subnet.iter().enumerate() {
            parse_cidr(s)?;
            let mut sub = Map::new();
            sub.insert("subnet".into(), json!(s));
            if let Some(g) = a.gateway.get(i) {
                sub.insert("gateway".into(), json!(g.trim()));
            }
            if let Some(r) = a.ip_range.get(i) {
                sub.insert("lease_range".into(), lease_range(r)?);
            }
            subnets.push(Value::Object(sub));
        }
    } else if !a.ip_range.is_empty() || !a.gateway.is_empty() {
        return Err(Failure::msg("cannot set gateway or range without subnet"));
    }
    if !subnets.is_empty() {
        net.insert("subnets".into(), Value::Array(subnets));
    }
    net.insert("ipv6_enabled".into(), json!(a.ipv6));
    net.insert("internal".into(), json!(a.internal));
    net.insert("dns_enabled".into(), json!(!a.disable_dns));
    if !a.label.is_empty() {
        net.insert("labels".into(), Value::Object(kv_map(&a.label)));
    }
    if !options.is_empty() {
        net.insert("options".into(), Value::Object(options));
    }
    if let Some(d) = &a.ipam_driver {
        net.insert("ipam_options".into(), json!({ "driver": d }));
    }
    Ok(Value::Object(net))
}

pub async fn create(g: &GlobalOpts, a: NetworkCreateArgs) -> Result<u8, Failure> {
    if a.name.len() > 1 {
        return Err(Failure::msg(format!(
            "accepts at most 1 arg(s), received {}",
            a.name.len()
        )));
    }
    let body = create_body(&a)?;
    let client = g.client().await?;
    if a.ignore {
        if let Some(n) = a.name.first() {
            // Older engines have no `ignore`; an existing network is the same answer.
            if client.network_exists(n).await? {
                println!("{n}");
                return Ok(0);
            }
        }
    }
    let v = client.network_create(&body).await?;
    println!("{}", str_of(&v, "name"));
    Ok(0)
}

/// A network as `ls` templates see it: Go field names, the ID truncated unless `--no-trunc`,
/// labels as `k=v,...` and the creation time as Go's `Time.String`.
fn ls_row(n: &Value, no_trunc: bool) -> Value {
    let id = str_of(n, "id");
    let id = if no_trunc || id.len() <= 12 {
        id.to_string()
    } else {
        id[..12].to_string()
    };
    let mut labels: Vec<String> = n
        .get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    labels.sort();
    let created = str_of(n, "created");
    let created = super::lifecycle::go_time_string(created).unwrap_or_else(|| created.into());
    let get = |k: &str| n.get(k).cloned().unwrap_or(Value::Null);
    let map_or_empty = |k: &str| match n.get(k) {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    };
    json!({
        "Name": get("name"),
        "ID": id,
        "Driver": get("driver"),
        "NetworkInterface": n.get("network_interface").cloned().unwrap_or(json!("")),
        "Created": created,
        "Subnets": n.get("subnets").cloned().unwrap_or(json!([])),
        "IPv6Enabled": get("ipv6_enabled"),
        "Internal": get("internal"),
        "DNSEnabled": get("dns_enabled"),
        "Labels": labels.join(","),
        "Options": map_or_empty("options"),
        "IPAMOptions": map_or_empty("ipam_options"),
    })
}

pub async fn ls(g: &GlobalOpts, a: NetworkLsArgs) -> Result<u8, Failure> {
    if !a.args.is_empty() {
        return Err(Failure::msg(format!(
            "`podman network ls` takes no arguments, got {:?}",
            a.args
        )));
    }
    let client = g.client().await?;
    let mut list = client.networks(&a.filter).await?;
    // podman sorts the listing by name on the client.
    list.sort_by(|x, y| str_of(x, "name").cmp(str_of(y, "name")));
    let mut out = io::stdout().lock();
    let fmt = a.format.as_deref();
    if fmt.is_some_and(format::is_json) {
        writeln!(out, "{}", ls_json(&Value::Array(list), "  "))?;
        return Ok(0);
    }
    if a.quiet {
        for n in &list {
            writeln!(out, "{}", str_of(n, "name"))?;
        }
        return Ok(0);
    }
    let rows: Vec<Value> = list.iter().map(|n| ls_row(n, a.no_trunc)).collect();
    let (template, user) = match fmt {
        Some(f) if !f.is_empty() => (f.to_string(), true),
        _ => ("{{.ID}}\t{{.Name}}\t{{.Driver}}".to_string(), false),
    };
    format::print_rows(
        &template,
        &rows,
        &headers(&[("ID", "NETWORK ID")]),
        user,
        a.noheading,
        &mut out,
    )
    .map_err(template_failure)?;
    Ok(0)
}

pub async fn inspect(g: &GlobalOpts, a: NetworkInspectArgs) -> Result<u8, Failure> {
    if a.names.is_empty() {
        return Err(Failure::msg("requires at least 1 arg(s), only received 0"));
    }
    super::lifecycle::run_inspect(g, "network", &a.format, false, &a.names).await
}

/// podman's exit codes of `network rm`: 1 for an unknown network, 2 for one in use.
fn rm_code(message: &str) -> Option<u8> {
    if message.contains("network not found") {
        Some(1)
    } else if message.contains("network is being used") {
        Some(2)
    } else {
        None
    }
}

pub async fn rm(g: &GlobalOpts, a: NetworkRmArgs) -> Result<u8, Failure> {
    if a.names.is_empty() {
        return Err(Failure::msg("requires at least 1 arg(s), only received 0"));
    }
    let client = g.client().await?;
    let mut errs = Errors::new();
    let mut out = io::stdout().lock();
    for n in &a.names {
        match client.network_remove(n, a.force, a.time).await {
            Ok(reports) => {
                for r in &reports {
                    match r
                        .get("Err")
                        .and_then(Value::as_str)
                        .filter(|e| !e.is_empty())
                    {
                        Some(e) => errs.push(e.to_string(), rm_code(e)),
                        None => writeln!(out, "{}", str_of(r, "Name"))?,
                    }
                }
            }
            Err(e) if e.status().is_some() => {
                let m = e.to_string();
                let code = rm_code(&m);
                errs.push(m, code);
            }
            Err(e) => return Err(e.into()),
        }
    }
    out.flush()?;
    errs.finish()
}

pub async fn prune(g: &GlobalOpts, a: NetworkPruneArgs) -> Result<u8, Failure> {
    if !a.args.is_empty() {
        return Err(Failure::msg(format!(
            "`podman network prune` takes no arguments, got {:?}",
            a.args
        )));
    }
    if !a.force {
        println!("WARNING! This will remove all networks not used by at least one container.");
        if !confirm()? {
            return Ok(0);
        }
    }
    let client = g.client().await?;
    let reports = client.network_prune(&a.filter).await?;
    let mut errs = Errors::new();
    let mut out = io::stdout().lock();
    for r in &reports {
        let err = r
            .get("Error")
            .or_else(|| r.get("Err"))
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty());
        match err {
            Some(e) => errs.push(e.to_string(), None),
            None => writeln!(out, "{}", str_of(r, "Name"))?,
        }
    }
    out.flush()?;
    errs.finish()
}

pub async fn connect(g: &GlobalOpts, a: NetworkConnectArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 2)?;
    let mut ips = Vec::new();
    if let Some(ip) = &a.ip {
        ips.push(parse_ip("ip", ip)?.to_string());
    }
    if let Some(ip) = &a.ip6 {
        ips.push(parse_ip("ip6", ip)?.to_string());
    }
    let client = g.client().await?;
    client
        .network_connect(
            &a.args[0],
            &a.args[1],
            &a.alias,
            &ips,
            a.mac_address.as_deref(),
        )
        .await?;
    Ok(0)
}

pub async fn disconnect(g: &GlobalOpts, a: NetworkDisconnectArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 2)?;
    let client = g.client().await?;
    client
        .network_disconnect(&a.args[0], &a.args[1], a.force)
        .await?;
    Ok(0)
}

pub async fn exists(g: &GlobalOpts, a: NetworkExistsArgs) -> Result<u8, Failure> {
    exact_args(&a.names, 1)?;
    let client = g.client().await?;
    Ok(if client.network_exists(&a.names[0]).await? {
        0
    } else {
        1
    })
}

#[derive(clap::Subcommand, Debug)]
pub enum NetworkCmd {
    /// Create networks for containers and pods.
    Create(NetworkCreateArgs),
    /// List networks.
    #[command(visible_alias = "list")]
    Ls(NetworkLsArgs),
    /// Displays the raw network configuration for one or more networks.
    Inspect(NetworkInspectArgs),
    /// Remove networks.
    #[command(visible_alias = "remove")]
    Rm(NetworkRmArgs),
    /// Prune unused networks.
    Prune(NetworkPruneArgs),
    /// Add container to a network.
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(NetworkDisconnectArgs),
    /// Check if network exists.
    Exists(NetworkExistsArgs),
}

pub async fn network(g: &GlobalOpts, c: NetworkCmd) -> Result<u8, Failure> {
    match c {
        NetworkCmd::Create(a) => create(g, a).await,
        NetworkCmd::Ls(a) => ls(g, a).await,
        NetworkCmd::Inspect(a) => inspect(g, a).await,
        NetworkCmd::Rm(a) => rm(g, a).await,
        NetworkCmd::Prune(a) => prune(g, a).await,
        NetworkCmd::Connect(a) => connect(g, a).await,
        NetworkCmd::Disconnect(a) => disconnect(g, a).await,
        NetworkCmd::Exists(a) => exists(g, a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            lease_range("10.77.0.128/25").unwrap(),
            json!({"start_ip": "10.77.0.129", "end_ip": "10.77.0.255"})
        );
        assert_eq!(
            lease_range("fd00::/120").unwrap(),
            json!({"start_ip": "fd00::1", "end_ip": "fd00::ff"})
        );
        assert!(lease_range("10.0.0.0").is_err());
        assert!(lease_range("10.0.0.0/33").is_err());
    }

    #[test]
    fn rm_codes() {
        assert_eq!(
            rm_code("unable to find network with name or ID x: network not found"),
            Some(1)
        );
        assert_eq!(rm_code("\"n\" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used"), Some(2));
    }

    #[test]
    fn rows_have_go_names() {
        let n = json!({"name": "n", "id": "0123456789abcdef", "driver": "bridge",
                       "created": "2026-11-28T12:09:09.949848925Z", "labels": {"b": "2", "a": "1"}});
        let r = ls_row(&n, false);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["Labels"], "a=1,b=2");
        assert_eq!(r["Created"], "2026-11-28 12:09:09.949848925 +0000 UTC");
        assert_eq!(ls_row(&n, true)["ID"], "0123456789abcdef");
    }
}
