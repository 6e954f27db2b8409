//! One SSH session per process, carrying one `direct-streamlocal@openssh.com` channel per HTTP
//! connection to the engine's socket (the transport podman's own client uses).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{HashAlg, PublicKey};
use russh::{cipher, ChannelMsg, Preferred};
use tokio::io::{AsyncRead, AsyncWrite};

use super::auth::{self, AgentSource, AuthParams};
use super::config::{parse_proxy_jump, HostConfig, SshConfig, StrictHostKeyChecking};
use super::known_hosts::{self, HostKeyStatus, KnownHosts};
use super::tcp::FastTcp;
use crate::error::{Error, Result};
use crate::url::SshUrl;

/// Default time allowed for the TCP connect to a host (podman uses 40 s; a dead host should
/// not hold a terminal that long, and `ConnectTimeout` in ssh_config overrides it).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything needed to reach one SSH server, after ssh_config has been applied.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the user typed (alias), for messages.
    pub alias: String,
    pub hostname: String,
    pub port: u16,
    pub auth: AuthParams,
    pub known_hosts_files: Vec<PathBuf>,
    pub global_known_hosts_files: Vec<PathBuf>,
    pub strict: StrictHostKeyChecking,
    pub hash_known_hosts: bool,
    pub connect_timeout: Duration,
    /// Hops to go through first, outermost first.
    pub jumps: Vec<Target>,
}

/// Options that come from the command line or the connection registry rather than the URL.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--identity`, `CONTAINER_SSHKEY` or the connection's identity.
    pub identity: Option<PathBuf>,
    /// Allow prompts on the terminal; `None` = detect.
    pub interactive: Option<bool>,
    /// A host key pinned for this connection (a machine's own known_hosts file): when set it is
    /// the only file consulted, strictly, and nothing is written to the user's known_hosts.
    pub pinned_known_hosts: Option<PathBuf>,
}

pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("/"))
}

