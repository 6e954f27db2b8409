//! The SSH-tunnelled API server: makes a remote podman engine look local.
//!
//! It listens on a local unix socket (mode 0600 in an owner-only directory) or, on Windows, a
//! named pipe only the current user may open, and forwards every accepted connection over
//! one persistent SSH session to the engine's socket on a new `direct-streamlocal` channel.
//! Bytes pass through untouched, so HTTP upgrades (attach, exec) and long streams (events,
//! `logs -f`) of both the libpod and the Docker-compatible API work, for podman and Docker
//! tools alike. More:
//!
//! * when the SSH server refuses a channel on a live session, another session is opened and
//!   kept in the pool (OpenSSH's `MaxSessions` counts only shell/exec/subsystem sessions, not
//!   forwarding channels; what does limit them in practice is sshd's file limit, one per
//!   channel, or the policy of other SSH servers);
//! * when every session is lost (sshd or VM restart) the server reconnects with backoff;
//!   connections arriving meanwhile get `503 Service Unavailable` with a JSON message
//!   (`{"cause","message","response"}`, which podman and Docker print);
//! * published ports: it follows the engine's container events and listens on
//!   `127.0.0.1:<host port>` for every running container with published TCP ports,
//!   forwarding with `direct-tcpip`; a port already taken locally is reported in the log and
//!   the state file;
//! * a state file beside the socket (pid, connection, uptime, sessions, open channels,
//!   forwarded ports), read by [`status::query`] and [`status::list`].
//!
//! # Library use (e.g. by `podman machine`)
//!
//! ```no_run
//! # async fn f() -> Result<(), podman_server::Error> {
//! use podman_server::{ListenAddr, Server};
//! let server = Server::builder("ssh://core@127.0.0.1:2222/run/podman/podman.sock")?
//!     .identity(Some("/home/me/.ssh/machine".into()))
//!     .listen(ListenAddr::parse("unix:///run/user/1000/podman/m-api.sock")?)
//!     .idle_timeout(None)
//!     .start()
//!     .await?; // bound, connected, state file written
//! println!("listening on {}", server.addr());
//! server.serve(podman_server::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! In the background: [`spawn_detached`] runs a command that starts a server (such as
//! `podman-remote system service --time 0 unix:///…`) with its output in the log file beside
//! the socket and returns once the server answers; [`status::query`] tells whether one runs
//! at an address, [`status::stop`] stops it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bindings::ssh::config::SshConfig;
use bindings::ssh::session::{ConnectOptions, SshSession, Target};
use bindings::transport::BoxIo;
use bindings::url::{ConnectionUrl, SshUrl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

mod error;
pub mod listener;
pub mod paths;
mod ports;
mod pump;
pub mod status;
mod tunnel;

pub use error::{Error, Result};
pub use listener::{ListenAddr, LocalTransport};
pub use paths::{default_listen_addr, runtime_dir, ServerFiles};
pub use ports::ForwardedPort;
pub use status::Status;

use listener::Listener;
use ports::PortTable;
use tunnel::{Dest, Tunnel};

/// Configures a server; see [`Server::builder`].
pub struct Builder {
    url: SshUrl,
    uri: String,
    identity: Option<PathBuf>,
    pinned_known_hosts: Option<PathBuf>,
    name: Option<String>,
    listen: Option<ListenAddr>,
    idle: Option<Duration>,
    forward_ports: bool,
    interactive: bool,
}

impl Builder {
    /// The SSH identity file (`--identity`, the connection's identity).
    pub fn identity(mut self, identity: Option<PathBuf>) -> Self {
        self.identity = identity;
        self
    }

    /// Check the host key against this file only, strictly (a machine's guest key, pinned
    /// with the machine instead of the user's known_hosts).
    pub fn pinned_known_hosts(mut self, file: Option<PathBuf>) -> Self {
        self.pinned_known_hosts = file;
        self
    }

    /// The connection's name, shown by `--status`.
    pub fn connection_name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }

    /// Where to listen; default: [`default_listen_addr`] of the URL and identity.
    pub fn listen(mut self, addr: ListenAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Exit after this long without any client connection (`None`: serve until stopped).
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle = idle.filter(|d| !d.is_zero());
        self
    }

    /// Forward the published ports of running containers to localhost (default: on).
    pub fn forward_ports(mut self, on: bool) -> Self {
        self.forward_ports = on;
        self
    }

    /// Allow prompts (passphrases, unknown host keys) on the terminal while connecting
    /// (default: off, as a server usually has no terminal).
    pub fn interactive(mut self, on: bool) -> Self {
        self.interactive = on;
        self
    }

    /// The address the server will listen on.
    pub fn listen_addr(&self) -> ListenAddr {
        self.listen.clone().unwrap_or_else(|| {
            default_listen_addr(&self.uri, self.identity.as_ref().and_then(|p| p.to_str()))
        })
    }

    /// Binds the address, connects and authenticates to the SSH server, finds the engine's
    /// socket if the URL has none, and writes the pid and state files. The server is then
    /// ready; call [`Server::serve`].
    pub async fn start(self) -> Result<Server> {
        raise_fd_limit();
        let addr = self.listen_addr();
        let listener = Listener::bind(&addr).await?;
        let opts = ConnectOptions {
            identity: self.identity.clone(),
            interactive: Some(self.interactive),
            pinned_known_hosts: self.pinned_known_hosts.clone(),
        };
        let cfg = SshConfig::load_default();
        for w in cfg.warnings() {
            tracing::warn!("{w}");
        }
        let target: Target = Target::resolve(&self.url, &opts, &cfg)?;
        let first = SshSession::connect(&target).await?;
        let socket = match &self.url.path {
            Some(p) => p.clone(),
            None => first.discover_socket().await?,
        };
        // Fail now, with sshd's reason, rather than answer every client with a 503.
        drop(first.open_streamlocal(&socket).await?);
        let tunnel = Tunnel::new(target, socket, first);
        let files = ServerFiles::for_addr(&addr);
        status::write_atomic(&files.pid, format!("{}\n", std::process::id()).as_bytes())?;
        let shared = Arc::new(Shared {
            addr: addr.clone(),
            files,
            name: self.name,
            uri: self.uri,
            started: std::time::SystemTime::now(),
            idle: self.idle,
            tunnel,
            ports: Arc::new(PortTable::default()),
            activity: Arc::new(Activity::default()),
        });
        shared.write_state()?;
        Ok(Server {
            listener,
            shared,
            forward_ports: self.forward_ports,
        })
    }
}

