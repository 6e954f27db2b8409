//! Security end to end: host keys are verified on every hop, no secret leaks into logs, error
//! messages or process arguments, credential files are private, and configuration or key
//! files that others can write are refused as OpenSSH refuses them.
#![cfg(target_os = "linux")]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use e2e::*;

const T: Duration = Duration::from_secs(120);

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

/// A fresh ed25519 public key nobody uses: `ssh-ed25519 AAAA…`.
fn stranger_key() -> String {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("k");
    run(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&k),
        None,
        T,
    )
    .assert_success();
    let line = fs::read_to_string(k.with_extension("pub")).unwrap();
    let mut it = line.split_whitespace();
    format!("{} {}", it.next().unwrap(), it.next().unwrap())
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Names of the containers on the engine.
fn engine_names(w: &World) -> String {
    w.engine(&["ps", "-a", "--format", "{{.Names}}"]).stdout
}

// ---------------------------------------------------------------------------------------------
// Host keys

#[test]
fn direct_ssh_with_a_mismatching_host_key_is_refused_before_anything_is_sent() {
    let w = world();
    let home = w.home();
    let wrong = stranger_key();
    let known = format!("[127.0.0.1]:{} {wrong}\n", w.ssh_port);
    home.write_known_hosts(&known);
    // Every policy, the permissive ones included, refuses a changed key.
    for policy in ["yes", "accept-new", "no", "ask"] {
        home.write_ssh_config(&format!("Host *\n  StrictHostKeyChecking {policy}\n"));
        let name = unique("hostkey-direct");
        let out = run(
            home.podman_remote()
                .args(["--url", &w.ssh_url(), "--identity"])
                .arg(&w.key)
                .args(["create", "--name", &name, &w.image, "true"]),
            None,
            T,
        );
        assert_eq!(out.status, 125, "{policy}: {out}");
        out.assert_stderr_contains("IDENTIFICATION HAS CHANGED")
            .assert_stderr_contains(&w.host_key_fingerprint);
        // Nothing reached the engine, and the recorded key was left alone.
        assert!(!engine_names(w).contains(&name), "{policy}: created anyway");
        assert_eq!(home.known_hosts(), known, "{policy}: known_hosts changed");
    }
}

/// `Host jump` on `jump_port` and `Host target` on the world's sshd through it, same key.
fn proxyjump_config(w: &World, home: &Home, jump_port: u16) -> String {
    let key = home.install_key(&w.key, "id_e2e");
    home.write_ssh_config(&format!(
        "Host jump\n  HostName 127.0.0.1\n  Port {jump_port}\n  User root\n  IdentityFile {key}\n\
         Host target\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  ProxyJump jump\n  IdentityFile {key}\n",
        port = w.ssh_port,
        key = key.display()
    ));
    format!("ssh://target{}", w.socket.display())
}

