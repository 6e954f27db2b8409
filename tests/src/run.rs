//! Running child processes: one-shot commands with a timeout ([`run`]) and
//! long-lived daemons that must die with the test process ([`spawn_daemon`]).

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished command did.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code; a death by signal N is reported as `128 + N`, like a shell does.
    pub status: i32,
    /// Everything written to stdout, lossily decoded as UTF-8.
    pub stdout: String,
    /// Everything written to stderr, lossily decoded as UTF-8.
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    /// The command line, for failure messages.
    pub command: String,
}

impl Output {
    /// `true` if the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// Panics (failing the test) with the full output unless the exit status is 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        if !self.success() {
            panic!("command was expected to succeed but did not:\n{self}");
        }
        self
    }

    /// Panics (failing the test) with the full output if the exit status is 0.
    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        if self.success() {
            panic!("command was expected to fail but succeeded:\n{self}");
        }
        self
    }

    /// Panics unless stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        if !self.stdout.contains(needle) {
            panic!("stdout does not contain {needle:?}:\n{self}");
        }
        self
    }

    /// Panics unless stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        if !self.stderr.contains(needle) {
            panic!("stderr does not contain {needle:?}:\n{self}");
        }
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(
            f,
            "--- exit status {} after {} ms",
            self.status,
            self.elapsed.as_millis()
        )?;
        writeln!(f, "--- stdout:\n{}", self.stdout)?;
        write!(f, "--- stderr:\n{}", self.stderr)
    }
}

/// A shell-like rendering of a command line (program and arguments, not the
/// environment), for messages.
pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![quote(cmd.get_program())];
    parts.extend(cmd.get_args().map(quote));
    parts.join(" ")
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%{}".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` to completion, feeding it `stdin` (or `/dev/null` when `None`),
/// and captures its output.
///
/// The child runs in a new session (`setsid`): it has no controlling
/// terminal, so a program that would prompt on `/dev/tty` sees none — the
/// same as in CI — instead of stopping for the developer's terminal. It is
/// killed if the test process dies.
///
/// Fails the test (panics) if the command cannot be started or does not
/// finish within `timeout`; the message contains whatever it printed so far.
#[track_caller]
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> Output {
    match try_run(cmd, stdin, timeout) {
        Ok(out) => out,
        Err(e) => panic!("{e}"),
    }
}

/// Like [`run`], but returns failures to start or to finish in time as an
/// error message instead of panicking.
pub fn try_run(
    cmd: &mut Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> Result<Output, String> {
    let command = describe(cmd);
    let parent = std::process::id();
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // SAFETY: the hook runs between fork and exec and only makes
    // async-signal-safe system calls.
    unsafe {
        cmd.pre_exec(move || {
            // Fails with EPERM if this Command was already run once (the hook
            // is then installed twice); the first call did the job.
            libc::setsid();
            die_with_parent(parent, libc::SIGKILL)
        });
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let pid = child.id() as libc::pid_t;

    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut expected = 0;
    if let Some(pipe) = child.stdout.take() {
        drain(pipe, stdout.clone(), done_tx.clone());
        expected += 1;
    }
    if let Some(pipe) = child.stderr.take() {
        drain(pipe, stderr.clone(), done_tx.clone());
        expected += 1;
    }
    drop(done_tx);
    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        let data = data.to_vec();
        // A separate thread so that a child that does not read its input
        // cannot deadlock us; a write error (EPIPE) just means it stopped reading.
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }

    let (status_tx, status_rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = status_tx.send(child.wait());
    });
    let snapshot = |buf: &Arc<Mutex<Vec<u8>>>| {
        let guard = buf.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&guard).into_owned()
    };
    let status = match status_rx.recv_timeout(timeout) {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => return Err(format!("waiting for `{command}` failed: {e}")),
        Err(_) => {
            // SAFETY: plain syscall; the child leads its own process group
            // (setsid), so this reaches it and anything it started.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = status_rx.recv_timeout(Duration::from_secs(5));
            thread::sleep(Duration::from_millis(50));
            return Err(format!(
                "command timed out after {} s and was killed:\n$ {command}\n--- stdout so far:\n{}\n--- stderr so far:\n{}",
                timeout.as_secs_f32(),
                snapshot(&stdout),
                snapshot(&stderr)
            ));
        }
    };
    let elapsed = start.elapsed();

    // The pipes reach EOF when every process holding them has exited. A
    // descendant left running in the child's session would keep them open
    // forever; give it a moment, then kill the session's process group.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut finished = 0;
    let mut stragglers = false;
    while finished < expected {
        match done_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(()) => finished += 1,
            Err(_) => {
                stragglers = true;
                // SAFETY: plain syscall on the child's process group.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                break;
            }
        }
    }
    let mut stderr_text = snapshot(&stderr);
    if stragglers {
        stderr_text.push_str("\n[e2e: a descendant kept the output pipes open after exit; its process group was killed]\n");
    }
    Ok(Output {
        status: exit_code(status),
        stdout: snapshot(&stdout),
        stderr: stderr_text,
        elapsed,
        command,
    })
}

fn drain<R: Read + Send + 'static>(mut pipe: R, buf: Arc<Mutex<Vec<u8>>>, done: mpsc::Sender<()>) {
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
}

fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => -1,
    }
}

/// In a freshly forked child: ask the kernel to send `signal` when the
/// parent goes away, and bail out if that already happened.
///
/// Note: "parent" is the *thread* that forked, not the process — which is
/// why daemons are spawned from a thread that never exits (see
/// [`spawn_daemon`]), while [`run`] can use the calling thread because it
/// blocks until the child has exited.
fn die_with_parent(parent: u32, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: prctl/getppid are async-signal-safe syscalls.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        // The parent may have died between fork and prctl; then we have
        // been re-parented and nobody would ever signal us.
        if libc::getppid() as u32 != parent {
            return Err(io::Error::other("parent exited before exec"));
        }
    }
    Ok(())
}

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Starts a long-lived background process that is terminated (SIGTERM)
/// when the test process exits, however it exits.
///
/// `PR_SET_PDEATHSIG` fires when the forking *thread* exits, and libtest runs
/// each test on its own short-lived thread, so the fork happens on one
/// dedicated thread that lives as long as the process. The child also gets
/// its own session, so a Ctrl-C in the developer's terminal reaches only the
/// test process (and the child then dies with it).
///
/// The caller owns the returned [`Child`] and should kill and wait for it
/// when done.
pub fn spawn_daemon(mut cmd: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnJob>> = OnceLock::new();
    let parent = std::process::id();
    // SAFETY: only async-signal-safe syscalls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            die_with_parent(parent, libc::SIGTERM)
        });
    }
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        let started = thread::Builder::new()
            .name("e2e-daemon-spawner".into())
            .spawn(move || {
                // The sender lives in a static, so this loop never ends; the
                // park loop is only a guard: this thread must never exit.
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                loop {
                    thread::park();
                }
            });
        if let Err(e) = started {
            // Without the thread every job's reply channel is dropped, which
            // surfaces below as an error for each spawn.
            eprintln!("e2e: cannot start the daemon spawner thread: {e}");
        }
        tx
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("the daemon spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the daemon spawner thread is gone"))?
}

/// Sends SIGTERM to a daemon, waits up to `grace` for it to exit, then
/// SIGKILLs it. Never fails: used on cleanup paths.
pub fn stop_daemon(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: plain syscall; the pid is our own not-yet-reaped child, so it
    // cannot have been reused.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
