//! `volume ...`.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct VolumeCreateArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeLsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeInspectArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeRmArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumePruneArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeExistsArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeExportArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeImportArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn create(_g: &GlobalOpts, _a: VolumeCreateArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume create", ""))
}

pub async fn ls(_g: &GlobalOpts, _a: VolumeLsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume ls", ""))
}

pub async fn inspect(_g: &GlobalOpts, _a: VolumeInspectArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume inspect", ""))
}

pub async fn rm(_g: &GlobalOpts, _a: VolumeRmArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume rm", ""))
}

pub async fn prune(_g: &GlobalOpts, _a: VolumePruneArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume prune", ""))
}

pub async fn exists(_g: &GlobalOpts, _a: VolumeExistsArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume exists", ""))
}

pub async fn export(_g: &GlobalOpts, _a: VolumeExportArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume export", ""))
}

pub async fn import(_g: &GlobalOpts, _a: VolumeImportArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("volume import", ""))
}

#[derive(clap::Subcommand, Debug)]
pub enum VolumeCmd {
    /// Create a new volume.
    Create(VolumeCreateArgs),
    /// List volumes.
    #[command(visible_alias = "list")]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes.
    Inspect(VolumeInspectArgs),
    /// Remove one or more volumes.
    #[command(visible_alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove all unused volumes.
    Prune(VolumePruneArgs),
    /// Check if volume exists.
    Exists(VolumeExistsArgs),
    /// Export volumes.
    Export(VolumeExportArgs),
    /// Import a tarball contents into a podman volume.
    Import(VolumeImportArgs),
}

pub async fn volume(g: &GlobalOpts, c: VolumeCmd) -> Result<u8, Failure> {
    match c {
        VolumeCmd::Create(a) => create(g, a).await,
        VolumeCmd::Ls(a) => ls(g, a).await,
        VolumeCmd::Inspect(a) => inspect(g, a).await,
        VolumeCmd::Rm(a) => rm(g, a).await,
        VolumeCmd::Prune(a) => prune(g, a).await,
        VolumeCmd::Exists(a) => exists(g, a).await,
        VolumeCmd::Export(a) => export(g, a).await,
        VolumeCmd::Import(a) => import(g, a).await,
    }
}
