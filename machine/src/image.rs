//! Getting the machine's disk: a local file (qcow2 or raw, plain or `.xz`/`.zst`/`.gz`), an
//! http(s) URL (resumable download into a cache, sha256-verified) or an OCI reference in
//! podman 5's machine-os artifact format. Every step writes a temp file and renames it, so a
//! failed download or decompression never leaves a half image in place.
//!
//! TLS trust: the system's CA store, which `SSL_CERT_FILE` / `SSL_CERT_DIR` replace when set
//! (the variables curl, OpenSSL and Go read, so a TLS-inspecting proxy's CA configured once
//! works for podman and for us), plus containers' `certs.d/HOST:PORT/*.crt` for a registry.
//! The bundled Mozilla roots are only the fallback of a system without any store: trusting
//! them alone (ureq's default) refused every private CA.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{hex, path_ctx, Error, IoContext, Result};

/// Where `--image` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    Local(PathBuf),
    Url(String),
    /// `docker://registry/repo:tag` (or `@sha256:...`).
    Oci(OciRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    pub registry: String,
    pub repository: String,
    /// A tag or a `sha256:` digest.
    pub reference: String,
}

/// The default image of podman 5: the machine-os artifact of this podman line.
pub const DEFAULT_OCI: &str = "docker://quay.io/podman/machine-os:5.5";

impl ImageSource {
    /// podman's rule: empty or `docker://` → OCI artifact, `http(s)://` → download, anything
    /// else is a local path.
    pub fn parse(s: &str) -> Result<ImageSource> {
        let s = if s.is_empty() { DEFAULT_OCI } else { s };
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(ImageSource::Url(s.to_string()));
        }
        if let Some(r) = s.strip_prefix("docker://") {
            return Ok(ImageSource::Oci(OciRef::parse(r)?));
        }
        Ok(ImageSource::Local(PathBuf::from(s)))
    }
}

impl OciRef {
    pub fn parse(s: &str) -> Result<OciRef> {
        let bad = || Error::Image {
            image: s.to_string(),
            reason: "not an OCI reference (registry/repository:tag)".into(),
        };
        let (name, reference) = if let Some((n, d)) = s.split_once('@') {
            (n, d.to_string())
        } else {
            match s.rsplit_once(':') {
                Some((n, t)) if !t.contains('/') => (n, t.to_string()),
                _ => (s, "latest".to_string()),
            }
        };
        let (registry, repository) = match name.split_once('/') {
            Some((r, rest)) if r.contains('.') || r.contains(':') || r == "localhost" => {
                (r.to_string(), rest.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        if repository.is_empty() || reference.is_empty() {
            return Err(bad());
        }
        Ok(OciRef {
            registry,
            repository,
            reference,
        })
    }
}

/// Compression of an image file, from its magic bytes (names lie; podman sniffs too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
}

pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Copy `src` to `dest`, decompressing on the way, through a temp file in `dest`'s directory.
pub fn decompress_to(src: &Path, dest: &Path) -> Result<()> {
    let mut f = File::open(src).map_err(|e| Error::Image {
        image: src.display().to_string(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        },
    })?;
    let mut head = [0u8; 8];
    let n = f.read(&mut head).ctx(path_ctx("read", src))?;
    f.seek(SeekFrom::Start(0)).ctx(path_ctx("read", src))?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx(path_ctx("create directory", dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".image-")
        .tempfile_in(dir)
        .ctx(path_ctx("create a temp file in", dir))?;
    let fail = |e: std::io::Error| Error::Image {
        image: src.display().to_string(),
        reason: format!("decompression failed: {e}"),
    };
    let input = BufReader::with_capacity(1 << 20, f);
    match sniff(&head[..n]) {
        Compression::None => {
            drop(input);
            std::fs::copy(src, tmp.path())
                .ctx(|| format!("cannot copy {} to {}", src.display(), tmp.path().display()))?;
        }
        Compression::Gzip => {
            sparse_copy(
                &mut flate2::read::MultiGzDecoder::new(input),
                tmp.as_file_mut(),
            )
            .map_err(fail)?;
        }
        Compression::Xz => {
            sparse_copy(
                &mut liblzma::read::XzDecoder::new_multi_decoder(input),
                tmp.as_file_mut(),
            )
            .map_err(fail)?;
        }
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(input).map_err(fail)?;
            sparse_copy(&mut d, tmp.as_file_mut()).map_err(fail)?;
        }
    }
    tmp.as_file().sync_all().ctx(path_ctx("sync", tmp.path()))?;
    tmp.persist(dest).map_err(|e| Error::Io {
        context: format!("cannot rename into {}", dest.display()),
        source: e.error,
    })?;
    Ok(())
}

/// Copy leaving holes where the input is zero, as disk images are mostly empty.
fn sparse_copy(r: &mut dyn Read, out: &mut File) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            let n = r.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        for chunk in buf[..filled].chunks(64 * 1024) {
            if chunk.iter().all(|&b| b == 0) {
                out.seek(SeekFrom::Current(chunk.len() as i64))?;
            } else {
                out.write_all(chunk)?;
            }
        }
        total += filled as u64;
        if filled < buf.len() {
            break;
        }
    }
    out.set_len(total)?;
    Ok(total)
}

