//! `machine ...`: the Linux VM that runs the engine (issue 7).

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct MachineArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn machine(_g: &GlobalOpts, _a: MachineArgs) -> Result<u8, Failure> {
    Err(Failure::not_built(
        "machine",
        "podman-remote cannot provision virtual machines yet; connect to an existing \
         engine with --url ssh://user@host or `podman-remote system connection add`",
    ))
}
