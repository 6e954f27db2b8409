//! Container state and inspection commands end to end: our `podman-remote` over SSH against
//! the real podman 4.3.1 engine, compared with podman's own remote client where the output
//! must be the same (inspect JSON byte for byte, templates, port, top, diff, error messages
//! and exit codes).
#![cfg(target_os = "linux")]

use std::time::Duration;

use e2e::*;

const T: Duration = Duration::from_secs(90);

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

/// Our client over ssh://.
fn ours(w: &World, home: &Home, args: &[&str]) -> Output {
    run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(args),
        None,
        T,
    )
}

/// podman's own remote client over the same ssh://.
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

/// Same stdout, stderr and exit status as podman.
#[track_caller]
fn assert_same(ours: &Output, theirs: &Output) {
    assert_eq!(
        (ours.status, &ours.stdout, &ours.stderr),
        (theirs.status, &theirs.stdout, &theirs.stderr),
        "ours:\n{ours}\npodman:\n{theirs}"
    );
}

fn state(w: &World, name: &str) -> String {
    w.engine(&["inspect", "--format", "{{.State.Status}}", name])
        .stdout
        .trim()
        .to_string()
}

fn run_detached(w: &World, name: &str, extra: &[&str], cmd: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(extra);
    args.push(&w.image);
    args.extend_from_slice(cmd);
    w.engine(&args).stdout.trim().to_string()
}

#[test]
fn stop_kill_pause_restart_init_rename_print_names_and_change_state() {
    let w = world();
    let home = trusted_home(w);
    let a = unique("lc-a");
    let b = unique("lc-b");
    run_detached(w, &a, &[], &["sleep", "1000"]);
    w.engine(&["create", "--name", &b, &w.image, "sleep", "1000"]);

    let out = ours(w, &home, &["pause", &a]);
    out.assert_success();
    assert_eq!(out.stdout, format!("{a}\n"));
    assert_eq!(state(w, &a), "paused");
    let out = ours(w, &home, &["unpause", &a]);
    out.assert_success();
    assert_eq!(state(w, &a), "running");

    // Unpausing a running container: podman's message and 125.
    assert_same(
        &ours(w, &home, &["unpause", &a]),
        &theirs(w, &home, &["unpause", &a]),
    );

    let out = ours(w, &home, &["init", &b]);
    out.assert_success();
    assert_eq!(out.stdout, format!("{b}\n"));
    assert_eq!(state(w, &b), "initialized");
    // A second init is a state error, as for podman.
    assert_same(
        &ours(w, &home, &["init", &b]),
        &theirs(w, &home, &["init", &b]),
    );

    let out = ours(w, &home, &["restart", "-t", "0", &a]);
    out.assert_success();
    assert_eq!(out.stdout, format!("{a}\n"));
    assert_eq!(state(w, &a), "running");

    let out = ours(w, &home, &["kill", "-s", "KILL", &a]);
    out.assert_success();
    assert_eq!(out.stdout, format!("{a}\n"));
    let waited = ours(w, &home, &["wait", &a]);
    assert_eq!(waited.stdout, "137\n", "{waited}");

    // Killing containers that are not running: podman's messages, 125.
    assert_same(
        &ours(w, &home, &["kill", &a, &b]),
        &theirs(w, &home, &["kill", &a, &b]),
    );
    // Stopping an already stopped container is fine.
    let out = ours(w, &home, &["stop", "-t", "0", &a, &b]);
    out.assert_success();
    assert_eq!(out.stdout, format!("{a}\n{b}\n"));

    let renamed = unique("lc-renamed");
    let out = ours(w, &home, &["rename", &b, &renamed]);
    out.assert_success();
    assert_eq!(out.stdout, "");
    let gone = ours(w, &home, &["container", "exists", &b]);
    assert_eq!(gone.status, 1, "old name still resolves: {gone}");
    let there = ours(w, &home, &["container", "exists", &renamed]);
    assert_eq!(there.status, 0, "new name unknown: {there}");
    // Taking a name in use fails like podman.
    assert_same(
        &ours(w, &home, &["rename", &renamed, &a]),
        &theirs(w, &home, &["rename", &renamed, &a]),
    );
    w.engine(&["rm", "-f", &a, &renamed]);
}

