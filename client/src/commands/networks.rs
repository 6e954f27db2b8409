//! `network ...`.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct NetworkCreateArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkLsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkInspectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkRmArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkPruneArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkConnectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkDisconnectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkExistsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn create(_g: &GlobalOpts, _a: NetworkCreateArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network create", ""))
}

pub async fn ls(_g: &GlobalOpts, _a: NetworkLsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network ls", ""))
}

pub async fn inspect(_g: &GlobalOpts, _a: NetworkInspectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network inspect", ""))
}

pub async fn rm(_g: &GlobalOpts, _a: NetworkRmArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network rm", ""))
}

pub async fn prune(_g: &GlobalOpts, _a: NetworkPruneArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network prune", ""))
}

pub async fn connect(_g: &GlobalOpts, _a: NetworkConnectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network connect", ""))
}

pub async fn disconnect(_g: &GlobalOpts, _a: NetworkDisconnectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network disconnect", ""))
}

pub async fn exists(_g: &GlobalOpts, _a: NetworkExistsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("network exists", ""))
}

#[derive(clap::Subcommand, Debug)]
pub enum NetworkCmd {
    /// Create networks for containers and pods.
    Create(NetworkCreateArgs),
    /// List networks.
    #[command(visible_alias = "list")]
    Ls(NetworkLsArgs),
    /// Displays the raw network configuration for one or more networks.
    Inspect(NetworkInspectArgs),
    /// Remove networks.
    #[command(visible_alias = "remove")]
    Rm(NetworkRmArgs),
    /// Prune unused networks.
    Prune(NetworkPruneArgs),
    /// Add container to a network.
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(NetworkDisconnectArgs),
    /// Check if network exists.
    Exists(NetworkExistsArgs),
}

pub async fn network(g: &GlobalOpts, c: NetworkCmd) -> Result<u8, Failure> {
    match c {
        NetworkCmd::Create(a) => create(g, a).await,
        NetworkCmd::Ls(a) => ls(g, a).await,
        NetworkCmd::Inspect(a) => inspect(g, a).await,
        NetworkCmd::Rm(a) => rm(g, a).await,
        NetworkCmd::Prune(a) => prune(g, a).await,
        NetworkCmd::Connect(a) => connect(g, a).await,
        NetworkCmd::Disconnect(a) => disconnect(g, a).await,
        NetworkCmd::Exists(a) => exists(g, a).await,
    }
}
