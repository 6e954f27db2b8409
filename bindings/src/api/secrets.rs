//! Secrets: `/libpod/secrets/...`. The secret's value only ever travels as a request body and
//! is never formatted into a log line or an error by this module.

use hyper::Method;
use serde::Deserialize;
use serde_json::Value;

use super::filters_json;
use crate::error::Result;
use crate::http::{empty, seg, ApiClient, Body, Query};

#[derive(Debug, Default, Clone)]
pub struct SecretCreate {
    pub name: String,
    pub driver: Option<String>,
    pub driver_opts: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub replace: bool,
}

impl ApiClient {
    /// Returns the new secret's ID.
    pub async fn secret_create(&self, o: &SecretCreate, data: Body) -> Result<String> {
        let mut q = Query::new()
            .add("name", &o.name)
            .opt("driver", o.driver.as_deref());
        // The engine reads both maps as JSON objects.
        if !o.driver_opts.is_empty() {
            let m: serde_json::Map<String, Value> = o
                .driver_opts
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            q = q.add("driveropts", Value::Object(m));
        }
        if !o.labels.is_empty() {
            let m: serde_json::Map<String, Value> = o
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            q = q.add("labels", Value::Object(m));
        }
        let q = q.flag("replace", o.replace);
        let (_, bytes) = self
            .request_bytes(Method::POST, "/secrets/create", &q, data)
            .await?;
        #[derive(Deserialize)]
        struct Id {
            #[serde(rename = "ID", alias = "Id", default)]
            id: String,
        }
        let id: Id = crate::http::decode("secret create", &bytes)?;
        Ok(id.id)
    }

    pub async fn secrets(&self, filters: &[String]) -> Result<Vec<Value>> {
        let q = Query::new().opt("filters", filters_json(filters));
        let v: Option<Vec<Value>> = self.get_json("/secrets/json", &q).await?;
        Ok(v.unwrap_or_default())
    }

    pub async fn secret_inspect(&self, name: &str, show_secret: bool) -> Result<Value> {
        let q = Query::new().flag("showsecret", show_secret);
        self.get_json(&format!("/secrets/{}/json", seg(name)), &q)
            .await
    }

    pub async fn secret_remove(&self, name: &str) -> Result<()> {
        self.request_bytes(
            Method::DELETE,
            &format!("/secrets/{}", seg(name)),
            &Query::new(),
            empty(),
        )
        .await?;
        Ok(())
    }

    /// Engines before 4.5 have no `/secrets/{name}/exists`; an inspect answers the same
    /// question on every version.
    pub async fn secret_exists(&self, name: &str) -> Result<bool> {
        match self.secret_inspect(name, false).await {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
