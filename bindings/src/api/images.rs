//! Images: list, existence, pull, remove, tag/untag, history, tree, prune.

use http_body_util::BodyExt;
use hyper::Method;
use serde::Deserialize;
use serde_json::Value;

use super::lifecycle::PruneReport;

use crate::error::{Error, Result};
use crate::http::{empty, seg, ApiClient, Query};

#[derive(Debug, Default, Clone)]
pub struct ListImages {
    pub all: bool,
    pub filters: Vec<String>,
}

/// Options of `DELETE /images/remove` (podman's batch removal).
#[derive(Debug, Default, Clone)]
pub struct RemoveImages {
    pub images: Vec<String>,
    pub all: bool,
    pub force: bool,
    pub ignore: bool,
    pub no_prune: bool,
}

/// libpod's `LibpodImagesRemoveReport`: what was untagged and deleted, the errors as text and
/// the exit code podman's CLI should end with (1 for unknown images, 2 for images in use).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RemoveReport {
    #[serde(rename = "Deleted", default)]
    pub deleted: Option<Vec<String>>,
    #[serde(rename = "Untagged", default)]
    pub untagged: Option<Vec<String>>,
    #[serde(rename = "Errors", default)]
    pub errors: Option<Vec<String>>,
    #[serde(rename = "ExitCode", default)]
    pub exit_code: i32,
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

    /// Remove images; the report carries the per-image errors (the engine answers 200 even
    /// when some images could not be removed).
    pub async fn images_remove(&self, o: &RemoveImages) -> Result<RemoveReport> {
        let mut q = Query::new()
            .flag("all", o.all)
            .flag("force", o.force)
            .flag("ignore", o.ignore)
            .flag("noprune", o.no_prune);
        for i in &o.images {
            q = q.add("images", i);
        }
        let resp = self
            .request_raw(Method::DELETE, "/images/remove", &q, empty())
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(crate::http::error_from(resp).await);
        }
        let bytes = crate::http::read_body(resp).await?;
        crate::http::decode("/images/remove", &bytes)
    }

    /// `POST /images/{name}/tag?repo=&tag=`.
    pub async fn image_tag(&self, name: &str, repo: &str, tag: &str) -> Result<()> {
        let q = Query::new().add("tag", tag).add("repo", repo);
        self.request_bytes(
            Method::POST,
            &format!("/images/{}/tag", seg(name)),
            &q,
            empty(),
        )
        .await?;
        Ok(())
    }

    /// `POST /images/{name}/untag`; empty repo and tag remove every name.
    pub async fn image_untag(&self, name: &str, repo: &str, tag: &str) -> Result<()> {
        let q = Query::new().add("tag", tag).add("repo", repo);
        self.request_bytes(
            Method::POST,
            &format!("/images/{}/untag", seg(name)),
            &q,
            empty(),
        )
        .await?;
        Ok(())
    }

    /// `GET /images/{name}/history`: Docker's `HistoryResponseItem`s, newest first.
    pub async fn image_history(&self, name: &str) -> Result<Vec<Value>> {
        let v: Option<Vec<Value>> = self
            .get_json(&format!("/images/{}/history", seg(name)), &Query::new())
            .await?;
        Ok(v.unwrap_or_default())
    }

    /// `GET /images/{name}/tree`: the tree as text, drawn by the engine.
    pub async fn image_tree(&self, name: &str, what_requires: bool) -> Result<String> {
        let v: Value = self
            .get_json(
                &format!("/images/{}/tree", seg(name)),
                &Query::new().flag("whatrequires", what_requires),
            )
            .await?;
        Ok(v.get("Tree")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string())
    }

    /// `POST /images/prune`.
    pub async fn images_prune(
        &self,
        all: bool,
        external: bool,
        filters: &[String],
    ) -> Result<Vec<PruneReport>> {
        let q = Query::new()
            .flag("all", all)
            .flag("external", external)
            .opt("filters", super::filters_json(filters));
        let v: Option<Vec<PruneReport>> = self.post_json("/images/prune", &q, None).await?;
        Ok(v.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_report() {
        let r: RemoveReport = serde_json::from_str(
            r#"{"Deleted":null,"Untagged":["a:latest"],"Errors":["image not known"],"ExitCode":1}"#,
        )
        .unwrap();
        assert_eq!(r.exit_code, 1);
        assert_eq!(r.untagged.unwrap(), vec!["a:latest".to_string()]);
        assert!(r.deleted.is_none());
    }
}
