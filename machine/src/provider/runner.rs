//! The seam between providers and the programs they drive (`wsl.exe`, `powershell.exe`,
//! `qemu-img`, `vfkit`, `krunkit`, `gvproxy`). Providers build a [`Cmd`] and hand it to a
//! [`Runner`]; tests hand them a [`Recorder`] instead and inspect the exact argv, environment
//! and stdin that would have been used, without the program being installed.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::{Error, Result};

/// One program invocation, fully described before anything runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Added to (never replacing) the inherited environment.
    pub env: Vec<(String, OsString)>,
    /// Bytes written to the program's stdin; `None` gives it an empty stdin.
    pub stdin: Option<Vec<u8>>,
}

impl Cmd {
    pub fn new(program: impl Into<PathBuf>) -> Cmd {
        Cmd {
            program: program.into(),
            ..Cmd::default()
        }
    }

    pub fn arg(mut self, a: impl Into<OsString>) -> Cmd {
        self.args.push(a.into());
        self
    }

    pub fn args<I, S>(mut self, xs: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(xs.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, k: impl Into<String>, v: impl Into<OsString>) -> Cmd {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(data.into());
        self
    }

    /// The arguments as strings (lossy), for tests and messages.
    pub fn argv(&self) -> Vec<String> {
        self.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    pub fn env_value(&self, k: &str) -> Option<String> {
        self.env
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string_lossy().into_owned())
    }

    /// `program arg…` for error messages; never contains environment values (they may be
    /// secrets or Ignition content).
    pub fn display(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in self.argv() {
            s.push(' ');
            s.push_str(&a);
        }
        s
    }

    /// The `std::process::Command` this describes. Console programs started from a GUI or
    /// service on Windows would flash a window; `CREATE_NO_WINDOW` keeps them hidden.
    pub fn to_command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            c.creation_flags(CREATE_NO_WINDOW);
        }
        c
    }
}

/// What a finished program left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn ok(code: i32, stdout: &str) -> Output {
        Output {
            code: Some(code),
            stdout: stdout.as_bytes().to_vec(),
            stderr: Vec::new(),
        }
    }

    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        decode_console(&self.stdout)
    }

    pub fn stderr_text(&self) -> String {
        decode_console(&self.stderr)
    }

    /// The output if the program succeeded, else an error naming `what` and quoting stderr.
    pub fn check(self, what: &str) -> Result<Output> {
        if self.success() {
            return Ok(self);
        }
        let mut msg = self.stderr_text().trim().to_string();
        if msg.is_empty() {
            msg = self.stdout_text().trim().to_string();
        }
        let code = self
            .code
            .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"));
        Err(Error::Provider(format!("{what} failed ({code}): {msg}")))
    }
}

