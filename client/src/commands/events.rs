//! `events`: the engine's event stream printed as podman prints it (its human line, json, or a
//! template over podman's Event fields).

use std::io::Write;

use bindings::api::events::EventsOptions;
use clap::Args;
use serde_json::{json, Map, Value};

use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Filter output based on conditions given.
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format the output using the given Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Stream new events; for testing only (--stream=false prints past events and exits).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub stream: bool,
    /// Show all events created since timestamp.
    #[arg(long)]
    pub since: Option<String>,
    /// Show all events created until timestamp.
    #[arg(long)]
    pub until: Option<String>,
    /// Do not truncate the output.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub no_trunc: bool,
}

/// Go's `time.Time.String()` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`.
fn go_time(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let c = crate::output::Civil::from_unix(secs);
    let base = c.rfc3339();
    // rfc3339() gives `YYYY-MM-DDTHH:MM:SSZ`.
    let base = base.trim_end_matches('Z').replacen('T', " ", 1);
    let f = if frac == 0 {
        String::new()
    } else {
        format!(".{frac:09}").trim_end_matches('0').to_string()
    };
    format!("{base}{f} +0000 UTC")
}

fn rfc3339_nano(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let base = crate::output::Civil::from_unix(secs).rfc3339();
    if frac == 0 {
        return base;
    }
    let f = format!(".{frac:09}");
    format!("{}{}Z", base.trim_end_matches('Z'), f.trim_end_matches('0'))
}

/// podman's Event, converted from the engine's Docker-style message as podman's remote
/// client converts it: image, name and exit code are lifted out of the attributes.
fn to_event(m: &Value) -> Map<String, Value> {
    let mut attrs = m
        .pointer("/Actor/Attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let take = |a: &mut Map<String, Value>, k: &str| -> String {
        a.remove(k)
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };
    let image = take(&mut attrs, "image");
    let name = take(&mut attrs, "name");
    let exit: i64 = take(&mut attrs, "containerExitCode").parse().unwrap_or(0);
    let nanos = m
        .get("timeNano")
        .and_then(Value::as_i64)
        .unwrap_or_else(|| m.get("time").and_then(Value::as_i64).unwrap_or(0) * 1_000_000_000);
    let typ = m.get("Type").and_then(Value::as_str).unwrap_or("");
    let mut e = Map::new();
    if exit != 0 {
        e.insert("ContainerExitCode".into(), json!(exit));
    }
    let id = m
        .pointer("/Actor/ID")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    e.insert("ID".into(), json!(id));
    if !image.is_empty() {
        e.insert("Image".into(), json!(image));
    }
    if !name.is_empty() {
        e.insert("Name".into(), json!(name));
    }
    let status = m
        .get("status")
        .or_else(|| m.get("Action"))
        .and_then(Value::as_str)
        .unwrap_or("");
    e.insert("Status".into(), json!(status));
    e.insert("Time".into(), json!(rfc3339_nano(nanos)));
    e.insert("Type".into(), json!(typ));
    if let Some(h) = m
        .get("HealthStatus")
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
    {
        e.insert("HealthStatus".into(), json!(h));
    }
    if !attrs.is_empty() {
        e.insert("Attributes".into(), Value::Object(attrs));
    }
    // Not serialized: the template view's Go time string.
    e.insert("__nanos".into(), json!(nanos));
    e
}

/// podman's human-readable event line.
fn human(e: &Map<String, Value>, no_trunc: bool) -> String {
    let g = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let time = go_time(e.get("__nanos").and_then(Value::as_i64).unwrap_or(0));
    let mut id = g("ID");
    if !no_trunc && id.len() > 12 {
        id.truncate(12);
    }
    let (typ, status) = (g("Type"), g("Status"));
    match typ.as_str() {
        "container" | "pod" => {
            let mut line = format!(
                "{time} {typ} {status} {id} (image={}, name={}",
                g("Image"),
                g("Name")
            );
            if let Some(h) = e.get("HealthStatus").and_then(Value::as_str) {
                line.push_str(&format!(", health_status={h}"));
            }
            if let Some(a) = e.get("Attributes").and_then(Value::as_object) {
                let mut kv: Vec<(&String, &Value)> = a.iter().collect();
                kv.sort_by(|x, y| x.0.cmp(y.0));
                for (k, v) in kv {
                    line.push_str(&format!(", {k}={}", v.as_str().unwrap_or("")));
                }
            }
            line.push(')');
            line
        }
        "network" => format!(
            "{time} {typ} {status} {id} (container={id}, name={})",
            g("Name")
        ),
        "image" => format!("{time} {typ} {status} {id} {}", g("Name")),
        "volume" => format!("{time} {typ} {status} {}", g("Name")),
        _ => format!("{time} {typ} {status}"),
    }
}

