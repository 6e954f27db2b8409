//! `create` and `run` end to end: the same flags given to our client and to podman's own remote
//! client must produce containers the engine describes identically, and the flags must have
//! their real effect (published ports answer, volumes keep data, env files land, cidfiles are
//! written, --rm cleans up); bad input fails with podman's message and exit code.
#![cfg(target_os = "linux")]

use std::time::Duration;

use e2e::*;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(120);

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

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

fn real(w: &World, home: &Home, args: &[&str]) -> Output {
    run(
        w.real_podman(home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(args),
        None,
        T,
    )
}

fn inspect(w: &World, name: &str) -> Value {
    let v = w.engine_json(&["container", "inspect", name]);
    v.as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or_else(|| panic!("no inspect data for {name}: {v}"))
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let mut items = a.clone();
            items.sort_by_key(|x| x.to_string());
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// The parts of `inspect` that the create flags decide, with what legitimately differs between
/// two containers (IDs, names, generated volume names, the recorded command line) left out.
/// The engine builds some lists from Go maps, so their order is not meaningful: sorted.
fn relevant(c: &Value) -> Value {
    let cfg = &c["Config"];
    let hc = &c["HostConfig"];
    let mounts: Vec<Value> = c["Mounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            // Anonymous volumes get random names and paths.
            let anonymous =
                m["Type"] == "volume" && m["Name"].as_str().is_some_and(|n| n.len() == 64);
            json!({
                "Type": m["Type"],
                "Destination": m["Destination"],
                "Name": if anonymous { json!("<anonymous>") } else { m["Name"].clone() },
                "Source": if anonymous { json!("<anonymous>") } else { m["Source"].clone() },
                "RW": m["RW"],
                "Options": m["Options"],
                "Propagation": m["Propagation"],
            })
        })
        .collect();
    // `-p 5555` lets the engine pick the host port: any one will do.
    let mut ports = hc["PortBindings"].clone();
    if let Some(Value::Array(bindings)) = ports.get_mut("5555/tcp") {
        for b in bindings {
            b["HostPort"] = json!("<random>");
        }
    }
    let mut annotations = cfg["Annotations"].clone();
    if let Some(a) = annotations.as_object_mut() {
        a.remove("io.podman.annotations.cid-file");
    }
    let pairs: Vec<(&str, Value)> = vec![
        ("Env", sorted(&cfg["Env"])),
        ("Cmd", cfg["Cmd"].clone()),
        ("Entrypoint", cfg["Entrypoint"].clone()),
        ("WorkingDir", cfg["WorkingDir"].clone()),
        ("User", cfg["User"].clone()),
        ("Labels", cfg["Labels"].clone()),
        ("Annotations", annotations),
        ("Hostname", cfg["Hostname"].clone()),
        ("Tty", cfg["Tty"].clone()),
        ("OpenStdin", cfg["OpenStdin"].clone()),
        ("StopSignal", cfg["StopSignal"].clone()),
        ("StopTimeout", cfg["StopTimeout"].clone()),
        ("Healthcheck", cfg["Healthcheck"].clone()),
        ("ExposedPorts", cfg["ExposedPorts"].clone()),
        ("Umask", cfg["Umask"].clone()),
        ("Mounts", sorted(&Value::Array(mounts))),
        ("PortBindings", ports),
        ("PublishAllPorts", hc["PublishAllPorts"].clone()),
        ("RestartPolicy", hc["RestartPolicy"].clone()),
        ("AutoRemove", hc["AutoRemove"].clone()),
        ("CapAdd", sorted(&hc["CapAdd"])),
        ("CapDrop", sorted(&hc["CapDrop"])),
        ("Privileged", hc["Privileged"].clone()),
        ("ReadonlyRootfs", hc["ReadonlyRootfs"].clone()),
        ("Memory", hc["Memory"].clone()),
        ("MemorySwap", hc["MemorySwap"].clone()),
        ("NanoCpus", hc["NanoCpus"].clone()),
        ("CpuQuota", hc["CpuQuota"].clone()),
        ("CpuPeriod", hc["CpuPeriod"].clone()),
        ("PidsLimit", hc["PidsLimit"].clone()),
        ("Ulimits", sorted(&hc["Ulimits"])),
        ("Dns", hc["Dns"].clone()),
        ("DnsSearch", hc["DnsSearch"].clone()),
        ("DnsOptions", hc["DnsOptions"].clone()),
        ("ExtraHosts", hc["ExtraHosts"].clone()),
        ("Tmpfs", hc["Tmpfs"].clone()),
        ("Devices", hc["Devices"].clone()),
        ("GroupAdd", hc["GroupAdd"].clone()),
        ("SecurityOpt", sorted(&hc["SecurityOpt"])),
        ("LogConfig", hc["LogConfig"].clone()),
        ("NetworkMode", hc["NetworkMode"].clone()),
        ("Init", hc["Init"].clone()),
        ("ShmSize", hc["ShmSize"].clone()),
    ];
    let id = c["Id"].as_str().unwrap_or("");
    // The default hostname, $HOSTNAME and the log path are derived from the container's ID.
    without_id(
        &Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
        id,
    )
}

fn without_id(v: &Value, id: &str) -> Value {
    if id.len() < 12 {
        return v.clone();
    }
    match v {
        Value::String(s) => json!(s.replace(id, "<id>").replace(&id[..12], "<id>")),
        Value::Array(a) => Value::Array(a.iter().map(|x| without_id(x, id)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), without_id(x, id)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn engine_rm(w: &World, names: &[&str]) {
    let mut args = vec!["rm", "-f", "--ignore"];
    args.extend_from_slice(names);
    w.engine(&args);
}

#[test]
fn create_builds_the_same_container_as_podman() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().expect("temp dir");
    let env_file = dir.path().join("env");
    std::fs::write(
        &env_file,
        "A=1\n# a comment\n  B=two words\nHOME\nC=with=eq\n",
    )
    .expect("env file");
    let label_file = dir.path().join("labels");
    std::fs::write(&label_file, "lf1=a\nlf2\n").expect("label file");
    let env_file = env_file.display().to_string();
    let label_file = label_file.display().to_string();
    let vol = unique("cvol");

    let combos: Vec<Vec<String>> = vec![
        vec![],
        vec![
            "-e",
            "X=1",
            "-e",
            "HOME",
            "--env-file",
            &env_file,
            "-w",
            "/tmp",
            "-u",
            "1000:1000",
            "-l",
            "a=b",
            "-l",
            "c",
            "--label-file",
            &label_file,
            "--hostname",
            "hh",
            "--annotation",
            "an=v",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1:9090:90/udp",
            "-p",
            "3000-3001:4000-4001",
            "-p",
            "5555",
            "--expose",
            "7000",
            "--expose",
            "7100-7101/udp",
            "--add-host",
            "foo:1.2.3.4",
            "--dns",
            "8.8.8.8",
            "--dns-search",
            "example.com",
            "--dns-option",
            "ndots:2",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "-v".into(),
            format!("{vol}:/data:ro"),
            "-v".into(),
            "/tmp:/hosttmp".into(),
            "-v".into(),
            "/anon".into(),
            "--mount".into(),
            "type=bind,src=/etc,dst=/hostetc,ro".into(),
            "--mount".into(),
            format!("type=volume,src={vol},dst=/v2"),
            "--mount".into(),
            "type=tmpfs,dst=/tm,tmpfs-size=1m".into(),
            "--tmpfs".into(),
            "/run2:rw,size=64k".into(),
            "--read-only".into(),
        ],
        vec![
            "--restart",
            "on-failure:3",
            "--cap-add",
            "NET_ADMIN,SYS_TIME",
            "--cap-drop",
            "CHOWN",
            "--memory",
            "512m",
            "--cpus",
            "1.5",
            "--pids-limit",
            "100",
            "--ulimit",
            "nofile=1024:2048",
            "--ulimit",
            "nproc=100",
            "--stop-signal",
            "SIGINT",
            "--stop-timeout",
            "20",
            "--init",
            "--group-add",
            "10",
            "--shm-size",
            "128m",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "--health-cmd",
            "echo hi",
            "--health-interval",
            "10s",
            "--health-retries",
            "5",
            "--health-start-period",
            "2s",
            "--health-timeout",
            "3s",
            "--security-opt",
            "no-new-privileges",
            "--security-opt",
            "seccomp=unconfined",
            "--device",
            "/dev/null:/dev/mynull:rw",
            "--log-driver",
            "k8s-file",
            "--log-opt",
            "max-size=10mb",
            "--entrypoint",
            "[\"/bin/sh\",\"-c\"]",
            "-i",
            "-t",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "--privileged",
            "--network",
            "host",
            "--userns",
            "host",
            "--restart",
            "always",
            "--entrypoint",
            "/bin/echo",
            "--health-cmd",
            "[\"CMD\",\"ls\",\"-l\"]",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec!["--network", "none", "--rm", "--no-hosts", "--umask", "0077"]
            .into_iter()
            .map(String::from)
            .collect(),
    ];

    for (i, flags) in combos.iter().enumerate() {
        let a = unique("cmp-ours");
        let b = unique("cmp-podman");
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let build = |name: &str| {
            let mut args = vec!["create", "--name", name];
            args.extend_from_slice(&flags);
            args.extend_from_slice(&[&w.image, "echo", "hi"]);
            args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
        let our_args = build(&a);
        let their_args = build(&b);
        let o = ours(
            w,
            &home,
            &our_args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        o.assert_success();
        let t = real(
            w,
            &home,
            &their_args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        t.assert_success();
        assert_eq!(o.stdout.trim().len(), 64, "create prints the ID: {o}");
        let (ia, ib) = (inspect(w, &a), inspect(w, &b));
        assert_eq!(ia["Id"].as_str(), Some(o.stdout.trim()));
        let (ra, rb) = (relevant(&ia), relevant(&ib));
        for key in rb
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            assert_eq!(
                ra[&key], rb[&key],
                "combination #{i} {flags:?}: {key} differs (ours vs podman)"
            );
        }
        engine_rm(w, &[&a, &b]);
    }
    let _ = run(
        w.engine_podman().args(["volume", "rm", "-f", &vol]),
        None,
        T,
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn run_publish_makes_the_port_reachable() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("web");
    let port = free_port();
    let out = ours(
        w,
        &home,
        &[
            "run",
            "-d",
            "--rm",
            "--name",
            &name,
            "-p",
            &format!("{port}:8080"),
            &w.image,
            "sh",
            "-c",
            "mkdir -p /www && echo hello-from-create > /www/index.html && exec httpd -f -p 8080 -h /www",
        ],
    );
    out.assert_success();
    assert_eq!(out.stdout.trim().len(), 64, "run -d prints the ID: {out}");
    // The server needs a moment to listen; retry the fetch rather than timing anything.
    let url = format!("http://127.0.0.1:{port}/");
    let mut last = None;
    for _ in 0..30 {
        let got = run(
            w.engine_podman().args([
                "run",
                "--rm",
                "--network",
                "host",
                &w.image,
                "wget",
                "-qO-",
                &url,
            ]),
            None,
            T,
        );
        if got.success() {
            last = Some(got);
            break;
        }
        last = Some(got);
        std::thread::sleep(Duration::from_millis(500));
    }
    let got = last.expect("at least one attempt");
    assert_eq!(got.stdout, "hello-from-create\n", "{got}");
    let pb = inspect(w, &name)["HostConfig"]["PortBindings"].clone();
    assert_eq!(
        pb["8080/tcp"][0]["HostPort"],
        json!(port.to_string()),
        "{pb}"
    );
    engine_rm(w, &[&name]);
}

#[test]
fn named_volume_keeps_data_between_runs() {
    let w = world();
    let home = trusted_home(w);
    let vol = unique("data");
    let spec = format!("{vol}:/data");
    let first = ours(
        w,
        &home,
        &[
            "run",
            "--rm",
            "-v",
            &spec,
            &w.image,
            "sh",
            "-c",
            "echo kept > /data/f",
        ],
    );
    first.assert_success();
    let second = ours(
        w,
        &home,
        &["run", "--rm", "-v", &spec, &w.image, "cat", "/data/f"],
    );
    second.assert_success();
    assert_eq!(second.stdout, "kept\n", "{second}");
    // A --mount of the same volume, read-only, sees it too and cannot write.
    let ro = ours(
        w,
        &home,
        &[
            "run",
            "--rm",
            "--mount",
            &format!("type=volume,src={vol},dst=/d,ro"),
            &w.image,
            "sh",
            "-c",
            "cat /d/f; touch /d/g",
        ],
    );
    assert_eq!(ro.stdout, "kept\n", "{ro}");
    assert_ne!(ro.status, 0, "read-only mount must refuse writes: {ro}");
    w.engine(&["volume", "rm", &vol]);
}

#[test]
fn env_file_and_env_reach_the_container() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("vars.env");
    std::fs::write(
        &file,
        "# settings\nFROM_FILE=yes\nOVERRIDE=file\n\n  SPACED=x y\n",
    )
    .expect("env file");
    let out = ours(
        w,
        &home,
        &[
            "run",
            "--rm",
            "--env-file",
            &file.display().to_string(),
            "-e",
            "OVERRIDE=flag",
            "-e",
            "USER",
            &w.image,
            "env",
        ],
    );
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    for want in ["FROM_FILE=yes", "OVERRIDE=flag", "SPACED=x y", "USER=root"] {
        assert!(lines.contains(&want), "{want} missing:\n{out}");
    }
    assert!(
        !lines.contains(&"OVERRIDE=file"),
        "-e must win over the file:\n{out}"
    );
}

#[test]
fn cidfile_is_written_and_never_overwritten() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().expect("temp dir");
    let cid = dir.path().join("ctr.id");
    let cid_s = cid.display().to_string();
    let name = unique("cid");
    let out = ours(
        w,
        &home,
        &["create", "--cidfile", &cid_s, "--name", &name, &w.image],
    );
    out.assert_success();
    let written = std::fs::read_to_string(&cid).expect("cidfile written");
    assert_eq!(written, out.stdout.trim(), "cidfile holds exactly the ID");
    // Only the cidfile is left in its directory (no temporary files).
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");

    let name2 = unique("cid");
    let again = ours(
        w,
        &home,
        &["create", "--cidfile", &cid_s, "--name", &name2, &w.image],
    );
    let theirs = real(
        w,
        &home,
        &["create", "--cidfile", &cid_s, "--name", &name2, &w.image],
    );
    assert_eq!(again.status, 125, "{again}");
    assert_eq!(again.status, theirs.status, "{theirs}");
    let msg = format!(
        "Error: container id file exists. Ensure another container is not using it or delete {cid_s}"
    );
    assert_eq!(again.stderr.trim(), msg, "{again}");
    assert_eq!(theirs.stderr.trim(), msg, "{theirs}");
    assert_eq!(
        std::fs::read_to_string(&cid).expect("cidfile"),
        written,
        "left untouched"
    );
    engine_rm(w, &[&name, &name2]);

    // run --cidfile too, and the file exists before run returns.
    let cid2 = dir.path().join("run.id");
    let name3 = unique("cid");
    let out = ours(
        w,
        &home,
        &[
            "run",
            "-d",
            "--cidfile",
            &cid2.display().to_string(),
            "--name",
            &name3,
            &w.image,
            "sleep",
            "60",
        ],
    );
    out.assert_success();
    assert_eq!(
        std::fs::read_to_string(&cid2).expect("run cidfile"),
        out.stdout.trim()
    );
    engine_rm(w, &[&name3]);
}

#[test]
fn rm_leaves_nothing_behind() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("gone");
    let out = ours(
        w,
        &home,
        &[
            "run",
            "--rm",
            "--name",
            &name,
            "-v",
            "/anon",
            &w.image,
            "sh",
            "-c",
            "echo bye; exit 4",
        ],
    );
    assert_eq!(out.status, 4, "{out}");
    assert_eq!(out.stdout, "bye\n");
    let ps = w.engine(&[
        "ps",
        "-a",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(ps.stdout.trim(), "", "container still there: {ps}");
    let exists = run(
        w.engine_podman().args(["container", "exists", &name]),
        None,
        T,
    );
    assert_eq!(exists.status, 1, "{exists}");
}

#[test]
fn create_then_start_runs_the_command() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("later");
    let out = ours(
        w,
        &home,
        &[
            "create",
            "--name",
            &name,
            "-e",
            "WHO=world",
            &w.image,
            "sh",
            "-c",
            "echo hello $WHO",
        ],
    );
    out.assert_success();
    assert_eq!(
        inspect(w, &name)["State"]["Status"],
        json!("created"),
        "create does not start"
    );
    w.engine(&["start", "--attach", &name]);
    let logs = w.engine(&["logs", &name]);
    assert_eq!(logs.stdout, "hello world\n");
    engine_rm(w, &[&name]);
}

/// Bad input: the first line of stderr and the exit code must be podman's.
#[test]
fn bad_input_fails_like_podman() {
    let w = world();
    let home = trusted_home(w);
    let taken = unique("taken");
    w.engine(&["create", "--name", &taken, &w.image]);
    let image = w.image.as_str();
    let cases: Vec<Vec<&str>> = vec![
        vec!["create", "--bogus-flag", image],
        vec!["run", "--bogus-flag", image],
        vec!["create", "-p", "abc", image],
        vec!["create", "-p", "1-2:3", image],
        vec!["create", "-v", "a:b:c:d", image],
        vec!["create", "--mount", "type=foo,dst=/x", image],
        vec!["create", "--ulimit", "nofile=3:2", image],
        vec!["create", "--memory", "12q", image],
        vec!["create", "--cpus", "abc", image],
        vec!["create", "--restart", "always:3", image],
        vec!["create", "--restart", "bogus", image],
        vec!["create", "--stop-signal", "FOO", image],
        vec!["create", "--security-opt", "foo", image],
        vec!["create", "--env-file", "/no/such/file", image],
        vec![
            "create",
            "--health-cmd",
            "x",
            "--health-interval",
            "5",
            image,
        ],
        vec!["create", "--pull", "bogus", image],
        vec!["create", "--rm", "--restart", "always", image],
        vec!["create", "--pull", "never", "localhost/no/such:image"],
        vec![
            "run",
            "--rm",
            "-q",
            "--pull",
            "never",
            "localhost/no/such:image",
        ],
        vec!["create", "--name", &taken, image],
        vec!["run", "--name", &taken, image, "true"],
    ];
    for args in cases {
        let o = ours(w, &home, &args);
        let t = real(w, &home, &args);
        assert_ne!(t.status, 0, "podman accepted {args:?}: {t}");
        assert_eq!(o.status, t.status, "{args:?}\nours: {o}\npodman: {t}");
        let first = |out: &Output| out.stderr.lines().next().unwrap_or("").to_string();
        assert_eq!(first(&o), first(&t), "{args:?}\nours: {o}\npodman: {t}");
        assert_eq!(o.stdout, "", "{args:?}: nothing on stdout\n{o}");
    }
    engine_rm(w, &[&taken]);
}

#[test]
fn missing_image_that_cannot_be_pulled() {
    let w = world();
    let home = trusted_home(w);
    // No registry listens on localhost: the pull fails, as for podman.
    let args = ["run", "--rm", "localhost/no/such:image", "true"];
    let o = ours(w, &home, &args);
    let t = real(w, &home, &args);
    assert_eq!(o.status, 125, "{o}");
    assert_eq!(o.status, t.status, "{t}");
    let last = |out: &Output| out.stderr.lines().last().unwrap_or("").to_string();
    assert!(last(&o).starts_with("Error: "), "{o}");
    assert_eq!(last(&o), last(&t), "ours: {o}\npodman: {t}");
    // Progress went to stderr, as podman prints it, and -q silences it.
    assert!(o.stderr.contains("Trying to pull"), "{o}");
    let q = ours(
        w,
        &home,
        &["run", "--rm", "-q", "localhost/no/such:image", "true"],
    );
    assert_eq!(q.status, 125);
    assert!(!q.stderr.contains("Trying to pull"), "{q}");
}