#[test]
fn a_missing_container_fails_the_whole_command_before_acting() {
    let w = world();
    let home = trusted_home(w);
    let a = unique("lc-alive");
    let missing = unique("lc-missing");
    run_detached(w, &a, &[], &["sleep", "1000"]);
    for cmd in ["stop", "kill", "pause", "restart", "init", "wait"] {
        let o = ours(w, &home, &[cmd, &a, &missing]);
        let p = theirs(w, &home, &[cmd, &a, &missing]);
        assert_eq!(o.status, 125, "{cmd}: {o}");
        assert_same(&o, &p);
        assert!(o.stderr.contains("no such container"), "{o}");
        assert_eq!(state(w, &a), "running", "{cmd} must not touch {a}");
    }
    // --ignore skips the missing one.
    let out = ours(w, &home, &["stop", "--ignore", "-t", "0", &missing, &a]);
    out.assert_success();
    assert_eq!(out.stdout, format!("{a}\n"));
    assert_eq!(state(w, &a), "exited");
    // Argument errors of podman.
    for args in [
        &["stop"][..],
        &["stop", "--all", &a],
        &["kill", "-s", "NOSUCHSIG", &a],
        &["kill", "-s", "99", &a],
        &["wait", "--condition", "bogus", &a],
        &["wait", "--interval", "xx", &a],
        &["rename", &a],
    ] {
        let o = ours(w, &home, args);
        assert_eq!(o.status, 125, "{o}");
        assert_same(&o, &theirs(w, &home, args));
    }
    w.engine(&["rm", "-f", &a]);
}

#[test]
fn stop_with_a_filter_prints_the_ids() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("lc-filter");
    let id = run_detached(w, &name, &[], &["sleep", "1000"]);
    let filter = format!("name=^{name}$");
    let out = ours(w, &home, &["stop", "-t", "0", "--filter", &filter]);
    out.assert_success();
    assert_eq!(out.stdout, format!("{id}\n"));
    assert_eq!(state(w, &name), "exited");
    w.engine(&["rm", "-f", &name]);
}

#[test]
fn wait_prints_exit_codes_and_exists_answers_with_its_status() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("lc-wait");
    run_detached(w, &name, &[], &["sh", "-c", "sleep 1; exit 3"]);
    let out = ours(w, &home, &["wait", &name]);
    out.assert_success();
    assert_eq!(out.stdout, "3\n");
    let out = ours(
        w,
        &home,
        &["wait", "--condition", "exited", "--interval", "10", &name],
    );
    out.assert_success();
    assert_eq!(out.stdout, "3\n");

    let out = ours(w, &home, &["container", "exists", &name]);
    assert_eq!((out.status, out.stdout.as_str()), (0, ""), "{out}");
    let out = ours(w, &home, &["container", "exists", &unique("lc-none")]);
    assert_eq!((out.status, out.stdout.as_str()), (1, ""), "{out}");
    w.engine(&["rm", "-f", &name]);
}

#[test]
fn inspect_json_and_templates_are_podmans() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("lc-insp");
    run_detached(
        w,
        &name,
        &["--label", "a=b&<c>", "-p", "127.0.0.1::80"],
        &["sleep", "1000"],
    );
    for args in [
        &["inspect", &name][..],
        &["container", "inspect", &name],
        &["inspect", "--size", &name],
        &["inspect", &w.image],
        &["inspect", "--type", "image", &w.image],
        &["inspect", &name, &w.image],
        &[
            "inspect",
            "--format",
            "{{.State.Status}} {{.Name}} {{.Id}}",
            &name,
        ],
        &[
            "inspect",
            "--format",
            "{{.Created}}|{{.State.StartedAt}}",
            &name,
        ],
        &[
            "inspect",
            "--format",
            "{{.Config.Cmd}} {{.Config.Labels}}",
            &name,
        ],
        &["inspect", "--format", "{{json .Config.Labels}}", &name],
        &["inspect", "--format", "{{.ImageID}}", &name],
        &[
            "inspect",
            "--format",
            "table {{.Name}} {{.State.Running}}",
            &name,
        ],
        &["inspect", "--format", "{{json .}}", &name],
        // Errors: what was found is printed, then podman's messages and 125.
        &["inspect", &name, "lc-no-such-object"],
        &["container", "inspect", &w.image],
        &["inspect", "--type", "image", "lc-no-such-image"],
        &["inspect", "--type", "bogus", &name],
        &["inspect"],
    ] {
        let o = ours(w, &home, args);
        assert_same(&o, &theirs(w, &home, args));
    }
    w.engine(&["rm", "-f", &name]);
}

