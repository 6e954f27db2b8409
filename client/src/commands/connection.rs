//! `system connection add|list|remove|default|rename`, on the same files podman uses.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use bindings::connections::{Destination, Registry};
use bindings::ssh::session::{ConnectOptions, SshSession, Target};
use bindings::url::ConnectionUrl;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::go_json_indent;

#[derive(Subcommand, Debug)]
pub enum ConnectionCmd {
    /// Record destination for the Podman service.
    Add(AddArgs),
    /// List destination for the Podman service(s).
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Delete named destination.
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
    /// Set named destination as default.
    Default { name: String },
    /// Rename a destination.
    #[command(visible_alias = "mv")]
    Rename { old: String, new: String },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Set connection to be default.
    #[arg(short, long)]
    default: bool,
    /// Identity file for the connection.
    #[arg(long)]
    identity: Option<String>,
    /// SSH port number for destination.
    #[arg(short, long)]
    port: Option<u16>,
    /// Path to podman socket on remote host (default: discovered).
    #[arg(long)]
    socket_path: Option<String>,
    name: String,
    /// ssh://[user@]host[:port][/path], unix:///path, tcp://host:port or [user@]host[/path].
    destination: String,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Custom Go template for printing connections, or json.
    #[arg(short, long)]
    format: Option<String>,
    /// Only print connection names.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct RemoveArgs {
    /// Remove all connections.
    #[arg(short, long)]
    all: bool,
    /// Accepted for compatibility, ignored.
    #[arg(short, long, hide = true)]
    force: bool,
    name: Option<String>,
}

pub async fn run(_g: &GlobalOpts, c: ConnectionCmd) -> Result<u8, Failure> {
    let reg = Registry::from_env();
    match c {
        ConnectionCmd::Add(a) => add(&reg, a).await,
        ConnectionCmd::List(a) => list(&reg, a),
        ConnectionCmd::Remove(a) => {
            match (a.all, a.name) {
                (true, _) => reg.remove_all()?,
                (false, Some(n)) => reg.remove(&n)?,
                (false, None) => {
                    return Err(Failure::msg("accepts 1 arg(s), received 0 (or use --all)"))
                }
            }
            Ok(0)
        }
        ConnectionCmd::Default { name } => {
            reg.set_default(&name)?;
            Ok(0)
        }
        ConnectionCmd::Rename { old, new } => {
            reg.rename(&old, &new)?;
            Ok(0)
        }
    }
}

fn absolute(p: &str) -> String {
    let path = Path::new(p);
    if path.is_absolute() {
        return p.to_string();
    }
    if let Some(rest) = p.strip_prefix("~/") {
        return bindings::ssh::session::home_dir()
            .join(rest)
            .display()
            .to_string();
    }
    std::env::current_dir()
        .map(|d| d.join(path).display().to_string())
        .unwrap_or_else(|_| p.to_string())
}

