//! HTTP connections to a plain TCP endpoint (`podman system service tcp://...`). Unencrypted
//! and unauthenticated, as in podman; meant for trusted networks and tests.

use std::time::Duration;

use super::{BoxFuture, BoxIo, Transport};
use crate::error::{Error, Result};

pub struct TcpTransport {
    host: String,
    port: u16,
    prefix: String,
}

impl TcpTransport {
    pub fn new(host: String, port: u16, prefix: String) -> Self {
        TcpTransport { host, port, prefix }
    }
}

impl Transport for TcpTransport {
    fn connect(&self) -> BoxFuture<'_, Result<BoxIo>> {
        Box::pin(async move {
            let fut = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
            match tokio::time::timeout(Duration::from_secs(30), fut).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    Ok(Box::new(s) as BoxIo)
                }
                Ok(Err(e)) => Err(Error::Connect {
                    target: self.describe(),
                    reason: e.to_string(),
                }),
                Err(_) => Err(Error::Connect {
                    target: self.describe(),
                    reason: "no answer within 30 s".into(),
                }),
            }
        })
    }

    fn describe(&self) -> String {
        format!("tcp://{}:{}{}", self.host, self.port, self.prefix)
    }

    fn path_prefix(&self) -> &str {
        &self.prefix
    }
}
