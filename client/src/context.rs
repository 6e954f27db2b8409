//! Global flags and the connection they select (podman's precedence: `--connection`, `--url`,
//! `CONTAINER_CONNECTION`, `CONTAINER_HOST` + `CONTAINER_SSHKEY`, the default connection, then
//! the local default socket).

use std::path::PathBuf;

use bindings::connections::{select, Registry, SelectInput, Selection};
use bindings::http::ApiClient;
use bindings::ssh::session::ConnectOptions;
use bindings::url::ConnectionUrl;
use clap::Args;

use crate::exit::Failure;

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalOpts {
    /// URL to access the podman service (ssh://, unix:// or tcp://).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        alias = "host",
        short_alias = 'H'
    )]
    pub url: Option<String>,

    /// Connection to use for remote podman service.
    #[arg(short = 'c', long, global = true, value_name = "NAME")]
    pub connection: Option<String>,

    /// Path to an SSH identity file (CONTAINER_SSHKEY).
    #[arg(long, global = true, value_name = "PATH")]
    pub identity: Option<String>,

    /// Log messages at and above this level: debug, info, warn, error.
    #[arg(long, global = true, default_value = "warn", value_name = "LEVEL",
          value_parser = ["trace", "debug", "info", "warn", "error", "fatal", "panic"])]
    pub log_level: String,

    /// Accepted for compatibility: podman-remote is always remote.
    #[arg(short = 'r', long, global = true, hide = true)]
    pub remote: bool,
}

pub fn init_logging(level: &str) {
    let level = match level {
        "fatal" | "panic" => "error",
        l => l,
    };
    // Our own crates log at the chosen level; russh's internals only from debug on, since its
    // info messages mean nothing to a podman user.
    let filter = format!(
        "{level},russh={}",
        if matches!(level, "debug" | "trace") {
            level
        } else {
            "error"
        }
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl GlobalOpts {
    /// The connection the flags and environment select (podman's precedence).
    pub fn selection(&self) -> Result<Selection, Failure> {
        let registry = Registry::from_env();
        let envf = |n: &str| env(n);
        Ok(select(
            &registry,
            &SelectInput {
                connection: self.connection.as_deref(),
                url: self.url.as_deref(),
                identity: self.identity.as_deref(),
                env: &envf,
            },
        )?)
    }

    /// Connect to the selected engine and ping it: through the API server of the connection
    /// when one is running (no SSH handshake), else directly.
    pub async fn client(&self) -> Result<ApiClient, Failure> {
        let sel = self.selection()?;
        let url = ConnectionUrl::parse(&sel.uri)?;
        if matches!(url, ConnectionUrl::Ssh(_)) {
            if let Some(c) = via_server(&sel).await {
                return Ok(c);
            }
        }
        let opts = ConnectOptions {
            identity: sel.identity.as_ref().map(PathBuf::from),
            interactive: None,
            // A machine's guest host key is pinned with the machine, not in ~/.ssh/known_hosts.
            pinned_known_hosts: if sel.is_machine {
                podman_machine::ops::pinned_known_hosts(&sel.uri)
            } else {
                None
            },
        };
        let transport = bindings::transport::open(&url, &opts).await?;
        Ok(ApiClient::connect(transport).await?)
    }
}

/// Set to a non-empty value to always connect directly, even when an API server runs.
pub const NO_SERVER_ENV: &str = "PODMAN_REMOTE_NO_SERVER";

/// A running machine's watcher serves its default connection's engine on the machine's API
/// socket.
fn machine_api(sel: &Selection) -> Option<podman_server::ListenAddr> {
    #[cfg(unix)]
    {
        sel.is_machine
            .then(|| podman_machine::api::socket_serving(&sel.uri))
            .flatten()
            .map(podman_server::ListenAddr::Unix)
    }
    #[cfg(not(unix))]
    {
        // The machine's named pipes are served too, but not yet looked up by the client.
        let _ = sel;
        None
    }
}

/// The running API server of this connection (`system service`), if one answers a ping.
/// A server that is reconnecting answers 503, and then the direct path is taken instead.
async fn via_server(sel: &Selection) -> Option<ApiClient> {
    if env(NO_SERVER_ENV).is_some() {
        return None;
    }
    let addr = machine_api(sel)
        .unwrap_or_else(|| podman_server::default_listen_addr(&sel.uri, sel.identity.as_deref()));
    // One stat when no server runs: no connect attempt at all.
    if !podman_server::ServerFiles::for_addr(&addr).state.exists() {
        return None;
    }
    let transport = std::sync::Arc::new(podman_server::LocalTransport(addr.clone()));
    match ApiClient::connect(transport).await {
        Ok(c) => {
            tracing::debug!("using the API server on {addr}");
            Some(c)
        }
        Err(e) => {
            tracing::debug!("not using the API server on {addr}: {e}");
            None
        }
    }
}
