//! Local image commands end to end: our `podman-remote` over SSH against the real podman
//! 4.3.1 engine, compared with podman's own remote client (output, errors, exit codes), and
//! the streamed transfers (save/load/import) with a 200 MB image: the client's peak RSS,
//! the save | load round trip and interrupted saves.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::*;

const T: Duration = Duration::from_secs(300);

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

fn ours_cmd(w: &World, home: &Home, args: &[&str]) -> Command {
    let mut c = home.podman_remote();
    c.args(["--url", &w.ssh_url(), "--identity"])
        .arg(&w.key)
        .args(args);
    c
}

fn ours(w: &World, home: &Home, args: &[&str]) -> Output {
    run(&mut ours_cmd(w, home, args), None, T)
}

fn theirs(w: &World, home: &Home, args: &[&str]) -> Output {
    run(
        w.real_podman(home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(args),
        None,
        T,
    )
}

/// Relative times move while the two clients run; everything else must match.
fn mask_times(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let mut masked = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if i + 2 < words.len() && words[i + 2] == "ago" {
                masked.push("<T>");
                i += 3;
            } else {
                masked.push(words[i]);
                i += 1;
            }
        }
        out.push_str(&masked.join(" "));
        out.push('\n');
    }
    out
}

#[track_caller]
fn assert_same(ours: &Output, theirs: &Output) {
    assert_eq!(
        (
            ours.status,
            mask_times(&ours.stdout),
            mask_times(&ours.stderr)
        ),
        (
            theirs.status,
            mask_times(&theirs.stdout),
            mask_times(&theirs.stderr)
        ),
        "ours:\n{ours}\npodman:\n{theirs}"
    );
}

#[test]
fn tag_untag_rmi_history_tree_exists_inspect_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let a = unique("img-a");
    let b = unique("img-b");
    // An image of this test's own: the shared test image's listing (its container count,
    // names, history) changes while other tests run. Built with a fixed old timestamp so the
    // CREATED column keeps one width between the two clients' runs.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), unique("own")).unwrap();
    std::fs::write(
        dir.path().join("Containerfile"),
        "FROM scratch\nCOPY f /f\n",
    )
    .unwrap();
    let own = format!("localhost/{}", unique("img-own"));
    w.engine(&[
        "build",
        "-q",
        "--layers=false",
        "--timestamp",
        "0",
        "-t",
        &own,
        dir.path().to_str().unwrap(),
    ]);
    // Our tag, podman's listing: both names present.
    ours(w, &home, &["tag", &own, &a, &format!("{b}:v2")]).assert_success();
    let listed = w.engine(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(
        listed.stdout.contains(&format!("localhost/{a}:latest")),
        "{listed}"
    );
    assert!(
        listed.stdout.contains(&format!("localhost/{b}:v2")),
        "{listed}"
    );

    let same = |args: &[&str]| assert_same(&ours(w, &home, args), &theirs(w, &home, args));
    let filter = format!("reference=localhost/{a}");
    same(&["images", "--filter", &filter]);
    same(&["images", "--filter", &filter, "--format", "json"]);
    same(&["images", "-q", "--no-trunc", "--filter", &filter]);
    same(&["images", "--digests", "--history", "--filter", &filter]);
    same(&["history", &a]);
    same(&["history", "--no-trunc", "--human=false", &a]);
    same(&["history", "--format", "json", &a]);
    same(&["history", "-q", &a]);
    // After the command name -H is podman's --human, not the global --host.
    same(&["history", "-H=false", &a]);
    same(&["history", "-H", &a]);
    same(&["image", "history", "-H=false", "--no-trunc", &a]);
    same(&[
        "history",
        "--format",
        "{{.ID}} {{.Size}} {{.CreatedAt}}",
        &a,
    ]);
    same(&["image", "tree", &a]);
    same(&["image", "tree", "--whatrequires", &a]);
    same(&["image", "inspect", &a]);
    same(&["image", "inspect", "--format", "{{.Id}} {{.RepoTags}}", &a]);
    same(&["image", "exists", &a]);
    // Errors: podman's messages and exit codes.
    let missing = unique("img-missing");
    same(&["image", "exists", &missing]);
    same(&["history", &missing]);
    same(&["image", "tree", &missing]);
    same(&["image", "inspect", &a, &missing]);
    same(&["tag", &missing, "x"]);
    same(&["tag", &a, "Not Valid"]);
    same(&["tag", &a]);
    same(&["untag", &missing]);
    same(&["rmi", &missing]);
    same(&["rmi", &missing, "other-missing"]);
    same(&["rmi", "-f", &missing]);
    same(&["rmi", "-a", &a]);
    same(&["rmi"]);

    // untag one name, then rmi of the last name prints podman's Untagged: line.
    let out = ours(w, &home, &["untag", &own, &format!("localhost/{b}:v2")]);
    out.assert_success();
    let out = ours(w, &home, &["image", "exists", &format!("{b}:v2")]);
    assert_eq!(out.status, 1, "{out}");
    let out = ours(w, &home, &["rmi", &a]);
    out.assert_success();
    assert_eq!(out.stdout, format!("Untagged: localhost/{a}:latest\n"));
    // The image itself is still there under its first name.
    ours(w, &home, &["image", "exists", &own]).assert_success();
    w.engine(&["rmi", &own]);
}

