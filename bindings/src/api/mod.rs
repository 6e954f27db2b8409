//! Typed libpod calls, one file per resource. Responses the CLI prints verbatim stay
//! `serde_json::Value` (key order preserved) so our JSON output is the engine's own.

pub mod archive;
pub mod build;
pub mod containers;
pub mod events;
pub mod exec;
pub mod images;
pub mod kube;
pub mod lifecycle;
pub mod logs;
pub mod networks;
pub mod pods;
pub mod registry;
pub mod secrets;
pub mod system;
pub mod transfer;
pub mod volumes;

use std::collections::BTreeMap;

/// libpod's `filters` parameter: a JSON map of name to list of values.
pub fn filters_json(filters: &[String]) -> Option<String> {
    if filters.is_empty() {
        return None;
    }
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in filters {
        let (k, v) = match f.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (f.to_string(), String::new()),
        };
        map.entry(k).or_default().push(v);
    }
    serde_json::to_string(&map).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn filters() {
        assert_eq!(super::filters_json(&[]), None);
        let f = super::filters_json(&["name=a".into(), "status=exited".into(), "name=b".into()]);
        assert_eq!(f.unwrap(), r#"{"name":["a","b"],"status":["exited"]}"#);
    }
}
