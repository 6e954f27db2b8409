//! Client authentication: identity files (with passphrases from the OS keyring or a prompt),
//! then the ssh-agent, then a password. The agent comes after the configured identity rather
//! than instead of it: with many agent keys sshd's MaxAuthTries is exhausted before the right
//! key is offered ("Too many authentication failures", podman #11847).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client::{AuthResult, Handle, Handler};
use russh::keys::{self, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};

use crate::error::{Error, Result};

/// Keyring service under which key passphrases are looked up; the account is the key's path.
pub const KEYRING_SERVICE: &str = "podman-remote";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSource {
    /// `SSH_AUTH_SOCK` (or the OpenSSH agent pipe on Windows).
    Env,
    /// `IdentityAgent none`.
    Disabled,
    Path(PathBuf),
}

#[derive(Debug, Clone)]
pub struct AuthParams {
    pub user: String,
    /// `ssh://user:password@` — used as the password and, like podman, as a key passphrase.
    pub password: Option<String>,
    /// Identity files in order: the explicit one first, then ssh_config's.
    pub identities: Vec<PathBuf>,
    /// Whether `identities[0]` was asked for explicitly (a missing file is then an error).
    pub explicit_identity: bool,
    pub identities_only: bool,
    pub agent: AgentSource,
    /// May we ask on the terminal (passphrase, password)?
    pub interactive: bool,
}

/// Whether a terminal is there to ask a person: prompts go through the controlling terminal,
/// not stdin, so a pipe on stdin does not prevent them.
pub fn terminal_available() -> bool {
    #[cfg(unix)]
    {
        std::fs::File::open("/dev/tty").is_ok()
    }
    #[cfg(not(unix))]
    {
        use std::io::IsTerminal;
        std::io::stdin().is_terminal()
    }
}

/// Default identity files OpenSSH tries when none is configured.
pub fn default_identities(home: &Path) -> Vec<PathBuf> {
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .collect()
}

fn passphrase_from_keyring(path: &Path) -> Option<String> {
    // The keyring is optional (headless machines often have none): any failure just means
    // "no stored passphrase", reported at debug level.
    let account = path.to_string_lossy();
    match keyring::Entry::new(KEYRING_SERVICE, &account).and_then(|e| e.get_password()) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::debug!("no passphrase for {account} in the OS keyring: {e}");
            None
        }
    }
}

