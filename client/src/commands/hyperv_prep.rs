//! `system hyperv-prep [--status] [--reset [--force]] [--mounts N]` (podman 6, Windows only):
//! the one elevated step after which a normal user manages Hyper-V machines.

use std::io::{BufRead, Write};

use clap::Args;

use crate::exit::Failure;

#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct HypervPrepArgs {
    /// Show vsock registry entries and Hyper-V group membership status.
    #[arg(long)]
    pub status: bool,
    /// Remove all Podman vsock registry entries and optionally remove user from Hyper-V
    /// Administrators group.
    #[arg(long)]
    pub reset: bool,
    /// Don't ask for confirmation during reset. Valid only when used with --reset.
    #[arg(short, long, requires = "reset")]
    pub force: bool,
    /// Number of vsock entries to create for mount purpose.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub mounts: u32,
}

impl HypervPrepArgs {
    pub fn options(&self) -> podman_machine::provider::hyperv_prep::PrepOptions {
        podman_machine::provider::hyperv_prep::PrepOptions {
            status: self.status,
            reset: self.reset,
            force: self.force,
            mounts: self.mounts,
        }
    }
}

/// podman's `[y/N]` questions: yes only for an answer starting with y or Y.
fn ask(question: &str) -> bool {
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    line.trim_start().starts_with(['y', 'Y'])
}

pub fn run(a: HypervPrepArgs) -> Result<u8, Failure> {
    if !cfg!(windows) {
        return Err(Failure::msg(
            "hyperv-prep prepares a Windows host for Hyper-V machines; it is only available on \
             Windows",
        ));
    }
    let h =
        podman_machine::provider::hyperv::HyperV::new(podman_machine::provider::runner::system());
    let mut out = std::io::stdout();
    podman_machine::provider::hyperv_prep::hyperv_prep(&h, &a.options(), &mut ask, &mut out)
        .map_err(|e| Failure::msg(e.to_string()))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        a: HypervPrepArgs,
    }

    fn parse(args: &[&str]) -> Result<HypervPrepArgs, String> {
        let mut v = vec!["hyperv-prep"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v)
            .map(|c| c.a)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn podmans_command_lines() {
        let d = parse(&[]).unwrap().options();
        assert_eq!(
            d,
            podman_machine::provider::hyperv_prep::PrepOptions::default()
        );
        assert_eq!(d.mounts, 2);
        let s = parse(&["--status"]).unwrap();
        assert!(s.status && !s.reset);
        let r = parse(&["--reset", "--force"]).unwrap();
        assert!(r.reset && r.force);
        assert!(parse(&["--reset", "-f"]).unwrap().force);
        assert_eq!(parse(&["--mounts", "5"]).unwrap().mounts, 5);
        let e = parse(&["--force"]).unwrap_err();
        assert!(e.contains("--reset"), "{e}");
        // As in podman, --status wins over --reset (it runs first and needs no elevation).
        let both = parse(&["--status", "--reset"]).unwrap();
        assert!(both.status && both.reset);
        assert!(parse(&["--mounts", "-1"]).is_err());
        assert!(parse(&["extra"]).is_err());
    }
}
