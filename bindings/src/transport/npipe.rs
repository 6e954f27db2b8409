//! HTTP connections to a local Windows named pipe (`npipe:////./pipe/NAME`), such as the
//! one a podman machine's API is published on.

use std::time::Duration;

use super::{BoxFuture, BoxIo, Transport};
use crate::error::{Error, Result};

/// How long to wait for a free instance when every one of the server's is busy.
const BUSY_WAIT: Duration = Duration::from_secs(10);

pub struct NpipeTransport {
    pipe: String,
}

impl NpipeTransport {
    pub fn new(pipe: String) -> Self {
        NpipeTransport { pipe }
    }
}

impl Transport for NpipeTransport {
    fn connect(&self) -> BoxFuture<'_, Result<BoxIo>> {
        Box::pin(async move {
            use tokio::net::windows::named_pipe::ClientOptions;
            // ERROR_PIPE_BUSY: the server has not yet created the next instance; it will.
            const ERROR_PIPE_BUSY: i32 = 231;
            let deadline = tokio::time::Instant::now() + BUSY_WAIT;
            loop {
                match ClientOptions::new().open(&self.pipe) {
                    Ok(c) => return Ok(Box::new(c) as BoxIo),
                    Err(e)
                        if e.raw_os_error() == Some(ERROR_PIPE_BUSY)
                            && tokio::time::Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => {
                        return Err(Error::Connect {
                            target: self.describe(),
                            reason: match e.kind() {
                                std::io::ErrorKind::NotFound => {
                                    "no such pipe (is the podman machine or the API service \
                                     running?)"
                                        .into()
                                }
                                std::io::ErrorKind::PermissionDenied => {
                                    "access denied: the pipe belongs to another user".into()
                                }
                                _ if e.raw_os_error() == Some(ERROR_PIPE_BUSY) => format!(
                                    "every instance of the pipe stayed busy for {} s",
                                    BUSY_WAIT.as_secs()
                                ),
                                _ => e.to_string(),
                            },
                        })
                    }
                }
            }
        })
    }

    fn describe(&self) -> String {
        format!("npipe://{}", self.pipe.replace('\\', "/"))
    }
}
