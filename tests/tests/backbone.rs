//! The backbone end to end: our `podman-remote` against the real podman 4.3.1 engine behind
//! the real OpenSSH sshd of the e2e world, over ssh:// and unix://, compared with podman's own
//! remote client where the output must be the same, and every failure with its message and
//! exit code.
#![cfg(target_os = "linux")]

use std::time::Duration;

use e2e::*;
use serde_json::Value;

const T: Duration = Duration::from_secs(90);

/// Our client over ssh://, with the world's key and a known_hosts that trusts the world.
fn ours_ssh(w: &World, home: &Home) -> std::process::Command {
    let mut c = home.podman_remote();
    c.args(["--url", &w.ssh_url(), "--identity"]).arg(&w.key);
    c
}

fn ours_unix(w: &World, home: &Home) -> std::process::Command {
    let mut c = home.podman_remote();
    c.args(["--url", &w.unix_url()]);
    c
}

fn trusted_home(w: &World) -> Home {
    let home = w.home();
    home.trust_world(w);
    home
}

/// Relative times ("2 seconds ago") depend on when each client ran; mask them and the column
/// padding they shift, so that outputs taken a moment apart compare equal.
fn masked(text: &str) -> String {
    const TIME_WORDS: &[&str] = &[
        "second", "seconds", "minute", "minutes", "About", "a", "an", "Less", "than", "hour",
        "hours", "Up", "Exited",
    ];
    let mut out = String::new();
    for line in text.lines() {
        let mut kept: Vec<&str> = Vec::new();
        for word in line.split_whitespace() {
            if word != "ago" {
                kept.push(word);
                continue;
            }
            // Drop the duration before "ago": "1 second", "About a minute", "Less than a second".
            while let Some(&w) = kept.last() {
                if w.chars().all(|c| c.is_ascii_digit())
                    || TIME_WORDS.contains(&w)
                    || w.starts_with('(')
                {
                    kept.pop();
                } else {
                    break;
                }
            }
            kept.push("<time>");
        }
        out.push_str(&kept.join(" "));
        out.push('\n');
    }
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
}

/// Create (not start) a container directly on the engine; returns its full ID.
fn engine_create(w: &World, name: &str) -> String {
    let out = w.engine(&["create", "--name", name, &w.image, "sleep", "1000"]);
    out.stdout.trim().to_string()
}

#[test]
fn run_streams_output_and_returns_the_exit_code_over_ssh_and_unix() {
    let w = world();
    let home = trusted_home(w);
    for (label, mut cmd) in [("ssh", ours_ssh(w, &home)), ("unix", ours_unix(w, &home))] {
        let out = run(
            cmd.args([
                "run",
                "--rm",
                &w.image,
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3",
            ]),
            None,
            T,
        );
        assert_eq!(
            out.status, 3,
            "{label}: container's exit code expected\n{out}"
        );
        assert_eq!(out.stdout, "out\n", "{label}: stdout\n{out}");
        assert!(
            out.stderr.contains("err\n"),
            "{label}: stderr kept apart\n{out}"
        );
    }
    // --rm removed them: no container left running that command.
    let ps = w.engine(&["ps", "-a", "--format", "{{.Command}}"]);
    assert!(!ps.stdout.contains("echo out"), "{ps}");
}

#[test]
fn run_passes_stdin_and_its_eof() {
    let w = world();
    let home = trusted_home(w);
    let out = run(
        ours_ssh(w, &home).args(["run", "--rm", "-i", &w.image, "cat"]),
        Some(b"hi\nthere\n"),
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "hi\nthere\n", "{out}");
}

#[test]
fn run_command_not_found_is_127() {
    let w = world();
    let home = trusted_home(w);
    let out = run(
        ours_ssh(w, &home).args(["run", "--rm", &w.image, "/no/such/binary"]),
        None,
        T,
    );
    let real = run(
        w.real_podman(&home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["run", "--rm", &w.image, "/no/such/binary"]),
        None,
        T,
    );
    assert_eq!(out.status, 127, "{out}");
    assert_eq!(out.status, real.status, "same code as podman: {real}");
    assert!(out.stderr.starts_with("Error: "), "{out}");
}

