//! Container state changes and inspection beyond create/start/attach/wait/remove: stop,
//! restart, pause, init, rename, wait with conditions, prune, top, changes, export, commit,
//! healthcheck, and the inspect documents of the other object types that the generic
//! `inspect` falls back to. Documents the CLI prints verbatim stay `serde_json::Value` (key
//! order preserved) so our JSON output is the engine's own.

use hyper::body::Incoming;
use hyper::{Method, Response};
use serde::Deserialize;
use serde_json::Value;

use http_body_util::BodyExt;

use crate::error::{Error, Result};
use crate::http::{decode, empty, seg, ApiClient, Query};

/// One entry of `POST /containers/prune`.
#[derive(Debug, Deserialize, Clone)]
pub struct PruneReport {
    #[serde(rename = "Id", default)]
    pub id: String,
    /// The engine serializes a Go error here: `null`, a string, or an (empty) object.
    #[serde(rename = "Err", default)]
    pub err: Option<Value>,
    #[serde(rename = "Size", default)]
    pub size: Option<u64>,
}

impl PruneReport {
    /// The error text, if the engine reported one for this container.
    pub fn error(&self) -> Option<String> {
        match &self.err {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Object(m)) if !m.is_empty() => Some(
                m.values()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(": "),
            )
            .filter(|s| !s.is_empty()),
            _ => None,
        }
    }
}

/// `GET /containers/{name}/top`: column titles and one row of cells per process.
#[derive(Debug, Deserialize, Clone, Default)]
pub struct TopBody {
    #[serde(rename = "Titles", default)]
    pub titles: Vec<String>,
    #[serde(rename = "Processes", default)]
    pub processes: Option<Vec<Vec<String>>>,
}

/// One filesystem change of `GET /containers/{name}/changes`.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
pub struct Change {
    #[serde(rename = "Path")]
    pub path: String,
    /// 0 = modified, 1 = added, 2 = deleted (containers/storage's `ChangeType`).
    #[serde(rename = "Kind")]
    pub kind: u8,
}

impl Change {
    /// The one-letter code podman prints: `C`, `A` or `D`.
    pub fn letter(&self) -> char {
        match self.kind {
            1 => 'A',
            2 => 'D',
            _ => 'C',
        }
    }
}

/// Options of `POST /commit`.
#[derive(Debug, Default, Clone)]
pub struct CommitOptions {
    pub author: Option<String>,
    pub changes: Vec<String>,
    pub comment: Option<String>,
    pub format: Option<String>,
    pub pause: bool,
    pub squash: bool,
    pub repo: Option<String>,
    pub tag: Option<String>,
}

impl ApiClient {
    async fn post_empty(&self, path: &str, q: &Query) -> Result<()> {
        self.request_bytes(Method::POST, path, q, empty()).await?;
        Ok(())
    }

    /// Stop; a container that is already stopped answers 304, which is success.
    pub async fn container_stop(
        &self,
        name: &str,
        timeout: Option<u32>,
        ignore: bool,
    ) -> Result<()> {
        let q = Query::new().add("ignore", ignore).opt("timeout", timeout);
        self.post_empty(&format!("/containers/{}/stop", seg(name)), &q)
            .await
    }

    /// Restart. Without a timeout podman's own client sends none either, and the engine
    /// then uses its default for libpod requests.
    pub async fn container_restart(&self, name: &str, timeout: Option<u32>) -> Result<()> {
        let q = Query::new().opt("timeout", timeout);
        self.post_empty(&format!("/containers/{}/restart", seg(name)), &q)
            .await
    }

    pub async fn container_pause(&self, name: &str) -> Result<()> {
        self.post_empty(&format!("/containers/{}/pause", seg(name)), &Query::new())
            .await
    }

    pub async fn container_unpause(&self, name: &str) -> Result<()> {
        self.post_empty(&format!("/containers/{}/unpause", seg(name)), &Query::new())
            .await
    }

    /// Initialize; the engine answers 304 for a container that already is, which podman
    /// reports as a state error.
    pub async fn container_init(&self, name: &str) -> Result<()> {
        let (status, _) = self
            .request_bytes(
                Method::POST,
                &format!("/containers/{}/init", seg(name)),
                &Query::new(),
                empty(),
            )
            .await?;
        if status == hyper::StatusCode::NOT_MODIFIED {
            return Err(Error::Api {
                status: 304,
                message: format!(
                    "container {name} has already been created in runtime: container state improper"
                ),
                cause: String::new(),
            });
        }
        Ok(())
    }

    pub async fn container_rename(&self, name: &str, new_name: &str) -> Result<()> {
        self.post_empty(
            &format!("/containers/{}/rename", seg(name)),
            &Query::new().add("name", new_name),
        )
        .await
    }

    /// Wait for one of `conditions` (container states; none = until it exits), polling at
    /// `interval` (a Go duration string). Returns the exit code the engine reports.
    pub async fn container_wait_for(
        &self,
        name: &str,
        conditions: &[String],
        interval: Option<&str>,
    ) -> Result<i32> {
        let mut q = Query::new();
        for c in conditions {
            q = q.add("condition", c);
        }
        let q = q.opt("interval", interval);
        let path = format!("/containers/{}/wait", seg(name));
        let (_, body) = self.request_bytes(Method::POST, &path, &q, empty()).await?;
        let code: i64 = decode(&path, &body)?;
        Ok(code as i32)
    }

