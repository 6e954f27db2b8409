//! How a failed command ends: podman's `Error: ...` line on stderr and its exit code
//! (125 for errors of podman itself, 126/127 when the container's command cannot be run or
//! found, or a code of the command's own such as `rm`'s 1 for a missing container).

use std::process::ExitCode;

use bindings::Error;

#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    /// Print podman's hint about checking the connection before the error.
    pub connect_hint: bool,
}

pub const EXIT_ERROR: u8 = 125;

impl Failure {
    pub fn msg(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_ERROR,
            message: message.into(),
            connect_hint: false,
        }
    }

    pub fn with_code(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            connect_hint: false,
        }
    }

    pub fn not_built(command: &str, extra: &str) -> Failure {
        let mut message = format!("`podman-remote {command}` is not implemented yet");
        if !extra.is_empty() {
            message.push_str(": ");
            message.push_str(extra);
        }
        Failure::msg(message)
    }

    pub fn report(self) -> ExitCode {
        if self.connect_hint {
            eprintln!(
                "Cannot connect to Podman. Please verify your connection to the Linux system \
                 using `podman-remote system connection list`, or try `podman-remote machine \
                 init` and `podman-remote machine start` to manage a new Linux VM"
            );
        }
        if !self.message.is_empty() {
            eprintln!("Error: {}", self.message);
        }
        ExitCode::from(self.code)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            code: EXIT_ERROR,
            connect_hint: e.is_connect(),
            message: e.to_string(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        if let Some(b) = e.downcast_ref::<Error>() {
            let mut f = Failure::msg(format!("{e:#}"));
            f.connect_hint = b.is_connect();
            return f;
        }
        Failure::msg(format!("{e:#}"))
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::msg(e.to_string())
    }
}

/// podman decides between 126 and 127 by the engine's message when a container's command
/// cannot be started (`define.ExitCode` in podman).
pub fn exec_failure_code(message: &str) -> u8 {
    let m = message.to_ascii_lowercase();
    if m.contains("not found")
        || m.contains("executable path is empty")
        || m.contains("no such file")
    {
        127
    } else if m.contains("permission denied") || m.contains("executable file") {
        126
    } else {
        EXIT_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_codes() {
        assert_eq!(
            exec_failure_code("runc: exec: \"nosuch\": executable file not found in $PATH"),
            127
        );
        assert_eq!(exec_failure_code("open /x: permission denied"), 126);
        assert_eq!(exec_failure_code("something else"), 125);
    }
}
