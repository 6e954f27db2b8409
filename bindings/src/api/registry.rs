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
