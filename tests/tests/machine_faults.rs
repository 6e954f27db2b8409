//! Machine faults and security (issue 10), against real QEMU (TCG) and the project's test image:
//! SIGINT while a machine boots (init --now and start), machine config and connection files
//! written by many processes at once, and a guest whose SSH host key changed behind the key
//! pinned with the machine (a re-created VM) refused on every path.
//!
//! Its own test target (`cargo test -p podman-e2e --test machine_faults`). One VM is shared by
//! the steps of the booting test, and its interrupted boots stop early, to keep boots few.

#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use e2e::*;
use serde_json::Value;

/// VMs are heavy under TCG on two cores: one at a time in this binary.
static ONE_VM: Mutex<()> = Mutex::new(());

const CMD: Duration = MACHINE_CMD;

/// Hang detector for an interrupted command (not a speed measure: the rollback kills a VM and
/// waits for it, which is quick even on a loaded machine).
const ROLLBACK_BOUND: Duration = Duration::from_secs(120);

/// A private home for one test (`e2e::MachineHome`), with this file's checks.
struct Env(MachineHome);

impl std::ops::Deref for Env {
    type Target = MachineHome;
    fn deref(&self) -> &MachineHome {
        &self.0
    }
}

impl Env {
    fn new() -> Env {
        Env(MachineHome::new("pf"))
    }

    fn state(&self, name: &str) -> String {
        let o = self.pr(&["machine", "inspect", "--format", "{{.State}}", name]);
        o.assert_success();
        o.stdout.trim().to_string()
    }

    fn list_row(&self, name: &str) -> Value {
        let out = self.pr(&["machine", "list", "--format", "json"]);
        out.assert_success();
        let v: Vec<Value> =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{out}"));
        v.into_iter()
            .find(|m| m["Name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed:\n{out}"))
    }

    /// No VM, watcher, API socket or held lock is left of `name`, and it reads as stopped.
    fn assert_cleanly_stopped(&self, name: &str, what: &str) {
        assert!(self.all_qemus().is_empty(), "{what}: QEMU left running");
        assert!(
            self.all_watchers().is_empty(),
            "{what}: watcher left running"
        );
        let sock = self.runtime().join(format!("{name}-api.sock"));
        assert!(!sock.exists(), "{what}: {} left behind", sock.display());
        assert!(
            !self.runtime().join(format!("{name}_watch.pid")).exists(),
            "{what}: watcher pid file left behind"
        );
        let lock = self.config_dir().join(format!("{name}.lock"));
        if lock.exists() {
            // flock(1) -n fails at once when anyone holds it.
            let f = run(
                Command::new("flock")
                    .args(["-n", "-x"])
                    .arg(&lock)
                    .arg("true"),
                None,
                CMD,
            );
            assert!(f.success(), "{what}: the machine lock is still held:\n{f}");
        }
        assert_eq!(self.state(name), "stopped", "{what}");
        let row = self.list_row(name);
        assert_eq!(row["Running"], false, "{what}: {row}");
        assert_eq!(row["Starting"], false, "{what}: {row}");
    }
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out waiting for {what}");
}

/// A tiny qcow2 that passes `init`'s image checks: enough for tests that never boot.
fn tiny_image(dir: &Path) -> PathBuf {
    let p = dir.join("tiny.qcow2");
    run(
        Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&p)
            .arg("1G"),
        None,
        CMD,
    )
    .assert_success();
    p
}

fn read_json(p: &Path) -> Value {
    let b = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&b).unwrap_or_else(|e| {
        panic!(
            "{} is corrupt ({e}):\n{}",
            p.display(),
            String::from_utf8_lossy(&b)
        )
    })
}

/// Connection names in podman-connections.json (parsed strictly).
fn connection_names(env: &Env) -> BTreeSet<String> {
    let v = read_json(&env.connections_file());
    v["Connection"]["Connections"]
        .as_object()
        .unwrap_or_else(|| panic!("no Connection.Connections in {v}"))
        .keys()
        .cloned()
        .collect()
}

fn no_temp_files(dir: &Path, what: &str) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(
        left.is_empty(),
        "{what}: temp files left in {}: {left:?}",
        dir.display()
    );
}

