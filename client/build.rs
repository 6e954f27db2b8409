//! Embeds what `podman-remote version` reports about the build: the git commit, the build
//! time and the compiler. Reproducible: the time is SOURCE_DATE_EPOCH when set, else the
//! commit's own time, never the wall clock.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=PODMAN_REMOTE_GIT_COMMIT");
    for path in ["HEAD", "packed-refs"]
        .into_iter()
        .filter_map(|p| git(&["rev-parse", "--git-path", p]))
        .chain(
            git(&["symbolic-ref", "-q", "HEAD"])
                .and_then(|r| git(&["rev-parse", "--git-path", &r])),
        )
    {
        // A path that does not exist would make cargo rerun this script on every build.
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }

    // Builds from a source tarball have no .git: the packager may pass the commit in.
    let commit = std::env::var("PODMAN_REMOTE_GIT_COMMIT")
        .ok()
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_default();
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .filter(|s| s.trim().parse::<i64>().is_ok())
        .or_else(|| git(&["log", "-1", "--format=%ct"]))
        .unwrap_or_else(|| "0".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "rustc (unknown version)".into());

    println!("cargo:rustc-env=PODMAN_REMOTE_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=PODMAN_REMOTE_BUILD_EPOCH={}", epoch.trim());
    println!("cargo:rustc-env=PODMAN_REMOTE_RUSTC={rustc_version}");
}

/// One line of git's output in this crate's directory, or None outside a git checkout.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}