pub fn sha256_file(p: &Path) -> Result<String> {
    let mut f = File::open(p).ctx(path_ctx("open", p))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).ctx(path_ctx("read", p))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Progress reporting for downloads (the CLI passes an indicatif bar on a terminal).
pub trait Progress: Send {
    fn start(&self, what: &str, total: Option<u64>, already: u64);
    fn advance(&self, n: u64);
    fn finish(&self);
}

pub struct NoProgress;
impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// An indicatif bar on stderr.
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    pub fn new() -> Bar {
        Bar(indicatif::ProgressBar::hidden())
    }
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: Option<u64>, already: u64) {
        self.0
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Some(t) = total {
            self.0.set_length(t);
        }
        let style = indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        self.0.set_style(style);
        self.0.set_message(what.to_string());
        self.0.set_position(already);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// The system's CA store, loaded once: the platform's store (Windows, macOS) or OpenSSL's
/// files on Unix, replaced by `SSL_CERT_FILE` / `SSL_CERT_DIR` when set, as curl, Go and so
/// podman read them. Users behind a TLS-inspecting proxy add its CA there once for every tool.
fn system_roots() -> &'static [ureq::tls::Certificate<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<ureq::tls::Certificate<'static>>> =
        std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let r = rustls_native_certs::load_native_certs();
        for e in &r.errors {
            tracing::debug!("system CA store: {e}");
        }
        r.certs
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect()
    })
}

/// CA files a registry's pulls trust besides the system store, where containers/image looks
/// for them (`certs.d/<host[:port]>/*.crt`), so `podman machine init` and podman-remote trust
/// the same private registries.
fn registry_cas(registry: &str) -> Vec<ureq::tls::Certificate<'static>> {
    let home = bindings::ssh::session::home_dir();
    let dirs = [
        home.join(".config/containers/certs.d"),
        PathBuf::from("/etc/containers/certs.d"),
        PathBuf::from("/etc/docker/certs.d"),
    ];
    let mut out = Vec::new();
    for base in dirs {
        let Ok(rd) = std::fs::read_dir(base.join(registry)) else {
            continue;
        };
        for f in rd.flatten() {
            let p = f.path();
            if p.extension().and_then(|e| e.to_str()) != Some("crt") {
                continue;
            }
            let Ok(pem) = std::fs::read(&p) else { continue };
            for item in ureq::tls::parse_pem(&pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => out.push(c),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("{}: {e}", p.display()),
                }
            }
        }
    }
    out
}

/// An HTTP agent trusting the system store plus `extra`. A system without any CA store (a
/// bare container) falls back to the bundled Mozilla roots rather than trusting nothing.
fn agent_trusting(extra: Vec<ureq::tls::Certificate<'static>>) -> ureq::Agent {
    let sys = system_roots();
    let roots = if sys.is_empty() && extra.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::new_with_certs(&[sys, &extra[..]].concat())
    };
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(std::time::Duration::from_secs(20)))
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .into()
}

/// A transfer error with what to do about it: a certificate the system does not trust names
/// the ways to trust it; anything else says how to do without the network.
fn offline_hint(what: &str, e: impl std::fmt::Display) -> Error {
    let e = e.to_string();
    let reason = if e.contains("certificate") || e.contains("rustls") {
        format!(
            "TLS verification failed: {e}. If the server's CA is private (a proxy inspecting \
             TLS, an internal mirror), add it to the system's CA store or point SSL_CERT_FILE \
             at a bundle including it; for a registry, ~/.config/containers/certs.d/HOST:PORT/\
             ca.crt also works"
        )
    } else {
        format!(
            "download failed: {e}. Without network access, fetch the image elsewhere and pass \
             the file: podman-remote machine init --image /path/to/image.qcow2[.xz|.zst|.gz]"
        )
    };
    Error::Image {
        image: what.to_string(),
        reason,
    }
}

