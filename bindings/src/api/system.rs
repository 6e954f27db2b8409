//! `/info`, `/version`.

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
}