#[test]
fn port_lists_mappings_like_podman() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("lc-port");
    run_detached(
        w,
        &name,
        &["-p", "127.0.0.1::80", "-p", "127.0.0.1::81/udp"],
        &["sleep", "1000"],
    );
    for args in [
        &["port", &name][..],
        &["port", &name, "80"],
        &["port", &name, "81/udp"],
        &["port", &name, "82"],
        &["port", &name, "abc"],
        &["port", "lc-no-such-ctr"],
        &["port"],
    ] {
        let o = ours(w, &home, args);
        assert_same(&o, &theirs(w, &home, args));
    }
    let out = ours(w, &home, &["port", &name]);
    assert!(out.stdout.contains("80/tcp -> 127.0.0.1:"), "{out}");
    assert!(out.stdout.contains("81/udp -> 127.0.0.1:"), "{out}");
    // --all prefixes each line with the short ID.
    let id = w.engine(&["inspect", "--format", "{{.Id}}", &name]).stdout;
    let all = ours(w, &home, &["port", "--all"]);
    all.assert_success();
    let mine: Vec<&str> = all
        .stdout
        .lines()
        .filter(|l| l.starts_with(&id[..12]))
        .collect();
    assert_eq!(mine.len(), 2, "{all}");
    w.engine(&["rm", "-f", &name]);
}

#[test]
fn top_and_diff_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("lc-top");
    run_detached(
        w,
        &name,
        &[],
        &[
            "sh",
            "-c",
            "mkdir /lcdir && echo x > /lcdir/f && rm /bin/zcat && exec sleep 1000",
        ],
    );
    // Wait until the changes are made (the command execs sleep afterwards).
    let mut ready = false;
    for _ in 0..100 {
        let o = ours(w, &home, &["top", &name, "args"]);
        if o.stdout.contains("sleep 1000") {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ready, "container never reached its sleep");
    for args in [
        &["top", &name, "pid", "user", "args", "comm"][..],
        &["top", &name, "bogus"],
        &["top", "lc-no-such-ctr"],
        &["top"],
        &["diff", "--format", "yaml", &name],
        &["diff", "lc-no-such-ctr"],
    ] {
        let o = ours(w, &home, args);
        assert_same(&o, &theirs(w, &home, args));
    }
    let out = ours(w, &home, &["top", &name, "pid", "args"]);
    assert_eq!(
        out.stdout, "PID         COMMAND\n1           sleep 1000\n",
        "{out}"
    );
    // The engine lists changes in no particular order: compare them sorted.
    let sorted = |o: &Output| {
        let mut l: Vec<String> = o.stdout.lines().map(str::to_string).collect();
        l.sort();
        l
    };
    for cmd in [&["diff", &name][..], &["container", "diff", &name]] {
        let o = ours(w, &home, cmd);
        o.assert_success();
        assert_eq!(sorted(&o), sorted(&theirs(w, &home, cmd)));
        for line in ["A /lcdir", "A /lcdir/f", "D /bin/zcat", "C /bin"] {
            assert!(o.stdout.lines().any(|l| l == line), "{line}: {o}");
        }
    }
    let o = ours(w, &home, &["diff", "--format", "json", &name]);
    o.assert_success();
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("diff JSON");
    let mut added: Vec<&str> = v["added"]
        .as_array()
        .expect("added")
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    added.sort();
    assert_eq!(added, ["/lcdir", "/lcdir/f"]);
    assert_eq!(v["deleted"], serde_json::json!(["/bin/zcat"]));
    assert!(o.stdout.starts_with("{\n     \""), "5-space indent: {o}");
    w.engine(&["rm", "-f", &name]);
}

