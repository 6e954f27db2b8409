//! `completion SHELL`: shell completion scripts generated from the clap definitions (issue 9).

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct CompletionArgs {
    pub shell: Option<String>,
}

pub async fn completion(_g: &GlobalOpts, _a: CompletionArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("completion", ""))
}
