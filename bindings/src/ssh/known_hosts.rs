//! OpenSSH-compatible `known_hosts` verification (format: `man 8 sshd`, "SSH_KNOWN_HOSTS FILE
//! FORMAT").
//!
//! The files are shared with OpenSSH, so everything ssh(1) writes or accepts has to work here:
//! comma-separated glob patterns with `!` negation, `[host]:port` names, hashed names
//! (`|1|salt|hmac`), and the `@cert-authority` / `@revoked` markers. A line this module cannot
//! make sense of is skipped with a warning rather than failing the whole file, as ssh(1) does:
//! one bad line must not lock the user out of every host.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use russh::keys::ssh_key::{self, certificate::CertType, Algorithm, HashAlg, PublicKey};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Prefix of a hashed host name; `1` is the only hash scheme OpenSSH has ever defined.
const HASH_MAGIC: &str = "|1|";
/// OpenSSH uses the HMAC-SHA1 output size as salt size and refuses other salt lengths.
const SHA1_LEN: usize = 20;

/// Outcome of checking a presented host key against the loaded `known_hosts` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// A matching plain entry, or a valid certificate from a trusted `@cert-authority`.
    Known,
    /// No entry at all for this host.
    Unknown,
    /// The host has plain entries but none of them is the presented key.
    Changed {
        /// SHA256 fingerprint of the presented key.
        presented: String,
        /// Every plain entry recorded for the host, in file order.
        known: Vec<KnownKey>,
    },
    /// The key (or the CA that signed it) is listed `@revoked`: always refused.
    Revoked {
        /// SHA256 fingerprint of the revoked key.
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },
}

/// A key recorded for a host, as reported in [`HostKeyStatus::Changed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKey {
    /// `SHA256:...` fingerprint.
    pub fingerprint: String,
    /// Key type as written in the file, e.g. `ssh-ed25519`.
    pub algorithm: String,
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Plain,
    CertAuthority,
    Revoked,
}

#[derive(Debug, Clone)]
enum Name {
    /// Lowercased glob; host names are case-insensitive and ssh(1) lowercases its target.
    Glob(String),
    Hashed {
        salt: Vec<u8>,
        digest: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
struct Pattern {
    negated: bool,
    name: Name,
}

impl Pattern {
    fn hits(&self, candidate: &str) -> bool {
        match &self.name {
            Name::Glob(glob) => glob_match(glob, candidate),
            Name::Hashed { salt, digest } => match HmacSha1::new_from_slice(salt) {
                Ok(mut mac) => {
                    mac.update(candidate.as_bytes());
                    mac.verify_slice(digest).is_ok()
                }
                Err(_) => false,
            },
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    marker: Marker,
    patterns: Vec<Pattern>,
    key: PublicKey,
    file: Arc<Path>,
    line: usize,
}

impl Entry {
    /// A negated hit vetoes the line even when another pattern matched, per sshd(8).
    fn matches(&self, candidates: &[String]) -> bool {
        let mut hit = false;
        for pattern in &self.patterns {
            if candidates.iter().any(|c| pattern.hits(c)) {
                if pattern.negated {
                    return false;
                }
                hit = true;
            }
        }
        hit
    }

    fn known_key(&self) -> KnownKey {
        KnownKey {
            fingerprint: fingerprint(&self.key),
            algorithm: self.key.algorithm().as_str().to_owned(),
            file: self.file.to_path_buf(),
            line: self.line,
        }
    }

    fn revoked(&self, fingerprint: String) -> HostKeyStatus {
        HostKeyStatus::Revoked {
            fingerprint,
            file: self.file.to_path_buf(),
            line: self.line,
        }
    }
}

/// The parsed contents of one or more `known_hosts` files.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
    warnings: Vec<String>,
}

impl KnownHosts {
    /// Parse `text`; `source` only labels entries and warnings.
    pub fn parse(text: &str, source: &Path) -> KnownHosts {
        let mut known = KnownHosts::default();
        known.add_text(text, source);
        known
    }

    /// Load several files in order (UserKnownHostsFile may list several); a missing file is not
    /// an error, an unreadable one adds a warning.
    pub fn load(paths: &[PathBuf]) -> KnownHosts {
        let mut known = KnownHosts::default();
        for path in paths {
            match fs::read(path) {
                // Invalid UTF-8 only spoils the lines it occurs in; they fail to parse and are
                // reported like any other malformed line.
                Ok(bytes) => known.add_text(&String::from_utf8_lossy(&bytes), path),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => known.warnings.push(format!(
                    "{}: cannot read known_hosts file: {e}",
                    path.display()
                )),
            }
        }
        known
    }

    /// Problems found while loading: malformed lines and unreadable files, one message each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Number of usable entries loaded (malformed lines excluded).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn add_text(&mut self, text: &str, source: &Path) {
        let file: Arc<Path> = Arc::from(source);
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            match parse_line(raw) {
                Ok(None) => {}
                Ok(Some((marker, patterns, key))) => self.entries.push(Entry {
                    marker,
                    patterns,
                    key,
                    file: Arc::clone(&file),
                    line,
                }),
                Err(why) => self.warnings.push(format!(
                    "{}:{line}: skipping malformed known_hosts entry: {why}",
                    source.display()
                )),
            }
        }
    }

    fn matching<'a>(&'a self, host: &str, port: u16) -> impl Iterator<Item = &'a Entry> + 'a {
        let candidates = lookup_names(host, port);
        self.entries.iter().filter(move |e| e.matches(&candidates))
    }

