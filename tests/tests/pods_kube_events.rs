//! Pods, kube, generate and events end to end: our `podman-remote` over SSH against the real
//! podman 4.3.1 engine, compared with podman's own remote client (IDs and times masked).
#![cfg(target_os = "linux")]

use std::time::Duration;

use e2e::*;

const T: Duration = Duration::from_secs(120);

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

fn ours_in(w: &World, home: &Home, args: &[&str], stdin: Option<&str>) -> Output {
    run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(args),
        stdin.map(|s| s.as_bytes()),
        T,
    )
}

fn ours(w: &World, home: &Home, args: &[&str]) -> Output {
    ours_in(w, home, args, None)
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

/// Replace 64- and 12-hex-digit IDs and relative times so outputs can be compared.
fn mask(s: &str) -> String {
    let mut out = String::new();
    let mut hex = String::new();
    let flush = |hex: &mut String, out: &mut String| {
        if hex.len() == 64 || hex.len() == 12 {
            out.push_str("<ID>");
        } else {
            out.push_str(hex);
        }
        hex.clear();
    };
    for c in s.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            hex.push(c);
        } else {
            flush(&mut hex, &mut out);
            out.push(c);
        }
    }
    flush(&mut hex, &mut out);
    let mut masked = out;
    for pat in ["Less than a second ago", "About a minute ago"] {
        masked = masked.replace(pat, "<AGO>");
    }
    // "N seconds ago" and "1 second ago".
    let re_words: Vec<String> = masked
        .split('\n')
        .map(|line| {
            let mut l = line.to_string();
            while let Some(p) = l.find(" seconds ago").or_else(|| l.find(" second ago")) {
                let start = l[..p]
                    .rfind(|c: char| !c.is_ascii_digit())
                    .map_or(0, |i| i + 1);
                let end = if l[p..].starts_with(" seconds ago") {
                    p + 12
                } else {
                    p + 11
                };
                l.replace_range(start..end, "<AGO>");
            }
            // A masked time of another length shifts the table's padding: compare words.
            if l.contains("<AGO>") || l.contains("CREATED") {
                l = l.split_whitespace().collect::<Vec<_>>().join(" ");
            }
            l
        })
        .collect();
    re_words.join("\n")
}

#[track_caller]
fn assert_same_masked(ours: &Output, theirs: &Output) {
    assert_eq!(
        (ours.status, mask(&ours.stdout), mask(&ours.stderr)),
        (theirs.status, mask(&theirs.stdout), mask(&theirs.stderr)),
        "ours:\n{ours}\npodman:\n{theirs}"
    );
}

#[test]
fn pod_lifecycle_matches_podman() {
    let w = world();
    let home = trusted_home(w);
    let p = unique("pod-a");
    let created = ours(
        w,
        &home,
        &[
            "pod", "create", "--name", &p, "--label", "t=pods", "-p", "18181:80",
        ],
    );
    created.assert_success();
    let id = created.stdout.trim().to_string();
    assert_eq!(id.len(), 64, "{created}");
    let insp = w.engine_json(&["pod", "inspect", &p]);
    assert_eq!(insp["Labels"]["t"], "pods");
    assert_eq!(
        insp["InfraConfig"]["PortBindings"]["80/tcp"][0]["HostPort"],
        "18181"
    );

    let filter = format!("name={p}");
    for args in [
        vec!["pod", "ps", "--filter", &filter],
        vec![
            "pod",
            "ps",
            "--filter",
            &filter,
            "--ctr-names",
            "--ctr-ids",
            "--ctr-status",
            "--no-trunc",
        ],
        vec!["pod", "ps", "--filter", &filter, "--format", "json"],
        vec![
            "pod",
            "ps",
            "--filter",
            &filter,
            "--format",
            "{{.Name}} {{.Status}} {{.NumberOfContainers}} {{.Labels}}",
        ],
        vec!["pod", "ps", "--filter", &filter, "-q"],
        vec!["pod", "inspect", "--format", "{{.Name}} {{.State}}", &p],
    ] {
        assert_same_masked(&ours(w, &home, &args), &theirs(w, &home, &args));
    }
    // The engine itself lists SharedNamespaces in a different order from call to call, so
    // pod inspect is compared as JSON with that list sorted.
    let inspect_doc = |o: &Output| {
        let mut v: serde_json::Value = serde_json::from_str(&o.stdout)
            .unwrap_or_else(|e| panic!("pod inspect is not JSON ({e}): {o}"));
        if let Some(ns) = v.get_mut("SharedNamespaces").and_then(|n| n.as_array_mut()) {
            ns.sort_by_key(|x| x.to_string());
        }
        v
    };
    let args = ["pod", "inspect", p.as_str()];
    let (o, t) = (ours(w, &home, &args), theirs(w, &home, &args));
    assert_eq!(
        inspect_doc(&o),
        inspect_doc(&t),
        "pod inspect\nours: {o}\npodman: {t}"
    );

    for verb in ["start", "pause", "unpause", "restart", "stop"] {
        let out = ours(w, &home, &["pod", verb, &p]);
        out.assert_success();
        assert_eq!(out.stdout, format!("{id}\n"), "{verb}: {out}");
    }
    assert_eq!(
        w.engine(&["pod", "inspect", "--format", "{{.State}}", &p])
            .stdout
            .trim(),
        "Exited"
    );
    assert_eq!(ours(w, &home, &["pod", "exists", &p]).status, 0);
    let rm = ours(w, &home, &["pod", "rm", &p]);
    rm.assert_success();
    assert_eq!(rm.stdout, format!("{id}\n"));
    assert_eq!(ours(w, &home, &["pod", "exists", &p]).status, 1);
}

