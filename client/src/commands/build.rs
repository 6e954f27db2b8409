//! `build`: the context streamed as a tar while it is read, ignore files honoured.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn build(_g: &GlobalOpts, _a: BuildArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("build", ""))
}