    /// Verify a plain host key presented by `host` on `port`.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        let matching: Vec<&Entry> = self.matching(host, port).collect();
        if let Some(e) = matching
            .iter()
            .find(|e| e.marker == Marker::Revoked && e.key.key_data() == key.key_data())
        {
            return e.revoked(fingerprint(key));
        }
        plain_verdict(&matching, key)
    }

    /// Verify a host certificate: accepted if signed by a key listed as @cert-authority for this
    /// host (and the CA is not @revoked, the cert is a host cert, valid now, and its principals
    /// include the host name or are empty), else fall back to checking the cert's own public key
    /// like `check`.
    pub fn check_certificate(
        &self,
        host: &str,
        port: u16,
        cert: &ssh_key::Certificate,
    ) -> HostKeyStatus {
        // A clock before 1970 makes every certificate with a start date look not yet valid,
        // which fails closed.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.check_certificate_at(host, port, cert, now)
    }

    /// [`check_certificate`](Self::check_certificate) at a given Unix time.
    pub fn check_certificate_at(
        &self,
        host: &str,
        port: u16,
        cert: &ssh_key::Certificate,
        unix_time: u64,
    ) -> HostKeyStatus {
        let matching: Vec<&Entry> = self.matching(host, port).collect();
        let cert_key = PublicKey::new(cert.public_key().clone(), "");
        let ca = cert.signature_key();

        for e in matching.iter().filter(|e| e.marker == Marker::Revoked) {
            if e.key.key_data() == ca {
                return e.revoked(fingerprint(&e.key));
            }
            if e.key.key_data() == cert_key.key_data() {
                return e.revoked(fingerprint(&cert_key));
            }
        }

        let trusted = matching
            .iter()
            .any(|e| e.marker == Marker::CertAuthority && e.key.key_data() == ca);
        if trusted {
            match validate_host_certificate(cert, host, unix_time) {
                Ok(()) => return HostKeyStatus::Known,
                // Like ssh(1), a bad certificate is not fatal by itself: the key inside it may
                // still be listed as a plain entry.
                Err(why) => tracing::warn!(
                    "host certificate of {} (id {:?}) rejected: {why}",
                    host_pattern(host, port),
                    cert.key_id()
                ),
            }
        } else {
            tracing::debug!(
                "no @cert-authority entry for {} matches the certificate's CA; checking its key",
                host_pattern(host, port)
            );
        }
        plain_verdict(&matching, &cert_key)
    }

    /// Dispatch on what russh hands to `client::Handler::check_server_key`.
    pub fn check_presented(
        &self,
        host: &str,
        port: u16,
        presented: &russh::keys::PublicKeyOrCertificate,
    ) -> HostKeyStatus {
        match presented {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => {
                self.check(host, port, key)
            }
            russh::keys::PublicKeyOrCertificate::Certificate(cert) => {
                self.check_certificate(host, port, cert)
            }
        }
    }

    /// Algorithms of the keys known for this host (plain entries, in file order) so the caller
    /// can prefer them in key exchange (as OpenSSH and podman do) and avoid a spurious "changed
    /// key". RSA keys are reported as `Algorithm::Rsa { hash: None }` (the key type); the caller
    /// picks the signature hash (`rsa-sha2-512`/`-256`).
    pub fn known_algorithms(&self, host: &str, port: u16) -> Vec<Algorithm> {
        let mut algorithms: Vec<Algorithm> = Vec::new();
        for e in self.matching(host, port) {
            if e.marker != Marker::Plain {
                continue;
            }
            let algorithm = e.key.algorithm();
            if !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }
        algorithms
    }

    /// Whether some `@cert-authority` entry covers this host, i.e. whether it is worth asking
    /// the server for a host certificate (russh `Preferred::host_key_certificates`).
    pub fn has_cert_authority(&self, host: &str, port: u16) -> bool {
        self.matching(host, port)
            .any(|e| e.marker == Marker::CertAuthority)
    }
}

fn plain_verdict(matching: &[&Entry], key: &PublicKey) -> HostKeyStatus {
    let plain = matching.iter().filter(|e| e.marker == Marker::Plain);
    if plain.clone().any(|e| e.key.key_data() == key.key_data()) {
        return HostKeyStatus::Known;
    }
    let known: Vec<KnownKey> = plain.map(|e| e.known_key()).collect();
    if known.is_empty() {
        HostKeyStatus::Unknown
    } else {
        HostKeyStatus::Changed {
            presented: fingerprint(key),
            known,
        }
    }
}

/// The checks ssh(1) makes on a host certificate once its CA is trusted for the host.
fn validate_host_certificate(
    cert: &ssh_key::Certificate,
    host: &str,
    unix_time: u64,
) -> Result<(), String> {
    if cert.cert_type() != CertType::Host {
        return Err("it is a user certificate, not a host certificate".into());
    }
    if unix_time < cert.valid_after() {
        return Err("it is not yet valid".into());
    }
    if unix_time >= cert.valid_before() {
        return Err("it has expired".into());
    }
    // No critical option is defined for host certificates, so any is one we cannot honour.
    if !cert.critical_options().is_empty() {
        return Err("it carries critical options, which host certificates must not".into());
    }
    let name = normalize_host(host);
    let principals = cert.valid_principals();
    if !principals.is_empty()
        && !principals
            .iter()
            .any(|p| glob_match(&p.to_ascii_lowercase(), &name))
    {
        return Err(format!(
            "{name:?} is not one of its principals {principals:?}"
        ));
    }
    // OpenSSH's default CASignatureAlgorithms no longer includes SHA-1 RSA signatures.
    if cert.signature().algorithm() == (Algorithm::Rsa { hash: None }) {
        return Err("its CA signature uses ssh-rsa (SHA-1), which is no longer accepted".into());
    }
    let ca_fingerprint = cert.signature_key().fingerprint(HashAlg::Sha256);
    cert.validate_at(unix_time, [&ca_fingerprint])
        .map_err(|_| "its CA signature does not verify".to_string())
}

type ParsedLine = (Marker, Vec<Pattern>, PublicKey);

/// `Ok(None)` for blank and comment lines, `Err(reason)` for lines to skip with a warning.
fn parse_line(raw: &str) -> Result<Option<ParsedLine>, String> {
    let line = raw.trim_start_matches([' ', '\t']);
    if line.is_empty() || line.starts_with('#') || line.trim_end().is_empty() {
        return Ok(None);
    }
    let mut fields = line.split([' ', '\t', '\r']).filter(|f| !f.is_empty());
    let mut first = fields.next().ok_or("empty line")?;
    let marker = match first {
        "@cert-authority" => Marker::CertAuthority,
        "@revoked" => Marker::Revoked,
        m if m.starts_with('@') => return Err(format!("unknown marker {m:?}")),
        _ => Marker::Plain,
    };
    if marker != Marker::Plain {
        first = fields
            .next()
            .ok_or("missing host patterns after the marker")?;
    }
    let patterns = parse_patterns(first)?;
    let key_type = fields.next().ok_or("missing key type")?;
    let key_data = fields.next().ok_or("missing base64 key data")?;
    // Anything after the key is a free-form comment.
    let key = parse_key(key_type, key_data)?;
    Ok(Some((marker, patterns, key)))
}

