//! Getting the machine's disk: a local file (qcow2 or raw, plain or `.xz`/`.zst`/`.gz`), an
//! http(s) URL (resumable download into a cache, sha256-verified) or an OCI reference in
//! podman 5's machine-os artifact format. Every step writes a temp file and renames it, so a
//! failed download or decompression never leaves a half image in place.

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

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(std::time::Duration::from_secs(20)))
        .build()
        .into()
}

fn offline_hint(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Image {
        image: what.to_string(),
        reason: format!(
            "download failed: {e}. Without network access, fetch the image elsewhere and pass \
             the file: podman-remote machine init --image /path/to/image.qcow2[.xz|.zst|.gz]"
        ),
    }
}

/// The expected sha256 of a URL: a `#sha256=<hex>` fragment, else a `<url>.sha256` file
/// published beside it (first word), else none.
fn expected_sha256(agent: &ureq::Agent, url: &str) -> Option<String> {
    if let Some((_, frag)) = url.split_once('#') {
        if let Some(h) = frag.strip_prefix("sha256=") {
            return Some(h.to_ascii_lowercase());
        }
    }
    let resp = agent.get(format!("{url}.sha256")).call().ok()?;
    if resp.status() != 200 {
        return None;
    }
    let text = resp.into_body().read_to_string().ok()?;
    let h = text.split_whitespace().next()?.to_ascii_lowercase();
    (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())).then_some(h)
}

/// Download `url` into `cache` (resuming a `.part` left by an interrupted run) and return the
/// complete cached file. A checksum mismatch deletes the download.
pub fn download(url: &str, cache: &Path, progress: &dyn Progress) -> Result<PathBuf> {
    std::fs::create_dir_all(cache).ctx(path_ctx("create directory", cache))?;
    let clean = url.split('#').next().unwrap_or(url);
    let base = clean
        .rsplit('/')
        .next()
        .filter(|b| !b.is_empty())
        .unwrap_or("image");
    let key = &hex(&Sha256::digest(clean.as_bytes()))[..16];
    let done = cache.join(format!("{key}-{base}"));
    let agent = agent();
    let want = expected_sha256(&agent, url);
    if done.is_file() {
        match &want {
            Some(w) if &sha256_file(&done)? != w => crate::remove_quiet(&done),
            _ => return Ok(done),
        }
    }
    let part = cache.join(format!("{key}-{base}.part"));
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut req = agent.get(clean);
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
    }
    let resp = req.call().map_err(|e| offline_hint(url, e))?;
    let status = resp.status().as_u16();
    let (append, start) = match status {
        206 => (true, have),
        200 => (false, 0),
        416 if have > 0 => (true, have),
        _ => {
            return Err(Error::Image {
                image: url.to_string(),
                reason: format!("the server answered HTTP {status}"),
            })
        }
    };
    let total = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|l| l + start);
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&part)
        .ctx(path_ctx("open", &part))?;
    if status != 416 {
        progress.start(base, total, start);
        let mut body = resp.into_body();
        let mut r = body.as_reader();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = r.read(&mut buf).map_err(|e| offline_hint(url, e))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).ctx(path_ctx("write", &part))?;
            progress.advance(n as u64);
        }
        progress.finish();
    }
    out.sync_all().ctx(path_ctx("sync", &part))?;
    drop(out);
    let got = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if let Some(t) = total {
        if got != t {
            return Err(Error::Image {
                image: url.to_string(),
                reason: format!(
                    "download incomplete ({got} of {t} bytes); run the command again to resume"
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
        .ok_or_else(|| Error::Image {
            image: "OCI index".into(),
            reason: format!("no disk image for disktype {disktype} on {arch}"),
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
    if !digest.starts_with("sha256:") || title.is_empty() {
        return Err(Error::Image {
            image: "OCI manifest".into(),
            reason: "the disk layer lacks a sha256 digest or a title annotation".into(),
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

/// Pull the disk of a machine-os artifact into `cache` (`<digest>.<title>`), verified by its
/// digest; returns the cached compressed file.
pub fn pull_oci(
    r: &OciRef,
    disktype: &str,
    cache: &Path,
    progress: &dyn Progress,
) -> Result<PathBuf> {
    let mut reg = Registry {
        agent: agent(),
        base: if r.registry.starts_with("localhost") {
            format!("http://{}", r.registry)
        } else {
            format!("https://{}", r.registry)
        },
        repo: r.repository.clone(),
        token: None,
    };
    let index: Value = serde_json::from_str(
        &reg.get(&format!("manifests/{}", r.reference), INDEX_TYPES)?
            .into_body()
            .read_to_string()
            .map_err(|e| offline_hint(&r.repository, e))?,
    )
    .map_err(|e| Error::Image {
        image: r.repository.clone(),
        reason: format!("unreadable index: {e}"),
    })?;
    let entry = select_index_entry(&index, disktype, crate::provider::qemu_arch())?;
    let mdigest = entry["digest"].as_str().unwrap_or_default().to_string();
    let manifest: Value = serde_json::from_str(
        &reg.get(
            &format!("manifests/{mdigest}"),
            "application/vnd.oci.image.manifest.v1+json",
        )?
        .into_body()
        .read_to_string()
        .map_err(|e| offline_hint(&r.repository, e))?,
    )
    .unwrap_or_default();
    let (digest, title) = select_layer(&manifest)?;
    std::fs::create_dir_all(cache).ctx(path_ctx("create directory", cache))?;
    let hexd = digest.trim_start_matches("sha256:");
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
        let m = json!({"layers": [{"digest": "sha256:ff", "annotations": {"org.opencontainers.image.title": "fedora-coreos-qemu.x86_64.qcow2.zst"}}]});
        assert_eq!(
            select_layer(&m).unwrap(),
            (
                "sha256:ff".to_string(),
                "fedora-coreos-qemu.x86_64.qcow2.zst".to_string()
            )
        );
        let two = json!({"layers": [m["layers"][0].clone(), m["layers"][0].clone()]});
        assert!(select_layer(&two).is_err());
        let untitled = json!({"layers": [{"digest": "sha256:ff"}]});
        assert!(select_layer(&untitled).is_err());
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
