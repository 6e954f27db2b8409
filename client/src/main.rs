//! `podman-remote`: podman's command line, talking to a podman engine over SSH, a unix socket
//! or TCP. Commands, flags, output and exit codes follow podman so scripts work unchanged.

mod commands;
mod context;
mod exit;
mod format;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::GlobalOpts;
use crate::exit::Failure;

/// Manage pods, containers and images on a podman engine, locally or over SSH.
#[derive(Parser, Debug)]
#[command(
    name = "podman-remote",
    version,
    disable_version_flag = true,
    disable_help_subcommand = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,

    /// Print the version.
    #[arg(short = 'v', long = "version", global = false)]
    version: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage containers.
    #[command(subcommand)]
    Container(commands::containers::ContainerCmd),
    /// List containers.
    #[command(visible_alias = "list", alias = "ls")]
    Ps(commands::containers::PsArgs),
    /// Run a command in a new container.
    Run(commands::containers::RunArgs),
    /// Remove one or more containers.
    Rm(commands::containers::RmArgs),
    /// List images.
    Images(commands::images::ImagesArgs),
    /// Manage images.
    #[command(subcommand)]
    Image(commands::images::ImageCmd),
    /// Display the podman version information.
    Version(commands::system::VersionArgs),
    /// Display podman system information.
    Info(commands::system::InfoArgs),
    /// Manage podman.
    #[command(subcommand)]
    System(commands::system::SystemCmd),
    /// Manage the Linux virtual machine that runs podman (not built yet).
    #[command(disable_help_flag = true)]
    Machine {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    #[command(external_subcommand)]
    External(Vec<String>),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    return ExitCode::SUCCESS;
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    // podman prints usage and exits 125 when a subcommand group is given alone.
                    return ExitCode::from(125);
                }
                _ => {
                    // podman reports flag and argument errors with exit code 125.
                    let msg = e.to_string();
                    let first = msg
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("error: ");
                    eprintln!("Error: {first}");
                    for l in msg.lines().skip(1).filter(|l| !l.trim().is_empty()) {
                        eprintln!("{l}");
                    }
                    return ExitCode::from(125);
                }
            }
        }
    };
    context::init_logging(&cli.global.log_level);
    if cli.version {
        println!("podman-remote version {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Some(command) = cli.command else {
        return ExitCode::from(125);
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the async runtime: {e}");
            return ExitCode::from(125);
        }
    };
    let result = rt.block_on(dispatch(cli.global, command));
    // Open SSH channels must not keep the process alive after the command is done.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => f.report(),
    }
}

async fn dispatch(g: GlobalOpts, command: Command) -> Result<u8, Failure> {
    use commands::*;
    match command {
        Command::Container(c) => containers::container(&g, c).await,
        Command::Ps(a) => containers::ps(&g, a).await,
        Command::Run(a) => containers::run(&g, a).await,
        Command::Rm(a) => containers::rm(&g, a).await,
        Command::Images(a) => images::images(&g, a).await,
        Command::Image(c) => images::image(&g, c).await,
        Command::Version(a) => system::version(&g, a).await,
        Command::Info(a) => system::info(&g, a).await,
        Command::System(c) => system::system(&g, c).await,
        Command::Machine { .. } => Err(Failure::not_built(
            "machine",
            "podman-remote cannot provision virtual machines yet; connect to an existing \
             engine with --url ssh://user@host or `podman-remote system connection add`",
        )),
        Command::External(args) => Err(unknown_or_unbuilt(&args)),
    }
}

/// podman commands that exist but are not built into podman-remote yet: they fail clearly
/// instead of pretending to work, and anything else is reported as podman does.
fn unknown_or_unbuilt(args: &[String]) -> Failure {
    const PLANNED: &[&str] = &[
        "attach",
        "build",
        "commit",
        "cp",
        "create",
        "diff",
        "events",
        "exec",
        "export",
        "generate",
        "healthcheck",
        "history",
        "import",
        "init",
        "inspect",
        "kill",
        "kube",
        "load",
        "login",
        "logout",
        "logs",
        "manifest",
        "network",
        "pause",
        "pod",
        "port",
        "pull",
        "push",
        "rename",
        "restart",
        "rmi",
        "save",
        "search",
        "secret",
        "start",
        "stats",
        "stop",
        "tag",
        "top",
        "unpause",
        "untag",
        "update",
        "volume",
        "wait",
        "farm",
        "artifact",
        "quadlet",
        "compose",
    ];
    const LOCAL_ONLY: &[&str] = &["mount", "unmount", "umount", "unshare", "auto-update"];
    let name = args.first().map(String::as_str).unwrap_or("");
    if PLANNED.contains(&name) {
        Failure::not_built(name, "")
    } else if LOCAL_ONLY.contains(&name) {
        Failure::msg(format!(
            "cannot use command \"podman-remote {name}\" with the remote podman client"
        ))
    } else {
        Failure::msg(format!(
            "unrecognized command `podman-remote {name}`\nTry 'podman-remote --help' for more information"
        ))
    }
}
