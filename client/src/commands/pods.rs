//! `pod ...`.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct PodCreateArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodPsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodInspectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodStartArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodStopArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodRestartArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodKillArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodPauseArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodUnpauseArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodRmArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodPruneArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodTopArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodStatsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodLogsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodExistsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn create(_g: &GlobalOpts, _a: PodCreateArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod create", ""))
}

pub async fn ps(_g: &GlobalOpts, _a: PodPsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod ps", ""))
}

pub async fn inspect(_g: &GlobalOpts, _a: PodInspectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod inspect", ""))
}

pub async fn start(_g: &GlobalOpts, _a: PodStartArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod start", ""))
}

pub async fn stop(_g: &GlobalOpts, _a: PodStopArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod stop", ""))
}

pub async fn restart(_g: &GlobalOpts, _a: PodRestartArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod restart", ""))
}

pub async fn kill(_g: &GlobalOpts, _a: PodKillArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod kill", ""))
}

pub async fn pause(_g: &GlobalOpts, _a: PodPauseArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod pause", ""))
}

pub async fn unpause(_g: &GlobalOpts, _a: PodUnpauseArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod unpause", ""))
}

pub async fn rm(_g: &GlobalOpts, _a: PodRmArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod rm", ""))
}

pub async fn prune(_g: &GlobalOpts, _a: PodPruneArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod prune", ""))
}

pub async fn top(_g: &GlobalOpts, _a: PodTopArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod top", ""))
}

pub async fn stats(_g: &GlobalOpts, _a: PodStatsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod stats", ""))
}

pub async fn logs(_g: &GlobalOpts, _a: PodLogsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod logs", ""))
}

pub async fn exists(_g: &GlobalOpts, _a: PodExistsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pod exists", ""))
}

#[derive(clap::Subcommand, Debug)]
pub enum PodCmd {
    /// Create a new empty pod.
    Create(PodCreateArgs),
    /// List pods.
    #[command(visible_aliases = ["ls", "list"])]
    Ps(PodPsArgs),
    /// Display a pod configuration.
    Inspect(PodInspectArgs),
    /// Start one or more pods.
    Start(PodStartArgs),
    /// Stop one or more pods.
    Stop(PodStopArgs),
    /// Restart one or more pods.
    Restart(PodRestartArgs),
    /// Send the specified signal or SIGKILL to containers in pod.
    Kill(PodKillArgs),
    /// Pause one or more pods.
    Pause(PodPauseArgs),
    /// Unpause one or more pods.
    Unpause(PodUnpauseArgs),
    /// Remove one or more pods.
    Rm(PodRmArgs),
    /// Remove all stopped pods and their containers.
    Prune(PodPruneArgs),
    /// Display the running processes of containers in a pod.
    Top(PodTopArgs),
    /// Display a live stream of resource usage statistics for the containers in one or more pods.
    Stats(PodStatsArgs),
    /// Fetch logs for pod with one or more containers.
    Logs(PodLogsArgs),
    /// Check if a pod exists in local storage.
    Exists(PodExistsArgs),
}

pub async fn pod(g: &GlobalOpts, c: PodCmd) -> Result<u8, Failure> {
    match c {
        PodCmd::Create(a) => create(g, a).await,
        PodCmd::Ps(a) => ps(g, a).await,
        PodCmd::Inspect(a) => inspect(g, a).await,
        PodCmd::Start(a) => start(g, a).await,
        PodCmd::Stop(a) => stop(g, a).await,
        PodCmd::Restart(a) => restart(g, a).await,
        PodCmd::Kill(a) => kill(g, a).await,
        PodCmd::Pause(a) => pause(g, a).await,
        PodCmd::Unpause(a) => unpause(g, a).await,
        PodCmd::Rm(a) => rm(g, a).await,
        PodCmd::Prune(a) => prune(g, a).await,
        PodCmd::Top(a) => top(g, a).await,
        PodCmd::Stats(a) => stats(g, a).await,
        PodCmd::Logs(a) => logs(g, a).await,
        PodCmd::Exists(a) => exists(g, a).await,
    }
}
