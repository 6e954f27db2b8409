//! `podman-remote machine`: real QEMU VMs (TCG here) booted from the project's own Debian image
//! (tests/vm-image/build.sh, built and cached on first use; needs root and deb.debian.org).
//!
//! Its own test target, so the fast tests stay fast: `cargo test -p podman-e2e --test machine`.
//! One VM at a time (a process-wide mutex), few boots: the lifecycle test reuses one machine
//! through a sequence of steps. Every test has a private HOME/XDG dirs and kills its QEMU by
//! pid file on teardown, even when an assertion fails.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use e2e::*;
use serde_json::Value;

/// VMs are heavy under TCG on two cores: one at a time.
static ONE_VM: Mutex<()> = Mutex::new(());

const CMD: Duration = MACHINE_CMD;

/// A private home whose watcher checks the guest clock every 3 s.
fn new_env() -> MachineHome {
    let mut h = MachineHome::new("pm");
    h.extra
        .push(("PODMAN_REMOTE_MACHINE_CLOCK_CHECK".into(), "3".into()));
    h
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("timed out waiting for {what}");
}

fn machine<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|m| m["Name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list:?}"))
}

/// init --now (rootless by default, one --volume), run a container through the machine's
/// connections, ssh (a command and an interactive PTY), the volume both ways, cp both ways, list,
/// clock resync, start twice, a VM killed from outside, two concurrent starts, stop, rm -f.
#[test]
fn lifecycle_with_a_real_vm() {
    let _one = ONE_VM.lock().unwrap_or_else(|e| e.into_inner());
    let img = machine_image();
    let env = new_env();
    let name = "e2e-vm";
    // A host directory shared with the guest; the guest's rootless user writes into it too.
    let share = env.path().join("share");
    std::fs::create_dir(&share).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&share, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::write(share.join("from-host.txt"), "written on the host\n").unwrap();

    let out = env.pr_boot(&[
        "machine",
        "init",
        "--image",
        img.to_str().unwrap(),
        "--cpus",
        "2",
        "--memory",
        "1536",
        "--disk-size",
        "6",
        "--volume",
        &format!("{}:/mnt/hostshare", share.display()),
        "--now",
        name,
    ]);
    out.assert_success()
        .assert_stdout_contains("Machine init complete")
        .assert_stdout_contains(&format!("Machine \"{name}\" started successfully"));
    let pid = env.qemu_pid(name).expect("QEMU runs after init --now");

    // The machine's connections: NAME (rootless, the default, as with podman machine) and
    // NAME-root.
    let conns = env.pr(&["system", "connection", "list", "--format", "json"]);
    conns.assert_success();
    let conns: Vec<Value> = serde_json::from_str(&conns.stdout).unwrap();
    let c = conns
        .iter()
        .find(|c| c["Name"] == name)
        .expect("NAME connection");
    assert_eq!(c["Default"], true);
    assert_eq!(c["IsMachine"], true);
    assert!(c["URI"]
        .as_str()
        .unwrap()
        .ends_with("/run/user/1000/podman/podman.sock"));
    let r = conns
        .iter()
        .find(|c| c["Name"] == format!("{name}-root"))
        .expect("NAME-root");
    assert_eq!(r["IsMachine"], true);
    assert_eq!(r["Default"], false);
    assert!(r["URI"]
        .as_str()
        .unwrap()
        .starts_with("ssh://root@127.0.0.1:"));

    // Plain podman-remote uses the machine's rootless engine (default connection): the
    // container's root is the guest user's uid, not the guest's root.
    let info = env.pr(&["info", "--format", "{{.Host.Security.Rootless}}"]);
    info.assert_success();
    assert_eq!(info.stdout.trim(), "true", "{info}");
    let map = env.pr(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/busybox",
        "cat",
        "/proc/self/uid_map",
    ]);
    map.assert_success();
    let first: Vec<&str> = map.stdout.split_whitespace().take(3).collect();
    assert_eq!(first, ["0", "1000", "1"], "not a rootless container: {map}");
    let hi = env.pr(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/busybox",
        "echo",
        "hi",
    ]);
    hi.assert_success();
    assert_eq!(hi.stdout, "hi\n", "{hi}");
    let imgs = env.pr(&["-c", name, "images", "--format", "{{.Repository}}"]);
    imgs.assert_success()
        .assert_stdout_contains("localhost/busybox");
    let hi = env.pr(&[
        "-c",
        &format!("{name}-root"),
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/busybox",
        "cat",
        "/proc/self/uid_map",
    ]);
    hi.assert_success();
    let first: Vec<&str> = hi.stdout.split_whitespace().take(3).collect();
    assert_eq!(
        first,
        ["0", "0", "4294967295"],
        "NAME-root is not rootful: {hi}"
    );
    // The machine's API socket: `start` printed podman's DOCKER_HOST hint, the socket is
    // owner-only, and the Docker CLI works through it against the guest's engine.
    let sock = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("API forwarding listening on: "))
        .unwrap_or_else(|| panic!("no API socket line in start's output:\n{out}"))
        .trim()
        .to_string();
    out.assert_stdout_contains(&format!("export DOCKER_HOST='unix://{sock}'"));
    {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let meta = std::fs::metadata(&sock).unwrap();
        assert!(meta.file_type().is_socket(), "{sock} is not a socket");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{sock}");
    }
    let docker = |args: &[&str]| {
        run(
            Command::new("docker")
                .args(args)
                .env("DOCKER_HOST", format!("unix://{sock}"))
                .env("DOCKER_CONFIG", env.path().join(".docker")),
            None,
            CMD,
        )
    };
    let d = docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/busybox",
        "echo",
        "via-docker",
    ]);
    d.assert_success();
    assert_eq!(d.stdout, "via-docker\n", "{d}");
    docker(&["images", "--format", "{{.Repository}}"])
        .assert_success()
        .assert_stdout_contains("localhost/busybox");
    // Our client sends the default connection's commands through that socket (the watcher's
    // open SSH session, no login per command); the other connection logs in itself.
    let via = env.pr(&["--log-level", "debug", "ps", "-a"]);
    via.assert_success()
        .assert_stderr_contains(&format!("using the API server on unix://{sock}"));
    let direct = env.pr(&["--log-level", "debug", "-c", &format!("{name}-root"), "ps"]);
    direct.assert_success();
    assert!(!direct.stderr.contains("using the API server"), "{direct}");
    // The default engine's service was started with the boot, not by the first request.
    env.pr(&[
        "machine",
        "ssh",
        name,
        "systemctl",
        "--user",
        "is-enabled",
        "podman.service",
    ])
    .assert_success()
    .assert_stdout_contains("enabled");

    // The guest host key is pinned with the machine, never added to the user's known_hosts.
    assert!(!env.path().join(".ssh/known_hosts").exists());

    let u = env.pr(&["machine", "ssh", name, "uname", "-a"]);
    u.assert_success().assert_stdout_contains("Linux machine");

    // An Ignition boot leaves cloud-init off (no NoCloud seed: ds-identify disables it).
    let ci = env.pr(&[
        "machine",
        "ssh",
        name,
        "cloud-init status; systemctl is-active cloud-init.service",
    ]);
    ci.assert_stdout_contains("status: disabled")
        .assert_stdout_contains("inactive");

    // --volume: the host directory is mounted in the guest, both ways.
    let vol = env.pr(&[
        "machine",
        "ssh",
        name,
        "cat /mnt/hostshare/from-host.txt && echo 'written in the guest' > /mnt/hostshare/from-guest.txt && findmnt -no FSTYPE /mnt/hostshare",
    ]);
    vol.assert_success();
    let fstype = vol.stdout.lines().last().unwrap_or_default().to_string();
    assert_eq!(
        vol.stdout,
        format!("written on the host\n{fstype}\n"),
        "{vol}"
    );
    assert!(fstype == "virtiofs" || fstype == "9p", "{vol}");
    assert_eq!(
        std::fs::read_to_string(share.join("from-guest.txt")).unwrap(),
        "written in the guest\n"
    );

    machine_cp(&env, name);
    interactive_ssh(&env, name);

    let l = env.list();
    let m = machine(&l, name);
    assert_eq!(m["Running"], true);
    assert_eq!(m["Starting"], false);
    assert_eq!(m["VMType"], "qemu");
    assert_eq!(m["CPUs"], 2);
    assert_eq!(m["Memory"], "1610612736");
    assert_eq!(m["DiskSize"], "6442450944");
    assert_eq!(m["Default"], true);
    // growfs: the guest's root grew to the requested disk size.
    let df = env.pr(&["machine", "ssh", name, "df", "-BG", "--output=size", "/"]);
    df.assert_success();
    let gib: u64 = df
        .stdout
        .lines()
        .last()
        .unwrap()
        .trim()
        .trim_end_matches('G')
        .parse()
        .unwrap();
    assert!((5..=6).contains(&gib), "{df}");

    // Start while running: refused, still one VM.
    let twice = env.pr(&["machine", "start", name]);
    twice
        .assert_failure()
        .assert_stderr_contains("already running");
    assert_eq!(twice.status, 125);
    assert_eq!(env.qemu_pid(name), Some(pid));

    // Clock: set the guest back an hour; the watcher sets it from the host.
    // Set and read in one command: the watcher checks every 3 s here.
    let set = env.pr(&[
        "machine",
        "ssh",
        name,
        "sudo date -s '-1 hour' >/dev/null; date +%s",
    ]);
    set.assert_success();
    let set_to: i64 = set.stdout.trim().parse().unwrap();
    let host_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        set_to - host_now < -3000,
        "the guest clock was not set back: {set}"
    );
    let guest_offset = || {
        let o = env.pr(&["machine", "ssh", name, "date", "+%s"]);
        o.assert_success();
        let g: i64 = o.stdout.trim().parse().unwrap();
        let h = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        g - h
    };
    wait_until(
        "the guest clock to be corrected",
        Duration::from_secs(180),
        || guest_offset().abs() < 30,
    );

    // Killed from outside: state is read from the process, not from a stored flag.
    // SAFETY: our QEMU, found through this test's pid file.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    wait_until("QEMU to die", Duration::from_secs(30), || !pid_alive(pid));
    let l = env.list();
    assert_eq!(machine(&l, name)["Running"], false);
    let insp = env.pr(&["machine", "inspect", "--format", "{{.State}}", name]);
    insp.assert_success();
    assert_eq!(insp.stdout.trim(), "stopped");

    // Two concurrent starts: one VM, one clear refusal.
    let spawn = || {
        let mut c = env.cmd();
        c.args(["machine", "start", name])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let a = spawn();
    let b = spawn();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "exactly one start must succeed: {a:?} {b:?}");
    let refused = if a.status.success() { &b } else { &a };
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already running or starting"),
        "{refused:?}"
    );
    let pid2 = env.qemu_pid(name).expect("QEMU after restart");
    assert_ne!(pid2, pid);
    let hi = env.pr(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/busybox",
        "echo",
        "again",
    ]);
    hi.assert_success();
    assert_eq!(hi.stdout, "again\n");

    // stop: QMP powerdown, QEMU gone, LastUp recorded.
    let st = env.pr(&["machine", "stop", name]);
    st.assert_success()
        .assert_stdout_contains(&format!("Machine \"{name}\" stopped successfully"));
    assert!(!pid_alive(pid2));
    assert_eq!(machine(&env.list(), name)["Running"], false);
    // stop also ends the API socket.
    assert!(
        std::os::unix::net::UnixStream::connect(&sock).is_err(),
        "{sock} still answers after stop"
    );
    let table = env.pr(&["machine", "list"]);
    table.assert_success();
    assert!(table.stdout.starts_with("NAME"), "{table}");
    assert!(table.stdout.contains(&format!("{name}*")), "{table}");

    // rm -f: files and connections go.
    let disk = env.data_dir().join(format!("{name}-amd64.qcow2"));
    assert!(disk.exists());
    env.pr(&["machine", "rm", "-f", name]).assert_success();
    assert!(!disk.exists());
    assert!(!env.config_dir().join(format!("{name}.json")).exists());
    assert!(env.list().is_empty());
    let conns = env.pr(&["system", "connection", "list", "--format", "json"]);
    assert!(!conns.stdout.contains(name), "{conns}");
}

