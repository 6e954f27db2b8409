//! Keeping the guest clock right. A guest left behind by host sleep breaks TLS and tokens;
//! Linux's monotonic clock stops during suspend while the wall clock does not, so a gap between
//! the two means the host resumed and the guest must be set from the host. `start` sets it too,
//! and the watcher also compares the guest's clock now and then, catching any other drift.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bindings::ssh::session::SshSession;

use crate::{Error, Result};

/// Below this, differences are scheduling noise.
pub const THRESHOLD: Duration = Duration::from_secs(2);

/// Notices host clock jumps (resume from sleep, wall clock set).
pub struct JumpDetector {
    wall: SystemTime,
    mono: Instant,
}

impl Default for JumpDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl JumpDetector {
    pub fn new() -> JumpDetector {
        JumpDetector {
            wall: SystemTime::now(),
            mono: Instant::now(),
        }
    }

    /// The size of the jump since the last call, if any.
    pub fn check(&mut self) -> Option<Duration> {
        self.check_at(SystemTime::now(), Instant::now())
    }

    pub fn check_at(&mut self, wall: SystemTime, mono: Instant) -> Option<Duration> {
        let dm = mono.saturating_duration_since(self.mono);
        let jump = match wall.duration_since(self.wall) {
            Ok(dw) if dw > dm => dw - dm,
            Ok(dw) => dm - dw,
            Err(back) => back.duration() + dm,
        };
        self.wall = wall;
        self.mono = mono;
        (jump > THRESHOLD).then_some(jump)
    }
}

fn epoch_now() -> (u64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.subsec_millis())
}

/// Set the guest's clock from the host's (root or passwordless sudo in the guest).
pub async fn set_guest_clock(s: &SshSession, as_root: bool) -> Result<()> {
    let (code, _, err) = s.exec(&set_clock_command(as_root)).await?;
    clock_result(code, &err)
}

/// The guest command that sets its clock to the host's time of now (build it right before
/// running it).
pub fn set_clock_command(as_root: bool) -> String {
    let (secs, ms) = epoch_now();
    let sudo = if as_root { "" } else { "sudo -n " };
    format!("{sudo}date -u -s @{secs}.{ms:03} >/dev/null")
}

/// The outcome of [`set_clock_command`] from its exit code and stderr.
pub fn clock_result(code: u32, err: &[u8]) -> Result<()> {
    if code != 0 {
        return Err(Error::Provider(format!(
            "cannot set the guest clock: {}",
            String::from_utf8_lossy(err).trim()
        )));
    }
    Ok(())
}

/// Guest clock minus host clock, in seconds (rounded: SSH round trips add some noise).
pub async fn guest_offset(s: &SshSession) -> Result<i64> {
    let (code, out, err) = s.exec("date -u +%s").await?;
    if code != 0 {
        return Err(Error::Provider(format!(
            "cannot read the guest clock: {}",
            String::from_utf8_lossy(&err).trim()
        )));
    }
    let guest: i64 = String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .map_err(|_| Error::Provider("unreadable guest clock".into()))?;
    Ok(guest - epoch_now().0 as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_clocks_are_not_a_jump_but_a_resume_is() {
        let w = SystemTime::now();
        let m = Instant::now();
        let mut d = JumpDetector { wall: w, mono: m };
        assert_eq!(
            d.check_at(w + Duration::from_secs(1), m + Duration::from_secs(1)),
            None
        );
        // Suspended for an hour: wall moved, monotonic did not.
        let j = d.check_at(w + Duration::from_secs(3602), m + Duration::from_secs(2));
        assert_eq!(j, Some(Duration::from_secs(3600)));
        // Wall clock set backwards.
        let j = d.check_at(w + Duration::from_secs(3502), m + Duration::from_secs(3));
        assert_eq!(j, Some(Duration::from_secs(101)));
    }
}
