//! volume, network and secret commands end to end: our `podman-remote` against the real
//! podman 4.3.1 engine behind the world's sshd, compared with podman's own remote client on
//! the same engine. Every object has a unique name and listings are filtered to it, since the
//! engine is shared by the tests running in parallel.
#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::Duration;

use e2e::*;

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

/// Runs the same command with both clients and asserts identical stdout, stderr and status.
#[track_caller]
fn same(w: &World, home: &Home, args: &[&str]) -> Output {
    let a = run(ours(w, home).args(args), None, T);
    let b = run(theirs(w, home).args(args), None, T);
    assert_eq!(
        a.status, b.status,
        "exit status of {args:?}\nours: {a}\ntheirs: {b}"
    );
    assert_eq!(a.stdout, b.stdout, "stdout of {args:?}");
    assert_eq!(a.stderr, b.stderr, "stderr of {args:?}");
    a
}

/// Engine-side cleanup of whatever a test created, even when it fails half way.
struct Cleanup<'w> {
    w: &'w World,
    cmds: Vec<Vec<String>>,
}

impl<'w> Cleanup<'w> {
    fn new(w: &'w World) -> Self {
        Cleanup {
            w,
            cmds: Vec::new(),
        }
    }
    fn add(&mut self, args: &[&str]) {
        self.cmds.push(args.iter().map(|s| s.to_string()).collect());
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for c in self.cmds.iter().rev() {
            let _ = try_run(self.w.engine_podman().args(c), None, T);
        }
    }
}

#[test]
fn volume_commands_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("vol");
    let label = format!("e2e.test={name}");
    let mut clean = Cleanup::new(w);
    clean.add(&["volume", "rm", "-f", &name]);
    let out = run(
        ours(w, &home).args([
            "volume", "create", "--label", &label, "--opt", "o=uid=0", &name,
        ]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, format!("{name}\n"));
    let filter = format!("name={name}");
    same(w, &home, &["volume", "ls", "--filter", &filter]);
    same(
        w,
        &home,
        &["volume", "ls", "--filter", &filter, "--format", "json"],
    );
    same(w, &home, &["volume", "ls", "--filter", &filter, "-q"]);
    same(
        w,
        &home,
        &["volume", "ls", "--filter", &filter, "--noheading"],
    );
    same(
        w,
        &home,
        &[
            "volume",
            "ls",
            "--filter",
            &filter,
            "--format",
            "table {{.Name}} {{.Driver}} {{.Labels}} {{.Options}} {{.CreatedAt}}",
        ],
    );
    same(w, &home, &["volume", "inspect", &name]);
    same(
        w,
        &home,
        &[
            "volume",
            "inspect",
            "--format",
            "{{.Name}} {{.Labels}}",
            &name,
        ],
    );
    assert!(same(w, &home, &["volume", "exists", &name]).success());
    // Creating it again is podman's error; with --ignore it is fine.
    let dup = same(w, &home, &["volume", "create", &name]);
    assert_eq!(dup.status, 125);
    run(
        ours(w, &home).args(["volume", "create", "--ignore", &name]),
        None,
        T,
    )
    .assert_success();

    // Unknown volumes: inspect (125, "[]"), rm (1), exists (1).
    let missing = unique("novol");
    let i = same(w, &home, &["volume", "inspect", &missing]);
    assert_eq!(i.status, 125);
    assert!(i.stderr.contains("no such volume"), "{i}");
    let r = same(w, &home, &["volume", "rm", &missing]);
    assert_eq!(r.status, 1);
    assert_eq!(same(w, &home, &["volume", "exists", &missing]).status, 1);

    // A volume in use: rm without -f is refused with podman's message and exit code 2.
    let ctr = unique("volctr");
    clean.add(&["rm", "-f", "-t", "0", &ctr]);
    let mount = format!("{name}:/data");
    w.engine(&["create", "--name", &ctr, "-v", &mount, &w.image, "true"]);
    let busy = run(ours(w, &home).args(["volume", "rm", &name]), None, T);
    assert_eq!(busy.status, 2, "{busy}");
    assert!(busy.stderr.contains("volume is being used"), "{busy}");
    let forced = run(ours(w, &home).args(["volume", "rm", "-f", &name]), None, T);
    forced.assert_success();
    assert_eq!(forced.stdout, format!("{name}\n"));
    assert_eq!(
        run(w.engine_podman().args(["volume", "exists", &name]), None, T).status,
        1
    );
}

