//! Volumes: `/libpod/volumes/...`. Responses stay JSON values so the CLI prints the engine's
//! own documents.

use hyper::Method;
use serde_json::{json, Map, Value};

use super::filters_json;
use crate::error::Result;
use crate::http::{empty, seg, ApiClient, Body, Query};

#[derive(Debug, Default, Clone)]
pub struct VolumeCreate {
    pub name: Option<String>,
    pub driver: String,
    pub labels: Map<String, Value>,
    pub options: Map<String, Value>,
    pub ignore_if_exists: bool,
}

impl ApiClient {
    pub async fn volume_create(&self, o: &VolumeCreate) -> Result<Value> {
        // libpod's VolumeCreateOptions has no json tags: Go field names are the keys.
        let mut body = json!({
            "Driver": o.driver,
            "Label": o.labels,
            "Labels": o.labels,
            "Options": o.options,
        });
        if let Some(n) = &o.name {
            body["Name"] = json!(n);
        }
        if o.ignore_if_exists {
            body["IgnoreIfExists"] = json!(true);
        }
        self.post_json("/volumes/create", &Query::new(), Some(&body))
            .await
    }

    pub async fn volumes(&self, filters: &[String]) -> Result<Vec<Value>> {
        let q = Query::new().opt("filters", filters_json(filters));
        self.get_json("/volumes/json", &q).await
    }

    pub async fn volume_exists(&self, name: &str) -> Result<bool> {
        self.exists(&format!("/volumes/{}/exists", seg(name))).await
    }

    pub async fn volume_remove(&self, name: &str, force: bool, timeout: Option<u64>) -> Result<()> {
        let q = Query::new().flag("force", force).opt("timeout", timeout);
        self.request_bytes(
            Method::DELETE,
            &format!("/volumes/{}", seg(name)),
            &q,
            empty(),
        )
        .await?;
        Ok(())
    }

    /// `[{"Id","Err","Size"}]`.
    pub async fn volume_prune(&self, filters: &[String]) -> Result<Vec<Value>> {
        let q = Query::new().opt("filters", filters_json(filters));
        let v: Option<Vec<Value>> = self.post_json("/volumes/prune", &q, None).await?;
        Ok(v.unwrap_or_default())
    }

    /// `GET /volumes/{name}/export`: the volume's contents as a tar stream (engines >= 5.0).
    pub async fn volume_export(&self, name: &str) -> Result<super::logs::BodyReader> {
        let resp = self
            .request(
                Method::GET,
                &format!("/volumes/{}/export", seg(name)),
                &Query::new(),
                empty(),
                &[],
            )
            .await?;
        Ok(super::logs::BodyReader::new(resp.into_body()))
    }

    /// `POST /volumes/{name}/import` with a tar stream as the body (engines >= 5.0).
    pub async fn volume_import(&self, name: &str, body: Body) -> Result<()> {
        self.request_bytes(
            Method::POST,
            &format!("/volumes/{}/import", seg(name)),
            &Query::new(),
            body,
        )
        .await?;
        Ok(())
    }
}
