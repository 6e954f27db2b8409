//! Faults and security of the API server (`podman-remote system service`) against a real
//! engine and sshd in a network namespace: the engine restarted under a running server, a
//! host key that does not match known_hosts, and the modes of what the server writes beyond
//! those `server.rs` checks (its log, a runtime directory found too open or not ours).
#![cfg(target_os = "linux")]

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::*;

const T: Duration = Duration::from_secs(120);

/// A server started with `--detach` in its own home; SIGTERM on drop.
struct Served {
    home: Home,
    url: String,
    socket: PathBuf,
    pid: u32,
}

impl Served {
    #[track_caller]
    fn start(host: &RemoteHost, home: Home, extra: &[&str]) -> Served {
        let url = host.ssh_url();
        let out = run(
            home.podman_remote()
                .args(["--url", &url, "--identity"])
                .arg(&host.key)
                .args(["system", "service", "--detach", "--time", "0"])
                .args(extra),
            None,
            T,
        );
        out.assert_success();
        let uri = out.stdout.trim().to_string();
        let socket = PathBuf::from(
            uri.strip_prefix("unix://")
                .unwrap_or_else(|| panic!("--detach printed {uri:?}, not a unix:// URI")),
        );
        let pid_file = socket.with_extension("pid");
        let pid = fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()))
            .trim()
            .parse()
            .expect("pid file holds a pid");
        Served {
            home,
            url,
            socket,
            pid,
        }
    }

    fn client(&self, host: &RemoteHost) -> Command {
        let mut c = self.home.podman_remote();
        c.args(["--url", &self.url, "--identity"]).arg(&host.key);
        c
    }

    fn alive(&self) -> bool {
        // SAFETY: signal 0 only checks that the pid our server wrote exists.
        unsafe { libc::kill(self.pid as libc::pid_t, 0) == 0 }
    }

    fn log(&self) -> String {
        fs::read_to_string(self.socket.with_extension("log")).unwrap_or_default()
    }

    fn state(&self) -> serde_json::Value {
        let p = self.socket.with_extension("state.json");
        let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", p.display()))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: plain syscall on the pid our server wrote.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
    }
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn trusting_home(host: &RemoteHost) -> Home {
    let home = world().home();
    home.write_known_hosts(&host.known_hosts());
    home
}

// ---------------------------------------------------------------------------------------------
// Engine restarted under the server

#[test]
fn engine_restarted_under_the_server_keeps_the_socket_and_serves_again() {
    let w = world();
    // A host of its own: the engine is killed, which other tests must not see.
    let host = RemoteHost::start(w);
    let s = Served::start(&host, trusting_home(&host), &[]);
    assert_eq!(
        http_unix(&s.socket, "GET", "/_ping").unwrap(),
        (200, "OK".into())
    );

    host.kill_engine();
    // The SSH session is fine, only the engine's socket is gone: each request gets a 503
    // carrying sshd's reason, and the server itself stays up on the same socket.
    let mut down = None;
    wait_until(
        "requests get a 503 while the engine is down",
        Duration::from_secs(30),
        || match http_unix(&s.socket, "GET", "/_ping") {
            Ok((503, body)) => {
                down = Some(body);
                true
            }
            _ => false,
        },
    );
    let body: serde_json::Value = serde_json::from_str(&down.unwrap()).unwrap();
    assert_eq!(body["response"], 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("podman-remote API server: ")),
        "{body}"
    );
    let out = run(s.client(&host).args(["ps"]), None, T);
    assert_ne!(out.status, 0, "ps succeeded with the engine down: {out}");
    assert!(!out.stderr.contains("panicked"), "{out}");
    assert!(
        s.alive(),
        "the server exited when the engine went away:\n{}",
        s.log()
    );
    assert!(
        fs::symlink_metadata(&s.socket).is_ok_and(|m| m.file_type().is_socket()),
        "the server's socket is gone"
    );

    host.restart_engine();
    wait_until("the server serves again", Duration::from_secs(30), || {
        matches!(http_unix(&s.socket, "GET", "/_ping"), Ok((200, _)))
    });
    assert!(s.alive());
    assert_eq!(mode(&s.socket), 0o600, "socket mode after the restart");
    let (code, body) = http_unix(&s.socket, "GET", "/v4.3.1/libpod/info").unwrap();
    assert_eq!(code, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["version"]["Version"], "4.3.1", "{body}");

    // Our client through the server, and published ports: a container started after the
    // restart is found through a new event stream, so the server followed the engine back.
    let port = free_port();
    let name = unique("restart");
    let out = run(
        s.client(&host).args([
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            &format!("{port}:80"),
            &w.image,
            "sh",
            "-c",
            "mkdir -p /www && echo back > /www/index.html && exec httpd -f -p 80 -h /www",
        ]),
        None,
        T,
    );
    out.assert_success();
    wait_until(
        "the port of a container started after the restart is forwarded",
        Duration::from_secs(60),
        || get_local(port).as_deref() == Some("back\n"),
    );
    let out = run(
        s.client(&host).args([
            "ps",
            "--filter",
            &format!("name={name}"),
            "--format",
            "{{.Names}}",
        ]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout.trim(), name);
    assert_eq!(s.state()["state"], "connected", "{}", s.state());
    host.engine(&["rm", "-f", "-t", "0", &name]);
}