pub fn local_user() -> String {
    for var in ["USER", "LOGNAME", "USERNAME"] {
        if let Ok(u) = std::env::var(var) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    #[cfg(unix)]
    {
        // SAFETY: getpwuid returns a pointer into static storage or null; we copy out at once.
        unsafe {
            let pw = libc::getpwuid(libc::geteuid());
            if !pw.is_null() && !(*pw).pw_name.is_null() {
                return std::ffi::CStr::from_ptr((*pw).pw_name)
                    .to_string_lossy()
                    .into_owned();
            }
        }
    }
    "root".to_string()
}

impl Target {
    /// Apply ssh_config to a URL the way `ssh <alias>` would: the URL's own user and port win
    /// over the config, the config's HostName replaces the alias (podman #27166 dropped it).
    pub fn resolve(url: &SshUrl, opts: &ConnectOptions, cfg: &SshConfig) -> Result<Target> {
        let interactive = opts.interactive.unwrap_or_else(auth::terminal_available);
        let mut target = Self::resolve_hop(
            &url.host,
            url.user.as_deref(),
            url.port,
            url.password.clone(),
            opts.identity.clone(),
            interactive,
            cfg,
            0,
        )?;
        if let Some(pinned) = &opts.pinned_known_hosts {
            target.known_hosts_files = vec![pinned.clone()];
            target.global_known_hosts_files.clear();
            target.strict = StrictHostKeyChecking::Yes;
        }
        Ok(target)
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve_hop(
        alias: &str,
        user: Option<&str>,
        port: Option<u16>,
        password: Option<String>,
        identity: Option<PathBuf>,
        interactive: bool,
        cfg: &SshConfig,
        depth: usize,
    ) -> Result<Target> {
        if depth > 8 {
            return Err(Error::Ssh(format!(
                "ProxyJump chain for {alias} is deeper than 8 hops (a loop in ~/.ssh/config?)"
            )));
        }
        let local = local_user();
        let hc: HostConfig = cfg.resolve_with_port(alias, user, port, &local);
        let home = home_dir();
        let user = user
            .map(str::to_string)
            .or(hc.user.clone())
            .unwrap_or(local);
        let mut identities = Vec::new();
        let explicit_identity = identity.is_some();
        if let Some(i) = identity {
            identities.push(i);
        }
        identities.extend(hc.identity_files.iter().cloned());
        if identities.is_empty() {
            identities = auth::default_identities(&home);
        }
        let agent = match hc.identity_agent.as_deref() {
            None | Some("SSH_AUTH_SOCK") => AgentSource::Env,
            Some("none") => AgentSource::Disabled,
            Some(p) => AgentSource::Path(PathBuf::from(p)),
        };
        let known_hosts_files = if hc.user_known_hosts_files.is_empty() {
            vec![home.join(".ssh").join("known_hosts")]
        } else {
            hc.user_known_hosts_files.clone()
        };
        let global_known_hosts_files = if hc.global_known_hosts_files.is_empty() {
            vec![PathBuf::from("/etc/ssh/ssh_known_hosts")]
        } else {
            hc.global_known_hosts_files.clone()
        };
        let mut jumps = Vec::new();
        if let Some(pj) = hc.proxy_jump.as_deref() {
            for hop in parse_proxy_jump(pj)
                .map_err(|e| Error::Ssh(format!("ProxyJump {pj:?} for {alias}: {e}")))?
            {
                // Each hop is resolved through ssh_config on its own, like OpenSSH does, and
                // never inherits the final target's identity or password.
                let mut t = Self::resolve_hop(
                    &hop.host,
                    hop.user.as_deref(),
                    hop.port,
                    None,
                    None,
                    interactive,
                    cfg,
                    depth + 1,
                )?;
                // A hop's own ProxyJump is followed only for the first hop (OpenSSH semantics:
                // the chain is the listed hops in order).
                if !jumps.is_empty() {
                    t.jumps.clear();
                }
                jumps.push(t);
            }
        }
        // Flatten: the first hop's own jumps come before it.
        let mut flat = Vec::new();
        for mut j in jumps {
            flat.append(&mut j.jumps);
            flat.push(j);
        }
        Ok(Target {
            alias: alias.to_string(),
            hostname: hc.hostname.clone().unwrap_or_else(|| alias.to_string()),
            port: port.or(hc.port).unwrap_or(22),
            auth: AuthParams {
                user,
                password,
                identities,
                explicit_identity,
                identities_only: hc.identities_only.unwrap_or(false),
                agent,
                interactive,
            },
            known_hosts_files,
            global_known_hosts_files,
            strict: hc
                .strict_host_key_checking
                .unwrap_or(StrictHostKeyChecking::AcceptNew),
            hash_known_hosts: hc.hash_known_hosts.unwrap_or(false),
            connect_timeout: hc
                .connect_timeout
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            jumps: flat,
        })
    }

    pub fn display(&self) -> String {
        if self.port == 22 {
            format!("{}@{}", self.auth.user, self.hostname)
        } else {
            format!("{}@{}:{}", self.auth.user, self.hostname, self.port)
        }
    }
}

/// Verifies the server's host key against known_hosts during key exchange. russh only reports
/// "rejected" when we return false, so the detailed reason is left in `verdict`.
struct Verifier {
    host: String,
    port: u16,
    known: Arc<KnownHosts>,
    strict: StrictHostKeyChecking,
    write_to: Option<PathBuf>,
    hash: bool,
    interactive: bool,
    verdict: Arc<Mutex<Option<Error>>>,
}

impl Verifier {
    fn refuse(&self, e: Error) -> bool {
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(e);
        }
        false
    }

    fn decide(&self, key: &PublicKey, status: HostKeyStatus) -> bool {
        let fp = key.fingerprint(HashAlg::Sha256).to_string();
        let hp = known_hosts::host_pattern(&self.host, self.port);
        match status {
            HostKeyStatus::Known => true,
            HostKeyStatus::Revoked { file, line, .. } => self.refuse(Error::HostKey(format!(
                "host key {fp} of {hp} is marked @revoked in {}:{line}; refusing to connect",
                file.display()
            ))),
            s @ HostKeyStatus::Changed { .. } => self.refuse(Error::HostKey(
                known_hosts::changed_message(&self.host, self.port, &s),
            )),
            HostKeyStatus::Unknown => {
                let accept = match self.strict {
                    StrictHostKeyChecking::Yes => false,
                    StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No => true,
                    StrictHostKeyChecking::Ask => self.interactive && ask_user(&hp, key, &fp),
                };
                if !accept {
                    let file = self
                        .write_to
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "~/.ssh/known_hosts".into());
                    return self.refuse(Error::HostKey(format!(
                        "host key verification failed: {hp} is not in known_hosts and \
                         StrictHostKeyChecking is {}; its {} key fingerprint is {fp}. After \
                         checking that fingerprint, add the key with: ssh-keyscan -p {} {} >> {file}",
                        match self.strict {
                            StrictHostKeyChecking::Yes => "yes",
                            _ => "ask (and no terminal to ask on)",
                        },
                        key.algorithm(),
                        self.port,
                        self.host,
                    )));
                }
                if let Some(path) = &self.write_to {
                    match known_hosts::append(path, &self.host, self.port, key, self.hash) {
                        Ok(()) => tracing::info!(
                            "permanently added {hp} ({} {fp}) to {}",
                            key.algorithm(),
                            path.display()
                        ),
                        Err(e) => {
                            tracing::warn!("could not record {hp} in {}: {e}", path.display())
                        }
                    }
                }
                true
            }
        }
    }
}

