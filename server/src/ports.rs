//! Published ports on localhost: follows the engine's container events and, for every
//! running container with published TCP ports, listens on the same port on 127.0.0.1 (and
//! on the requested host address when it is one of ours), forwarding each connection with
//! `direct-tcpip` to that port on the remote host.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bindings::api::containers::ListContainers;
use bindings::api::events::EventsOptions;
use bindings::http::ApiClient;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::tunnel::{Dest, Tunnel, TunnelTransport};
use crate::Activity;

/// A published port of a running container, as the state file shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ForwardedPort {
    /// Short container ID.
    pub container: String,
    /// Container name.
    pub name: String,
    /// Local address listened on (`127.0.0.1:8080`).
    pub local: String,
    /// Address connected to on the remote host.
    pub remote: String,
    pub protocol: String,
    /// Why the port is not forwarded (taken locally, UDP), if it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One wanted forward: a local address and where it leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Wanted {
    local: SocketAddr,
    remote_host: String,
    port: u16,
    protocol: String,
}

struct Active {
    wanted: Wanted,
    info: ForwardedPort,
    task: Option<JoinHandle<()>>,
}

impl Drop for Active {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The forwards of every container, by full container ID.
#[derive(Default)]
pub(crate) struct PortTable {
    by_container: Mutex<HashMap<String, Vec<Active>>>,
}

impl PortTable {
    pub(crate) fn snapshot(&self) -> Vec<ForwardedPort> {
        let map = self.by_container.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<ForwardedPort> = map
            .values()
            .flat_map(|a| a.iter().map(|x| x.info.clone()))
            .collect();
        v.sort_by(|a, b| a.local.cmp(&b.local));
        v
    }

    fn remove(&self, id: &str) {
        let gone = self
            .by_container
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(g) = gone {
            for a in &g {
                if a.info.error.is_none() {
                    tracing::info!("stopped forwarding {} ({})", a.info.local, a.info.name);
                }
            }
        }
    }

