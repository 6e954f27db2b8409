//! The Windows build's named-pipe API server under Wine: `podman-remote.exe system service`
//! listens on `npipe:////./pipe/NAME` and tunnels to the world's engine over SSH, and the
//! same exe as a client, given the `npipe://` URL, runs `version`, `run` and `ps` through the
//! pipe. Both run in one private Wine prefix (one wineserver: the pipe is visible to both).
//! This is the path a Windows machine's `\\.\pipe\podman-NAME` takes (`machine __watch`
//! serves it with the same server).
//!
//! The exe is built with `cargo build --target x86_64-pc-windows-gnu -p podman-remote`.
#![cfg(target_os = "linux")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use e2e::*;

/// A cold cross build on a loaded 2-core machine.
const BUILD_TIMEOUT: Duration = Duration::from_secs(3 * 3600);
const TARGET: &str = "x86_64-pc-windows-gnu";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `podman-remote.exe`, built once per test binary.
fn exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut c = Command::new(cargo);
        c.current_dir(workspace())
            .args(["build", "--locked", "-q", "--target", TARGET])
            .args(["-p", "podman-remote"]);
        run(&mut c, None, BUILD_TIMEOUT).assert_success();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target"));
        let exe = target.join(TARGET).join("debug/podman-remote.exe");
        assert!(exe.is_file(), "{} was not built", exe.display());
        exe
    })
}

/// The service in the background, stopped (and its prefix's wineserver with it) on drop.
struct Service {
    child: std::process::Child,
    log: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        stop_daemon(&mut self.child, Duration::from_secs(5));
    }
}

impl Service {
    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the server's "listening" line (it prints it once bound and connected).
    #[track_caller]
    fn wait_listening(&mut self, pipe_url: &str) {
        let deadline = Instant::now() + WINE_TIMEOUT;
        let want = format!("API server listening on {pipe_url}");
        while Instant::now() < deadline {
            if self.log().contains(&want) {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "the service exited ({st}) before listening:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("the service did not listen on {pipe_url}:\n{}", self.log());
    }
}

#[test]
fn named_pipe_api_server_under_wine_serves_the_windows_client() {
    let w = world();
    let exe = exe();
    let dir = tempfile::Builder::new()
        .prefix("wine-pipe")
        .tempdir_in(&w.dir)
        .unwrap();
    let wine = WinePrefix::new(dir.path());
    let home = w.home();
    home.trust_world(w);
    let win_home = wine_path(&home.path);
    let with_home = |mut c: Command| {
        c.env("HOME", &win_home).env("USERPROFILE", &win_home);
        c
    };

    // Nothing serves the pipe yet: podman's exit code and a message saying what is missing.
    let pipe = unique("podman-e2e");
    let url = format!("npipe:////./pipe/{pipe}");
    let none = run(
        &mut with_home(wine.cmd(exe, &["--url", &url, "version"])),
        None,
        WINE_TIMEOUT,
    );
    assert_eq!(none.status, 125, "{none}");
    assert!(none.stderr.contains("no such pipe"), "{none}");

    let log = dir.path().join("service.log");
    let mut c = with_home(wine.cmd(
        exe,
        &[
            "--url",
            &w.ssh_url(),
            "--identity",
            &wine_path(&w.key),
            "system",
            "service",
            "--time",
            "0",
            &url,
        ],
    ));
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap());
    let mut svc = Service {
        child: spawn_daemon(c).expect("wine starts"),
        log,
    };
    svc.wait_listening(&url);

    let client = |args: &[&str]| {
        let mut a = vec!["--url", url.as_str()];
        a.extend_from_slice(args);
        with_home(wine.cmd(exe, &a))
    };

    let v = run(
        &mut client(&[
            "version",
            "--format",
            "{{.Client.OsArch}} {{.Server.Version}}",
        ]),
        None,
        WINE_TIMEOUT,
    );
    v.assert_success();
    assert_eq!(v.stdout.trim(), "windows/amd64 4.3.1", "{v}");

    // An attached run: the HTTP upgrade and the raw stream both cross the pipe.
    let r = run(
        &mut client(&["run", "--rm", &w.image, "echo", "hello through the pipe"]),
        None,
        WINE_TIMEOUT,
    );
    r.assert_success();
    assert_eq!(r.stdout, "hello through the pipe\n", "{r}");

    // A container made through the pipe is the engine's: ps through the pipe and the Linux
    // client over SSH both see it.
    let name = unique("wine-pipe");
    run(
        &mut client(&["run", "-d", "--name", &name, &w.image, "sleep", "120"]),
        None,
        WINE_TIMEOUT,
    )
    .assert_success();
    let ps = run(
        &mut client(&[
            "ps",
            "--filter",
            &format!("name={name}"),
            "--format",
            "{{.Names}} {{.State}}",
        ]),
        None,
        WINE_TIMEOUT,
    );
    let direct = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args([
                "ps",
                "--filter",
                &format!("name={name}"),
                "--format",
                "{{.Names}}",
            ]),
        None,
        Duration::from_secs(60),
    );
    let rm = run(
        &mut client(&["rm", "-f", "-t", "0", &name]),
        None,
        WINE_TIMEOUT,
    );
    ps.assert_success();
    assert_eq!(ps.stdout.trim(), format!("{name} running"), "{ps}");
    direct.assert_success();
    assert_eq!(direct.stdout.trim(), name, "{direct}");
    rm.assert_success();

