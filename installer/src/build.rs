//! Building the client for one target with cargo, with the C cross toolchains Debian ships.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::targets::Target;
use crate::{Error, Result};

/// Where the workspace is: the installer lives in `<workspace>/installer`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// cargo names the output directory of the `dev` profile `debug`.
fn profile_dir(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        p => p,
    }
}

/// Environment for cargo and cc-rs: which C compiler and linker each cross target uses. Set
/// only when the user has not chosen one, and always the same values so that cargo's cache
/// of the C dependencies (ring, mimalloc) stays valid between runs.
fn toolchain_env(t: &Target) -> Vec<(String, String)> {
    let key = t.triple.replace('-', "_");
    let (cc, ar, linker) = match t.triple {
        // cc-rs would look for `x86_64-linux-musl-gcc`; Debian's musl-tools calls it musl-gcc.
        "x86_64-unknown-linux-musl" => ("musl-gcc", "ar", None),
        // No aarch64 musl toolchain in Debian: the glibc cross gcc compiles the C parts and
        // links against Rust's self-contained musl crt and libc.
        "aarch64-unknown-linux-musl" => (
            "aarch64-linux-gnu-gcc",
            "aarch64-linux-gnu-ar",
            Some("aarch64-linux-gnu-gcc"),
        ),
        "x86_64-pc-windows-gnu" => (
            "x86_64-w64-mingw32-gcc",
            "x86_64-w64-mingw32-ar",
            Some("x86_64-w64-mingw32-gcc"),
        ),
        _ => return Vec::new(),
    };
    let mut env = vec![
        (format!("CC_{key}"), cc.to_string()),
        (format!("AR_{key}"), ar.to_string()),
    ];
    if let Some(l) = linker {
        env.push((
            format!("CARGO_TARGET_{}_LINKER", key.to_uppercase()),
            l.to_string(),
        ));
    }
    env.retain(|(k, _)| std::env::var_os(k).is_none());
    env
}

/// A finished build: the binary and how long cargo took.
#[derive(Debug, Clone)]
pub struct Built {
    pub binary: PathBuf,
    pub elapsed: Duration,
}

/// `cargo build -p podman-remote --target <triple> --profile <profile>`.
pub fn build(t: &Target, profile: &str, source_date_epoch: i64) -> Result<Built> {
    if let Some(why) = t.unbuildable_reason() {
        return Err(Error::NotBuildableHere {
            target: t.name.into(),
            why,
        });
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace_root())
        .args([
            "build",
            "--locked",
            "-p",
            "podman-remote",
            "--target",
            t.triple,
        ])
        .args(["--profile", profile])
        .env("SOURCE_DATE_EPOCH", source_date_epoch.to_string())
        .envs(toolchain_env(t));
    let started = Instant::now();
    let status = cmd.status().map_err(|source| Error::Spawn {
        program: cargo.clone(),
        source,
    })?;
    if !status.success() {
        return Err(Error::Command {
            command: format!(
                "cargo build -p podman-remote --target {} --profile {profile}",
                t.triple
            ),
            status,
            detail: format!(
                "; is the target installed (`rustup target add {}`) and its C toolchain \
                 (scripts/install-deps.sh)?",
                t.triple
            ),
        });
    }
    let binary = target_dir()
        .join(t.triple)
        .join(profile_dir(profile))
        .join(t.exe_name());
    if !binary.is_file() {
        return Err(Error::io("finding the built binary", &binary)(
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    Ok(Built {
        binary,
        elapsed: started.elapsed(),
    })
}

/// Runs `binary args…` and returns its stdout.
pub fn run_capture(binary: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new(binary)
        .args(args)
        .output()
        .map_err(|source| Error::Spawn {
            program: binary.display().to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::Command {
            command: format!("{} {}", binary.display(), args.join(" ")),
            status: out.status,
            detail: format!(": {}", String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    Ok(out.stdout)
}

/// The time the release is stamped with: SOURCE_DATE_EPOCH, else the last commit's time, so
/// that the same commit always gives the same archives.
pub fn source_date_epoch() -> i64 {
    if let Some(v) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        return v;
    }
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}
