//! Images: list, existence, pull.

use http_body_util::BodyExt;
use hyper::Method;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{empty, seg, ApiClient, Query};

#[derive(Debug, Default, Clone)]
pub struct ListImages {
    pub all: bool,
    pub filters: Vec<String>,
}

impl ApiClient {
    pub async fn images(&self, opts: &ListImages) -> Result<Vec<Value>> {
        let q = Query::new()
            .flag("all", opts.all)
            .opt("filters", super::filters_json(&opts.filters));
        self.get_json("/images/json", &q).await
    }

    pub async fn image_exists(&self, name: &str) -> Result<bool> {
        self.exists(&format!("/images/{}/exists", seg(name))).await
    }

    /// Pull an image; `progress` receives each progress line the engine streams.
    /// Returns the image IDs the engine reports.
    pub async fn pull(
        &self,
        reference: &str,
        policy: &str,
        quiet: bool,
        mut progress: impl FnMut(&str),
    ) -> Result<Vec<String>> {
        let q = Query::new()
            .add("reference", reference)
            .add("policy", policy)
            .flag("quiet", quiet);
        let resp = self
            .request(Method::POST, "/images/pull", &q, empty(), &[])
            .await?;
        let mut body = resp.into_body();
        let mut buf: Vec<u8> = Vec::new();
        let mut images = Vec::new();
        let mut errors = Vec::new();
        let mut handle = |v: Value, images: &mut Vec<String>, errors: &mut Vec<String>| {
            if let Some(s) = v.get("stream").and_then(Value::as_str) {
                progress(s);
            }
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                errors.push(e.to_string());
            }
            if let Some(ids) = v.get("images").and_then(Value::as_array) {
                images.extend(ids.iter().filter_map(|i| i.as_str().map(str::to_string)));
            }
        };
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Error::Http(format!("reading pull progress: {e}")))?;
            if let Some(d) = frame.data_ref() {
                buf.extend_from_slice(d);
            }
            // The engine writes one JSON document after another; decode every complete one.
            let mut de = serde_json::Deserializer::from_slice(&buf).into_iter::<Value>();
            let mut consumed = 0;
            while let Some(Ok(v)) = de.next() {
                consumed = de.byte_offset();
                handle(v, &mut images, &mut errors);
            }
            buf.drain(..consumed);
        }
        if !errors.is_empty() {
            return Err(Error::Api {
                status: 500,
                message: errors.join("\n"),
                cause: String::new(),
            });
        }
        Ok(images)
    }
}
