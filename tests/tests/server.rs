//! The SSH-tunnelled API server (`podman-remote system service`) against a real podman
//! engine and a real sshd inside a network namespace (a "remote host" whose loopback is not
//! the test's): Docker CLI and our client through the socket, published ports on localhost,
//! 1,000 requests, sshd restarts, extra sessions when sshd refuses channels, permissions,
//! `--status` and `--time`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use e2e::*;

const T: Duration = Duration::from_secs(120);

/// A client home trusting the remote host, and a server started with `--detach` in it.
struct Served {
    home: Home,
    url: String,
    socket: PathBuf,
    pid: u32,
}

impl Served {
    #[track_caller]
    fn start(host: &RemoteHost, url: &str, extra: &[&str]) -> Served {
        let home = world().home();
        home.write_known_hosts(&host.known_hosts());
        let out = run(
            home.podman_remote()
                .args(["--url", url, "--identity"])
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
            url: url.to_string(),
            socket,
            pid,
        }
    }

    /// `podman-remote --url URL --identity KEY` in the server's home.
    fn client(&self, host: &RemoteHost) -> Command {
        let mut c = self.home.podman_remote();
        c.args(["--url", &self.url, "--identity"]).arg(&host.key);
        c
    }

    fn status_json(&self, host: &RemoteHost) -> serde_json::Value {
        let out = run(
            self.client(host)
                .args(["system", "service", "--status", "--format", "json"]),
            None,
            T,
        );
        out.assert_success();
        let v: serde_json::Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("--status --format json is not JSON ({e}):\n{out}"));
        let mine = v
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|s| s["socket"] == format!("unix://{}", self.socket.display()))
            })
            .unwrap_or_else(|| panic!("our server is not in --status:\n{out}"));
        mine.clone()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.socket.with_extension("log")).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: plain syscall on the pid our server wrote.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
    }
}

fn docker(s: &Served) -> Command {
    let mut c = Command::new("docker");
    c.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", &s.home.path)
        .env("DOCKER_CONFIG", s.home.path.join(".docker"))
        .env("DOCKER_HOST", format!("unix://{}", s.socket.display()))
        // No buildx plugin here: the classic builder talks API 1.41 as podman 4.3 wants.
        .env("DOCKER_BUILDKIT", "0");
    c
}

#[test]
fn remote_host_loopback_is_separate() {
    let w = world();
    let host = RemoteHost::shared(w);
    let port = free_port();
    let name = unique("sep");
    host.engine(&[
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        &format!("{port}:80"),
        &w.image,
        "sh",
        "-c",
        "mkdir -p /www && echo sep-ok > /www/index.html && exec httpd -f -p 80 -h /www",
    ]);
    // Inside the namespace the published port answers (once httpd is up)...
    let mut out = None;
    wait_until(
        "httpd answers inside the namespace",
        Duration::from_secs(30),
        || {
            let o = run(
                host.exec("/bin/busybox").args([
                    "wget",
                    "-q",
                    "-O",
                    "-",
                    &format!("http://127.0.0.1:{port}/"),
                ]),
                None,
                T,
            );
            let ok = o.success();
            out = Some(o);
            ok
        },
    );
    host.engine(&["rm", "-f", "-t", "0", &name]);
    assert_eq!(out.unwrap().stdout, "sep-ok\n");
    // ...but not on the host's loopback: only a forwarder can make it appear there.
    assert_eq!(
        get_local(port),
        None,
        "the port leaked to the host's loopback"
    );
}

