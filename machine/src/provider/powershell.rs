//! PowerShell invocations that cannot be injected into. podman's CVE-2026-33414 came from
//! building a script out of machine names and paths; here a script is a `&'static str` (so no
//! value can ever be formatted into it) that reads its inputs from `$env:PODMAN_PS_*`
//! variables. The script travels as `-EncodedCommand` (base64 UTF-16LE, so no quoting layer of
//! the Windows command line touches it) and the values travel in the child's environment,
//! which no parser interprets.

use base64::Engine;

use super::runner::Cmd;
use crate::{Error, Result};

/// Prefix of every variable a script may read.
pub const ENV_PREFIX: &str = "PODMAN_PS_";

/// Stop at the first error (cmdlets otherwise only write a non-terminating error and go on)
/// and keep progress bars out of captured output.
const PRELUDE: &str = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n";

/// A fixed script and the values it is run with.
#[derive(Debug, Clone)]
pub struct Script {
    body: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Script {
    pub fn new(body: &'static str) -> Script {
        Script {
            body,
            params: Vec::new(),
        }
    }

    /// Bind `$env:PODMAN_PS_<name>` to `value`. Names are upper-case identifiers chosen by
    /// us; values are anything but NUL (which no environment can carry).
    pub fn param(mut self, name: &'static str, value: impl Into<String>) -> Script {
        self.params.push((name, value.into()));
        self
    }

    pub fn body(&self) -> &'static str {
        self.body
    }

    /// The full script text, prelude included.
    pub fn text(&self) -> String {
        format!("{PRELUDE}{}", self.body)
    }

    /// `-EncodedCommand` argument: base64 of the script in UTF-16LE.
    pub fn encoded(&self) -> String {
        let utf16: Vec<u8> = self
            .text()
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        base64::engine::general_purpose::STANDARD.encode(utf16)
    }

    /// The command that runs it with `exe` (`powershell.exe` or `pwsh`).
    pub fn command(&self, exe: &str) -> Result<Cmd> {
        let mut cmd = Cmd::new(exe).args([
            "-NoLogo",
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Bypass",
            "-EncodedCommand",
        ]);
        cmd = cmd.arg(self.encoded());
        for (name, value) in &self.params {
            debug_assert!(name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
            if value.contains('\0') {
                return Err(Error::Invalid(format!(
                    "value for {name} contains a NUL character"
                )));
            }
            cmd = cmd.env(format!("{ENV_PREFIX}{name}"), value);
        }
        Ok(cmd)
    }
}

/// Windows PowerShell 5.1 ships with every Windows that has Hyper-V and carries the Hyper-V
/// module; `pwsh` (7.x) is the fallback for hosts that only have that on PATH.
pub fn find_exe() -> Option<String> {
    #[cfg(windows)]
    {
        if let Some(root) = std::env::var_os("SystemRoot") {
            let p = std::path::Path::new(&root)
                .join("System32")
                .join("WindowsPowerShell")
                .join("v1.0")
                .join("powershell.exe");
            if p.is_file() {
                return Some(p.display().to_string());
            }
        }
    }
    ["powershell", "pwsh"]
        .iter()
        .find_map(|n| crate::find_program(n).map(|p| p.display().to_string()))
}

/// Values that would break out of a string-built script; every PowerShell-using test feeds
/// them through.
#[cfg(test)]
pub(crate) const HOSTILE: &[&str] = &[
    "it's",
    "a\"b",
    "x; Remove-Item -Recurse C:\\",
    "$(Stop-Computer)",
    "`whoami`",
    "a`nb",
    "line1\nline2\r\nline3",
    "@(1,2)",
    "C:\\Users\\O'Brien $HOME\\vm.vhdx",
    "%PATH%",
    "| Out-Null &",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b64: &str) -> String {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    }

    #[test]
    fn hostile_values_reach_only_the_environment() {
        const BODY: &str = "Get-VM -Name $env:PODMAN_PS_NAME | Out-Null";
        let benign = Script::new(BODY)
            .param("NAME", "vm")
            .command("powershell")
            .unwrap();
        for v in HOSTILE {
            let cmd = Script::new(BODY)
                .param("NAME", *v)
                .command("powershell")
                .unwrap();
            // The command line is byte-for-byte the one a harmless name gets.
            assert_eq!(cmd.args, benign.args, "{v:?}");
            for a in cmd.argv() {
                assert!(!a.contains(v), "{v:?} leaked into argument {a:?}");
            }
            assert!(!decode(&cmd.argv()[6]).contains(v));
            assert_eq!(cmd.env_value("PODMAN_PS_NAME").as_deref(), Some(*v));
        }
    }

    #[test]
    fn encoded_command_is_the_prelude_and_the_fixed_body() {
        let s = Script::new("Start-VM -Name $env:PODMAN_PS_NAME");
        let cmd = s.command("powershell.exe").unwrap();
        assert_eq!(
            cmd.argv()[..6],
            [
                "-NoLogo",
                "-NoProfile",
                "-NonInteractive",
                "-ExecutionPolicy",
                "Bypass",
                "-EncodedCommand"
            ]
        );
        let text = decode(&cmd.argv()[6]);
        assert!(text.starts_with("$ErrorActionPreference = 'Stop'\n"));
        assert!(text.ends_with("Start-VM -Name $env:PODMAN_PS_NAME"));
        assert_eq!(cmd.argv().len(), 7);
    }

    #[test]
    fn nul_in_a_value_is_refused() {
        let e = Script::new("x")
            .param("P", "a\0b")
            .command("pwsh")
            .unwrap_err()
            .to_string();
        assert!(e.contains("NUL"), "{e}");
    }
}