/// A 64-digit hex sha256, lower-cased.
fn sha256_hex(s: &str) -> Option<String> {
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// The sha256 a checksum file gives for `file`. Understands `sha256sum` lines (`HEX  name`,
/// `HEX *name`, or the hash alone) and BSD/Fedora `SHA256 (name) = HEX` lines, and skips
/// anything else (comments, a PGP clear-signature's armour). An entry naming `file` wins;
/// otherwise a file with exactly one entry is taken as the one for this download (a `.sha256`
/// file often names the file as it was called on the build machine).
pub fn parse_checksum(text: &str, file: &str) -> Option<String> {
    let mut entries: Vec<(String, Option<&str>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("SHA256 (") {
            if let Some((name, hash)) = rest.rsplit_once(") = ") {
                if let Some(h) = sha256_hex(hash.trim()) {
                    entries.push((h, Some(name)));
                }
            }
            continue;
        }
        let mut words = line.splitn(2, char::is_whitespace);
        let Some(h) = words.next().and_then(sha256_hex) else {
            continue;
        };
        let name = words
            .next()
            .map(|n| n.trim().trim_start_matches('*'))
            .filter(|n| !n.is_empty());
        entries.push((h, name));
    }
    let base = |n: &str| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string();
    if let Some((h, _)) = entries
        .iter()
        .find(|(_, n)| n.is_some_and(|n| base(n) == file))
    {
        return Some(h.clone());
    }
    match entries.as_slice() {
        [(h, _)] => Some(h.clone()),
        _ => None,
    }
}

/// `Content-Range` of a 206 (`bytes START-END/TOTAL`, TOTAL may be `*`) or a 416
/// (`bytes */TOTAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First and last byte sent (inclusive); None for `*`.
    pub range: Option<(u64, u64)>,
    pub total: Option<u64>,
}

pub fn parse_content_range(v: &str) -> Option<ContentRange> {
    let rest = v.trim().strip_prefix("bytes")?;
    let rest = rest.strip_prefix(' ')?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse::<u64>().ok()?),
    };
    let range = match range.trim() {
        "*" => None,
        r => {
            let (a, b) = r.split_once('-')?;
            let (a, b) = (a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?);
            if a > b || total.is_some_and(|t| b >= t) {
                return None;
            }
            Some((a, b))
        }
    };
    if range.is_none() && total.is_none() {
        return None;
    }
    Some(ContentRange { range, total })
}

/// What a download request's answer means for the `.part` file holding `have` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Append the body at `have`; the file will be `total` bytes when known.
    Append { total: Option<u64> },
    /// Start over: the body is the whole file.
    Restart { total: Option<u64> },
    /// The part already holds the whole file (416 with our size as the total).
    Complete,
    /// The server's answer does not fit our part (another file, a bad range): drop the part
    /// and ask again without a range.
    Discard,
    /// An HTTP error status.
    Failed(u16),
}

/// Decide from the status and the `Content-Range` / `Content-Length` headers.
pub fn resume_plan(
    status: u16,
    have: u64,
    content_range: Option<&str>,
    content_length: Option<&str>,
) -> Resume {
    let len = content_length.and_then(|l| l.trim().parse::<u64>().ok());
    let cr = content_range.and_then(parse_content_range);
    match status {
        200 => Resume::Restart { total: len },
        206 => match cr {
            Some(ContentRange {
                range: Some((start, end)),
                total,
            }) if start == have && len.is_none_or(|l| l == end - start + 1) => Resume::Append {
                total: total.or(Some(end + 1)),
            },
            // Without a Content-Range a 206 only answers our single range.
            None if content_range.is_none() && have > 0 => Resume::Append {
                total: len.and_then(|l| l.checked_add(have)),
            },
            _ => Resume::Discard,
        },
        416 if have > 0 => match cr {
            Some(ContentRange {
                range: None,
                total: Some(t),
            }) if t == have => Resume::Complete,
            _ => Resume::Discard,
        },
        s => Resume::Failed(s),
    }
}

/// The expected sha256 of a URL: a `#sha256=<hex>` fragment, else the `<url>.sha256` file
/// published beside it, else none (podman verifies nothing for a URL).
fn expected_sha256(agent: &ureq::Agent, url: &str, file: &str) -> Result<Option<String>> {
    if let Some((_, frag)) = url.split_once('#') {
        if let Some(h) = frag.strip_prefix("sha256=") {
            return sha256_hex(h).map(Some).ok_or_else(|| Error::Image {
                image: url.to_string(),
                reason: "the #sha256= fragment is not a 64-digit hex sha256".into(),
            });
        }
    }
    let clean = url.split('#').next().unwrap_or(url);
    let Ok(resp) = agent.get(format!("{clean}.sha256")).call() else {
        return Ok(None);
    };
    if resp.status() != 200 {
        return Ok(None);
    }
    let Ok(text) = resp
        .into_body()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
    else {
        return Ok(None);
    };
    let h = parse_checksum(&text, file);
    if h.is_none() {
        tracing::warn!("{clean}.sha256 holds no sha256 for {file}; the download is not verified");
    }
    Ok(h)
}

