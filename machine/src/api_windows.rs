//! The machine's API on a Windows host (WSL and Hyper-V machines): the named pipe
//! `\\.\pipe\podman-<name>`, plus `\\.\pipe\docker_engine` when no one else (Docker Desktop)
//! holds it, both served by the API server of the `server` crate in the machine's watcher
//! process (`machine __watch NAME`), as podman's win-sshproxy/gvproxy serve them. The pipes
//! admit only the current user (the server's DACL) and relay to the guest's podman socket
//! over SSH with the machine's pinned host key.
//!
//! The watcher records which pipes it serves in `<runtime>/<name>-api.pipes` (its pid, then
//! one pipe a line); `start` waits for that record to name the current watcher and for the
//! machine's pipe to answer, then prints podman's message for the pipe Docker clients use.

use std::path::PathBuf;

use crate::dirs::Dirs;
use crate::provider::winpipe::{self, DOCKER_ENGINE_PIPE};

/// The record of the pipes the watcher serves.
pub fn served_file(dirs: &Dirs, name: &str) -> PathBuf {
    dirs.api_socket(name).with_extension("pipes")
}

/// The record's text: the watcher's pid, then the pipes.
pub fn record_text(pid: u32, pipes: &[String]) -> String {
    let mut s = format!("{pid}\n");
    for p in pipes {
        s.push_str(p);
        s.push('\n');
    }
    s
}

/// The pipes of a record, if it was written by the watcher `watcher_pid` (a record left by
/// an earlier watcher says nothing about this one).
pub fn parse_record(text: &str, watcher_pid: u32) -> Option<Vec<String>> {
    let mut lines = text.lines();
    let pid: u32 = lines.next()?.trim().parse().ok()?;
    if pid != watcher_pid {
        return None;
    }
    let pipes: Vec<String> = lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    (!pipes.is_empty()).then_some(pipes)
}

/// The pipe podman reports after start: `docker_engine` when it is ours, else the machine's
/// own (podman's `setupMachineSockets` returns the last pipe it serves).
pub fn forward_pipe(served: &[String]) -> Option<&str> {
    served
        .iter()
        .find(|p| *p == DOCKER_ENGINE_PIPE)
        .or_else(|| served.first())
        .map(String::as_str)
}

/// podman 5's info after start on Windows (`WaitAPIAndPrintInfo` with a pipe and
/// `GetEnvSetString`'s PowerShell form); the caller adds the final newline.
pub fn docker_host_lines(pipe: &str) -> String {
    let url = winpipe::npipe_url(pipe);
    if pipe == DOCKER_ENGINE_PIPE {
        format!(
            "API forwarding listening on: {url}\nDocker API clients default to this address. \
             You do not need to set DOCKER_HOST.\n"
        )
    } else {
        format!(
            "API forwarding listening on: {url}\n\nAnother process was listening on the default \
             Docker API socket address.\nYou can still connect Docker API clients by setting \
             DOCKER_HOST using the\nfollowing command in your terminal session:\n\n        \
             $Env:DOCKER_HOST=\"{url}\""
        )
    }
}

/// `inspect`'s `ConnectionInfo.PodmanPipe`: the machine's pipe on Windows, else null.
pub fn inspect_pipe(name: &str, windows: bool) -> serde_json::Value {
    if windows {
        serde_json::json!({ "Path": winpipe::machine_pipe(name) })
    } else {
        serde_json::Value::Null
    }
}

#[cfg(windows)]
pub use imp::{serve, start, wait_served};

#[cfg(windows)]
mod imp {
    use std::future::Future;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use podman_server::{ListenAddr, Server};

    use super::*;
    use crate::config::MachineConfig;
    use crate::Result;

    /// How long the watcher retries and `start` waits (the guest's podman socket may come
    /// up a little after SSH; an earlier watcher may hold the pipe for a second after stop).
    const API_WAIT: Duration = Duration::from_secs(60);

    async fn start_server(
        uri: &str,
        mc: &MachineConfig,
        addr: ListenAddr,
        forward_ports: bool,
    ) -> Result<Server> {
        Ok(Server::builder(uri)?
            .identity(Some(mc.ssh.identity_path.clone()))
            .pinned_known_hosts(Some(mc.known_hosts_path.path.clone()))
            .connection_name(Some(mc.name.clone()))
            .listen(addr)
            .idle_timeout(None)
            // One server forwards the published ports; two would race for them.
            .forward_ports(forward_ports)
            .start()
            .await?)
    }