    pub async fn containers_prune(&self, filters: &[String]) -> Result<Vec<PruneReport>> {
        let q = Query::new().opt("filters", super::filters_json(filters));
        let path = "/containers/prune";
        let (_, body) = self.request_bytes(Method::POST, path, &q, empty()).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        let v: Option<Vec<PruneReport>> = decode(path, &body)?;
        Ok(v.unwrap_or_default())
    }

    /// `ps` of the container's processes; `descriptors` are ps(1)-style AIX descriptors.
    pub async fn container_top(&self, name: &str, descriptors: &[String]) -> Result<TopBody> {
        let q = if descriptors.is_empty() {
            Query::new()
        } else {
            Query::new().add("ps_args", descriptors.join(","))
        };
        self.get_json(&format!("/containers/{}/top", seg(name)), &q)
            .await
    }

    /// Filesystem changes of a container (or image) relative to its parent layer, or to
    /// `parent` when given. `diff_type` is "all", "container" or "image".
    pub async fn container_changes(
        &self,
        name: &str,
        parent: Option<&str>,
        diff_type: &str,
    ) -> Result<Vec<Change>> {
        let q = Query::new()
            .opt("parent", parent)
            .add("diffType", diff_type);
        let v: Option<Vec<Change>> = self
            .get_json(&format!("/containers/{}/changes", seg(name)), &q)
            .await?;
        Ok(v.unwrap_or_default())
    }

    /// Stream the container's filesystem as a tar archive into `sink`, chunk by chunk. An
    /// error of `sink` stops the transfer and is returned as `Error::Io`.
    pub async fn container_export(
        &self,
        name: &str,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<()> {
        let resp: Response<Incoming> = self
            .request(
                Method::GET,
                &format!("/containers/{}/export", seg(name)),
                &Query::new(),
                empty(),
                &[],
            )
            .await?;
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| Error::Http(format!("the export stream of {name} broke off: {e}")))?;
            if let Some(d) = frame.data_ref() {
                sink(d).map_err(|e| Error::io("writing the exported archive", e))?;
            }
        }
        Ok(())
    }

    /// Commit a container to an image; returns the new image's ID.
    pub async fn commit(&self, container: &str, o: &CommitOptions) -> Result<String> {
        let mut q = Query::new().opt("author", o.author.as_deref());
        for c in &o.changes {
            q = q.add("changes", c);
        }
        let q = q
            .opt("comment", o.comment.as_deref())
            .opt("format", o.format.as_deref())
            .add("pause", o.pause)
            .opt("repo", o.repo.as_deref())
            .add("squash", o.squash)
            .opt("tag", o.tag.as_deref())
            .add("container", container);
        #[derive(Deserialize)]
        struct Id {
            #[serde(rename = "Id", alias = "ID", alias = "id")]
            id: String,
        }
        let r: Id = self.post_json("/commit", &q, None).await?;
        Ok(r.id)
    }

    /// Run the container's health check once; the engine's `HealthCheckResults`.
    pub async fn container_healthcheck(&self, name: &str) -> Result<Value> {
        self.get_json(
            &format!("/containers/{}/healthcheck", seg(name)),
            &Query::new(),
        )
        .await
    }

    pub async fn image_inspect(&self, name: &str, size: bool) -> Result<Value> {
        self.get_json(
            &format!("/images/{}/json", seg(name)),
            &Query::new().flag("size", size),
        )
        .await
    }

    pub async fn volume_inspect(&self, name: &str) -> Result<Value> {
        self.get_json(&format!("/volumes/{}/json", seg(name)), &Query::new())
            .await
    }

    pub async fn network_inspect(&self, name: &str) -> Result<Value> {
        self.get_json(&format!("/networks/{}/json", seg(name)), &Query::new())
            .await
    }

    pub async fn pod_inspect(&self, name: &str) -> Result<Value> {
        self.get_json(&format!("/pods/{}/json", seg(name)), &Query::new())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_report_errors() {
        let r: Vec<PruneReport> = serde_json::from_str(
            r#"[{"Id":"a","Err":null,"Size":10},{"Id":"b","Err":"busy"},{"Id":"c","Err":{}}]"#,
        )
        .unwrap();
        assert_eq!(r[0].error(), None);
        assert_eq!(r[0].size, Some(10));
        assert_eq!(r[1].error().as_deref(), Some("busy"));
        assert_eq!(r[2].error(), None);
    }

    #[test]
    fn change_letters() {
        let c: Vec<Change> = serde_json::from_str(
            r#"[{"Path":"/a","Kind":0},{"Path":"/b","Kind":1},{"Path":"/c","Kind":2}]"#,
        )
        .unwrap();
        let l: String = c.iter().map(Change::letter).collect();
        assert_eq!(l, "CAD");
    }
}
