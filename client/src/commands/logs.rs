//! `logs`.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn logs(_g: &GlobalOpts, _a: LogsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("logs", ""))
}