/// Load a private key, decrypting it if needed. Returns `Ok(None)` for an optional key that
/// does not exist.
fn load_identity(path: &Path, params: &AuthParams, required: bool) -> Result<Option<PrivateKey>> {
    if let Some(reason) = unprotected_key(path) {
        return Err(Error::Identity {
            path: path.to_path_buf(),
            reason,
        });
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(e) => {
            return Err(Error::Identity {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        }
    };
    let bad = |reason: String| Error::Identity {
        path: path.to_path_buf(),
        reason,
    };
    match keys::decode_secret_key(&text, None) {
        Ok(k) => return Ok(Some(k)),
        Err(keys::Error::KeyIsEncrypted) => {}
        Err(e) => return Err(bad(format!("not a usable private key: {e}"))),
    }
    let try_pass = |pass: &str| keys::decode_secret_key(&text, Some(pass));
    if let Some(p) = &params.password {
        if let Ok(k) = try_pass(p) {
            return Ok(Some(k));
        }
    }
    if let Some(p) = passphrase_from_keyring(path) {
        match try_pass(&p) {
            Ok(k) => return Ok(Some(k)),
            Err(_) => tracing::warn!(
                "the passphrase stored in the keyring for {} does not decrypt it",
                path.display()
            ),
        }
    }
    if params.interactive {
        for _ in 0..3 {
            let prompt = format!("Enter passphrase for key '{}': ", path.display());
            let pass = rpassword::prompt_password(prompt)
                .map_err(|e| bad(format!("cannot read a passphrase: {e}")))?;
            match try_pass(&pass) {
                Ok(k) => return Ok(Some(k)),
                Err(_) => eprintln!("Bad passphrase, try again."),
            }
        }
        return Err(bad("wrong passphrase".into()));
    }
    Err(bad(format!(
        "the key is encrypted and no passphrase is available without a terminal; \
         load it into ssh-agent (ssh-add {p}) or store the passphrase in the OS keyring \
         (service \"{KEYRING_SERVICE}\", account \"{p}\")",
        p = path.display()
    )))
}

/// OpenSSH ignores a private key of ours that others may read or write ("UNPROTECTED PRIVATE
/// KEY FILE"): it has probably leaked, and using it would hide that. Keys owned by someone else
/// (root reading a user's key) are not judged, as in OpenSSH.
#[cfg(unix)]
fn unprotected_key(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    key_permissions_problem(meta.uid(), meta.mode(), uid)
}

#[cfg(not(unix))]
fn unprotected_key(_path: &Path) -> Option<String> {
    None
}

#[cfg(any(unix, test))]
fn key_permissions_problem(owner: u32, mode: u32, uid: u32) -> Option<String> {
    (owner == uid && mode & 0o077 != 0).then(|| {
        format!(
            "UNPROTECTED PRIVATE KEY FILE: permissions {:04o} are too open; private key files \
             must not be accessible by others, so this key is ignored (chmod 600 it)",
            mode & 0o7777
        )
    })
}

fn public_of(path: &Path, loaded: Option<&PrivateKey>) -> Option<PublicKey> {
    if let Some(k) = loaded {
        return Some(k.public_key().clone());
    }
    let mut pubpath = path.as_os_str().to_owned();
    pubpath.push(".pub");
    keys::load_public_key(PathBuf::from(pubpath)).ok()
}

fn fingerprint(k: &PublicKey) -> String {
    k.fingerprint(HashAlg::Sha256).to_string()
}

/// Run the whole authentication sequence on a freshly connected session.
pub async fn authenticate<H: Handler>(
    handle: &mut Handle<H>,
    target: &str,
    params: &AuthParams,
) -> Result<()> {
    let mut tried: Vec<String> = Vec::new();
    let mut wanted_pubkeys: Vec<PublicKey> = Vec::new();
    let rsa_hash = handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();

    for (i, path) in params.identities.iter().enumerate() {
        let required = i == 0 && params.explicit_identity;
        let key = match load_identity(path, params, required) {
            Ok(Some(k)) => k,
            Ok(None) => continue,
            Err(e) if required => return Err(e),
            Err(e) => {
                tracing::warn!("skipping identity: {e}");
                if let Some(p) = public_of(path, None) {
                    wanted_pubkeys.push(p);
                }
                continue;
            }
        };
        wanted_pubkeys.push(key.public_key().clone());
        let desc = format!("key {} ({})", path.display(), fingerprint(key.public_key()));
        let res = handle
            .authenticate_publickey(
                &params.user,
                PrivateKeyWithHashAlg::new(Arc::new(key), rsa_hash),
            )
            .await
            .map_err(|e| Error::Ssh(format!("publickey authentication: {e}")))?;
        if let AuthResult::Success = res {
            tracing::debug!("authenticated with {desc}");
            return Ok(());
        }
        tried.push(format!("{desc} refused"));
    }

    if params.agent != AgentSource::Disabled {
        match agent_auth(handle, params, &wanted_pubkeys, rsa_hash, &mut tried).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(reason) => tracing::debug!("ssh-agent not used: {reason}"),
        }
    }

    if let Some(pass) = &params.password {
        let res = handle
            .authenticate_password(&params.user, pass)
            .await
            .map_err(|e| Error::Ssh(format!("password authentication: {e}")))?;
        if let AuthResult::Success = res {
            return Ok(());
        }
        tried.push("the password from the URL refused".into());
    } else if params.interactive {
        for _ in 0..3 {
            let pass = rpassword::prompt_password(format!("{}@{target}'s password: ", params.user))
                .map_err(|e| Error::Auth {
                    target: target.to_string(),
                    reason: format!("cannot read a password: {e}"),
                })?;
            let res = handle
                .authenticate_password(&params.user, pass)
                .await
                .map_err(|e| Error::Ssh(format!("password authentication: {e}")))?;
            match res {
                AuthResult::Success => return Ok(()),
                AuthResult::Failure {
                    remaining_methods, ..
                } if !remaining_methods.contains(&russh::MethodKind::Password) => {
                    tried.push("password authentication not allowed by the server".into());
                    break;
                }
                AuthResult::Failure { .. } => eprintln!("Permission denied, please try again."),
            }
        }
    }

    let reason = if tried.is_empty() {
        "no identity, agent key or password to offer: pass --identity, set CONTAINER_SSHKEY, \
         add IdentityFile to ~/.ssh/config or load a key into ssh-agent"
            .to_string()
    } else {
        format!(
            "permission denied for user {:?} ({}); check that the public key is in the \
             server's authorized_keys and that the user is right",
            params.user,
            tried.join("; ")
        )
    };
    Err(Error::Auth {
        target: target.to_string(),
        reason,
    })
}

async fn agent_auth<H: Handler>(
    handle: &mut Handle<H>,
    params: &AuthParams,
    wanted: &[PublicKey],
    rsa_hash: Option<HashAlg>,
    tried: &mut Vec<String>,
) -> std::result::Result<bool, String> {
    let mut agent = connect_agent(&params.agent).await?;
    let ids = agent
        .request_identities()
        .await
        .map_err(|e| format!("listing agent keys: {e}"))?;
    let mut refused = 0;
    for id in ids {
        let key = id.public_key().into_owned();
        // IdentitiesOnly: the agent may only sign for the configured identities.
        if params.identities_only && !wanted.iter().any(|w| w.key_data() == key.key_data()) {
            continue;
        }
        let hash = if key.algorithm().is_rsa() {
            rsa_hash
        } else {
            None
        };
        match handle
            .authenticate_publickey_with(&params.user, key, hash, &mut agent)
            .await
        {
            Ok(AuthResult::Success) => return Ok(true),
            Ok(AuthResult::Failure { .. }) => refused += 1,
            Err(e) => tracing::debug!("agent signing failed: {e}"),
        }
    }
    if refused > 0 {
        tried.push(format!("{refused} ssh-agent key(s) refused"));
    }
    Ok(false)
}

type DynAgent = keys::agent::client::AgentClient<
    Box<dyn keys::agent::client::AgentStream + Send + Unpin + 'static>,
>;

#[cfg(unix)]
async fn connect_agent(source: &AgentSource) -> std::result::Result<DynAgent, String> {
    let path = match source {
        AgentSource::Disabled => return Err("disabled".into()),
        AgentSource::Path(p) => p.clone(),
        AgentSource::Env => match std::env::var_os("SSH_AUTH_SOCK") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => return Err("SSH_AUTH_SOCK is not set".into()),
        },
    };
    keys::agent::client::AgentClient::connect_uds(&path)
        .await
        .map(|a| a.dynamic())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(windows)]