/// Console output as text. `wsl.exe` writes UTF-16LE unless `WSL_UTF8=1` is honoured (older
/// WSL ignores it), so text that looks like UTF-16 is decoded as such.
pub fn decode_console(b: &[u8]) -> String {
    let looks_utf16 = b.len() >= 2
        && (b.starts_with(&[0xFF, 0xFE]) || b.iter().skip(1).step_by(2).take(8).all(|&x| x == 0));
    if looks_utf16 {
        let body = b.strip_prefix(&[0xFF, 0xFE][..]).unwrap_or(b);
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    String::from_utf8_lossy(b).into_owned()
}

/// A program left running (a VM monitor, gvproxy, a keep-alive).
pub trait Child: Send {
    fn id(&self) -> u32;
    /// `Some(exit code or -1)` once it has exited.
    fn try_wait(&mut self) -> io::Result<Option<i32>>;
    fn kill(&mut self) -> io::Result<()>;
}

/// Runs [`Cmd`]s. Implementations are blocking.
pub trait Runner: Send + Sync {
    /// Run to completion and collect its output.
    fn run(&self, cmd: &Cmd) -> io::Result<Output>;

    /// Start in the background, stdout and stderr appended to `log` (or discarded), detached
    /// from our terminal's signals so the VM outlives this command.
    fn spawn(&self, cmd: &Cmd, log: Option<&Path>) -> io::Result<Box<dyn Child>>;

    /// Run and turn failure to start or a non-zero exit into an error about `what`.
    fn check(&self, cmd: &Cmd, what: &str) -> Result<Output> {
        self.run(cmd)
            .map_err(|e| Error::Provider(format!("{what}: cannot run {}: {e}", cmd.display())))?
            .check(what)
    }
}

/// The real thing.
#[derive(Debug, Default, Clone, Copy)]
pub struct System;

struct SysChild(std::process::Child);

impl Child for SysChild {
    fn id(&self) -> u32 {
        self.0.id()
    }
    fn try_wait(&mut self) -> io::Result<Option<i32>> {
        Ok(self.0.try_wait()?.map(|s| s.code().unwrap_or(-1)))
    }
    fn kill(&mut self) -> io::Result<()> {
        self.0.kill()?;
        let _ = self.0.wait();
        Ok(())
    }
}

impl Runner for System {
    fn run(&self, cmd: &Cmd) -> io::Result<Output> {
        use std::io::Write;
        let mut c = cmd.to_command();
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c.stdin(if cmd.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn()?;
        if let Some(data) = &cmd.stdin {
            let mut si = child.stdin.take().expect("stdin was piped");
            // A writer thread: the program may fill its stdout pipe before reading all input.
            let data = data.clone();
            let w = std::thread::spawn(move || si.write_all(&data));
            let out = child.wait_with_output()?;
            let _ = w.join();
            return Ok(Output {
                code: out.status.code(),
                stdout: out.stdout,
                stderr: out.stderr,
            });
        }
        let out = child.wait_with_output()?;
        Ok(Output {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    fn spawn(&self, cmd: &Cmd, log: Option<&Path>) -> io::Result<Box<dyn Child>> {
        let mut c = cmd.to_command();
        c.stdin(Stdio::null());
        match log {
            Some(p) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?;
                c.stdout(f.try_clone()?).stderr(f);
            }
            None => {
                c.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Own process group: Ctrl-C in the terminal that ran `machine start` must not
            // take the VM down with it.
            c.process_group(0);
        }
        Ok(Box::new(SysChild(c.spawn()?)))
    }
}

/// The shared default runner.
pub fn system() -> Arc<dyn Runner> {
    Arc::new(System)
}

/// A runner for tests: records every command and answers from a script of canned outputs
/// matched by a substring of the command line, in order of registration.
#[derive(Default, Clone)]
pub struct Recorder {
    pub calls: Arc<Mutex<Vec<Cmd>>>,
    answers: Arc<Mutex<Vec<(String, Output)>>>,
}

struct FakeChild(u32);

impl Child for FakeChild {
    fn id(&self) -> u32 {
        self.0
    }
    fn try_wait(&mut self) -> io::Result<Option<i32>> {
        Ok(None)
    }
    fn kill(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Answer commands whose `display()` contains `needle` with `out` (first match wins; an
    /// unmatched command succeeds with empty output).
    pub fn answer(&self, needle: &str, out: Output) -> &Recorder {
        self.answers.lock().unwrap().push((needle.to_string(), out));
        self
    }

    pub fn calls(&self) -> Vec<Cmd> {
        self.calls.lock().unwrap().clone()
    }
}

impl Runner for Recorder {
    fn run(&self, cmd: &Cmd) -> io::Result<Output> {
        self.calls.lock().unwrap().push(cmd.clone());
        let line = cmd.display();
        let answers = self.answers.lock().unwrap();
        Ok(answers
            .iter()
            .find(|(n, _)| line.contains(n.as_str()))
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| Output::ok(0, "")))
    }

    fn spawn(&self, cmd: &Cmd, _log: Option<&Path>) -> io::Result<Box<dyn Child>> {
        let mut calls = self.calls.lock().unwrap();
        calls.push(cmd.clone());
        Ok(Box::new(FakeChild(1000 + calls.len() as u32)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_console_output_is_decoded() {
        let s: Vec<u8> = "podman-a\r\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode_console(&s), "podman-a\r\n");
        assert_eq!(decode_console(b"plain utf8"), "plain utf8");
    }

    #[test]
    fn failed_output_names_the_step_and_quotes_stderr() {
        let o = Output {
            code: Some(3),
            stdout: vec![],
            stderr: b"boom\n".to_vec(),
        };
        let e = o.check("wsl --import").unwrap_err().to_string();
        assert_eq!(e, "wsl --import failed (exit 3): boom");
    }

    #[test]
    fn system_runner_passes_stdin_env_and_collects_output() {
        if cfg!(windows) {
            return;
        }
        let out = System
            .run(
                &Cmd::new("/bin/sh")
                    .args(["-c", "printf '%s:' \"$X\"; cat"])
                    .env("X", "v a l")
                    .stdin("in"),
            )
            .unwrap();
        assert!(out.success());
        assert_eq!(out.stdout_text(), "v a l:in");
        let bad = System.check(
            &Cmd::new("/bin/sh").args(["-c", "echo no >&2; exit 4"]),
            "t",
        );
        assert_eq!(bad.unwrap_err().to_string(), "t failed (exit 4): no");
    }
}