#[test]
fn rmi_of_an_image_in_use_exits_2_like_podman() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("img-inuse");
    let c = unique("img-inuse-c");
    // A private copy of the image (its own ID), so removing it never touches others' tests.
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("rootfs.tar");
    make_rootfs_tar(&tar, 1024, &unique("seed"));
    w.engine(&["import", tar.to_str().unwrap(), &name]);
    w.engine(&["create", "--name", &c, &name, "/f"]);
    let o = ours(w, &home, &["rmi", &name]);
    let t = theirs(w, &home, &["rmi", &name]);
    assert_eq!(o.status, 2, "{o}");
    // Container IDs are the same for both, so the whole output must match.
    assert_same(&o, &t);
    w.engine(&["rm", &c]);
    let out = ours(w, &home, &["rmi", &name]);
    out.assert_success();
    assert!(
        out.stdout
            .starts_with(&format!("Untagged: localhost/{name}:latest\nDeleted: ")),
        "{out}"
    );
}

#[test]
fn prune_asks_and_honours_the_answer() {
    let w = world();
    let home = trusted_home(w);
    let out = run(
        &mut ours_cmd(w, &home, &["image", "prune"]),
        Some(b"n\n"),
        T,
    );
    out.assert_success();
    assert_eq!(
        out.stdout,
        "WARNING! This command removes all dangling images.\nAre you sure you want to continue? [y/N] "
    );
    // No answer at all: podman's EOF error.
    let o = run(&mut ours_cmd(w, &home, &["image", "prune"]), Some(b""), T);
    let t = run(
        w.real_podman(&home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["image", "prune"]),
        Some(b""),
        T,
    );
    assert_same(&o, &t);
    assert_eq!(o.status, 125);
}

#[test]
fn import_file_and_stdin_with_changes_and_message() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("rootfs.tar");
    make_rootfs_tar(&tar, 4096, &unique("seed"));
    let a = unique("img-imp-a");
    let b = unique("img-imp-b");
    let out = ours(w, &home, &["import", tar.to_str().unwrap(), &a]);
    out.assert_success();
    assert!(
        out.stdout.starts_with("sha256:") && out.stdout.len() == 72,
        "{out}"
    );
    let data = std::fs::read(&tar).unwrap();
    let out = run(
        &mut ours_cmd(
            w,
            &home,
            &["import", "--change", "CMD [\"/f\"]", "-m", "hello", "-", &b],
        ),
        Some(&data),
        T,
    );
    out.assert_success();
    let v = w.engine(&[
        "image",
        "inspect",
        "--format",
        "{{.Comment}}|{{.Config.Cmd}}",
        &b,
    ]);
    assert_eq!(v.stdout, "hello|[/f]\n");
    let same = |args: &[&str]| assert_same(&ours(w, &home, args), &theirs(w, &home, args));
    same(&["import", "/nonexistent/rootfs.tar"]);
    same(&["import"]);
    same(&["import", "a", "b", "c"]);
    same(&["import", "--change", "BOGUS x", tar.to_str().unwrap()]);
    // -c is --change after the command name (the global -c, --connection, goes before it).
    same(&["import", "-c", "BOGUS x", tar.to_str().unwrap()]);
    w.engine(&["rmi", &a, &b]);
}

