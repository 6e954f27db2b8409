//! HTTP connections to a local unix socket.

use std::path::PathBuf;

use super::{BoxFuture, BoxIo, Transport};
use crate::error::{Error, Result};

pub struct UnixTransport {
    path: PathBuf,
}

impl UnixTransport {
    pub fn new(path: PathBuf) -> Self {
        UnixTransport { path }
    }
}

impl Transport for UnixTransport {
    fn connect(&self) -> BoxFuture<'_, Result<BoxIo>> {
        Box::pin(async move {
            match tokio::net::UnixStream::connect(&self.path).await {
                Ok(s) => Ok(Box::new(s) as BoxIo),
                Err(e) => Err(Error::Connect {
                    target: self.describe(),
                    reason: match e.kind() {
                        std::io::ErrorKind::NotFound => {
                            "no such socket (is the podman service running?)".into()
                        }
                        std::io::ErrorKind::ConnectionRefused => {
                            "connection refused (the podman service is not listening)".into()
                        }
                        std::io::ErrorKind::PermissionDenied => {
                            "permission denied on the socket".into()
                        }
                        _ => e.to_string(),
                    },
                }),
            }
        })
    }

    fn describe(&self) -> String {
        format!("unix://{}", self.path.display())
    }
}