fn wait_output(mut c: Child, what: &str) -> std::process::Output {
    let deadline = Instant::now() + CMD;
    loop {
        if c.try_wait().unwrap().is_some() {
            return c.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = c.kill();
            panic!("{what} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Hundreds of concurrent `machine set` calls on one stopped machine, with readers beside them,
/// then concurrent `init`s and `rm`s of different machines: no update is lost, no reader ever
/// sees a corrupt or missing config, and podman-connections.json keeps every connection.
#[test]
fn concurrent_writers_lose_no_update() {
    let env = Env::new();
    let img = tiny_image(env.path());
    let img = img.to_str().unwrap();
    let name = "cm";
    env.pr(&["machine", "init", "--image", img, "--disk-size", "2", name])
        .assert_success();
    let cfg = env.config_dir().join(format!("{name}.json"));
    let conns_before = std::fs::read(env.connections_file()).unwrap();
    let stop = AtomicBool::new(false);
    let reads = std::sync::atomic::AtomicUsize::new(0);

    /// Ends the readers even when an assertion of the writers' side fails.
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|s| {
        let _stop = StopOnDrop(&stop);
        // Readers: every read of the config during the storm must parse.
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let o = env.pr(&["machine", "inspect", name]);
                assert!(o.success(), "inspect during concurrent sets:\n{o}");
                let v: Value = serde_json::from_str(&o.stdout)
                    .unwrap_or_else(|e| panic!("inspect output ({e}):\n{o}"));
                assert_eq!(v[0]["Name"], name);
                reads.fetch_add(1, Ordering::Relaxed);
            }
        });
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                read_json(&cfg);
                reads.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });

        let rounds = 12u32;
        let per_field = 10;
        let mut calls = 0;
        for r in 0..rounds {
            // Every writer of a field writes the same round value: if any read-modify-write
            // raced another one, a field ends with the previous round's value.
            let cpus = (r % 4 + 1).to_string();
            let mem = (1024 + 16 * r).to_string();
            let rootful = if r % 2 == 0 { "true" } else { "false" };
            let mut kids = Vec::new();
            for i in 0..per_field * 2 + 4 {
                let mut c = env.cmd();
                c.args(["machine", "set"]);
                match i % 5 {
                    4 => c.arg(format!("--rootful={rootful}")),
                    n if n % 2 == 0 => c.args(["--cpus", &cpus]),
                    _ => c.args(["--memory", &mem]),
                };
                c.arg(name).stdout(Stdio::piped()).stderr(Stdio::piped());
                kids.push(c.spawn().unwrap());
            }
            calls += kids.len();
            for k in kids {
                let o = wait_output(k, "machine set");
                assert!(
                    o.status.success(),
                    "round {r}: set failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            let v = read_json(&cfg);
            assert_eq!(v["Resources"]["CPUs"].to_string(), cpus, "round {r}: {v}");
            assert_eq!(v["Resources"]["Memory"].to_string(), mem, "round {r}: {v}");
            assert_eq!(
                v["HostUser"]["Rootful"].to_string(),
                rootful,
                "round {r}: {v}"
            );
            assert_eq!(v["Name"], name);
            no_temp_files(&env.config_dir(), "after concurrent sets");
            // The connections: both still there, the default follows --rootful.
            let c = read_json(&env.connections_file());
            let want_default = if rootful == "true" {
                format!("{name}-root")
            } else {
                name.to_string()
            };
            assert_eq!(
                c["Connection"]["Default"],
                want_default.as_str(),
                "round {r}: {c}"
            );
            assert_eq!(
                connection_names(&env),
                BTreeSet::from([name.to_string(), format!("{name}-root")])
            );
        }
        drop(_stop);
        eprintln!(
            "{calls} concurrent `machine set` calls in {rounds} rounds, {} reads beside them",
            reads.load(Ordering::Relaxed)
        );
    });
    // The connections themselves were rewritten many times (default flips) but not changed.
    let before: Value = serde_json::from_slice(&conns_before).unwrap();
    let after = read_json(&env.connections_file());
    assert_eq!(
        before["Connection"]["Connections"], after["Connection"]["Connections"],
        "connections changed under concurrent sets"
    );

    // Concurrent inits of different names, then inits and rms at once.
    let spawn = |args: Vec<String>| {
        let mut c = env.cmd();
        c.args(&args).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let init = |n: &str| {
        spawn(
            ["machine", "init", "--image", img, "--disk-size", "2", n]
                .map(String::from)
                .to_vec(),
        )
    };
    let expect = |names: &[String]| -> BTreeSet<String> {
        let mut s: BTreeSet<String> = BTreeSet::new();
        for n in names {
            s.insert(n.clone());
            s.insert(format!("{n}-root"));
        }
        s
    };
    let first: Vec<String> = (0..8).map(|i| format!("ci{i}")).collect();
    let kids: Vec<_> = first.iter().map(|n| init(n)).collect();
    for k in kids {
        let o = wait_output(k, "machine init");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut all = first.clone();
    all.push(name.to_string());
    assert_eq!(connection_names(&env), expect(&all));
    let second: Vec<String> = (8..14).map(|i| format!("ci{i}")).collect();
    let mut kids: Vec<_> = second.iter().map(|n| init(n)).collect();
    for n in &first[..4] {
        kids.push(spawn(["machine", "rm", "-f", n].map(String::from).to_vec()));
    }
    for k in kids {
        let o = wait_output(k, "machine init/rm");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut all: Vec<String> = first[4..].to_vec();
    all.extend(second.iter().cloned());
    all.push(name.to_string());
    assert_eq!(connection_names(&env), expect(&all));
    no_temp_files(&env.config_dir(), "after concurrent inits");
    // Every machine has its own config and SSH port (two VMs cannot share a forwarded port).
    let mut ports = BTreeSet::new();
    for n in &all {
        let v = read_json(&env.config_dir().join(format!("{n}.json")));
        assert!(
            ports.insert(v["SSH"]["Port"].as_u64().unwrap()),
            "port reused: {v}"
        );
    }
    for n in &first[..4] {
        assert!(!env.config_dir().join(format!("{n}.json")).exists());
    }
}

/// SIGINT while `init` copies its image (no boot): exit 1 after podman's rollback messages,
/// nothing of the machine is left (files, temp files, lock, connections), and the name can be
/// used again at once.
#[test]
fn interrupted_init_leaves_nothing() {
    let env = Env::new();
    // A raw disk (an MBR signature, then zeros), gzipped: decompressing it takes a while.
    let raw = env.path().join("big.raw");
    {
        let mut f = std::fs::File::create(&raw).unwrap();
        let mut mbr = [0u8; 512];
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        f.write_all(&mbr).unwrap();
        f.set_len(768 << 20).unwrap();
    }
    run(Command::new("gzip").args(["-1", "-f"]).arg(&raw), None, CMD).assert_success();
    let gz = env.path().join("big.raw.gz");
    assert!(gz.is_file());
    let data = env
        .path()
        .join(".local/share/containers/podman/machine/qemu");
    let name = "intr";
    let copying = || {
        std::fs::read_dir(&data).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".image-"))
        })
    };
    let (code, out, err) = interrupt_when(
        &env,
        &["machine", "init", "--image", gz.to_str().unwrap(), name],
        copying,
        Duration::ZERO,
    );
    let all = format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}");
    assert_eq!(code, 1, "{all}");
    assert!(out.contains("Received a terminate signal"), "{all}");
    assert!(out.contains("Machine command rollback completed"), "{all}");
    assert!(!out.contains("Machine init complete"), "{all}");
    let left: Vec<String> = std::fs::read_dir(&data)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n != "cache")
                .collect()
        })
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "interrupted init left {left:?} in {}",
        data.display()
    );
    let left: Vec<String> = std::fs::read_dir(env.config_dir())
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "interrupted init left {left:?} in the config dir"
    );
    if env.connections_file().exists() {
        assert!(connection_names(&env).is_empty());
    }
    let l = env.pr(&["machine", "list", "--format", "json"]);
    l.assert_success();
    assert_eq!(l.stdout.trim(), "[]", "{l}");
    // The name is free again.
    let img = tiny_image(env.path());
    env.pr(&["machine", "init", "--image", img.to_str().unwrap(), name])
        .assert_success();
    assert_eq!(
        connection_names(&env),
        BTreeSet::from([name.to_string(), format!("{name}-root")])
    );
}

