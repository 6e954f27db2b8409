//! Registry operations run by the engine: pull and push (streamed progress), search, and the
//! credential check behind `login`. The engine, not the client, talks to the registry, so TLS
//! trust and reachability are the engine's.

use std::collections::BTreeMap;

use base64::Engine;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Response};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::http::{empty, json_body, read_body, seg, ApiClient, Query};

/// A username/password pair for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

// Secrets must never reach logs: Debug shows the user only.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What goes into `X-Registry-Auth`: explicit `--creds` (one Docker auth config), or every
/// stored credential keyed by registry (podman sends them all and lets the engine pick).
#[derive(Debug, Clone, Default)]
pub enum RegistryAuth {
    #[default]
    None,
    Single(Credentials),
    Map(BTreeMap<String, Credentials>),
}

impl RegistryAuth {
    /// The header value: base64url (padded, like Go's URLEncoding) of the JSON config.
    pub fn header(&self) -> Option<String> {
        let conf = |c: &Credentials| json!({"username": c.username, "password": c.password});
        let doc = match self {
            RegistryAuth::None => return None,
            RegistryAuth::Single(c) => conf(c),
            RegistryAuth::Map(m) => {
                Value::Object(m.iter().map(|(k, c)| (k.clone(), conf(c))).collect())
            }
        };
        Some(base64::engine::general_purpose::URL_SAFE.encode(doc.to_string()))
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        self.header()
            .map(|h| vec![("X-Registry-Auth", h)])
            .unwrap_or_default()
    }

    /// The headers of a build, as podman-remote sends them: explicit credentials as
    /// `X-Registry-Auth`, stored ones (the builder may pull from any registry its FROM lines
    /// name) as the `X-Registry-Config` map, which the engine turns into a temporary auth file.
    pub fn build_headers(&self) -> Vec<(&'static str, String)> {
        match (self, self.header()) {
            (RegistryAuth::Map(_), Some(h)) => vec![("X-Registry-Config", h)],
            (_, Some(h)) => vec![("X-Registry-Auth", h)],
            (_, None) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    pub reference: String,
    pub all_tags: bool,
    pub arch: Option<String>,
    pub os: Option<String>,
    pub variant: Option<String>,
    /// Sent only when the user gave `--tls-verify` (the engine's default is to verify).
    pub tls_verify: Option<bool>,
    pub quiet: bool,
    pub retry: Option<u32>,
    pub retry_delay: Option<String>,
    pub auth: RegistryAuth,
}

#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    pub source: String,
    pub destination: Option<String>,
    pub tls_verify: Option<bool>,
    pub format: Option<String>,
    pub compression_format: Option<String>,
    pub remove_signatures: bool,
    pub quiet: bool,
    pub auth: RegistryAuth,
}

#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    pub term: String,
    pub limit: Option<u32>,
    pub filters: Vec<String>,
    pub tls_verify: Option<bool>,
    pub list_tags: bool,
    pub auth: RegistryAuth,
}

/// What a finished push reported.
#[derive(Debug, Default)]
pub struct PushReport {
    /// The manifest digest, if the engine reports it (podman ≥ 4.6 does; 4.3 does not).
    pub manifest_digest: Option<String>,
}