#[test]
fn volume_prune_only_touches_labelled_volumes() {
    let w = world();
    let home = trusted_home(w);
    let tag = unique("vprune");
    let label = format!("e2e.prune={tag}");
    let (a, b) = (format!("{tag}-a"), format!("{tag}-b"));
    let keep = format!("{tag}-keep");
    let mut clean = Cleanup::new(w);
    for v in [&a, &b, &keep] {
        clean.add(&["volume", "rm", "-f", v]);
    }
    w.engine(&["volume", "create", "--label", &label, &a]);
    w.engine(&["volume", "create", "--label", &label, &b]);
    w.engine(&["volume", "create", &keep]);
    let filter = format!("label={label}");
    // Without -f the answer "n" keeps everything.
    let no = run(
        ours(w, &home).args(["volume", "prune", "--filter", &filter]),
        Some(b"n\n"),
        T,
    );
    no.assert_success();
    assert!(no.stdout.contains(&a) && no.stdout.contains(&b), "{no}");
    let out = run(
        ours(w, &home).args(["volume", "prune", "-f", "--filter", &filter]),
        None,
        T,
    );
    out.assert_success();
    let mut pruned: Vec<&str> = out.stdout.lines().collect();
    pruned.sort();
    assert_eq!(pruned, vec![a.as_str(), b.as_str()]);
    w.engine(&["volume", "exists", &keep]);
}

#[test]
fn network_commands_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("net");
    let mut clean = Cleanup::new(w);
    clean.add(&["network", "rm", "-f", &name]);
    // A subnet unlikely to collide with other tests' networks.
    let octet = 100 + (std::process::id() % 100);
    let subnet = format!("10.{octet}.7.0/24");
    let gateway = format!("10.{octet}.7.1");
    let range = format!("10.{octet}.7.128/25");
    let out = run(
        ours(w, &home).args([
            "network",
            "create",
            "--subnet",
            &subnet,
            "--gateway",
            &gateway,
            "--ip-range",
            &range,
            "--label",
            "e2e=1",
            "-o",
            "mtu=1400",
            "--internal",
            &name,
        ]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, format!("{name}\n"));
    let net = w.engine_json(&["network", "inspect", &name]);
    assert_eq!(net[0]["subnets"][0]["subnet"], subnet.as_str());
    assert_eq!(net[0]["subnets"][0]["gateway"], gateway.as_str());
    assert_eq!(
        net[0]["subnets"][0]["lease_range"]["start_ip"],
        format!("10.{octet}.7.129").as_str()
    );
    assert_eq!(net[0]["internal"], true);
    assert_eq!(net[0]["options"]["mtu"], "1400");

    let filter = format!("name={name}");
    same(w, &home, &["network", "ls", "--filter", &filter]);
    same(
        w,
        &home,
        &["network", "ls", "--filter", &filter, "--no-trunc"],
    );
    same(w, &home, &["network", "ls", "--filter", &filter, "-q"]);
    same(
        w,
        &home,
        &["network", "ls", "--filter", &filter, "--format", "json"],
    );
    same(
        w,
        &home,
        &[
            "network",
            "ls",
            "--filter",
            &filter,
            "--format",
            "{{.Name}} {{.ID}} {{.Driver}} {{.Labels}}",
        ],
    );
    same(w, &home, &["network", "inspect", &name]);
    same(
        w,
        &home,
        &[
            "network",
            "inspect",
            "--format",
            "{{.Name}} {{.Driver}}",
            &name,
        ],
    );
    assert!(same(w, &home, &["network", "exists", &name]).success());

    // The same subnet again: podman's clear message and 125.
    let other = unique("net2");
    clean.add(&["network", "rm", "-f", &other]);
    let dup = run(
        ours(w, &home).args(["network", "create", "--subnet", &subnet, &other]),
        None,
        T,
    );
    assert_eq!(dup.status, 125, "{dup}");
    assert!(dup.stderr.contains("is already used"), "{dup}");
    // Bad input caught before the engine.
    let bad = run(
        ours(w, &home).args(["network", "create", "--gateway", "10.1.1.1", &other]),
        None,
        T,
    );
    assert_eq!(bad.status, 125);
    assert!(
        bad.stderr
            .contains("cannot set gateway or range without subnet"),
        "{bad}"
    );

    // connect with an alias and a static IP, then disconnect.
    let ctr = unique("netctr");
    clean.add(&["rm", "-f", "-t", "0", &ctr]);
    w.engine(&["run", "-d", "--name", &ctr, &w.image, "sleep", "1000"]);
    let ip = format!("10.{octet}.7.200");
    run(
        ours(w, &home).args([
            "network", "connect", "--alias", "web", "--ip", &ip, &name, &ctr,
        ]),
        None,
        T,
    )
    .assert_success();
    let tmpl = format!("{{{{json (index .NetworkSettings.Networks \"{name}\")}}}}");
    let settings = w.engine(&["inspect", "--format", &tmpl, &ctr]);
    assert!(settings.stdout.contains(&ip), "{settings}");
    assert!(settings.stdout.contains("\"web\""), "{settings}");
    let again = same(w, &home, &["network", "connect", &name, &ctr]);
    assert_eq!(again.status, 125);
    // In use: rm without -f is refused with exit code 2.
    let busy = same(w, &home, &["network", "rm", &name]);
    assert_eq!(busy.status, 2);
    run(
        ours(w, &home).args(["network", "disconnect", &name, &ctr]),
        None,
        T,
    )
    .assert_success();
    let not_connected = same(w, &home, &["network", "disconnect", &name, &ctr]);
    assert_eq!(not_connected.status, 125);

    let rm = run(ours(w, &home).args(["network", "rm", &name]), None, T);
    rm.assert_success();
    assert_eq!(rm.stdout, format!("{name}\n"));
    let missing = same(w, &home, &["network", "rm", &name]);
    assert_eq!(missing.status, 1);
    assert_eq!(same(w, &home, &["network", "exists", &name]).status, 1);
    let i = same(w, &home, &["network", "inspect", &name]);
    assert_eq!(i.status, 125);
}

