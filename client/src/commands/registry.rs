//! Registry commands: pull, push, login, logout, search.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct PullArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn pull(_g: &GlobalOpts, _a: PullArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("pull", ""))
}

pub async fn push(_g: &GlobalOpts, _a: PushArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("push", ""))
}

pub async fn login(_g: &GlobalOpts, _a: LoginArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("login", ""))
}

pub async fn logout(_g: &GlobalOpts, _a: LogoutArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("logout", ""))
}

pub async fn search(_g: &GlobalOpts, _a: SearchArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("search", ""))
}
