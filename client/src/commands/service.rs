//! `system service`: the SSH-tunnelled API server (issue 6).

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct ServiceArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn service(_g: &GlobalOpts, _a: ServiceArgs) -> Result<u8, Failure> {
    Err(Failure::not_built(
        "system service",
        "the SSH-tunnelled API server is not built yet",
    ))
}
