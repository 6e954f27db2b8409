//! `system service [--time SECONDS] [URI]`: the SSH-tunnelled API server for the connection
//! the global flags select, listening on URI (default: the connection's socket in the
//! runtime directory). `--detach` runs it in the background, `--status` and `--stop` act on
//! running ones.

use std::time::Duration;

use clap::Args;
use podman_server::{status, ListenAddr, Server, Status};

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct ServiceArgs {
    /// Time until the service exits when no client is connected, in seconds (0 = never).
    #[arg(
        short = 't',
        long = "time",
        value_name = "SECONDS",
        default_value_t = 5
    )]
    pub time: u64,

    /// Run in the background; the pid and log files are kept beside the socket.
    #[arg(long, conflicts_with_all = ["status", "stop"])]
    pub detach: bool,

    /// Show the running API servers (or the one on URI): socket, connection, uptime,
    /// sessions, open channels and forwarded ports.
    #[arg(long, conflicts_with = "stop")]
    pub status: bool,

    /// Stop the API server of the connection (or the one on URI).
    #[arg(long)]
    pub stop: bool,

    /// With --status: `json`, or a Go template applied to each server.
    #[arg(long, requires = "status")]
    pub format: Option<String>,

    /// Do not forward the published ports of running containers to localhost.
    #[arg(long)]
    pub no_publish: bool,

    /// Where to listen: unix:///PATH (npipe:////./pipe/NAME on Windows).
    #[arg(value_name = "URI")]
    pub uri: Option<String>,
}

/// How long a background server may take to connect before --detach gives up.
const DETACH_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn service(g: &GlobalOpts, a: ServiceArgs) -> Result<u8, Failure> {
    let explicit = a
        .uri
        .as_deref()
        .map(ListenAddr::parse)
        .transpose()
        .map_err(server_err)?;
    if a.status {
        return show_status(explicit.as_ref(), a.format.as_deref()).await;
    }
    let sel = g.selection()?;
    let addr = explicit
        .clone()
        .unwrap_or_else(|| podman_server::default_listen_addr(&sel.uri, sel.identity.as_deref()));
    if a.stop {
        let pid = status::stop(&addr, Duration::from_secs(10))
            .await
            .map_err(server_err)?;
        println!("Stopped the API server on {addr} (pid {pid})");
        return Ok(0);
    }
    if a.detach {
        if let Some(s) = status::query(&addr).await.map_err(server_err)? {
            return Err(Failure::msg(format!(
                "an API server is already running on {addr} (pid {}); stop it with \
                 `podman-remote system service --stop`",
                s.pid
            )));
        }
        let exe = std::env::current_exe()
            .map_err(|e| Failure::msg(format!("cannot find our own executable: {e}")))?;
        let mut cmd = std::process::Command::new(exe);
        cmd.args(detached_args(g, &a, &addr));
        // The log is a file: no terminal colour codes in it.
        cmd.env("NO_COLOR", "1");
        let pid = podman_server::spawn_detached(cmd, &addr, DETACH_TIMEOUT)
            .await
            .map_err(server_err)?;
        tracing::info!("API server started in the background (pid {pid})");
        println!("{addr}");
        return Ok(0);
    }
    let server = Server::builder(&sel.uri)
        .map_err(server_err)?
        .identity(sel.identity.as_ref().map(Into::into))
        .pinned_known_hosts(if sel.is_machine {
            podman_machine::ops::pinned_known_hosts(&sel.uri)
        } else {
            None
        })
        .connection_name(sel.name.clone())
        .listen(addr)
        .idle_timeout((a.time > 0).then(|| Duration::from_secs(a.time)))
        .forward_ports(!a.no_publish)
        .interactive(crate::terminal::stdin_is_terminal())
        .start()
        .await
        .map_err(server_err)?;
    eprintln!("API server listening on {}", server.addr());
    server
        .serve(podman_server::shutdown_signal())
        .await
        .map_err(server_err)?;
    Ok(0)
}

