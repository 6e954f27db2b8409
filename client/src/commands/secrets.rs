//! `secret ...`. Secret values are never printed unless asked, never logged.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct SecretCreateArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretLsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretInspectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretRmArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretExistsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn create(_g: &GlobalOpts, _a: SecretCreateArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("secret create", ""))
}

pub async fn ls(_g: &GlobalOpts, _a: SecretLsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("secret ls", ""))
}

pub async fn inspect(_g: &GlobalOpts, _a: SecretInspectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("secret inspect", ""))
}

pub async fn rm(_g: &GlobalOpts, _a: SecretRmArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("secret rm", ""))
}

pub async fn exists(_g: &GlobalOpts, _a: SecretExistsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("secret exists", ""))
}

#[derive(clap::Subcommand, Debug)]
pub enum SecretCmd {
    /// Create a new secret.
    Create(SecretCreateArgs),
    /// List secrets.
    #[command(visible_alias = "list")]
    Ls(SecretLsArgs),
    /// Inspect a secret.
    Inspect(SecretInspectArgs),
    /// Remove one or more secrets.
    #[command(visible_alias = "remove")]
    Rm(SecretRmArgs),
    /// Check if a secret exists.
    Exists(SecretExistsArgs),
}

pub async fn secret(g: &GlobalOpts, c: SecretCmd) -> Result<u8, Failure> {
    match c {
        SecretCmd::Create(a) => create(g, a).await,
        SecretCmd::Ls(a) => ls(g, a).await,
        SecretCmd::Inspect(a) => inspect(g, a).await,
        SecretCmd::Rm(a) => rm(g, a).await,
        SecretCmd::Exists(a) => exists(g, a).await,
    }
}