/// `import URL` (the engine downloads the tarball) and `load -i URL` (the client downloads
/// the archive, as podman's does). Both are served on loopback by `python3 -m http.server`;
/// the engine runs on this host and reaches it.
#[test]
fn import_and_load_from_a_url() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().unwrap();
    make_rootfs_tar(&dir.path().join("rootfs.tar"), 4096, &unique("seed"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut server = Command::new("python3");
    server
        .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
        .arg(dir.path())
        .arg(port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            stop_daemon(&mut self.0, Duration::from_secs(5));
        }
    }
    let _server = Stop(spawn_daemon(server).unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}/rootfs.tar");
    let from_url = unique("img-url-ours");
    let from_file = unique("img-url-file");
    let out = ours(
        w,
        &home,
        &[
            "import",
            "-q",
            "-c",
            "CMD [\"/f\"]",
            "-m",
            "from a URL",
            &url,
            &from_url,
        ],
    );
    out.assert_success();
    let id = w.engine(&["image", "inspect", "--format", "{{.Id}}", &from_url]);
    assert_eq!(out.stdout, format!("sha256:{}", id.stdout), "{out}");
    let file = dir.path().join("rootfs.tar");
    ours(
        w,
        &home,
        &["import", "-q", file.to_str().unwrap(), &from_file],
    )
    .assert_success();
    let fmt = "{{.Comment}}|{{.Config.Cmd}}|{{.RootFS.Layers}}";
    let by_url = w.engine(&["image", "inspect", "--format", fmt, &from_url]);
    let by_file = w.engine(&["image", "inspect", "--format", fmt, &from_file]);
    assert!(by_url.stdout.starts_with("from a URL|[/f]|"), "{by_url}");
    // The same layer as the same tarball given as a file.
    assert_eq!(
        by_url.stdout.split('|').nth(2),
        by_file.stdout.split('|').nth(2)
    );
    // podman 4.3.1's own remote client cannot import from a URL at all: it sends the
    // `url` parameter and a body, which its engine refuses ("url and r parameters cannot be
    // used together"); so there is no reference output to compare with.

    // A URL the server does not have: the engine downloads the error page and fails to
    // apply it (it does not check the HTTP status); a failure all the same, exit 125.
    let missing = format!("http://127.0.0.1:{port}/missing.tar");
    let out = ours(w, &home, &["import", &missing]);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("unable to import tarball");

    // load -i URL: like podman's client, ours downloads the archive (streaming it into the
    // request instead of through a temporary file).
    let archive = dir.path().join("image.tar");
    let tagged = format!("localhost/{}:v1", unique("img-url-load"));
    // An image of this test's own: tagging the shared test image would change the names and
    // history other tests compare while they run.
    w.engine(&["tag", &from_file, &tagged]);
    w.engine(&["save", "-o", archive.to_str().unwrap(), &tagged]);
    w.engine(&["rmi", &tagged]);
    let archive_url = format!("http://127.0.0.1:{port}/image.tar");
    let out = ours(w, &home, &["load", "-i", &archive_url]);
    out.assert_success();
    assert_eq!(out.stdout, format!("Loaded image: {tagged}\n"));
    w.engine(&["rmi", &tagged]);
    let reference = theirs(w, &home, &["load", "-q", "-i", &archive_url]);
    assert_eq!(reference.stdout, out.stdout, "{reference}");
    w.engine(&["rmi", &tagged]);
    // A missing archive: an HTTP error, reported as such (podman 4.3's client sends the
    // error page to the engine as if it were the archive).
    let out = ours(w, &home, &["load", "-i", &missing]);
    assert_eq!(out.status, 125, "{out}");
    assert_eq!(
        out.stderr,
        format!("Error: downloading {missing}: http status: 404\n")
    );
    w.engine(&["rmi", &from_url, &from_file]);
}

#[test]
fn load_and_save_errors_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let same = |args: &[&str]| assert_same(&ours(w, &home, args), &theirs(w, &home, args));
    same(&["load", "-i", "/nonexistent.tar"]);
    same(&["load", "-i", "/tmp"]);
    same(&["load", "extra"]);
    same(&["save"]);
    same(&["save", "--format", "bogus", &w.image]);
    same(&["save", "--compress", "-o", "/tmp/x.tar", &w.image]);
    same(&["save", "-o", "/tmp/a:b", &w.image]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.tar");
    let missing = unique("img-missing");
    let o = ours(w, &home, &["save", "-o", path.to_str().unwrap(), &missing]);
    assert_eq!(o.status, 125, "{o}");
    assert_eq!(o.stderr, format!("Error: {missing}: image not known\n"));
    // A failed save leaves nothing behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // Garbage on stdin: the engine's error, exit 125.
    let out = run(&mut ours_cmd(w, &home, &["load"]), Some(b"garbage\n"), T);
    assert_eq!(out.status, 125, "{out}");
    assert!(
        out.stderr
            .starts_with("Error: unable to load image: payload does not match"),
        "{out}"
    );
}