/// Download `url` into `cache` (resuming a `.part` left by an interrupted run) and return the
/// complete cached file. A checksum mismatch deletes the download; an interrupted transfer
/// keeps the `.part` in the cache (never in the machine's place) so the next run resumes it.
pub fn download(url: &str, cache: &Path, progress: &dyn Progress) -> Result<PathBuf> {
    std::fs::create_dir_all(cache).ctx(path_ctx("create directory", cache))?;
    let clean = url.split('#').next().unwrap_or(url);
    let base = clean
        .split('?')
        .next()
        .unwrap_or(clean)
        .rsplit('/')
        .next()
        .filter(|b| !b.is_empty() && !b.contains(':'))
        .unwrap_or("image");
    let key = &hex(&Sha256::digest(clean.as_bytes()))[..16];
    let done = cache.join(format!("{key}-{base}"));
    let part = cache.join(format!("{key}-{base}.part"));
    // Two inits downloading at once would append to the same part.
    let _lock = crate::lock::acquire(
        &cache.join(".download.lock"),
        std::time::Duration::from_secs(24 * 3600),
        || Error::Invalid("another download holds the image cache".into()),
    )?;
    let agent = agent_trusting(Vec::new());
    let want = expected_sha256(&agent, url, base)?;
    if done.is_file() {
        match &want {
            Some(w) if &sha256_file(&done)? != w => crate::remove_quiet(&done),
            _ => return Ok(done),
        }
    }
    let mut attempts = 0;
    let total = loop {
        attempts += 1;
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let mut req = agent.get(clean);
        if have > 0 {
            req = req.header("Range", format!("bytes={have}-"));
        }
        let resp = req.call().map_err(|e| offline_hint(url, e))?;
        let h = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok());
        let plan = resume_plan(
            resp.status().as_u16(),
            have,
            h("content-range"),
            h("content-length"),
        );
        let (append, start, total) = match plan {
            Resume::Append { total } => (true, have, total),
            Resume::Restart { total } => (false, 0, total),
            Resume::Complete => break Some(have),
            Resume::Discard if attempts == 1 => {
                crate::remove_quiet(&part);
                continue;
            }
            Resume::Discard => {
                crate::remove_quiet(&part);
                return Err(Error::Image {
                    image: url.to_string(),
                    reason: "the server's ranges do not match the download; try again".into(),
                });
            }
            Resume::Failed(s) => {
                return Err(Error::Image {
                    image: url.to_string(),
                    reason: format!("the server answered HTTP {s}"),
                })
            }
        };
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&part)
            .ctx(path_ctx("open", &part))?;
        progress.start(base, total, start);
        let mut body = resp.into_body();
        let mut r = body.with_config().limit(u64::MAX).reader();
        let mut buf = vec![0u8; 256 * 1024];
        let mut got = start;
        loop {
            let n = match r.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    progress.finish();
                    let _ = out.sync_all();
                    let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
                    return Err(Error::Image {
                        image: url.to_string(),
                        reason: format!(
                            "download interrupted after {got}{of} bytes ({e}); run the same \
                             command again to resume it"
                        ),
                    });
                }
            };
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).ctx(path_ctx("write", &part))?;
            got += n as u64;
            progress.advance(n as u64);
        }
        progress.finish();
        out.sync_all().ctx(path_ctx("sync", &part))?;
        break total;
    };
    let got = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if let Some(t) = total {
        if got != t {
            return Err(Error::Image {
                image: url.to_string(),
                reason: format!(
                    "download incomplete ({got} of {t} bytes); run the same command again to \
                     resume it"
                ),
            });
        }
    }
    if let Some(w) = want {
        let actual = sha256_file(&part)?;
        if actual != w {
            crate::remove_quiet(&part);
            return Err(Error::Image {
                image: url.to_string(),
                reason: format!("sha256 mismatch: expected {w}, got {actual}; download removed"),
            });
        }
    }
    std::fs::rename(&part, &done).ctx(path_ctx("rename into", &done))?;
    Ok(done)
}

/// Pick the machine-os index entry for a provider's disk type and the host architecture
/// (`x86_64`/`aarch64`, not Go's names), as podman 5 does.
pub fn select_index_entry<'a>(index: &'a Value, disktype: &str, arch: &str) -> Result<&'a Value> {
    let manifests = index["manifests"].as_array().ok_or_else(|| Error::Image {
        image: "OCI index".into(),
        reason: "no manifests list (not a machine-os artifact index)".into(),
    })?;
    manifests
        .iter()
        .find(|m| {
            m["annotations"]["disktype"].as_str() == Some(disktype)
                && m["platform"]["os"].as_str().unwrap_or("linux") == "linux"
                && m["platform"]["architecture"].as_str() == Some(arch)
        })
        .ok_or_else(|| {
            let offered: Vec<String> = manifests
                .iter()
                .map(|m| {
                    format!(
                        "{}/{}",
                        m["annotations"]["disktype"]
                            .as_str()
                            .unwrap_or("(no disktype)"),
                        m["platform"]["architecture"]
                            .as_str()
                            .unwrap_or("(no arch)")
                    )
                })
                .collect();
            Error::Image {
                image: "OCI index".into(),
                reason: format!(
                    "no disk image for disktype {disktype} on {arch} (the index offers: {}); \
                     pass an image for this provider and architecture with --image",
                    if offered.is_empty() {
                        "nothing".to_string()
                    } else {
                        offered.join(", ")
                    }
                ),
            }
        })
}

