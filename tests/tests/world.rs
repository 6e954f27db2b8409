//! Smoke tests of the e2e world itself, using the real podman 4.3.1 as the
//! remote client. If these fail, every other e2e test will too; they also
//! pin down reference behaviour of the real client.
#![cfg(target_os = "linux")]

use std::time::Duration;

use e2e::*;

const T: Duration = Duration::from_secs(60);

#[test]
fn engine_is_private_and_has_the_image() {
    let w = world();
    eprintln!(
        "world started in {} ms at {}: {:?}",
        w.startup.as_millis(),
        w.dir.display(),
        w.startup_steps
    );
    let out = w.engine(&[
        "info",
        "--format",
        "{{.Store.GraphRoot}}|{{.Store.RunRoot}}|{{.Store.GraphDriverName}}|{{.Host.RemoteSocket.Path}}|{{.Host.OCIRuntime.Name}}",
    ]);
    let fields: Vec<&str> = out.stdout.trim_end().split('|').collect();
    assert_eq!(fields.len(), 5, "{out}");
    assert!(
        fields[0].starts_with(w.dir.to_str().unwrap()),
        "graph root outside the world: {out}"
    );
    assert!(
        fields[1].starts_with(w.dir.to_str().unwrap()),
        "run root outside the world: {out}"
    );
    assert_eq!(fields[2], "vfs");
    assert_eq!(fields[3], w.unix_url());
    assert_eq!(fields[4], "runc");

    let images = w.engine(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(images.stdout.lines().any(|l| l == w.image), "{images}");
}

#[test]
fn real_podman_over_ssh_records_unknown_host_key() {
    let w = world();
    let home = w.home();
    // An existing (empty) known_hosts makes podman 4.3.1 append the key.
    home.write_known_hosts("");
    let out = run(
        w.real_podman(&home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["ps", "-a"]),
        None,
        T,
    );
    out.assert_success().assert_stdout_contains("CONTAINER ID");
    let known = home.known_hosts();
    let prefix = format!("[127.0.0.1]:{} ", w.ssh_port);
    assert!(
        known
            .lines()
            .any(|l| l == w.known_hosts_line() || l == w.known_hosts_line_rsa()),
        "known_hosts should have gained a {prefix}… line:\n{known}"
    );
    // The session was authenticated by our sshd with the given key.
    let log = w.sshd_log();
    assert!(log.contains("Accepted publickey for root"), "{log}");
}

#[test]
fn real_podman_without_known_hosts_warns_but_connects() {
    let w = world();
    let home = w.home();
    let out = run(
        w.real_podman(&home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["version", "--format", "{{.Server.Version}}"]),
        None,
        T,
    );
    out.assert_success()
        .assert_stderr_contains("please create a known_hosts file");
    assert_eq!(out.stdout.trim(), "4.3.1");
    assert_eq!(
        home.known_hosts(),
        "",
        "podman 4.3.1 does not create known_hosts"
    );
}

#[test]
fn real_podman_rejects_a_changed_host_key() {
    let w = world();
    let home = w.home();
    // Claim the host's key is the client key: a mismatch.
    let client_pub = std::fs::read_to_string(w.key.with_extension("pub")).unwrap();
    let fake: Vec<&str> = client_pub.split_whitespace().take(2).collect();
    home.write_known_hosts(&format!("[127.0.0.1]:{} {}\n", w.ssh_port, fake.join(" ")));
    let out = run(
        w.real_podman(&home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key)
            .args(["ps"]),
        None,
        T,
    );
    out.assert_failure().assert_stderr_contains("key mismatch");
}

#[test]
fn real_podman_runs_a_container_over_ssh() {
    let w = world();
    let home = w.home();
    home.trust_world(w);
    let name = unique("smoke");
    let out = run(
        w.real_podman(&home)
            .args(["--url", &w.ssh_url(), "--identity"])
            .arg(&w.key_rsa)
            .args(["run", "--rm", "--name", &name, &w.image, "echo", "hi"]),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout, "hi\n", "{out}");
    // --rm removed it.
    let ps = w.engine(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(!ps.stdout.lines().any(|l| l == name), "{ps}");
}

#[test]
fn container_networking_default_and_host() {
    let w = world();
    // Default network (netavark bridge): the container gets an eth0.
    let bridged = w.engine(&[
        "run",
        "--rm",
        &w.image,
        "sh",
        "-c",
        "ip -o link | grep -c eth0",
    ]);
    assert_eq!(bridged.stdout.trim(), "1", "{bridged}");
    let host = w.engine(&["run", "--rm", "--network", "host", &w.image, "true"]);
    host.assert_success();
}

#[test]
fn ssh_sessions_discover_the_private_socket() {
    let w = world();
    let out = run(
        w.ssh()
            .arg("podman info --format '{{.Host.RemoteSocket.Path}}'"),
        None,
        T,
    );
    out.assert_success();
    assert_eq!(out.stdout.trim_end(), w.unix_url(), "{out}");
}

#[test]
fn encrypted_key_through_agent() {
    let w = world();
    let agent = w.agent();
    assert_eq!(agent.list(), "");
    agent.add(&w.key_encrypted);
    let listed = agent.list();
    assert!(listed.contains("e2e-client-encrypted"), "{listed}");

    // Real podman 4.3.1 with no --identity uses the agent.
    let home = w.home();
    home.trust_world(w);
    let out = run(
        w.real_podman(&home)
            .env("SSH_AUTH_SOCK", &agent.sock)
            .args(["--url", &w.ssh_url(), "ps", "-q"]),
        None,
        T,
    );
    out.assert_success();
}

#[test]
fn encrypted_key_with_passphrase_in_url() {
    let w = world();
    let home = w.home();
    home.trust_world(w);
    // podman takes the key passphrase from the URL's password.
    let url = format!(
        "ssh://root:{}@127.0.0.1:{}{}",
        w.key_passphrase.replace(' ', "%20"),
        w.ssh_port,
        w.socket.display()
    );
    let out = run(
        w.real_podman(&home)
            .args(["--url", &url, "--identity"])
            .arg(&w.key_encrypted)
            .args(["ps", "-q"]),
        None,
        T,
    );
    out.assert_success();
}

#[test]
fn run_reports_exit_status_stdin_and_timeouts() {
    let out = run(
        std::process::Command::new("/bin/sh").args(["-c", "cat; echo err >&2; exit 3"]),
        Some(b"in"),
        T,
    );
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (3, "in", "err\n")
    );

    let timed_out = try_run(
        std::process::Command::new("/bin/sh").args(["-c", "echo started; sleep 30"]),
        None,
        Duration::from_millis(300),
    )
    .unwrap_err();
    assert!(
        timed_out.contains("timed out") && timed_out.contains("started"),
        "{timed_out}"
    );
}

#[test]
fn home_gives_podman_remote_a_clean_environment() {
    let w = world();
    let home = w.home();
    assert!(home.ssh_dir().is_dir());
    assert!(!home.known_hosts_path().exists());
    let cmd = home.podman_remote();
    assert!(std::path::Path::new(cmd.get_program()).is_file());
    let mut keys: Vec<String> = cmd
        .get_envs()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "HOME",
            "LANG",
            "PATH",
            "USER",
            "XDG_CONFIG_HOME",
            "XDG_RUNTIME_DIR"
        ]
    );
}

#[test]
fn engine_json_and_installed_keys() {
    let w = world();
    let inspect = w.engine_json(&["image", "inspect", &w.image]);
    assert_eq!(inspect[0]["Config"]["Cmd"][0], "/bin/sh", "{inspect}");
    let home = w.home();
    let key = home.install_key(&w.key, "id_ed25519");
    assert_eq!(key, home.ssh_dir().join("id_ed25519"));
    assert!(home.ssh_dir().join("id_ed25519.pub").is_file());
}