fn parse_patterns(field: &str) -> Result<Vec<Pattern>, String> {
    let mut patterns = Vec::new();
    for element in field.split(',').filter(|e| !e.is_empty()) {
        let (negated, body) = match element.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, element),
        };
        let name = if body.starts_with('|') {
            parse_hashed(body)?
        } else {
            Name::Glob(body.to_ascii_lowercase())
        };
        patterns.push(Pattern { negated, name });
    }
    if patterns.is_empty() {
        return Err("empty host pattern list".into());
    }
    Ok(patterns)
}

fn parse_hashed(name: &str) -> Result<Name, String> {
    let rest = name
        .strip_prefix(HASH_MAGIC)
        .ok_or_else(|| format!("unsupported hashed host name {name:?}"))?;
    let (salt, digest) = rest
        .split_once('|')
        .ok_or_else(|| format!("hashed host name {name:?} has no hash part"))?;
    let salt = BASE64
        .decode(salt)
        .map_err(|e| format!("bad salt in hashed host name: {e}"))?;
    let digest = BASE64
        .decode(digest)
        .map_err(|e| format!("bad hash in hashed host name: {e}"))?;
    if salt.len() != SHA1_LEN || digest.len() != SHA1_LEN {
        return Err(format!(
            "hashed host name has a {}-byte salt and a {}-byte hash, expected {SHA1_LEN} each",
            salt.len(),
            digest.len()
        ));
    }
    Ok(Name::Hashed { salt, digest })
}

fn parse_key(key_type: &str, data: &str) -> Result<PublicKey, String> {
    let declared = match Algorithm::new(key_type) {
        Ok(Algorithm::Other(_)) | Err(_) => return Err(format!("unknown key type {key_type:?}")),
        Ok(a) => a,
    };
    let blob = BASE64
        .decode(data)
        .map_err(|e| format!("invalid base64 key data: {e}"))?;
    let key = PublicKey::from_bytes(&blob).map_err(|e| format!("invalid {key_type} key: {e}"))?;
    let actual = key.algorithm();
    // `rsa-sha2-*` names a signature scheme of an ssh-rsa key, not a different key type.
    let consistent = actual == declared
        || (matches!(actual, Algorithm::Rsa { .. }) && matches!(declared, Algorithm::Rsa { .. }));
    if !consistent {
        return Err(format!(
            "key type {key_type:?} does not match the key data ({})",
            actual.as_str()
        ));
    }
    Ok(key)
}

/// ssh(1) lowercases the host name and may be handed an IPv6 literal in brackets.
fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.to_ascii_lowercase()
}

/// Names a line may list for this host. `[host]:22` is accepted too because some tools write
/// it, and it can only mean the same endpoint as the bare name.
fn lookup_names(host: &str, port: u16) -> Vec<String> {
    let host = normalize_host(host);
    if port == 22 {
        let bracketed = format!("[{host}]:22");
        vec![host, bracketed]
    } else {
        vec![format!("[{host}]:{port}")]
    }
}

/// `*` matches any run of characters, `?` exactly one; the whole string must match.
fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    // Position after the last `*` seen and the text position it is currently assumed to absorb
    // up to; on a mismatch the star swallows one more character and matching resumes.
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(&tc) = text.get(t) {
        match pattern.get(p) {
            Some('*') => {
                p += 1;
                backtrack = Some((p, t));
            }
            Some(&pc) if pc == '?' || pc == tc => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((after_star, absorbed)) => {
                    p = after_star;
                    t = absorbed + 1;
                    backtrack = Some((after_star, absorbed + 1));
                }
                None => return false,
            },
        }
    }
    pattern.iter().skip(p).all(|&c| c == '*')
}

fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The host string as written in known_hosts: `host` for port 22, `[host]:port` otherwise.
pub fn host_pattern(host: &str, port: u16) -> String {
    let host = normalize_host(host);
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// `|1|salt|hmac` for `name`, as `HashKnownHosts yes` writes it.
fn hash_host_name(name: &str) -> io::Result<String> {
    let mut salt = [0u8; SHA1_LEN];
    getrandom::fill(&mut salt)
        .map_err(|e| io::Error::other(format!("no randomness for the host name salt: {e}")))?;
    let mut mac = HmacSha1::new_from_slice(&salt).map_err(io::Error::other)?;
    mac.update(name.as_bytes());
    let digest = mac.finalize().into_bytes();
    Ok(format!(
        "{HASH_MAGIC}{}|{}",
        BASE64.encode(salt),
        BASE64.encode(digest)
    ))
}

/// Append a line for this host (hashed name when `hash` is true, like `HashKnownHosts yes`),
/// creating the file (mode 0600) and its parent directory (0700) if missing. Must not corrupt an
/// existing file lacking a trailing newline.
pub fn append(path: &Path, host: &str, port: u16, key: &PublicKey, hash: bool) -> io::Result<()> {
    let name = host_pattern(host, port);
    let host_field = if hash { hash_host_name(&name)? } else { name };
    // The key's own comment (if any) came from elsewhere and would only confuse readers.
    let key_text = PublicKey::new(key.key_data().clone(), "")
        .to_openssh()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;

    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            create_private_dir(parent)?;
        }
    }
    let file = open_private_for_append(path)?;
    // Two podman processes meeting the same new host must not interleave the newline repair
    // and the entry; ssh(1) does not take this lock, but its single write is short anyway.
    let mut lock = fd_lock::RwLock::new(file);
    let mut file = lock.write()?;
    let mut line = String::new();
    if lacks_final_newline(&mut file)? {
        line.push('\n');
    }
    line.push_str(&host_field);
    line.push(' ');
    line.push_str(key_text.trim_end());
    line.push('\n');
    // One write so that, with O_APPEND, a concurrent ssh(1) cannot land inside our line.
    file.write_all(line.as_bytes())?;
    file.flush()
}