fn ask_user(hp: &str, key: &PublicKey, fp: &str) -> bool {
    let question = format!(
        "The authenticity of host '{hp}' can't be established.\n{} key fingerprint is {fp}.\n\
         Are you sure you want to continue connecting (yes/no)? ",
        key.algorithm()
    );
    match rpassword::prompt_password(question) {
        Ok(a) => a.trim().eq_ignore_ascii_case("yes"),
        Err(_) => false,
    }
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> std::result::Result<bool, Self::Error> {
        Ok(match key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => {
                let status = self.known.check(&self.host, self.port, key);
                self.decide(key, status)
            }
            russh::keys::PublicKeyOrCertificate::Certificate(cert) => {
                let status = self.known.check_certificate(&self.host, self.port, cert);
                let key = PublicKey::new(cert.public_key().clone(), "");
                self.decide(&key, status)
            }
        })
    }
}

fn ssh_config_for(target: &Target, known: &KnownHosts) -> client::Config {
    let mut preferred = Preferred {
        // AES-GCM is ~1.5x faster than chacha20 on machines with AES-NI (measured).
        cipher: std::borrow::Cow::Owned(vec![
            cipher::AES_256_GCM,
            cipher::AES_128_GCM,
            cipher::CHACHA20_POLY1305,
            cipher::AES_256_CTR,
            cipher::AES_192_CTR,
            cipher::AES_128_CTR,
        ]),
        ..Default::default()
    };
    // Prefer the key types we already know for this host so that a host with several keys
    // is not reported as "changed" merely because it offered another type first.
    let known_algs = known.known_algorithms(&target.hostname, target.port);
    if !known_algs.is_empty() {
        let mut keys: Vec<_> = Vec::new();
        for a in &known_algs {
            if a.clone().is_rsa() {
                for h in [Some(HashAlg::Sha512), Some(HashAlg::Sha256)] {
                    let alg = russh::keys::Algorithm::Rsa { hash: h };
                    if !keys.contains(&alg) {
                        keys.push(alg);
                    }
                }
            } else if !keys.contains(a) {
                keys.push(a.clone());
            }
        }
        for a in preferred.key.iter() {
            if !keys.contains(a) {
                keys.push(a.clone());
            }
        }
        preferred.key = std::borrow::Cow::Owned(keys);
    }
    if known.has_cert_authority(&target.hostname, target.port) {
        preferred.host_key_certificates = std::borrow::Cow::Owned(preferred.key.to_vec());
    }
    client::Config {
        nodelay: true,
        preferred,
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        ..Default::default()
    }
}

/// An authenticated SSH session. Cheap to clone: channels can be opened from many tasks.
#[derive(Clone)]
pub struct SshSession {
    handle: Arc<Handle<Verifier>>,
    /// Sessions of jump hosts this one is tunnelled through; kept alive as long as we are.
    _jumps: Arc<Vec<SshSession>>,
    target: String,
}

/// A bidirectional byte stream over one SSH channel; `shutdown()` sends EOF.
pub type ChannelStream = russh::ChannelStream<client::Msg>;

impl SshSession {
    pub async fn connect(target: &Target) -> Result<SshSession> {
        let mut jumps: Vec<SshSession> = Vec::new();
        for hop in &target.jumps {
            let s = match jumps.last() {
                None => Self::connect_direct(hop).await?,
                Some(prev) => Self::connect_via(prev, hop).await?,
            };
            jumps.push(s);
        }
        let session = match jumps.last() {
            None => Self::connect_direct(target).await?,
            Some(prev) => Self::connect_via(prev, target).await?,
        };
        Ok(SshSession {
            _jumps: Arc::new(jumps),
            ..session
        })
    }

    async fn connect_direct(target: &Target) -> Result<SshSession> {
        let tcp = FastTcp::connect(&target.hostname, target.port, target.connect_timeout).await?;
        Self::handshake(target, tcp).await
    }

    async fn connect_via(jump: &SshSession, target: &Target) -> Result<SshSession> {
        tracing::debug!(
            "tunnelling to {}:{} through jump host {}",
            target.hostname,
            target.port,
            jump.target
        );
        let ch = jump
            .handle
            .channel_open_direct_tcpip(target.hostname.clone(), target.port as u32, "127.0.0.1", 0)
            .await
            .map_err(|e| Error::Connect {
                target: format!("{}:{}", target.hostname, target.port),
                reason: format!("jump host {} could not open a tunnel: {e}", jump.target),
            })?;
        Self::handshake(target, ch.into_stream()).await
    }