/// Why [`Server::serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The shutdown future resolved.
    Shutdown,
    /// No client for the idle timeout.
    Idle,
}

/// A started server (listening, connected); see the crate docs.
pub struct Server {
    listener: Listener,
    shared: Arc<Shared>,
    forward_ports: bool,
}

struct Shared {
    addr: ListenAddr,
    files: ServerFiles,
    name: Option<String>,
    uri: String,
    started: std::time::SystemTime,
    idle: Option<Duration>,
    tunnel: Arc<Tunnel>,
    ports: Arc<PortTable>,
    activity: Arc<Activity>,
}

impl Shared {
    fn status(&self) -> Status {
        let t = self.tunnel.stats();
        Status {
            pid: std::process::id(),
            socket: self.addr.uri(),
            connection: self.name.clone(),
            uri: self.uri.clone(),
            state: if t.connected {
                "connected"
            } else {
                "reconnecting"
            }
            .into(),
            started: status::secs(self.started),
            connected_since: t.connected_since.map(status::secs),
            last_error: t.last_error,
            sessions: t.sessions,
            open_channels: t.open_channels,
            channels_total: t.channels_total,
            reconnects: t.reconnects,
            idle_timeout: self.idle.map(|d| d.as_secs()).unwrap_or(0),
            forwarded_ports: self.ports.snapshot().into_iter().map(Into::into).collect(),
            updated: status::now_secs(),
        }
    }

