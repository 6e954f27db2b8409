//! The release targets: their Rust triples, the names their archives carry, and which of them
//! this machine can build.

/// Archive format of a target's release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    TarGz,
    Zip,
}

/// One release target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// `<os>-<arch>` as it appears in archive names, e.g. `linux-x86_64`.
    pub name: &'static str,
    pub triple: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
    pub format: Format,
    /// Size the shipped (release profile) binary must not exceed, if any.
    pub max_size: Option<u64>,
}

const MIB: u64 = 1024 * 1024;

/// Every target we release. Linux builds are musl and fully static so that one file runs
/// on any distribution; the arch names are what `uname -m` says on Linux.
pub const ALL: &[Target] = &[
    Target {
        name: "linux-x86_64",
        triple: "x86_64-unknown-linux-musl",
        os: "linux",
        arch: "x86_64",
        format: Format::TarGz,
        // podman-remote (Go) is 34 MiB; ours must stay well under half of it.
        max_size: Some(15 * MIB),
    },
    Target {
        name: "linux-aarch64",
        triple: "aarch64-unknown-linux-musl",
        os: "linux",
        arch: "aarch64",
        format: Format::TarGz,
        max_size: None,
    },
    Target {
        name: "windows-x86_64",
        triple: "x86_64-pc-windows-gnu",
        os: "windows",
        arch: "x86_64",
        format: Format::Zip,
        max_size: None,
    },
    Target {
        name: "macos-x86_64",
        triple: "x86_64-apple-darwin",
        os: "macos",
        arch: "x86_64",
        format: Format::TarGz,
        max_size: None,
    },
    Target {
        name: "macos-aarch64",
        triple: "aarch64-apple-darwin",
        os: "macos",
        arch: "aarch64",
        format: Format::TarGz,
        max_size: None,
    },
];

pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|t| t.name).collect()
}

pub fn find(name: &str) -> crate::Result<Target> {
    ALL.iter()
        .find(|t| t.name == name || t.triple == name)
        .copied()
        .ok_or_else(|| crate::Error::UnknownTarget(name.to_string()))
}

impl Target {
    pub fn exe_name(&self) -> &'static str {
        if self.os == "windows" {
            "podman-remote.exe"
        } else {
            "podman-remote"
        }
    }

    pub fn archive_name(&self, version: &str) -> String {
        let ext = match self.format {
            Format::TarGz => "tar.gz",
            Format::Zip => "zip",
        };
        format!("{}.{ext}", self.stem(version))
    }

    /// `podman-remote-<version>-<os>-<arch>`: the archive's name and its top directory.
    pub fn stem(&self, version: &str) -> String {
        format!("podman-remote-{version}-{}", self.name)
    }

    /// Why this machine cannot build the target, if it cannot. Apple's linker and SDK only
    /// exist on macOS, so the macOS archives are built there (see the README).
    pub fn unbuildable_reason(&self) -> Option<String> {
        let host_is_mac = cfg!(target_os = "macos");
        if self.os == "macos" && !host_is_mac {
            return Some(format!(
                "the macOS linker and SDK exist only on macOS; on a Mac with the Xcode command \
                 line tools run `rustup target add {}` and `cargo run -p installer -- dist \
                 --target {}`",
                self.triple, self.name
            ));
        }
        if self.os != "macos" && host_is_mac {
            return Some("build the Linux and Windows archives on Linux".into());
        }
        None
    }

    /// Whether a binary for this target runs on this machine (to generate completions and man
    /// pages from it).
    pub fn runs_here(&self) -> bool {
        let arch = std::env::consts::ARCH;
        match self.os {
            "linux" => cfg!(target_os = "linux") && self.arch == arch,
            "macos" => cfg!(target_os = "macos") && self.arch == arch,
            _ => cfg!(windows) && self.arch == arch,
        }
    }

    /// The targets `dist` builds when none is named: all that this machine can build.
    pub fn defaults() -> Vec<Target> {
        ALL.iter()
            .filter(|t| t.unbuildable_reason().is_none())
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let t = find("linux-x86_64").unwrap();
        assert_eq!(
            t.archive_name("1.2.3"),
            "podman-remote-1.2.3-linux-x86_64.tar.gz"
        );
        let w = find("x86_64-pc-windows-gnu").unwrap();
        assert_eq!(
            w.archive_name("1.2.3"),
            "podman-remote-1.2.3-windows-x86_64.zip"
        );
        assert_eq!(w.exe_name(), "podman-remote.exe");
        assert!(find("linux-riscv64").is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_host_builds_linux_and_windows_but_not_macos() {
        let d: Vec<_> = Target::defaults().iter().map(|t| t.name).collect();
        assert_eq!(d, ["linux-x86_64", "linux-aarch64", "windows-x86_64"]);
        assert!(find("macos-aarch64")
            .unwrap()
            .unbuildable_reason()
            .unwrap()
            .contains("Xcode"));
    }
}
