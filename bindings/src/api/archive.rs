//! cp: the archive endpoint (stat, copy in, copy out).

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::Method;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::logs::BodyReader;
use crate::error::{Error, Result};
use crate::http::{empty, error_from, seg, ApiClient, Body, Query};

/// Go's `os.FileMode` type bits, as the engine reports them in the stat header.
pub const MODE_DIR: u32 = 1 << 31;
pub const MODE_SYMLINK: u32 = 1 << 27;

/// What `HEAD /containers/{name}/archive` says about a path (`X-Docker-Container-Path-Stat`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PathStat {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub mode: u32,
    #[serde(default)]
    pub mtime: String,
    #[serde(default, rename = "isDir")]
    pub is_dir: bool,
    /// The path with symlinks resolved (the base path's trailing "/" or "/." kept).
    #[serde(default, rename = "linkTarget")]
    pub link_target: String,
}

/// The answer of a stat: the engine may describe a path and still fail (a symlink whose
/// target does not exist), so both parts are kept.
#[derive(Debug)]
pub struct StatResult {
    pub info: Option<PathStat>,
    /// `None` when the path exists; `Some(404)` when it (or the container) does not.
    pub status: Option<u16>,
    /// HTTP reason for other failures ("500 Internal Server Error").
    pub status_text: String,
}

/// Options of a copy into a container (`PUT .../archive`).
#[derive(Debug, Default, Clone)]
pub struct CopyInOptions {
    /// Chown the extracted files to the container's main user (`cp -a`, podman's default).
    pub chown: bool,
    pub no_overwrite_dir_non_dir: bool,
    /// JSON map renaming the archive's top-level entries, if any.
    pub rename: Option<String>,
}

/// A streaming request body fed chunk by chunk through a bounded channel (so a producer
/// can build a tar archive while it is being sent); an `Err` item aborts the request.
pub fn channel_body(rx: mpsc::Receiver<std::io::Result<Bytes>>) -> Body {
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item.map(Frame::data), rx))
    });
    StreamBody::new(chunks).boxed()
}

pub fn decode_stat_header(raw: &str) -> Result<PathStat> {
    // Go's base64.URLEncoding pads; tolerate senders that do not.
    let trimmed = raw.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .map_err(|e| {
            Error::Http(format!(
                "malformed X-Docker-Container-Path-Stat header: {e}"
            ))
        })?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
        what: "X-Docker-Container-Path-Stat".into(),
        source,
    })
}

impl ApiClient {
    /// `HEAD /containers/{name}/archive?path=`.
    pub async fn container_stat(&self, name: &str, path: &str) -> Result<StatResult> {
        let resp = self
            .request_raw(
                Method::HEAD,
                &format!("/containers/{}/archive", seg(name)),
                &Query::new().add("path", path),
                empty(),
            )
            .await?;
        let status = resp.status();
        let info = match resp
            .headers()
            .get("X-Docker-Container-Path-Stat")
            .and_then(|v| v.to_str().ok())
        {
            Some(raw) if !raw.is_empty() => match decode_stat_header(raw) {
                Ok(i) => Some(i),
                Err(e) if status.is_success() => return Err(e),
                Err(_) => None,
            },
            _ => None,
        };
        Ok(StatResult {
            info,
            status: (!status.is_success()).then_some(status.as_u16()),
            status_text: status.to_string(),
        })
    }

    /// `GET /containers/{name}/archive?path=`: the tar stream of the path.
    pub async fn container_archive_get(&self, name: &str, path: &str) -> Result<BodyReader> {
        let resp = self
            .request(
                Method::GET,
                &format!("/containers/{}/archive", seg(name)),
                &Query::new().add("path", path),
                empty(),
                &[],
            )
            .await?;
        Ok(BodyReader::new(resp.into_body()))
    }

    /// `PUT /containers/{name}/archive?path=`: extract the tar `body` into the directory
    /// `path` of the container.
    pub async fn container_archive_put(
        &self,
        name: &str,
        path: &str,
        opts: &CopyInOptions,
        body: Body,
    ) -> Result<()> {
        let q = Query::new()
            .add("copyUIDGID", opts.chown)
            .opt("rename", opts.rename.as_deref())
            .add("noOverwriteDirNonDir", opts.no_overwrite_dir_non_dir)
            .add("path", path);
        let resp = self
            .request_raw(
                Method::PUT,
                &format!("/containers/{}/archive", seg(name)),
                &q,
                body,
            )
            .await?;
        if resp.status().is_success() {
            let _ = crate::http::read_body(resp).await;
            return Ok(());
        }
        Err(error_from(resp).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_header() {
        // What podman 4.3.1 sends for a directory (Go base64.URLEncoding of the JSON).
        let json = br#"{"name":"d","size":4096,"mode":2147484141,"mtime":"2026-11-28T11:37:30.119124613Z","isDir":true,"linkTarget":"/d"}"#;
        let raw = base64::engine::general_purpose::URL_SAFE.encode(json);
        let s = decode_stat_header(&raw).unwrap();
        assert!(s.is_dir);
        assert_eq!(s.mode & MODE_DIR, MODE_DIR);
        assert_eq!(s.mode & 0o777, 0o755);
        assert_eq!(s.link_target, "/d");
        assert!(decode_stat_header("!!!").is_err());
    }
}
