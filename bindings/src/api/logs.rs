//! Container logs and stats streams.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};
use hyper::Method;
use serde_json::Value;
use tokio::io::{AsyncRead, ReadBuf};

use crate::error::{Error, Result};
use crate::http::{empty, seg, ApiClient, Query};
use crate::stream::Demuxer;

/// Query of the logs endpoint. podman's client always sends `since`/`until` (the zero time
/// when unset) and `tail` (-1 for all); `None` leaves the parameter out.
#[derive(Debug, Default, Clone)]
pub struct LogsOptions {
    pub follow: bool,
    pub since: Option<String>,
    pub until: Option<String>,
    pub tail: Option<String>,
    pub timestamps: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// A response body as an `AsyncRead`, so framing parsers and copy loops can consume it
/// while it streams in.
pub struct BodyReader {
    body: Incoming,
    chunk: Bytes,
}

impl BodyReader {
    pub fn new(body: Incoming) -> Self {
        BodyReader {
            body,
            chunk: Bytes::new(),
        }
    }

    /// The next chunk of the body, `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if !self.chunk.is_empty() {
            return Ok(Some(std::mem::take(&mut self.chunk)));
        }
        loop {
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(Error::Http(format!("reading response: {e}"))),
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        if !data.is_empty() {
                            return Ok(Some(data));
                        }
                    }
                }
            }
        }
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            if !self.chunk.is_empty() {
                let n = self.chunk.len().min(buf.remaining());
                buf.put_slice(&self.chunk[..n]);
                self.chunk.advance(n);
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(std::io::Error::other(e)));
                }
                Poll::Ready(Some(Ok(f))) => {
                    if let Ok(data) = f.into_data() {
                        self.chunk = data;
                    }
                }
            }
        }
    }
}

impl ApiClient {
    /// `GET /containers/{name}/logs`: libpod frames every line, TTY or not.
    pub async fn container_logs(
        &self,
        name: &str,
        opts: &LogsOptions,
    ) -> Result<Demuxer<BodyReader>> {
        // The engine refuses a request for no stream at all; podman then asks for stdout.
        let stdout = opts.stdout || !opts.stderr;
        let q = Query::new()
            .add("follow", opts.follow)
            .opt("since", opts.since.as_deref())
            .opt("until", opts.until.as_deref())
            .add("stderr", opts.stderr)
            .add("stdout", stdout)
            .opt("tail", opts.tail.as_deref())
            .add("timestamps", opts.timestamps);
        let resp = self
            .request(
                Method::GET,
                &format!("/containers/{}/logs", seg(name)),
                &q,
                empty(),
                &[],
            )
            .await?;
        Ok(Demuxer::new(BodyReader::new(resp.into_body())))
    }

    /// `GET /containers/stats`: one JSON document `{"Error","Stats"}` per interval (a single
    /// one when `stream` is false). Returns a reader of those documents.
    pub async fn container_stats(
        &self,
        containers: &[String],
        stream: bool,
        interval: i64,
    ) -> Result<JsonStream> {
        let mut q = Query::new();
        for c in containers {
            q = q.add("containers", c);
        }
        let q = q.add("interval", interval).add("stream", stream);
        let resp = self
            .request(Method::GET, "/containers/stats", &q, empty(), &[])
            .await?;
        Ok(JsonStream {
            body: BodyReader::new(resp.into_body()),
            buf: Vec::new(),
        })
    }
}

/// Concatenated JSON documents (Go's `json.Encoder` output), decoded one at a time.
pub struct JsonStream {
    body: BodyReader,
    buf: Vec<u8>,
}

impl JsonStream {
    /// The next document, `None` at a clean end of the stream.
    pub async fn next(&mut self) -> Result<Option<Value>> {
        loop {
            let start = self
                .buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(self.buf.len());
            self.buf.drain(..start);
            if !self.buf.is_empty() {
                let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => {
                        let used = it.byte_offset();
                        self.buf.drain(..used);
                        return Ok(Some(v));
                    }
                    Some(Err(e)) if e.is_eof() => {}
                    Some(Err(e)) => {
                        return Err(Error::Decode {
                            what: "the stats stream".into(),
                            source: e,
                        })
                    }
                    None => {}
                }
            }
            match self.body.next_chunk().await? {
                Some(c) => self.buf.extend_from_slice(&c),
                None if self.buf.is_empty() => return Ok(None),
                None => {
                    return Err(Error::Http(
                        "the stats stream ended inside a document".into(),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_documents_split_across_chunks() {
        // The decoder logic is exercised through serde's streaming deserializer: a document
        // cut in the middle must report EOF (wait for more) rather than a syntax error.
        let partial = br#"{"Error":null,"Stats":[{"Name":"a"#;
        let mut it = serde_json::Deserializer::from_slice(partial).into_iter::<serde_json::Value>();
        assert!(it.next().unwrap().unwrap_err().is_eof());
        let two = br#"{"a":1}
{"b":2}"#;
        let mut it = serde_json::Deserializer::from_slice(two).into_iter::<serde_json::Value>();
        assert_eq!(it.next().unwrap().unwrap()["a"], 1);
        assert_eq!(it.byte_offset(), 7);
    }
}
