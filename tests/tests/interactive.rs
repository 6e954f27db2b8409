//! Streams, terminals and signals end to end: `run -it`, `attach`, `exec`, `start -a` against
//! the real engine behind sshd. Terminal tests run our binary inside a real terminal (a
//! detached tmux session on a private tmux server), type into it with `send-keys` and read the
//! screen with `capture-pane`, polling with a bounded deadline.
#![cfg(target_os = "linux")]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use e2e::*;

const T: Duration = Duration::from_secs(90);
/// How long a terminal test waits for something to appear on the screen.
const SCREEN_WAIT: Duration = Duration::from_secs(40);

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

/// Our client over ssh://, with the world's key.
fn ours(w: &World, home: &Home) -> Command {
    let mut c = home.podman_remote();
    c.args(["--url", &w.ssh_url(), "--identity"]).arg(&w.key);
    c
}

/// podman's own remote client over the same ssh:// URL, for comparisons.
fn real(w: &World, home: &Home) -> Command {
    let mut c = w.real_podman(home);
    c.args(["--url", &w.ssh_url(), "--identity"]).arg(&w.key);
    c
}

/// A running container on the engine (`sleep`), removed when dropped.
struct Ctr<'a> {
    w: &'a World,
    name: String,
}

impl<'a> Ctr<'a> {
    fn run_detached(w: &'a World, prefix: &str, args: &[&str]) -> Ctr<'a> {
        let name = unique(prefix);
        let mut a = vec!["run", "-d", "--name", &name];
        a.extend_from_slice(args);
        w.engine(&a);
        Ctr { w, name }
    }

    fn created(w: &'a World, prefix: &str, args: &[&str]) -> Ctr<'a> {
        let name = unique(prefix);
        let mut a = vec!["create", "--name", &name];
        a.extend_from_slice(args);
        w.engine(&a);
        Ctr { w, name }
    }

    fn status(&self) -> String {
        self.w
            .engine(&["inspect", "--format", "{{.State.Status}}", &self.name])
            .stdout
            .trim()
            .to_string()
    }
}

impl Drop for Ctr<'_> {
    fn drop(&mut self) {
        let _ = try_run(
            self.w
                .engine_podman()
                .args(["rm", "-f", "-t", "0", "--ignore", &self.name]),
            None,
            T,
        );
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A command line running our client with the Home's clean environment, for a shell.
fn ours_cmdline(w: &World, home: &Home, args: &[&str]) -> String {
    let mut parts = vec!["env".to_string(), "-i".to_string()];
    for (k, v) in home.env() {
        parts.push(shell_quote(&format!(
            "{}={}",
            k.to_string_lossy(),
            v.to_string_lossy()
        )));
    }
    parts.push("TERM=screen".into());
    parts.push(shell_quote(&podman_remote_bin().to_string_lossy()));
    parts.push("--url".into());
    parts.push(shell_quote(&w.ssh_url()));
    parts.push("--identity".into());
    parts.push(shell_quote(&w.key.to_string_lossy()));
    for a in args {
        parts.push(shell_quote(a));
    }
    parts.join(" ")
}

/// A detached tmux session (100x30) on a tmux server private to this test binary. The shell
/// in it runs our command, then records its exit status and the terminal settings it left
/// behind (`stty -a`) in files, and stays open so that the screen can still be read.
struct Term {
    session: String,
    dir: tempfile::TempDir,
}

fn tmux_socket() -> String {
    format!("e2e-interactive-{}", std::process::id())
}

fn tmux(args: &[&str]) -> Output {
    let mut c = Command::new("tmux");
    c.args(["-L", &tmux_socket()]).args(args);
    run(&mut c, None, Duration::from_secs(20))
}

impl Term {
    fn start(cmdline: &str) -> Term {
        let dir = tempfile::tempdir().expect("temp dir");
        let session = unique("term");
        let exit = dir.path().join("exit");
        let stty = dir.path().join("stty");
        let script = format!(
            "{cmdline}; echo $? > {}.tmp; stty -a > {} 2>&1; mv {}.tmp {}; exec sleep 600",
            exit.display(),
            stty.display(),
            exit.display(),
            exit.display()
        );
        tmux(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "100",
            "-y",
            "30",
            "sh",
            "-c",
            &script,
        ])
        .assert_success();
        Term { session, dir }
    }

    fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", &self.session];
        a.extend_from_slice(keys);
        tmux(&a).assert_success();
    }

    /// Type a line of text (literally) and press Enter.
    fn line(&self, text: &str) {
        tmux(&["send-keys", "-t", &self.session, "-l", text]).assert_success();
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.session]).stdout
    }

    /// Wait until some line of the screen satisfies `pred`.
    #[track_caller]
    fn wait_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SCREEN_WAIT;
        loop {
            let screen = self.screen();
            if screen.lines().any(|l| pred(l.trim_end())) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what} on the terminal; screen:\n{screen}");
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    #[track_caller]
    fn wait_exact(&self, line: &str) -> String {
        self.wait_line(&format!("a line {line:?}"), |l| l == line)
    }

    /// Wait for the shell prompt of the busybox container (`/ # ` at the end of the screen).
    #[track_caller]
    fn wait_prompt_count(&self, n: usize) -> String {
        let deadline = Instant::now() + SCREEN_WAIT;
        loop {
            let screen = self.screen();
            if screen.lines().filter(|l| l.starts_with("/ #")).count() >= n {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for prompt #{n}; screen:\n{screen}");
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn exit_file(&self) -> PathBuf {
        self.dir.path().join("exit")
    }

    /// Wait until our command has exited; returns its exit status.
    #[track_caller]
    fn wait_exit(&self) -> i32 {
        let deadline = Instant::now() + SCREEN_WAIT;
        loop {
            if let Ok(text) = fs::read_to_string(self.exit_file()) {
                return text
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("bad exit file {text:?}"));
            }
            if Instant::now() > deadline {
                panic!(
                    "our command did not exit in time; screen:\n{}",
                    self.screen()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn exited(&self) -> bool {
        self.exit_file().exists()
    }

    /// `stty -a` of the terminal after our command exited.
    fn stty_after(&self) -> String {
        fs::read_to_string(self.dir.path().join("stty")).unwrap_or_default()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let mut c = Command::new("tmux");
        c.args(["-L", &tmux_socket(), "kill-session", "-t", &self.session]);
        let _ = try_run(&mut c, None, Duration::from_secs(20));
    }
}

fn has_flag(stty: &str, flag: &str) -> bool {
    stty.split_whitespace().any(|w| w == flag)
}

#[test]
fn run_it_shell_types_computes_exits_with_its_code_and_restores_the_terminal() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("it-shell");
    let term = Term::start(&ours_cmdline(
        w,
        &home,
        &["run", "-it", "--rm", "--name", &name, &w.image, "sh"],
    ));
    term.wait_prompt_count(1);
    term.line("echo $((6*7))");
    term.wait_exact("42");
    term.line("exit 3");
    assert_eq!(term.wait_exit(), 3, "screen:\n{}", term.screen());
    let stty = term.stty_after();
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            has_flag(&stty, flag),
            "terminal not restored ({flag} missing):\n{stty}"
        );
    }
    // --rm: the container is gone.
    let ps = w.engine(&["ps", "-a", "--filter", &format!("name={name}"), "-q"]);
    assert_eq!(ps.stdout.trim(), "", "{ps}");
}

#[test]
fn run_it_follows_resizes_and_ctrl_c_interrupts_the_foreground_process() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("it-resize");
    let term = Term::start(&ours_cmdline(
        w,
        &home,
        &["run", "-it", "--rm", "--name", &name, &w.image, "sh"],
    ));
    term.wait_prompt_count(1);
    term.line("stty size");
    term.wait_exact("30 100");

    tmux(&[
        "resize-window",
        "-t",
        &term.session,
        "-x",
        "120",
        "-y",
        "40",
    ])
    .assert_success();
    // The resize reaches the container asynchronously: ask until it shows the new size.
    let deadline = Instant::now() + SCREEN_WAIT;
    loop {
        term.line("stty size");
        thread::sleep(Duration::from_millis(300));
        if term.screen().lines().any(|l| l.trim_end() == "40 120") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the container never saw 40x120:\n{}",
            term.screen()
        );
    }

    // With a TTY, Ctrl-C is a byte for the container's terminal: it interrupts the shell's
    // foreground sleep and the shell (and our client) go on.
    term.line("sleep 100");
    term.wait_line("the sleep command echoed", |l| l.ends_with("sleep 100"));
    term.keys(&["C-c"]);
    term.line("echo after-$((2+3))");
    term.wait_exact("after-5");
    assert!(!term.exited(), "our client must survive Ctrl-C");
    term.line("exit");
    assert_eq!(term.wait_exit(), 0, "screen:\n{}", term.screen());
}