#[test]
fn unknown_pod_errors_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let missing = unique("nopod");
    for args in [
        vec!["pod", "stop", &missing],
        vec!["pod", "start", &missing],
        vec!["pod", "kill", &missing],
        vec!["pod", "rm", &missing],
        vec!["pod", "inspect", &missing],
        vec!["pod", "exists", &missing],
        vec!["pod", "rm", "--ignore", &missing],
    ] {
        let o = ours(w, &home, &args);
        let t = theirs(w, &home, &args);
        assert_same_masked(&o, &t);
    }
    let o = ours(w, &home, &["pod", "stop", &missing]);
    assert_eq!(o.status, 125);
    assert!(o.stderr.contains("no such pod"), "{o}");
}

#[test]
fn pod_containers_talk_over_localhost() {
    let w = world();
    let home = trusted_home(w);
    let p = unique("pod-net");
    ours(w, &home, &["pod", "create", "--name", &p]).assert_success();
    let srv = unique("pod-srv");
    ours(
        w,
        &home,
        &[
            "run",
            "-d",
            "--pod",
            &p,
            "--name",
            &srv,
            &w.image,
            "sh",
            "-c",
            "mkdir -p /www && echo hello-from-pod > /www/index.html && httpd -f -p 8080 -h /www",
        ],
    )
    .assert_success();
    // The server may need a moment to bind; retry inside the client container.
    let out = ours(
        w,
        &home,
        &[
            "run", "--rm", "--pod", &p, &w.image, "sh", "-c",
            "for i in $(seq 1 50); do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.2; done; exit 1",
        ],
    );
    out.assert_success();
    assert_eq!(out.stdout, "hello-from-pod\n");
    let top = ours(w, &home, &["pod", "top", &p, "pid", "args"]);
    top.assert_success();
    assert!(top.stdout.contains("httpd -f -p 8080"), "{top}");
    let rm = ours(w, &home, &["pod", "rm", "-f", &p]);
    rm.assert_success();
    assert_eq!(ours(w, &home, &["pod", "exists", &p]).status, 1);
}

fn kube_yaml(w: &World, name: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: web
        image: {image}
        command: [\"/bin/sleep\", \"1000\"]
---
apiVersion: v1
kind: Service
metadata:
  name: {name}-svc
spec:
  selector:
    app: {name}
  ports:
  - port: 80
    targetPort: 80
",
        image = w.image
    )
}

