//! Containers: list, create, start, attach, wait, remove, inspect, kill.

use hyper::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{decode, empty, seg, ApiClient, Query};

#[derive(Debug, Default, Clone)]
pub struct ListContainers {
    pub all: bool,
    pub filters: Vec<String>,
    pub last: Option<i64>,
    pub size: bool,
    pub external: bool,
    pub namespace: bool,
    /// Fill in pod names (`PodName`).
    pub pod: bool,
}

#[derive(Debug, Deserialize)]
pub struct CreateResponse {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Warnings", default)]
    pub warnings: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone)]
pub struct RemoveOptions {
    pub force: bool,
    pub volumes: bool,
    pub ignore: bool,
    pub depend: bool,
    pub timeout: Option<u32>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct RemoveReport {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Err", default)]
    pub err: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct AttachOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub detach_keys: Option<String>,
    pub logs: bool,
}

impl ApiClient {
    pub async fn containers(&self, opts: &ListContainers) -> Result<Vec<Value>> {
        let q = Query::new()
            .flag("all", opts.all)
            .opt("filters", super::filters_json(&opts.filters))
            .opt("last", opts.last)
            .flag("size", opts.size)
            .flag("external", opts.external)
            .flag("namespace", opts.namespace)
            .flag("pod", opts.pod);
        self.get_json("/containers/json", &q).await
    }

    pub async fn container_create(&self, spec: &Value) -> Result<CreateResponse> {
        self.post_json("/containers/create", &Query::new(), Some(spec))
            .await
    }

    pub async fn container_inspect(&self, name: &str, size: bool) -> Result<Value> {
        self.get_json(
            &format!("/containers/{}/json", seg(name)),
            &Query::new().flag("size", size),
        )
        .await
    }

    pub async fn container_exists(&self, name: &str) -> Result<bool> {
        self.exists(&format!("/containers/{}/exists", seg(name)))
            .await
    }

    /// Start; an already running container (HTTP 304) is not an error, as in podman.
    pub async fn container_start(&self, name: &str, detach_keys: Option<&str>) -> Result<()> {
        let q = Query::new().opt("detachKeys", detach_keys);
        self.request_bytes(
            Method::POST,
            &format!("/containers/{}/start", seg(name)),
            &q,
            empty(),
        )
        .await?;
        Ok(())
    }

    pub async fn container_kill(&self, name: &str, signal: &str) -> Result<()> {
        self.request_bytes(
            Method::POST,
            &format!("/containers/{}/kill", seg(name)),
            &Query::new().add("signal", signal),
            empty(),
        )
        .await?;
        Ok(())
    }

    /// Block until the container exits (or reaches one of `conditions`); returns its exit code.
    pub async fn container_wait(&self, name: &str, conditions: &[&str]) -> Result<i32> {
        let mut q = Query::new();
        for c in conditions {
            q = q.add("condition", c);
        }
        let path = format!("/containers/{}/wait", seg(name));
        let (_, body) = self.request_bytes(Method::POST, &path, &q, empty()).await?;
        let code: i64 = decode(&path, &body)?;
        Ok(code as i32)
    }

    pub async fn container_remove(
        &self,
        name: &str,
        opts: &RemoveOptions,
    ) -> Result<Vec<RemoveReport>> {
        let q = Query::new()
            .flag("force", opts.force)
            .flag("v", opts.volumes)
            .flag("volumes", opts.volumes)
            .flag("ignore", opts.ignore)
            .flag("depend", opts.depend)
            .opt("timeout", opts.timeout);
        let path = format!("/containers/{}", seg(name));
        let (_, body) = self
            .request_bytes(Method::DELETE, &path, &q, empty())
            .await?;
        // podman 4.x answers an array of reports; an empty body means nothing was removed
        // (e.g. --ignore of a missing container).
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        let v: Value = decode(&path, &body)?;
        match v {
            Value::Array(_) => decode(&path, &body),
            other => Err(Error::Http(format!(
                "unexpected answer to container removal: {other}"
            ))),
        }
    }

    /// Attach to a container's streams (HTTP upgrade). Non-TTY output is multiplexed; use
    /// `stream::Demuxer` on the returned stream.
    pub async fn container_attach(
        &self,
        name: &str,
        opts: &AttachOptions,
    ) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
        let q = Query::new()
            .add("stream", true)
            .flag("stdin", opts.stdin)
            .flag("stdout", opts.stdout)
            .flag("stderr", opts.stderr)
            .flag("logs", opts.logs)
            .opt("detachKeys", opts.detach_keys.as_deref());
        self.upgrade(
            Method::POST,
            &format!("/containers/{}/attach", seg(name)),
            &q,
            empty(),
        )
        .await
    }
}