async fn connect_agent(source: &AgentSource) -> std::result::Result<DynAgent, String> {
    // Windows' OpenSSH agent listens on a named pipe; SSH_AUTH_SOCK, when set, names the pipe.
    let pipe = match source {
        AgentSource::Disabled => return Err("disabled".into()),
        AgentSource::Path(p) => p.as_os_str().to_owned(),
        AgentSource::Env => std::env::var_os("SSH_AUTH_SOCK")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| r"\\.\pipe\openssh-ssh-agent".into()),
    };
    keys::agent::client::AgentClient::connect_named_pipe(&pipe)
        .await
        .map(|a| a.dynamic())
        .map_err(|e| format!("{}: {e}", pipe.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_permissions_follow_openssh() {
        assert_eq!(key_permissions_problem(1000, 0o100600, 1000), None);
        assert_eq!(key_permissions_problem(1000, 0o100400, 1000), None);
        // Someone else's key (root using a user's file) is not judged.
        assert_eq!(key_permissions_problem(1001, 0o100644, 1000), None);
        for mode in [0o100640, 0o100604, 0o100666, 0o100660] {
            let w = key_permissions_problem(1000, mode, 1000).expect("too open");
            assert!(w.starts_with("UNPROTECTED PRIVATE KEY FILE"), "{w}");
            assert!(w.contains(&format!("{:04o}", mode & 0o7777)), "{w}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_key_is_refused_before_it_is_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_test");
        // Not even a key: the permission check must come first.
        std::fs::write(&key, "not a key").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o666)).unwrap();
        let params = AuthParams {
            user: "u".into(),
            password: None,
            identities: vec![key.clone()],
            explicit_identity: true,
            identities_only: true,
            agent: AgentSource::Disabled,
            interactive: false,
        };
        let err = load_identity(&key, &params, true).unwrap_err().to_string();
        assert!(err.contains("UNPROTECTED PRIVATE KEY FILE"), "{err}");
        assert!(err.contains("0666"), "{err}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let err = load_identity(&key, &params, true).unwrap_err().to_string();
        assert!(err.contains("not a usable private key"), "{err}");
    }
}