#[test]
fn kube_play_and_down_deployment_with_service() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("kdep");
    let yaml = kube_yaml(w, &name);
    let file = home.path.join("k.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let f = file.to_str().unwrap();
    let play = ours(w, &home, &["kube", "play", f]);
    play.assert_success();
    assert_eq!(
        mask(&play.stdout),
        "Pod:\n<ID>\nContainer:\n<ID>\n\n",
        "{play}"
    );
    let pod = format!("{name}-pod-0");
    assert_eq!(
        w.engine(&["pod", "inspect", "--format", "{{.State}}", &pod])
            .stdout
            .trim(),
        "Running"
    );
    let down = ours_in(w, &home, &["kube", "down", "-"], Some(&yaml));
    down.assert_success();
    assert_eq!(
        mask(&down.stdout),
        "Pods stopped:\n<ID>\nPods removed:\n<ID>\n",
        "{down}"
    );
    assert_eq!(ours(w, &home, &["pod", "exists", &pod]).status, 1);

    // The same with podman's client gives the same report.
    let theirs_play = theirs(w, &home, &["kube", "play", f]);
    theirs_play.assert_success();
    assert_eq!(mask(&theirs_play.stdout), mask(&play.stdout));
    let theirs_down = theirs(w, &home, &["kube", "down", f]);
    assert_eq!(mask(&theirs_down.stdout), mask(&down.stdout));
}

#[test]
fn kube_play_malformed_yaml_fails_like_podman() {
    let w = world();
    let home = trusted_home(w);
    let file = home.path.join("bad.yaml");
    std::fs::write(&file, "bad: [\n").unwrap();
    let f = file.to_str().unwrap();
    let o = ours(w, &home, &["kube", "play", f]);
    let t = theirs(w, &home, &["kube", "play", f]);
    assert_eq!(o.status, 125);
    assert!(o.stderr.contains("yaml"), "{o}");
    assert_same_masked(&o, &t);
    let missing = home.path.join("missing.yaml");
    let m = missing.to_str().unwrap();
    assert_same_masked(
        &ours(w, &home, &["kube", "play", m]),
        &theirs(w, &home, &["kube", "play", m]),
    );
}

#[test]
fn events_since_sees_run_and_die() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("ev");
    let ran = ours(
        w,
        &home,
        &["run", "--name", &name, &w.image, "sh", "-c", "exit 3"],
    );
    assert_eq!(ran.status, 3, "{ran}");
    let filter = format!("container={name}");
    let args = [
        "events",
        "--stream=false",
        "--since",
        "30s",
        "--filter",
        &filter,
    ];
    let o = ours(w, &home, &args);
    o.assert_success();
    let statuses: Vec<&str> = o
        .stdout
        .lines()
        .filter_map(|l| l.split(' ').nth(5))
        .collect();
    assert!(statuses.contains(&"start"), "{o}");
    assert!(statuses.contains(&"died"), "{o}");
    assert!(o.stdout.contains(&format!("name={name}")), "{o}");
    assert_same_masked(&o, &theirs(w, &home, &args));
    let mut jargs = args.to_vec();
    jargs.extend(["--format", "json"]);
    let oj = ours(w, &home, &jargs);
    assert!(oj.stdout.contains("\"ContainerExitCode\":3"), "{oj}");
    assert_same_masked(&oj, &theirs(w, &home, &jargs));
    let mut targs = args.to_vec();
    targs.extend(["--format", "{{.Status}} {{.Name}} {{.ContainerExitCode}}"]);
    assert_same_masked(&ours(w, &home, &targs), &theirs(w, &home, &targs));
    w.engine(&["rm", &name]);
}

/// A pod with one container that printed `hi`, created with the engine's own podman.
fn pod_with_container(w: &World, prefix: &str) -> (String, String) {
    let p = unique(prefix);
    let c = format!("{p}-c");
    w.engine(&["pod", "create", "--name", &p]).assert_success();
    w.engine(&[
        "run",
        "-d",
        "--pod",
        &p,
        "--name",
        &c,
        &w.image,
        "sh",
        "-c",
        "echo hi; sleep 1000",
    ])
    .assert_success();
    (p, c)
}

/// The first `n` words of each line, lines sorted: the stable part of a stats table (the
/// numbers after the names change from one sample to the next).
fn leading_words(s: &str, n: usize) -> Vec<String> {
    let mut v: Vec<String> = s
        .lines()
        .map(|l| l.split_whitespace().take(n).collect::<Vec<_>>().join(" "))
        .collect();
    v.sort();
    v
}

