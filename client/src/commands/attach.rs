//! Streams and terminals: `start [-a -i]`, `attach`, `exec`, raw mode, resize, detach keys,
//! signal proxying.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn start(_g: &GlobalOpts, _a: StartArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("start", ""))
}

pub async fn attach(_g: &GlobalOpts, _a: AttachArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("attach", ""))
}

pub async fn exec(_g: &GlobalOpts, _a: ExecArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("exec", ""))
}