#[test]
fn detach_with_ctrl_p_ctrl_q_then_attach_again() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("it-detach");
    let _cleanup = Ctr {
        w,
        name: name.clone(),
    };
    let term = Term::start(&ours_cmdline(
        w,
        &home,
        &["run", "-it", "--name", &name, &w.image, "sh"],
    ));
    term.wait_prompt_count(1);
    term.line("echo one-$((0+1))");
    term.wait_exact("one-1");
    term.keys(&["C-p", "C-q"]);
    assert_eq!(term.wait_exit(), 0, "screen:\n{}", term.screen());
    assert!(
        has_flag(&term.stty_after(), "icanon"),
        "{}",
        term.stty_after()
    );
    let status = w
        .engine(&["inspect", "--format", "{{.State.Status}}", &name])
        .stdout;
    assert_eq!(status.trim(), "running", "the container keeps running");

    let again = Term::start(&ours_cmdline(w, &home, &["attach", &name]));
    // Wait until the attach is up: typed text is echoed back by the container's TTY.
    let deadline = Instant::now() + SCREEN_WAIT;
    loop {
        again.line("echo back-$((3+4))");
        thread::sleep(Duration::from_millis(300));
        if again.screen().lines().any(|l| l.trim_end() == "back-7") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "attach never showed the shell:\n{}",
            again.screen()
        );
    }
    // A custom detach sequence is honoured by attach as well.
    drop(again);
    let custom = Term::start(&ours_cmdline(
        w,
        &home,
        &["attach", "--detach-keys", "ctrl-a,x", &name],
    ));
    let deadline = Instant::now() + SCREEN_WAIT;
    loop {
        custom.line("echo custom-$((4+4))");
        thread::sleep(Duration::from_millis(300));
        if custom.screen().lines().any(|l| l.trim_end() == "custom-8") {
            break;
        }
        assert!(Instant::now() < deadline, "{}", custom.screen());
    }
    custom.keys(&["C-a", "x"]);
    assert_eq!(custom.wait_exit(), 0, "screen:\n{}", custom.screen());
    let status = w
        .engine(&["inspect", "--format", "{{.State.Status}}", &name])
        .stdout;
    assert_eq!(status.trim(), "running");
}