/// Start `podman-remote ARGS` in a process group of its own (as a shell job), stdout and
/// stderr to files, and send the group SIGINT (the terminal's Ctrl-C) `after` `ready` holds.
/// Returns the exit code, stdout and stderr.
fn interrupt_when(
    env: &Env,
    args: &[&str],
    mut ready: impl FnMut() -> bool,
    after: Duration,
) -> (i32, String, String) {
    let out = env.path().join("int.out");
    let err = env.path().join("int.err");
    let mut c = env.cmd();
    c.args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0);
    let mut child = c.spawn().unwrap();
    wait_until("the moment to interrupt", CMD, || {
        if let Some(st) = child.try_wait().unwrap() {
            panic!(
                "{args:?} ended ({st}) before it could be interrupted:\n{}{}",
                std::fs::read_to_string(&out).unwrap_or_default(),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        ready()
    });
    std::thread::sleep(after);
    let pgid = child.id() as i32;
    // SAFETY: kill(2) on the process group of the child this test spawned.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > ROLLBACK_BOUND {
            let _ = child.kill();
            panic!("{args:?} did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "{args:?}: exited {:.1} s after SIGINT",
        t.elapsed().as_secs_f64()
    );
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&err).unwrap(),
    )
}

/// Interrupt `podman-remote ARGS` (as [`interrupt_when`]) `after` its QEMU started booting,
/// checking the boot had not finished by then. Also returns the QEMU pid.
fn interrupt_boot(
    env: &Env,
    name: &str,
    args: &[&str],
    after: Duration,
) -> (i32, String, String, i32) {
    let mut qemu = None;
    let out = env.path().join("int.out");
    let (code, so, se) = interrupt_when(
        env,
        args,
        || {
            qemu = env.qemu_pid(name);
            if qemu.is_some() {
                std::thread::sleep(after);
                let so = std::fs::read_to_string(&out).unwrap_or_default();
                assert!(
                    !so.contains("started successfully"),
                    "the boot finished before the interruption; nothing was tested:\n{so}"
                );
            }
            qemu.is_some()
        },
        Duration::ZERO,
    );
    (code, so, se, qemu.unwrap())
}

