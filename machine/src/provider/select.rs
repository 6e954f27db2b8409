//! Which provider a command uses: `--provider` (on `init`), else `CONTAINERS_MACHINE_PROVIDER`,
//! else containers.conf `[machine] provider`, else the host's default (podman
//! `pkg/machine/provider/platform_*.go`). A provider the host cannot run is refused up front
//! with the list of those it can.

use super::VmType;
use crate::{Error, Result};

/// Providers that run on `os`/`arch` (`std::env::consts` spelling), default first.
pub fn supported(os: &str, arch: &str) -> Vec<VmType> {
    match os {
        "windows" => vec![VmType::Wsl, VmType::Hyperv],
        // QEMU stays available on macOS here (podman 5 dropped it): it is this project's
        // end-to-end tested provider.
        "macos" if arch == "aarch64" => vec![VmType::Applehv, VmType::Libkrun, VmType::Qemu],
        "macos" => vec![VmType::Applehv, VmType::Qemu],
        _ => vec![VmType::Qemu],
    }
}

pub fn host_supported() -> Vec<VmType> {
    supported(std::env::consts::OS, std::env::consts::ARCH)
}

/// The provider for this command, from the flag, the environment and containers.conf in
/// that order, checked against what `os`/`arch` can run.
pub fn choose_for(
    os: &str,
    arch: &str,
    flag: Option<&str>,
    env: Option<&str>,
    config: Option<&str>,
) -> Result<VmType> {
    let sources = [
        ("--provider", flag),
        ("CONTAINERS_MACHINE_PROVIDER", env),
        ("containers.conf [machine] provider", config),
    ];
    let ok = supported(os, arch);
    let names = ok.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ");
    for (from, v) in sources {
        let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        let vm = VmType::parse(v).ok_or_else(|| {
            Error::Invalid(format!(
                "{from}={v:?} is not a provider (qemu, wsl, hyperv, applehv, libkrun)"
            ))
        })?;
        if !ok.contains(&vm) {
            return Err(Error::Invalid(format!(
                "{from}={v}: the {vm} provider does not run on this host ({os}/{arch}); \
                 supported here: {names}"
            )));
        }
        return Ok(vm);
    }
    Ok(ok[0])
}

/// [`choose_for`] on this host with the real environment.
pub fn choose(flag: Option<&str>, config: Option<&str>) -> Result<VmType> {
    let env = std::env::var("CONTAINERS_MACHINE_PROVIDER").ok();
    choose_for(
        std::env::consts::OS,
        std::env::consts::ARCH,
        flag,
        env.as_deref(),
        config,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_os() {
        assert_eq!(
            choose_for("windows", "x86_64", None, None, None).unwrap(),
            VmType::Wsl
        );
        assert_eq!(
            choose_for("macos", "aarch64", None, None, None).unwrap(),
            VmType::Applehv
        );
        assert_eq!(
            choose_for("linux", "x86_64", None, None, None).unwrap(),
            VmType::Qemu
        );
        assert_eq!(
            choose_for("freebsd", "x86_64", None, None, None).unwrap(),
            VmType::Qemu
        );
    }

    #[test]
    fn flag_beats_env_beats_config() {
        let w = |f, e, c| choose_for("windows", "x86_64", f, e, c).unwrap();
        assert_eq!(w(Some("hyperv"), Some("wsl"), Some("wsl")), VmType::Hyperv);
        assert_eq!(w(None, Some("HyperV"), Some("wsl")), VmType::Hyperv);
        assert_eq!(w(None, Some(""), Some("hyperv")), VmType::Hyperv);
        assert_eq!(w(Some(" "), None, None), VmType::Wsl);
    }

    #[test]
    fn unsupported_and_unknown_providers_are_refused_clearly() {
        let e = choose_for("linux", "x86_64", Some("hyperv"), None, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--provider=hyperv: the hyperv provider does not run on this host (linux/x86_64); \
             supported here: qemu"
        );
        let e = choose_for("macos", "x86_64", None, Some("libkrun"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("supported here: applehv, qemu"), "{e}");
        let e = choose_for("linux", "x86_64", None, Some("vbox"), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("CONTAINERS_MACHINE_PROVIDER=\"vbox\" is not a provider"),
            "{e}"
        );
    }
}
