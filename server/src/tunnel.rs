//! The SSH side: a small pool of sessions to one host. One session carries up to
//! [`CHANNELS_PER_SESSION`] channels; beyond that, or when the server refuses a channel on a
//! live session (a per-connection limit such as sshd's file limit, or the policy of other
//! SSH servers), another session is opened and kept. When every session is gone, a
//! supervisor reconnects with backoff.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bindings::ssh::session::{ChannelStream, SshSession, Target};
use bindings::transport::{BoxFuture, BoxIo, Transport};
use tokio::sync::{watch, Notify};

/// First and longest wait between reconnection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// sshd serves all channels of a session in one process whose event loop walks every
/// channel on every wakeup: measured here, a request's round trip grows from 0.2 ms with 100
/// open channels to 4.5 ms with 1,000 on one session. Spreading channels over sessions keeps
/// it flat and lets sshd use more than one core.
pub(crate) const CHANNELS_PER_SESSION: usize = 100;

/// How often the supervisor looks at the sessions when nothing wakes it.
const HEALTH_PERIOD: Duration = Duration::from_millis(500);

/// Where a channel leads on the remote host.
#[derive(Debug, Clone)]
pub(crate) enum Dest {
    /// The engine's API socket.
    Engine,
    /// A TCP address as seen from the remote host (published ports).
    Tcp(String, u16),
}

/// Why no channel could be opened.
#[derive(Debug, Clone)]
pub(crate) enum OpenError {
    /// No SSH session is up; the supervisor is reconnecting.
    Down(String),
    /// The server refused this channel on fresh and old sessions alike.
    Refused(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Down(e) => write!(
                f,
                "the SSH connection to the engine is down ({e}); reconnecting"
            ),
            OpenError::Refused(e) => f.write_str(e),
        }
    }
}

/// A session of the pool and the number of client channels open on it.
#[derive(Clone)]
struct Pooled {
    session: SshSession,
    open: Arc<AtomicUsize>,
}

impl Pooled {
    fn new(session: SshSession) -> Pooled {
        Pooled {
            session,
            open: Arc::new(AtomicUsize::new(0)),
        }
    }
}

#[derive(Default)]
struct State {
    sessions: Vec<Pooled>,
    connected_since: Option<SystemTime>,
    last_error: Option<String>,
}

/// A snapshot for the state file.
#[derive(Debug, Clone)]
pub(crate) struct TunnelStats {
    pub connected: bool,
    pub connected_since: Option<SystemTime>,
    pub last_error: Option<String>,
    pub sessions: usize,
    pub open_channels: usize,
    pub channels_total: u64,
    pub reconnects: u64,
}

pub(crate) struct Tunnel {
    target: Target,
    socket: String,
    state: Mutex<State>,
    /// Serializes opening extra sessions, so a burst of refusals opens one, not one each.
    grow: tokio::sync::Mutex<()>,
    wake: Notify,
    /// Bumped on every (re)connection; followers of the engine restart on a change.
    epoch: watch::Sender<u64>,
    open_channels: AtomicUsize,
    channels_total: AtomicU64,
    reconnects: AtomicU64,
    /// Sessions or forwarded ports changed: the state file should be rewritten now.
    pub(crate) changed: Notify,
    /// When a brand-new session was refused a channel too: for a while after that,
    /// refusals are taken as final (a missing socket) instead of costing a handshake each.
    futile_growth: Mutex<Option<std::time::Instant>>,
}

/// How long a refusal on a fresh session keeps us from opening more sessions.
const FUTILE_GROWTH_MEMORY: Duration = Duration::from_secs(2);

impl Tunnel {
    /// A tunnel over an already authenticated first session.
    pub(crate) fn new(target: Target, socket: String, first: SshSession) -> Arc<Tunnel> {
        let (epoch, _) = watch::channel(1);
        Arc::new(Tunnel {
            target,
            socket,
            state: Mutex::new(State {
                sessions: vec![Pooled::new(first)],
                connected_since: Some(SystemTime::now()),
                last_error: None,
            }),
            grow: tokio::sync::Mutex::new(()),
            wake: Notify::new(),
            epoch,
            open_channels: AtomicUsize::new(0),
            channels_total: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            changed: Notify::new(),
            futile_growth: Mutex::new(None),
        })
    }