#[test]
fn proxyjump_refuses_a_mismatching_key_on_the_jump_host_and_on_the_target() {
    let w = world();
    let jump = w.private_sshd();
    let home = w.home();
    let url = proxyjump_config(w, &home, jump.port);
    let right_target = format!("{}\n{}\n", w.known_hosts_line(), w.known_hosts_line_rsa());
    let right_jump = jump.known_hosts_lines(w);
    let wrong = stranger_key();

    // Control: both keys right, the chain works and really goes through the jump host.
    home.write_known_hosts(&format!("{right_jump}{right_target}"));
    let out = run(
        home.podman_remote()
            .args(["--url", &url, "--log-level", "debug", "ps", "-q"]),
        None,
        T,
    );
    out.assert_success();
    out.assert_stderr_contains(&format!("through jump host root@127.0.0.1:{}", jump.port));

    // The jump host presents a key other than the recorded one.
    let known = format!("[127.0.0.1]:{} {wrong}\n{right_target}", jump.port);
    home.write_known_hosts(&known);
    let out = run(
        home.podman_remote().args(["--url", &url, "ps", "-q"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("IDENTIFICATION HAS CHANGED")
        .assert_stderr_contains(&format!("[127.0.0.1]:{}", jump.port));
    assert_eq!(home.known_hosts(), known);

    // The jump host is fine, the target behind it is not.
    let known = format!("{right_jump}[127.0.0.1]:{} {wrong}\n", w.ssh_port);
    home.write_known_hosts(&known);
    let out = run(
        home.podman_remote().args(["--url", &url, "ps", "-q"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("IDENTIFICATION HAS CHANGED")
        .assert_stderr_contains(&format!("[127.0.0.1]:{}", w.ssh_port));
    assert_eq!(home.known_hosts(), known);
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// Runs `cmd` to completion like [`run`], and meanwhile samples the arguments of the process
/// and of everything it starts (/proc/PID/cmdline) every few milliseconds.
fn run_watching_arguments(cmd: &mut Command, stdin: Option<&[u8]>) -> (Output, Vec<String>) {
    let what = describe(cmd);
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pid = child.id() as i32;
    let done = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sampler = {
        let (done, seen) = (done.clone(), seen.clone());
        thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                for p in std::iter::once(pid).chain(descendants(pid)) {
                    if let Ok(raw) = fs::read(format!("/proc/{p}/cmdline")) {
                        let args = String::from_utf8_lossy(&raw).replace('\0', " ");
                        let mut seen = seen.lock().unwrap();
                        if !seen.contains(&args) {
                            seen.push(args);
                        }
                    }
                }
                thread::sleep(Duration::from_millis(3));
            }
        })
    };
    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        let data = data.to_vec();
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let read_all = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out_reader = read_all(Box::new(child.stdout.take().unwrap()));
    let err_reader = read_all(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > T {
            let _ = child.kill();
            panic!("{what} did not finish within {} s", T.as_secs());
        }
        thread::sleep(Duration::from_millis(10));
    };
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let output = Output {
        status: status.code().unwrap_or(-1),
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        elapsed: start.elapsed(),
        command: what,
    };
    let seen = seen.lock().unwrap().clone();
    assert!(
        !seen.is_empty(),
        "the client's arguments were never sampled"
    );
    (output, seen)
}

/// Live descendants of `root`, from /proc.
fn descendants(root: i32) -> Vec<i32> {
    let mut links = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(ppid) = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
            .and_then(|p| p.parse::<i32>().ok())
        {
            links.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(links.iter().filter(|l| l.1 == parent).map(|l| l.0));
        i += 1;
    }
    found.remove(0);
    found
}

/// Fails the test if any `secret` shows up in the output or in the sampled arguments.
#[track_caller]
fn assert_no_secret(what: &str, out: &Output, args: &[String], secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{what}: the secret {secret:?} was printed\n{out}"
        );
        for a in args {
            assert!(
                !a.contains(secret),
                "{what}: the secret {secret:?} is in process arguments: {a}"
            );
        }
    }
}

fn base64(text: &str) -> String {
    let mut child = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

#[test]
fn a_url_password_never_shows_in_debug_logs_errors_or_arguments() {
    let w = world();
    let home = trusted_home(w);
    let password = "UrlPassw0rdXyzzy";
    // Through CONTAINER_HOST the password is not on the command line to begin with; the
    // client must not put it into any argument list either (its own or a helper's).
    let url = format!(
        "ssh://root:{password}@127.0.0.1:{}{}",
        w.ssh_port,
        w.socket.display()
    );
    let (out, args) = run_watching_arguments(
        home.podman_remote()
            .env("CONTAINER_HOST", &url)
            .args(["--log-level", "debug", "--identity"])
            .arg(&w.key)
            .args(["run", "--rm", &w.image, "sh", "-c", "sleep 1; echo ok"]),
        None,
    );
    out.assert_success();
    assert_eq!(out.stdout, "ok\n", "{out}");
    assert!(
        out.stderr.contains("level=debug") || out.stderr.contains("DEBUG"),
        "{out}"
    );
    assert_no_secret("CONTAINER_HOST with a password", &out, &args, &[password]);

    // Failures that echo the URL: nobody listening, and a socket path that does not exist.
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for url in [
        format!("ssh://root:{password}@127.0.0.1:{dead_port}/run/podman/podman.sock"),
        format!(
            "ssh://root:{password}@127.0.0.1:{}/nonexistent/podman.sock",
            w.ssh_port
        ),
        format!("ssh://root:{password}@127.0.0.1:{}:bad", w.ssh_port),
    ] {
        let (out, args) = run_watching_arguments(
            home.podman_remote()
                .env("CONTAINER_HOST", &url)
                .args(["--log-level", "debug", "--identity"])
                .arg(&w.key)
                .args(["ps"]),
            None,
        );
        assert_eq!(out.status, 125, "{out}");
        assert_no_secret(&format!("failing {url}"), &out, &args, &[password]);
    }

    // Adding a connection from that URL warns that the password is not saved, and it is not:
    // neither file holds it, and nothing prints it. (The URL is on our own command line here,
    // so the arguments are not checked.)
    let (out, _) = run_watching_arguments(
        home.podman_remote()
            .env("CONTAINERS_CONF", home.containers_conf_path())
            .args([
                "--log-level",
                "debug",
                "system",
                "connection",
                "add",
                "withpw",
            ])
            .arg(&url),
        None,
    );
    out.assert_success();
    out.assert_stderr_contains("not saved");
    assert_no_secret("connection add", &out, &[], &[password]);
    for f in [home.connections_json_path(), home.containers_conf_path()] {
        let text = fs::read_to_string(&f).unwrap();
        assert!(text.contains("withpw"), "{}: {text}", f.display());
        assert!(
            !text.contains(password),
            "{} stores the password: {text}",
            f.display()
        );
    }
    let out = run(
        home.podman_remote()
            .env("CONTAINERS_CONF", home.containers_conf_path())
            .args([
                "--log-level",
                "debug",
                "system",
                "connection",
                "list",
                "--format",
                "json",
            ]),
        None,
        T,
    );
    out.assert_success();
    assert!(out.stdout.contains("withpw"), "{out}");
    assert!(
        !out.stdout.contains(password) && !out.stderr.contains(password),
        "{out}"
    );
}

#[test]
fn a_key_passphrase_never_shows_in_debug_logs_errors_or_arguments() {
    let w = world();
    let home = trusted_home(w);
    let passphrase = w.key_passphrase.as_str();
    let encoded = passphrase.replace(' ', "%20");
    // podman's way: the URL password doubles as the key's passphrase.
    let url = format!(
        "ssh://root:{encoded}@127.0.0.1:{}{}",
        w.ssh_port,
        w.socket.display()
    );
    let (out, args) = run_watching_arguments(
        home.podman_remote()
            .env("CONTAINER_HOST", &url)
            .args(["--log-level", "debug", "--identity"])
            .arg(&w.key_encrypted)
            .args(["ps", "-q"]),
        None,
    );
    out.assert_success();
    assert_no_secret("right passphrase", &out, &args, &[passphrase, &encoded]);

    // A wrong one: refused with a clear message that does not repeat it.
    let wrong = "WrongPassphrase4242";
    let url = format!(
        "ssh://root:{wrong}@127.0.0.1:{}{}",
        w.ssh_port,
        w.socket.display()
    );
    let (out, args) = run_watching_arguments(
        home.podman_remote()
            .env("CONTAINER_HOST", &url)
            .args(["--log-level", "debug", "--identity"])
            .arg(&w.key_encrypted)
            .args(["ps", "-q"]),
        None,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains(&w.key_encrypted.display().to_string());
    assert_no_secret("wrong passphrase", &out, &args, &[wrong, passphrase]);
}

#[test]
fn registry_credentials_never_show_and_the_auth_file_is_private() {
    let w = world();
    let r = registry();
    let home = trusted_home(w);
    // A directory that does not exist yet: we create it, privately.
    let dir = home.path.join("fresh-auth-dir");
    let authfile = dir.join("auth.json");
    let (out, args) = run_watching_arguments(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["--log-level", "debug", "login", "--authfile"])
            .arg(&authfile)
            .args(["--username", &r.user, "--password-stdin", &r.host()]),
        Some(r.password.as_bytes()),
    );
    out.assert_success();
    let basic = base64(&format!("{}:{}", r.user, r.password));
    assert_no_secret("login", &out, &args, &[&r.password, &basic]);
    assert_eq!(mode(&authfile), 0o600, "auth.json");
    assert_eq!(
        mode(&dir) & 0o077,
        0,
        "auth.json's directory is {:o}",
        mode(&dir)
    );

    // Using the stored credentials (pull of a missing image: the engine answers an error
    // that must not carry them either), and a wrong password.
    let missing = format!("{}/e2e/{}:nope", r.host(), unique("nothing"));
    let (out, args) = run_watching_arguments(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["--log-level", "debug", "pull", "--authfile"])
            .arg(&authfile)
            .arg(&missing),
        None,
    );
    assert_ne!(out.status, 0, "{out}");
    assert_no_secret(
        "pull with stored credentials",
        &out,
        &args,
        &[&r.password, &basic],
    );

    let wrong = "NotThePassword987";
    let (out, args) = run_watching_arguments(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["--log-level", "debug", "login", "--authfile"])
            .arg(home.path.join("other-auth.json"))
            .args(["--username", &r.user, "--password-stdin", &r.host()]),
        Some(wrong.as_bytes()),
    );
    assert_ne!(out.status, 0, "{out}");
    assert_no_secret(
        "failed login",
        &out,
        &args,
        &[wrong, &base64(&format!("{}:{wrong}", r.user))],
    );
}

#[test]
fn secret_values_never_show_in_debug_logs_errors_or_arguments() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("sec");
    let value = "TopSecretValue-5d1e9";
    let ours = |args: &[&str]| {
        let mut c = home.podman_remote();
        c.args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["--log-level", "debug"])
            .args(args);
        c
    };
    let (out, args) = run_watching_arguments(
        &mut ours(&["secret", "create", &name, "-"]),
        Some(value.as_bytes()),
    );
    out.assert_success();
    assert_no_secret("secret create", &out, &args, &[value]);
    // Creating it again fails; the message names the secret, not its value.
    let (out, args) = run_watching_arguments(
        &mut ours(&["secret", "create", &name, "-"]),
        Some(value.as_bytes()),
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains(&name);
    assert_no_secret("secret create (duplicate)", &out, &args, &[value]);
    for cmd in [
        vec!["secret", "inspect", name.as_str()],
        vec!["secret", "ls"],
    ] {
        let (out, args) = run_watching_arguments(&mut ours(&cmd), None);
        out.assert_success();
        assert_no_secret(&cmd.join(" "), &out, &args, &[value]);
    }
    // It does reach a container that asks for it (so the test's secret is real).
    let out = w.engine(&[
        "run",
        "--rm",
        "--secret",
        &name,
        &w.image,
        "cat",
        &format!("/run/secrets/{name}"),
    ]);
    assert_eq!(out.stdout, value, "{out}");
    run(&mut ours(&["secret", "rm", &name]), None, T).assert_success();
}