/// A machine provisioned by Debian's cloud-init from a NoCloud seed instead of Ignition: the
/// image's own first-boot script leaves the seed alone, cloud-init creates the setup (user key,
/// root key, host key, hostname, podman socket, volume mount, ready signal) and reports done.
#[test]
fn cloud_init_nocloud_provisioning() {
    let _one = ONE_VM.lock().unwrap_or_else(|e| e.into_inner());
    let img = machine_image();
    let env = new_env();
    let name = "e2e-ci";
    let share = env.path().join("share");
    std::fs::create_dir(&share).unwrap();
    std::fs::write(share.join("seen.txt"), "through cloud-init's mount\n").unwrap();

    let out = env.pr_boot(&[
        "machine",
        "init",
        "--image",
        img.to_str().unwrap(),
        "--provisioner",
        "cloud-init",
        "--cpus",
        "2",
        "--memory",
        "1536",
        "--volume",
        &format!("{}:/mnt/ci:ro", share.display()),
        "--now",
        name,
    ]);
    out.assert_success()
        .assert_stdout_contains(&format!("Machine \"{name}\" started successfully"));
    let insp = env.pr(&["machine", "inspect", "--format", "{{.State}}", name]);
    insp.assert_success();
    assert_eq!(insp.stdout.trim(), "running");
    assert!(env.config_dir().join(format!("{name}.json")).exists());

    // cloud-init ran all its stages without an error, from this machine's seed: the instance id
    // and hostname are the seed's meta-data, the image's script left the seed alone.
    let st = env.pr(&[
        "machine",
        "ssh",
        name,
        "cloud-init",
        "status",
        "--wait",
        "--long",
    ]);
    st.assert_success().assert_stdout_contains("status: done");
    st.assert_stdout_contains("DataSourceNoCloud");
    // The user-data podman-remote wrote passes cloud-init's own schema.
    env.pr(&[
        "machine",
        "ssh",
        name,
        "sudo",
        "cloud-init",
        "schema",
        "--system",
    ])
    .assert_success()
    .assert_stdout_contains("Valid cloud-config");
    let facts = env.pr(&[
        "machine",
        "ssh",
        name,
        "cat /var/lib/cloud/data/instance-id; hostname; sudo journalctl -b -o cat -u machine-provision.service | grep -c 'left to cloud-init'; findmnt -no FSTYPE /mnt/ci; sudo touch /mnt/ci/x 2>/dev/null && echo writable || echo read-only; cat /mnt/ci/seen.txt",
    ]);
    facts.assert_success();
    let lines: Vec<&str> = facts.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{facts}");
    assert!(lines[0].starts_with(&format!("{name}-")), "{facts}");
    assert_eq!(lines[1], name, "{facts}");
    assert_eq!(lines[2], "1", "{facts}");
    assert!(lines[3] == "virtiofs" || lines[3] == "9p", "{facts}");
    assert_eq!(lines[4], "read-only", "{facts}");
    assert_eq!(lines[5], "through cloud-init's mount", "{facts}");

    // The podman sockets cloud-init enabled answer through the machine's connections.
    let map = env.pr(&[
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/busybox",
        "cat",
        "/proc/self/uid_map",
    ]);
    map.assert_success();
    let first: Vec<&str> = map.stdout.split_whitespace().take(3).collect();
    assert_eq!(first, ["0", "1000", "1"], "{map}");
    let root = env.pr(&[
        "-c",
        &format!("{name}-root"),
        "run",
        "--rm",
        "--network",
        "none",
        "localhost/busybox",
        "echo",
        "root-ok",
    ]);
    root.assert_success();
    assert_eq!(root.stdout, "root-ok\n", "{root}");

    env.pr(&["machine", "rm", "-f", name]).assert_success();
    assert!(env.list().is_empty());
}