#[test]
fn run_detached_prints_the_id() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("det");
    let out = run(
        ours_ssh(w, &home).args(["run", "-d", "--name", &name, &w.image, "sleep", "300"]),
        None,
        T,
    );
    out.assert_success();
    let id = out.stdout.trim();
    assert_eq!(id.len(), 64, "{out}");
    let state = w.engine(&["inspect", "--format", "{{.State.Status}}", &name]);
    assert_eq!(state.stdout.trim(), "running");
    let rm = run(ours_ssh(w, &home).args(["rm", "-f", &name]), None, T);
    rm.assert_success();
    assert_eq!(rm.stdout.trim(), name);
}

#[test]
fn ps_matches_podman_in_every_format() {
    let w = world();
    let home = trusted_home(w);
    let name = unique("ps");
    let id = engine_create(w, &name);

    let real = |args: &[&str]| {
        run(
            w.real_podman(&home)
                .args(["--url", &w.ssh_url(), "--identity"])
                .arg(&w.key)
                .args(args),
            None,
            T,
        )
    };
    // Other tests share the engine: every listing is filtered to this test's container.
    let only = format!("name={name}");
    for args in [
        &[
            "ps",
            "-a",
            "--filter",
            &only,
            "--format",
            "{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Ports}}",
        ][..],
        &["ps", "-a", "-q", "--filter", &only],
        &["ps", "-a", "-q", "--no-trunc", "--filter", &only],
        &[
            "ps",
            "-a",
            "--filter",
            &only,
            "--format",
            "{{.Names}}|{{.Status}}",
        ],
        &["ps", "--filter", &only],
        &["ps", "-a", "--filter", &only],
        &["ps", "-a", "--ns", "--filter", &only],
        &["ps", "-a", "--pod", "--filter", &only],
        &[
            "ps",
            "-a",
            "--filter",
            &only,
            "--format",
            "{{.Namespaces.PIDNS}}|{{.PodName}}",
        ],
        &[
            "ps",
            "-a",
            "--filter",
            &only,
            "--format",
            "table {{.Names}}\t{{.Labels}}",
        ],
    ] {
        let ours = run(ours_ssh(w, &home).args(args), None, T);
        ours.assert_success();
        let theirs = real(args);
        theirs.assert_success();
        assert_eq!(
            masked(&ours.stdout),
            masked(&theirs.stdout),
            "output of {args:?} differs\nours: {ours}\npodman: {theirs}"
        );
    }

    // Default table: same header, same columns.
    let ours = run(ours_ssh(w, &home).args(["ps", "-a"]), None, T);
    let theirs = real(&["ps", "-a"]);
    assert_eq!(
        ours.stdout.lines().next().map(masked),
        theirs.stdout.lines().next().map(masked),
        "header\nours: {ours}\npodman: {theirs}"
    );
    let our_line = ours
        .stdout
        .lines()
        .find(|l| l.contains(&name))
        .expect("our row");
    let their_line = theirs
        .stdout
        .lines()
        .find(|l| l.contains(&name))
        .expect("podman row");
    assert_eq!(masked(our_line), masked(their_line));
    assert!(our_line.starts_with(&id[..12]));

    // JSON: the same keys, in the same order, with the same values for ours.
    let ours = json(&run(
        ours_ssh(w, &home).args(["ps", "-a", "--format", "json"]),
        None,
        T,
    ));
    let theirs = json(&real(&["ps", "-a", "--format", "json"]));
    let pick = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["Id"] == id.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing in {v}"))
    };
    let (o, t) = (pick(&ours), pick(&theirs));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&o), keys(&t));
    for k in [
        "Id", "Names", "Image", "State", "Command", "Created", "Status",
    ] {
        assert_eq!(o[k], t[k], "field {k}");
    }
    // "N seconds ago": equal up to the moment each client ran.
    assert_eq!(
        masked(o["CreatedAt"].as_str().unwrap()),
        masked(t["CreatedAt"].as_str().unwrap())
    );
    w.engine(&["rm", "-f", &name]);
}

