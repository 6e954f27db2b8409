//! Moving images in and out: save, load, import.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn save(_g: &GlobalOpts, _a: SaveArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("save", ""))
}

pub async fn load(_g: &GlobalOpts, _a: LoadArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("load", ""))
}

pub async fn import(_g: &GlobalOpts, _a: ImportArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("import", ""))
}
