//! The local terminal while a container or exec session owns it: raw mode that is always
//! restored (normal exit, error, panic, fatal signal), the window size and its changes,
//! podman's detach key sequences, and the signals we catch to proxy or to clean up.

use std::io::IsTerminal;
use std::sync::Once;

use tokio::sync::mpsc;

/// podman's default detach sequence (containers.conf `detach_keys`).
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Raw mode of the local terminal for as long as this value lives.
pub struct RawMode {
    active: bool,
}

impl RawMode {
    /// Switch the terminal to raw mode if stdin is one (otherwise do nothing). Keys such as
    /// Ctrl-C then reach the container as bytes instead of becoming signals here.
    pub fn enable() -> std::io::Result<RawMode> {
        if !stdin_is_terminal() {
            return Ok(RawMode { active: false });
        }
        install_panic_hook();
        crossterm::terminal::enable_raw_mode()?;
        Ok(RawMode { active: true })
    }

    /// No raw mode (stdin stays as it is).
    pub fn none() -> RawMode {
        RawMode { active: false }
    }

    pub fn is_active(&self) -> bool {
        self.active
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.active {
            restore();
        }
    }
}

/// Put the terminal back as it was before raw mode; harmless if it is not raw.
pub fn restore() {
    if let Err(e) = crossterm::terminal::disable_raw_mode() {
        tracing::debug!("restoring the terminal: {e}");
    }
}

/// A panic must not leave the user's shell in raw mode (no echo, no line editing): restore
/// the terminal before the panic message is printed.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// The terminal size as (rows, columns), if there is a terminal that knows it.
pub fn size() -> Option<(u16, u16)> {
    match crossterm::terminal::size() {
        Ok((cols, rows)) if cols > 0 && rows > 0 => Some((rows, cols)),
        _ => None,
    }
}

/// Notifications that the terminal window changed size: SIGWINCH on unix; elsewhere (no
/// such signal) a cheap periodic comparison of the size.
pub fn window_changes() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel(4);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::window_change()) {
            Ok(mut s) => {
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        // A full channel already holds a pending notification.
                        let _ = tx.try_send(());
                    }
                });
            }
            Err(e) => tracing::debug!("cannot watch SIGWINCH: {e}"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let mut last = size();
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                let now = size();
                if now != last {
                    last = now;
                    if tx.send(()).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
    rx
}

/// A signal we caught: podman's name for it (what `kill?signal=` takes) and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caught {
    pub name: &'static str,
    pub number: i32,
}

/// The signals a client forwards to its container with `--sig-proxy`. SIGCHLD, SIGPIPE and
/// SIGURG concern the client itself (podman skips them too), SIGWINCH is a resize, and the
/// job-control signals keep their usual meaning for the local shell.
#[cfg(unix)]
const PROXIED: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
];

/// The signals that end the client by default: caught while the terminal is raw so that it
/// can be restored before the client dies.
#[cfg(unix)]
const FATAL: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("TERM", libc::SIGTERM),
];

