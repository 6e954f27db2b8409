//! Faults end to end: the SSH server dies in the middle of a streaming command, the user
//! interrupts a command, and many processes edit the connection files at once. Each test is
//! bounded in time: a generous deadline detects a hang (it is not a speed assertion).
#![cfg(target_os = "linux")]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use e2e::*;

const T: Duration = Duration::from_secs(120);
/// How long a client may take to notice that its server is gone before we call it a hang.
const HANG: Duration = Duration::from_secs(60);
/// How long we wait for a streaming command to get going.
const START: Duration = Duration::from_secs(60);

/// A home trusting `sshd`, and our client pointed at it with the world's key.
fn client_for(w: &World, sshd: &PrivateSshd) -> (Home, Command) {
    let home = w.home();
    home.write_known_hosts(&sshd.known_hosts_lines(w));
    let mut c = home.podman_remote();
    c.args(["--url", &sshd.ssh_url(w), "--identity"])
        .arg(&w.key);
    (home, c)
}

/// A command running in the background with its output collected as it comes.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    what: String,
}

fn collect(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = buf.clone();
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    buf
}

impl Running {
    fn spawn(cmd: &mut Command, piped_stdin: bool) -> Running {
        let what = describe(cmd);
        cmd.stdin(if piped_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        // SAFETY: only async-signal-safe calls between fork and exec. Its own process
        // group (signals aimed at it reach nothing else) and death with the test process.
        unsafe {
            cmd.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Running {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            what,
        }
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits until `ready` holds (checked every 50 ms); fails the test if the command exits
    /// or `START` passes first.
    #[track_caller]
    fn wait_until(&mut self, what: &str, ready: impl Fn(&Running) -> bool) {
        let deadline = Instant::now() + START;
        loop {
            if ready(self) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                if ready(self) {
                    return;
                }
                panic!(
                    "{} exited ({status}) before {what}\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.what,
                    self.stdout(),
                    self.stderr()
                );
            }
            if Instant::now() > deadline {
                self.kill();
                panic!(
                    "timed out waiting for {what} from {}\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.what,
                    self.stdout(),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the exit, at most `HANG`: a client still running then is hung. Returns the
    /// exit code (128+N for a signal), stdout and stderr.
    #[track_caller]
    fn finish(mut self) -> (i32, String, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + HANG;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                use std::os::unix::process::ExitStatusExt;
                let code = status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
                // Let the readers drain what is left in the pipes.
                thread::sleep(Duration::from_millis(200));
                return (code, self.stdout(), self.stderr());
            }
            if Instant::now() > deadline {
                self.kill();
                panic!(
                    "{} hung: still running {} s after the fault\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.what,
                    HANG.as_secs(),
                    self.stdout(),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The common verdict after the server died: a failure exit with a message that says the
/// connection was lost, and no panic.
#[track_caller]
fn assert_clean_failure(what: &str, (code, stdout, stderr): &(i32, String, String)) {
    // Shown with --nocapture: the message a user would see.
    eprintln!("{what}: exit {code}; stderr: {}", stderr.trim_end());
    assert!(
        *code != 0 && *code < 128,
        "{what}: expected a failure exit code, got {code}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "{what}: the client panicked\n{stderr}"
    );
    let lower = stderr.to_lowercase();
    assert!(
        [
            "connection",
            "closed",
            "lost",
            "eof",
            "broken pipe",
            "reset"
        ]
        .iter()
        .any(|w| lower.contains(w)),
        "{what}: the message does not say the connection went away:\n{stderr}"
    );
}

/// A container on the engine, removed when dropped.
struct Ctr<'a> {
    w: &'a World,
    name: String,
}

impl<'a> Ctr<'a> {
    fn run(w: &'a World, prefix: &str, args: &[&str]) -> Ctr<'a> {
        let name = unique(prefix);
        let mut a = vec!["run", "-d", "--name", &name];
        a.extend_from_slice(args);
        w.engine(&a);
        Ctr { w, name }
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

#[test]
fn sshd_killed_during_logs_follow() {
    let w = world();
    let sshd = w.private_sshd();
    let ctr = Ctr::run(
        w,
        "fault-logs",
        &[
            &w.image,
            "sh",
            "-c",
            "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.1; done",
        ],
    );
    let (_home, mut cmd) = client_for(w, &sshd);
    let mut logs = Running::spawn(cmd.args(["logs", "-f", &ctr.name]), false);
    logs.wait_until("a few log lines", |r| r.stdout().contains("line-3"));
    sshd.kill();
    let result = logs.finish();
    assert_clean_failure("logs -f", &result);
}

#[test]
fn sshd_killed_during_events() {
    let w = world();
    let sshd = w.private_sshd();
    let (_home, mut cmd) = client_for(w, &sshd);
    let marker = unique("fault-events");
    let mut events = Running::spawn(
        cmd.args([
            "events",
            "--filter",
            &format!("container={marker}"),
            "--format",
            "{{.Name}} {{.Status}}",
        ]),
        false,
    );
    // An event for a container of our own shows that the stream is established.
    let deadline = Instant::now() + START;
    while !events.stdout().contains(&marker) {
        let _ = try_run(
            w.engine_podman()
                .args(["create", "--name", &marker, &w.image, "true"]),
            None,
            T,
        );
        let _ = try_run(
            w.engine_podman().args(["rm", "-f", "--ignore", &marker]),
            None,
            T,
        );
        assert!(
            Instant::now() < deadline,
            "no event arrived\n--- stdout:\n{}\n--- stderr:\n{}",
            events.stdout(),
            events.stderr()
        );
        thread::sleep(Duration::from_millis(300));
    }
    events.wait_until("the event", |r| r.stdout().contains(&marker));
    sshd.kill();
    let result = events.finish();
    assert_clean_failure("events", &result);
}

/// A container holding `/big`, `mb` MiB of incompressible data.
fn big_file_container<'a>(w: &'a World, mb: u32) -> Ctr<'a> {
    let ctr = Ctr::run(w, "fault-big", &[&w.image, "sleep", "1000"]);
    w.engine(&[
        "exec",
        &ctr.name,
        "sh",
        "-c",
        &format!("dd if=/dev/urandom of=/big bs=1M count={mb} 2>/dev/null"),
    ]);
    ctr
}

#[test]
fn sshd_killed_during_cp_leaves_no_partial_file() {
    let w = world();
    let sshd = w.private_sshd();
    let ctr = big_file_container(w, 256);
    let dest = tempfile::tempdir().unwrap();
    let target = dest.path().join("big");
    let (_home, mut cmd) = client_for(w, &sshd);
    let mut cp = Running::spawn(
        cmd.args(["cp", &format!("{}:/big", ctr.name)]).arg(&target),
        false,
    );
    // The copy is under way once its staging entry appears in the destination directory.
    let dir = dest.path().to_path_buf();
    cp.wait_until("the copy to start writing", move |_| {
        fs::read_dir(&dir).map(|d| d.count() > 0).unwrap_or(false)
    });
    sshd.kill();
    let result = cp.finish();
    assert_clean_failure("cp", &result);
    let left: Vec<_> = fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "an interrupted cp left {left:?} behind\n{}",
        result.2
    );
}

#[test]
fn sshd_killed_during_load_from_a_pipe() {
    let w = world();
    let sshd = w.private_sshd();
    let (_home, mut cmd) = client_for(w, &sshd);
    let mut load = Running::spawn(cmd.arg("load"), true);
    // The first part of an archive, then silence: the upload is in flight when the server
    // dies, and the client is waiting on its input, not on the network.
    let mut header = vec![0u8; 512];
    header[..9].copy_from_slice(b"manifest.");
    header[257..263].copy_from_slice(b"ustar\0");
    let mut stdin = load.stdin.take().unwrap();
    stdin.write_all(&header).unwrap();
    stdin.write_all(&vec![b'x'; 1 << 20]).unwrap();
    stdin.flush().unwrap();
    // Time for the request to reach the engine; stdin stays open.
    thread::sleep(Duration::from_secs(2));
    sshd.kill();
    // stdin is still open: the client must notice the server is gone on its own.
    let deadline = Instant::now() + HANG;
    while load.child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            load.kill();
            panic!(
                "load hung with its input open after the server died\n--- stderr:\n{}",
                load.stderr()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let result = load.finish();
    assert_clean_failure("load", &result);
}

/// An image of `mb` MiB of incompressible data pushed to the local registry and absent from
/// the engine, so that pulling it takes a while. Returns its reference.
fn big_image_in_registry(w: &World, r: &Registry, mb: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir(&root).unwrap();
    let mut data = vec![0u8; 1 << 20];
    let mut urandom = fs::File::open("/dev/urandom").unwrap();
    let mut out = fs::File::create(root.join("big")).unwrap();
    for _ in 0..mb {
        urandom.read_exact(&mut data).unwrap();
        out.write_all(&data).unwrap();
    }
    drop(out);
    let tarball = dir.path().join("rootfs.tar");
    run(
        Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tarball)
            .arg("."),
        None,
        T,
    )
    .assert_success();
    let image = format!("{}/e2e/{}:v1", r.host(), unique("fault-big"));
    w.engine(&["import", "-q", tarball.to_str().unwrap(), &image]);
    w.engine(&[
        "push",
        "--creds",
        &format!("{}:{}", r.user, r.password),
        &image,
    ]);
    w.engine(&["rmi", &image]);
    image
}

#[test]
fn sshd_killed_during_pull() {
    let w = world();
    let r = registry();
    let image = big_image_in_registry(w, r, 192);
    let sshd = w.private_sshd();
    let (home, mut cmd) = client_for(w, &sshd);
    let authfile = home.config_dir().join("auth.json");
    run(
        home.podman_remote()
            .args(["--url", &sshd.ssh_url(w), "--identity"])
            .arg(&w.key)
            .args(["login", "--authfile"])
            .arg(&authfile)
            .args(["--username", &r.user, "--password-stdin", &r.host()]),
        Some(r.password.as_bytes()),
        T,
    )
    .assert_success();
    let mut pull = Running::spawn(
        cmd.args(["pull", "--authfile"]).arg(&authfile).arg(&image),
        false,
    );
    pull.wait_until("pull progress", |r| {
        let all = format!("{}{}", r.stdout(), r.stderr());
        all.contains("Copying blob") || all.contains("Trying to pull")
    });
    sshd.kill();
    let result = pull.finish();
    assert_clean_failure("pull", &result);
    let _ = try_run(w.engine_podman().args(["rmi", "--ignore", &image]), None, T);
}

// ---------------------------------------------------------------------------------------------
// Concurrent edits of the connection files

#[test]
fn hundreds_of_concurrent_connection_adds_lose_nothing() {
    let w = world();
    let home = w.home();
    const ROUNDS: usize = 5;
    const PER_ROUND: usize = 60;
    let mut expected = Vec::new();
    for round in 0..ROUNDS {
        // Separate processes started together, like shells running `podman-remote ... &`.
        let mut children = Vec::new();
        for i in 0..PER_ROUND {
            let name = format!("c{round}-{i}");
            let url = format!(
                "ssh://user{i}@host{round}.example:{}/run/podman.sock",
                1000 + i
            );
            // CONTAINERS_CONF: as root, podman (and we) would otherwise mirror into
            // /etc/containers/containers.conf.
            let child = home
                .podman_remote()
                .env("CONTAINERS_CONF", home.containers_conf_path())
                .args(["system", "connection", "add", &name, &url])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn podman-remote");
            children.push((name, url, child));
        }
        for (name, url, child) in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "connection add {name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            expected.push((name, url));
        }
        // Never a corrupt file: both parse after every round.
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(home.connections_json_path()).unwrap())
                .expect("podman-connections.json is valid JSON");
        assert!(json["Connection"]["Connections"].is_object(), "{json}");
        let conf = fs::read_to_string(home.containers_conf_path()).unwrap();
        assert!(conf.contains("[engine"), "{conf}");
    }
    let out = run(
        home.podman_remote()
            .env("CONTAINERS_CONF", home.containers_conf_path())
            .args(["system", "connection", "list", "--format", "json"]),
        None,
        T,
    );
    out.assert_success();
    let list: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        list.len(),
        ROUNDS * PER_ROUND,
        "lost updates:\n{}",
        out.stdout
    );
    for (name, url) in &expected {
        let entry = list
            .iter()
            .find(|c| c["Name"] == name.as_str())
            .unwrap_or_else(|| panic!("connection {name} was lost"));
        assert_eq!(entry["URI"], url.as_str(), "{entry}");
    }
    // Exactly one default, the first one added.
    let defaults: Vec<_> = list.iter().filter(|c| c["Default"] == true).collect();
    assert_eq!(defaults.len(), 1, "{defaults:?}");
    // podman 4.3.1 reads the mirror in containers.conf too: every connection is there.
    let real = run(
        w.real_podman(&home)
            .args(["system", "connection", "list", "--format", "{{.Name}}"]),
        None,
        T,
    );
    real.assert_success();
    assert_eq!(
        real.stdout.lines().count(),
        ROUNDS * PER_ROUND,
        "{}",
        real.stdout
    );
    // No temp or lock debris beyond the lock file podman itself keeps.
    let dir = home.connections_json_path().parent().unwrap().to_path_buf();
    let debris: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(debris.is_empty(), "{debris:?}");
}

// ---------------------------------------------------------------------------------------------
// SIGINT

/// Our client in a real terminal: a detached tmux session on a tmux server private to this
/// test binary. The shell in it records the client's exit status, the terminal settings and
/// whether the cursor is visible after it exits.
struct Term {
    session: String,
    dir: tempfile::TempDir,
}

fn tmux_socket() -> String {
    format!("e2e-faults-{}", std::process::id())
}

fn tmux(args: &[&str]) -> Output {
    let mut c = Command::new("tmux");
    c.args(["-L", &tmux_socket()]).args(args);
    run(&mut c, None, Duration::from_secs(20))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A shell command line running our client with `home`'s environment.
fn cmdline(home: &Home, args: &[String]) -> String {
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
    parts.extend(args.iter().map(|a| shell_quote(a)));
    parts.join(" ")
}

impl Term {
    fn start(cmdline: &str) -> Term {
        let dir = tempfile::tempdir().expect("temp dir");
        let session = unique("fault-term");
        let exit = dir.path().join("exit");
        let stty = dir.path().join("stty");
        let script = format!(
            "{cmdline}; echo $? > {exit}.tmp; stty -a > {stty} 2>&1; mv {exit}.tmp {exit}; exec sleep 600",
            exit = exit.display(),
            stty = stty.display(),
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

    fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.session]).stdout
    }

    fn line(&self, text: &str) {
        tmux(&["send-keys", "-t", &self.session, "-l", text]).assert_success();
        tmux(&["send-keys", "-t", &self.session, "Enter"]).assert_success();
    }

    #[track_caller]
    fn wait_screen(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + START;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of our client: the child of the pane's shell.
    fn client_pid(&self) -> libc::pid_t {
        let shell: libc::pid_t = tmux(&["display", "-p", "-t", &self.session, "#{pane_pid}"])
            .stdout
            .trim()
            .parse()
            .expect("pane pid");
        let children =
            fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
        let pids: Vec<libc::pid_t> = children
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        assert_eq!(
            pids.len(),
            1,
            "the pane's shell should run only our client: {pids:?}"
        );
        pids[0]
    }

    /// Sends SIGINT to our client alone, as `kill -INT` from another terminal would.
    fn interrupt_client(&self) {
        let pid = self.client_pid();
        // SAFETY: plain syscall on our client's pid (the child of our tmux pane).
        unsafe { libc::kill(pid, libc::SIGINT) };
    }

    #[track_caller]
    fn wait_exit(&self) -> i32 {
        let file = self.dir.path().join("exit");
        let deadline = Instant::now() + HANG;
        loop {
            if let Ok(text) = fs::read_to_string(&file) {
                return text.trim().parse().expect("exit status");
            }
            assert!(
                Instant::now() < deadline,
                "the client did not exit after SIGINT; screen:\n{}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn stty_after(&self) -> String {
        fs::read_to_string(self.dir.path().join("stty")).unwrap_or_default()
    }

    fn cursor_visible(&self) -> bool {
        tmux(&["display", "-p", "-t", &self.session, "#{cursor_flag}"])
            .stdout
            .trim()
            == "1"
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let mut c = Command::new("tmux");
        c.args(["-L", &tmux_socket(), "kill-session", "-t", &self.session]);
        let _ = try_run(&mut c, None, Duration::from_secs(20));
    }
}

#[track_caller]
fn assert_terminal_sane(term: &Term) {
    let stty = term.stty_after();
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            stty.split_whitespace().any(|w| w == flag),
            "terminal not restored ({flag} missing):\n{stty}\nscreen:\n{}",
            term.screen()
        );
    }
    assert!(
        term.cursor_visible(),
        "the cursor was left hidden; screen:\n{}",
        term.screen()
    );
}

fn ssh_args(w: &World) -> Vec<String> {
    vec![
        "--url".into(),
        w.ssh_url(),
        "--identity".into(),
        w.key.display().to_string(),
    ]
}

/// The next command over the same connection settings works.
#[track_caller]
fn next_command_works(w: &World, home: &Home) {
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["run", "--rm", &w.image, "echo", "next-ok"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "next-ok\n", "{out}");
}

#[test]
fn sigint_during_run_it_is_proxied_and_the_terminal_is_restored() {
    let w = world();
    let home = w.home();
    home.trust_world(w);
    let name = unique("fault-it");
    let mut args = ssh_args(w);
    args.extend(
        ["run", "-it", "--rm", "--name", &name, &w.image, "sh"]
            .iter()
            .map(|s| s.to_string()),
    );
    let term = Term::start(&cmdline(&home, &args));
    term.wait_screen("the container's prompt", |s| s.contains("/ #"));
    // --sig-proxy (the default) forwards it to the container's shell, PID 1, which ignores
    // it: the session goes on.
    term.interrupt_client();
    thread::sleep(Duration::from_millis(500));
    term.line("echo alive-$((20+22))");
    term.wait_screen("the shell still answering", |s| s.contains("alive-42"));
    term.line("exit 5");
    assert_eq!(term.wait_exit(), 5, "screen:\n{}", term.screen());
    assert_terminal_sane(&term);
    next_command_works(w, &home);
}

#[test]
fn sigint_during_run_it_without_sig_proxy_stops_the_client_and_restores_the_terminal() {
    let w = world();
    let home = w.home();
    home.trust_world(w);
    let name = unique("fault-it-nosig");
    let mut args = ssh_args(w);
    args.extend(
        [
            "run",
            "-it",
            "--sig-proxy=false",
            "--name",
            &name,
            &w.image,
            "sh",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let term = Term::start(&cmdline(&home, &args));
    term.wait_screen("the container's prompt", |s| s.contains("/ #"));
    term.interrupt_client();
    let code = term.wait_exit();
    assert_ne!(code, 0, "screen:\n{}", term.screen());
    assert!(!term.screen().contains("panicked"), "{}", term.screen());
    assert_terminal_sane(&term);
    next_command_works(w, &home);
    let _ = try_run(
        w.engine_podman()
            .args(["rm", "-f", "-t", "0", "--ignore", &name]),
        None,
        T,
    );
}

#[test]
fn sigint_during_pull_restores_the_terminal_and_the_next_command_works() {
    let w = world();
    let r = registry();
    let image = big_image_in_registry(w, r, 192);
    let home = w.home();
    home.trust_world(w);
    let authfile = home.config_dir().join("auth.json");
    let mut login = home.podman_remote();
    login
        .args(["--url", &w.ssh_url(), "--identity"])
        .arg(&w.key)
        .args(["login", "--authfile"])
        .arg(&authfile)
        .args(["--username", &r.user, "--password-stdin", &r.host()]);
    run(&mut login, Some(r.password.as_bytes()), T).assert_success();
    let mut args = ssh_args(w);
    args.extend(["pull".to_string(), "--authfile".to_string()]);
    args.push(authfile.display().to_string());
    args.push(image.clone());
    let term = Term::start(&cmdline(&home, &args));
    // In a terminal the progress is docker's: "<layer>: Downloading [==>  ] 12 MiB/192 MiB".
    term.wait_screen("pull progress", |s| {
        ["Downloading", "Pulling", "Copying blob", "Trying to pull"]
            .iter()
            .any(|w| s.contains(w))
    });
    term.interrupt_client();
    let code = term.wait_exit();
    assert_eq!(
        code,
        130,
        "SIGINT's exit status expected; screen:\n{}",
        term.screen()
    );
    assert!(!term.screen().contains("panicked"), "{}", term.screen());
    assert_terminal_sane(&term);
    next_command_works(w, &home);
    let _ = try_run(w.engine_podman().args(["rmi", "--ignore", &image]), None, T);
}
