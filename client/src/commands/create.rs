//! `create` and `run`: podman's flags turned into the SpecGenerator the engine takes, image
//! pulling by policy, and the run flow (streaming is in `attach.rs`).

use bindings::api::containers::RemoveOptions;
use clap::Args;
use serde_json::{json, Map, Value};

use super::attach;
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
    /// Allocate a pseudo-TTY for container.
    #[arg(short, long)]
    tty: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys", value_name = "KEYS")]
    detach_keys: Option<String>,
    /// Proxy received signals to the process.
    #[arg(long = "sig-proxy", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value_t = true, action = clap::ArgAction::Set)]
    sig_proxy: bool,
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
        "terminal": a.tty,
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

    let code = attach::start_and_attach(
        &client,
        &id,
        &attach::RunStream {
            interactive: a.interactive,
            tty: a.tty,
            detach_keys: a.detach_keys.clone(),
            sig_proxy: a.sig_proxy,
            remove: a.rm,
        },
    )
    .await?;
    Ok(code)
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
