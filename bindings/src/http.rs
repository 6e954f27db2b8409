//! HTTP/1.1 (hyper 1.x) to the libpod API over any transport, with podman's version
//! negotiation and error model.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::transport::Transport;

pub type Body = BoxBody<Bytes, std::io::Error>;

/// The oldest engine we talk to (podman's own client refuses older ones too).
pub const MIN_LIBPOD_VERSION: (u64, u64, u64) = (4, 0, 0);

pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

pub fn json_body(v: &serde_json::Value) -> Body {
    full(serde_json::to_vec(v).unwrap_or_default())
}

/// Query string builder with libpod's conventions (lower-case names, repeated keys for lists).
#[derive(Default, Clone, Debug)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn new() -> Self {
        Query(Vec::new())
    }
    pub fn add(mut self, k: &str, v: impl ToString) -> Self {
        self.0.push((k.to_string(), v.to_string()));
        self
    }
    pub fn opt(self, k: &str, v: Option<impl ToString>) -> Self {
        match v {
            Some(v) => self.add(k, v),
            None => self,
        }
    }
    /// Only sent when true, as podman's bindings do for most flags.
    pub fn flag(self, k: &str, v: bool) -> Self {
        if v {
            self.add(k, "true")
        } else {
            self
        }
    }
    pub fn encode(&self) -> String {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        self.0
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Escape one path segment (a container name may hold characters that are special in URLs).
pub fn seg(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const SEG: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'/')
        .add(b'?')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    utf8_percent_encode(s, SEG).to_string()
}

#[derive(Clone)]
pub struct ApiClient {
    transport: Arc<dyn Transport>,
    /// libpod API version of the engine, used as the `/v{X.Y.Z}/libpod` prefix so that the
    /// engine behaves exactly as for its own client version.
    version: String,
    pool: Arc<Mutex<Vec<SendRequest<Body>>>>,
}

fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    // "4.3.1", "5.0.0-dev": the pre-release suffix breaks old servers' routing, so drop it.
    let core = v.split(['-', '+']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((
        it.next()??,
        it.next().flatten().unwrap_or(0),
        it.next().flatten().unwrap_or(0),
    ))
}