#[test]
fn pod_stats_no_stream_matches_podman() {
    let w = world();
    let home = trusted_home(w);
    let (p, c) = pod_with_container(w, "pstat");
    let args = ["pod", "stats", "--no-stream", p.as_str()];
    let (o, t) = (ours(w, &home, &args), theirs(w, &home, &args));
    o.assert_success();
    t.assert_success();
    // The columns' widths follow the sampled numbers: compare the header's words.
    let head = |x: &Output| {
        let l = x.stdout.lines().next().unwrap_or("");
        l.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    assert_eq!(head(&o), head(&t), "ours:\n{o}\npodman:\n{t}");
    assert!(head(&o).starts_with("POD "), "{o}");
    assert_eq!(o.stdout.lines().count(), 3, "infra and one container: {o}");
    assert!(o.stdout.contains(&c), "{o}");
    assert_eq!(leading_words(&o.stdout, 3), leading_words(&t.stdout, 3));

    // JSON: the same keys, in the same order, for the same containers.
    let jargs = [
        "pod",
        "stats",
        "--no-stream",
        "--format",
        "json",
        p.as_str(),
    ];
    let (oj, tj) = (ours(w, &home, &jargs), theirs(w, &home, &jargs));
    let shape = |x: &Output| -> Vec<(Vec<String>, String, String)> {
        let v: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&x.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {x}"));
        let mut rows: Vec<_> = v
            .iter()
            .map(|r| {
                (
                    r.keys().cloned().collect(),
                    r["Name"].as_str().unwrap_or("").to_string(),
                    r["CID"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(shape(&oj), shape(&tj), "ours:\n{oj}\npodman:\n{tj}");
    // The JSON is indented with five spaces like podman's.
    assert_eq!(
        mask(&oj.stdout).lines().nth(1),
        mask(&tj.stdout).lines().nth(1)
    );

    // Templates: a plain one is still headed by the column names; a table one is aligned.
    for tmpl in [
        "{{.Name}} {{.Pod}} {{.PIDS}}",
        "table {{.Name}} {{.Pod}} {{.PIDS}}",
    ] {
        let targs = ["pod", "stats", "--no-stream", "--format", tmpl, p.as_str()];
        let (ot, tt) = (ours(w, &home, &targs), theirs(w, &home, &targs));
        assert_eq!(head(&ot), head(&tt), "{tmpl}\nours:\n{ot}\npodman:\n{tt}");
        assert_eq!(leading_words(&ot.stdout, 9), leading_words(&tt.stdout, 9));
        assert_eq!(ot.status, 0);
    }
    // podman 4.3.1's pod stats has no --noheading.
    let nargs = [
        "pod",
        "stats",
        "--no-stream",
        "--noheading",
        "--format",
        "{{.Name}}",
        p.as_str(),
    ];
    let (on, tn) = (ours(w, &home, &nargs), theirs(w, &home, &nargs));
    assert_eq!(
        (on.status, tn.status),
        (125, 125),
        "ours:\n{on}\npodman:\n{tn}"
    );
    w.engine(&["pod", "rm", "-f", &p]);
}

#[test]
fn pod_logs_of_one_container_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let (p, c) = pod_with_container(w, "plogs");
    // The container may not have written its line yet.
    for _ in 0..50 {
        if w.engine(&["logs", &c]).stdout.contains("hi") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for args in [
        vec!["pod", "logs", "-c", &c, &p],
        vec!["pod", "logs", "--container", &c, &p],
        vec!["pod", "logs", "-n", "-c", &c, &p],
        // Without -c the remote client refuses: it cannot merge the pod's logs.
        vec!["pod", "logs", &p],
    ] {
        assert_same_masked(&ours(w, &home, &args), &theirs(w, &home, &args));
    }
    let o = ours(w, &home, &["pod", "logs", "-c", &c, &p]);
    assert_eq!((o.status, o.stdout.as_str()), (0, "hi\n"), "{o}");
    let o = ours(w, &home, &["pod", "logs", &p]);
    assert_eq!(o.status, 125, "{o}");
    assert!(
        o.stderr.contains("-c or --container cannot be empty"),
        "{o}"
    );
    w.engine(&["pod", "rm", "-f", &p]);
}

/// Masks what changes between two generations: IDs, the time stamp line of each unit and the
/// time of the warning.
fn mask_generated(s: &str) -> String {
    let lines: Vec<String> = mask(s)
        .lines()
        .map(|l| {
            let day = ["Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun "];
            if l.starts_with("# ") && day.iter().any(|d| l[2..].starts_with(d)) {
                "# <DATE>".to_string()
            } else if l.trim_start().starts_with("creationTimestamp:") {
                "creationTimestamp: <DATE>".to_string()
            } else if let Some(rest) = l.strip_prefix("time=\"") {
                format!("time=<T>{}", &rest[rest.find('"').map_or(0, |i| i + 1)..])
            } else {
                mask_embedded_dates(l)
            }
        })
        .collect();
    lines.join("\n") + if s.ends_with('\n') { "\n" } else { "" }
}

/// The same "# Sat Nov 28 12:53:21 UTC 2026" header inside a JSON string (`--format json`
/// puts whole units on one line): mask from the weekday to " UTC yyyy".
fn mask_embedded_dates(l: &str) -> String {
    let mut out = l.to_string();
    for day in ["Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun "] {
        let pat = format!("# {day}");
        while let Some(start) = out.find(&pat) {
            let Some(utc) = out[start..].find(" UTC ") else {
                break;
            };
            let end = (start + utc + " UTC ".len() + 4).min(out.len());
            out.replace_range(start..end, "# <DATE>");
        }
    }
    out
}

#[track_caller]
fn assert_same_generated(o: &Output, t: &Output) {
    assert_eq!(
        (
            o.status,
            mask_generated(&o.stdout),
            mask_generated(&o.stderr)
        ),
        (
            t.status,
            mask_generated(&t.stdout),
            mask_generated(&t.stderr)
        ),
        "ours:\n{o}\npodman:\n{t}"
    );
}

#[test]
fn generate_systemd_matches_podman() {
    let w = world();
    let home = trusted_home(w);
    let (p, c) = pod_with_container(w, "gsd");
    for args in [
        vec!["generate", "systemd", "--name", &c],
        vec!["generate", "systemd", &c],
        vec!["generate", "systemd", "--new", "--name", &p],
        vec![
            "generate",
            "systemd",
            "--name",
            "--no-header",
            "--restart-policy",
            "always",
            &p,
        ],
        vec![
            "generate", "systemd", "--new", "--name", "--format", "json", &c,
        ],
        vec!["generate", "systemd", "--name", "--format", "yaml", &c],
        vec!["generate", "systemd", &unique("nothere")],
    ] {
        // podman prints a pod's units in an order that changes from run to run (a Go map):
        // compare the lines, sorted.
        let (o, th) = (ours(w, &home, &args), theirs(w, &home, &args));
        let lines = |x: &Output| {
            let mut v: Vec<String> = mask_generated(&x.stdout)
                .lines()
                .map(String::from)
                .collect();
            v.sort();
            (x.status, v, mask_generated(&x.stderr))
        };
        assert_eq!(lines(&o), lines(&th), "ours:\n{o}\npodman:\n{th}");
    }
    let o = ours(w, &home, &["generate", "systemd", "--new", "--name", &p]);
    assert!(
        o.stdout.contains(&format!("# container-{c}.service")),
        "{o}"
    );
    assert!(o.stdout.contains(&format!("# pod-{p}.service")), "{o}");
    w.engine(&["pod", "rm", "-f", &p]);
}

#[test]
fn generate_kube_matches_podman() {
    let w = world();
    let home = trusted_home(w);
    let (p, c) = pod_with_container(w, "gkube");
    for args in [
        vec!["generate", "kube", &p],
        vec!["generate", "kube", "-s", &p],
        vec!["kube", "generate", "--service", &p],
        // A container of a pod is refused by the engine.
        vec!["kube", "generate", &c],
    ] {
        assert_same_generated(&ours(w, &home, &args), &theirs(w, &home, &args));
    }
    let o = ours(w, &home, &["generate", "kube", "-s", &p]);
    assert!(o.stdout.contains("kind: Service"), "{o}");

    // -f refuses to overwrite, and leaves the existing file alone.
    let existing = home.path.join("exists.yaml");
    std::fs::write(&existing, "keep").unwrap();
    let ex = existing.to_str().unwrap();
    for cmd in [["generate", "kube"], ["kube", "generate"]] {
        let args = [cmd[0], cmd[1], "-f", ex, p.as_str()];
        let (o, t) = (ours(w, &home, &args), theirs(w, &home, &args));
        assert_eq!(o.status, 125, "{o}");
        assert_same_masked(&o, &t);
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep");

    // -f to a new file writes what podman writes.
    let ours_file = home.path.join("ours.yaml");
    let their_file = home.path.join("theirs.yaml");
    let o = ours(
        w,
        &home,
        &[
            "generate",
            "kube",
            "-s",
            "-f",
            ours_file.to_str().unwrap(),
            &p,
        ],
    );
    o.assert_success();
    assert_eq!(o.stdout, "", "{o}");
    theirs(
        w,
        &home,
        &[
            "generate",
            "kube",
            "-s",
            "-f",
            their_file.to_str().unwrap(),
            &p,
        ],
    )
    .assert_success();
    let read = |f: &std::path::Path| mask_generated(&std::fs::read_to_string(f).unwrap());
    assert_eq!(read(&ours_file), read(&their_file));
    assert!(read(&ours_file).contains(&format!("name: {c}")));
    w.engine(&["pod", "rm", "-f", &p]);
}

fn pod_yaml(w: &World, name: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: web
    image: {image}
    command: [\"/bin/sleep\", \"1000\"]
",
        image = w.image
    )
}

fn engine_field(w: &World, what: &str, format: &str, name: &str) -> String {
    w.engine(&[what, "inspect", "--format", format, name])
        .stdout
        .trim()
        .to_string()
}

#[test]
fn kube_play_start_false_replace_and_network() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("kplay");
    let file = home.path.join("pod.yaml");
    std::fs::write(&file, pod_yaml(w, &name)).unwrap();
    let f = file.to_str().unwrap();
    let ctr = format!("{name}-web");

    let o = ours(w, &home, &["kube", "play", "--start=false", f]);
    o.assert_success();
    assert_eq!(mask(&o.stdout), "Pod:\n<ID>\nContainer:\n<ID>\n\n", "{o}");
    assert_eq!(
        engine_field(w, "container", "{{.State.Status}}", &ctr),
        "created"
    );

    // Playing again without --replace fails as podman's does.
    let args = ["kube", "play", f];
    let (o, t) = (ours(w, &home, &args), theirs(w, &home, &args));
    assert_eq!(o.status, 125, "{o}");
    assert_same_masked(&o, &t);

    let o = ours(w, &home, &["kube", "play", "--replace", f]);
    o.assert_success();
    assert_eq!(
        mask(&o.stdout),
        "Pods stopped:\n<ID>\nPods removed:\n<ID>\nPod:\n<ID>\nContainer:\n<ID>\n\n",
        "{o}"
    );
    assert_eq!(
        engine_field(w, "container", "{{.State.Status}}", &ctr),
        "running"
    );
    let t = theirs(w, &home, &["kube", "play", "--replace", f]);
    assert_same_masked(&o, &t);

    let net = unique("knet");
    w.engine(&["network", "create", &net]).assert_success();
    let o = ours(
        w,
        &home,
        &["kube", "play", "--replace", "--network", &net, f],
    );
    o.assert_success();
    let nets = engine_field(
        w,
        "container",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &ctr,
    );
    assert!(nets.split_whitespace().any(|n| n == net), "{nets}\n{o}");
    let t = theirs(
        w,
        &home,
        &["kube", "play", "--replace", "--network", &net, f],
    );
    assert_same_masked(&o, &t);

    // An unknown network is the engine's error, as with podman.
    let args = ["kube", "play", "--replace", "--network", "no-such-net-x", f];
    let (o, t) = (ours(w, &home, &args), theirs(w, &home, &args));
    assert_eq!(o.status, 125, "{o}");
    assert_eq!(o.status, t.status, "ours:\n{o}\npodman:\n{t}");

    ours(w, &home, &["kube", "down", f]).assert_success();
    assert_eq!(ours(w, &home, &["pod", "exists", &name]).status, 1);
    w.engine(&["network", "rm", &net]);
}
