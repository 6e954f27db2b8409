//! kube play/down (the YAML is the request body), generate kube and generate systemd.

use hyper::Method;
use serde_json::Value;

use crate::error::Result;
use crate::http::{decode, empty, full, ApiClient, Query};

#[derive(Debug, Default, Clone)]
pub struct PlayOptions {
    pub network: Vec<String>,
    pub start: Option<bool>,
}

impl ApiClient {
    pub async fn kube_play(&self, yaml: Vec<u8>, o: &PlayOptions) -> Result<Value> {
        let mut q = Query::new().add("nohosts", false).add("quiet", false);
        for n in &o.network {
            q = q.add("network", n);
        }
        q = q.opt("start", o.start);
        let (_, bytes) = self
            .request_bytes(Method::POST, "/play/kube", &q, full(yaml))
            .await?;
        decode("kube play", &bytes)
    }

    pub async fn kube_down(&self, yaml: Vec<u8>) -> Result<Value> {
        let (_, bytes) = self
            .request_bytes(Method::DELETE, "/play/kube", &Query::new(), full(yaml))
            .await?;
        decode("kube down", &bytes)
    }

    /// The Kubernetes YAML of containers, pods or volumes.
    pub async fn generate_kube(&self, names: &[String], service: bool) -> Result<Vec<u8>> {
        let mut q = Query::new();
        for n in names {
            q = q.add("names", n);
        }
        q = q.add("service", service);
        let (_, bytes) = self
            .request_bytes(Method::GET, "/generate/kube", &q, empty())
            .await?;
        Ok(bytes.to_vec())
    }

    /// systemd units by unit name.
    pub async fn generate_systemd(&self, name: &str, q: &Query) -> Result<Value> {
        self.get_json(&format!("/generate/{}/systemd", crate::http::seg(name)), q)
            .await
    }
}
