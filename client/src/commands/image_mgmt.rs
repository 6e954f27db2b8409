//! Image management: rmi, tag, untag, history, image inspect/exists/prune/tree.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct RmiArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UntagArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImageInspectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImageExistsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImagePruneArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImageTreeArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn rmi(_g: &GlobalOpts, _a: RmiArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("rmi", ""))
}

pub async fn tag(_g: &GlobalOpts, _a: TagArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("tag", ""))
}

pub async fn untag(_g: &GlobalOpts, _a: UntagArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("untag", ""))
}

pub async fn history(_g: &GlobalOpts, _a: HistoryArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("history", ""))
}

pub async fn inspect(_g: &GlobalOpts, _a: ImageInspectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("image inspect", ""))
}

pub async fn exists(_g: &GlobalOpts, _a: ImageExistsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("image exists", ""))
}

pub async fn prune(_g: &GlobalOpts, _a: ImagePruneArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("image prune", ""))
}

pub async fn tree(_g: &GlobalOpts, _a: ImageTreeArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("image tree", ""))
}
