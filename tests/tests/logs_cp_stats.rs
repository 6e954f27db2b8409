//! logs, cp and stats end to end: our `podman-remote` against the real podman 4.3.1 engine
//! behind the world's sshd, compared with podman's own remote client where the output must be
//! the same, and file copies checked byte for byte on both sides.
#![cfg(target_os = "linux")]

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::*;
use serde_json::Value;

const T: Duration = Duration::from_secs(120);

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

fn ours(w: &World, home: &Home) -> Command {
    let mut c = home.podman_remote();
    c.args(["--url", &w.ssh_url(), "--identity"]).arg(&w.key);
    c
}

fn theirs(w: &World, home: &Home) -> Command {
    let mut c = w.real_podman(home);
    c.args(["--url", &w.ssh_url(), "--identity"]).arg(&w.key);
    c
}

/// A running container that sleeps; removed when dropped.
struct Ctr<'w> {
    w: &'w World,
    name: String,
}

impl<'w> Ctr<'w> {
    fn sleeping(w: &'w World, prefix: &str) -> Self {
        let name = unique(prefix);
        w.engine(&["run", "-d", "--name", &name, &w.image, "sleep", "1000"]);
        Ctr { w, name }
    }

    fn exec(&self, args: &[&str]) -> Output {
        let mut full = vec!["exec", self.name.as_str()];
        full.extend_from_slice(args);
        self.w.engine(&full)
    }
}

impl Drop for Ctr<'_> {
    fn drop(&mut self) {
        let _ = try_run(
            self.w
                .engine_podman()
                .args(["rm", "-f", "-t", "0", &self.name]),
            None,
            T,
        );
    }
}

fn sha256_local(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path), None, T);
    out.assert_success();
    out.stdout
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

