//! Networks: `/libpod/networks/...` (netavark/CNI network documents, snake_case keys).

use hyper::Method;
use serde_json::{json, Value};

use super::filters_json;
use crate::error::Result;
use crate::http::{seg, ApiClient, Query};

impl ApiClient {
    /// Create from a full network document; returns the engine's view of the new network.
    pub async fn network_create(&self, network: &Value) -> Result<Value> {
        self.post_json("/networks/create", &Query::new(), Some(network))
            .await
    }

    pub async fn networks(&self, filters: &[String]) -> Result<Vec<Value>> {
        let q = Query::new().opt("filters", filters_json(filters));
        let v: Option<Vec<Value>> = self.get_json("/networks/json", &q).await?;
        Ok(v.unwrap_or_default())
    }

    pub async fn network_exists(&self, name: &str) -> Result<bool> {
        self.exists(&format!("/networks/{}/exists", seg(name)))
            .await
    }

    /// `[{"Name","Err"}]`; a missing or busy network is an `Error::Api` (404 / 500).
    pub async fn network_remove(
        &self,
        name: &str,
        force: bool,
        timeout: Option<u64>,
    ) -> Result<Vec<Value>> {
        let q = Query::new().flag("force", force).opt("timeout", timeout);
        let (_, bytes) = self
            .request_bytes(
                Method::DELETE,
                &format!("/networks/{}", seg(name)),
                &q,
                crate::http::empty(),
            )
            .await?;
        let v: Option<Vec<Value>> = crate::http::decode("network remove", &bytes)?;
        Ok(v.unwrap_or_default())
    }

    /// `[{"Name","Error"}]`.
    pub async fn network_prune(&self, filters: &[String]) -> Result<Vec<Value>> {
        let q = Query::new().opt("filters", filters_json(filters));
        let v: Option<Vec<Value>> = self.post_json("/networks/prune", &q, None).await?;
        Ok(v.unwrap_or_default())
    }

    pub async fn network_connect(
        &self,
        network: &str,
        container: &str,
        aliases: &[String],
        static_ips: &[String],
        mac: Option<&str>,
    ) -> Result<()> {
        // libpod embeds the per-network options in the body next to `container`.
        let mut body = json!({ "container": container });
        if !aliases.is_empty() {
            body["aliases"] = json!(aliases);
        }
        if !static_ips.is_empty() {
            body["static_ips"] = json!(static_ips);
        }
        if let Some(m) = mac {
            body["static_mac"] = json!(m);
        }
        self.request_bytes(
            Method::POST,
            &format!("/networks/{}/connect", seg(network)),
            &Query::new(),
            crate::http::json_body(&body),
        )
        .await?;
        Ok(())
    }

    pub async fn network_disconnect(
        &self,
        network: &str,
        container: &str,
        force: bool,
    ) -> Result<()> {
        let body = json!({"Container": container, "Force": force});
        self.request_bytes(
            Method::POST,
            &format!("/networks/{}/disconnect", seg(network)),
            &Query::new(),
            crate::http::json_body(&body),
        )
        .await?;
        Ok(())
    }
}