/// Catch signals from now on: the proxied set (`proxy`) and/or the fatal ones (`fatal`).
/// Returns `None` if nothing is to be caught.
pub fn catch_signals(proxy: bool, fatal: bool) -> Option<mpsc::Receiver<Caught>> {
    if !proxy && !fatal {
        return None;
    }
    let (tx, rx) = mpsc::channel(64);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut set: Vec<(&'static str, i32)> = Vec::new();
        if proxy {
            set.extend_from_slice(PROXIED);
        }
        if fatal {
            for s in FATAL {
                if !set.contains(s) {
                    set.push(*s);
                }
            }
        }
        for (name, number) in set {
            match signal(SignalKind::from_raw(number)) {
                Ok(mut s) => {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        while s.recv().await.is_some() {
                            if tx.send(Caught { name, number }).await.is_err() {
                                return;
                            }
                        }
                    });
                }
                Err(e) => tracing::debug!("cannot catch SIG{name}: {e}"),
            }
        }
    }
    #[cfg(not(unix))]
    {
        // The console's Ctrl-C is the only signal-like event there is.
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if tx
                    .send(Caught {
                        name: "INT",
                        number: 2,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }
    Some(rx)
}

/// Die of `sig` as if it had not been caught (the parent shell sees the usual status), after
/// putting the terminal back.
pub fn die_of(sig: Caught) -> ! {
    restore();
    #[cfg(unix)]
    // SAFETY: plain libc calls; restoring the default action and raising the signal ends the
    // process the way an uncaught signal would.
    unsafe {
        libc::signal(sig.number, libc::SIG_DFL);
        libc::raise(sig.number);
    }
    std::process::exit(128 + sig.number);
}

/// Parse podman's detach key notation: comma-separated keys, each a single character,
/// `ctrl-<c>` for c in a-z @ [ \ ] ^ _, or `DEL`. The empty string disables detaching.
pub fn parse_detach_keys(spec: &str) -> Result<Vec<u8>, String> {
    if spec.is_empty() {
        return Ok(Vec::new());
    }
    let mut codes = Vec::new();
    for key in spec.split(',') {
        let b = key.as_bytes();
        if b.len() == 1 {
            codes.push(b[0]);
            continue;
        }
        if key == "DEL" {
            codes.push(127);
            continue;
        }
        let code = key.strip_prefix("ctrl-").and_then(|c| match c.as_bytes() {
            [c @ b'a'..=b'z'] => Some(c - b'a' + 1),
            [b'@'] => Some(0),
            [b'['] => Some(27),
            [b'\\'] => Some(28),
            [b']'] => Some(29),
            [b'^'] => Some(30),
            [b'_'] => Some(31),
            _ => None,
        });
        match code {
            Some(c) => codes.push(c),
            None => return Err(format!("Unknown character: '{key}'")),
        }
    }
    Ok(codes)
}

/// Finds the detach sequence in a stream of input. Bytes that might begin the sequence are
/// held back until it is clear whether they do: the container never sees a complete detach
/// sequence, and sees every other byte in order.
#[derive(Debug, Clone)]
pub struct DetachMatcher {
    keys: Vec<u8>,
    held: usize,
}

impl DetachMatcher {
    pub fn new(keys: Vec<u8>) -> Self {
        DetachMatcher { keys, held: 0 }
    }

    /// Feed input; bytes to forward are appended to `out`. Returns true when the sequence is
    /// complete (the rest of `input` is dropped: the session is over).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        if self.keys.is_empty() {
            out.extend_from_slice(input);
            return false;
        }
        for &b in input {
            loop {
                if b == self.keys[self.held] {
                    self.held += 1;
                    if self.held == self.keys.len() {
                        self.held = 0;
                        return true;
                    }
                    break;
                }
                if self.held == 0 {
                    out.push(b);
                    break;
                }
                // The held prefix is not followed by the next key: its first byte can no
                // longer start a match; the rest (a prefix of the keys shifted by one) may.
                out.push(self.keys[0]);
                let rest = self.keys[1..self.held].to_vec();
                self.held = 0;
                let mut sub = Vec::new();
                // Re-feeding a shorter run of key bytes cannot complete the sequence (it is
                // shorter than the sequence itself).
                let _ = self.feed(&rest, &mut sub);
                out.extend_from_slice(&sub);
            }
        }
        false
    }

    /// At end of input, the held bytes were not a detach sequence after all.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.keys[..self.held]);
        self.held = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_podmans_notation() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("a,b").unwrap(), b"ab".to_vec());
        assert_eq!(
            parse_detach_keys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,DEL").unwrap(),
            vec![0, 27, 28, 29, 30, 31, 127]
        );
        assert_eq!(parse_detach_keys("").unwrap(), Vec::<u8>::new());
        assert_eq!(
            parse_detach_keys("ctrl-p,foo").unwrap_err(),
            "Unknown character: 'foo'"
        );
        assert!(parse_detach_keys("ctrl-P").is_err());
        assert!(parse_detach_keys("ctrl-p,").is_err());
    }

    fn run(keys: &[u8], chunks: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut m = DetachMatcher::new(keys.to_vec());
        let mut out = Vec::new();
        for c in chunks {
            if m.feed(c, &mut out) {
                return (out, true);
            }
        }
        m.flush(&mut out);
        (out, false)
    }

    #[test]
    fn detects_the_sequence_across_reads() {
        assert_eq!(
            run(&[16, 17], &[b"ab\x10", b"\x11cd"]),
            (b"ab".to_vec(), true)
        );
        assert_eq!(run(&[16, 17], &[b"\x10\x11"]), (vec![], true));
    }

    #[test]
    fn forwards_partial_matches() {
        assert_eq!(
            run(&[16, 17], &[b"a\x10b", b"\x10"]),
            (b"a\x10b\x10".to_vec(), false)
        );
        // A repeated first key: the second one may still start the sequence.
        assert_eq!(run(&[16, 17], &[b"\x10\x10\x11"]), (b"\x10".to_vec(), true));
        assert_eq!(run(b"aab", &[b"aaab"]), (b"a".to_vec(), true));
        assert_eq!(run(b"aab", &[b"aaxb"]), (b"aaxb".to_vec(), false));
        assert_eq!(run(&[], &[b"\x10\x11"]), (b"\x10\x11".to_vec(), false));
    }
}