async fn add(reg: &Registry, a: AddArgs) -> Result<u8, Failure> {
    let dest = if a.destination.contains("://") {
        a.destination.clone()
    } else {
        format!("ssh://{}", a.destination)
    };
    let mut url = ConnectionUrl::parse(&dest)?;
    let identity = a.identity.as_deref().map(absolute);
    match &mut url {
        ConnectionUrl::Ssh(s) => {
            if let Some(p) = a.port {
                s.port = Some(p);
            }
            if let Some(sp) = &a.socket_path {
                s.path = Some(sp.clone());
            }
            if s.path.is_none() {
                // Like podman: ask the server where its socket is, so the connection works
                // later without another round trip.
                let cfg = bindings::ssh::config::SshConfig::load_default();
                let target = Target::resolve(
                    s,
                    &ConnectOptions {
                        identity: identity.as_ref().map(Into::into),
                        interactive: None,
                        pinned_known_hosts: None,
                    },
                    &cfg,
                )?;
                let session = SshSession::connect(&target).await?;
                s.path = Some(session.discover_socket().await?);
            }
            if s.user.is_none() {
                s.user = Some(bindings::ssh::session::local_user());
            }
            if s.port.is_none() {
                s.port = Some(22);
            }
        }
        ConnectionUrl::Unix { path } => {
            if identity.is_some() {
                return Err(Failure::msg(
                    "--identity option not supported for unix scheme",
                ));
            }
            if let Some(sp) = &a.socket_path {
                *path = sp.clone();
            }
            match std::fs::metadata(&*path) {
                Err(_) => eprintln!("WARN[0000] {path:?} does not exist"),
                #[cfg(unix)]
                Ok(m) => {
                    use std::os::unix::fs::FileTypeExt;
                    if !m.file_type().is_socket() {
                        return Err(Failure::msg(format!(
                            "{path:?} exists and is not a unix domain socket"
                        )));
                    }
                }
                #[cfg(not(unix))]
                Ok(_) => {}
            }
        }
        ConnectionUrl::Tcp { .. } | ConnectionUrl::Npipe { .. } => {
            if identity.is_some() || a.socket_path.is_some() {
                return Err(Failure::msg(format!(
                    "--identity and --socket-path are not supported for the {} scheme",
                    url.scheme()
                )));
            }
        }
    }
    // The password is deliberately not stored: podman-connections.json is world-readable
    // (0644, as podman writes it). Keys, the agent or a prompt cover later connections.
    let uri = match &url {
        ConnectionUrl::Ssh(s) => {
            if s.password.is_some() {
                eprintln!("WARN[0000] the password in the URL is not saved with the connection");
            }
            let mut u = String::from("ssh://");
            if let Some(user) = &s.user {
                u.push_str(user);
                u.push('@');
            }
            if s.host.contains(':') {
                u.push_str(&format!("[{}]", s.host));
            } else {
                u.push_str(&s.host);
            }
            if let Some(p) = s.port {
                u.push_str(&format!(":{p}"));
            }
            u.push_str(s.path.as_deref().unwrap_or(""));
            u
        }
        other => other.to_string(),
    };
    reg.add(
        &a.name,
        Destination {
            uri,
            identity,
            ..Default::default()
        },
        a.default,
    )?;
    Ok(0)
}

fn list(reg: &Registry, a: ListArgs) -> Result<u8, Failure> {
    let conns = reg.list()?;
    let mut out = std::io::stdout().lock();
    if a.quiet {
        for c in &conns {
            writeln!(out, "{}", c.name)?;
        }
        return Ok(0);
    }
    let rows: Vec<Value> = conns
        .iter()
        .map(|c| {
            let mut m = serde_json::Map::new();
            m.insert("Name".into(), json!(c.name));
            m.insert("URI".into(), json!(c.destination.uri));
            if let Some(i) = &c.destination.identity {
                m.insert("Identity".into(), json!(i));
            }
            if c.destination.is_machine {
                m.insert("IsMachine".into(), json!(true));
            }
            m.insert("Default".into(), json!(c.default));
            m.insert("ReadWrite".into(), json!(c.read_write));
            Value::Object(m)
        })
        .collect();
    match a.format.as_deref() {
        Some(f) if format::is_json(f) => {
            writeln!(out, "{}", go_json_indent(&Value::Array(rows), "    "))?;
        }
        fmt => {
            // Template rows see every field, even the omitted-when-empty ones.
            let trows: Vec<Value> = rows
                .into_iter()
                .map(|mut r| {
                    if let Some(m) = r.as_object_mut() {
                        m.entry("Identity").or_insert(json!(""));
                        m.entry("IsMachine").or_insert(json!(false));
                    }
                    r
                })
                .collect();
            let (template, user) = match fmt {
                Some(f) => (f.to_string(), true),
                None => (
                    "{{.Name}}\t{{.URI}}\t{{.Identity}}\t{{.Default}}\t{{.ReadWrite}}".into(),
                    false,
                ),
            };
            // podman prints this header row as written ("Name", "ReadWrite"), not upper-cased
            // like other tables: it goes in as the first row, through the same template.
            let heading = !user || format::is_table(&template);
            let mut all = Vec::with_capacity(trows.len() + 1);
            if heading {
                all.push(json!({
                    "Name": "Name", "URI": "URI", "Identity": "Identity",
                    "IsMachine": "IsMachine", "Default": "Default", "ReadWrite": "ReadWrite",
                }));
            }
            all.extend(trows);
            format::print_rows(&template, &all, &HashMap::new(), user, true, &mut out)
                .map_err(|e| Failure::msg(e.to_string()))?;
        }
    }
    Ok(0)
}
