//! Tearing the world down: at process exit, and for worlds left behind by
//! test processes that were killed before they could clean up.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, SystemTime};

use crate::run::{stop_daemon, try_run};
use crate::world::direct_podman;

/// Where worlds live: short, because unix socket paths are limited to 108 bytes.
pub(crate) const TMP_PARENT: &str = "/tmp";
/// Prefix of every world directory.
pub(crate) const DIR_PREFIX: &str = "pr-e2e-";
/// A world directory's file naming the pid of the test process owning it.
pub(crate) const OWNER_FILE: &str = "owner.pid";

struct Registry {
    dir: Option<PathBuf>,
    daemons: Vec<(&'static str, Child)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    dir: None,
    daemons: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock cannot leave the registry inconsistent
    // (every update is a single push or take), so poisoning is ignored.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records the world directory and arranges for [`teardown`] to run when the
/// process exits (`exit(3)` runs `atexit` handlers: libtest exits through it
/// both when all tests pass and when some fail).
pub(crate) fn install(dir: &Path) {
    static AT_EXIT: Once = Once::new();
    registry().dir = Some(dir.to_path_buf());
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain extern "C" fn without captured state.
        if unsafe { libc::atexit(at_exit) } != 0 {
            eprintln!(
                "e2e: atexit registration failed; {} will be left behind",
                dir.display()
            );
        }
    });
}

/// Hands a daemon over to be stopped at teardown.
pub(crate) fn add_daemon(name: &'static str, child: Child) {
    registry().daemons.push((name, child));
}

/// The exit status of a registered daemon, if it has exited.
pub(crate) fn daemon_exited(name: &str) -> Option<ExitStatus> {
    let mut reg = registry();
    let (_, child) = reg.daemons.iter_mut().find(|(n, _)| *n == name)?;
    child.try_wait().ok().flatten()
}

extern "C" fn at_exit() {
    // Unwinding out of an extern "C" fn aborts the process; a cleanup
    // failure must not turn a passing run into a crash.
    let _ = std::panic::catch_unwind(teardown);
}

/// Stops every daemon, removes all containers, unmounts what is left under
/// the world directory and deletes it. Idempotent and best-effort: failures
/// are reported on stderr and never panic.
pub(crate) fn teardown() {
    let (dir, mut daemons) = {
        let mut reg = registry();
        (reg.dir.take(), std::mem::take(&mut reg.daemons))
    };
    // sshd first (no new sessions), then the engine; reverse start order.
    while let Some((_, mut child)) = daemons.pop() {
        stop_daemon(&mut child, Duration::from_secs(5));
    }
    let Some(dir) = dir else { return };
    remove_containers(&dir);
    if std::env::var_os("E2E_KEEP").is_some() {
        eprintln!("e2e: E2E_KEEP is set; leaving {}", dir.display());
        return;
    }
    remove_world_dir(&dir);
}

/// Containers run under conmon, which double-forks away from the engine, so
/// they outlive it; and each holds a mount (its /dev/shm) under the world
/// directory. Remove them with a direct (engine-less) podman on the same
/// storage, which works whether or not the engine is still alive.
fn remove_containers(dir: &Path) {
    if !dir.join("containers.conf").exists() {
        return;
    }
    for args in [
        &["pod", "rm", "--all", "--force", "--time", "0"][..],
        &["rm", "--all", "--force", "--time", "0"][..],
    ] {
        let mut cmd = direct_podman(dir);
        cmd.args(args);
        match try_run(&mut cmd, None, Duration::from_secs(60)) {
            Ok(out) if out.success() => {}
            Ok(out) => eprintln!("e2e cleanup: {out}"),
            Err(e) => eprintln!("e2e cleanup: {e}"),
        }
    }
}

pub(crate) fn remove_world_dir(dir: &Path) {
    unmount_under(dir);
    if let Err(e) = fs::remove_dir_all(dir) {
        if e.kind() != io::ErrorKind::NotFound {
            eprintln!("e2e cleanup: cannot remove {}: {e}", dir.display());
        }
    }
}

/// Lazily unmounts everything mounted at or below `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mountinfo(p)))
        .filter(|p| p.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    for p in points {
        let Ok(c) = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()) else {
            continue;
        };
        // SAFETY: plain syscall on a NUL-terminated path.
        if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
            eprintln!(
                "e2e cleanup: umount {}: {}",
                p.display(),
                io::Error::last_os_error()
            );
        }
    }
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes worlds whose test process is gone (killed by a signal or a
/// timeout, so its atexit cleanup never ran). A world whose owner file is
/// missing (being created right now, or written by an older version) is only
/// touched once it is an hour old.
pub(crate) fn sweep_stale() {
    let Ok(entries) = fs::read_dir(TMP_PARENT) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        let dir = entry.path();
        if !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        let stale = match fs::read_to_string(dir.join(OWNER_FILE)) {
            Ok(pid) => match pid.trim().parse::<libc::pid_t>() {
                Ok(pid) => !process_alive(pid),
                Err(_) => older_than(&dir, Duration::from_secs(3600)),
            },
            Err(_) => older_than(&dir, Duration::from_secs(3600)),
        };
        if stale {
            remove_containers(&dir);
            remove_world_dir(&dir);
        }
    }
}

fn process_alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn older_than(dir: &Path, age: Duration) -> bool {
    fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|a| a > age)
}

#[cfg(test)]
mod tests {
    use super::unescape_mountinfo;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape_mountinfo(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape_mountinfo(r"/tmp/x\134y"), r"/tmp/x\y");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert_eq!(unescape_mountinfo(r"/end\04"), r"/end\04");
    }
}
