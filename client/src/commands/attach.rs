//! Streams and terminals: `start [-a -i]`, `attach`, `exec`, raw mode, resize, detach keys,
//! signal proxying.

use bindings::api::containers::AttachOptions;
use bindings::http::ApiClient;
use bindings::stream::{Demuxer, StreamId};
use clap::Args;
use tokio::io::AsyncWriteExt;

use super::create::{remove_quietly, start_failure};
use crate::context::GlobalOpts;
use crate::exit::{exec_failure_code, Failure};

/// How `run` (and `start -a`) connect the local terminal or pipes to a container.
// tty, detach_keys and sig_proxy are honoured once the interactive I/O work lands.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct RunStream {
    /// `-t`: the container has a TTY (raw bytes, no framing; local terminal in raw mode).
    pub tty: bool,
    /// `-i`: forward our stdin; its EOF half-closes the container's stdin.
    pub interactive: bool,
    /// `--detach-keys`; `None` = podman's default (ctrl-p,ctrl-q), `Some("")` disables.
    pub detach_keys: Option<String>,
    /// `--sig-proxy`: forward SIGINT/SIGTERM etc. to the container.
    pub sig_proxy: bool,
    /// `--rm`: remove the container when done (the engine normally already has).
    pub remove: bool,
}

impl Default for RunStream {
    fn default() -> Self {
        RunStream {
            tty: false,
            interactive: false,
            detach_keys: None,
            sig_proxy: true,
            remove: false,
        }
    }
}

/// Attach to a created container, start it, stream until it ends and return its exit code
/// (the code `run` exits with).
pub async fn start_and_attach(
    client: &ApiClient,
    id: &str,
    opts: &RunStream,
) -> Result<u8, Failure> {
    let client = client.clone();
    let id = id.to_string();
    let a = opts;
    let attach = match client
        .container_attach(
            &id,
            &AttachOptions {
                stdin: a.interactive,
                stdout: true,
                stderr: true,
                ..Default::default()
            },
        )
        .await
    {
        Ok(a) => a,
        Err(e) => {
            // podman 4.x starts a created container while attaching, so a command that
            // cannot be run is reported here.
            if a.remove {
                remove_quietly(&client, &id).await;
            }
            return Err(start_failure(e));
        }
    };
    let (reader, mut writer) = tokio::io::split(attach);

    // The wait must be registered before the start: with --rm the engine may remove a fast
    // container before a later wait could see it exit.
    let waiter = {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move { client.container_wait(&id, &[]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;

    if let Err(e) = client.container_start(&id, None).await {
        if a.remove {
            remove_quietly(&client, &id).await;
        }
        return Err(start_failure(e));
    }

    let stdin_task = if a.interactive {
        Some(tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let _ = tokio::io::copy(&mut stdin, &mut writer).await;
            // EOF on our stdin becomes EOF on the container's (channel half-close).
            let _ = writer.shutdown().await;
        }))
    } else {
        drop(writer);
        None
    };

    let mut demux = Demuxer::new(reader);
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    loop {
        match demux.next().await {
            Ok(Some((StreamId::Stdout, data))) => {
                stdout.write_all(&data).await?;
                stdout.flush().await?;
            }
            Ok(Some((StreamId::Stderr, data))) => {
                stderr.write_all(&data).await?;
                stderr.flush().await?;
            }
            Ok(Some((StreamId::ServerError, data))) => {
                // The engine reports a failed start of the attached container on stream 3;
                // podman derives 126/127 from that message too.
                let msg = String::from_utf8_lossy(&data).trim().to_string();
                return Err(Failure::with_code(exec_failure_code(&msg), msg));
            }
            Ok(Some((StreamId::Stdin, _))) => {}
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("attach stream ended: {e}");
                break;
            }
        }
    }
    if let Some(t) = stdin_task {
        t.abort();
    }
    let code = match waiter.await {
        Ok(Ok(code)) => code,
        // A container whose command cannot be started fails the wait with the runtime's
        // message; it decides 126/127 as for a failed start.
        Ok(Err(e)) => return Err(start_failure(e)),
        Err(e) => return Err(Failure::msg(format!("waiting for the container: {e}"))),
    };
    if a.remove {
        // Normally already gone (the engine removes it); make sure.
        remove_quietly(&client, &id).await;
    }
    Ok(code.clamp(0, 255) as u8)
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn start(_g: &GlobalOpts, _a: StartArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("start", ""))
}

pub async fn attach(_g: &GlobalOpts, _a: AttachArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("attach", ""))
}

pub async fn exec(_g: &GlobalOpts, _a: ExecArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("exec", ""))
}
