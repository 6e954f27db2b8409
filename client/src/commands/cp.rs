//! `cp` between a container and the local file system (tar streams).

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn cp(_g: &GlobalOpts, _a: CpArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("cp", ""))
}