    fn write_state(&self) -> Result<()> {
        let text = serde_json::to_vec_pretty(&self.status()).unwrap_or_default();
        status::write_atomic(&self.files.state, &text)
    }
}

impl Server {
    /// Starts configuring a server for an `ssh://` connection URL.
    pub fn builder(uri: &str) -> Result<Builder> {
        let url = ConnectionUrl::parse(uri)?;
        let ConnectionUrl::Ssh(ssh) = &url else {
            return Err(Error::Usage(format!(
                "the API server tunnels ssh:// connections; {url} is already reachable \
                 directly (use it as DOCKER_HOST or --url)"
            )));
        };
        Ok(Builder {
            url: ssh.clone(),
            uri: uri.to_string(),
            identity: None,
            pinned_known_hosts: None,
            name: None,
            listen: None,
            idle: None,
            forward_ports: true,
            interactive: false,
        })
    }

    pub fn addr(&self) -> &ListenAddr {
        &self.shared.addr
    }

    /// The current state (as the state file has it).
    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// Serves until `shutdown` resolves or, with an idle timeout, no client has been
    /// connected for that long. Removes the socket, pid and state files on return.
    pub async fn serve(mut self, shutdown: impl Future<Output = ()>) -> Result<Exit> {
        let shared = self.shared.clone();
        let mut tasks = vec![tokio::spawn(shared.tunnel.clone().supervise())];
        if self.forward_ports {
            tasks.push(tokio::spawn(ports::follow(
                shared.tunnel.clone(),
                shared.ports.clone(),
                shared.activity.clone(),
            )));
        }
        let writer = shared.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = writer.tunnel.changed.notified() => {}
                }
                if let Err(e) = writer.write_state() {
                    tracing::warn!("cannot update the state file: {e}");
                }
            }
        }));
        tracing::info!(
            "serving {} on {} (engine socket {})",
            shared.uri,
            shared.addr,
            shared.tunnel.socket()
        );
        let idle = idle_exit(shared.activity.clone(), shared.idle);
        tokio::pin!(shutdown);
        tokio::pin!(idle);
        let exit = loop {
            tokio::select! {
                _ = &mut shutdown => break Exit::Shutdown,
                _ = &mut idle => break Exit::Idle,
                conn = self.listener.accept() => match conn {
                    Ok(io) => {
                        let busy = shared.activity.begin();
                        let tunnel = shared.tunnel.clone();
                        tokio::spawn(async move {
                            let _busy = busy;
                            handle(io, tunnel).await;
                        });
                    }
                    Err(e) => {
                        // EMFILE and the like: back off instead of spinning.
                        tracing::warn!("accepting a connection on {}: {e}", shared.addr);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        };
        for t in tasks {
            t.abort();
        }
        drop(self.listener);
        let _ = std::fs::remove_file(&shared.files.state);
        let _ = std::fs::remove_file(&shared.files.pid);
        shared.tunnel.close().await;
        tracing::info!(
            "stopped serving on {} ({})",
            shared.addr,
            match exit {
                Exit::Shutdown => "asked to stop",
                Exit::Idle => "idle timeout",
            }
        );
        Ok(exit)
    }
}

/// One client connection: a channel to the engine's socket and bytes both ways, or a 503
/// when the engine cannot be reached.
async fn handle(io: BoxIo, tunnel: Arc<Tunnel>) {
    match tunnel.open(&Dest::Engine).await {
        Ok(ch) => {
            // Windows listens on named pipes only, which cannot carry a half-close.
            #[cfg(windows)]
            let _ = pump::until_remote_done(io, ch.stream).await;
            #[cfg(not(windows))]
            let _ = pump::bidirectional(io, ch.stream).await;
            drop(ch._guard);
        }
        Err(e) => unavailable(io, &e.to_string()).await,
    }
}

/// Answers an HTTP request with `503 Service Unavailable` and an error document in the
/// shape both libpod and the Docker API use, after reading the request head so the client
/// sees the answer rather than a reset.
async fn unavailable(mut io: BoxIo, why: &str) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut got = 0;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while got < buf.len() {
            match io.read(&mut buf[got..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
            if buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    let message = format!("podman-remote API server: {why}");
    let body = serde_json::json!({
        "cause": "the remote engine is unreachable",
        "message": message,
        "response": 503,
    })
    .to_string();
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = io.write_all(reply.as_bytes()).await;
    let _ = io.shutdown().await;
}

/// Counts client connections (API and forwarded ports) for the idle timeout.
pub(crate) struct Activity {
    active: AtomicUsize,
    idle_since: Mutex<Instant>,
    changed: Notify,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            active: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            changed: Notify::new(),
        }
    }
}

impl Activity {
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        Busy(self.clone())
    }
}

pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        }
        self.0.changed.notify_waiters();
    }
}

async fn idle_exit(activity: Arc<Activity>, idle: Option<Duration>) {
    let Some(idle) = idle else {
        return std::future::pending().await;
    };
    loop {
        let wait = if activity.active.load(Ordering::SeqCst) == 0 {
            let since = activity
                .idle_since
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed();
            if since >= idle {
                return;
            }
            idle - since
        } else {
            Duration::from_secs(3600)
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = activity.changed.notified() => {}
        }
    }
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C or Ctrl-Break on Windows).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A server accepts one file descriptor per client and sshd channel: lift the soft limit to
/// the hard one, as Go programs (podman, docker) do at start.
fn raise_fd_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit on a properly initialized struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            let mut want = lim;
            want.rlim_cur = if cfg!(target_os = "macos") {
                lim.rlim_max.min(10240)
            } else {
                lim.rlim_max
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &want);
        }
    }
}

/// Runs `cmd` (which must start a server on `addr`) in the background with its output in the
/// log file beside the socket, and returns its pid once the server answers there. Fails with
/// the log's tail if the command exits first or nothing answers within `timeout`.
pub async fn spawn_detached(
    mut cmd: std::process::Command,
    addr: &ListenAddr,
    timeout: Duration,
) -> Result<u32> {
    use std::process::Stdio;
    let files = ServerFiles::for_addr(addr);
    if let Some(dir) = files.log.parent() {
        paths::ensure_dir(dir)?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&files.log)
        .map_err(|e| Error::file(&files.log, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&files.log, std::fs::Permissions::from_mode(0o600));
    }
    let log2 = log.try_clone().map_err(|e| Error::file(&files.log, e))?;
    cmd.stdin(Stdio::null()).stdout(log).stderr(log2);
    detach(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| Error::Start {
        reason: format!("cannot run {:?}: {e}", cmd.get_program()),
        log: String::new(),
    })?;
    let pid = child.id();
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(s) = status::query(addr).await? {
            if s.pid == pid {
                return Ok(pid);
            }
        }
        if let Ok(Some(code)) = child.try_wait() {
            return Err(Error::Start {
                reason: format!("it exited ({code})"),
                log: tail_for_error(&files.log),
            });
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(Error::Start {
                reason: format!("nothing answered on {addr} within {} s", timeout.as_secs()),
                log: tail_for_error(&files.log),
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn tail_for_error(log: &PathBuf) -> String {
    let t = status::log_tail(log, 2000);
    if t.is_empty() {
        String::new()
    } else {
        format!("; its log ({}) ends with:\n{t}", log.display())
    }
}

#[cfg(unix)]
fn detach(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe; the new session keeps the server alive when the
    // terminal that started it closes.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

#[cfg(windows)]
fn detach(cmd: &mut std::process::Command) {
    use std::os::windows::process::CommandExt;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
}

#[cfg(not(any(unix, windows)))]
fn detach(_cmd: &mut std::process::Command) {}
