//! `create` and `run`: podman's flags turned into the SpecGenerator the engine takes, image
//! pulling by policy, and the run flow (streaming is in `attach.rs`).

mod flags;
mod parse;
mod spec;

use std::io::Write as _;
use std::path::Path;

use bindings::api::containers::RemoveOptions;
use bindings::http::ApiClient;
use clap::{ArgAction, Args};

use super::attach;
use crate::context::GlobalOpts;
use crate::exit::{exec_failure_code, Failure};
use flags::CreateFlags;

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    #[command(flatten)]
    flags: CreateFlags,
    /// Print help (-h is --hostname, as in podman).
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
    /// Image, then the command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        num_args = 1..,
        value_name = "IMAGE [COMMAND [ARG...]]"
    )]
    image_and_command: Vec<String>,
}

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    #[command(flatten)]
    flags: CreateFlags,
    /// Run container in background and print container ID.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long = "detach-keys", value_name = "KEYS")]
    detach_keys: Option<String>,
    /// Proxy received signals to the process.
    #[arg(long = "sig-proxy", default_value = "true", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), value_name = "BOOL")]
    sig_proxy: bool,
    /// Print help (-h is --hostname, as in podman).
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
    /// Image, then the command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        num_args = 1..,
        value_name = "IMAGE [COMMAND [ARG...]]"
    )]
    image_and_command: Vec<String>,
}

/// The process environment and local files, for the spec builder.
fn build_spec(
    f: &CreateFlags,
    image: &str,
    command: &[String],
    net: &spec::NetOptions,
) -> Result<serde_json::Value, Failure> {
    let lookup = |k: &str| std::env::var(k).ok();
    let all = || std::env::vars().collect::<Vec<_>>();
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| parse::go_open_error(p, &e));
    let host = spec::Host {
        lookup_env: &lookup,
        all_env: &all,
        read_file: &read,
    };
    let argv: Vec<String> = std::env::args().collect();
    let s = spec::fill_spec(f, image, command, net, &argv, &host).map_err(Failure::msg)?;
    Ok(serde_json::Value::Object(s))
}

/// The shared front half of create and run: validate, pull, build the spec, create. Returns
/// the new container's ID.
async fn create_container(
    g: &GlobalOpts,
    f: &CreateFlags,
    image_and_command: &[String],
) -> Result<(ApiClient, String), Failure> {
    let (image, command) = match image_and_command.split_first() {
        Some((i, c)) => (i.as_str(), c),
        None => return Err(Failure::msg("requires at least 1 arg(s), only received 0")),
    };
    // podman checks the network flags and option conflicts before it contacts the engine.
    let net = spec::net_options(f).map_err(Failure::msg)?;
    spec::init_checks(f, &net).map_err(Failure::msg)?;
    if let Some(c) = &f.cidfile {
        // Checked up front too (podman only finds out after creating) so that a refused
        // cidfile leaves no container behind.
        if Path::new(c).exists() {
            return Err(cidfile_exists(c));
        }
    }
    let policy = spec::pull_policy(&f.pull).map_err(Failure::msg)?;
    let client = g.client().await?;
    pull(&client, image, policy, f.quiet).await?;
    let spec = build_spec(f, image, command, &net)?;
    if f.replace {
        match &f.name {
            Some(n) => remove_quietly(&client, n).await,
            None => {
                return Err(Failure::msg(
                    "cannot replace container without --name being set",
                ))
            }
        }
    }
    let created = client.container_create(&spec).await?;
    for w in created.warnings.iter().flatten() {
        eprintln!("{w}");
    }
    Ok((client, created.id))
}

fn cidfile_exists(path: &str) -> Failure {
    Failure::msg(format!(
        "container id file exists. Ensure another container is not using it or delete {path}"
    ))
}

/// Write the ID to a temporary file next to `path`, then link it into place: the file appears
/// complete or not at all, and an existing file is never overwritten.
fn write_cidfile(path: &str, id: &str) -> Result<(), Failure> {
    let target = Path::new(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{base}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Failure::msg(format!("opening cidfile {path}: {e}")))?;
        file.write_all(id.as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| Failure::msg(format!("writing cidfile {path}: {e}")))?;
        match std::fs::hard_link(&tmp, target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(cidfile_exists(path)),
            Err(e) => Err(Failure::msg(format!("opening cidfile {path}: {e}"))),
        }
    })();
    // The temporary name goes away in every case; on success the link keeps the data.
    let _ = std::fs::remove_file(&tmp);
    result
}

pub async fn create(g: &GlobalOpts, a: CreateArgs) -> Result<u8, Failure> {
    let (client, id) = create_container(g, &a.flags, &a.image_and_command).await?;
    if let Some(c) = &a.flags.cidfile {
        if let Err(e) = write_cidfile(c, &id) {
            // Unlike podman, don't leave a container that no cidfile points to.
            remove_quietly(&client, &id).await;
            return Err(e);
        }
    }
    println!("{id}");
    Ok(0)
}

pub async fn run(g: &GlobalOpts, a: RunArgs) -> Result<u8, Failure> {
    let f = &a.flags;
    if f.tty && f.interactive && !crate::terminal::stdin_is_terminal() {
        eprintln!(
            "WARN[0000] The input device is not a TTY. The --tty and --interactive flags might not work properly"
        );
    }
    let (client, id) = create_container(g, f, &a.image_and_command).await?;
    if let Some(c) = &f.cidfile {
        if let Err(e) = write_cidfile(c, &id) {
            remove_quietly(&client, &id).await;
            return Err(e);
        }
    }

    if a.detach {
        if let Err(e) = client.container_start(&id, None).await {
            if f.rm {
                remove_quietly(&client, &id).await;
            }
            return Err(start_failure(e));
        }
        println!("{id}");
        return Ok(0);
    }

    attach::start_and_attach(
        &client,
        &id,
        &attach::RunStream {
            tty: f.tty,
            interactive: f.interactive,
            detach_keys: a.detach_keys.clone(),
            sig_proxy: a.sig_proxy,
            remove: f.rm,
        },
    )
    .await
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

/// Pull by policy as podman's remote client does: the engine decides (a present image with
/// "missing" is not fetched) and streams progress, which goes to stderr unless quiet.
async fn pull(client: &ApiClient, image: &str, policy: &str, quiet: bool) -> Result<(), Failure> {
    let mut stderr = std::io::stderr();
    let result = client
        .pull(image, policy, quiet, |line| {
            if !quiet {
                let _ = stderr.write_all(line.as_bytes());
                let _ = stderr.flush();
            }
        })
        .await;
    match result {
        Ok(_) => Ok(()),
        // The engine's error lines end in a newline that podman does not print twice.
        Err(bindings::Error::Api { message, .. }) => {
            Err(Failure::msg(message.trim_end().to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
