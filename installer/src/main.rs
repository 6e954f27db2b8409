//! `cargo run -p installer -- dist`: the release artifacts of podman-remote, into `dist/`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use podman_installer::{build, dist, targets};

#[derive(Parser, Debug)]
#[command(name = "installer", about = "Release tooling for podman-remote")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Build release archives (static Linux, Windows) with completions, man pages and SHA256SUMS.
    Dist {
        /// Target to build (`linux-x86_64`, `linux-aarch64`, `windows-x86_64`, `macos-x86_64`,
        /// `macos-aarch64`); repeatable. Default: every target this machine can build.
        #[arg(long = "target", value_name = "TARGET")]
        targets: Vec<String>,
        /// Cargo profile. Releases use `release`; `dist-test` is a fast unoptimised build for
        /// the installer's e2e test.
        #[arg(long, default_value = "release")]
        profile: String,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// List the release targets and whether this machine can build them.
    Targets,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Dist {
            targets: names,
            profile,
            out,
        } => {
            let targets = if names.is_empty() {
                targets::Target::defaults()
            } else {
                names
                    .iter()
                    .map(|n| targets::find(n))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let out = out.unwrap_or_else(|| build::workspace_root().join("dist"));
            let opts = dist::Options {
                targets,
                profile,
                out: out.clone(),
            };
            let artifacts = dist::dist(&opts, |line| eprintln!("installer: {line}"))
                .context("building the release archives")?;
            println!(
                "{:<16} {:>12} {:>12} {:>8}  archive",
                "target", "binary", "archive", "build"
            );
            for a in &artifacts {
                println!(
                    "{:<16} {:>12} {:>12} {:>7.0}s  {}",
                    a.target.name,
                    a.binary_size,
                    a.archive_size,
                    a.build_time.as_secs_f64(),
                    a.archive.display()
                );
            }
            println!("checksums: {}", out.join("SHA256SUMS").display());
        }
        Cmd::Targets => {
            for t in targets::ALL {
                match t.unbuildable_reason() {
                    None => println!("{:<16} {}", t.name, t.triple),
                    Some(why) => println!("{:<16} {}  (not here: {why})", t.name, t.triple),
                }
            }
        }
    }
    Ok(())
}
