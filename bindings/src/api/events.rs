//! The event stream: `GET /events` answers a stream of JSON objects, one per line.

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Method;

use crate::error::{Error, Result};
use crate::http::{empty, ApiClient, Query};

#[derive(Debug, Default, Clone)]
pub struct EventsOptions {
    pub filters: Vec<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub stream: bool,
}

/// The open event stream, read one JSON line at a time.
pub struct EventStream {
    body: Incoming,
    buf: Vec<u8>,
    done: bool,
}

impl EventStream {
    /// The next non-empty line, or None at the end of the stream.
    pub async fn next_line(&mut self) -> Result<Option<String>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&line).trim().to_string();
                if text.is_empty() {
                    continue;
                }
                return Ok(Some(text));
            }
            if self.done {
                let rest = std::mem::take(&mut self.buf);
                let text = String::from_utf8_lossy(&rest).trim().to_string();
                return Ok((!text.is_empty()).then_some(text));
            }
            match self.body.frame().await {
                None => self.done = true,
                Some(Err(e)) => return Err(Error::Http(format!("reading the event stream: {e}"))),
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                    }
                }
            }
        }
    }
}

impl ApiClient {
    pub async fn events(&self, o: &EventsOptions) -> Result<EventStream> {
        let q = Query::new()
            .opt("filters", super::filters_json(&o.filters))
            .opt("since", o.since.as_deref())
            .add("stream", o.stream)
            .opt("until", o.until.as_deref());
        let resp = self
            .request(Method::GET, "/events", &q, empty(), &[])
            .await?;
        Ok(EventStream {
            body: resp.into_body(),
            buf: Vec::new(),
            done: false,
        })
    }
}