#[test]
fn network_prune_with_label_filter() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("netprune");
    let label = format!("e2e.prune={name}");
    let mut clean = Cleanup::new(w);
    clean.add(&["network", "rm", "-f", &name]);
    w.engine(&["network", "create", "--label", &label, &name]);
    let filter = format!("label={label}");
    let out = run(
        ours(w, &home).args(["network", "prune", "-f", "--filter", &filter]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, format!("{name}\n"));
    assert_eq!(
        run(
            w.engine_podman().args(["network", "exists", &name]),
            None,
            T
        )
        .status,
        1
    );
}

#[test]
fn secret_from_stdin_is_usable_and_never_logged() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("sec");
    let value = format!("s3cr3t-{}", unique("v"));
    let mut clean = Cleanup::new(w);
    clean.add(&["secret", "rm", &name]);
    let out = run(
        ours(w, &home).args([
            "--log-level",
            "debug",
            "secret",
            "create",
            "--label",
            "e2e=1",
            &name,
            "-",
        ]),
        Some(value.as_bytes()),
        T,
    );
    out.assert_success();
    assert!(
        !out.stdout.contains(&value) && !out.stderr.contains(&value),
        "{out}"
    );
    let id = out.stdout.trim().to_string();
    assert!(!id.is_empty());
    let read = w.engine(&[
        "run",
        "--rm",
        "--secret",
        &name,
        &w.image,
        "cat",
        &format!("/run/secrets/{name}"),
    ]);
    assert_eq!(read.stdout, value);

    let filter = format!("name={name}");
    let ls = run(
        ours(w, &home).args(["secret", "ls", "--filter", &filter]),
        None,
        T,
    );
    ls.assert_success();
    assert!(ls.stdout.starts_with("ID "), "{ls}");
    assert!(
        ls.stdout.contains(&id) && !ls.stdout.contains(&value),
        "{ls}"
    );
    same(w, &home, &["secret", "ls", "--filter", &filter, "-q"]);
    same(w, &home, &["secret", "inspect", &name]);
    same(w, &home, &["secret", "inspect", "--pretty", &name]);
    same(
        w,
        &home,
        &[
            "secret",
            "inspect",
            "--format",
            "{{.Spec.Name}} {{.Spec.Driver.Name}}",
            &name,
        ],
    );
    assert!(run(ours(w, &home).args(["secret", "exists", &name]), None, T).success());

    // Same name again fails; --replace swaps the value.
    let dup = run(
        ours(w, &home).args(["secret", "create", &name, "-"]),
        Some(b"x"),
        T,
    );
    assert_eq!(dup.status, 125, "{dup}");
    assert!(dup.stderr.contains("in use"), "{dup}");
    run(
        ours(w, &home)
            .args([
                "secret",
                "create",
                "--replace",
                "--env",
                &name,
                "E2E_SECRET_VALUE",
            ])
            .env("E2E_SECRET_VALUE", "replaced"),
        None,
        T,
    )
    .assert_success();
    let read = w.engine(&[
        "run",
        "--rm",
        "--secret",
        &name,
        &w.image,
        "cat",
        &format!("/run/secrets/{name}"),
    ]);
    assert_eq!(read.stdout, "replaced");

    let rm = run(ours(w, &home).args(["secret", "rm", &name]), None, T);
    rm.assert_success();
    assert_eq!(
        run(ours(w, &home).args(["secret", "exists", &name]), None, T).status,
        1
    );
}

