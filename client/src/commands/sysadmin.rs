//! `system df`, `system prune`.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct DfArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SystemPruneArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn df(_g: &GlobalOpts, _a: DfArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("system df", ""))
}

pub async fn prune(_g: &GlobalOpts, _a: SystemPruneArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("system prune", ""))
}