#[test]
fn save_formats_match_podman_and_load_back() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    ours(w, &home, &["save", "-o", &p("ours.tar"), &w.image]).assert_success();
    theirs(w, &home, &["save", "-o", &p("theirs.tar"), &w.image]).assert_success();
    assert_eq!(
        std::fs::read(p("ours.tar")).unwrap(),
        std::fs::read(p("theirs.tar")).unwrap()
    );
    // Stdout (not a terminal here).
    let out = Command::new(podman_remote_bin())
        .envs(home.env())
        .args(["--url", &w.ssh_url(), "--identity"])
        .arg(&w.key)
        .args(["save", &w.image])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, std::fs::read(p("ours.tar")).unwrap());
    // Directory formats: unpacked like podman's client does.
    for f in ["oci-dir", "docker-dir"] {
        ours(
            w,
            &home,
            &[
                "save",
                "--format",
                f,
                "-o",
                &p(&format!("ours-{f}")),
                &w.image,
            ],
        )
        .assert_success();
        theirs(
            w,
            &home,
            &[
                "save",
                "--format",
                f,
                "-o",
                &p(&format!("theirs-{f}")),
                &w.image,
            ],
        )
        .assert_success();
        let diff = run(
            Command::new("diff").args(["-r", &p(&format!("ours-{f}")), &p(&format!("theirs-{f}"))]),
            None,
            T,
        );
        diff.assert_success();
    }
    // Only the requested entries exist: no staging leftovers.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ours-docker-dir",
            "ours-oci-dir",
            "ours.tar",
            "theirs-docker-dir",
            "theirs-oci-dir",
            "theirs.tar"
        ]
    );
    let out = ours(w, &home, &["load", "-i", &p("ours.tar")]);
    out.assert_success();
    assert_eq!(out.stdout, format!("Loaded image: {}\n", w.image));
    let out = ours(
        w,
        &home,
        &[
            "save",
            "--format",
            "oci-archive",
            "-o",
            &p("o.tar"),
            &w.image,
        ],
    );
    out.assert_success();
    let data = std::fs::read(p("o.tar")).unwrap();
    let out = run(&mut ours_cmd(w, &home, &["load", "-q"]), Some(&data), T);
    out.assert_success();
    assert_eq!(out.stdout, format!("Loaded image: {}\n", w.image));
}

// ---------------------------------------------------------------------------------------------
// The 200 MB image: memory bound, round trip, interrupted saves
// ---------------------------------------------------------------------------------------------

/// A tar holding `/f`: `size` bytes from a seeded xorshift generator (incompressible, and
/// reproducible from the seed).
fn make_rootfs_tar(path: &Path, size: usize, seed: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut state: u64 = seed.bytes().fold(0x9E37_79B9_7F4A_7C15, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01B3)
    }) | 1;
    // Written in 1 MiB pieces: the test process stays small, so that the RSS of the
    // children it forks (measured below) is theirs alone.
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.path().join("f")).unwrap());
    let mut left = size;
    let mut piece = Vec::with_capacity(1 << 20);
    while left > 0 {
        piece.clear();
        while piece.len() < (1 << 20).min(left) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            piece.extend_from_slice(&state.to_le_bytes());
        }
        piece.truncate((1 << 20).min(left));
        std::io::Write::write_all(&mut f, &piece).unwrap();
        left -= piece.len();
    }
    std::io::Write::flush(&mut f).unwrap();
    drop(f);
    run(
        Command::new("tar")
            .arg("-C")
            .arg(dir.path())
            .arg("-cf")
            .arg(path)
            .arg("f"),
        None,
        T,
    )
    .assert_success();
}

/// Run `cmd` to completion with stdin from `stdin` (or nothing), stdout to `stdout` (or
/// /dev/null); returns its exit status and peak RSS in KiB (from wait4's rusage).
fn run_measured(cmd: &mut Command, stdin: Option<&Path>, stdout: Option<&Path>) -> (i32, i64) {
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    });
    cmd.stdout(match stdout {
        Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
        None => Stdio::null(),
    });
    cmd.stderr(Stdio::inherit());
    let child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting on our own child; `child` is not waited on by anything else.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    (code, usage.ru_maxrss)
}