impl ApiClient {
    /// `POST /libpod/images/pull`; `on_line` receives each progress line (c/image's text:
    /// "Trying to pull …", "Copying blob …"). Returns the pulled image IDs.
    pub async fn pull_image(
        &self,
        opts: &PullOptions,
        mut on_line: impl FnMut(&str),
    ) -> Result<Vec<String>> {
        let q = Query::new()
            .add("reference", &opts.reference)
            .add("policy", "always")
            .flag("quiet", opts.quiet)
            .flag("allTags", opts.all_tags)
            .opt("Arch", opts.arch.as_deref())
            .opt("OS", opts.os.as_deref())
            .opt("Variant", opts.variant.as_deref())
            .opt("tlsVerify", opts.tls_verify)
            .opt("retry", opts.retry)
            .opt("retrydelay", opts.retry_delay.as_deref());
        let headers = opts.auth.headers();
        let resp = self
            .request(Method::POST, "/images/pull", &q, empty(), &headers)
            .await?;
        let mut images = Vec::new();
        let mut errors = Vec::new();
        each_json(resp, "pull", |v| {
            if let Some(s) = v.get("stream").and_then(Value::as_str) {
                on_line(s);
            }
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                errors.push(e.to_string());
            }
            if let Some(ids) = v.get("images").and_then(Value::as_array) {
                images.extend(ids.iter().filter_map(|i| i.as_str().map(str::to_string)));
            }
        })
        .await?;
        if !errors.is_empty() {
            return Err(stream_error(errors));
        }
        Ok(images)
    }

    /// The Docker-compatible pull, `POST /images/create?fromImage=…&tag=…`, which (unlike the
    /// libpod one on podman 4.x) reports per-layer byte counts. Only the reference and the
    /// credentials apply: that endpoint has no TLS, all-tags, platform-split or retry options.
    /// `on_event` receives each progress event; returns the short (12-hex) ID of the image,
    /// which the engine names in its last event.
    pub async fn pull_image_compat(
        &self,
        reference: &str,
        auth: &RegistryAuth,
        mut on_event: impl FnMut(&PullEvent),
    ) -> Result<String> {
        let (name, tag) = split_reference(reference);
        let q = Query::new().add("fromImage", name).opt("tag", tag);
        let path = self.compat_path("/images/create", &q);
        let resp = self
            .request_compat_with_headers(Method::POST, &path, empty(), &auth.headers())
            .await?;
        let mut last_id = None;
        let mut errors = Vec::new();
        each_json(resp, "pull", |v| {
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                errors.push(e.to_string());
                return;
            }
            let ev = PullEvent::from_json(&v);
            if !ev.id.is_empty() {
                last_id = Some(ev.id.clone());
            }
            on_event(&ev);
        })
        .await?;
        if !errors.is_empty() {
            return Err(stream_error(errors));
        }
        last_id.ok_or_else(|| {
            Error::Http(format!(
                "the engine's pull stream for {reference} ended without naming the pulled image"
            ))
        })
    }

    /// `POST /libpod/images/{source}/push`; progress lines go to `on_line`.
    pub async fn push_image(
        &self,
        opts: &PushOptions,
        mut on_line: impl FnMut(&str),
    ) -> Result<PushReport> {
        let q = Query::new()
            .add(
                "destination",
                opts.destination.as_deref().unwrap_or(&opts.source),
            )
            .opt("tlsVerify", opts.tls_verify)
            .opt("format", opts.format.as_deref())
            .opt("compressionFormat", opts.compression_format.as_deref())
            .flag("removeSignatures", opts.remove_signatures)
            // The engine's default is quiet (older clients expected no stream): always say.
            .add("quiet", opts.quiet);
        let headers = opts.auth.headers();
        let path = format!("/images/{}/push", seg(&opts.source));
        let resp = self
            .request(Method::POST, &path, &q, empty(), &headers)
            .await?;
        let mut report = PushReport::default();
        let mut errors = Vec::new();
        each_json(resp, "push", |v| {
            if let Some(s) = v.get("stream").and_then(Value::as_str) {
                on_line(s);
            }
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                errors.push(e.to_string());
            }
            if let Some(d) = v.get("manifestdigest").and_then(Value::as_str) {
                report.manifest_digest = Some(d.to_string());
            }
        })
        .await?;
        if !errors.is_empty() {
            return Err(stream_error(errors));
        }
        Ok(report)
    }

    /// `GET /libpod/images/search` (the engine uses only the map form of `X-Registry-Auth`
    /// here, as an auth file): the engine's search results (`Index, Name, Description,
    /// Stars, Official, Automated, Tag`).
    pub async fn search_images(&self, opts: &SearchOptions) -> Result<Vec<Value>> {
        let mut q = Query::new()
            .add("term", &opts.term)
            .opt("limit", opts.limit)
            .opt("tlsVerify", opts.tls_verify)
            .flag("listTags", opts.list_tags);
        if let Some(f) = super::filters_json(&opts.filters) {
            q = q.add("filters", f);
        }
        let headers = opts.auth.headers();
        let resp = self
            .request(Method::GET, "/images/search", &q, empty(), &headers)
            .await?;
        let bytes = read_body(resp).await?;
        crate::http::decode("/images/search", &bytes)
    }

    /// Have the engine check credentials against a registry (the Docker-compatible
    /// `POST /auth`: the engine logs in to `GET /v2/` with them). `Ok(())` when accepted.
    pub async fn check_registry_login(&self, server: &str, creds: &Credentials) -> Result<()> {
        let body = json!({
            "username": creds.username,
            "password": creds.password,
            "serveraddress": server,
        });
        let path = self.compat_path("/auth", &Query::new());
        let resp = self
            .request_compat(Method::POST, &path, json_body(&body))
            .await?;
        let _ = read_body(resp).await?;
        Ok(())
    }
}