    /// Serve the machine's pipes until `shutdown` resolves (in the watcher process).
    pub async fn serve(
        dirs: &Dirs,
        mc: &MachineConfig,
        host: &str,
        port: u16,
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        let uri = crate::api::engine_uri(mc, host, port);
        let record = served_file(dirs, &mc.name);
        let machine_pipe = winpipe::machine_pipe(&mc.name);
        let deadline = Instant::now() + API_WAIT;
        let mut wait = Duration::from_millis(250);
        let main = loop {
            match start_server(&uri, mc, ListenAddr::Pipe(machine_pipe.clone()), true).await {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    tracing::info!("machine {}: API pipe not up yet: {e}", mc.name);
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(3));
                }
                Err(e) => return Err(e),
            }
        };
        // SSH works by now, so a failure here means the pipe is someone else's. Creating
        // it as the first instance fails when another process holds it, so even a race
        // with Docker Desktop never takes the pipe from it.
        let docker = if winpipe::pipe_exists(DOCKER_ENGINE_PIPE) {
            tracing::info!("{DOCKER_ENGINE_PIPE} is in use by another process; not serving it");
            None
        } else {
            let addr = ListenAddr::Pipe(DOCKER_ENGINE_PIPE.to_string());
            match start_server(&uri, mc, addr, false).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::info!("{DOCKER_ENGINE_PIPE} not served: {e}");
                    None
                }
            }
        };
        let mut served = vec![machine_pipe];
        if docker.is_some() {
            served.push(DOCKER_ENGINE_PIPE.to_string());
        }
        crate::write_atomic(
            &record,
            record_text(std::process::id(), &served).as_bytes(),
            0o600,
        )?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|v| *v).await;
        };
        let main = main.serve(stopped(rx.clone()));
        let docker = async {
            match docker {
                Some(d) => d.serve(stopped(rx.clone())).await.map(|_| ()),
                None => Ok(()),
            }
        };
        let trigger = async {
            shutdown.await;
            let _ = tx.send(true);
        };
        let (a, b, ()) = tokio::join!(main, docker, trigger);
        if std::fs::read_to_string(&record)
            .ok()
            .and_then(|t| parse_record(&t, std::process::id()))
            .is_some()
        {
            crate::remove_quiet(&record);
        }
        a?;
        b?;
        Ok(())
    }

    /// Wait for the watcher to serve the machine's pipe; the pipe Docker clients should use,
    /// or `None` (with a warning) when it did not come up, since the machine is usable anyway.
    pub fn start(dirs: &Dirs, mc: &MachineConfig) -> Result<Option<PathBuf>> {
        let got = wait_served(dirs, &mc.name, API_WAIT);
        if got.is_none() {
            tracing::warn!(
                "machine {}: the API pipe {} did not come up; see {}",
                mc.name,
                winpipe::machine_pipe(&mc.name),
                crate::api::watcher_log(dirs, &mc.name).display()
            );
        }
        Ok(got.map(PathBuf::from))
    }

    /// The pipe to report once the current watcher's record is written and its first pipe
    /// answers.
    pub fn wait_served(dirs: &Dirs, name: &str, timeout: Duration) -> Option<String> {
        let record = served_file(dirs, name);
        let deadline = Instant::now() + timeout;
        loop {
            let watcher = std::fs::read_to_string(dirs.watcher_pid_file(name))
                .ok()
                .and_then(|p| p.trim().parse::<u32>().ok());
            let served =
                watcher.and_then(|pid| parse_record(&std::fs::read_to_string(&record).ok()?, pid));
            if let Some(served) = served {
                if winpipe::pipe_exists(&served[0]) {
                    return forward_pipe(&served).map(String::from);
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn record_round_trip_and_stale_records() {
        let pipes = s(&[r"\\.\pipe\podman-m", DOCKER_ENGINE_PIPE]);
        let t = record_text(4242, &pipes);
        assert_eq!(
            t,
            "4242\n\\\\.\\pipe\\podman-m\n\\\\.\\pipe\\docker_engine\n"
        );
        assert_eq!(parse_record(&t, 4242), Some(pipes));
        // Another watcher's record (the previous run's) is ignored.
        assert_eq!(parse_record(&t, 4243), None);
        assert_eq!(parse_record("4242\n", 4242), None);
        assert_eq!(parse_record("", 4242), None);
        assert_eq!(parse_record("x\n\\\\.\\pipe\\a\n", 4242), None);
    }

    /// Under Windows (or Wine): `start` reports a pipe only once the current watcher's
    /// record names it and it answers.
    #[cfg(windows)]
    #[test]
    fn start_waits_for_the_current_watchers_pipe() {
        use std::time::Duration;
        use windows_sys::Win32::Foundation::{CloseHandle, INVALID_HANDLE_VALUE};
        use windows_sys::Win32::System::Pipes::CreateNamedPipeW;
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            config: t.path().join("c"),
            data: t.path().join("d"),
            global_data: t.path().join("g"),
            runtime: t.path().to_path_buf(),
        };
        let name = format!("e2e-{}", std::process::id());
        let pipe = winpipe::machine_pipe(&name);
        let short = Duration::from_millis(300);
        std::fs::write(dirs.watcher_pid_file(&name), "4242").unwrap();
        // No record yet; then a stale one of an earlier watcher.
        assert_eq!(wait_served(&dirs, &name, short), None);
        std::fs::write(
            served_file(&dirs, &name),
            record_text(4141, &[pipe.clone()]),
        )
        .unwrap();
        assert_eq!(wait_served(&dirs, &name, short), None);
        // The current watcher's record, but its pipe does not answer.
        std::fs::write(
            served_file(&dirs, &name),
            record_text(4242, &[pipe.clone()]),
        )
        .unwrap();
        assert_eq!(wait_served(&dirs, &name, short), None);
        let w: Vec<u16> = pipe.encode_utf16().chain(std::iter::once(0)).collect();
        // SAFETY: NUL-terminated name; PIPE_ACCESS_DUPLEX (3), byte mode, one instance.
        let h = unsafe { CreateNamedPipeW(w.as_ptr(), 3, 0, 1, 4096, 4096, 0, std::ptr::null()) };
        assert_ne!(h, INVALID_HANDLE_VALUE);
        assert_eq!(wait_served(&dirs, &name, short), Some(pipe));
        // SAFETY: closing the handle we created.
        unsafe { CloseHandle(h) };
    }

    #[test]
    fn inspect_names_the_pipe_on_windows_only() {
        assert_eq!(
            inspect_pipe("podman-machine-default", true),
            serde_json::json!({"Path": r"\\.\pipe\podman-machine-default"})
        );
        assert_eq!(inspect_pipe("m", true)["Path"], r"\\.\pipe\podman-m");
        assert!(inspect_pipe("m", false).is_null());
    }

    #[test]
    fn docker_engine_is_reported_when_ours() {
        let both = s(&[r"\\.\pipe\podman-m", DOCKER_ENGINE_PIPE]);
        assert_eq!(forward_pipe(&both), Some(DOCKER_ENGINE_PIPE));
        let own = s(&[r"\\.\pipe\podman-m"]);
        assert_eq!(forward_pipe(&own), Some(r"\\.\pipe\podman-m"));
        assert_eq!(forward_pipe(&[]), None);
    }

    #[test]
    fn start_messages_are_podmans() {
        assert_eq!(
            docker_host_lines(DOCKER_ENGINE_PIPE),
            "API forwarding listening on: npipe:////./pipe/docker_engine\n\
             Docker API clients default to this address. You do not need to set DOCKER_HOST.\n"
        );
        let m = docker_host_lines(&winpipe::machine_pipe("podman-machine-default"));
        assert_eq!(
            m,
            "API forwarding listening on: npipe:////./pipe/podman-machine-default\n\n\
             Another process was listening on the default Docker API socket address.\n\
             You can still connect Docker API clients by setting DOCKER_HOST using the\n\
             following command in your terminal session:\n\n        \
             $Env:DOCKER_HOST=\"npipe:////./pipe/podman-machine-default\""
        );
    }
}
