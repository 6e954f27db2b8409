//! Talking to the guest: the machine's SSH keys (generated with `ssh-keygen`, as podman does),
//! the guest host key pinned in the machine's own known_hosts file, and SSH sessions that
//! verify that pinned key strictly (never the user's known_hosts, never trust-on-first-use).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bindings::ssh::auth::{AgentSource, AuthParams};
use bindings::ssh::config::StrictHostKeyChecking;
use bindings::ssh::session::{SshSession, Target};

use crate::config::MachineConfig;
use crate::{path_ctx, Error, IoContext, Result};

fn ssh_keygen() -> Result<PathBuf> {
    crate::find_program("ssh-keygen").ok_or_else(|| Error::MissingProgram {
        program: "ssh-keygen".into(),
        hint: "install OpenSSH's client (Debian/Ubuntu: apt-get install openssh-client; \
               Fedora: dnf install openssh-clients)"
            .into(),
    })
}

/// Generate an ed25519 key pair at `path` and `path.pub` (private key 0600).
pub fn generate_key(path: &Path, comment: &str) -> Result<String> {
    let bin = ssh_keygen()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx(path_ctx("create directory", dir))?;
    // ssh-keygen asks before overwriting; keys of a removed machine may be left behind.
    crate::remove_quiet(path);
    crate::remove_quiet(&path.with_extension("pub"));
    let out = Command::new(&bin)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .output()
        .ctx(|| format!("cannot run {}", bin.display()))?;
    if !out.status.success() {
        return Err(Error::Provider(format!(
            "ssh-keygen failed for {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    crate::set_mode(path, 0o600)?;
    let pub_path = pub_path(path);
    Ok(std::fs::read_to_string(&pub_path)
        .ctx(path_ctx("read", &pub_path))?
        .trim()
        .to_string())
}

pub fn pub_path(key: &Path) -> PathBuf {
    let mut s = key.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// Pin the guest's host key for the forwarded port (both spellings of the loopback host).
pub fn write_known_hosts(path: &Path, port: u16, host_pub: &str) -> Result<()> {
    let key: Vec<&str> = host_pub.split_whitespace().take(2).collect();
    let key = key.join(" ");
    let text = format!("[127.0.0.1]:{port} {key}\n[localhost]:{port} {key}\n");
    crate::write_atomic(path, text.as_bytes(), 0o600)
}

/// The SSH target for the machine, verified against its pinned host key only.
pub fn target(mc: &MachineConfig, user: &str, host: &str, port: u16) -> Target {
    Target {
        alias: mc.name.clone(),
        hostname: host.to_string(),
        port,
        auth: AuthParams {
            user: user.to_string(),
            password: None,
            identities: vec![mc.ssh.identity_path.clone()],
            explicit_identity: true,
            identities_only: true,
            agent: AgentSource::Disabled,
            interactive: false,
        },
        known_hosts_files: vec![mc.known_hosts_path.path.clone()],
        global_known_hosts_files: vec![],
        strict: StrictHostKeyChecking::Yes,
        hash_known_hosts: false,
        connect_timeout: Duration::from_secs(15),
        jumps: vec![],
    }
}

pub async fn connect(mc: &MachineConfig, user: &str, host: &str, port: u16) -> Result<SshSession> {
    Ok(SshSession::connect(&target(mc, user, host, port)).await?)
}

/// Poll until the guest accepts an SSH login and runs a command: the one `first` builds
/// (built anew for each try, so it can carry the time of the try). Its exit code and stderr
/// are returned with the session, whatever the code: the login is what is waited for.
/// `alive` is checked between tries so a dead VM fails fast.
pub async fn wait_ssh(
    mc: &MachineConfig,
    user: &str,
    host: &str,
    port: u16,
    deadline: Instant,
    alive: impl Fn() -> bool,
    first: impl Fn() -> String,
) -> Result<(SshSession, u32, Vec<u8>)> {
    let mut last: String;
    let mut delay = Duration::from_millis(100);
    loop {
        match connect(mc, user, host, port).await {
            Ok(s) => match s.exec(&first()).await {
                Ok((code, _, err)) => return Ok((s, code, err)),
                Err(e) => last = e.to_string(),
            },
            // A wrong host key is not going to fix itself: stop at once.
            Err(Error::Bindings(e @ bindings::Error::HostKey(_))) => return Err(e.into()),
            Err(e) => last = e.to_string(),
        }
        if !alive() {
            return Err(Error::Provider(format!(
                "machine {} stopped while waiting for SSH ({last})",
                mc.name
            )));
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "machine {}: SSH on port {port} did not accept a login in time: {last}",
                mc.name
            )));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(1000));
    }
}

/// Arguments for the system `ssh` (interactive sessions, `cp` through scp), podman's options
/// except that the host key is checked against the machine's pinned file.
pub fn openssh_options(mc: &MachineConfig) -> Vec<String> {
    vec![
        "-i".into(),
        mc.ssh.identity_path.display().to_string(),
        "-o".into(),
        "IdentitiesOnly=yes".into(),
        "-o".into(),
        "StrictHostKeyChecking=yes".into(),
        "-o".into(),
        format!("UserKnownHostsFile={}", mc.known_hosts_path.path.display()),
        "-o".into(),
        "GlobalKnownHostsFile=/dev/null".into(),
        "-o".into(),
        "CheckHostIP=no".into(),
        "-o".into(),
        "LogLevel=ERROR".into(),
        "-o".into(),
        "SetEnv=LC_ALL=".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_and_pin() {
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("m_ed25519");
        let public = generate_key(&k, "m").unwrap();
        assert!(public.starts_with("ssh-ed25519 "), "{public}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&k).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let kh = d.path().join("kh");
        write_known_hosts(&kh, 4022, &public).unwrap();
        let text = std::fs::read_to_string(&kh).unwrap();
        let key = public.split_whitespace().nth(1).unwrap();
        assert_eq!(
            text,
            format!("[127.0.0.1]:4022 ssh-ed25519 {key}\n[localhost]:4022 ssh-ed25519 {key}\n")
        );
    }
}
