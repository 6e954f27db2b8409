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