impl ApiClient {
    /// Ping the engine and learn its version. Fails clearly for engines older than 4.0.0 and
    /// for endpoints that are not a libpod API.
    pub async fn connect(transport: Arc<dyn Transport>) -> Result<ApiClient> {
        let mut c = ApiClient {
            transport,
            version: String::new(),
            pool: Arc::new(Mutex::new(Vec::new())),
        };
        let resp = c
            .send(Method::GET, "/libpod/_ping".to_string(), empty(), &[])
            .await?;
        let status = resp.status();
        let header = resp
            .headers()
            .get("Libpod-API-Version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let _ = resp.into_body().collect().await;
        if !status.is_success() {
            return Err(Error::Version(format!(
                "{} answered the ping with HTTP {status}: is this a podman API socket?",
                c.transport.describe()
            )));
        }
        let Some(v) = header else {
            return Err(Error::Version(format!(
                "{} is not a libpod API (no Libpod-API-Version header); podman-remote needs \
                 podman >= 4.0.0 on the server",
                c.transport.describe()
            )));
        };
        let parsed = parse_version(&v).ok_or_else(|| {
            Error::Version(format!("the engine reported an unreadable version {v:?}"))
        })?;
        if parsed < MIN_LIBPOD_VERSION {
            return Err(Error::Version(format!(
                "server API version is too old: the engine runs podman {v}, podman-remote \
                 needs podman 4.0.0 or newer on the server"
            )));
        }
        c.version = format!("{}.{}.{}", parsed.0, parsed.1, parsed.2);
        Ok(c)
    }

    pub fn server_version(&self) -> &str {
        &self.version
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    fn libpod_path(&self, path: &str, query: &Query) -> String {
        let mut p = format!("/v{}/libpod{path}", self.version);
        if !query.0.is_empty() {
            p.push('?');
            p.push_str(&query.encode());
        }
        p
    }

    /// Docker-compatible API path (unversioned, the engine picks its own compat version).
    pub fn compat_path(&self, path: &str, query: &Query) -> String {
        let mut p = path.to_string();
        if !query.0.is_empty() {
            p.push('?');
            p.push_str(&query.encode());
        }
        p
    }

    async fn new_connection(&self, upgrades: bool) -> Result<SendRequest<Body>> {
        let io = TokioIo::new(self.transport.connect().await?);
        let (sender, conn) = http1::handshake::<_, Body>(io)
            .await
            .map_err(|e| Error::Http(format!("handshake with {}: {e}", self.describe())))?;
        if upgrades {
            tokio::spawn(async move {
                let _ = conn.with_upgrades().await;
            });
        } else {
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
        Ok(sender)
    }

    /// Send a request on an idle pooled connection if one is ready, else on a new one (a new
    /// SSH channel costs well under a millisecond once the session is up).
    async fn send(
        &self,
        method: Method,
        path_and_query: String,
        body: Body,
        headers: &[(&str, String)],
    ) -> Result<Response<Incoming>> {
        let pooled = {
            let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
            pool.retain(|s| !s.is_closed());
            let idx = pool.iter().position(|s| s.is_ready());
            idx.map(|i| pool.swap_remove(i))
        };
        let mut sender = match pooled {
            Some(s) => s,
            None => self.new_connection(false).await?,
        };
        let uri = format!("{}{}", self.transport.path_prefix(), path_and_query);
        let mut req = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header("Host", "d");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req
            .body(body)
            .map_err(|e| Error::Http(format!("building request {uri}: {e}")))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| Error::Http(format!("{method} {uri}: {e}")))?;
        self.pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sender);
        Ok(resp)
    }

    /// A libpod request; non-2xx answers become `Error::Api` with the engine's message.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Body,
        headers: &[(&str, String)],
    ) -> Result<Response<Incoming>> {
        let p = self.libpod_path(path, query);
        let resp = self.send(method, p, body, headers).await?;
        if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(resp);
        }
        Err(error_from(resp).await)
    }

    /// A Docker-compatible request (`path_and_query` from [`ApiClient::compat_path`]), for the
    /// few operations only that tree offers (`POST /auth`); errors as in [`ApiClient::request`].
    pub async fn request_compat(
        &self,
        method: Method,
        path_and_query: &str,
        body: Body,
    ) -> Result<Response<Incoming>> {
        let resp = self
            .send(method, path_and_query.to_string(), body, &[])
            .await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(error_from(resp).await)
    }

    /// [`ApiClient::request_compat`] with extra headers (`X-Registry-Auth` for the compat pull).
    pub async fn request_compat_with_headers(
        &self,
        method: Method,
        path_and_query: &str,
        body: Body,
        headers: &[(&str, String)],
    ) -> Result<Response<Incoming>> {
        let resp = self
            .send(method, path_and_query.to_string(), body, headers)
            .await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(error_from(resp).await)
    }

    /// A libpod request whose answer is returned whatever its status, for endpoints whose
    /// error answers still carry data (the archive stat header of a dangling symlink).
    pub async fn request_raw(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Body,
    ) -> Result<Response<Incoming>> {
        let p = self.libpod_path(path, query);
        self.send(method, p, body, &[]).await
    }

    pub async fn request_bytes(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Body,
    ) -> Result<(StatusCode, Bytes)> {
        let resp = self.request(method, path, query, body, &[]).await?;
        let status = resp.status();
        let bytes = read_body(resp).await?;
        Ok((status, bytes))
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str, query: &Query) -> Result<T> {
        let (_, bytes) = self
            .request_bytes(Method::GET, path, query, empty())
            .await?;
        decode(path, &bytes)
    }

    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let b = body.map(json_body).unwrap_or_else(empty);
        let (_, bytes) = self.request_bytes(Method::POST, path, query, b).await?;
        decode(path, &bytes)
    }

    /// `GET .../exists`-style probe: true on 2xx, false on 404, error otherwise.
    pub async fn exists(&self, path: &str) -> Result<bool> {
        match self
            .request_bytes(Method::GET, path, &Query::new(), empty())
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// An HTTP upgrade (attach, exec start): a dedicated connection, as podman opens a fresh
    /// transport per hijacked stream. Returns the raw bidirectional stream after `101`.
    pub async fn upgrade(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Body,
    ) -> Result<TokioIo<hyper::upgrade::Upgraded>> {
        let uri = format!(
            "{}{}",
            self.transport.path_prefix(),
            self.libpod_path(path, query)
        );
        let mut sender = self.new_connection(true).await?;
        let req = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header("Host", "d")
            .header("Connection", "Upgrade")
            .header("Upgrade", "tcp")
            .header("Content-Type", "application/json")
            .body(body)
            .map_err(|e| Error::Http(format!("building request {uri}: {e}")))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| Error::Http(format!("{method} {uri}: {e}")))?;
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            if resp.status().is_success() {
                return Err(Error::Http(format!(
                    "{uri}: the engine did not switch protocols (HTTP {})",
                    resp.status()
                )));
            }
            return Err(error_from(resp).await);
        }
        let up = hyper::upgrade::on(resp)
            .await
            .map_err(|e| Error::Http(format!("{uri}: upgrade failed: {e}")))?;
        Ok(TokioIo::new(up))
    }
}

pub async fn read_body(resp: Response<Incoming>) -> Result<Bytes> {
    resp.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| Error::Http(format!("reading response: {e}")))
}

pub fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        what: what.to_string(),
        source,
    })
}

/// Turn an error response into `Error::Api`, reading libpod's `{"cause","message","response"}`
/// model, or the plain-text body some handlers send.
pub async fn error_from(resp: Response<Incoming>) -> Error {
    let status = resp.status().as_u16();
    let bytes = read_body(resp).await.unwrap_or_default();
    #[derive(serde::Deserialize)]
    struct Model {
        #[serde(default)]
        cause: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Model>(&bytes) {
        Ok(m) if !m.message.is_empty() => Error::Api {
            status,
            message: m.message,
            cause: m.cause,
        },
        _ => {
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            Error::Api {
                status,
                message: if text.is_empty() {
                    format!("the engine answered HTTP {status}")
                } else {
                    text
                },
                cause: String::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("4.3.1"), Some((4, 3, 1)));
        assert_eq!(parse_version("5.0.0-dev"), Some((5, 0, 0)));
        assert_eq!(parse_version("6"), Some((6, 0, 0)));
        assert_eq!(parse_version("x"), None);
        assert!(parse_version("3.4.4").unwrap() < MIN_LIBPOD_VERSION);
    }

    #[test]
    fn query_encoding() {
        let q = Query::new()
            .add("all", true)
            .flag("size", false)
            .add("filters", r#"{"name":["a b"]}"#)
            .opt("limit", None::<u32>);
        assert_eq!(
            q.encode(),
            "all=true&filters=%7B%22name%22%3A%5B%22a%20b%22%5D%7D"
        );
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
    }
}
