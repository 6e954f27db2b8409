//! Start the private e2e world (a podman engine behind a loopback OpenSSH sshd) and run one
//! command inside it, for the README's demo and the benchmarks:
//!
//! `world COMMAND [ARGS...]` runs COMMAND with these variables set, then tears the world down
//! and exits with COMMAND's status:
//! E2E_URL (ssh:// URL of the engine), E2E_UNIX_URL, E2E_IDENTITY (private key),
//! E2E_KNOWN_HOSTS (a known_hosts file trusting the sshd), E2E_IMAGE (a local test image).

#[cfg(target_os = "linux")]
fn main() {
    use std::process::Command;

    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: world COMMAND [ARGS...]");
        std::process::exit(2);
    }
    let w = e2e::world();
    let known = w.dir.join("world_known_hosts");
    if let Err(e) = std::fs::write(
        &known,
        format!("{}\n{}\n", w.known_hosts_line(), w.known_hosts_line_rsa()),
    ) {
        eprintln!("world: cannot write {}: {e}", known.display());
        std::process::exit(125);
    }
    eprintln!(
        "world: podman engine at {} behind sshd on 127.0.0.1:{} (started in {} ms)",
        w.socket.display(),
        w.ssh_port,
        w.startup.as_millis()
    );
    let status = Command::new(&args[0])
        .args(&args[1..])
        .env("E2E_URL", w.ssh_url())
        .env("E2E_UNIX_URL", w.unix_url())
        .env("E2E_IDENTITY", &w.key)
        .env("E2E_KNOWN_HOSTS", &known)
        .env("E2E_IMAGE", &w.image)
        .status();
    // Returning from main runs the world's atexit teardown.
    match status {
        Ok(s) => std::process::exit(s.code().unwrap_or(125)),
        Err(e) => {
            eprintln!("world: cannot run {}: {e}", args[0]);
            std::process::exit(127);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("world: the e2e world needs Linux (podman engine + sshd)");
    std::process::exit(125);
}