#[test]
fn exec_it_gets_a_terminal_of_our_size_and_its_exit_code() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::run_detached(w, "exec-it", &[&w.image, "sleep", "1000"]);
    let term = Term::start(&ours_cmdline(w, &home, &["exec", "-it", &c.name, "sh"]));
    term.wait_prompt_count(1);
    term.line("stty size; echo $((6*7))");
    term.wait_exact("42");
    assert!(
        term.screen().lines().any(|l| l.trim_end() == "30 100"),
        "{}",
        term.screen()
    );
    term.line("exit 4");
    assert_eq!(term.wait_exit(), 4, "screen:\n{}", term.screen());
    assert!(
        has_flag(&term.stty_after(), "echo"),
        "{}",
        term.stty_after()
    );
}

#[test]
fn exec_exit_codes_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::run_detached(w, "exec-codes", &[&w.image, "sleep", "1000"]);
    let cases: &[(&[&str], i32)] = &[
        (&["true"], 0),
        (&["sh", "-c", "exit 5"], 5),
        (&["/no/such/cmd"], 127),
        (&["/etc/passwd"], 126),
    ];
    for (cmd, code) in cases {
        let mut args = vec!["exec", c.name.as_str()];
        args.extend_from_slice(cmd);
        let ours = run(ours(w, &home).args(&args), None, T);
        let theirs = run(real(w, &home).args(&args), None, T);
        assert_eq!(ours.status, *code, "{ours}");
        assert_eq!(ours.status, theirs.status, "podman: {theirs}");
    }
    // stdout and stderr are kept apart; env, user and workdir reach the process.
    let out = run(
        ours(w, &home).args([
            "exec",
            "-e",
            "A=1",
            "-u",
            "nobody",
            "-w",
            "/tmp",
            &c.name,
            "sh",
            "-c",
            "echo $A $(id -un) $(pwd); echo oops >&2",
        ]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "1 nobody /tmp\n", "{out}");
    assert_eq!(out.stderr, "oops\n", "{out}");
    // Unknown container: podman's message and code.
    let ours_missing = run(
        ours(w, &home).args(["exec", "no-such-ctr-x", "true"]),
        None,
        T,
    );
    let real_missing = run(
        real(w, &home).args(["exec", "no-such-ctr-x", "true"]),
        None,
        T,
    );
    assert_eq!(ours_missing.status, 125, "{ours_missing}");
    assert_eq!(ours_missing.stderr, real_missing.stderr);
}

#[test]
fn exec_passes_stdin_and_runs_detached() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::run_detached(w, "exec-stdin", &[&w.image, "sleep", "1000"]);
    let out = run(
        ours(w, &home).args(["exec", "-i", &c.name, "cat"]),
        Some(b"hi\n"),
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "hi\n", "{out}");

    let out = run(
        ours(w, &home).args(["exec", "-d", &c.name, "sh", "-c", "echo x > /tmp/marker"]),
        None,
        T,
    );
    out.assert_success();
    let id = out.stdout.trim();
    assert_eq!(id.len(), 64, "exec -d prints the session ID: {out}");
    let deadline = Instant::now() + T;
    loop {
        let cat = try_run(
            w.engine_podman()
                .args(["exec", &c.name, "cat", "/tmp/marker"]),
            None,
            T,
        )
        .expect("engine exec");
        if cat.stdout == "x\n" {
            break;
        }
        assert!(Instant::now() < deadline, "detached exec never ran: {cat}");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn exec_on_a_stopped_container_fails_like_podman() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::created(w, "exec-stopped", &[&w.image, "true"]);
    let ours = run(ours(w, &home).args(["exec", &c.name, "true"]), None, T);
    let theirs = run(real(w, &home).args(["exec", &c.name, "true"]), None, T);
    assert_eq!(ours.status, 125, "{ours}");
    assert_eq!(ours.status, theirs.status, "{theirs}");
    assert_eq!(ours.stderr, theirs.stderr, "{theirs}");
    assert!(
        ours.stderr
            .contains("can only create exec sessions on running containers"),
        "{ours}"
    );
}

