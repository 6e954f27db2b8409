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