fn lacks_final_newline(file: &mut fs::File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_private_for_append(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private_for_append(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

/// A human error message for a Changed status, naming both fingerprints, each offending
/// file:line, and the command that removes it (`ssh-keygen -R "<host_pattern>" -f <file>`).
pub fn changed_message(host: &str, port: u16, status: &HostKeyStatus) -> String {
    let pattern = host_pattern(host, port);
    match status {
        HostKeyStatus::Changed { presented, known } => {
            let mut msg = format!(
                "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for {pattern}!\n\
                 Someone could be eavesdropping on you right now (man-in-the-middle attack), \
                 or the host key has just been changed.\n\
                 The host presented the key {presented}, but known_hosts has:\n"
            );
            for k in known {
                msg.push_str(&format!(
                    "  {} {} at {}:{}\n",
                    k.algorithm,
                    k.fingerprint,
                    k.file.display(),
                    k.line
                ));
            }
            msg.push_str(
                "Host key verification failed. If the new key is legitimate (check it out of \
                 band), remove the old entry with:\n",
            );
            let mut files: Vec<&Path> = Vec::new();
            for k in known {
                if !files.contains(&k.file.as_path()) {
                    files.push(&k.file);
                }
            }
            for file in files {
                msg.push_str(&format!(
                    "  ssh-keygen -R \"{pattern}\" -f {}\n",
                    shell_quote(&file.display().to_string())
                ));
            }
            msg.truncate(msg.trim_end().len());
            msg
        }
        HostKeyStatus::Revoked {
            fingerprint,
            file,
            line,
        } => format!(
            "the host key {fingerprint} of {pattern} is marked @revoked in {}:{line}; \
             refusing to connect",
            file.display()
        ),
        HostKeyStatus::Unknown => format!("no host key is known for {pattern}"),
        HostKeyStatus::Known => format!("the host key of {pattern} is known"),
    }
}

/// Quote a path only when a POSIX shell would split or expand it, so the common case stays
/// copy-pasteable on every platform.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:,@%~\\".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures generated with OpenSSH 9.2 (`ssh-keygen -t ed25519`, `ssh-keygen -s ca -I id -h -n
    // host.example host1.pub`, `ssh-keygen -H`). Only public material is embedded.
    const HOST1: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdak";
    const HOST1_FP: &str = "SHA256:JabmG+Tx9ugTTXpX3pkal8/PhaOoHGmTr+22v14Z7g8";
    const HOST2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkw4kR4OwbvfrGIujp7Xus8wNwnWO/2AvKbzfWN7jB3";
    const HOST2_FP: &str = "SHA256:lzXcd3kEH/fRp2/hUjgxkC32nL+91fPNNhKqKCOWmsQ";
    const HOST_ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBVcQ8rnP9fV5Mo/Cv9QgXQJ2ZHm/1d42WndrtuqReDwMYEukk3KmM9RBwJbaymuSSJ89lT4Cbbyf5JrKCEl6a4=";
    const HOST_RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClihxQ8lQ9XDzM14AkmW4bdvq/0QjfD/SP8bf8SgvwQqpJpPT18zPTWbjfzgGRdCEOUwn7CaXU0QfVJQMjukIaV1dN7f3M8I5oaujh2kYJXbQwYUNNaXgnya2RivxzTlvq15mDOC48t8U30G6fKvwhCb+1gJQTzoOLzbT3Dygw+1Auarj8moseypqSSE6nZ0PQiJCVqH6raypkfeFQx5xjQNs3/ejZ3Mk7oL/R2lEV65UO9tU7TVSTFV2Rnm8d134+f8mKAIXzr0xFyrfCCEyIRrTy3H5LbCONfzkh9cXw5fM3Y+La9LBiFjFMqPfCQs2D6eq6n5x+xryQAa1KQqqR";
    const CA: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILKve2De18Rr7llZHQh02b9o/I5UZceyogYjyCBWpb+9";
    const CA2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN04nEwhncVsRMdbLOa4OholvCor5G9j5841ipx5WMyq";

    /// host1 signed by CA as a host certificate for `host.example`, valid forever.
    const CERT_HOST_EXAMPLE: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIHm8OZGMj5tB3I7OmPQApBZYloFl0qh+/D7flC4AONakAAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdakAAAAAAAAAAAAAAACAAAACGhvc3RjZXJ0AAAAEAAAAAxob3N0LmV4YW1wbGUAAAAAAAAAAP//////////AAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACCyr3tg3tfEa+5ZWR0IdNm/aPyOVGXHsqIGI8ggVqW/vQAAAFMAAAALc3NoLWVkMjU1MTkAAABAOA0D/BnEY0DEM3779OldwxbIKlkMDLQxO5M49hOOZ2rci3Pq5KG58dL8yYGciH08YV+vYdiYXbrS5ykYsYjgCg== host1.pub";
    /// As above but `-V 20200101:20200102` (valid 1577836800..1577923200).
    const CERT_EXPIRED: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIIfLtD1gs9wsx8qIv2GmjMnRwtvoXbY1cD7xNgfwiIjYAAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdakAAAAAAAAAAAAAAACAAAAB2V4cGlyZWQAAAAQAAAADGhvc3QuZXhhbXBsZQAAAABeC+EAAAAAAF4NMoAAAAAAAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAILKve2De18Rr7llZHQh02b9o/I5UZceyogYjyCBWpb+9AAAAUwAAAAtzc2gtZWQyNTUxOQAAAECcNALAWgP0NNRTHZwcTGlys6njxwZnZdvGWkh5PSqu/i1P8cXxWzxNHGLMR/gGixLghHkSNx9npDyJuxaHNeEN host1.pub";
    /// A *user* certificate (no `-h`) for principal `host.example`.
    const CERT_USER: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIMcqxn9b2wMAXSBUR0wjMcMTAQNPiQ9QDnYdd1/r4brSAAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdakAAAAAAAAAAAAAAABAAAABHVzZXIAAAAQAAAADGhvc3QuZXhhbXBsZQAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACCyr3tg3tfEa+5ZWR0IdNm/aPyOVGXHsqIGI8ggVqW/vQAAAFMAAAALc3NoLWVkMjU1MTkAAABA1e+wM9ZwS8Dqe1ssrdDbLlE9zoocyZWKbUhQkS2TaPnsllGcVi7cww+I51sShuS3n6wA9PYEnuduHdqaPOjwAQ== host1.pub";
    /// Host certificate without principals (valid for any host name).
    const CERT_NO_PRINCIPALS: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIDWRIXrr3OgppWUKaXj39ZgaSANo8oJuk7SBCL5xwZYUAAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdakAAAAAAAAAAAAAAACAAAAB2FueWhvc3QAAAAAAAAAAAAAAAD//////////wAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgsq97YN7XxGvuWVkdCHTZv2j8jlRlx7KiBiPIIFalv70AAABTAAAAC3NzaC1lZDI1NTE5AAAAQL6FY9iwQzn2pcYMukvqvceRGLoW2PDwG4GopuyH9nqhnh5LfwNX2SwCm6XB4TIwx+FqMKGPPPtkkoafzIm7Uww= host1.pub";
    /// Host certificate for principal `*.example.com`.
    const CERT_WILDCARD: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIF4tDlNvHE6O6lBrLrtLpHW/yc8skkopCcocXwfWzvjVAAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdakAAAAAAAAAAAAAAACAAAABHdpbGQAAAARAAAADSouZXhhbXBsZS5jb20AAAAAAAAAAP//////////AAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACCyr3tg3tfEa+5ZWR0IdNm/aPyOVGXHsqIGI8ggVqW/vQAAAFMAAAALc3NoLWVkMjU1MTkAAABAA4eBh61aW5VuztJWnaBSIeYU3gnE/EXUTKEp5i0mirwcc5UFqAUnm738Yb2YyPlvKUqRng3jPbl/0UXKCYdpDw== host1.pub";
    /// host1 for `host.example` signed by CA2 instead.
    const CERT_BY_CA2: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIItorg1qbs+LmnoUvcASFvHwKfVfgQ+sR4Hniv6MYBPsAAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdakAAAAAAAAAAAAAAACAAAAB290aGVyY2EAAAAQAAAADGhvc3QuZXhhbXBsZQAAAAAAAAAA//////////8AAAAAAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIN04nEwhncVsRMdbLOa4OholvCor5G9j5841ipx5WMyqAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEAS1w7QlLmh30GVRJmw5ivjg7zlJ9EqSg1k4npJxG27BRw7+6OZtGvgeN26vtw2onYZ75r0Iw5cD/3y39UptFcH host1.pub";

    /// `ssh-keygen -H` of `hashed.example <HOST1>` and `[hashed.example]:2222 <HOST2>`.
    const HASHED: &str = "\
|1|H23KKq56L7ujX++6EXskUmrN/6c=|sd6L6617fxNICbwBcNXjPgNXhic= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBoZax12TlEeeQwgrujl6G+kbfgh7rvh2sCjdMKCzdak
|1|Ter2TtquSL4JSB/p3j+jr266hzU=|/KgujDkftupdF49ABkPYYe1yBqk= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkw4kR4OwbvfrGIujp7Xus8wNwnWO/2AvKbzfWN7jB3
";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).expect("fixture key parses")
    }

    fn cert(text: &str) -> ssh_key::Certificate {
        ssh_key::Certificate::from_openssh(text).expect("fixture certificate parses")
    }

    fn kh(text: &str) -> KnownHosts {
        let known = KnownHosts::parse(text, Path::new("/kh"));
        assert!(
            known.warnings().is_empty(),
            "unexpected warnings: {:?}",
            known.warnings()
        );
        known
    }

    fn changed_lines(status: &HostKeyStatus) -> Vec<usize> {
        match status {
            HostKeyStatus::Changed { known, .. } => known.iter().map(|k| k.line).collect(),
            other => panic!("expected Changed, got {other:?}"),
        }
    }

    #[test]
    fn plain_entry_known_changed_unknown() {
        let known = kh(&format!(
            "# comment\n\n   \nhost.example {HOST1} a comment with spaces\n"
        ));
        assert_eq!(known.len(), 1);
        assert_eq!(
            known.check("host.example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("HOST.Example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("host.example", 22, &key(HOST2)),
            HostKeyStatus::Changed {
                presented: HOST2_FP.into(),
                known: vec![KnownKey {
                    fingerprint: HOST1_FP.into(),
                    algorithm: "ssh-ed25519".into(),
                    file: PathBuf::from("/kh"),
                    line: 4,
                }],
            }
        );
        assert_eq!(
            known.check("other.example", 22, &key(HOST1)),
            HostKeyStatus::Unknown
        );
        // A bare name only covers port 22.
        assert_eq!(
            known.check("host.example", 2222, &key(HOST1)),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn changed_regardless_of_algorithm_and_known_if_any_entry_matches() {
        let known = kh(&format!(
            "host.example {HOST_ECDSA}\nhost.example {HOST1}\n"
        ));
        assert_eq!(
            known.check("host.example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("host.example", 22, &key(HOST_ECDSA)),
            HostKeyStatus::Known
        );
        let status = known.check("host.example", 22, &key(HOST_RSA));
        assert_eq!(changed_lines(&status), vec![1, 2]);
    }

    #[test]
    fn wildcards_and_lists() {
        let known = kh(&format!(
            "*.example.com,10.0.0.?,exact.org {HOST1}\n\t[*.example.com]:2*   {HOST2}\n"
        ));
        let k1 = key(HOST1);
        for host in [
            "a.example.com",
            "deep.sub.example.com",
            "10.0.0.7",
            "exact.org",
        ] {
            assert_eq!(known.check(host, 22, &k1), HostKeyStatus::Known, "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.17",
            "exact.org.evil",
            "a.example.comx",
        ] {
            assert_eq!(known.check(host, 22, &k1), HostKeyStatus::Unknown, "{host}");
        }
        assert_eq!(
            known.check("a.example.com", 2222, &key(HOST2)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("a.example.com", 3022, &key(HOST2)),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn negation_rejects_line_even_if_another_pattern_matches() {
        let known = kh(&format!(
            "*.example.com,!bad.example.com {HOST1}\n!*.internal,* {HOST2}\n"
        ));
        assert_eq!(
            known.check("good.example.com", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        // Line 1 is vetoed, line 2 (`*`) still covers it.
        let status = known.check("bad.example.com", 22, &key(HOST1));
        assert_eq!(changed_lines(&status), vec![2]);
        assert_eq!(
            known.check("db.internal", 22, &key(HOST1)),
            HostKeyStatus::Unknown
        );
        // Order does not matter: a negation later in the list still vetoes.
        let known = kh(&format!("host.example,!host.example {HOST1}\n"));
        assert_eq!(
            known.check("host.example", 22, &key(HOST1)),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn bracketed_ports() {
        let known = kh(&format!(
            "[host.example]:2222 {HOST1}\n[other.example]:22 {HOST2}\n[::1]:2200,::1 {HOST1}\n"
        ));
        assert_eq!(
            known.check("host.example", 2222, &key(HOST1)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("host.example", 22, &key(HOST1)),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            known.check("host.example", 2223, &key(HOST1)),
            HostKeyStatus::Unknown
        );
        // `[host]:22` is the same endpoint as the bare name.
        assert_eq!(
            known.check("other.example", 22, &key(HOST2)),
            HostKeyStatus::Known
        );
        assert_eq!(known.check("::1", 2200, &key(HOST1)), HostKeyStatus::Known);
        assert_eq!(known.check("[::1]", 22, &key(HOST1)), HostKeyStatus::Known);
        assert_eq!(host_pattern("::1", 2200), "[::1]:2200");
        assert_eq!(host_pattern("Host.Example", 22), "host.example");
        assert_eq!(host_pattern("host.example", 2222), "[host.example]:2222");
    }

    #[test]
    fn hashed_names_from_ssh_keygen() {
        let known = kh(HASHED);
        assert_eq!(
            known.check("hashed.example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("Hashed.Example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("hashed.example", 2222, &key(HOST2)),
            HostKeyStatus::Known
        );
        assert_eq!(
            changed_lines(&known.check("hashed.example", 2222, &key(HOST1))),
            vec![2]
        );
        assert_eq!(
            changed_lines(&known.check("hashed.example", 22, &key(HOST2))),
            vec![1]
        );
        assert_eq!(
            known.check("hashed.example.org", 22, &key(HOST1)),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            known.known_algorithms("hashed.example", 22),
            vec![Algorithm::Ed25519]
        );
    }

    #[test]
    fn revoked_wins_and_is_not_a_known_key() {
        let known = kh(&format!(
            "host.example {HOST1}\nhost.example {HOST2}\n@revoked * {HOST1}\n"
        ));
        assert_eq!(
            known.check("host.example", 22, &key(HOST1)),
            HostKeyStatus::Revoked {
                fingerprint: HOST1_FP.into(),
                file: PathBuf::from("/kh"),
                line: 3,
            }
        );
        assert_eq!(
            known.check("host.example", 22, &key(HOST2)),
            HostKeyStatus::Known
        );
        // Revoked everywhere, even for hosts with no other entry.
        assert!(matches!(
            known.check("elsewhere.example", 2222, &key(HOST1)),
            HostKeyStatus::Revoked { line: 3, .. }
        ));
        assert_eq!(
            known.check("elsewhere.example", 22, &key(HOST2)),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            known.known_algorithms("elsewhere.example", 22),
            Vec::<Algorithm>::new()
        );
    }

    #[test]
    fn cert_authority_accepts_valid_host_certificate() {
        let known = kh(&format!("@cert-authority *.example,host.example {CA}\n"));
        assert!(known.has_cert_authority("host.example", 22));
        assert!(!known.has_cert_authority("host.example.org", 22));
        let c = cert(CERT_HOST_EXAMPLE);
        assert_eq!(
            known.check_certificate("host.example", 22, &c),
            HostKeyStatus::Known
        );
        // CA entries say nothing about plain keys.
        assert_eq!(
            known.check("host.example", 22, &key(HOST1)),
            HostKeyStatus::Unknown
        );
        assert!(known.known_algorithms("host.example", 22).is_empty());
        // Certificate without principals is valid for every host the CA covers.
        let any = cert(CERT_NO_PRINCIPALS);
        assert_eq!(
            known.check_certificate("web.example", 22, &any),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check_certificate("web.other", 22, &any),
            HostKeyStatus::Unknown
        );
        // The dispatcher sends certificates down the certificate path.
        let presented = russh::keys::PublicKeyOrCertificate::Certificate(c);
        assert_eq!(
            known.check_presented("host.example", 22, &presented),
            HostKeyStatus::Known
        );
    }

    #[test]
    fn certificate_refused_for_wrong_principal_type_time_or_ca() {
        let known = kh(&format!("@cert-authority * {CA}\n"));
        let c = cert(CERT_HOST_EXAMPLE);
        assert_eq!(
            known.check_certificate("other.example", 22, &c),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            known.check_certificate("host.example", 22, &cert(CERT_USER)),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            known.check_certificate("host.example", 22, &cert(CERT_BY_CA2)),
            HostKeyStatus::Unknown
        );
        let expired = cert(CERT_EXPIRED);
        assert_eq!(
            known.check_certificate("host.example", 22, &expired),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            known.check_certificate_at("host.example", 22, &expired, 1_577_880_000),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check_certificate_at("host.example", 22, &expired, 1_577_836_799),
            HostKeyStatus::Unknown
        );
        let wild = cert(CERT_WILDCARD);
        assert_eq!(
            known.check_certificate("db.example.com", 22, &wild),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check_certificate("example.org", 22, &wild),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn certificate_with_forged_signature_is_refused() {
        let mut blob = cert(CERT_HOST_EXAMPLE).to_bytes().expect("encode");
        if let Some(last) = blob.last_mut() {
            *last ^= 1;
        }
        let forged = ssh_key::Certificate::from_bytes(&blob).expect("still decodes");
        let known = kh(&format!("@cert-authority * {CA}\n"));
        assert_eq!(
            known.check_certificate("host.example", 22, &forged),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn certificate_rejection_reasons() {
        let now = 1_700_000_000;
        let reason = |text: &str, host: &str, at: u64| {
            validate_host_certificate(&cert(text), host, at).expect_err("must be rejected")
        };
        assert!(reason(CERT_HOST_EXAMPLE, "other.example", now).contains("principals"));
        assert!(reason(CERT_USER, "host.example", now).contains("user certificate"));
        assert!(reason(CERT_EXPIRED, "host.example", now).contains("expired"));
        assert!(reason(CERT_EXPIRED, "host.example", 1_577_836_799).contains("not yet valid"));
        let mut blob = cert(CERT_HOST_EXAMPLE).to_bytes().expect("encode");
        if let Some(last) = blob.last_mut() {
            *last ^= 1;
        }
        let forged = ssh_key::Certificate::from_bytes(&blob).expect("still decodes");
        let why = validate_host_certificate(&forged, "host.example", now).expect_err("forged");
        assert!(why.contains("does not verify"), "{why}");
        assert_eq!(
            validate_host_certificate(&cert(CERT_HOST_EXAMPLE), "Host.Example", now),
            Ok(())
        );
    }

    #[test]
    fn rejected_certificate_falls_back_to_plain_key() {
        let c = cert(CERT_HOST_EXAMPLE);
        let known = kh(&format!("@cert-authority * {CA}\nother.example {HOST1}\n"));
        assert_eq!(
            known.check_certificate("other.example", 22, &c),
            HostKeyStatus::Known
        );
        let known = kh(&format!("@cert-authority * {CA}\nother.example {HOST2}\n"));
        assert_eq!(
            known.check_certificate("other.example", 22, &c),
            HostKeyStatus::Changed {
                presented: HOST1_FP.into(),
                known: vec![KnownKey {
                    fingerprint: HOST2_FP.into(),
                    algorithm: "ssh-ed25519".into(),
                    file: PathBuf::from("/kh"),
                    line: 2,
                }],
            }
        );
    }

    #[test]
    fn revoked_ca_or_certified_key_refuses_certificate() {
        let c = cert(CERT_HOST_EXAMPLE);
        let known = kh(&format!("@cert-authority * {CA}\n@revoked * {CA}\n"));
        let ca_fp = fingerprint(&key(CA));
        assert_eq!(
            known.check_certificate("host.example", 22, &c),
            HostKeyStatus::Revoked {
                fingerprint: ca_fp,
                file: PathBuf::from("/kh"),
                line: 2,
            }
        );
        let known = kh(&format!(
            "@cert-authority * {CA}\n@revoked host.example {HOST1}\n"
        ));
        assert_eq!(
            known.check_certificate("host.example", 22, &c),
            HostKeyStatus::Revoked {
                fingerprint: HOST1_FP.into(),
                file: PathBuf::from("/kh"),
                line: 2,
            }
        );
        // An untrusted CA being revoked elsewhere does not affect this one.
        let known = kh(&format!("@cert-authority * {CA}\n@revoked * {CA2}\n"));
        assert_eq!(
            known.check_certificate("host.example", 22, &c),
            HostKeyStatus::Known
        );
    }

    #[test]
    fn malformed_lines_are_skipped_with_warnings() {
        let ed_b64 = HOST1.split(' ').nth(1).unwrap_or_default();
        let text = format!(
            "bad.b64 ssh-ed25519 AAAA!!notbase64\n\
             unknown.type ssh-foo {ed_b64}\n\
             missing.key ssh-ed25519\n\
             missing.type\n\
             |1|abc|def {HOST1}\n\
             |2|H23KKq56L7ujX++6EXskUmrN/6c=|sd6L6617fxNICbwBcNXjPgNXhic= {HOST1}\n\
             @trusted host.example {HOST1}\n\
             mismatch ssh-rsa {ed_b64}\n\
             truncated ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBoZ\n\
             @revoked\n\
             host.example {HOST1}\n"
        );
        let known = KnownHosts::parse(&text, Path::new("/home/u/.ssh/known_hosts"));
        let w = known.warnings();
        assert_eq!(w.len(), 10, "{w:#?}");
        for (i, warning) in w.iter().enumerate() {
            let prefix = format!(
                "/home/u/.ssh/known_hosts:{}: skipping malformed known_hosts entry: ",
                i + 1
            );
            assert!(warning.starts_with(&prefix), "{warning}");
        }
        assert!(w[0].contains("base64"), "{}", w[0]);
        assert!(w[1].contains("unknown key type"), "{}", w[1]);
        assert!(w[2].contains("missing base64 key data"), "{}", w[2]);
        assert!(w[3].contains("missing key type"), "{}", w[3]);
        assert!(w[4].contains("hash"), "{}", w[4]);
        assert!(w[5].contains("unsupported hashed host name"), "{}", w[5]);
        assert!(w[6].contains("unknown marker"), "{}", w[6]);
        assert!(w[7].contains("does not match"), "{}", w[7]);
        assert_eq!(known.len(), 1);
        assert_eq!(
            known.check("host.example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
    }

    #[test]
    fn load_merges_files_and_tolerates_missing_or_unreadable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = dir.path().join("known_hosts");
        let second = dir.path().join("known_hosts2");
        fs::write(&first, format!("a.example {HOST1}\n")).expect("write");
        fs::write(&second, format!("# x\nb.example {HOST2}\n")).expect("write");
        let missing = dir.path().join("nope");
        // A directory cannot be read as a file: a warning, not an error.
        let unreadable = dir.path().to_path_buf();
        let known = KnownHosts::load(&[missing, first.clone(), unreadable, second.clone()]);
        assert_eq!(known.len(), 2);
        assert_eq!(known.warnings().len(), 1, "{:?}", known.warnings());
        assert!(known.warnings()[0].contains("cannot read known_hosts file"));
        assert_eq!(
            known.check("a.example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        match known.check("b.example", 22, &key(HOST1)) {
            HostKeyStatus::Changed { known, .. } => {
                assert_eq!(known.len(), 1);
                assert_eq!(known[0].file, second);
                assert_eq!(known[0].line, 2);
            }
            other => panic!("expected Changed, got {other:?}"),
        }
    }

    #[test]
    fn known_algorithms_in_file_order_without_duplicates() {
        let known = kh(&format!(
            "host.example {HOST_ECDSA}\n\
             @cert-authority host.example {CA}\n\
             *.example {HOST1}\n\
             host.example {HOST2}\n\
             host.example {HOST_RSA}\n\
             other.example {HOST_RSA}\n"
        ));
        assert_eq!(
            known.known_algorithms("host.example", 22),
            vec![
                Algorithm::Ecdsa {
                    curve: ssh_key::EcdsaCurve::NistP256
                },
                Algorithm::Ed25519,
                Algorithm::Rsa { hash: None },
            ]
        );
        assert!(known.known_algorithms("host.example", 2222).is_empty());
    }

    #[test]
    fn append_round_trip_plain_and_hashed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new").join("ssh").join("known_hosts");
        let k1 = key(&format!("{HOST1} user@laptop"));
        append(&path, "Host.Example", 22, &k1, false).expect("append plain");
        append(&path, "host.example", 2222, &key(HOST2), true).expect("append hashed");
        let text = fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], format!("host.example {HOST1}"));
        assert!(lines[1].starts_with("|1|"), "{}", lines[1]);
        assert!(!text.contains("[host.example]"), "hashed name leaked");
        assert!(text.ends_with('\n'));

        let known = KnownHosts::load(std::slice::from_ref(&path));
        assert!(known.warnings().is_empty(), "{:?}", known.warnings());
        assert_eq!(known.check("host.example", 22, &k1), HostKeyStatus::Known);
        assert_eq!(
            known.check("host.example", 2222, &key(HOST2)),
            HostKeyStatus::Known
        );
        assert_eq!(
            changed_lines(&known.check("host.example", 2222, &k1)),
            vec![2]
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(dir.path().join("new").join("ssh").as_path()), 0o700);
            assert_eq!(mode(dir.path().join("new").as_path()), 0o700);
        }
    }

    #[test]
    fn append_repairs_missing_final_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("known_hosts");
        fs::write(&path, format!("a.example {HOST1}")).expect("write");
        append(&path, "b.example", 22, &key(HOST2), false).expect("append");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("a.example {HOST1}\nb.example {HOST2}\n"));
        let known = kh(&text);
        assert_eq!(
            known.check("a.example", 22, &key(HOST1)),
            HostKeyStatus::Known
        );
        assert_eq!(
            known.check("b.example", 22, &key(HOST2)),
            HostKeyStatus::Known
        );
    }

    #[test]
    fn hashed_append_uses_fresh_salt() {
        let a = hash_host_name("host.example").expect("hash");
        let b = hash_host_name("host.example").expect("hash");
        assert_ne!(a, b);
        for name in [&a, &b] {
            let pattern = Pattern {
                negated: false,
                name: parse_hashed(name).expect("parses"),
            };
            assert!(pattern.hits("host.example"));
            assert!(!pattern.hits("host.example.org"));
        }
    }

    #[test]
    fn changed_message_names_everything_needed() {
        let known = kh(&format!(
            "[host.example]:2222 {HOST1}\n[host.example]:2222 {HOST_ECDSA}\n"
        ));
        let status = known.check("host.example", 2222, &key(HOST2));
        let msg = changed_message("host.example", 2222, &status);
        let ecdsa_fp = fingerprint(&key(HOST_ECDSA));
        for needle in [
            "REMOTE HOST IDENTIFICATION HAS CHANGED",
            "[host.example]:2222",
            HOST2_FP,
            HOST1_FP,
            ecdsa_fp.as_str(),
            "/kh:1",
            "/kh:2",
            "ssh-keygen -R \"[host.example]:2222\" -f /kh",
        ] {
            assert!(msg.contains(needle), "missing {needle:?} in:\n{msg}");
        }
        // One removal command per file, not per line.
        assert_eq!(msg.matches("ssh-keygen -R").count(), 1, "{msg}");

        let status = HostKeyStatus::Changed {
            presented: HOST2_FP.into(),
            known: vec![KnownKey {
                fingerprint: HOST1_FP.into(),
                algorithm: "ssh-ed25519".into(),
                file: PathBuf::from("/home/my user/.ssh/known_hosts"),
                line: 7,
            }],
        };
        let msg = changed_message("h", 22, &status);
        assert!(
            msg.contains("ssh-keygen -R \"h\" -f '/home/my user/.ssh/known_hosts'"),
            "{msg}"
        );
        assert!(msg.contains("/home/my user/.ssh/known_hosts:7"), "{msg}");
    }

    #[test]
    fn glob_semantics() {
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "[a]:22"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "abcd"));
        assert!(glob_match("?.x", "a.x"));
        assert!(!glob_match("?.x", ".x"));
        assert!(!glob_match("", "a"));
        assert!(glob_match("**a", "bba"));
        assert!(glob_match("ü*", "über"));
    }

    #[test]
    fn no_panic_on_hostile_input() {
        let inputs = [
            "@revoked",
            "@cert-authority ,",
            "! ssh-ed25519 AAAA",
            "|1| ssh-ed25519 AAAA",
            "|1||| ssh-ed25519 AAAA",
            "\u{0} \u{0} \u{0}",
            "host ssh-ed25519 ====",
            "host ssh-ed25519-cert-v01@openssh.com AAAA",
            "host ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQ==",
        ];
        for input in inputs {
            let known = KnownHosts::parse(input, Path::new("x"));
            assert!(known.is_empty(), "{input:?} produced an entry");
            assert_eq!(known.warnings().len(), 1, "{input:?}");
            assert_eq!(known.check("host", 22, &key(HOST1)), HostKeyStatus::Unknown);
        }
    }
}