#[test]
fn export_writes_the_tar_atomically_and_commit_makes_an_image() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("lc-exp");
    w.engine(&[
        "run",
        "--name",
        &name,
        &w.image,
        "sh",
        "-c",
        "echo hello > /marker",
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("out.tar");
    let out = ours(
        w,
        &home,
        &["export", "-o", file.to_str().unwrap_or(""), &name],
    );
    out.assert_success();
    let listing = run(
        std::process::Command::new("tar").arg("tf").arg(&file),
        None,
        T,
    );
    listing.assert_success();
    assert!(listing.stdout.lines().any(|l| l == "marker"), "{listing}");
    assert!(listing.stdout.lines().any(|l| l == "bin/sh"), "{listing}");

    // A failed export leaves no file behind (podman would leave an empty one).
    let bad = dir.path().join("bad.tar");
    let out = ours(
        w,
        &home,
        &["export", "-o", bad.to_str().unwrap_or(""), "lc-no-such-ctr"],
    );
    assert_eq!(out.status, 125, "{out}");
    assert!(out.stderr.contains("no such container"), "{out}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("out.tar")]);
    // Same refusal of a ':' in the file name as podman.
    let args = ["export", "-o", "/tmp/a:b.tar", name.as_str()];
    assert_same(&ours(w, &home, &args), &theirs(w, &home, &args));

    let image = format!("localhost/{}:v1", unique("lc-img"));
    let iid = dir.path().join("iid");
    let out = ours(
        w,
        &home,
        &[
            "commit",
            "-q",
            "-c",
            "LABEL lc=yes",
            "--change",
            "ENV LCX=1",
            "--iidfile",
            iid.to_str().unwrap_or(""),
            &name,
            &image,
        ],
    );
    out.assert_success();
    let id = out.stdout.trim();
    assert_eq!(id.len(), 64, "{out}");
    assert_eq!(std::fs::read_to_string(&iid).expect("iidfile"), id);
    let info = w.engine(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}} {{.Config.Labels.lc}}",
        &image,
    ]);
    assert_eq!(info.stdout.trim(), format!("{id} yes"));
    for args in [
        &["commit", &name, "Bad-Name"][..],
        &["commit", "lc-no-such-ctr", "x"],
        &["commit", &name, "x", "-c", "BOGUS"],
        &["commit"],
    ] {
        let o = ours(w, &home, args);
        assert_same(&o, &theirs(w, &home, args));
    }
    w.engine(&["rmi", &image]);
    w.engine(&["rm", "-f", &name]);
}

#[test]
fn healthcheck_run_exit_codes() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("lc-health");
    run_detached(
        w,
        &name,
        &["--health-cmd", "test -e /tmp/ok", "--health-interval", "0"],
        &["sleep", "1000"],
    );
    let out = ours(w, &home, &["healthcheck", "run", &name]);
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (1, "unhealthy\n"),
        "{out}"
    );
    w.engine(&["exec", &name, "touch", "/tmp/ok"]);
    let out = ours(w, &home, &["healthcheck", "run", &name]);
    assert_eq!((out.status, out.stdout.as_str()), (0, ""), "{out}");

    let plain = unique("lc-nohealth");
    run_detached(w, &plain, &[], &["sleep", "1000"]);
    for args in [
        &["healthcheck", "run", &plain][..],
        &["healthcheck", "run", "lc-no-such-ctr"],
        &["healthcheck", "run"],
    ] {
        let o = ours(w, &home, args);
        assert_eq!(o.status, 125, "{o}");
        assert_same(&o, &theirs(w, &home, args));
    }
    w.engine(&["rm", "-f", &name, &plain]);
}

#[test]
fn container_prune_removes_the_filtered_stopped_containers() {
    let w = world();
    let home = trusted_home(w);
    let label = format!("lcprune={}", unique("p"));
    let a = unique("lc-pr");
    let b = unique("lc-pr");
    let ida = w
        .engine(&["create", "--name", &a, "--label", &label, &w.image, "true"])
        .stdout
        .trim()
        .to_string();
    let idb = w
        .engine(&["create", "--name", &b, "--label", &label, &w.image, "true"])
        .stdout
        .trim()
        .to_string();
    let filter = format!("label={label}");
    // Answering no keeps everything.
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["container", "prune", "--filter", &filter]),
        Some(b"n\n"),
        T,
    );
    out.assert_success();
    assert!(out
        .stdout
        .contains("Are you sure you want to continue? [y/N] "));
    assert_eq!(state(w, &a), "created");

    let out = ours(w, &home, &["container", "prune", "-f", "--filter", &filter]);
    out.assert_success();
    let mut got: Vec<&str> = out.stdout.lines().collect();
    got.sort();
    let mut want = vec![ida.as_str(), idb.as_str()];
    want.sort();
    assert_eq!(got, want);
    for n in [&a, &b] {
        let e = ours(w, &home, &["container", "exists", n]);
        assert_eq!(e.status, 1, "{n} still exists");
    }
    let args = ["container", "prune", "-f", "--filter", "label"];
    assert_same(&ours(w, &home, &args), &theirs(w, &home, &args));
}
