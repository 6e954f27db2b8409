//! `podman-remote`: podman's command line, talking to a podman engine over SSH, a unix socket
//! or TCP. Commands, flags, output and exit codes follow podman so scripts work unchanged.

mod commands;
mod context;
mod exit;
mod format;
mod fsutil;
mod output;
mod progress;
mod signals;
mod terminal;
mod yaml;

use std::process::ExitCode;

// musl's allocator halves transfer throughput (measured); the static builds use mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Run(commands::create::RunArgs),
    /// Create but do not start a container.
    Create(commands::create::CreateArgs),
    /// Remove one or more containers.
    Rm(commands::containers::RmArgs),
    /// Start one or more containers.
    Start(commands::attach::StartArgs),
    /// Attach to a running container.
    Attach(commands::attach::AttachArgs),
    /// Run a process in a running container.
    Exec(commands::attach::ExecArgs),
    /// Stop one or more containers.
    Stop(commands::lifecycle::StopArgs),
    /// Restart one or more containers.
    Restart(commands::lifecycle::RestartArgs),
    /// Kill one or more running containers with a specific signal.
    Kill(commands::lifecycle::KillArgs),
    /// Pause all the processes in one or more containers.
    Pause(commands::lifecycle::PauseArgs),
    /// Unpause the processes in one or more containers.
    Unpause(commands::lifecycle::PauseArgs),
    /// Rename an existing container.
    Rename(commands::lifecycle::RenameArgs),
    /// Block on one or more containers.
    Wait(commands::lifecycle::WaitArgs),
    /// Initialize one or more containers.
    Init(commands::lifecycle::InitArgs),
    /// Display the configuration of object denoted by ID.
    Inspect(commands::lifecycle::InspectArgs),
    /// List port mappings or a specific mapping for the container.
    Port(commands::lifecycle::PortArgs),
    /// Display the running processes of a container.
    Top(commands::lifecycle::TopArgs),
    /// Display the changes to the object's file system.
    Diff(commands::lifecycle::DiffArgs),
    /// Export container's filesystem contents as a tar archive.
    Export(commands::lifecycle::ExportArgs),
    /// Create new image based on the changed container.
    Commit(commands::lifecycle::CommitArgs),
    /// Fetch the logs of one or more containers.
    Logs(commands::logs::LogsArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(commands::cp::CpArgs),
    /// Display a live stream of container resource usage statistics.
    Stats(commands::stats::StatsArgs),
    /// Manage health checks on containers.
    #[command(subcommand)]
    Healthcheck(commands::lifecycle::HealthcheckCmd),
    /// List images.
    Images(commands::images::ImagesArgs),
    /// Build an image using instructions from Containerfiles.
    Build(commands::build::BuildArgs),
    /// Pull an image from a registry.
    Pull(commands::registry::PullArgs),
    /// Push an image to a specified destination.
    Push(commands::registry::PushArgs),
    /// Log in to a container registry.
    Login(commands::registry::LoginArgs),
    /// Log out of a container registry.
    Logout(commands::registry::LogoutArgs),
    /// Search registry for image.
    Search(commands::registry::SearchArgs),
    /// Remove one or more images from local storage.
    Rmi(commands::image_mgmt::RmiArgs),
    /// Add an additional name to a local image.
    Tag(commands::image_mgmt::TagArgs),
    /// Remove a name from a local image.
    Untag(commands::image_mgmt::UntagArgs),
    /// Show history of a specified image.
    History(commands::image_mgmt::HistoryArgs),
    /// Save image(s) to an archive.
    Save(commands::transfer::SaveArgs),
    /// Load image(s) from a tar archive.
    Load(commands::transfer::LoadArgs),
    /// Import a tarball to create a filesystem image.
    Import(commands::transfer::ImportArgs),
    /// Manage pods.
    #[command(subcommand)]
    Pod(commands::pods::PodCmd),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(commands::volumes::VolumeCmd),
    /// Manage networks.
    #[command(subcommand)]
    Network(commands::networks::NetworkCmd),
    /// Manage secrets.
    #[command(subcommand)]
    Secret(commands::secrets::SecretCmd),
    /// Play containers, pods or volumes from a structured file.
    #[command(subcommand)]
    Kube(commands::kube::KubeCmd),
    /// Generate structured data based on containers, pods or volumes.
    #[command(subcommand)]
    Generate(commands::kube::GenerateCmd),
    /// Show podman system events.
    Events(commands::events::EventsArgs),
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
    /// Manage a virtual machine.
    Machine(commands::machine::MachineArgs),
    /// Generate shell autocompletions.
    Completion(commands::completion::CompletionArgs),
    /// Write man pages generated from these definitions into a directory (release tooling).
    #[command(name = "__generate-man", hide = true)]
    GenerateMan(commands::completion::ManArgs),
    #[command(external_subcommand)]
    External(Vec<String>),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(commands::pods::pod_logs_argv(
        commands::lifecycle::commit_argv(std::env::args_os()),
    )) {
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
                ErrorKind::UnknownArgument if unknown_flag(&e) => {
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

/// pflag's wording for an unknown flag ("unknown flag: --x", "unknown shorthand flag: 'x' in
/// -x"), which scripts match on. False when the error is not about a flag.
fn unknown_flag(e: &clap::Error) -> bool {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return false;
    };
    let line = if let Some(long) = arg.strip_prefix("--") {
        format!("unknown flag: --{}", long.split('=').next().unwrap_or(long))
    } else if let Some(short) = arg.strip_prefix('-') {
        let c = short.chars().next().unwrap_or('-');
        format!("unknown shorthand flag: '{c}' in {arg}")
    } else {
        return false;
    };
    eprintln!("Error: {line}");
    // clap's usage line names the command: "Usage: podman-remote create [OPTIONS] ...".
    let rendered = e.to_string();
    if let Some(usage) = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
    {
        let cmd: Vec<&str> = usage
            .split_whitespace()
            // clap's usage may carry the flags given before the bad one; the command path
            // ends at the first of them.
            .take_while(|w| !w.starts_with('[') && !w.starts_with('<') && !w.starts_with('-'))
            .collect();
        eprintln!("See '{} --help'", cmd.join(" "));
    }
    true
}

async fn dispatch(g: GlobalOpts, command: Command) -> Result<u8, Failure> {
    use commands::*;
    match command {
        Command::Container(c) => containers::container(&g, c).await,
        Command::Ps(a) => containers::ps(&g, a).await,
        Command::Run(a) => create::run(&g, a).await,
        Command::Create(a) => create::create(&g, a).await,
        Command::Rm(a) => containers::rm(&g, a).await,
        Command::Start(a) => attach::start(&g, a).await,
        Command::Attach(a) => attach::attach(&g, a).await,
        Command::Exec(a) => attach::exec(&g, a).await,
        Command::Stop(a) => lifecycle::stop(&g, a).await,
        Command::Restart(a) => lifecycle::restart(&g, a).await,
        Command::Kill(a) => lifecycle::kill(&g, a).await,
        Command::Pause(a) => lifecycle::pause(&g, a, true).await,
        Command::Unpause(a) => lifecycle::pause(&g, a, false).await,
        Command::Rename(a) => lifecycle::rename(&g, a).await,
        Command::Wait(a) => lifecycle::wait(&g, a).await,
        Command::Init(a) => lifecycle::init(&g, a).await,
        Command::Inspect(a) => lifecycle::inspect(&g, a).await,
        Command::Port(a) => lifecycle::port(&g, a).await,
        Command::Top(a) => lifecycle::top(&g, a).await,
        Command::Diff(a) => lifecycle::diff(&g, a).await,
        Command::Export(a) => lifecycle::export(&g, a).await,
        Command::Commit(a) => lifecycle::commit(&g, a).await,
        Command::Logs(a) => logs::logs(&g, a).await,
        Command::Cp(a) => cp::cp(&g, a).await,
        Command::Stats(a) => stats::stats(&g, a).await,
        Command::Healthcheck(c) => lifecycle::healthcheck(&g, c).await,
        Command::Images(a) => images::images(&g, a).await,
        Command::Build(a) => build::build(&g, a).await,
        Command::Pull(a) => registry::pull(&g, a).await,
        Command::Push(a) => registry::push(&g, a).await,
        Command::Login(a) => registry::login(&g, a).await,
        Command::Logout(a) => registry::logout(&g, a).await,
        Command::Search(a) => registry::search(&g, a).await,
        Command::Rmi(a) => image_mgmt::rmi(&g, a).await,
        Command::Tag(a) => image_mgmt::tag(&g, a).await,
        Command::Untag(a) => image_mgmt::untag(&g, a).await,
        Command::History(a) => image_mgmt::history(&g, a).await,
        Command::Save(a) => transfer::save(&g, a).await,
        Command::Load(a) => transfer::load(&g, a).await,
        Command::Import(a) => transfer::import(&g, a).await,
        Command::Pod(c) => pods::pod(&g, c).await,
        Command::Volume(c) => volumes::volume(&g, c).await,
        Command::Network(c) => networks::network(&g, c).await,
        Command::Secret(c) => secrets::secret(&g, c).await,
        Command::Kube(c) => kube::kube(&g, c).await,
        Command::Generate(c) => kube::generate(&g, c).await,
        Command::Events(a) => events::events(&g, a).await,
        Command::Image(c) => images::image(&g, c).await,
        Command::Version(a) => system::version(&g, a).await,
        Command::Info(a) => system::info(&g, a).await,
        Command::System(c) => system::system(&g, c).await,
        Command::Machine(a) => commands::machine::machine(&g, a).await,
        Command::Completion(a) => commands::completion::completion(&g, a).await,
        Command::GenerateMan(a) => commands::completion::man_pages(a),
        Command::External(args) => Err(unknown_or_unbuilt(&args)),
    }
}

/// podman commands that exist but are not built into podman-remote yet: they fail clearly
/// instead of pretending to work, and anything else is reported as podman does.
fn unknown_or_unbuilt(args: &[String]) -> Failure {
    const PLANNED: &[&str] = &[
        "manifest", "update", "farm", "artifact", "quadlet", "compose",
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
