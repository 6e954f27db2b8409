//! The per-machine lock (`<name>.lock`, as podman): every operation that changes a machine
//! holds it, so two concurrent `start`s end with one VM and one clear message.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::{path_ctx, Error, IoContext, Result};

/// Held until dropped.
pub struct MachineLock {
    guard: Option<fd_lock::RwLockWriteGuard<'static, File>>,
    lock: *mut fd_lock::RwLock<File>,
}

// SAFETY: the raw pointer is only the owner of the boxed lock the guard borrows; it is never
// dereferenced while the guard lives and is freed once, in Drop.
unsafe impl Send for MachineLock {}

impl Drop for MachineLock {
    fn drop(&mut self) {
        self.guard.take();
        // SAFETY: produced by Box::into_raw in `acquire`; the guard borrowing it is gone.
        unsafe { drop(Box::from_raw(self.lock)) };
    }
}

impl std::fmt::Debug for MachineLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MachineLock")
    }
}

/// Take the lock, waiting up to `wait` for another holder; `Duration::ZERO` = try once.
/// `busy` builds the error returned when it stays held.
pub fn acquire(path: &Path, wait: Duration, busy: impl FnOnce() -> Error) -> Result<MachineLock> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).ctx(path_ctx("create directory", d))?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .ctx(path_ctx("open lock file", path))?;
    let raw = Box::into_raw(Box::new(fd_lock::RwLock::new(file)));
    let deadline = Instant::now() + wait;
    loop {
        // SAFETY: `raw` stays valid until MachineLock's Drop (or the error path below), and the
        // 'static guard never outlives it because Drop releases the guard first.
        let lock: &'static mut fd_lock::RwLock<File> = unsafe { &mut *raw };
        match lock.try_write() {
            Ok(guard) => {
                return Ok(MachineLock {
                    guard: Some(guard),
                    lock: raw,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    // SAFETY: no guard was created from it.
                    unsafe { drop(Box::from_raw(raw)) };
                    return Err(busy());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                // SAFETY: no guard was created from it.
                unsafe { drop(Box::from_raw(raw)) };
                return Err(Error::Io {
                    context: format!("cannot lock {}", path.display()),
                    source: e,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.lock");
        let first = acquire(&p, Duration::ZERO, || Error::Invalid("busy".into())).unwrap();
        let second = acquire(&p, Duration::from_millis(250), || {
            Error::Invalid("busy".into())
        });
        assert!(matches!(second, Err(Error::Invalid(m)) if m == "busy"));
        drop(first);
        acquire(&p, Duration::ZERO, || Error::Invalid("busy".into())).unwrap();
    }
}