const BIG: usize = 200 * 1024 * 1024;
const RSS_LIMIT_KIB: i64 = 64 * 1024;

fn layer_digests(w: &World, image: &str) -> String {
    w.engine(&["image", "inspect", "--format", "{{json .RootFS}}", image])
        .stdout
}

fn file_sha(w: &World, image: &str) -> String {
    w.engine(&["run", "--rm", image, "sha256sum", "/f"]).stdout
}

#[test]
fn big_image_save_load_round_trip_in_bounded_memory_and_interrupted_saves_leave_nothing() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("rootfs.tar");
    make_rootfs_tar(&tar, BIG, &unique("big"));
    let name = unique("img-big");
    let tag = format!("localhost/{name}:latest");
    // The busybox layer underneath gives the container a sha256sum to run.
    let busybox_tar = dir.path().join("busybox.tar");
    let src = unique("img-big-src");
    w.engine(&["create", "--name", &src, &w.image, "true"]);
    w.engine(&["export", "-o", busybox_tar.to_str().unwrap(), &src]);
    w.engine(&["rm", &src]);
    w.engine(&[
        "import",
        busybox_tar.to_str().unwrap(),
        &format!("{name}-base"),
    ]);
    let ctx = dir.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::rename(&tar, ctx.join("rootfs.tar")).unwrap();
    std::fs::write(
        ctx.join("Containerfile"),
        format!("FROM localhost/{name}-base\nADD rootfs.tar /\n"),
    )
    .unwrap();
    // No layer cache: its lookup can fail ("layer not known") while another test removes
    // images in the same engine (podman 4.3.1).
    w.engine(&["build", "--layers=false", "-t", &tag, ctx.to_str().unwrap()]);
    std::fs::remove_dir_all(&ctx).unwrap();
    let layers_before = layer_digests(w, &tag);
    let sha_before = file_sha(w, &tag);

    // save -o in bounded memory.
    let archive = dir.path().join("big.tar");
    let (code, rss) = run_measured(
        &mut ours_cmd(w, &home, &["save", "-o", archive.to_str().unwrap(), &tag]),
        None,
        None,
    );
    assert_eq!(code, 0);
    assert!(rss < RSS_LIMIT_KIB, "save peak RSS {rss} KiB");
    assert!(std::fs::metadata(&archive).unwrap().len() > BIG as u64);

    // The image goes, then comes back from the archive (stdin) in bounded memory.
    w.engine(&["rmi", &tag]);
    let (code, rss) = run_measured(&mut ours_cmd(w, &home, &["load"]), Some(&archive), None);
    assert_eq!(code, 0);
    assert!(rss < RSS_LIMIT_KIB, "load peak RSS {rss} KiB");
    assert_eq!(layer_digests(w, &tag), layers_before);
    assert_eq!(file_sha(w, &tag), sha_before);

    // Interrupted saves: SIGTERM and SIGKILL mid-transfer leave nothing at -o's path nor
    // any staging file in its directory.
    std::fs::remove_file(&archive).unwrap();
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        let out_dir = tempfile::tempdir().unwrap();
        let target = out_dir.path().join("partial.tar");
        let mut child = ours_cmd(w, &home, &["save", "-o", target.to_str().unwrap(), &tag])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until a good part of the archive was written (the kernel's write counter).
        let io = PathBuf::from(format!("/proc/{}/io", child.id()));
        let start = Instant::now();
        loop {
            let written = std::fs::read_to_string(&io)
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| {
                            l.strip_prefix("wchar: ")
                                .map(|v| v.trim().parse::<u64>().ok())
                        })
                        .flatten()
                })
                .unwrap_or(0);
            if written > 20 * 1024 * 1024 {
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "save ended before it was interrupted"
            );
            assert!(start.elapsed() < T, "save never wrote 20 MB");
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert!(!target.exists(), "signal {sig} left {}", target.display());
        assert_eq!(
            std::fs::read_dir(out_dir.path()).unwrap().count(),
            0,
            "signal {sig} left a file"
        );
    }
    w.engine(&["rmi", &tag, &format!("localhost/{name}-base")]);
}