fn sha256_in(c: &Ctr, path: &str) -> String {
    let out = c.exec(&["sha256sum", path]);
    out.stdout
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

fn random_file(path: &Path, len: u64) {
    let mut data = Vec::with_capacity(len as usize);
    fs::File::open("/dev/urandom")
        .and_then(|f| f.take(len).read_to_end(&mut data))
        .unwrap_or_else(|e| panic!("reading /dev/urandom: {e}"));
    fs::write(path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Runs `cmd` through `sh` with its stdout redirected to `file` (binary output such as a
/// tar stream does not survive the harness's text capture).
fn run_to_file(cmd: &Command, home: &Home, file: &Path) -> Output {
    let mut sh = Command::new("sh");
    sh.env_clear()
        .envs(home.env())
        .arg("-c")
        .arg("out=$1; shift; exec \"$@\" > \"$out\"")
        .arg("sh")
        .arg(file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    run(&mut sh, None, T)
}

// ---------------------------------------------------------------------------------------
// logs

#[test]
fn logs_are_byte_identical_to_podman() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("logs");
    w.engine(&[
        "run",
        "-d",
        "--name",
        &name,
        &w.image,
        "sh",
        "-c",
        "echo out1; echo err1 >&2; printf partial; sleep 1; echo out2; echo err2 >&2; echo out3",
    ]);
    w.engine(&["wait", &name]);
    let cases: &[&[&str]] = &[
        &[],
        &["-t"],
        &["--tail", "1"],
        &["--tail", "2", "-t"],
        &["--tail", "0"],
        &["--since", "2000-01-01"],
        &["--until", "2000-01-01T00:00:00Z"],
        &["--since", "10m"],
        &["--until", "1h"],
        &["-n"],
    ];
    for args in cases {
        let mut full: Vec<&str> = vec!["logs"];
        full.extend_from_slice(args);
        full.push(&name);
        let a = run(ours(w, &home).args(&full), None, T);
        let b = run(theirs(w, &home).args(&full), None, T);
        a.assert_success();
        assert_eq!(
            a.stdout, b.stdout,
            "stdout of {args:?}\nours: {a}\npodman: {b}"
        );
        assert_eq!(
            a.stderr, b.stderr,
            "stderr of {args:?}\nours: {a}\npodman: {b}"
        );
    }
    // The content itself, not just agreement: stdout and stderr kept apart, partial line kept.
    let a = run(ours(w, &home).args(["logs", &name]), None, T);
    assert_eq!(a.stdout, "out1\npartialout2\nout3\n", "{a}");
    assert_eq!(a.stderr, "err1\nerr2\n", "{a}");
    // The last line may be on either stream (out3 and err2 are written at the same moment).
    let a = run(ours(w, &home).args(["logs", "--tail", "1", &name]), None, T);
    let tail = format!("{}{}", a.stdout, a.stderr);
    assert!(tail == "out3\n" || tail == "err2\n", "{a}");
    let a = run(
        ours(w, &home).args(["logs", "--until", "2000-01-01", &name]),
        None,
        T,
    );
    assert_eq!((a.stdout.as_str(), a.stderr.as_str()), ("", ""), "{a}");
    w.engine(&["rm", &name]);
}

#[test]
fn logs_follow_returns_when_the_container_exits() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("logsf");
    w.engine(&[
        "run",
        "-d",
        "--name",
        &name,
        &w.image,
        "sh",
        "-c",
        "for i in 1 2 3; do echo line$i; sleep 1; done",
    ]);
    let out = run(ours(w, &home).args(["logs", "-f", &name]), None, T);
    out.assert_success();
    assert_eq!(out.stdout, "line1\nline2\nline3\n", "{out}");
    // The container has really exited: follow did not stop early.
    let state = w.engine(&["inspect", "--format", "{{.State.Status}}", &name]);
    assert_eq!(state.stdout.trim(), "exited");
    w.engine(&["rm", &name]);
}

#[test]
fn logs_errors_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::sleeping(w, "logserr");
    for args in [
        vec!["logs", c.name.as_str(), c.name.as_str()],
        vec!["logs"],
        vec!["logs", "--since", "yesterday", c.name.as_str()],
        vec!["logs", "--until", "3d", c.name.as_str()],
    ] {
        let a = run(ours(w, &home).args(&args), None, T);
        let b = run(theirs(w, &home).args(&args), None, T);
        assert_eq!(a.status, 125, "{a}");
        assert_eq!(
            (a.status, &a.stderr),
            (b.status, &b.stderr),
            "{args:?}\nours: {a}\npodman: {b}"
        );
    }
    // podman 4.3.1 garbles this one ("channel \"123\" found"); we keep its exit code and say
    // what the engine said.
    let a = run(
        ours(w, &home).args(["logs", "nosuchcontainer-logs"]),
        None,
        T,
    );
    assert_eq!(a.status, 125, "{a}");
    a.assert_stderr_contains("no such container");
}

// ---------------------------------------------------------------------------------------
// cp

#[test]
fn cp_round_trips_a_tree_with_a_symlink_and_a_50mb_file() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::sleeping(w, "cprt");
    let local = tempfile::tempdir().expect("tempdir");
    let tree = local.path().join("tree");
    fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    random_file(&tree.join("sub/big.bin"), 50 * 1024 * 1024);
    fs::write(tree.join("small.txt"), "hello\n").unwrap();
    fs::write(tree.join("sub/deeper/note"), "deep\n").unwrap();
    std::os::unix::fs::symlink("sub/big.bin", tree.join("link-to-big")).unwrap();
    let big_sum = sha256_local(&tree.join("sub/big.bin"));

    // In: the directory is created under its own name inside an existing directory.
    let out = run(
        ours(w, &home)
            .arg("cp")
            .arg(&tree)
            .arg(format!("{}:/tmp/", c.name)),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(sha256_in(&c, "/tmp/tree/sub/big.bin"), big_sum);
    assert_eq!(c.exec(&["cat", "/tmp/tree/small.txt"]).stdout, "hello\n");
    assert_eq!(
        c.exec(&["cat", "/tmp/tree/sub/deeper/note"]).stdout,
        "deep\n"
    );
    assert_eq!(
        c.exec(&["readlink", "/tmp/tree/link-to-big"]).stdout,
        "sub/big.bin\n",
        "the symlink is copied as a symlink"
    );

    // Out, to a name that does not exist yet: the copy gets that name.
    let back = local.path().join("back");
    let out = run(
        ours(w, &home)
            .arg("cp")
            .arg(format!("{}:/tmp/tree", c.name))
            .arg(&back),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(sha256_local(&back.join("sub/big.bin")), big_sum);
    assert_eq!(
        fs::read_to_string(back.join("small.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        fs::read_to_string(back.join("sub/deeper/note")).unwrap(),
        "deep\n"
    );
    assert_eq!(
        fs::read_link(back.join("link-to-big")).unwrap(),
        Path::new("sub/big.bin")
    );
    // Nothing but the copy appeared next to it (no staging leftovers).
    let mut names: Vec<String> = fs::read_dir(local.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["back", "tree"]);

    // "dir/." copies the contents into an existing directory.
    let into = local.path().join("into");
    fs::create_dir(&into).unwrap();
    let out = run(
        ours(w, &home)
            .arg("cp")
            .arg(format!("{}:/tmp/tree/sub/.", c.name))
            .arg(&into),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(sha256_local(&into.join("big.bin")), big_sum);
    assert!(into.join("deeper/note").is_file());

    // A single file to a new name, both ways.
    let out = run(
        ours(w, &home)
            .arg("cp")
            .arg(tree.join("small.txt"))
            .arg(format!("{}:/tmp/renamed.txt", c.name)),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(c.exec(&["cat", "/tmp/renamed.txt"]).stdout, "hello\n");
    let out = run(
        ours(w, &home)
            .arg("cp")
            .arg(format!("{}:/tmp/renamed.txt", c.name))
            .arg(local.path().join("file-back")),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(
        fs::read_to_string(local.path().join("file-back")).unwrap(),
        "hello\n"
    );
}

#[test]
fn cp_dash_streams_tar_both_ways() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::sleeping(w, "cpdash");
    c.exec(&[
        "sh",
        "-c",
        "mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && ln -s one /data/l",
    ]);
    let local = tempfile::tempdir().expect("tempdir");

    // Out: a tar of the directory on stdout, identical to podman's.
    let ours_tar = local.path().join("ours.tar");
    let mut cmd = ours(w, &home);
    cmd.args(["cp", &format!("{}:/data", c.name), "-"]);
    run_to_file(&cmd, &home, &ours_tar).assert_success();
    let theirs_tar = local.path().join("theirs.tar");
    let mut cmd = theirs(w, &home);
    cmd.args(["cp", &format!("{}:/data", c.name), "-"]);
    // podman needs its CONTAINERS_CONF; real_podman() set it on the command.
    let mut sh = Command::new("sh");
    sh.env_clear()
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .arg("-c")
        .arg("out=$1; shift; exec \"$@\" > \"$out\"")
        .arg("sh")
        .arg(&theirs_tar)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    run(&mut sh, None, T).assert_success();
    let a = fs::read(&ours_tar).unwrap();
    let b = fs::read(&theirs_tar).unwrap();
    assert!(!a.is_empty());
    assert!(a == b, "cp CTR:/data - differs from podman's tar stream");
    let list = run(Command::new("tar").arg("-tvf").arg(&ours_tar), None, T);
    list.assert_success();
    for needle in ["data/", "data/one", "data/sub/two", "data/l -> one"] {
        list.assert_stdout_contains(needle);
    }

    // In: a tar on stdin is extracted into the container directory.
    let src = local.path().join("src");
    fs::create_dir_all(src.join("d")).unwrap();
    fs::write(src.join("d/file"), "from stdin\n").unwrap();
    let tarball = local.path().join("in.tar");
    run(
        Command::new("tar")
            .arg("-cf")
            .arg(&tarball)
            .arg("-C")
            .arg(&src)
            .arg("d"),
        None,
        T,
    )
    .assert_success();
    let bytes = fs::read(&tarball).unwrap();
    let out = run(
        ours(w, &home).args(["cp", "-", &format!("{}:/tmp", c.name)]),
        Some(&bytes),
        T,
    );
    out.assert_success();
    assert_eq!(c.exec(&["cat", "/tmp/d/file"]).stdout, "from stdin\n");

    // Not a tar, or not into a directory: podman's messages and exit code.
    for (stdin, dest) in [
        (&b"just text"[..], format!("{}:/tmp", c.name)),
        (&bytes[..], format!("{}:/tmp/d/file", c.name)),
    ] {
        let a = run(ours(w, &home).args(["cp", "-", &dest]), Some(stdin), T);
        let b = run(theirs(w, &home).args(["cp", "-", &dest]), Some(stdin), T);
        assert_eq!(a.status, 125, "{a}");
        assert_eq!(
            (a.status, &a.stderr),
            (b.status, &b.stderr),
            "ours: {a}\npodman: {b}"
        );
    }
}

#[test]
fn cp_errors_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::sleeping(w, "cperr");
    let local = tempfile::tempdir().expect("tempdir");
    let file = local.path().join("f.txt");
    fs::write(&file, "x\n").unwrap();
    let dir = local.path().join("dir");
    fs::create_dir(&dir).unwrap();
    let f = file.to_string_lossy().to_string();
    let d = dir.to_string_lossy().to_string();
    let missing_parent = local.path().join("no/such/x").to_string_lossy().to_string();
    let n = c.name.as_str();
    let cases: Vec<Vec<String>> = vec![
        // Into a container path whose parent does not exist.
        vec![f.clone(), format!("{n}:/no/such/dir/x")],
        vec![f.clone(), format!("{n}:/no/such/")],
        // From a path that does not exist in the container.
        vec![format!("{n}:/no/such/file"), d.clone()],
        // To a local path whose parent does not exist.
        vec![format!("{n}:/etc/hostname"), missing_parent.clone()],
        // A directory onto a file.
        vec![format!("{n}:/etc"), f.clone()],
        vec![d.clone(), format!("{n}:/etc/hostname")],
        // Missing local source, missing container, no container at all.
        vec![
            local.path().join("nope").to_string_lossy().to_string(),
            format!("{n}:/tmp"),
        ],
        vec![f.clone(), "nosuchcontainer-cp:/tmp".to_string()],
        vec![f.clone(), d.clone()],
        vec![format!("{n}:/etc/hostname")],
    ];
    for args in &cases {
        let a = run(ours(w, &home).arg("cp").args(args), None, T);
        let b = run(theirs(w, &home).arg("cp").args(args), None, T);
        assert_eq!(a.status, 125, "{a}");
        assert_eq!(
            (a.status, &a.stderr),
            (b.status, &b.stderr),
            "cp {args:?}\nours: {a}\npodman: {b}"
        );
    }
    // The failed copies left nothing behind locally.
    assert!(!local.path().join("no").exists());
    let out = run(
        ours(w, &home).args(["cp", &format!("{n}:/no/such/file"), &d]),
        None,
        T,
    );
    out.assert_stderr_contains("no such file or directory");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------
// stats

#[test]
fn stats_no_stream_table_json_and_template() {
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::sleeping(w, "stats");
    let n = c.name.as_str();

    let out = run(ours(w, &home).args(["stats", "--no-stream", n]), None, T);
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let theirs_out = run(theirs(w, &home).args(["stats", "--no-stream", n]), None, T);
    theirs_out.assert_success();
    // The header is podman's, column for column (values differ from one sample to the next).
    let split = |l: &str| -> Vec<String> {
        l.split("  ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        split(lines[0]),
        [
            "ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET IO",
            "BLOCK IO",
            "PIDS",
            "CPU TIME",
            "AVG CPU %"
        ]
    );
    assert_eq!(
        split(lines[0]),
        split(theirs_out.stdout.lines().next().unwrap_or("")),
        "podman: {theirs_out}"
    );
    let row = split(lines[1]);
    assert_eq!(row.len(), 10, "{out}");
    let id = w.engine(&["inspect", "--format", "{{.Id}}", n]).stdout;
    assert_eq!(row[0], id.trim()[..12]);
    assert_eq!(row[1], n);
    assert!(row[2].ends_with('%') && row[4].ends_with('%'), "{out}");
    assert!(row[3].contains(" / "), "{out}");
    assert_eq!(row[7], "1", "one process (sleep): {out}");

    // JSON: podman's document shape.
    let out = run(
        ours(w, &home).args(["stats", "--no-stream", "--format", "json", n]),
        None,
        T,
    );
    out.assert_success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    let arr = v.as_array().expect("an array");
    assert_eq!(arr.len(), 1);
    let keys: Vec<&str> = arr[0]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "cpu_time",
            "cpu_percent",
            "avg_cpu",
            "mem_usage",
            "mem_percent",
            "net_io",
            "block_io",
            "pids"
        ]
    );
    assert_eq!(arr[0]["name"], n);
    assert_eq!(arr[0]["pids"], "1");
    // Go's json.MarshalIndent with a one-space indent.
    assert!(out.stdout.starts_with("[\n {\n  \"id\": "), "{out}");

    // Templates see the engine's fields and podman's computed ones.
    let fmt = "{{.Name}} {{.PIDs}}";
    let a = run(
        ours(w, &home).args(["stats", "--no-stream", "--format", fmt, n]),
        None,
        T,
    );
    let b = run(
        theirs(w, &home).args(["stats", "--no-stream", "--format", fmt, n]),
        None,
        T,
    );
    a.assert_success();
    assert_eq!(a.stdout, format!("{n} 1\n"));
    assert_eq!(a.stdout, b.stdout);
    let fmt = "table {{.ID}} {{.Name}} {{.PIDS}}";
    let a = run(
        ours(w, &home).args(["stats", "--no-stream", "--format", fmt, n]),
        None,
        T,
    );
    let b = run(
        theirs(w, &home).args(["stats", "--no-stream", "--format", fmt, n]),
        None,
        T,
    );
    a.assert_success();
    assert_eq!(a.stdout, b.stdout, "ours: {a}\npodman: {b}");

    // Names and --all together: podman's message and exit code.
    let a = run(
        ours(w, &home).args(["stats", "--no-stream", "-a", n]),
        None,
        T,
    );
    let b = run(
        theirs(w, &home).args(["stats", "--no-stream", "-a", n]),
        None,
        T,
    );
    assert_eq!(a.status, 125, "{a}");
    assert_eq!((a.status, &a.stderr), (b.status, &b.stderr));
    // An unknown container: exit 125 with a message that names it.
    let a = run(
        ours(w, &home).args(["stats", "--no-stream", "nosuch-stats"]),
        None,
        T,
    );
    assert_eq!(a.status, 125, "{a}");
    a.assert_stderr_contains("nosuch-stats");
}

#[test]
fn stats_streams_report_after_report() {
    // Streaming mode prints a report per interval until stopped. Read reports as they come
    // and stop the command after the second one; stdout is a pipe, so no screen resets.
    use std::io::BufRead;
    use std::process::Stdio;
    let w = world();
    let home = trusted_home(w);
    let c = Ctr::sleeping(w, "statss");
    let mut child = ours(w, &home)
        .args(["stats", "-i", "1", "--format", "{{.Name}}", &c.name])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn podman-remote stats");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match rx.recv_timeout(T) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        seen,
        [c.name.clone(), c.name.clone()],
        "two reports expected"
    );
}
