//! Container state and inspection commands: stop, restart, kill, pause/unpause, rename, wait,
//! init, exists, prune, inspect, port, top, diff, export, commit.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RestartArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PauseArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExistsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TopArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn stop(_g: &GlobalOpts, _a: StopArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("stop", ""))
}

pub async fn restart(_g: &GlobalOpts, _a: RestartArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("restart", ""))
}

pub async fn kill(_g: &GlobalOpts, _a: KillArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("kill", ""))
}

pub async fn pause(_g: &GlobalOpts, _a: PauseArgs, _pause: bool) -> Result<u8, Failure> {
    Err(Failure::not_built("pause", ""))
}

pub async fn rename(_g: &GlobalOpts, _a: RenameArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("rename", ""))
}

pub async fn wait(_g: &GlobalOpts, _a: WaitArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("wait", ""))
}

pub async fn init(_g: &GlobalOpts, _a: InitArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("init", ""))
}

pub async fn exists(_g: &GlobalOpts, _a: ExistsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("container exists", ""))
}

pub async fn prune(_g: &GlobalOpts, _a: PruneArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("container prune", ""))
}

pub async fn inspect(_g: &GlobalOpts, _a: InspectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("inspect", ""))
}

pub async fn port(_g: &GlobalOpts, _a: PortArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("port", ""))
}

pub async fn top(_g: &GlobalOpts, _a: TopArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("top", ""))
}

pub async fn diff(_g: &GlobalOpts, _a: DiffArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("diff", ""))
}

pub async fn export(_g: &GlobalOpts, _a: ExportArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("export", ""))
}

pub async fn commit(_g: &GlobalOpts, _a: CommitArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("commit", ""))
}
#[derive(clap::Subcommand, Debug)]
pub enum HealthcheckCmd {
    /// Run the health check of a container.
    Run(HealthcheckRunArgs),
}

#[derive(Args, Debug)]
pub struct HealthcheckRunArgs {
    /// The container.
    pub container: String,
}

pub async fn healthcheck(_g: &GlobalOpts, _c: HealthcheckCmd) -> Result<u8, Failure> {
    Err(Failure::not_built("healthcheck run", ""))
}