#[test]
fn unknown_secret_and_bad_secret_input() {
    let w = world();
    let home = trusted_home(w);
    let missing = unique("nosec");
    let i = same(w, &home, &["secret", "inspect", &missing]);
    assert_eq!(i.status, 125);
    let r = same(w, &home, &["secret", "rm", &missing]);
    assert_eq!(r.status, 125);
    assert!(r.stderr.contains("no such secret"), "{r}");
    let env = run(
        ours(w, &home).args([
            "secret",
            "create",
            "--env",
            &missing,
            "E2E_NO_SUCH_VARIABLE",
        ]),
        None,
        T,
    );
    assert_eq!(env.status, 125);
    assert!(
        env.stderr.contains("E2E_NO_SUCH_VARIABLE is not set"),
        "{env}"
    );
    let file = same(
        w,
        &home,
        &["secret", "create", &missing, "/nonexistent/secret"],
    );
    assert_eq!(file.status, 125);
}

/// The names, types and link targets of a tarball's entries, sorted.
fn tar_listing(tarball: &std::path::Path) -> Vec<String> {
    let out = run(
        Command::new("tar")
            .args(["--list", "--verbose", "--numeric-owner", "--file"])
            .arg(tarball),
        None,
        T,
    );
    out.assert_success();
    let mut v: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            // "-rw-r--r-- 0/0 2 2026-11-28 13:50 a" -> "-rw-r--r-- 0/0 2 a"
            let w: Vec<&str> = l.split_whitespace().collect();
            format!("{} {} {} {}", w[0], w[1], w[2], w[5..].join(" "))
        })
        .collect();
    v.sort();
    v
}