    async fn handshake<S>(target: &Target, stream: S) -> Result<SshSession>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut files = target.known_hosts_files.clone();
        files.extend(target.global_known_hosts_files.iter().cloned());
        let known = Arc::new(KnownHosts::load(&files));
        for w in known.warnings() {
            tracing::warn!("{w}");
        }
        let verdict = Arc::new(Mutex::new(None));
        let verifier = Verifier {
            host: target.hostname.clone(),
            port: target.port,
            known: known.clone(),
            strict: target.strict,
            write_to: target.known_hosts_files.first().cloned(),
            hash: target.hash_known_hosts,
            interactive: target.auth.interactive,
            verdict: verdict.clone(),
        };
        let config = Arc::new(ssh_config_for(target, &known));
        let display = target.display();
        let connect = client::connect_stream(config, stream, verifier);
        let mut handle = match tokio::time::timeout(target.connect_timeout, connect).await {
            Err(_) => {
                return Err(Error::Connect {
                    target: display,
                    reason: format!(
                        "no SSH handshake within {} s",
                        target.connect_timeout.as_secs()
                    ),
                })
            }
            Ok(Err(e)) => {
                if let Some(v) = verdict.lock().ok().and_then(|mut v| v.take()) {
                    return Err(v);
                }
                return Err(Error::Connect {
                    target: display,
                    reason: format!("SSH handshake failed: {e}"),
                });
            }
            Ok(Ok(h)) => h,
        };
        auth::authenticate(&mut handle, &display, &target.auth).await?;
        Ok(SshSession {
            handle: Arc::new(handle),
            _jumps: Arc::new(Vec::new()),
            target: display,
        })
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    /// A stream to a unix socket on the server (`direct-streamlocal@openssh.com`).
    pub async fn open_streamlocal(&self, path: &str) -> Result<ChannelStream> {
        let ch = self
            .handle
            .channel_open_direct_streamlocal(path)
            .await
            .map_err(|e| {
                self.channel_error(
                    e,
                    format!("{} refused to forward to the socket {path}", self.target),
                    " (is the podman service running there? e.g. systemctl --user enable --now \
                     podman.socket; and is AllowStreamLocalForwarding enabled in sshd?)",
                )
            })?;
        Ok(ch.into_stream())
    }

    /// A stream to a TCP address as seen from the server (`direct-tcpip`).
    pub async fn open_tcp(&self, host: &str, port: u16) -> Result<ChannelStream> {
        let ch = self
            .handle
            .channel_open_direct_tcpip(host, port as u32, "127.0.0.1", 0)
            .await
            .map_err(|e| {
                self.channel_error(
                    e,
                    format!("{} refused a tunnel to {host}:{port}", self.target),
                    "",
                )
            })?;
        Ok(ch.into_stream())
    }

    fn channel_error(&self, e: russh::Error, what: String, hint: &str) -> Error {
        let session_closed = !matches!(e, russh::Error::ChannelOpenFailure(_)) || self.is_closed();
        let message = if session_closed {
            format!("{what}: the SSH session is closed ({e})")
        } else {
            format!("{what}: {e}{hint}")
        };
        Error::ChannelRefused {
            message,
            session_closed,
        }
    }

    /// Run a command on the server; returns its exit status, stdout and stderr.
    pub async fn exec(&self, command: &str) -> Result<(u32, Vec<u8>, Vec<u8>)> {
        let mut ch = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| Error::Ssh(format!("{}: opening a session: {e}", self.target)))?;
        ch.exec(true, command)
            .await
            .map_err(|e| Error::Ssh(format!("{}: running {command:?}: {e}", self.target)))?;
        let (mut out, mut err, mut status) = (Vec::new(), Vec::new(), None);
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => err.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::Failure => {
                    return Err(Error::Ssh(format!(
                        "{} refused to run {command:?}",
                        self.target
                    )))
                }
                _ => {}
            }
        }
        Ok((status.unwrap_or(255), out, err))
    }

    /// Find the engine's socket as podman does when the URL has no path.
    pub async fn discover_socket(&self) -> Result<String> {
        let cmd = "podman info --format '{{.Host.RemoteSocket.Path}}'";
        let (status, out, err) = self.exec(cmd).await?;
        let reported = String::from_utf8_lossy(&out).trim().to_string();
        // podman reports a bare path, or a unix:// URL when the service was started with one.
        let path = reported
            .strip_prefix("unix://")
            .unwrap_or(&reported)
            .to_string();
        if status != 0 || path.is_empty() {
            return Err(Error::Connect {
                target: self.target.clone(),
                reason: format!(
                    "could not find the podman socket: `{cmd}` exited with {status}: {} — \
                     give the socket path in the URL, e.g. ssh://{}/run/podman/podman.sock",
                    String::from_utf8_lossy(&err).trim(),
                    self.target
                ),
            });
        }
        Ok(path)
    }

    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Ends the session (its open channels with it), telling the server why.
    pub async fn close(&self, why: &str) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, why, "en")
            .await;
    }
}