#[test]
fn images_and_version_and_info_match_podman() {
    let w = world();
    let home = trusted_home(w);
    let real = |args: &[&str]| {
        let out = run(
            w.real_podman(&home)
                .args(["--url", &w.ssh_url(), "--identity"])
                .arg(&w.key)
                .args(args),
            None,
            T,
        );
        out.assert_success();
        out
    };
    for args in [
        &["images"][..],
        &["images", "-q"],
        &[
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}",
        ],
        &["images", "--format", "table {{.Repository}} {{.Tag}}"],
        &[
            "version",
            "--format",
            "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.OsArch}}",
        ],
        &[
            "info",
            "--format",
            "{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}} {{.Version.Version}}",
        ],
    ] {
        let ours = run(ours_ssh(w, &home).args(args), None, T);
        ours.assert_success();
        let theirs = real(args);
        assert_eq!(
            masked(&ours.stdout),
            masked(&theirs.stdout),
            "{args:?}\nours: {ours}\npodman: {theirs}"
        );
    }
    // Byte for byte: same keys, order, indentation and escaping.
    let ours = run(
        ours_ssh(w, &home).args(["images", "--format", "json"]),
        None,
        T,
    );
    let theirs = real(&["images", "--format", "json"]);
    // Other tests run containers meanwhile: the per-image container count may move.
    let counts_masked = |t: &str| {
        t.lines()
            .map(|l| {
                if l.trim_start().starts_with("\"Containers\":") {
                    "\"Containers\": N,"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        counts_masked(&ours.stdout),
        counts_masked(&theirs.stdout),
        "images --format json"
    );

    let ours = json(&run(
        ours_ssh(w, &home).args(["info", "--format", "json"]),
        None,
        T,
    ));
    let theirs = json(&real(&["info", "--format", "json"]));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&theirs), "info sections");
    assert_eq!(ours["registries"], theirs["registries"]);
    assert_eq!(ours["store"]["graphRoot"], theirs["store"]["graphRoot"]);
    assert_eq!(ours["version"], theirs["version"]);

    // The default `info` is podman's YAML, line for line; only live figures (memory, CPU,
    // disk use, uptime) may move between the two calls.
    let live = |text: &str| {
        text.lines()
            .map(|l| match l.split_once(": ") {
                Some((k, v)) if v.trim().parse::<f64>().is_ok() || k.trim() == "uptime" => {
                    format!("{k}: <live>")
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let yaml = run(ours_ssh(w, &home).args(["info"]), None, T);
    yaml.assert_success();
    let real_yaml = real(&["info"]);
    assert_eq!(live(&yaml.stdout), live(&real_yaml.stdout), "info YAML");

    let v = run(ours_ssh(w, &home).args(["version"]), None, T);
    v.assert_success();
    assert!(
        v.stdout
            .contains("Server:       Podman Engine\nVersion:      4.3.1"),
        "{v}"
    );
}

#[test]
fn socket_is_discovered_when_the_url_has_no_path() {
    let w = world();
    let home = trusted_home(w);
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url_no_path(), "--identity"])
            .arg(&w.key)
            .args(["ps", "-a", "-q"]),
        None,
        T,
    );
    out.assert_success();
}

#[test]
fn unknown_host_is_added_by_default_and_refused_in_strict_mode() {
    let w = world();
    // Default (podman's behaviour): accept-new, the key is recorded.
    let home = w.home();
    let out = run(ours_ssh(w, &home).args(["ps"]), None, T);
    out.assert_success();
    // Recorded under the name ssh uses (hashed when ssh_config says HashKnownHosts yes, as
    // Debian's /etc/ssh/ssh_config does): ssh-keygen finds it.
    let found = run(
        std::process::Command::new("ssh-keygen")
            .arg("-F")
            .arg(format!("[127.0.0.1]:{}", w.ssh_port))
            .arg("-f")
            .arg(home.known_hosts_path()),
        None,
        T,
    );
    found.assert_success();
    assert!(
        found.stdout.contains(&w.host_key_pub[..20]) || found.stdout.contains("ssh-"),
        "{found}"
    );
    // A second connection uses the recorded key.
    run(ours_ssh(w, &home).args(["ps"]), None, T).assert_success();

    // StrictHostKeyChecking yes: refused with the fingerprint and what to do.
    let strict = w.home();
    strict.write_ssh_config("Host 127.0.0.1\n  StrictHostKeyChecking yes\n");
    let out = run(ours_ssh(w, &strict).args(["ps"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("StrictHostKeyChecking is yes")
        .assert_stderr_contains("SHA256:")
        .assert_stderr_contains("ssh-keyscan");
    assert_eq!(strict.known_hosts(), "", "nothing recorded in strict mode");
}

#[test]
fn changed_host_key_is_always_refused() {
    let w = world();
    let home = w.home();
    // A different key recorded for this host: generate a throwaway one.
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("k");
    run(
        std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&k),
        None,
        T,
    )
    .assert_success();
    let pub_line = std::fs::read_to_string(k.with_extension("pub")).unwrap();
    let mut it = pub_line.split_whitespace();
    let (kt, kb) = (it.next().unwrap(), it.next().unwrap());
    home.write_known_hosts(&format!("# mine\n[127.0.0.1]:{} {kt} {kb}\n", w.ssh_port));
    let out = run(ours_ssh(w, &home).args(["ps"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("IDENTIFICATION HAS CHANGED")
        .assert_stderr_contains(&w.host_key_fingerprint)
        .assert_stderr_contains("known_hosts:2")
        .assert_stderr_contains("ssh-keygen -R");
    // Even with StrictHostKeyChecking no.
    home.write_ssh_config("Host *\n  StrictHostKeyChecking no\n");
    let out = run(ours_ssh(w, &home).args(["ps"]), None, T);
    assert_eq!(out.status, 125, "{out}");
}

#[test]
fn hashed_known_hosts_and_bad_lines() {
    let w = world();
    let home = w.home();
    home.trust_world(w);
    run(
        std::process::Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(home.known_hosts_path()),
        None,
        T,
    )
    .assert_success();
    let hashed = home.known_hosts();
    assert!(hashed.starts_with("|1|"), "{hashed}");
    // A malformed line before the hashed ones is skipped with a warning, not fatal.
    home.write_known_hosts(&format!("garbage line without a key\n{hashed}"));
    home.write_ssh_config("Host *\n  StrictHostKeyChecking yes\n");
    let out = run(ours_ssh(w, &home).args(["ps", "-q"]), None, T);
    out.assert_success().assert_stderr_contains("known_hosts:1");
}

#[test]
fn wrong_key_is_refused_clearly() {
    let w = world();
    let home = trusted_home(w);
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("stranger");
    run(
        std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&k),
        None,
        T,
    )
    .assert_success();
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&k)
            .args(["ps"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("authentication")
        .assert_stderr_contains("refused")
        .assert_stderr_contains("Cannot connect to Podman");
    // A missing identity file is named.
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity", "/no/such/key", "ps"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("/no/such/key");
}

#[test]
fn encrypted_key_needs_a_passphrase_source() {
    let w = world();
    let home = trusted_home(w);
    // No terminal, no keyring entry, no agent: a clear error, not a hang.
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key_encrypted)
            .args(["ps"]),
        None,
        T,
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("encrypted")
        .assert_stderr_contains("ssh-add");
    // The URL password is used as the passphrase, as in podman.
    let url = format!(
        "ssh://root:{}@127.0.0.1:{}{}",
        w.key_passphrase.replace(' ', "%20"),
        w.ssh_port,
        w.socket.display()
    );
    let out = run(
        home.podman_remote()
            .args(["--url", &url, "--identity"])
            .arg(&w.key_encrypted)
            .args(["ps", "-q"]),
        None,
        T,
    );
    out.assert_success();
}

#[test]
fn agent_is_used_after_the_identity_and_identities_only_is_honoured() {
    let w = world();
    let home = trusted_home(w);
    let agent = w.agent();
    agent.add(&w.key_encrypted);
    let with_agent = |cmd: &mut std::process::Command| {
        cmd.env("SSH_AUTH_SOCK", &agent.sock);
    };
    // No identity at all: the agent's key gets in.
    let mut c = home.podman_remote();
    with_agent(&mut c);
    run(c.args(["--url", &w.ssh_url(), "ps", "-q"]), None, T).assert_success();

    // A refused identity first, then the agent: still gets in (tried after, not instead).
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("stranger");
    run(
        std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&k),
        None,
        T,
    )
    .assert_success();
    let mut c = home.podman_remote();
    with_agent(&mut c);
    run(
        c.args(["--url", &w.ssh_url(), "--identity"])
            .arg(&k)
            .args(["ps", "-q"]),
        None,
        T,
    )
    .assert_success();

    // IdentitiesOnly: the agent may only offer the configured identity, which is refused.
    home.write_ssh_config(&format!(
        "Host 127.0.0.1\n  IdentitiesOnly yes\n  IdentityFile {}\n",
        k.display()
    ));
    let mut c = home.podman_remote();
    with_agent(&mut c);
    let out = run(c.args(["--url", &w.ssh_url(), "ps", "-q"]), None, T);
    assert_eq!(out.status, 125, "{out}");
}

#[test]
fn ssh_config_alias_and_proxyjump() {
    let w = world();
    let home = trusted_home(w);
    let key = home.install_key(&w.key, "e2e_key");
    home.write_ssh_config(&format!(
        "Include conf.d/*.conf\n\
         Host engine\n  HostName 127.0.0.1\n  User root\n  Port {port}\n  IdentityFile ~/.ssh/e2e_key\n\
         Host via-jump\n  HostName 127.0.0.1\n  Port {port}\n  ProxyJump jumpbox\n  IdentityFile {key}\n",
        port = w.ssh_port,
        key = key.display()
    ));
    std::fs::create_dir_all(home.ssh_dir().join("conf.d")).unwrap();
    std::fs::write(
        home.ssh_dir().join("conf.d/jump.conf"),
        format!(
            "Host jumpbox\n  HostName=127.0.0.1\n  Port={}\n  User=root\n  IdentityFile={}\n",
            w.ssh_port,
            key.display()
        ),
    )
    .unwrap();
    let url = format!("ssh://engine{}", w.socket.display());
    run(
        home.podman_remote().args(["--url", &url, "ps", "-q"]),
        None,
        T,
    )
    .assert_success();

    let url = format!("ssh://root@via-jump{}", w.socket.display());
    let out = run(
        home.podman_remote()
            .args(["--url", &url, "--log-level", "debug", "ps", "-q"]),
        None,
        T,
    );
    out.assert_success();
    // The second session really went through the jump host's direct-tcpip tunnel.
    out.assert_stderr_contains(&format!(
        "tunnelling to 127.0.0.1:{} through jump host root@127.0.0.1:{}",
        w.ssh_port, w.ssh_port
    ));
}

#[test]
fn unreachable_port_fails_fast_with_exit_125() {
    let w = world();
    let home = trusted_home(w);
    // A port nobody listens on: bound and closed at once.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run(
        home.podman_remote()
            .args([
                "--url",
                &format!("ssh://root@127.0.0.1:{port}/run/podman/podman.sock"),
            ])
            .arg("--identity")
            .arg(&w.key)
            .arg("ps"),
        None,
        Duration::from_secs(30),
    );
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("connection refused")
        .assert_stderr_contains(&port.to_string());
}

#[test]
fn bad_urls_name_the_bad_part() {
    let w = world();
    let home = w.home();
    for (url, part) in [
        (
            "ssh://root@127.0.0.1:notaport/x",
            "\"notaport\" is not a number",
        ),
        ("http://example.com", "\"http\" is not a supported schema"),
        ("tcp://localhost", "needs a port"),
        ("ssh://", "host is empty"),
    ] {
        let out = run(home.podman_remote().args(["--url", url, "ps"]), None, T);
        assert_eq!(out.status, 125, "{url}: {out}");
        out.assert_stderr_contains(part);
    }
    let _ = w;
}

#[test]
fn unknown_connection_name() {
    let w = world();
    let home = w.home();
    let out = run(home.podman_remote().args(["-c", "nosuch", "ps"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("\"nosuch\"")
        .assert_stderr_contains("system connection list");
    let mut c = home.podman_remote();
    c.env("CONTAINER_CONNECTION", "nosuch2");
    let out = run(c.args(["ps"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("nosuch2");
}

#[test]
fn rm_of_a_missing_container_matches_podman() {
    let w = world();
    let home = trusted_home(w);
    let ours = run(ours_ssh(w, &home).args(["rm", "nosuchcontainer"]), None, T);
    let theirs = run(
        w.real_podman(&home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["rm", "nosuchcontainer"]),
        None,
        T,
    );
    assert_eq!(ours.status, theirs.status, "ours: {ours}\npodman: {theirs}");
    assert_ne!(ours.status, 0);
    ours.assert_stderr_contains("nosuchcontainer");
    // --ignore makes it a success, printing nothing.
    let out = run(
        ours_ssh(w, &home).args(["rm", "--ignore", "nosuchcontainer"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "");
}

#[test]
fn env_vars_select_the_engine() {
    let w = world();
    let home = trusted_home(w);
    let mut c = home.podman_remote();
    c.env("CONTAINER_HOST", w.ssh_url())
        .env("CONTAINER_SSHKEY", &w.key);
    run(c.args(["ps", "-q"]), None, T).assert_success();
    // --url wins over CONTAINER_HOST.
    let mut c = home.podman_remote();
    c.env("CONTAINER_HOST", "ssh://root@127.0.0.1:1/x")
        .env("CONTAINER_SSHKEY", &w.key);
    run(c.args(["--url", &w.unix_url(), "ps", "-q"]), None, T).assert_success();
}

#[test]
fn connections_interoperate_with_real_podman() {
    let w = world();
    let home = trusted_home(w);
    // Real podman 4.3.1 adds a connection (to containers.conf) ...
    run(
        w.real_podman(&home)
            .args(["system", "connection", "add", "--identity"])
            .arg(&w.key)
            .args(["byreal", &w.ssh_url()]),
        None,
        T,
    )
    .assert_success();
    // ... which we list and use (CONTAINERS_CONF points at the same file for both).
    let conf = home.containers_conf_path();
    let ours = |args: &[&str]| {
        let mut c = home.podman_remote();
        c.env("CONTAINERS_CONF", &conf);
        run(c.args(args), None, T)
    };
    let list = ours(&["system", "connection", "list", "--format", "json"]);
    list.assert_success();
    let v = json(&list);
    let byreal = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Name"] == "byreal")
        .expect("listed");
    // podman 4.3.1 stores the URI without its socket path; we list what it stored, and our
    // client still reaches the engine by discovering the socket over SSH.
    let real_uri = run(
        w.real_podman(&home)
            .args(["system", "connection", "list", "--format", "{{.URI}}"]),
        None,
        T,
    );
    assert_eq!(byreal["URI"], real_uri.stdout.trim());
    assert_eq!(byreal["Identity"], w.key.to_str().unwrap());
    assert_eq!(byreal["Default"], true);
    ours(&["-c", "byreal", "ps", "-q"]).assert_success();
    ours(&["ps", "-q"]).assert_success(); // the default connection

    // We add one; real podman lists it and uses it.
    ours(&[
        "system",
        "connection",
        "add",
        "--identity",
        w.key.to_str().unwrap(),
        "byours",
        &w.ssh_url(),
    ])
    .assert_success();
    let real_list = run(
        w.real_podman(&home).args([
            "system",
            "connection",
            "list",
            "--format",
            "{{.Name}} {{.URI}}",
        ]),
        None,
        T,
    );
    real_list
        .assert_success()
        .assert_stdout_contains(&format!("byours {}", w.ssh_url()));
    run(
        w.real_podman(&home).args(["-c", "byours", "ps", "-q"]),
        None,
        T,
    )
    .assert_success();

    // default / rename / remove, seen by both.
    ours(&["system", "connection", "default", "byours"]).assert_success();
    let real_list = run(
        w.real_podman(&home).args([
            "system",
            "connection",
            "list",
            "--format",
            "{{.Name}} {{.Default}}",
        ]),
        None,
        T,
    );
    real_list.assert_stdout_contains("byours true");
    ours(&["system", "connection", "rename", "byours", "renamed"]).assert_success();
    ours(&["system", "connection", "rm", "byreal"]).assert_success();
    // The default table, with podman 5's header row as podman writes it (not upper-cased).
    let table = ours(&["system", "connection", "ls"]);
    table.assert_success();
    let mut lines = table.stdout.lines();
    assert_eq!(
        lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["Name", "URI", "Identity", "Default", "ReadWrite"]),
        "{table}"
    );
    assert!(lines.any(|l| l.starts_with("renamed ")), "{table}");
    let names = ours(&["system", "connection", "ls", "-q"]);
    assert_eq!(names.stdout, "renamed\n", "{names}");
    let real_names = run(
        w.real_podman(&home)
            .args(["system", "connection", "list", "--format", "{{.Name}}"]),
        None,
        T,
    );
    assert_eq!(real_names.stdout, "renamed\n", "{real_names}");
    // The podman 5 file exists too.
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(home.connections_json_path()).unwrap())
            .unwrap();
    assert_eq!(j["Connection"]["Default"], "renamed");
}

#[test]
fn unbuilt_commands_fail_clearly_and_unknown_ones_like_podman() {
    let w = world();
    let home = w.home();
    let out = run(home.podman_remote().args(["manifest", "ls"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("not implemented yet");
    let out = run(home.podman_remote().args(["unshare"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("remote podman client");
    let out = run(home.podman_remote().args(["frobnicate"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("unrecognized command");
    let out = run(home.podman_remote().args(["ps", "--bogus-flag"]), None, T);
    assert_eq!(out.status, 125, "{out}");
}

#[test]
fn every_backbone_command_works_over_unix_too() {
    let w = world();
    let home = w.home();
    let name = unique("ux");
    let ours = |args: &[&str]| run(ours_unix(w, &home).args(args), None, T);
    let out = ours(&["run", "-d", "--name", &name, &w.image, "sleep", "300"]);
    out.assert_success();
    let id = out.stdout.trim().to_string();
    ours(&["ps", "--format", "{{.ID}} {{.Names}}"])
        .assert_success()
        .assert_stdout_contains(&format!("{} {name}", &id[..12]));
    let ps = json(&ours(&["ps", "-a", "--format", "json"]));
    assert!(
        ps.as_array()
            .unwrap()
            .iter()
            .any(|c| c["Id"] == id.as_str()),
        "{ps}"
    );
    ours(&["images", "-q"]).assert_success();
    ours(&["images"])
        .assert_success()
        .assert_stdout_contains("localhost/e2e/busybox");
    ours(&["version", "--format", "{{.Server.Version}}"])
        .assert_success()
        .assert_stdout_contains("4.3.1");
    ours(&["info", "--format", "{{.Host.OCIRuntime.Name}}"])
        .assert_success()
        .assert_stdout_contains("runc");
    let rm = ours(&["rm", "-f", &name]);
    rm.assert_success();
    assert_eq!(rm.stdout.trim(), name);
    let gone = ours(&["rm", &name]);
    assert_eq!(
        gone.status, 1,
        "podman rm exits 1 for a missing container: {gone}"
    );
}

#[test]
fn encrypted_key_passphrase_from_the_os_keyring() {
    let w = world();
    let home = trusted_home(w);
    // Linux's keyring backend is the kernel's session keyring; a process started outside a
    // login session (CI, these tests) uses the user's session keyring (@us). Store the
    // passphrase where podman-remote looks (service "podman-remote", account = the key's
    // path) with keyutils' own tool.
    let key = home.install_key(&w.key_encrypted, "enc_key");
    let desc = format!("keyring-rs:{}@podman-remote", key.display());
    let added = run(
        std::process::Command::new("keyctl").args(["padd", "user", &desc, "@us"]),
        Some(w.key_passphrase.as_bytes()),
        T,
    );
    added.assert_success();
    // Outside a login session nothing "possesses" @us, so let the user (root) search it.
    run(
        std::process::Command::new("keyctl").args(["setperm", added.stdout.trim(), "0x3f3f0000"]),
        None,
        T,
    )
    .assert_success();
    let out = run(
        home.podman_remote()
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&key)
            .args(["ps", "-q"]),
        None,
        T,
    );
    let _ = run(
        std::process::Command::new("keyctl").args(["unlink", added.stdout.trim(), "@us"]),
        None,
        T,
    );
    out.assert_success();
}

#[test]
fn encrypted_key_passphrase_prompted_on_the_terminal() {
    let w = world();
    let home = trusted_home(w);
    // `script` gives the command a terminal; what we write to its stdin is typed there.
    let cmd = format!(
        "{} --url {} --identity {} ps -q",
        podman_remote_bin().display(),
        w.ssh_url(),
        w.key_encrypted.display()
    );
    let mut script = std::process::Command::new("script");
    script
        .env_clear()
        .envs(home.env())
        .args(["-qec", &cmd, "/dev/null"]);
    let out = run(
        &mut script,
        Some(format!("{}\n", w.key_passphrase).as_bytes()),
        T,
    );
    // (Typed-ahead input is echoed by the terminal before the prompt turns echo off, so the
    // transcript may show it; that is the test's typing, not podman-remote's.)
    out.assert_success()
        .assert_stdout_contains("Enter passphrase for key");
}

#[test]
fn host_certificate_trusted_through_cert_authority() {
    let w = world();
    let port = w.cert_ssh_port();
    let url = format!("ssh://root@127.0.0.1:{port}{}", w.socket.display());
    let ours = |home: &Home| {
        let mut c = home.podman_remote();
        c.args(["--url", &url, "--identity"]).arg(&w.key);
        c
    };
    let home = w.home();
    // Only the CA is known, not the host key: the server's certificate must carry us.
    home.write_known_hosts(&format!(
        "@cert-authority [127.0.0.1]:{} {}\n",
        port, w.host_ca_pub
    ));
    home.write_ssh_config("Host *\n  StrictHostKeyChecking yes\n");
    run(ours(&home).args(["ps", "-q"]), None, T).assert_success();
    // Nothing was added: trust came from the CA.
    assert_eq!(home.known_hosts().lines().count(), 1);

    // The same CA revoked: refused, naming the line.
    home.write_known_hosts(&format!(
        "@cert-authority [127.0.0.1]:{port} {ca}\n@revoked * {ca}\n",
        port = port,
        ca = w.host_ca_pub
    ));
    let out = run(ours(&home).args(["ps", "-q"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("@revoked");

    // A CA for other hosts only: not trusted here, so strict mode refuses.
    home.write_known_hosts(&format!(
        "@cert-authority *.example.com {}\n",
        w.host_ca_pub
    ));
    let out = run(ours(&home).args(["ps", "-q"]), None, T);
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains("StrictHostKeyChecking is yes");
}