    pub(crate) fn target(&self) -> String {
        self.target.display()
    }

    pub(crate) fn socket(&self) -> &str {
        &self.socket
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn live_sessions(&self) -> Vec<Pooled> {
        let mut st = self.lock();
        st.sessions.retain(|s| !s.session.is_closed());
        st.sessions.clone()
    }

    pub(crate) fn stats(&self) -> TunnelStats {
        let sessions = self.live_sessions().len();
        let st = self.lock();
        TunnelStats {
            connected: sessions > 0,
            connected_since: st.connected_since,
            last_error: st.last_error.clone(),
            sessions,
            open_channels: self.open_channels.load(Ordering::Relaxed),
            channels_total: self.channels_total.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }

    async fn open_on(&self, s: &SshSession, dest: &Dest) -> bindings::Result<ChannelStream> {
        match dest {
            Dest::Engine => s.open_streamlocal(&self.socket).await,
            Dest::Tcp(host, port) => s.open_tcp(host, *port).await,
        }
    }

    /// A new channel to `dest`, counted in the open channels until the guard is dropped.
    pub(crate) async fn open(self: &Arc<Self>, dest: &Dest) -> Result<Channel, OpenError> {
        let (stream, per_session) = self.open_counted(dest).await?;
        self.open_channels.fetch_add(1, Ordering::Relaxed);
        self.channels_total.fetch_add(1, Ordering::Relaxed);
        Ok(Channel {
            stream,
            _guard: ChannelGuard(self.clone(), per_session),
        })
    }

    async fn open_stream(&self, dest: &Dest) -> Result<ChannelStream, OpenError> {
        let (stream, per_session) = self.open_counted(dest).await?;
        // The server's own channels (events, listings) do not count towards the cap.
        per_session.fetch_sub(1, Ordering::Relaxed);
        Ok(stream)
    }

    /// Opens a channel on the least busy session with room, else on a new session; the
    /// returned counter (already incremented) belongs to the session used.
    async fn open_counted(
        &self,
        dest: &Dest,
    ) -> Result<(ChannelStream, Arc<AtomicUsize>), OpenError> {
        let mut sessions = self.live_sessions();
        if sessions.is_empty() {
            // Let the supervisor reconnect now rather than at its next health check.
            self.wake.notify_one();
            let why = self
                .lock()
                .last_error
                .clone()
                .unwrap_or_else(|| "the SSH session was closed".into());
            return Err(OpenError::Down(why));
        }
        sessions.sort_by_key(|p| p.open.load(Ordering::Relaxed));
        let mut refusal = None;
        let mut closed = 0;
        for p in sessions.iter() {
            if p.open.fetch_add(1, Ordering::Relaxed) >= CHANNELS_PER_SESSION {
                p.open.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            match self.open_on(&p.session, dest).await {
                Ok(c) => return Ok((c, p.open.clone())),
                Err(bindings::Error::ChannelRefused {
                    message,
                    session_closed: false,
                }) => refusal = Some(message),
                Err(e) => {
                    closed += 1;
                    tracing::debug!("channel on a closing session: {e}");
                }
            }
            p.open.fetch_sub(1, Ordering::Relaxed);
        }
        if closed == sessions.len() {
            self.wake.notify_one();
            return Err(OpenError::Down("the SSH session was closed".into()));
        }
        self.open_on_new_session(dest, sessions.len(), refusal)
            .await
    }

    async fn open_on_new_session(
        &self,
        dest: &Dest,
        seen: usize,
        refusal: Option<String>,
    ) -> Result<(ChannelStream, Arc<AtomicUsize>), OpenError> {
        if let Some(r) = &refusal {
            let recently_futile = self
                .futile_growth
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|t| t.elapsed() < FUTILE_GROWTH_MEMORY);
            if recently_futile {
                return Err(OpenError::Refused(r.clone()));
            }
        }
        let _one_at_a_time = self.grow.lock().await;
        // Someone else may have added a session while we waited.
        let sessions = self.live_sessions();
        if sessions.len() > seen {
            if let Some(p) = sessions.last() {
                if p.open.fetch_add(1, Ordering::Relaxed) < CHANNELS_PER_SESSION {
                    if let Ok(c) = self.open_on(&p.session, dest).await {
                        return Ok((c, p.open.clone()));
                    }
                }
                p.open.fetch_sub(1, Ordering::Relaxed);
            }
        }
        match &refusal {
            Some(r) => tracing::info!(
                "{} refused a channel on {} session(s) ({r}); opening another SSH session",
                self.target.display(),
                sessions.len()
            ),
            None => tracing::debug!(
                "{} session(s) carry {CHANNELS_PER_SESSION} channels each; opening another",
                sessions.len()
            ),
        }
        let fresh = SshSession::connect(&self.target).await.map_err(|e| {
            OpenError::Refused(match &refusal {
                Some(r) => format!("{r}; another SSH session failed too: {e}"),
                None => format!("opening another SSH session: {e}"),
            })
        })?;
        match self.open_on(&fresh, dest).await {
            Ok(c) => {
                let p = Pooled::new(fresh);
                p.open.fetch_add(1, Ordering::Relaxed);
                let counter = p.open.clone();
                self.lock().sessions.push(p);
                self.changed.notify_one();
                Ok((c, counter))
            }
            Err(e) => {
                // Refused on a brand-new session too: not a per-session limit, so keeping
                // the session would only pile up idle connections.
                fresh.close("channel refused").await;
                *self.futile_growth.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(std::time::Instant::now());
                Err(OpenError::Refused(e.to_string()))
            }
        }
    }

    /// Keeps at least one session up: reconnects with exponential backoff whenever all are
    /// gone. Runs until the tunnel is dropped by everyone else.
    pub(crate) async fn supervise(self: Arc<Self>) {
        let mut backoff = BACKOFF_MIN;
        loop {
            if !self.live_sessions().is_empty() {
                backoff = BACKOFF_MIN;
                tokio::select! {
                    _ = tokio::time::sleep(HEALTH_PERIOD) => {}
                    _ = self.wake.notified() => {}
                }
                continue;
            }
            {
                let mut st = self.lock();
                if st.connected_since.take().is_some() {
                    tracing::warn!(
                        "lost the SSH connection to {}; reconnecting",
                        self.target.display()
                    );
                    if st.last_error.is_none() {
                        st.last_error = Some("the SSH session was closed".into());
                    }
                    self.changed.notify_one();
                }
            }
            match SshSession::connect(&self.target).await {
                Ok(s) => {
                    tracing::info!("reconnected to {}", self.target.display());
                    {
                        let mut st = self.lock();
                        st.sessions.push(Pooled::new(s));
                        st.connected_since = Some(SystemTime::now());
                        st.last_error = None;
                    }
                    self.reconnects.fetch_add(1, Ordering::Relaxed);
                    self.epoch.send_modify(|e| *e += 1);
                    self.changed.notify_one();
                }
                Err(e) => {
                    tracing::debug!("reconnecting to {}: {e}", self.target.display());
                    self.lock().last_error = Some(e.to_string());
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// Closes every session (at shutdown).
    pub(crate) async fn close(&self) {
        let sessions = std::mem::take(&mut self.lock().sessions);
        for p in sessions {
            p.session.close("server shutting down").await;
        }
    }
}

pub(crate) struct ChannelGuard(Arc<Tunnel>, Arc<AtomicUsize>);

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        self.0.open_channels.fetch_sub(1, Ordering::Relaxed);
        self.1.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An open channel; counted as open until dropped.
pub(crate) struct Channel {
    pub stream: ChannelStream,
    pub _guard: ChannelGuard,
}

/// The tunnel as a bindings transport, for the server's own API calls (events, container
/// lists) to the engine.
pub(crate) struct TunnelTransport(pub Arc<Tunnel>);

impl Transport for TunnelTransport {
    fn connect(&self) -> BoxFuture<'_, bindings::Result<BoxIo>> {
        Box::pin(async move {
            match self.0.open_stream(&Dest::Engine).await {
                Ok(s) => Ok(Box::new(s) as BoxIo),
                Err(e) => Err(bindings::Error::Connect {
                    target: self.describe(),
                    reason: e.to_string(),
                }),
            }
        })
    }

    fn describe(&self) -> String {
        format!("ssh://{}{}", self.0.target(), self.0.socket())
    }
}
