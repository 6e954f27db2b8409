//! `completion SHELL`: shell completion scripts, and the hidden man page generator the release
//! tooling calls. Both are generated from the clap definitions, so they never drift from the
//! flags the binary really accepts.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::context::GlobalOpts;
use crate::exit::Failure;

/// The shells podman's `completion` command accepts, in its order.
const SHELLS: [&str; 4] = ["bash", "zsh", "fish", "powershell"];

/// The name completions and man pages are written for.
const BIN: &str = "podman-remote";

#[derive(Args, Debug)]
#[command(override_usage = "podman-remote completion [options] {bash|zsh|fish|powershell}")]
pub struct CompletionArgs {
    /// Output the completion to file rather than stdout.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Don't include descriptions in the completion output.
    #[arg(long = "no-desc")]
    pub no_desc: bool,
    pub args: Vec<String>,
}

pub async fn completion(_g: &GlobalOpts, a: CompletionArgs) -> Result<u8, Failure> {
    let shell = shell_arg(&a.args)?;
    let script = script(shell, a.no_desc);
    match a.file.as_deref() {
        None => stdout_write(&script)?,
        Some(p) if p == Path::new("-") => stdout_write(&script)?,
        Some(p) => crate::fsutil::write_atomic(p, &script, Some(0o644))
            .map_err(|f| Failure::msg(format!("{} {}: {}", f.op, p.display(), f.error)))?,
    }
    Ok(0)
}

/// cobra's `ExactValidArgs(1)` with podman's shell list, and its messages.
fn shell_arg(args: &[String]) -> Result<Shell, Failure> {
    crate::commands::argcheck::exact_args(args, 1)?;
    let name = args[0].as_str();
    Ok(match name {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        "powershell" => Shell::PowerShell,
        _ => {
            return Err(Failure::msg(format!(
                "invalid argument \"{name}\" for \"podman-remote completion\" (valid: {})",
                SHELLS.join(", ")
            )))
        }
    })
}

fn stdout_write(data: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|()| out.flush()) {
        // `completion bash | head` is not an error.
        // (Windows reports a closed pipe as "not connected".)
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::NotConnected
            ) =>
        {
            Ok(())
        }
        r => Ok(r?),
    }
}

/// The completion script for `shell`, without any help text when `no_desc`.
pub fn script(shell: Shell, no_desc: bool) -> Vec<u8> {
    let mut cmd = crate::Cli::command();
    if no_desc {
        cmd = without_descriptions(cmd);
    }
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
    if shell == Shell::Bash {
        // clap_complete 4.6 mangles the hyphen of the binary's name one way in the `case`
        // labels of nested commands (`podman__subcmd__remote__subcmd__run`) and another way in
        // the state they are reached by (`podman__remote__subcmd__run`), so nothing below the
        // first level would complete. Make the labels match.
        let text =
            String::from_utf8_lossy(&buf).replace("podman__subcmd__remote__", "podman__remote__");
        buf = text.into_bytes();
    }
    buf
}

/// clap_complete has no switch for descriptions: they come from the help texts, so drop those.
fn without_descriptions(cmd: clap::Command) -> clap::Command {
    let cmd = cmd
        .about(None::<&str>)
        .long_about(None::<&str>)
        .mut_args(|a| a.help(None::<&str>).long_help(None::<&str>));
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names.into_iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, without_descriptions)
    })
}

/// Hidden `__generate-man DIR`: one roff page per command (`podman-remote.1`,
/// `podman-remote-container-ls.1`, …), used by `cargo run -p installer -- dist`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing).
    pub dir: PathBuf,
}

pub fn man_pages(a: ManArgs) -> Result<u8, Failure> {
    let mut cmd = crate::Cli::command();
    // Subcommands' usage lines and page names need their parents' names filled in.
    cmd.build();
    std::fs::create_dir_all(&a.dir)
        .map_err(|e| Failure::msg(format!("mkdir {}: {e}", a.dir.display())))?;
    let mut written = 0usize;
    write_pages(&cmd, BIN, &a.dir, &mut written)?;
    tracing::debug!("{written} man pages in {}", a.dir.display());
    Ok(0)
}

fn write_pages(
    cmd: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut usize,
) -> Result<(), Failure> {
    if cmd.is_hide_set() {
        return Ok(());
    }
    let page = cmd.clone();
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .title(name.to_uppercase())
        .section("1")
        .source(format!("podman-remote {}", env!("CARGO_PKG_VERSION")))
        .manual("podman-remote Manual")
        .render(&mut buf)?;
    let path = dir.join(format!("{name}.1"));
    crate::fsutil::write_atomic(&path, &buf, Some(0o644))
        .map_err(|f| Failure::msg(format!("{} {}: {}", f.op, path.display(), f.error)))?;
    *written += 1;
    for sub in cmd.get_subcommands() {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_argument_follows_cobra() {
        assert!(matches!(shell_arg(&["zsh".into()]), Ok(Shell::Zsh)));
        let e = shell_arg(&[]).unwrap_err();
        assert_eq!(e.message, "accepts 1 arg(s), received 0");
        let e = shell_arg(&["tcsh".into()]).unwrap_err();
        assert!(
            e.message.starts_with("invalid argument \"tcsh\""),
            "{}",
            e.message
        );
        assert_eq!(e.code, 125);
    }

    #[test]
    fn no_desc_drops_help_texts() {
        let with = String::from_utf8(script(Shell::Fish, false)).unwrap();
        let without = String::from_utf8(script(Shell::Fish, true)).unwrap();
        assert!(with.contains("Manage containers"), "{with}");
        assert!(!without.contains("Manage containers"));
        // The subcommands are still completed.
        assert!(without.contains("-a \"container\""), "{without}");
    }

    #[test]
    fn bash_script_completes_nested_commands() {
        let s = String::from_utf8(script(Shell::Bash, false)).unwrap();
        assert!(
            s.contains("-F _podman__remote"),
            "{}",
            &s[s.len().saturating_sub(300)..]
        );
        // Every state the script can reach has a `case` label (see `script`).
        let states: std::collections::BTreeSet<&str> = s
            .split("cmd=\"")
            .skip(1)
            .filter_map(|r| r.split('"').next())
            .filter(|st| !st.is_empty())
            .collect();
        for st in &states {
            assert!(s.contains(&format!("        {st})\n")), "no case for {st}");
        }
        assert!(states.contains("podman__remote__subcmd__container__subcmd__ps"));
    }
}