// ---------------------------------------------------------------------------------------------
// Host keys

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

fn sockets_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sock"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_server_refuses_a_mismatching_host_key_and_serves_nothing() {
    let w = world();
    let host = RemoteHost::shared(w);
    let home = w.home();
    // An sshd of this test's own, so that other tests' logins do not count.
    let sshd = host.start_sshd("sshd-hostkey", 2210, "", None);
    let url = host.ssh_url_for(&sshd);
    let known = format!("[{}]:{} {}\n", host.ip, sshd.port, stranger_key());
    home.write_known_hosts(&known);
    let logins_before = sshd.logins();
    let runtime = home.path.join("run/podman-remote");
    // Every policy, the permissive ones included; foreground and --detach.
    for policy in ["yes", "accept-new", "no"] {
        home.write_ssh_config(&format!("Host *\n  StrictHostKeyChecking {policy}\n"));
        for detach in [false, true] {
            let mut cmd = home.podman_remote();
            cmd.args(["--url", &url, "--identity"])
                .arg(&host.key)
                .args(["system", "service", "--time", "0"]);
            if detach {
                cmd.arg("--detach");
            }
            let out = run(&mut cmd, None, Duration::from_secs(60));
            let what = format!("StrictHostKeyChecking {policy}, detach {detach}");
            assert_eq!(out.status, 125, "{what}: {out}");
            out.assert_stderr_contains("IDENTIFICATION HAS CHANGED")
                .assert_stderr_contains(&w.host_key_fingerprint);
            assert!(!out.stderr.contains("panicked"), "{what}: {out}");
            assert!(
                !out.stdout.contains("unix://"),
                "{what}: printed a socket: {out}"
            );
            assert!(
                sockets_in(&runtime).is_empty(),
                "{what}: socket left behind: {:?}",
                sockets_in(&runtime)
            );
            assert_eq!(home.known_hosts(), known, "{what}: known_hosts changed");
        }
    }
    // No status either: no server of this user is running.
    let out = run(
        home.podman_remote()
            .args(["--url", &url, "--identity"])
            .arg(&host.key)
            .args(["system", "service", "--status"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "No API server is running.\n");
    // Refused before authenticating: the key was checked first.
    assert_eq!(
        sshd.logins(),
        logins_before,
        "the server logged in to a host whose key does not match"
    );
}

// ---------------------------------------------------------------------------------------------
// Modes of what the server writes (socket, runtime dir, pid and state files: server.rs)

#[test]
fn the_detached_log_is_private_and_an_open_runtime_dir_is_tightened() {
    let w = world();
    let host = RemoteHost::shared(w);
    let home = trusting_home(host);
    // A runtime directory someone left open: the server makes it owner-only before binding.
    let dir = home.path.join("run/podman-remote");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let s = Served::start(host, home, &["--no-publish"]);
    assert_eq!(s.socket.parent(), Some(dir.as_path()));
    assert_eq!(mode(&dir), 0o700, "runtime dir mode");
    assert_eq!(mode(&s.socket), 0o600, "socket mode");
    let log = s.socket.with_extension("log");
    assert!(log.exists(), "--detach wrote no log");
    assert_eq!(mode(&log) & 0o077, 0, "{} is open to others", log.display());
    assert_eq!(
        http_unix(&s.socket, "GET", "/_ping").unwrap(),
        (200, "OK".into())
    );
}

#[test]
fn a_runtime_dir_owned_by_someone_else_is_refused() {
    let w = world();
    let host = RemoteHost::shared(w);
    let home = trusting_home(host);
    let dir = home.path.join("run/podman-remote");
    fs::create_dir_all(&dir).unwrap();
    // nobody:nogroup, as another local user who created it first would own it.
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    let out = run(
        home.podman_remote()
            .args(["--url", &host.ssh_url(), "--identity"])
            .arg(&host.key)
            .args(["system", "service", "--time", "0", "--no-publish"]),
        None,
        Duration::from_secs(60),
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains(&format!("{} belongs to uid 65534", dir.display()))
        .assert_stderr_contains("refusing to put an API socket there");
    assert!(sockets_in(&dir).is_empty(), "{:?}", sockets_in(&dir));
    let md = fs::metadata(&dir).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&md),
        65534,
        "the directory was taken over"
    );
}
