//! `events`.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn events(_g: &GlobalOpts, _a: EventsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("events", ""))
}
