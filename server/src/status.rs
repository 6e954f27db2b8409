//! The state file a running server keeps beside its socket (rewritten every second,
//! atomically), and the queries built on it: is a server running there, list them, stop one.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::listener::ListenAddr;
use crate::paths::{runtime_dir, ServerFiles};
use crate::ports::ForwardedPort;

/// What `system service --status` shows of one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    /// `unix:///…` or `npipe:////./pipe/…`.
    pub socket: String,
    /// Name of the connection served, when it came from the registry.
    pub connection: Option<String>,
    /// The connection's URL (never contains a password).
    pub uri: String,
    /// `connected` or `reconnecting`.
    pub state: String,
    /// Seconds since the Unix epoch.
    pub started: u64,
    pub connected_since: Option<u64>,
    pub last_error: Option<String>,
    pub sessions: usize,
    pub open_channels: usize,
    pub channels_total: u64,
    pub reconnects: u64,
    /// Idle seconds after which the server exits (0 = never).
    pub idle_timeout: u64,
    pub forwarded_ports: Vec<ForwardedPortStatus>,
    /// When this file was written (seconds since the epoch).
    pub updated: u64,
}

/// [`ForwardedPort`] as stored (owned, deserializable).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ForwardedPortStatus {
    pub container: String,
    pub name: String,
    pub local: String,
    pub remote: String,
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<ForwardedPort> for ForwardedPortStatus {
    fn from(p: ForwardedPort) -> Self {
        ForwardedPortStatus {
            container: p.container,
            name: p.name,
            local: p.local,
            remote: p.remote,
            protocol: p.protocol,
            error: p.error,
        }
    }
}

impl Status {
    pub fn uptime(&self) -> Duration {
        Duration::from_secs(now_secs().saturating_sub(self.started))
    }

    pub fn listen_addr(&self) -> Option<ListenAddr> {
        ListenAddr::parse(&self.socket).ok()
    }
}

pub(crate) fn now_secs() -> u64 {
    secs(SystemTime::now())
}

pub(crate) fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes `text` to `path` through a temporary file in the same directory, owner-only.
pub(crate) fn write_atomic(path: &Path, text: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".state")
        .tempfile_in(dir)
        .map_err(|e| Error::file(dir, e))?;
    tmp.write_all(text)
        .map_err(|e| Error::file(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::file(path, e.error))?;
    Ok(())
}

/// The status of the server at `addr`, if one is running there: its state file names a live
/// process and the address accepts connections. Left-over files of a dead server are removed.
pub async fn query(addr: &ListenAddr) -> Result<Option<Status>> {
    let files = ServerFiles::for_addr(addr);
    let text = match std::fs::read(&files.state) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::file(&files.state, e)),
    };
    let Ok(status) = serde_json::from_slice::<Status>(&text) else {
        return Ok(None);
    };
    if !process_alive(status.pid) {
        remove_leftovers(addr, &files);
        return Ok(None);
    }
    if !addr.is_live().await {
        return Ok(None);
    }
    Ok(Some(status))
}

fn remove_leftovers(addr: &ListenAddr, files: &ServerFiles) {
    let _ = std::fs::remove_file(&files.state);
    let _ = std::fs::remove_file(&files.pid);
    if let ListenAddr::Unix(p) = addr {
        let _ = std::fs::remove_file(p);
    }
}

/// Every running server whose state is in the runtime directory (the default sockets).
pub async fn list() -> Result<Vec<Status>> {
    let dir = runtime_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::file(&dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(_stem) = name.strip_suffix(".state.json") else {
            continue;
        };
        let Ok(text) = std::fs::read(entry.path()) else {
            continue;
        };
        let Ok(s) = serde_json::from_slice::<Status>(&text) else {
            continue;
        };
        if let Some(addr) = s.listen_addr() {
            if let Some(live) = query(&addr).await? {
                out.push(live);
            }
        }
    }
    out.sort_by(|a, b| a.socket.cmp(&b.socket));
    Ok(out)
}

/// Asks the server at `addr` to stop (SIGTERM; on Windows it is terminated) and waits up to `wait` for it to go.
pub async fn stop(addr: &ListenAddr, wait: Duration) -> Result<u32> {
    let Some(status) = query(addr).await? else {
        return Err(Error::NotRunning(addr.to_string()));
    };
    terminate(status.pid)?;
    let deadline = tokio::time::Instant::now() + wait;
    while process_alive(status.pid) {
        if tokio::time::Instant::now() > deadline {
            return Err(Error::Start {
                reason: format!(
                    "the server (pid {}) on {addr} did not stop within {} s",
                    status.pid,
                    wait.as_secs()
                ),
                log: String::new(),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A terminated Windows process had no chance to remove its files.
    #[cfg(windows)]
    remove_leftovers(addr, &ServerFiles::for_addr(addr));
    Ok(status.pid)
}

#[cfg(unix)]
pub(crate) fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(windows)]
pub(crate) fn process_alive(pid: u32) -> bool {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    };
    // GetExitCodeProcess's "still running" value.
    const STILL_ACTIVE: u32 = 259;
    // SAFETY: opening a process by id for a query; the handle is closed below.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if h.is_null() {
        return false;
    }
    let mut code = 0u32;
    // SAFETY: `h` is a valid process handle and `code` a valid out pointer.
    let ok = unsafe { GetExitCodeProcess(h, &mut code) };
    // SAFETY: closing the handle opened above.
    unsafe { CloseHandle(h) };
    ok != 0 && code == STILL_ACTIVE
}

#[cfg(unix)]
fn terminate(pid: u32) -> Result<()> {
    let p = libc::pid_t::try_from(pid).map_err(|_| Error::Usage(format!("bad pid {pid}")))?;
    // SAFETY: plain syscall on a pid read from our own state file.
    if unsafe { libc::kill(p, libc::SIGTERM) } != 0 {
        return Err(Error::Usage(format!(
            "cannot stop the server (pid {pid}): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

#[cfg(windows)]
fn terminate(pid: u32) -> Result<()> {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::{OpenProcess, TerminateProcess, PROCESS_TERMINATE};
    // A background server has no window and no console, so `taskkill` without /F cannot ask
    // it to close; it holds no state that needs saving (the caller removes its files).
    // SAFETY: opening a process by id read from our own state file; closed below.
    let h = unsafe { OpenProcess(PROCESS_TERMINATE, 0, pid) };
    if h.is_null() {
        return Err(Error::Usage(format!(
            "cannot stop the server (pid {pid}): {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: `h` is a valid process handle with PROCESS_TERMINATE access.
    let ok = unsafe { TerminateProcess(h, 1) };
    let err = std::io::Error::last_os_error();
    // SAFETY: closing the handle opened above.
    unsafe { CloseHandle(h) };
    if ok == 0 {
        return Err(Error::Usage(format!(
            "cannot stop the server (pid {pid}): {err}"
        )));
    }
    Ok(())
}

/// The last `max` bytes of a log file, for error messages.
pub(crate) fn log_tail(path: &PathBuf, max: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    String::from_utf8_lossy(&text[start..]).trim().to_string()
}

/// `1h2m3s`-style durations as podman prints them.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}
