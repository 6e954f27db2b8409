//! `/info`, `/version`, `/system/df`, `/system/prune`.

use serde_json::Value;

use crate::error::Result;
use crate::http::{ApiClient, Query};

impl ApiClient {
    pub async fn info(&self) -> Result<Value> {
        self.get_json("/info", &Query::new()).await
    }

    pub async fn version(&self) -> Result<Value> {
        self.get_json("/version", &Query::new()).await
    }

    /// Disk usage: `{"ImagesSize", "Images", "Containers", "Volumes"}`.
    pub async fn system_df(&self) -> Result<Value> {
        self.get_json("/system/df", &Query::new()).await
    }

    /// Remove unused containers, pods, images, networks (and volumes with `volumes`).
    pub async fn system_prune(
        &self,
        all: bool,
        volumes: bool,
        filters: &[String],
    ) -> Result<Value> {
        let q = Query::new()
            .flag("all", all)
            .flag("volumes", volumes)
            .opt("filters", super::filters_json(filters));
        self.post_json("/system/prune", &q, None).await
    }
}
