//! Pods: create, list, inspect, state changes, removal, prune, top, stats.
//!
//! State changes answer `{"Errs":[...],"Id":...}`, with status 409 when some of the pod's
//! containers failed; that body is data, not an error document, so it is read whatever the
//! status.

use hyper::Method;
use serde::Deserialize;
use serde_json::Value;

use super::lifecycle::{PruneReport, TopBody};
use crate::error::{Error, Result};
use crate::http::{decode, empty, error_from, read_body, seg, ApiClient, Query};

/// The answer of `POST /pods/{name}/start|stop|...`.
#[derive(Debug, Deserialize, Clone, Default)]
pub struct PodActionReport {
    #[serde(rename = "Id", default)]
    pub id: String,
    /// Go errors serialized by the engine: strings, or `{}` when they carry no text.
    #[serde(rename = "Errs", default)]
    pub errs: Option<Vec<Value>>,
}

impl PodActionReport {
    pub fn errors(&self) -> Vec<String> {
        self.errs
            .iter()
            .flatten()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

/// The answer of `DELETE /pods/{name}`.
#[derive(Debug, Deserialize, Clone, Default)]
pub struct PodRmReport {
    #[serde(rename = "Id", default)]
    pub id: String,
    #[serde(rename = "Err", default)]
    pub err: Option<Value>,
}

impl PodRmReport {
    pub fn error(&self) -> Option<String> {
        match &self.err {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }
}

impl ApiClient {
    pub async fn pod_create(&self, spec: &Value) -> Result<String> {
        #[derive(Deserialize)]
        struct Created {
            #[serde(rename = "Id")]
            id: String,
        }
        let c: Created = self
            .post_json("/pods/create", &Query::new(), Some(spec))
            .await?;
        Ok(c.id)
    }

    pub async fn pods(&self, filters: &[String]) -> Result<Vec<Value>> {
        let q = Query::new().opt("filters", super::filters_json(filters));
        let v: Option<Vec<Value>> = self.get_json("/pods/json", &q).await?;
        Ok(v.unwrap_or_default())
    }

    pub async fn pod_exists(&self, name: &str) -> Result<bool> {
        self.exists(&format!("/pods/{}/exists", seg(name))).await
    }

    /// `action` is start, stop, restart, kill, pause or unpause.
    pub async fn pod_action(
        &self,
        name: &str,
        action: &str,
        query: &Query,
    ) -> Result<PodActionReport> {
        let path = format!("/pods/{}/{action}", seg(name));
        let resp = self
            .request_raw(Method::POST, &path, query, empty())
            .await?;
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(PodActionReport {
                id: name.to_string(),
                errs: None,
            });
        }
        if status != 409 && !resp.status().is_success() {
            return Err(error_from(resp).await);
        }
        let bytes = read_body(resp).await?;
        match decode::<PodActionReport>(&path, &bytes) {
            Ok(r) => Ok(r),
            Err(_) if status == 409 => Err(Error::Api {
                status,
                message: String::from_utf8_lossy(&bytes).trim().to_string(),
                cause: String::new(),
            }),
            Err(e) => Err(e),
        }
    }

    pub async fn pod_remove(
        &self,
        name: &str,
        force: bool,
        timeout: Option<u32>,
    ) -> Result<PodRmReport> {
        let q = Query::new().flag("force", force).opt("timeout", timeout);
        let (_, bytes) = self
            .request_bytes(Method::DELETE, &format!("/pods/{}", seg(name)), &q, empty())
            .await?;
        decode("pod rm", &bytes)
    }

    pub async fn pod_prune(&self) -> Result<Vec<PruneReport>> {
        let v: Option<Vec<PruneReport>> =
            self.post_json("/pods/prune", &Query::new(), None).await?;
        Ok(v.unwrap_or_default())
    }

    pub async fn pod_top(&self, name: &str, descriptors: &[String]) -> Result<TopBody> {
        let q = if descriptors.is_empty() {
            Query::new()
        } else {
            Query::new().add("ps_args", descriptors.join(","))
        };
        self.get_json(&format!("/pods/{}/top", seg(name)), &q).await
    }

    /// `GET /pods/stats`: one report per container of the named (or all) pods.
    pub async fn pod_stats(&self, names: &[String], all: bool) -> Result<Vec<Value>> {
        let mut q = Query::new().flag("all", all);
        for n in names {
            q = q.add("namesOrIDs", n);
        }
        let v: Option<Vec<Value>> = self.get_json("/pods/stats", &q).await?;
        Ok(v.unwrap_or_default())
    }
}
