//! Transports carry HTTP connections to the engine. One trait, one file per kind of URL.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::Result;
use crate::ssh::config::SshConfig;
use crate::ssh::session::{ConnectOptions, SshSession, Target};
use crate::url::ConnectionUrl;

#[cfg(windows)]
pub mod npipe;
pub mod ssh;
pub mod tcp;
#[cfg(unix)]
pub mod unix;

pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

pub type BoxIo = Box<dyn Io>;
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Opens a new byte stream to the engine's API for each HTTP connection.
pub trait Transport: Send + Sync {
    fn connect(&self) -> BoxFuture<'_, Result<BoxIo>>;
    /// Where the streams go, for messages (never contains secrets).
    fn describe(&self) -> String;
    /// HTTP path prefix the engine is served under (tcp URLs may carry one).
    fn path_prefix(&self) -> &str {
        ""
    }
}

/// Set up the transport for a URL: for ssh this authenticates the one session of the process
/// and, when the URL has no socket path, asks the server where podman listens.
pub async fn open(url: &ConnectionUrl, opts: &ConnectOptions) -> Result<Arc<dyn Transport>> {
    match url {
        ConnectionUrl::Ssh(s) => {
            let cfg = SshConfig::load_default();
            for w in cfg.warnings() {
                tracing::warn!("{w}");
            }
            let target = Target::resolve(s, opts, &cfg)?;
            let session = SshSession::connect(&target).await?;
            let socket = match &s.path {
                Some(p) => p.clone(),
                None => session.discover_socket().await?,
            };
            Ok(Arc::new(ssh::SshTransport::new(session, socket)))
        }
        #[cfg(unix)]
        ConnectionUrl::Unix { path } => Ok(Arc::new(unix::UnixTransport::new(path.into()))),
        #[cfg(not(unix))]
        ConnectionUrl::Unix { path } => Err(crate::error::Error::Connect {
            target: format!("unix://{path}"),
            reason: "unix sockets are not supported on this platform; use ssh://".into(),
        }),
        #[cfg(windows)]
        ConnectionUrl::Npipe { pipe } => Ok(Arc::new(npipe::NpipeTransport::new(pipe.clone()))),
        #[cfg(not(windows))]
        ConnectionUrl::Npipe { .. } => Err(crate::error::Error::Connect {
            target: url.to_string(),
            reason: "named pipes exist only on Windows; use ssh://, unix:// or tcp://".into(),
        }),
        ConnectionUrl::Tcp { host, port, prefix } => Ok(Arc::new(tcp::TcpTransport::new(
            host.clone(),
            *port,
            prefix.clone(),
        ))),
    }
}
