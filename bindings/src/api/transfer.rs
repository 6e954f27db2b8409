//! Image archives: save (export), load, import — streamed both ways.
//!
//! Request bodies are fed from a blocking reader through a small bounded channel and
//! responses are handed over chunk by chunk, so an image of any size crosses the client in
//! a few hundred kilobytes of memory.

use std::io::Read;

use bytes::Bytes;
use hyper::Method;
use serde_json::Value;
use tokio::sync::mpsc;

use super::archive::channel_body;
use super::logs::BodyReader;
use crate::error::Result;
use crate::http::{empty, ApiClient, Body, Query};

/// Size of one chunk read from a local file or stdin.
pub const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the reader thread and the connection.
const IN_FLIGHT: usize = 4;

/// A request body streamed from `reader` (a file, stdin) on a thread of its own, so a slow
/// or blocking source never stalls the runtime. A read error aborts the request.
pub fn reader_body(mut reader: impl Read + Send + 'static) -> Body {
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(IN_FLIGHT);
    std::thread::spawn(move || loop {
        let mut buf = vec![0u8; CHUNK];
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                buf.truncate(n);
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                break;
            }
        }
    });
    channel_body(rx)
}

/// Options of `GET /images/export`.
#[derive(Debug, Default, Clone)]
pub struct ExportOptions {
    pub references: Vec<String>,
    pub format: String,
    pub compress: bool,
    pub oci_accept_uncompressed_layers: bool,
}

/// Options of `POST /images/import`.
#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    pub changes: Vec<String>,
    pub message: Option<String>,
    pub reference: Option<String>,
    pub url: Option<String>,
    pub os: Option<String>,
    pub arch: Option<String>,
    pub variant: Option<String>,
}

impl ApiClient {
    /// `GET /images/export`: the archive (or, for the directory formats, a tar of the
    /// directory) as a stream.
    pub async fn images_export(&self, o: &ExportOptions) -> Result<BodyReader> {
        let mut q = Query::new()
            .flag("compress", o.compress)
            .add("format", &o.format)
            .flag(
                "ociAcceptUncompressedLayers",
                o.oci_accept_uncompressed_layers,
            );
        for r in &o.references {
            q = q.add("references", r);
        }
        let resp = self
            .request(Method::GET, "/images/export", &q, empty(), &[])
            .await?;
        Ok(BodyReader::new(resp.into_body()))
    }

    /// `POST /images/load` with the archive as the body; the names of the loaded images.
    pub async fn images_load(&self, body: Body) -> Result<Vec<String>> {
        let resp = self
            .request(
                Method::POST,
                "/images/load",
                &Query::new(),
                body,
                &[("Content-Type", "application/x-tar".to_string())],
            )
            .await?;
        let bytes = crate::http::read_body(resp).await?;
        let v: Value = crate::http::decode("/images/load", &bytes)?;
        Ok(v.get("Names")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `POST /images/import`: a tarball body (or none, with `url`); the new image's ID.
    pub async fn images_import(&self, body: Body, o: &ImportOptions) -> Result<String> {
        let mut q = Query::new();
        for c in &o.changes {
            q = q.add("changes", c);
        }
        let q = q
            .opt("message", o.message.as_deref())
            .opt("reference", o.reference.as_deref())
            .opt("url", o.url.as_deref())
            .opt("OS", o.os.as_deref())
            .opt("Architecture", o.arch.as_deref())
            .opt("Variant", o.variant.as_deref());
        let resp = self
            .request(
                Method::POST,
                "/images/import",
                &q,
                body,
                &[("Content-Type", "application/x-tar".to_string())],
            )
            .await?;
        let bytes = crate::http::read_body(resp).await?;
        let v: Value = crate::http::decode("/images/import", &bytes)?;
        Ok(v.get("Id")
            .or_else(|| v.get("ID"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn reader_body_streams_everything_in_chunks() {
        let data: Vec<u8> = (0..(CHUNK * 3 + 17)).map(|i| (i % 251) as u8).collect();
        let body = reader_body(std::io::Cursor::new(data.clone()));
        let got = body.collect().await.unwrap().to_bytes();
        assert_eq!(got.as_ref(), data.as_slice());
    }

    #[tokio::test]
    async fn reader_body_fails_on_read_error() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let r = reader_body(Broken).collect().await;
        assert!(r.is_err());
    }
}