#[test]
fn attach_refuses_a_stopped_container() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::created(w, "attach-stopped", &[&w.image, "true"]);
    let ours = run(ours(w, &home).args(["attach", &c.name]), None, T);
    let theirs = run(real(w, &home).args(["attach", &c.name]), None, T);
    assert_eq!(ours.status, 125, "{ours}");
    assert_eq!(
        ours.stderr,
        "Error: you can only attach to running containers\n"
    );
    assert_eq!(ours.status, theirs.status);
    assert_eq!(ours.stderr, theirs.stderr);
}

#[test]
fn start_prints_names_and_start_attach_returns_the_exit_code() {
    let w = world();
    let home = trusted_home(w);
    let a = Ctr::created(w, "start-a", &[&w.image, "sleep", "1000"]);
    let b = Ctr::created(w, "start-b", &[&w.image, "sleep", "1000"]);
    let out = run(ours(w, &home).args(["start", &a.name, &b.name]), None, T);
    out.assert_success();
    assert_eq!(out.stdout, format!("{}\n{}\n", a.name, b.name));
    assert_eq!(a.status(), "running");
    // Already running: podman prints nothing and succeeds.
    let again = run(ours(w, &home).args(["start", &a.name]), None, T);
    let theirs = run(real(w, &home).args(["start", &a.name]), None, T);
    assert_eq!(
        (again.status, again.stdout.as_str()),
        (theirs.status, theirs.stdout.as_str())
    );

    let c = Ctr::created(
        w,
        "start-attach",
        &[&w.image, "sh", "-c", "echo out; echo err >&2; exit 3"],
    );
    let out = run(ours(w, &home).args(["start", "-a", &c.name]), None, T);
    assert_eq!(out.status, 3, "{out}");
    assert_eq!(out.stdout, "out\n", "{out}");
    assert_eq!(out.stderr, "err\n", "{out}");

    // -i forwards stdin and its EOF.
    let d = Ctr::created(w, "start-ai", &["-i", &w.image, "cat"]);
    let out = run(
        ours(w, &home).args(["start", "-a", "-i", &d.name]),
        Some(b"piped\n"),
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "piped\n", "{out}");

    // Errors are podman's.
    for args in [
        vec!["start"],
        vec!["start", "-a", &a.name, &b.name],
        vec!["start", "--sig-proxy", &a.name],
        vec!["start", "no-such-ctr-y"],
    ] {
        let ours = run(ours(w, &home).args(&args), None, T);
        let theirs = run(real(w, &home).args(&args), None, T);
        assert_eq!(ours.status, 125, "{ours}");
        assert_eq!(ours.stderr, theirs.stderr, "{args:?}");
    }
}

#[test]
fn run_forwards_sigterm_to_the_container() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("sigproxy");
    let _cleanup = Ctr {
        w,
        name: name.clone(),
    };
    let mut child = ours(w, &home)
        .args([
            "run",
            "--rm",
            "--name",
            &name,
            &w.image,
            "sh",
            "-c",
            "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 1; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start podman-remote");
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let killed = |child: &mut std::process::Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    match rx.recv_timeout(T) {
        Ok(l) => lines.push(l),
        Err(_) => {
            killed(&mut child);
            panic!("the container never became ready");
        }
    }
    assert_eq!(lines, ["ready"]);
    // SAFETY: plain syscall on our own, not yet reaped child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + T;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            killed(&mut child);
            panic!("podman-remote did not end after SIGTERM");
        }
        thread::sleep(Duration::from_millis(50));
    };
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(5)) {
        lines.push(l);
    }
    assert_eq!(status.code(), Some(7), "lines: {lines:?}");
    assert_eq!(lines, ["ready", "got TERM"]);
}

#[test]
fn run_it_from_a_pipe_needs_no_terminal() {
    // -t without a terminal: raw bytes come back, no raw mode is attempted.
    let w = world();
    let home = trusted_home(w);
    let out = run(
        ours(w, &home).args(["run", "--rm", "-t", &w.image, "sh", "-c", "echo tty-ok"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout.replace('\r', ""), "tty-ok\n", "{out}");
}