    // The server's own log names what it serves; no error was logged while serving.
    let log = svc.log();
    assert!(
        log.contains(&format!("API server listening on {url}")),
        "{log}"
    );
    assert!(!log.to_lowercase().contains("error"), "{log}");
}

/// The background form: `--detach` returns once the pipe answers, `--status` lists the
/// server, the client works through it, and `--stop` ends it (the pipe is gone after).
#[test]
fn detached_named_pipe_service_under_wine() {
    let w = world();
    let exe = exe();
    let dir = tempfile::Builder::new()
        .prefix("wine-detach")
        .tempdir_in(&w.dir)
        .unwrap();
    let wine = WinePrefix::new(dir.path());
    let home = w.home();
    home.trust_world(w);
    let win_home = wine_path(&home.path);
    let cmd = |args: &[&str]| {
        let mut c = wine.cmd(exe, args);
        c.env("HOME", &win_home).env("USERPROFILE", &win_home);
        c
    };
    let url = format!("npipe:////./pipe/{}", unique("podman-e2e-bg"));
    let d = run(
        &mut cmd(&[
            "--url",
            &w.ssh_url(),
            "--identity",
            &wine_path(&w.key),
            "system",
            "service",
            "--detach",
            "--time",
            "0",
            &url,
        ]),
        None,
        WINE_TIMEOUT,
    );
    d.assert_success();
    assert_eq!(d.stdout.trim(), url, "{d}");

    let st = run(
        &mut cmd(&[
            "system",
            "service",
            "--status",
            &url,
            "--format",
            "{{.socket}} {{.state}}",
        ]),
        None,
        WINE_TIMEOUT,
    );
    st.assert_success();
    assert_eq!(st.stdout.trim(), format!("{url} connected"), "{st}");

    let v = run(
        &mut cmd(&["--url", &url, "version", "--format", "{{.Server.Version}}"]),
        None,
        WINE_TIMEOUT,
    );
    v.assert_success();
    assert_eq!(v.stdout.trim(), "4.3.1", "{v}");

    let stop = run(
        &mut cmd(&["system", "service", "--stop", &url]),
        None,
        WINE_TIMEOUT,
    );
    stop.assert_success()
        .assert_stdout_contains(&format!("Stopped the API server on {url}"));
    let gone = run(&mut cmd(&["--url", &url, "version"]), None, WINE_TIMEOUT);
    assert_eq!(gone.status, 125, "{gone}");
    assert!(gone.stderr.contains("no such pipe"), "{gone}");
}