    fn ids(&self) -> HashSet<String> {
        self.by_container
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    fn has(&self, id: &str) -> bool {
        self.by_container
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(id)
    }
}

/// Runs until aborted: (re)subscribes to the engine's events after every reconnection.
pub(crate) async fn follow(tunnel: Arc<Tunnel>, table: Arc<PortTable>, activity: Arc<Activity>) {
    let mut epoch = tunnel.subscribe();
    loop {
        if let Err(e) = follow_once(&tunnel, &table, &activity).await {
            tracing::debug!("following the engine's events: {e}");
        }
        // The stream ended: the engine restarted or the SSH session died. Wait for a new
        // session (or a short while, for an engine restart behind a live session).
        tokio::select! {
            _ = epoch.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn follow_once(
    tunnel: &Arc<Tunnel>,
    table: &Arc<PortTable>,
    activity: &Arc<Activity>,
) -> bindings::Result<()> {
    let client = ApiClient::connect(Arc::new(TunnelTransport(tunnel.clone()))).await?;
    // Subscribe before listing, so a container started in between is not missed.
    let mut events = client
        .events(&EventsOptions {
            filters: vec!["type=container".into()],
            stream: true,
            ..Default::default()
        })
        .await?;
    reconcile(&client, tunnel, table, activity).await?;
    while let Some(line) = events.next_line().await? {
        let Ok(ev) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let action = str_field(&ev, &["Action", "status", "Status"]);
        let id = ev
            .get("Actor")
            .and_then(|a| a.get("ID"))
            .and_then(Value::as_str)
            .or_else(|| ev.get("id").and_then(Value::as_str))
            .or_else(|| ev.get("ID").and_then(Value::as_str))
            .unwrap_or("")
            .to_string();
        if id.is_empty() {
            continue;
        }
        let before = table.ids().len();
        match action.as_str() {
            "start" | "restart" | "unpause" if !table.has(&id) => {
                sync_container(&client, tunnel, table, activity, &id).await?;
            }
            "died" | "die" | "stop" | "kill" | "remove" | "cleanup" | "pause" => {
                // `kill` may not stop the container (a signal it handles): look again.
                if action == "kill" {
                    sync_container(&client, tunnel, table, activity, &id).await?;
                } else {
                    table.remove(&id);
                }
            }
            _ => {}
        }
        if table.ids().len() != before {
            tunnel.changed.notify_one();
        }
    }
    Ok(())
}

fn str_field(v: &Value, keys: &[&str]) -> String {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_string()
}

/// Makes the table match the engine's running containers.
async fn reconcile(
    client: &ApiClient,
    tunnel: &Arc<Tunnel>,
    table: &Arc<PortTable>,
    activity: &Arc<Activity>,
) -> bindings::Result<()> {
    let running = client.containers(&ListContainers::default()).await?;
    let mut seen = HashSet::new();
    for c in &running {
        let id = str_field(c, &["Id", "ID"]);
        seen.insert(id.clone());
        apply(tunnel, table, activity, &id, c).await;
    }
    for id in table.ids() {
        if !seen.contains(&id) {
            table.remove(&id);
        }
    }
    Ok(())
}

async fn sync_container(
    client: &ApiClient,
    tunnel: &Arc<Tunnel>,
    table: &Arc<PortTable>,
    activity: &Arc<Activity>,
    id: &str,
) -> bindings::Result<()> {
    let list = client
        .containers(&ListContainers {
            filters: vec![format!("id={id}")],
            ..Default::default()
        })
        .await?;
    match list.first() {
        Some(c) => apply(tunnel, table, activity, id, c).await,
        None => table.remove(id),
    }
    Ok(())
}

/// The forwards a container of the libpod list asks for.
fn wanted(c: &Value) -> Vec<Wanted> {
    let mut out = BTreeMap::new();
    for p in c
        .get("Ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let host_ip = p.get("host_ip").and_then(Value::as_str).unwrap_or("");
        let first = p.get("host_port").and_then(Value::as_u64).unwrap_or(0);
        let range = p.get("range").and_then(Value::as_u64).unwrap_or(1).max(1);
        let proto = p
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("tcp")
            .to_string();
        for port in first..first + range {
            let Ok(port) = u16::try_from(port) else {
                continue;
            };
            if port == 0 {
                continue;
            }
            for w in wanted_for(host_ip, port, &proto) {
                out.insert(w.clone(), ());
            }
        }
    }
    out.into_keys().collect()
}

fn wanted_for(host_ip: &str, port: u16, proto: &str) -> Vec<Wanted> {
    let specific: Option<IpAddr> = host_ip
        .parse::<IpAddr>()
        .ok()
        .filter(|ip| !ip.is_unspecified());
    // Remote side: the address the engine bound, or its loopback for "all addresses".
    let remote_host = specific
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let mut v = vec![Wanted {
        local: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        remote_host: remote_host.clone(),
        port,
        protocol: proto.to_string(),
    }];
    if let Some(ip) = specific.filter(|ip| *ip != IpAddr::V4(Ipv4Addr::LOCALHOST)) {
        v.push(Wanted {
            local: SocketAddr::new(ip, port),
            remote_host,
            port,
            protocol: proto.to_string(),
        });
    }
    v
}

async fn apply(
    tunnel: &Arc<Tunnel>,
    table: &Arc<PortTable>,
    activity: &Arc<Activity>,
    id: &str,
    c: &Value,
) {
    let wants = wanted(c);
    let name = c
        .get("Names")
        .and_then(Value::as_array)
        .and_then(|n| n.first())
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let short: String = id.chars().take(12).collect();
    // Forwards that already work stay untouched (their connections too); the rest are
    // (re)tried, so a port that was taken may be picked up on a later event.
    let mut existing = table
        .by_container
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(id)
        .unwrap_or_default();
    let mut actives = Vec::new();
    for w in wants {
        if let Some(pos) = existing
            .iter()
            .position(|a| a.wanted == w && a.info.error.is_none())
        {
            actives.push(existing.swap_remove(pos));
            continue;
        }
        let mut info = ForwardedPort {
            container: short.clone(),
            name: name.clone(),
            local: w.local.to_string(),
            remote: format!("{}:{}", w.remote_host, w.port),
            protocol: w.protocol.clone(),
            error: None,
        };
        if w.protocol != "tcp" {
            info.error = Some(format!(
                "{} ports are not forwarded (only tcp travels over SSH)",
                w.protocol
            ));
            actives.push(Active {
                wanted: w,
                info,
                task: None,
            });
            continue;
        }
        match bind(w.local).await {
            Ok(l) => {
                tracing::info!(
                    "forwarding {} to {} on the engine's host ({name})",
                    info.local,
                    info.remote
                );
                let task = tokio::spawn(serve_port(
                    l,
                    tunnel.clone(),
                    activity.clone(),
                    w.remote_host.clone(),
                    w.port,
                ));
                actives.push(Active {
                    wanted: w,
                    info,
                    task: Some(task),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {
                // The requested host address is not one of ours: it is the remote host's.
            }
            Err(e) => {
                let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                    "the port is already in use on this machine".to_string()
                } else {
                    e.to_string()
                };
                tracing::warn!("cannot forward {} for container {name}: {why}", info.local);
                info.error = Some(why);
                actives.push(Active {
                    wanted: w,
                    info,
                    task: None,
                });
            }
        }
    }
    for gone in &existing {
        if gone.info.error.is_none() {
            tracing::info!(
                "stopped forwarding {} ({})",
                gone.info.local,
                gone.info.name
            );
        }
    }
    drop(existing);
    table
        .by_container
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id.to_string(), actives);
    tunnel.changed.notify_one();
}

/// Binds a local port; a port we released a moment ago (its task is being cancelled) may
/// still be held for a few milliseconds, so "in use" is retried briefly.
async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let mut tries = 0;
    loop {
        match TcpListener::bind(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 5 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            r => return r,
        }
    }
}

async fn serve_port(
    listener: TcpListener,
    tunnel: Arc<Tunnel>,
    activity: Arc<Activity>,
    remote_host: String,
    port: u16,
) {
    let dest = Dest::Tcp(remote_host, port);
    loop {
        let Ok((conn, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = conn.set_nodelay(true);
        let tunnel = tunnel.clone();
        let dest = dest.clone();
        let busy = activity.begin();
        tokio::spawn(async move {
            let _busy = busy;
            match tunnel.open(&dest).await {
                Ok(ch) => {
                    let _ = crate::pump::bidirectional(conn, ch.stream).await;
                    drop(ch._guard);
                }
                Err(e) => tracing::warn!("connection from {peer} to port {port}: {e}"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_of_a_libpod_list_entry() {
        let c = serde_json::json!({"Ports": [
            {"host_ip": "", "container_port": 80, "host_port": 18080, "range": 1, "protocol": "tcp"},
            {"host_ip": "0.0.0.0", "container_port": 53, "host_port": 5353, "range": 2, "protocol": "udp"},
            {"host_ip": "10.1.2.3", "container_port": 443, "host_port": 8443, "range": 1, "protocol": "tcp"}
        ]});
        let w = wanted(&c);
        let locals: Vec<String> = w
            .iter()
            .map(|w| format!("{} {}:{} {}", w.local, w.remote_host, w.port, w.protocol))
            .collect();
        assert_eq!(
            locals,
            vec![
                "10.1.2.3:8443 10.1.2.3:8443 tcp",
                "127.0.0.1:5353 127.0.0.1:5353 udp",
                "127.0.0.1:5354 127.0.0.1:5354 udp",
                "127.0.0.1:8443 10.1.2.3:8443 tcp",
                "127.0.0.1:18080 127.0.0.1:18080 tcp",
            ]
        );
        assert!(wanted(&serde_json::json!({"Ports": null})).is_empty());
    }
}