/// One event of the Docker-compatible pull stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullEvent {
    /// "Pulling fs layer", "Downloading", "Download complete", "Already exists", …
    pub status: String,
    /// The layer's short digest (or, in the last event, the image's short ID).
    pub id: String,
    /// Bytes so far, for "Downloading".
    pub current: Option<u64>,
    /// The layer's size when the engine knows it (it sends -1 or nothing otherwise).
    pub total: Option<u64>,
}

impl PullEvent {
    fn from_json(v: &Value) -> PullEvent {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let detail = v.get("progressDetail");
        let num = |k: &str| detail.and_then(|d| d.get(k)).and_then(Value::as_i64);
        PullEvent {
            status: text("status"),
            id: text("id"),
            current: num("current").and_then(|n| u64::try_from(n).ok()),
            total: num("total")
                .filter(|n| *n > 0)
                .and_then(|n| u64::try_from(n).ok()),
        }
    }
}

/// `host:5000/repo:tag` → (`host:5000/repo`, Some(`tag`)); a digest reference or one without
/// a tag goes whole as the name (the engine then applies its own default tag).
fn split_reference(reference: &str) -> (&str, Option<&str>) {
    if reference.contains('@') {
        return (reference, None);
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            (&reference[..at], Some(&reference[at + 1..]))
        }
        None => (reference, None),
    }
}

fn stream_error(errors: Vec<String>) -> Error {
    Error::Api {
        status: 500,
        message: errors.join("\n"),
        cause: String::new(),
    }
}

/// Decode the concatenated JSON documents of a progress stream as they arrive.
async fn each_json(
    resp: Response<Incoming>,
    what: &str,
    mut handle: impl FnMut(Value),
) -> Result<()> {
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Error::Http(format!("reading {what} progress: {e}")))?;
        if let Some(d) = frame.data_ref() {
            buf.extend_from_slice(d);
        }
        let mut de = serde_json::Deserializer::from_slice(&buf).into_iter::<Value>();
        let mut consumed = 0;
        loop {
            match de.next() {
                Some(Ok(v)) => {
                    consumed = de.byte_offset();
                    handle(v);
                }
                // An incomplete document waits for the next chunk.
                Some(Err(e)) if e.is_eof() => break,
                Some(Err(e)) => {
                    return Err(Error::Decode {
                        what: format!("{what} progress stream"),
                        source: e,
                    })
                }
                None => break,
            }
        }
        buf.drain(..consumed);
    }
    if !buf.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Http(format!(
            "the {what} progress stream ended in the middle of a message"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_and_tag() {
        assert_eq!(
            split_reference("127.0.0.1:5000/e2e/x:v1"),
            ("127.0.0.1:5000/e2e/x", Some("v1"))
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/e2e/x"),
            ("127.0.0.1:5000/e2e/x", None)
        );
        assert_eq!(split_reference("alpine:3"), ("alpine", Some("3")));
        assert_eq!(split_reference("a/b@sha256:00"), ("a/b@sha256:00", None));
    }

    #[test]
    fn pull_events_decode_byte_counts() {
        let v: Value = serde_json::from_str(
            r#"{"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"abc"}"#,
        )
        .unwrap();
        let e = PullEvent::from_json(&v);
        assert_eq!(e.status, "Downloading");
        assert_eq!(e.id, "abc");
        assert_eq!((e.current, e.total), (Some(5), Some(10)));
        let v: Value = serde_json::from_str(
            r#"{"status":"Downloading","progressDetail":{"current":5,"total":-1},"id":"abc"}"#,
        )
        .unwrap();
        assert_eq!(PullEvent::from_json(&v).total, None);
    }

    #[test]
    fn auth_header_encoding() {
        let c = Credentials {
            username: "u".into(),
            password: "p?>".into(),
        };
        let h = RegistryAuth::Single(c.clone()).header().unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE
            .decode(&h)
            .unwrap();
        let v: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(v, json!({"username": "u", "password": "p?>"}));
        let mut m = BTreeMap::new();
        m.insert("r.example:5000".to_string(), c);
        let h = RegistryAuth::Map(m).header().unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE
            .decode(&h)
            .unwrap();
        let v: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(v["r.example:5000"]["username"], "u");
        assert!(RegistryAuth::None.header().is_none());
        assert!(!format!("{:?}", RegistryAuth::Map(BTreeMap::new())).contains("p?>"));
    }
}