#[test]
fn docker_cli_through_the_socket() {
    let w = world();
    let host = RemoteHost::shared(w);
    // Only the published-ports test forwards ports: servers of one engine running at the
    // same time would compete for the same local ports.
    let s = Served::start(host, &host.ssh_url(), &["--no-publish"]);

    let out = run(docker(&s).args(["ps", "-a"]), None, T);
    out.assert_success().assert_stdout_contains("CONTAINER ID");

    let out = run(
        docker(&s).args(["run", "--rm", &w.image, "echo", "hello from docker"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "hello from docker\n");

    let name = unique("dk");
    run(
        docker(&s).args([
            "run",
            "-d",
            "--name",
            &name,
            &w.image,
            "sh",
            "-c",
            "echo logged-line; sleep 300",
        ]),
        None,
        T,
    )
    .assert_success();
    wait_until(
        "docker logs shows the line",
        Duration::from_secs(30),
        || {
            run(docker(&s).args(["logs", &name]), None, T)
                .stdout
                .contains("logged-line")
        },
    );
    let out = run(docker(&s).args(["exec", &name, "echo", "exec-ok"]), None, T);
    out.assert_success();
    assert_eq!(out.stdout, "exec-ok\n");
    // The container is the engine's: podman on the remote side sees it.
    let ps = host.engine(&["ps", "--format", "{{.Names}}"]);
    assert!(ps.stdout.lines().any(|l| l == name), "{ps}");
    run(docker(&s).args(["rm", "-f", &name]), None, T).assert_success();

    let ctx = s.home.path.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {}\nRUN echo built-by-docker > /built\n", w.image),
    )
    .unwrap();
    let tag = format!("localhost/{}:v1", unique("dkbuild"));
    let out = run(docker(&s).args(["build", "-t", &tag]).arg(&ctx), None, T);
    out.assert_success();
    let out = run(docker(&s).args(["images"]), None, T);
    out.assert_success();
    let repo = tag.trim_end_matches(":v1");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(repo) && l.contains("v1")),
        "built image missing from docker images:\n{out}"
    );
    let out = run(
        docker(&s).args(["run", "--rm", &tag, "cat", "/built"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "built-by-docker\n");
    host.engine(&["rmi", "-f", &tag]);
}

#[test]
fn our_client_uses_the_running_server() {
    let w = world();
    let host = RemoteHost::shared(w);
    let sshd = host.start_sshd("sshd-client", 2201, "", None);
    let url = host.ssh_url_for(&sshd);
    let s = Served::start(host, &url, &["--no-publish"]);
    let logins = sshd.logins();

    let out = run(
        s.client(host).args([
            "--log-level",
            "debug",
            "run",
            "--rm",
            &w.image,
            "echo",
            "via-server",
        ]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "via-server\n");
    assert!(
        out.stderr.contains(&format!(
            "using the API server on unix://{}",
            s.socket.display()
        )),
        "{out}"
    );
    let out = run(s.client(host).args(["ps", "-a"]), None, T);
    out.assert_success().assert_stdout_contains("CONTAINER ID");
    // The socket is a plain podman API socket for any client, ours included.
    let out = run(
        s.home
            .podman_remote()
            .args(["--url", &format!("unix://{}", s.socket.display())])
            .args(["run", "--rm", &w.image, "echo", "via-unix-url"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "via-unix-url\n");
    assert_eq!(
        sshd.logins(),
        logins,
        "the client logged into sshd although a server runs:\n{}",
        sshd.log()
    );

    // Asked not to, it connects directly (one more login).
    let out = run(
        s.client(host)
            .env("PODMAN_REMOTE_NO_SERVER", "1")
            .args(["--log-level", "debug", "ps"]),
        None,
        T,
    );
    out.assert_success();
    assert!(!out.stderr.contains("using the API server"), "{out}");
    assert_eq!(sshd.logins(), logins + 1);

    // Without a server, the same command falls back to SSH.
    run(
        s.client(host).args(["system", "service", "--stop"]),
        None,
        T,
    )
    .assert_success();
    let out = run(s.client(host).args(["--log-level", "debug", "ps"]), None, T);
    out.assert_success();
    assert!(!out.stderr.contains("using the API server"), "{out}");
    assert_eq!(sshd.logins(), logins + 2);
}

#[test]
fn published_ports_appear_on_localhost() {
    let w = world();
    let host = RemoteHost::shared(w);
    let httpd = |text: &str| {
        format!("mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www")
    };
    // One container published before the server starts (found by listing), one after
    // (found through the event stream), and one whose port is taken on this machine.
    let (p1, p2) = (free_port(), free_port());
    let taken = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
    let p3 = taken.local_addr().unwrap().port();
    let (c1, c2, c3) = (unique("pub"), unique("pub"), unique("pub"));
    host.engine(&[
        "run",
        "-d",
        "--name",
        &c1,
        "-p",
        &format!("{p1}:80"),
        &w.image,
        "sh",
        "-c",
        &httpd("one"),
    ]);
    let s = Served::start(host, &host.ssh_url(), &[]);
    wait_until(
        "the first port is forwarded",
        Duration::from_secs(30),
        || get_local(p1).as_deref() == Some("one\n"),
    );
    let out = run(
        s.client(host).args([
            "run",
            "-d",
            "--name",
            &c2,
            "-p",
            &format!("{p2}:80"),
            &w.image,
            "sh",
            "-c",
            &httpd("two"),
        ]),
        None,
        T,
    );
    out.assert_success();
    wait_until(
        "the second port is forwarded",
        Duration::from_secs(30),
        || get_local(p2).as_deref() == Some("two\n"),
    );
    host.engine(&[
        "run",
        "-d",
        "--name",
        &c3,
        "-p",
        &format!("{p3}:80"),
        &w.image,
        "sh",
        "-c",
        &httpd("three"),
    ]);
    wait_until(
        "the taken port is reported",
        Duration::from_secs(30),
        || {
            s.status_json(host)["forwarded_ports"]
                .as_array()
                .is_some_and(|a| {
                    a.iter().any(|p| {
                        p["local"] == format!("127.0.0.1:{p3}")
                            && p["error"]
                                .as_str()
                                .is_some_and(|e| e.contains("already in use"))
                    })
                })
        },
    );
    let out = run(
        s.client(host).args(["system", "service", "--status"]),
        None,
        T,
    );
    out.assert_success()
        .assert_stdout_contains(&format!("127.0.0.1:{p1}/tcp -> 127.0.0.1:{p1}"))
        .assert_stdout_contains(&format!("127.0.0.1:{p3}/tcp NOT forwarded"));
    assert!(
        s.log().contains(&format!("cannot forward 127.0.0.1:{p3}")),
        "{}",
        s.log()
    );
    drop(taken);

    run(s.client(host).args(["stop", "-t", "0", &c1, &c2]), None, T).assert_success();
    wait_until(
        "the ports close after stop",
        Duration::from_secs(30),
        || get_local(p1).is_none() && get_local(p2).is_none(),
    );
    host.engine(&["rm", "-f", "-t", "0", &c1, &c2, &c3]);
}

#[test]
fn a_thousand_requests() {
    let w = world();
    let host = RemoteHost::shared(w);
    let s = Served::start(host, &host.ssh_url(), &["--no-publish"]);
    let ok = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    // 1,000 requests, 100 at a time, each on its own connection (its own SSH channel).
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let (ok, failures, socket) = (ok.clone(), failures.clone(), s.socket.clone());
            thread::spawn(move || {
                for _ in 0..10 {
                    match http_unix(&socket, "GET", "/_ping") {
                        Ok((200, body)) if body == "OK" => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        other => failures.lock().unwrap().push(format!("{other:?}")),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert_eq!(
        ok.load(Ordering::Relaxed),
        1000,
        "{} failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    // Something with a body, checked against the engine directly.
    let (code, body) = http_unix(&s.socket, "GET", "/v4.3.1/libpod/images/json").unwrap();
    assert_eq!(code, 200);
    let via: serde_json::Value = serde_json::from_str(&body).unwrap();
    let direct: serde_json::Value = serde_json::from_str(
        &http_unix(&host.socket, "GET", "/v4.3.1/libpod/images/json")
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(via, direct);
    // The state file is rewritten every second.
    wait_until(
        "--status counts the channels",
        Duration::from_secs(10),
        || s.status_json(host)["channels_total"].as_u64().unwrap() >= 1001,
    );
}

#[test]
fn recovers_after_sshd_restart() {
    let w = world();
    let host = RemoteHost::shared(w);
    let sshd = host.start_sshd("sshd-restart", 2202, "", None);
    let url = host.ssh_url_for(&sshd);
    let s = Served::start(host, &url, &["--no-publish"]);
    assert_eq!(
        http_unix(&s.socket, "GET", "/_ping").unwrap(),
        (200, "OK".into())
    );

    sshd.kill();
    // Requests meanwhile get a clear error, in the shape podman and Docker print.
    let mut down = None;
    wait_until(
        "the server notices",
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
    assert_eq!(body["response"], 503);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("SSH connection to the engine is down"),
        "{body}"
    );
    let out = run(docker(&s).args(["ps"]), None, T);
    out.assert_failure()
        .assert_stderr_contains("SSH connection to the engine is down");
    wait_until(
        "--status shows the reconnection",
        Duration::from_secs(10),
        || s.status_json(host)["state"] == "reconnecting",
    );

    sshd.restart();
    wait_until("the server reconnects", Duration::from_secs(30), || {
        matches!(http_unix(&s.socket, "GET", "/_ping"), Ok((200, _)))
    });
    let out = run(docker(&s).args(["ps"]), None, T);
    out.assert_success();
    let st = s.status_json(host);
    assert_eq!(st["state"], "connected");
    assert!(st["reconnects"].as_u64().unwrap() >= 1, "{st}");
    assert!(s.log().contains("reconnected to"), "{}", s.log());
}

#[test]
fn opens_another_session_when_sshd_refuses_channels() {
    let w = world();
    let host = RemoteHost::shared(w);
    // OpenSSH does not count forwarding channels against MaxSessions (measured: six
    // direct-streamlocal channels on a MaxSessions 2 session all open), so sshd is also
    // given only 16 file descriptors: each channel holds one, and sshd refuses channels
    // ("connect failed") once a session's process has none left — about 11 per session.
    let sshd = host.start_sshd("sshd-limited", 2203, "MaxSessions 2\n", Some(16));
    let url = host.ssh_url_for(&sshd);
    let s = Served::start(host, &url, &["--no-publish"]);
    // 30 long-lived connections: event streams that stay open.
    let mut streams = Vec::new();
    for i in 0..30 {
        let mut c = UnixStream::connect(&s.socket).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(
            c,
            "GET /v4.3.1/libpod/events?stream=true HTTP/1.1\r\nHost: d\r\n\r\n"
        )
        .unwrap();
        let mut r = BufReader::new(c);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(
            line.starts_with("HTTP/1.1 200"),
            "stream {i}: {line:?}\nserver log:\n{}",
            s.log()
        );
        streams.push(r);
    }
    assert_eq!(
        http_unix(&s.socket, "GET", "/_ping").unwrap(),
        (200, "OK".into())
    );
    wait_until(
        "--status shows at least 3 sessions (30 channels, ~11 per session)",
        Duration::from_secs(10),
        || s.status_json(host)["sessions"].as_u64().unwrap() >= 3,
    );
    assert!(sshd.log().contains("Too many open files"), "{}", sshd.log());
    assert!(
        s.log().contains("opening another SSH session"),
        "{}",
        s.log()
    );
    drop(streams);
}

#[test]
fn permissions_status_and_idle_exit() {
    let w = world();
    let host = RemoteHost::shared(w);
    let home = w.home();
    home.write_known_hosts(&host.known_hosts());
    let client = || {
        let mut c = home.podman_remote();
        c.args(["--url", &host.ssh_url(), "--identity"])
            .arg(&host.key);
        c
    };
    // Bad input first.
    let out = run(
        client().args(["system", "service", "tcp://127.0.0.1:1"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("invalid URI");
    let out = run(
        client().args([
            "system",
            "service",
            "--status",
            "unix:///nonexistent/x.sock",
        ]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("no API server is running on unix:///nonexistent/x.sock");
    let out = run(client().args(["system", "service", "--status"]), None, T);
    out.assert_success();
    assert_eq!(out.stdout, "No API server is running.\n");

    // An engine socket that is not there: a clear error at start, not 503s later.
    let bad = format!("ssh://root@{}/nonexistent/podman.sock", host.ip);
    let out = run(
        home.podman_remote()
            .args(["--url", &bad, "--identity"])
            .arg(&host.key)
            .args(["system", "service", "--time", "1"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("refused to forward to the socket /nonexistent/podman.sock");
    let leftovers: Vec<_> = fs::read_dir(home.path.join("run/podman-remote"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !leftovers
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".sock")),
        "socket left behind: {leftovers:?}"
    );

    // Foreground server, idle timeout 3 s.
    let log = home.path.join("server.log");
    let mut server = spawn_daemon({
        let mut c = client();
        c.args(["system", "service", "--no-publish", "--time", "3"])
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(home.path.join("server.err")).unwrap());
        c
    })
    .unwrap();
    let dir = home.path.join("run/podman-remote");
    let mut socket = None;
    wait_until("the socket appears", Duration::from_secs(30), || {
        socket = fs::read_dir(&dir).ok().and_then(|d| {
            d.flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "sock"))
        });
        // The socket is bound before the SSH login; the state file follows it.
        socket
            .as_ref()
            .is_some_and(|p| p.with_extension("state.json").exists())
    });
    let socket = socket.unwrap();
    let md = fs::symlink_metadata(&socket).unwrap();
    assert!(md.file_type().is_socket());
    assert_eq!(md.permissions().mode() & 0o777, 0o600, "socket mode");
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700,
        "runtime dir mode"
    );
    for f in ["pid", "state.json"] {
        let p = socket.with_extension(f);
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o077,
            0,
            "{} is open to others",
            p.display()
        );
    }

    // A client connection keeps it alive past the idle time.
    let mut events = UnixStream::connect(&socket).unwrap();
    write!(
        events,
        "GET /v4.3.1/libpod/events?stream=true HTTP/1.1\r\nHost: d\r\n\r\n"
    )
    .unwrap();
    let out = run(client().args(["system", "service", "--status"]), None, T);
    out.assert_success()
        .assert_stdout_contains(&format!("Socket:          unix://{}", socket.display()))
        .assert_stdout_contains(&format!("Connection:      {}", host.ssh_url()))
        .assert_stdout_contains(&format!("PID:             {}", server.id()))
        .assert_stdout_contains("State:           connected")
        .assert_stdout_contains("SSH sessions:    1")
        .assert_stdout_contains("Uptime:          ");
    let out = run(
        client().args([
            "system",
            "service",
            "--status",
            "--format",
            "{{.state}} {{.sessions}}",
        ]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "connected 1\n");
    thread::sleep(Duration::from_secs(5));
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server exited while a client was connected"
    );
    drop(events);
    let t0 = Instant::now();
    wait_until("the idle server exits", Duration::from_secs(30), || {
        server.try_wait().unwrap().is_some()
    });
    assert!(
        t0.elapsed() >= Duration::from_secs(2),
        "exited {:?} after the last client left, before its idle time",
        t0.elapsed()
    );
    assert!(!socket.exists(), "socket left behind");
    assert!(!socket.with_extension("state.json").exists());
    stop_daemon(&mut server, Duration::from_secs(1));
}