fn sha256(p: &Path) -> String {
    let o = run(Command::new("sha256sum").arg(p), None, CMD);
    o.assert_success();
    o.stdout.split_whitespace().next().unwrap().to_string()
}

/// `machine cp` both ways with equal contents, and missing sources on either side.
fn machine_cp(env: &MachineHome, name: &str) {
    let dir = env.path().join("cp");
    std::fs::create_dir(&dir).unwrap();
    let up = dir.join("up.bin");
    // Not text, not a multiple of a block: every byte must arrive.
    let data: Vec<u8> = (0u32..300_001)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&up, &data).unwrap();
    env.pr(&[
        "machine",
        "cp",
        up.to_str().unwrap(),
        &format!("{name}:/tmp/up.bin"),
    ])
    .assert_success();
    let g = env.pr(&["machine", "ssh", name, "sha256sum", "/tmp/up.bin"]);
    g.assert_success();
    assert_eq!(
        g.stdout.split_whitespace().next(),
        Some(sha256(&up).as_str()),
        "{g}"
    );

    let made = env.pr(&[
        "machine",
        "ssh",
        name,
        "head -c 123457 /dev/urandom > /tmp/down.bin && sha256sum /tmp/down.bin",
    ]);
    made.assert_success();
    let down = dir.join("down.bin");
    env.pr(&[
        "machine",
        "cp",
        &format!("{name}:/tmp/down.bin"),
        down.to_str().unwrap(),
    ])
    .assert_success();
    assert_eq!(
        made.stdout.split_whitespace().next(),
        Some(sha256(&down).as_str()),
        "{made}"
    );

    let missing = dir.join("no-such-file");
    let o = env.pr(&[
        "machine",
        "cp",
        missing.to_str().unwrap(),
        &format!("{name}:/tmp/x"),
    ]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("no-such-file")
        .assert_stderr_contains("No such file or directory");
    let gone = env.pr(&["machine", "ssh", name, "test", "!", "-e", "/tmp/x"]);
    gone.assert_success();

    let o = env.pr(&[
        "machine",
        "cp",
        &format!("{name}:/tmp/no-such-file"),
        dir.join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("/tmp/no-such-file")
        .assert_stderr_contains("No such file or directory");
    assert!(!dir.join("x").exists(), "a failed copy left a file");
}

/// A terminal (tmux, 100x30) running `machine ssh NAME` with no command: an interactive login
/// shell on a PTY in the guest. Its exit status is recorded in a file.
struct Term {
    socket: String,
    exit: PathBuf,
}

impl Term {
    fn tmux(&self, args: &[&str]) -> Output {
        run(
            Command::new("tmux").args(["-L", &self.socket]).args(args),
            None,
            Duration::from_secs(20),
        )
    }

    fn start(env: &MachineHome, args: &[&str]) -> Term {
        let q = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let c = env.cmd();
        let mut line = vec!["env".to_string(), "-i".to_string(), "TERM=screen".into()];
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                line.push(q(&format!(
                    "{}={}",
                    k.to_string_lossy(),
                    v.to_string_lossy()
                )));
            }
        }
        line.push(q(&podman_remote_bin().to_string_lossy()));
        line.extend(args.iter().map(|a| q(a)));
        let exit = env.path().join("term-exit");
        let script = format!(
            "{}; echo $? > {p}.tmp; mv {p}.tmp {p}; exec sleep 600",
            line.join(" "),
            p = exit.display()
        );
        let t = Term {
            socket: format!("e2e-machine-{}", std::process::id()),
            exit,
        };
        t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "ssh",
            "-x",
            "100",
            "-y",
            "30",
            "sh",
            "-c",
            &script,
        ])
        .assert_success();
        t
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "ssh"]).stdout
    }

    fn line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "ssh", "-l", text])
            .assert_success();
        self.tmux(&["send-keys", "-t", "ssh", "Enter"])
            .assert_success();
    }

    fn wait_line(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + CMD;
        loop {
            let screen = self.screen();
            if screen.lines().any(|l| pred(l.trim_end())) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_exit(&self) -> i32 {
        let mut code = None;
        wait_until("machine ssh to exit", CMD, || {
            code = std::fs::read_to_string(&self.exit).ok();
            code.is_some()
        });
        code.unwrap().trim().parse().unwrap()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// `machine ssh NAME` without a command: a login shell on a PTY; what is typed runs, and the
/// shell's exit status is the command's.
fn interactive_ssh(env: &MachineHome, name: &str) {
    let t = Term::start(env, &["machine", "ssh", name]);
    t.wait_line("the guest's shell prompt", |l| {
        l.ends_with("$") && l.contains("core@")
    });
    // The output is computed in the guest, so an echo of the typed line cannot match.
    t.line("echo \"pty=$(tty) sum=$((6*7))\"");
    t.wait_line("the command's output", |l| {
        l.starts_with("pty=/dev/pts/") && l.ends_with(" sum=42")
    });
    t.line("exit 7");
    assert_eq!(t.wait_exit(), 7, "screen:\n{}", t.screen());
}

/// Errors that need no boot: unknown machine, missing QEMU, corrupted image, disk shrink,
/// duplicate init, rm without -f asks.
#[test]
fn bad_cases_without_booting() {
    let img = machine_image();
    let env = new_env();

    for args in [
        vec!["machine", "start", "nope"],
        vec!["machine", "stop", "nope"],
        vec!["machine", "rm", "-f", "nope"],
        vec!["machine", "inspect", "nope"],
        vec!["machine", "ssh", "nope", "true"],
    ] {
        let o = env.pr(&args);
        assert_eq!(o.status, 125, "{o}");
        o.assert_stderr_contains("VM does not exist");
    }

    // Missing QEMU: the message names the package.
    let mut c = env.cmd();
    c.env("PODMAN_REMOTE_QEMU", "qemu-system-missing");
    let o = run(
        c.args([
            "machine",
            "init",
            "--image",
            img.to_str().unwrap(),
            "noqemu",
        ]),
        None,
        CMD,
    );
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("qemu-system-missing not found")
        .assert_stderr_contains("apt-get install qemu-system-x86");

    // Corrupted images: garbage, and a qcow2 cut short. Nothing is left behind.
    let junk = env.path().join("junk.qcow2");
    std::fs::write(&junk, vec![0x42u8; 1 << 20]).unwrap();
    let o = env.pr(&["machine", "init", "--image", junk.to_str().unwrap(), "bad1"]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("not a bootable disk image");
    let cut = env.path().join("cut.qcow2");
    let full = std::fs::read(img).unwrap();
    std::fs::write(&cut, &full[..full.len() / 3]).unwrap();
    let o = env.pr(&["machine", "init", "--image", cut.to_str().unwrap(), "bad2"]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("image");
    let xz = env.path().join("cut.qcow2.xz");
    std::fs::write(&xz, [0xfd, b'7', b'z', b'X', b'Z', 0x00, 1, 2, 3]).unwrap();
    let o = env.pr(&["machine", "init", "--image", xz.to_str().unwrap(), "bad3"]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("decompression failed");
    let leftovers: Vec<_> = std::fs::read_dir(env.data_dir())
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "failed inits left {leftovers:?}");
    assert!(env.list().is_empty());
    let conns = env.pr(&["system", "connection", "list", "--format", "json"]);
    assert!(!conns.stdout.contains("bad"), "{conns}");

    // Disk shrink: smaller than the image, and set below the current size.
    let big = env.path().join("big.qcow2");
    run(
        Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&big)
            .arg("3G"),
        None,
        CMD,
    )
    .assert_success();
    let o = env.pr(&[
        "machine",
        "init",
        "--image",
        big.to_str().unwrap(),
        "--disk-size",
        "2",
        "tiny",
    ]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("must be larger");
    env.pr(&[
        "machine",
        "init",
        "--image",
        img.to_str().unwrap(),
        "--disk-size",
        "5",
        "m2",
    ])
    .assert_success();
    let o = env.pr(&["machine", "set", "--disk-size", "4", "m2"]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("must be larger");
    env.pr(&["machine", "set", "--disk-size", "7", "--cpus", "3", "m2"])
        .assert_success();
    let insp = env.pr(&["machine", "inspect", "m2"]);
    let v: Value = serde_json::from_str(&insp.stdout).unwrap();
    assert_eq!(v[0]["Resources"]["DiskSize"], 7);
    assert_eq!(v[0]["Resources"]["CPUs"], 3);
    assert_eq!(v[0]["State"], "stopped");

    // Same name twice.
    let o = env.pr(&["machine", "init", "--image", img.to_str().unwrap(), "m2"]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("m2: VM already exists");

    // rm without -f lists the files and asks; "n" keeps them.
    let o = run(env.cmd().args(["machine", "rm", "m2"]), Some(b"n\n"), CMD);
    o.assert_success()
        .assert_stdout_contains("The following files will be deleted:")
        .assert_stdout_contains("m2-amd64.qcow2")
        .assert_stdout_contains("Are you sure you want to continue? [y/N]");
    assert!(env.config_dir().join("m2.json").exists());
    let o = run(env.cmd().args(["machine", "rm", "m2"]), Some(b"y\n"), CMD);
    o.assert_success();
    assert!(!env.config_dir().join("m2.json").exists());
    assert!(!env.data_dir().join("m2-amd64.qcow2").exists());
}