/// The single layer of a machine-os disk manifest: (digest, original file name).
pub fn select_layer(manifest: &Value) -> Result<(String, String)> {
    let layers = manifest["layers"].as_array().ok_or_else(|| Error::Image {
        image: "OCI manifest".into(),
        reason: "no layers".into(),
    })?;
    if layers.len() != 1 {
        return Err(Error::Image {
            image: "OCI manifest".into(),
            reason: format!("expected exactly one disk layer, found {}", layers.len()),
        });
    }
    let l = &layers[0];
    let digest = l["digest"].as_str().unwrap_or_default().to_string();
    let title = l["annotations"]["org.opencontainers.image.title"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if digest
        .strip_prefix("sha256:")
        .and_then(sha256_hex)
        .is_none()
        || title.is_empty()
    {
        return Err(Error::Image {
            image: "OCI manifest".into(),
            reason: "the disk layer lacks a sha256 digest or a title annotation".into(),
        });
    }
    // The title names the cached file: it must stay a plain name inside the cache.
    if title.contains(['/', '\\', '\0']) || title.starts_with('.') || title.len() > 200 {
        return Err(Error::Image {
            image: "OCI manifest".into(),
            reason: format!("the disk layer's title {title:?} is not a plain file name"),
        });
    }
    Ok((digest, title))
}

const INDEX_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// Anonymous pull with the registry's bearer-token dance.
struct Registry {
    agent: ureq::Agent,
    base: String,
    repo: String,
    token: Option<String>,
}

impl Registry {
    fn get(&mut self, path: &str, accept: &str) -> Result<ureq::http::Response<ureq::Body>> {
        let url = format!("{}/v2/{}/{path}", self.base, self.repo);
        for _ in 0..2 {
            let mut req = self.agent.get(&url).header("Accept", accept);
            if let Some(t) = &self.token {
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            let resp = req.call().map_err(|e| offline_hint(&url, e))?;
            if resp.status() == 401 && self.token.is_none() {
                let chal = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                self.token = Some(self.fetch_token(&chal)?);
                continue;
            }
            if resp.status() != 200 {
                return Err(Error::Image {
                    image: url,
                    reason: format!("registry answered HTTP {}", resp.status()),
                });
            }
            return Ok(resp);
        }
        Err(Error::Image {
            image: url,
            reason: "registry refused the anonymous token".into(),
        })
    }

    fn fetch_token(&self, challenge: &str) -> Result<String> {
        let params = parse_challenge(challenge);
        let realm = params.get("realm").ok_or_else(|| Error::Image {
            image: self.base.clone(),
            reason: format!("unsupported auth challenge {challenge:?}"),
        })?;
        let mut url = format!("{realm}?scope=repository:{}:pull", self.repo);
        if let Some(s) = params.get("service") {
            url.push_str(&format!("&service={s}"));
        }
        let resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| offline_hint(&url, e))?;
        let v: Value = serde_json::from_str(
            &resp
                .into_body()
                .read_to_string()
                .map_err(|e| offline_hint(&url, e))?,
        )
        .unwrap_or_default();
        v["token"]
            .as_str()
            .or(v["access_token"].as_str())
            .map(str::to_string)
            .ok_or_else(|| Error::Image {
                image: url,
                reason: "no token in the registry's answer".into(),
            })
    }
}

/// `Bearer realm="...",service="..."` → map.
pub fn parse_challenge(c: &str) -> std::collections::HashMap<String, String> {
    let rest = c.trim().strip_prefix("Bearer").unwrap_or(c).trim();
    let mut out = std::collections::HashMap::new();
    for part in rest.split(',') {
        if let Some((k, v)) = part.split_once('=') {
            out.insert(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            );
        }
    }
    out
}

/// Read a registry answer (manifests are small) and, when it was asked for by digest, check
/// the bytes are what the digest names: a registry or a proxy cannot swap them.
fn read_verified(
    resp: ureq::http::Response<ureq::Body>,
    what: &str,
    digest: Option<&str>,
) -> Result<Value> {
    let bytes = resp
        .into_body()
        .with_config()
        .limit(4 << 20)
        .read_to_vec()
        .map_err(|e| offline_hint(what, e))?;
    if let Some(d) = digest.and_then(|d| d.strip_prefix("sha256:")) {
        let got = hex(&Sha256::digest(&bytes));
        if got != d.to_ascii_lowercase() {
            return Err(Error::Image {
                image: what.to_string(),
                reason: format!("digest mismatch: expected sha256:{d}, got sha256:{got}"),
            });
        }
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::Image {
        image: what.to_string(),
        reason: format!("unreadable OCI manifest: {e}"),
    })
}

/// Pull the disk of a machine-os artifact into `cache` (`<digest>.<title>`), verified by its
/// digest; returns the cached compressed file.
///
/// The registry is spoken to over HTTPS, trusting the system store and containers' `certs.d`
/// for it; `localhost[:port]` alone is plain HTTP, as a local test registry usually is.
pub fn pull_oci(
    r: &OciRef,
    disktype: &str,
    cache: &Path,
    progress: &dyn Progress,
) -> Result<PathBuf> {
    let host = r.registry.split(':').next().unwrap_or_default();
    let mut reg = Registry {
        agent: agent_trusting(registry_cas(&r.registry)),
        base: if host == "localhost" {
            format!("http://{}", r.registry)
        } else {
            format!("https://{}", r.registry)
        },
        repo: r.repository.clone(),
        token: None,
    };
    let what = format!("docker://{}/{}:{}", r.registry, r.repository, r.reference);
    let by_digest = r
        .reference
        .starts_with("sha256:")
        .then_some(r.reference.as_str());
    let index = read_verified(
        reg.get(&format!("manifests/{}", r.reference), INDEX_TYPES)?,
        &what,
        by_digest,
    )?;
    if index["manifests"].is_null() && index["layers"].is_array() {
        return Err(Error::Image {
            image: what,
            reason: "this is an image manifest, not a machine-os artifact index (podman 5 \
                     machine images are OCI indexes of disks annotated with their disktype)"
                .into(),
        });
    }
    let entry = select_index_entry(&index, disktype, crate::provider::qemu_arch()).map_err(
        |e| match e {
            Error::Image { reason, .. } => Error::Image {
                image: what.clone(),
                reason,
            },
            e => e,
        },
    )?;
    let mdigest = entry["digest"].as_str().unwrap_or_default().to_string();
    if !mdigest.starts_with("sha256:") {
        return Err(Error::Image {
            image: what,
            reason: "the index entry has no sha256 digest".into(),
        });
    }
    let manifest = read_verified(
        reg.get(
            &format!("manifests/{mdigest}"),
            "application/vnd.oci.image.manifest.v1+json",
        )?,
        &what,
        Some(&mdigest),
    )?;
    let (digest, title) = select_layer(&manifest)?;
    std::fs::create_dir_all(cache).ctx(path_ctx("create directory", cache))?;
    let hexd = digest.trim_start_matches("sha256:").to_ascii_lowercase();
    let done = cache.join(format!("{hexd}.{title}"));
    if done.is_file() {
        return Ok(done);
    }
    let resp = reg.get(&format!("blobs/{digest}"), "*/*")?;
    let total = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut tmp = tempfile::Builder::new()
        .prefix(".blob-")
        .tempfile_in(cache)
        .ctx(path_ctx("create a temp file in", cache))?;
    progress.start(&title, total, 0);
    let mut h = Sha256::new();
    let mut body = resp.into_body();
    let mut rd = body.as_reader();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = rd.read(&mut buf).map_err(|e| offline_hint(&title, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .ctx(path_ctx("write", tmp.path()))?;
        progress.advance(n as u64);
    }
    progress.finish();
    let got = hex(&h.finalize());
    if got != hexd {
        return Err(Error::Image {
            image: title,
            reason: format!("digest mismatch: expected {hexd}, got {got}"),
        });
    }
    tmp.persist(&done).map_err(|e| Error::Io {
        context: format!("cannot rename into {}", done.display()),
        source: e.error,
    })?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sources_follow_podmans_rules() {
        assert_eq!(
            ImageSource::parse("https://x/y.qcow2.xz").unwrap(),
            ImageSource::Url("https://x/y.qcow2.xz".into())
        );
        assert_eq!(
            ImageSource::parse("/tmp/a.raw").unwrap(),
            ImageSource::Local("/tmp/a.raw".into())
        );
        assert_eq!(
            ImageSource::parse("").unwrap(),
            ImageSource::Oci(OciRef {
                registry: "quay.io".into(),
                repository: "podman/machine-os".into(),
                reference: "5.5".into()
            })
        );
        assert_eq!(
            ImageSource::parse("docker://localhost:5000/m@sha256:abc").unwrap(),
            ImageSource::Oci(OciRef {
                registry: "localhost:5000".into(),
                repository: "m".into(),
                reference: "sha256:abc".into()
            })
        );
    }

    fn index() -> Value {
        json!({"schemaVersion": 2, "manifests": [
            {"digest": "sha256:a1", "platform": {"os": "linux", "architecture": "aarch64"}, "annotations": {"disktype": "qemu"}},
            {"digest": "sha256:h1", "platform": {"os": "linux", "architecture": "x86_64"}, "annotations": {"disktype": "hyperv"}},
            {"digest": "sha256:q1", "platform": {"os": "linux", "architecture": "x86_64"}, "annotations": {"disktype": "qemu"}},
            {"digest": "sha256:w1", "platform": {"os": "linux", "architecture": "x86_64"}, "annotations": {"disktype": "wsl"}}
        ]})
    }

    #[test]
    fn index_entry_by_disktype_and_arch() {
        let i = index();
        assert_eq!(
            select_index_entry(&i, "qemu", "x86_64").unwrap()["digest"],
            "sha256:q1"
        );
        assert_eq!(
            select_index_entry(&i, "qemu", "aarch64").unwrap()["digest"],
            "sha256:a1"
        );
        assert_eq!(
            select_index_entry(&i, "wsl", "x86_64").unwrap()["digest"],
            "sha256:w1"
        );
        // Go's arch names are not the artifact's.
        assert!(select_index_entry(&i, "qemu", "amd64").is_err());
        assert!(select_index_entry(&i, "applehv", "x86_64").is_err());
        assert!(select_index_entry(&json!({}), "qemu", "x86_64").is_err());
    }

    #[test]
    fn manifest_layer_needs_one_titled_disk() {
        let ff = format!("sha256:{}", "f".repeat(64));
        let m = json!({"layers": [{"digest": ff, "annotations": {"org.opencontainers.image.title": "fedora-coreos-qemu.x86_64.qcow2.zst"}}]});
        assert_eq!(
            select_layer(&m).unwrap(),
            (
                ff.clone(),
                "fedora-coreos-qemu.x86_64.qcow2.zst".to_string()
            )
        );
        let two = json!({"layers": [m["layers"][0].clone(), m["layers"][0].clone()]});
        assert!(select_layer(&two).is_err());
        let untitled = json!({"layers": [{"digest": ff}]});
        assert!(select_layer(&untitled).is_err());
    }

    #[test]
    fn checksum_files_in_every_usual_shape() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        // sha256sum output, binary-mode star, hash alone.
        assert_eq!(
            parse_checksum(&format!("{a}  disk.qcow2.xz\n"), "disk.qcow2.xz"),
            Some(a.clone())
        );
        assert_eq!(
            parse_checksum(&format!("{a} *disk.qcow2.xz"), "disk.qcow2.xz"),
            Some(a.clone())
        );
        assert_eq!(parse_checksum(&format!("{a}\n"), "x"), Some(a.clone()));
        // A lone entry named after the build machine's file is still this download's.
        assert_eq!(
            parse_checksum(&format!("{a}  /build/out/other.xz"), "disk.xz"),
            Some(a.clone())
        );
        // Several entries: the one naming the file (also by its last path component), upper
        // case folded; none naming it is no checksum at all.
        let many = format!("{a}  one.xz\n{b}  ./dir/disk.xz\n");
        assert_eq!(
            parse_checksum(&many, "disk.xz"),
            Some(b.to_ascii_lowercase())
        );
        assert_eq!(parse_checksum(&many, "three.xz"), None);
        // Fedora's CHECKSUM: BSD lines inside a PGP clear-signature.
        let fedora = format!(
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n# Fedora-Cloud.qcow2: 1 bytes\n\
             SHA256 (Fedora-Cloud.raw.xz) = {a}\nSHA256 (Fedora-Cloud.qcow2) = {b}\n\
             -----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n"
        );
        assert_eq!(
            parse_checksum(&fedora, "Fedora-Cloud.qcow2"),
            Some(b.to_ascii_lowercase())
        );
        // Not a sha256: too short, not hex, an HTML error page.
        assert_eq!(parse_checksum(&"a".repeat(63), "x"), None);
        assert_eq!(parse_checksum(&"g".repeat(64), "x"), None);
        assert_eq!(
            parse_checksum("<html><body>Not found</body></html>", "x"),
            None
        );
        assert_eq!(parse_checksum("", "x"), None);
    }

    #[test]
    fn content_range_headers() {
        let cr = |r, t| Some(ContentRange { range: r, total: t });
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            cr(Some((100, 199)), Some(200))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), cr(Some((0, 9)), None));
        assert_eq!(parse_content_range("bytes */500"), cr(None, Some(500)));
        for bad in [
            "bytes */*",
            "bytes 9-1/20",
            "bytes 0-20/20",
            "items 0-1/2",
            "bytes=0-1/2",
            "bytes 0-1",
            "bytes -1-2/9",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn resume_decisions() {
        use Resume::*;
        assert_eq!(
            resume_plan(200, 50, None, Some("300")),
            Restart { total: Some(300) }
        );
        assert_eq!(
            resume_plan(206, 100, Some("bytes 100-299/300"), Some("200")),
            Append { total: Some(300) }
        );
        // The server resumed from elsewhere, or its length contradicts its range: start over.
        assert_eq!(
            resume_plan(206, 100, Some("bytes 0-299/300"), None),
            Discard
        );
        assert_eq!(
            resume_plan(206, 100, Some("bytes 100-299/300"), Some("5")),
            Discard
        );
        assert_eq!(resume_plan(206, 100, Some("garbage"), Some("200")), Discard);
        assert_eq!(
            resume_plan(206, 100, None, Some("200")),
            Append { total: Some(300) }
        );
        // 416: complete only when the file is exactly the size we hold.
        assert_eq!(resume_plan(416, 300, Some("bytes */300"), None), Complete);
        assert_eq!(resume_plan(416, 400, Some("bytes */300"), None), Discard);
        assert_eq!(resume_plan(416, 0, None, None), Failed(416));
        assert_eq!(resume_plan(404, 0, None, None), Failed(404));
        assert_eq!(
            resume_plan(206, 0, None, Some(&u64::MAX.to_string())),
            Discard
        );
    }

    #[test]
    fn layer_titles_stay_inside_the_cache() {
        let d = format!("sha256:{}", "f".repeat(64));
        for t in ["../../etc/passwd", "a/b.zst", ".hidden", "a\\b"] {
            let m = json!({"layers": [{"digest": d, "annotations": {"org.opencontainers.image.title": t}}]});
            assert!(select_layer(&m).is_err(), "{t}");
        }
        let m = json!({"layers": [{"digest": "sha256:../x", "annotations": {"org.opencontainers.image.title": "d.zst"}}]});
        assert!(select_layer(&m).is_err());
    }

    #[test]
    fn missing_entry_names_what_the_index_offers() {
        let e = select_index_entry(&index(), "applehv", "x86_64")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("qemu/aarch64") && e.contains("wsl/x86_64") && e.contains("--image"),
            "{e}"
        );
    }

    #[test]
    fn challenge_parsing() {
        let p = parse_challenge(
            r#"Bearer realm="https://quay.io/v2/auth",service="quay.io",scope="x""#,
        );
        assert_eq!(p["realm"], "https://quay.io/v2/auth");
        assert_eq!(p["service"], "quay.io");
    }

    #[test]
    fn decompresses_every_format_and_leaves_nothing_on_failure() {
        let d = tempfile::tempdir().unwrap();
        let mut data = vec![0u8; 3 << 20];
        data[510] = 0x55;
        data[511] = 0xAA;
        data[2 << 20] = 7;
        let plain = d.path().join("disk.raw");
        std::fs::write(&plain, &data).unwrap();
        for (ext, cmd) in [("gz", "gzip"), ("xz", "xz"), ("zst", "zstd")] {
            let st = std::process::Command::new(cmd)
                .args(["-k", "-f", "-q"])
                .arg(&plain)
                .status()
                .unwrap();
            assert!(st.success());
            let c = d.path().join(format!("disk.raw.{ext}"));
            let out = d.path().join(format!("out-{ext}.raw"));
            decompress_to(&c, &out).unwrap();
            assert_eq!(std::fs::read(&out).unwrap(), data, "{ext}");
        }
        let out = d.path().join("out-plain.raw");
        decompress_to(&plain, &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), data);

        // A truncated archive fails and leaves neither the target nor a temp file.
        let xz = std::fs::read(d.path().join("disk.raw.xz")).unwrap();
        let cut = d.path().join("cut.xz");
        std::fs::write(&cut, &xz[..xz.len() / 2]).unwrap();
        let sub = d.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let e = decompress_to(&cut, &sub.join("x.raw")).unwrap_err();
        assert!(e.to_string().contains("decompression failed"), "{e}");
        assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 0);
    }

    #[test]
    fn download_resumes_and_verifies() {
        use std::io::{BufRead, BufReader as BR};
        use std::net::TcpListener;
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sum = hex(&Sha256::digest(&body));
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let b2 = body.clone();
        let sum2 = sum.clone();
        let server = std::thread::spawn(move || {
            let mut ranges = Vec::new();
            for _ in 0..2 {
                let (s, _) = l.accept().unwrap();
                let mut r = BR::new(s.try_clone().unwrap());
                let mut first = String::new();
                r.read_line(&mut first).unwrap();
                let mut range = None;
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("range: bytes=") {
                        range = Some(v.trim().trim_end_matches('-').parse::<usize>().unwrap());
                    }
                }
                let mut w = s;
                if first.contains(".sha256") {
                    let t = format!("{sum2}  img.raw\n");
                    write!(
                        w,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{t}",
                        t.len()
                    )
                    .unwrap();
                    continue;
                }
                ranges.push(range);
                let from = range.unwrap_or(0);
                write!(w, "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b2.len() - from).unwrap();
                w.write_all(&b2[from..]).unwrap();
            }
            ranges
        });
        let d = tempfile::tempdir().unwrap();
        let url = format!("http://127.0.0.1:{port}/img.raw");
        let key = &hex(&Sha256::digest(url.as_bytes()))[..16];
        // An interrupted earlier run left the first 1000 bytes.
        std::fs::write(d.path().join(format!("{key}-img.raw.part")), &body[..1000]).unwrap();
        let got = download(&url, d.path(), &NoProgress).unwrap();
        assert_eq!(std::fs::read(&got).unwrap(), body);
        assert_eq!(server.join().unwrap(), vec![Some(1000)]);
        assert!(!d.path().join(format!("{key}-img.raw.part")).exists());
    }
}