fn check_time(flag: &str, v: &Option<String>) -> Result<(), Failure> {
    let Some(t) = v else { return Ok(()) };
    let ok_duration = {
        let units = ["ns", "us", "µs", "ms", "s", "m", "h"];
        let mut rest = t.trim_start_matches('-');
        let mut any = false;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if digits == 0 {
                break;
            }
            let after = &rest[digits..];
            match units
                .iter()
                .filter(|u| after.starts_with(**u))
                .max_by_key(|u| u.len())
            {
                Some(u) => {
                    rest = &after[u.len()..];
                    any = true;
                }
                None => break,
            }
        }
        any && rest.is_empty()
    };
    let ok_time = super::containers::parse_rfc3339(t).is_some()
        || t.split_once('.')
            .map_or(t.as_str(), |(a, _)| a)
            .parse::<i64>()
            .is_ok()
        || (t.len() == 10 && t.as_bytes().get(4) == Some(&b'-'));
    if ok_duration || ok_time {
        Ok(())
    } else {
        Err(Failure::msg(format!(
            "invalid --{flag} value {t:?}: use a duration such as 10m or 30s, a unix \
             timestamp, or an RFC 3339 date/time"
        )))
    }
}

pub async fn events(g: &GlobalOpts, a: EventsArgs) -> Result<u8, Failure> {
    for f in &a.filter {
        if !f.contains('=') {
            return Err(Failure::msg(format!("invalid filter {f:?}")));
        }
    }
    check_time("since", &a.since)?;
    check_time("until", &a.until)?;
    let fmt = a.format.clone().unwrap_or_default();
    let json_out = format::is_json(&fmt);
    let template = if fmt.is_empty() || json_out {
        None
    } else {
        let t = format::normalize_format(&fmt);
        let t = if t.ends_with('\n') {
            t
        } else {
            format!("{t}\n")
        };
        Some(format::Template::parse(&t).map_err(|e| Failure::msg(e.to_string()))?)
    };
    let client = g.client().await?;
    let mut stream = client
        .events(&EventsOptions {
            filters: a.filter.clone(),
            since: a.since.clone(),
            until: a.until.clone(),
            stream: a.stream,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    while let Some(line) = stream.next_line().await? {
        emit(
            line.as_bytes(),
            json_out,
            template.as_ref(),
            a.no_trunc,
            &mut out,
        )?;
    }
    Ok(0)
}

fn emit(
    line: &[u8],
    json_out: bool,
    template: Option<&format::Template>,
    no_trunc: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if text.is_empty() {
        return Ok(());
    }
    let msg: Value = serde_json::from_str(text)
        .map_err(|e| Failure::msg(format!("decoding an event from the engine: {e}")))?;
    if let Some(err) = msg.get("error").and_then(Value::as_str) {
        return Err(Failure::msg(err.to_string()));
    }
    let mut e = to_event(&msg);
    if json_out {
        let nanos = e.remove("__nanos");
        writeln!(
            out,
            "{}",
            format::to_go_json(&Value::Object(e.clone()), true, None)
        )?;
        let _ = nanos;
    } else if let Some(t) = template {
        let nanos = e.remove("__nanos").and_then(|v| v.as_i64()).unwrap_or(0);
        // Templates see Go's time string and the empty fields podman's Event always has.
        e.insert("Time".into(), json!(go_time(nanos)));
        for k in ["Image", "Name", "Network", "HealthStatus"] {
            e.entry(k.to_string()).or_insert(json!(""));
        }
        e.entry("ContainerExitCode".to_string()).or_insert(json!(0));
        e.entry("Attributes".to_string()).or_insert(json!({}));
        let s = t
            .execute(&Value::Object(e))
            .map_err(|err| Failure::msg(err.to_string()))?;
        out.write_all(s.as_bytes())?;
    } else {
        writeln!(out, "{}", human(&e, no_trunc))?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_prints_like_podman() {
        let m: Value = serde_json::from_str(r#"{"status":"died","id":"abc","Type":"container","Action":"died","Actor":{"ID":"3c5abf071292a3c0","Attributes":{"containerExitCode":"3","image":"img","name":"ev2","podId":""}},"time":1795868018,"timeNano":1795868018890923312}"#).unwrap();
        let e = to_event(&m);
        assert_eq!(e["ContainerExitCode"], 3);
        assert_eq!(e["Time"], "2026-11-28T12:13:38.890923312Z");
        assert_eq!(
            human(&e, true),
            "2026-11-28 12:13:38.890923312 +0000 UTC container died 3c5abf071292a3c0 (image=img, name=ev2, podId=)"
        );
        assert_eq!(
            go_time(1_795_868_005_311_599_980),
            "2026-11-28 12:13:25.31159998 +0000 UTC"
        );
    }

    #[test]
    fn time_flags() {
        assert!(check_time("since", &Some("30s".into())).is_ok());
        assert!(check_time("since", &Some("1h30m".into())).is_ok());
        assert!(check_time("since", &Some("1700000000".into())).is_ok());
        assert!(check_time("since", &Some("2024-01-01T00:00:00Z".into())).is_ok());
        assert!(check_time("since", &Some("10x".into())).is_err());
    }
}