/// The start of a refusal, for the test log.
fn show(what: &str, text: &str) {
    let head: Vec<&str> = text.lines().take(3).collect();
    eprintln!("{what}:\n  {}", head.join("\n  "));
}

fn http_get(sock: &Path, path: &str) -> std::io::Result<String> {
    let mut s = std::os::unix::net::UnixStream::connect(sock)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n"
    )?;
    let mut b = Vec::new();
    s.read_to_end(&mut b)?;
    Ok(String::from_utf8_lossy(&b).to_string())
}

/// The guest's current ed25519 host key as `ssh-keyscan` sees it.
fn scanned_key(port: u16) -> Option<String> {
    let o = run(
        Command::new("ssh-keyscan").args([
            "-t",
            "ed25519",
            "-T",
            "5",
            "-p",
            &port.to_string(),
            "127.0.0.1",
        ]),
        None,
        Duration::from_secs(30),
    );
    o.stdout
        .lines()
        .find(|l| l.contains("ssh-ed25519"))
        .and_then(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
}

/// SIGINT while the VM boots (in `init --now` and in `start`): the command exits 1 as podman's
/// rollback does, and leaves no VM, watcher, API socket or held lock; the next `start` works.
/// Then the guest's host key is replaced behind the pinned one (the VM "re-created"): every
/// path refuses it with exit 125 and a message naming the mismatch, the API socket serves
/// nothing, and `start` does not re-pin the new key.
#[test]
fn interrupted_boots_and_a_recreated_vm() {
    let _one = ONE_VM.lock().unwrap_or_else(|e| e.into_inner());
    let t0 = Instant::now();
    let img = machine_image();
    let env = Env::new();
    let name = "fvm";

    // 1. Ctrl-C during `init --now`, a few seconds into the boot.
    let (code, out, err, pid) = interrupt_boot(
        &env,
        name,
        &[
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
            "--rootful",
            "--now",
            name,
        ],
        Duration::from_secs(2),
    );
    let all = format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}");
    assert_eq!(code, 1, "podman's rollback exit code:\n{all}");
    assert!(out.contains("Machine init complete"), "{all}");
    assert!(out.contains("Received a terminate signal"), "{all}");
    assert!(out.contains("Machine command rollback completed"), "{all}");
    assert!(!pid_alive(pid), "the booting QEMU {pid} survived:\n{all}");
    env.assert_cleanly_stopped(name, "after SIGINT in init --now");
    // The machine itself was created: init had completed before the boot.
    assert!(env.config_dir().join(format!("{name}.json")).is_file());

    // 2. Ctrl-C during `start`, later in the boot (firmware and kernel well under way).
    let (code, out, err, pid) = interrupt_boot(
        &env,
        name,
        &["machine", "start", name],
        Duration::from_secs(8),
    );
    let all = format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}");
    assert_eq!(code, 1, "{all}");
    assert!(out.contains("Received a terminate signal"), "{all}");
    assert!(!pid_alive(pid), "the booting QEMU {pid} survived:\n{all}");
    env.assert_cleanly_stopped(name, "after SIGINT in start");

    // 3. The next start works and the machine is usable.
    let started = env.pr_boot(&["machine", "start", name]);
    started
        .assert_success()
        .assert_stdout_contains(&format!("Machine \"{name}\" started successfully"));
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
    let sock = env.runtime().join(format!("{name}-api.sock"));
    let ping = http_get(&sock, "/_ping").expect("API socket answers");
    assert!(ping.starts_with("HTTP/1.1 200"), "{ping}");
    eprintln!(
        "interrupted twice and started: {:.0} s",
        t0.elapsed().as_secs_f64()
    );

    // 4. Re-create the guest's identity behind the pinned key: a new host key, sshd restarted
    // and every existing SSH connection (the API server's too) cut, as a new VM would.
    let kh = env.config_dir().join(format!("{name}.known_hosts"));
    let pinned = std::fs::read(&kh).unwrap();
    let port: u16 = read_json(&env.config_dir().join(format!("{name}.json")))["SSH"]["Port"]
        .as_u64()
        .unwrap() as u16;
    let pinned_key = scanned_key(port).expect("the guest's host key");
    assert!(String::from_utf8_lossy(&pinned).contains(&pinned_key));
    env.pr(&[
        "machine",
        "ssh",
        name,
        "setsid -f sh -c 'sleep 1; systemctl stop ssh; pkill -KILL -x sshd; \
         rm -f /etc/ssh/ssh_host_*; ssh-keygen -q -t ed25519 -N \"\" -f /etc/ssh/ssh_host_ed25519_key; \
         systemctl start ssh' >/dev/null 2>&1 </dev/null",
    ])
    .assert_success();
    wait_until("the guest to serve a new host key", CMD, || {
        scanned_key(port).is_some_and(|k| k != pinned_key)
    });

    // 4a. Through the machine's connections (rootful default, NAME, NAME-root).
    for conn in [None, Some(name.to_string()), Some(format!("{name}-root"))] {
        let mut args = vec![];
        if let Some(c) = &conn {
            args.extend(["-c", c.as_str()]);
        }
        args.push("ps");
        let o = env.pr(&args);
        assert_eq!(o.status, 125, "{conn:?}: {o}");
        o.assert_stderr_contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
            .assert_stderr_contains(&format!("{name}.known_hosts"))
            .assert_stderr_contains("ssh-keygen -R");
        assert!(o.stdout.is_empty(), "{conn:?}: served output: {o}");
        show(&format!("podman-remote {}", args.join(" ")), &o.stderr);
    }
    // 4b. machine ssh.
    let o = env.pr(&["machine", "ssh", name, "echo", "served"]);
    assert_eq!(o.status, 125, "{o}");
    assert!(!o.stdout.contains("served"), "{o}");
    o.assert_stderr_contains("not the one pinned for this machine")
        .assert_stderr_contains("REMOTE HOST IDENTIFICATION HAS CHANGED");
    show("machine ssh", &o.stderr);
    // 4c. The API socket (the watcher's server): a 503 naming the mismatch, never data.
    let mut last = String::new();
    wait_until(
        "the API socket to report the host key mismatch",
        CMD,
        || {
            last = http_get(&sock, "/v1.41/containers/json?all=true")
                .unwrap_or_else(|e| e.to_string());
            assert!(
                !last.starts_with("HTTP/1.1 200"),
                "served after the key changed:\n{last}"
            );
            last.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        },
    );
    assert!(last.starts_with("HTTP/1.1 503"), "{last}");
    show("API socket", &last);
    let d = run(
        Command::new("docker")
            .args(["ps", "-a"])
            .env("DOCKER_HOST", format!("unix://{}", sock.display()))
            .env("DOCKER_CONFIG", env.path().join(".docker")),
        None,
        CMD,
    );
    assert!(!d.success(), "docker through the API socket: {d}");
    d.assert_stderr_contains("REMOTE HOST IDENTIFICATION HAS CHANGED");

    // 5. stop needs no SSH; start refuses the changed key (never re-pins it), kills the VM.
    env.pr(&["machine", "stop", name]).assert_success();
    env.assert_cleanly_stopped(name, "after stop");
    let o = env.pr_boot(&["machine", "start", name]);
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        .assert_stderr_contains(&format!("{name}.known_hosts"));
    assert!(!o.stdout.contains("started successfully"), "{o}");
    show("machine start", &o.stderr);
    assert_eq!(
        std::fs::read(&kh).unwrap(),
        pinned,
        "start re-pinned the key"
    );
    env.assert_cleanly_stopped(name, "after the refused start");
    assert!(!env.path().join(".ssh/known_hosts").exists());

    env.pr(&["machine", "rm", "-f", name]).assert_success();
    eprintln!("machine faults test: {:.0} s", t0.elapsed().as_secs_f64());
}