/// No helper container of the volume export/import fallback is left on the engine.
#[track_caller]
fn no_helpers_left(w: &World) {
    let ps = w.engine(&[
        "ps",
        "-a",
        "--filter",
        "label=io.podman-remote.helper",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(ps.stdout, "", "helper containers left behind");
}

/// podman 4.3.1's engine has no volume archive API (its own remote client refuses the
/// commands); ours falls back to a helper container that mounts the volume and is never
/// started, and removes it whatever happens.
#[test]
fn volume_export_and_import_through_a_helper_container() {
    let w = world();
    let home = trusted_home(w);
    let mut cleanup = Cleanup::new(w);
    let (v1, v2, v3) = (unique("vexp"), unique("vimp"), unique("vimp-stdin"));
    for v in [&v1, &v2, &v3] {
        w.engine(&["volume", "create", v]);
        cleanup.add(&["volume", "rm", "-f", v]);
    }
    let fill = format!("{v1}:/v");
    w.engine(&[
        "run",
        "--rm",
        "-v",
        &fill,
        &w.image,
        "sh",
        "-c",
        "echo a > /v/a && mkdir -p /v/d && echo b > /v/d/b && ln -s a /v/l && \
         head -c 3000000 /dev/urandom > /v/big && chmod 0640 /v/big && chmod 0600 /v/d/b",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("v.tar");
    let t = tar.to_str().unwrap();

    // podman's own remote client cannot do it (with -o it does not even know the flag).
    let p = run(theirs(w, &home).args(["volume", "export", &v1]), None, T);
    assert_eq!(p.status, 125, "{p}");
    p.assert_stderr_contains(
        "cannot use command \"podman volume export\" with the remote podman client",
    );

    let o = run(
        ours(w, &home).args(["volume", "export", "-o", t, &v1]),
        None,
        T,
    );
    o.assert_success();
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("", ""), "{o}");
    let listing = tar_listing(&tar);
    let mut names: Vec<&str> = listing
        .iter()
        .map(|l| l.splitn(4, ' ').nth(3).unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "big", "d", "d/b", "l -> a"], "{listing:?}");
    assert!(
        listing.contains(&"-rw-r----- 0/0 3000000 big".to_string()),
        "{listing:?}"
    );
    assert!(
        listing.contains(&"-rw------- 0/0 2 d/b".to_string()),
        "{listing:?}"
    );
    no_helpers_left(w);
    // Only the archive in the directory: no temporary file left.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["v.tar"]);

    // To stdout: the same entries.
    let stdout_tar = dir.path().join("stdout.tar");
    let f = std::fs::File::create(&stdout_tar).unwrap();
    let status = ours(w, &home)
        .args(["volume", "export", &v1])
        .stdout(f)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(tar_listing(&stdout_tar), listing);

    // Import into a new volume, from the file and from stdin; the contents come back.
    run(ours(w, &home).args(["volume", "import", &v2, t]), None, T).assert_success();
    let data = std::fs::read(&tar).unwrap();
    run(
        ours(w, &home).args(["volume", "import", &v3, "-"]),
        Some(&data),
        T,
    )
    .assert_success();
    let sum = |v: &str| {
        let m = format!("{v}:/v");
        w.engine(&[
            "run",
            "--rm",
            "-v",
            &m,
            &w.image,
            "sh",
            "-c",
            // Ownership is not compared: the engine's container archive endpoints give
            // every file the container user's owner (root here), in both directions.
            "cd /v && cat a d/b && readlink l && md5sum big && stat -c '%a' big d/b",
        ])
        .stdout
    };
    let original = sum(&v1);
    assert!(original.starts_with("a\nb\na\n"), "{original}");
    assert_eq!(sum(&v2), original);
    assert_eq!(sum(&v3), original);
    no_helpers_left(w);

    // Bad input: clear errors, exit 125, and still no helper left.
    std::fs::write(&tar, b"not a tarball").unwrap();
    let o = run(ours(w, &home).args(["volume", "import", &v2, t]), None, T);
    assert_eq!(o.status, 125, "{o}");
    no_helpers_left(w);
    let missing = unique("novol");
    let o = run(
        ours(w, &home).args(["volume", "export", "-o", t, &missing]),
        None,
        T,
    );
    assert_eq!(o.status, 125, "{o}");
    assert_eq!(
        o.stderr,
        format!("Error: no volume with name \"{missing}\" found: no such volume\n")
    );
    let o = run(
        ours(w, &home).args(["volume", "import", &missing, t]),
        None,
        T,
    );
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("no such volume");
    let o = run(
        ours(w, &home).args(["volume", "import", &v2, "/nonexistent/v.tar"]),
        None,
        T,
    );
    assert_eq!(o.status, 125, "{o}");
    o.assert_stderr_contains("/nonexistent/v.tar");
    no_helpers_left(w);
}

/// podman 4.3.1 has neither `secret inspect --showsecret` nor `secret create --replace` (its
/// client rejects both flags); ours sends them, says clearly when the engine is too old to
/// return values, and replaces a secret by removing and creating it again.
#[test]
fn showsecret_and_replace_on_an_older_engine() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("sec-replace");
    let mut clean = Cleanup::new(w);
    clean.add(&["secret", "rm", &name]);
    let create = |value: &str, replace: bool| {
        let mut c = ours(w, &home);
        c.args(["secret", "create"]);
        if replace {
            c.arg("--replace");
        }
        c.args([name.as_str(), "-"]);
        run(&mut c, Some(value.as_bytes()), T)
    };
    create("first", false).assert_success();
    let out = create("second", false);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("secret name in use");
    create("second", true).assert_success();
    // The engine now holds the new value: a container sees it.
    let seen = w.engine(&[
        "run",
        "--rm",
        "--secret",
        &name,
        &w.image,
        "cat",
        &format!("/run/secrets/{name}"),
    ]);
    assert_eq!(seen.stdout, "second");

    let out = run(
        ours(w, &home).args(["secret", "inspect", "--showsecret", &name]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "Error: the engine (podman 4.3.1) does not return secret values: --showsecret \
             needs podman 4.7 or newer on the server (secret \"{name}\")\n"
        )
    );
    assert!(!out.stderr.contains("second"));
    let theirs_out = run(
        theirs(w, &home).args(["secret", "inspect", "--showsecret", &name]),
        None,
        T,
    );
    assert_eq!(theirs_out.status, 125, "{theirs_out}");
    theirs_out.assert_stderr_contains("unknown flag: --showsecret");
}
