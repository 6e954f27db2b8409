//! `kube play|down|generate`, `generate kube|systemd`.

use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct KubePlayArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KubeDownArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KubeGenerateArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct GenerateKubeArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct GenerateSystemdArgs {
    /// Arguments (flags to be defined).
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<String>,
}

pub async fn play(_g: &GlobalOpts, _a: KubePlayArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("kube play", ""))
}

pub async fn down(_g: &GlobalOpts, _a: KubeDownArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("kube down", ""))
}

pub async fn kube_generate(_g: &GlobalOpts, _a: KubeGenerateArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("kube generate", ""))
}

pub async fn generate_kube(_g: &GlobalOpts, _a: GenerateKubeArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("generate kube", ""))
}

pub async fn generate_systemd(_g: &GlobalOpts, _a: GenerateSystemdArgs) -> Result<u8, Failure> {
    Err(Failure::not_built("generate systemd", ""))
}

#[derive(clap::Subcommand, Debug)]
pub enum KubeCmd {
    /// Play a pod or volume based on Kubernetes YAML.
    Play(KubePlayArgs),
    /// Remove pods based on Kubernetes YAML.
    Down(KubeDownArgs),
    /// Generate Kubernetes YAML from containers, pods or volumes.
    Generate(KubeGenerateArgs),
}

pub async fn kube(g: &GlobalOpts, c: KubeCmd) -> Result<u8, Failure> {
    match c {
        KubeCmd::Play(a) => play(g, a).await,
        KubeCmd::Down(a) => down(g, a).await,
        KubeCmd::Generate(a) => kube_generate(g, a).await,
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum GenerateCmd {
    /// Generate Kubernetes YAML from containers, pods or volumes.
    Kube(GenerateKubeArgs),
    /// Generate systemd units.
    Systemd(GenerateSystemdArgs),
}

pub async fn generate(g: &GlobalOpts, c: GenerateCmd) -> Result<u8, Failure> {
    match c {
        GenerateCmd::Kube(a) => generate_kube(g, a).await,
        GenerateCmd::Systemd(a) => generate_systemd(g, a).await,
    }
}