/// The background process gets the same connection, explicitly, and the resolved URI.
fn detached_args(g: &GlobalOpts, a: &ServiceArgs, addr: &ListenAddr) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(c) = &g.connection {
        v.extend(["--connection".to_string(), c.clone()]);
    }
    if let Some(u) = &g.url {
        v.extend(["--url".to_string(), u.clone()]);
    }
    if let Some(i) = &g.identity {
        v.extend(["--identity".to_string(), i.clone()]);
    }
    // The log file is the only window into a background server: log its reconnections.
    let level = if g.log_level == "warn" {
        "info"
    } else {
        g.log_level.as_str()
    };
    v.extend(["--log-level".to_string(), level.to_string()]);
    v.extend([
        "system".into(),
        "service".into(),
        "--time".into(),
        a.time.to_string(),
    ]);
    if a.no_publish {
        v.push("--no-publish".into());
    }
    v.push(addr.uri());
    v
}

fn server_err(e: podman_server::Error) -> Failure {
    match e {
        podman_server::Error::Bindings(b) => b.into(),
        e => Failure::msg(e.to_string()),
    }
}

async fn show_status(addr: Option<&ListenAddr>, format: Option<&str>) -> Result<u8, Failure> {
    let servers: Vec<Status> = match addr {
        Some(a) => match status::query(a).await.map_err(server_err)? {
            Some(s) => vec![s],
            None => return Err(server_err(podman_server::Error::NotRunning(a.to_string()))),
        },
        None => status::list().await.map_err(server_err)?,
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match format {
        Some(f) if crate::format::is_json(f) => {
            let v = serde_json::to_value(&servers).unwrap_or_default();
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            )?;
        }
        Some(f) => {
            for s in &servers {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("uptime".into(), status::human_duration(s.uptime()).into());
                }
                crate::format::render_one(f, &v, &mut out)
                    .map_err(|e| Failure::msg(format!("template {f:?}: {e}")))?;
            }
        }
        None => {
            if servers.is_empty() {
                writeln!(out, "No API server is running.")?;
            }
            for (i, s) in servers.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                write_status(&mut out, s)?;
            }
        }
    }
    Ok(0)
}

fn write_status(out: &mut impl std::io::Write, s: &Status) -> std::io::Result<()> {
    writeln!(out, "Socket:          {}", s.socket)?;
    match &s.connection {
        Some(n) => writeln!(out, "Connection:      {n} ({})", s.uri)?,
        None => writeln!(out, "Connection:      {}", s.uri)?,
    }
    writeln!(out, "PID:             {}", s.pid)?;
    let state = match (&s.state[..], &s.last_error) {
        ("reconnecting", Some(e)) => format!("reconnecting ({e})"),
        (st, _) => st.to_string(),
    };
    writeln!(out, "State:           {state}")?;
    writeln!(
        out,
        "Uptime:          {}",
        status::human_duration(s.uptime())
    )?;
    writeln!(out, "SSH sessions:    {}", s.sessions)?;
    writeln!(
        out,
        "Open channels:   {} ({} since start, {} reconnections)",
        s.open_channels, s.channels_total, s.reconnects
    )?;
    if s.forwarded_ports.is_empty() {
        writeln!(out, "Forwarded ports: none")?;
    } else {
        writeln!(out, "Forwarded ports:")?;
        for p in &s.forwarded_ports {
            let who = if p.name.is_empty() {
                p.container.clone()
            } else {
                format!("{} {}", p.container, p.name)
            };
            match &p.error {
                None => writeln!(out, "  {}/{} -> {} ({who})", p.local, p.protocol, p.remote)?,
                Some(e) => writeln!(
                    out,
                    "  {}/{} NOT forwarded: {e} ({who})",
                    p.local, p.protocol
                )?,
            }
        }
    }
    Ok(())
}