// ---------------------------------------------------------------------------------------------
// Files

#[test]
fn known_hosts_we_create_is_private() {
    let w = world();
    let home = w.home();
    // No ~/.ssh at all: we create it (0700) along with known_hosts (0600).
    fs::remove_dir(home.ssh_dir()).unwrap();
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["ps", "-q"]),
        None,
        T,
    );
    out.assert_success();
    let known = home.known_hosts_path();
    // Default policy (podman's): accept-new, the key is recorded.
    let text = home.known_hosts();
    let key = |line: &str| {
        line.split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        text.contains(&key(&w.host_key_pub)) || text.contains(&key(&w.host_key_rsa_pub)),
        "{text}\n{out}"
    );
    assert_eq!(mode(&home.ssh_dir()), 0o700, "~/.ssh");
    assert_eq!(mode(&known), 0o600, "known_hosts");
}

#[test]
fn a_writable_ssh_config_is_ignored_with_opensshs_warning() {
    let w = world();
    let home = trusted_home(w);
    let key = home.install_key(&w.key, "id_e2e");
    home.write_ssh_config(&format!(
        "Host engine-alias\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n",
        w.ssh_port,
        key.display()
    ));
    let config = home.ssh_dir().join("config");
    let url = format!("ssh://engine-alias{}", w.socket.display());
    let ps = || {
        run(
            home.podman_remote().args(["--url", &url, "ps", "-q"]),
            None,
            T,
        )
    };
    ps().assert_success();

    // Anyone may now rewrite it (to send us to their host, key or known_hosts): ignored.
    fs::set_permissions(&config, fs::Permissions::from_mode(0o666)).unwrap();
    let out = ps();
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("Bad owner or permissions on")
        .assert_stderr_contains(&config.display().to_string());
    // Same for a file it includes.
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
    let included = home.ssh_dir().join("included.conf");
    fs::write(&included, "Host engine-alias\n  Port 1\n").unwrap();
    fs::set_permissions(&included, fs::Permissions::from_mode(0o662)).unwrap();
    home.write_ssh_config(&format!(
        "Include {}\nHost engine-alias\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n",
        included.display(),
        w.ssh_port,
        key.display()
    ));
    let out = ps();
    out.assert_success();
    out.assert_stderr_contains("Bad owner or permissions on")
        .assert_stderr_contains(&included.display().to_string());
}

#[test]
fn an_identity_file_others_can_read_is_refused() {
    let w = world();
    let home = trusted_home(w);
    let key = home.install_key(&w.key, "id_open");
    let ps = || {
        run(
            home.podman_remote()
                .args(["--url", &w.ssh_url(), "--identity"])
                .arg(&key)
                .args(["ps", "-q"]),
            None,
            T,
        )
    };
    for open in [0o644, 0o666, 0o640] {
        fs::set_permissions(&key, fs::Permissions::from_mode(open)).unwrap();
        let out = ps();
        assert_eq!(out.status, 125, "{open:o}: {out}");
        out.assert_stderr_contains("UNPROTECTED PRIVATE KEY FILE")
            .assert_stderr_contains(&key.display().to_string());
    }
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    ps().assert_success();

    // A default identity (~/.ssh/id_ed25519) that is too open is skipped with the warning.
    let default_key = home.install_key(&w.key, "id_ed25519");
    fs::set_permissions(&default_key, fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "ps", "-q"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("UNPROTECTED PRIVATE KEY FILE");
}
