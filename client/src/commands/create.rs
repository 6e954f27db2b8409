//! `create` and `run`: podman's flags turned into the SpecGenerator the engine takes, image
//! pulling by policy, and the run flow (streaming is in `attach.rs`).

use bindings::api::containers::AttachOptions;
use bindings::api::containers::RemoveOptions;
use bindings::stream::{Demuxer, StreamId};
use clap::Args;
use serde_json::{json, Map, Value};
use tokio::io::AsyncWriteExt;

use crate::context::GlobalOpts;
use crate::exit::{exec_failure_code, Failure};

#[derive(Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct CreateArgs {
    /// Image, then the command and its arguments.
    #[arg(
        required = true,
        allow_hyphen_values = true,
        value_name = "IMAGE [COMMAND [ARG...]]"
    )]
    image_and_command: Vec<String>,
}

pub async fn create(_g: &GlobalOpts, _a: CreateArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("create", ""))
}

#[derive(Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Remove container (and pod if created) after exit.
    #[arg(long)]
    rm: bool,
    /// Assign a name to the container.
    #[arg(long)]
    name: Option<String>,
    /// Run container in background and print container ID.
    #[arg(short, long)]
    detach: bool,
    /// Keep STDIN open even if not attached.
    #[arg(short, long)]
    interactive: bool,
    /// Set environment variables in container.
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Pull image policy: always, missing, never, newer.
    #[arg(long, default_value = "missing", value_parser = ["always", "missing", "never", "newer"])]
    pull: String,
    /// Suppress output information when pulling images.
    #[arg(short, long)]
    quiet: bool,
    /// Image, then the command and its arguments.
    #[arg(
        required = true,
        allow_hyphen_values = true,
        value_name = "IMAGE [COMMAND [ARG...]]"
    )]
    image_and_command: Vec<String>,
}

fn env_map(env: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    for e in env {
        match e.split_once('=') {
            Some((k, v)) => {
                m.insert(k.to_string(), json!(v));
            }
            // `-e NAME` takes the value from our environment, as podman does.
            None => {
                if let Ok(v) = std::env::var(e) {
                    m.insert(e.clone(), json!(v));
                }
            }
        }
    }
    m
}

pub async fn run(g: &GlobalOpts, a: RunArgs) -> Result<u8, Failure> {
    let image = a.image_and_command[0].clone();
    let command: Vec<String> = a.image_and_command[1..].to_vec();
    let client = g.client().await?;

    let present = client.image_exists(&image).await?;
    match a.pull.as_str() {
        "never" if !present => {
            return Err(Failure::msg(format!(
                "{image}: image not known (pull policy is \"never\")"
            )))
        }
        "always" | "newer" => pull(&client, &image, &a.pull, a.quiet).await?,
        "missing" if !present => pull(&client, &image, "missing", a.quiet).await?,
        _ => {}
    }

    let mut spec = json!({
        "image": image,
        "stdin": a.interactive,
        "terminal": false,
        // The engine removes the container when it exits, even if this client is killed.
        "remove": a.rm,
    });
    if !command.is_empty() {
        spec["command"] = json!(command);
    }
    if let Some(n) = &a.name {
        spec["name"] = json!(n);
    }
    if !a.env.is_empty() {
        spec["env"] = Value::Object(env_map(&a.env));
    }
    let created = client.container_create(&spec).await?;
    for w in created.warnings.iter().flatten() {
        eprintln!("WARN[0000] {w}");
    }
    let id = created.id;

    if a.detach {
        client
            .container_start(&id, None)
            .await
            .map_err(start_failure)?;
        println!("{id}");
        return Ok(0);
    }

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
            if a.rm {
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
        if a.rm {
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
    if a.rm {
        // Normally already gone (the engine removes it); make sure.
        remove_quietly(&client, &id).await;
    }
    Ok(code.clamp(0, 255) as u8)
}

pub(crate) async fn remove_quietly(client: &bindings::http::ApiClient, id: &str) {
    let opts = RemoveOptions {
        force: true,
        volumes: true,
        ignore: true,
        ..Default::default()
    };
    if let Err(e) = client.container_remove(id, &opts).await {
        tracing::debug!("removing {id}: {e}");
    }
}

pub(crate) fn start_failure(e: bindings::Error) -> Failure {
    let msg = e.to_string();
    let code = exec_failure_code(&msg);
    Failure::with_code(code, msg)
}

async fn pull(
    client: &bindings::http::ApiClient,
    image: &str,
    policy: &str,
    quiet: bool,
) -> Result<(), Failure> {
    if !quiet {
        eprintln!("Resolving \"{image}\" ...");
    }
    client
        .pull(image, policy, quiet, |line| {
            if !quiet {
                eprint!("{line}");
            }
        })
        .await?;
    Ok(())
}
