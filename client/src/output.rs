//! Output helpers that reproduce what podman's Go code prints: `json.MarshalIndent`, go-units'
//! human durations and sizes, and the YAML of `podman info`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Go's `json.MarshalIndent(v, "", indent)`: like serde's pretty printer, plus the HTML-safe
/// escaping Go applies to `<`, `>` and `&` (these only occur inside strings in JSON text).
pub fn go_json_indent(v: &Value, indent: &str) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    if v.serialize(&mut ser).is_err() {
        return "null".into();
    }
    go_escape(&String::from_utf8_lossy(&out))
}

pub fn go_escape(s: &str) -> String {
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// go-units `HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    let seconds = secs.max(0);
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = seconds / 60;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = ((seconds as f64) / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", seconds / 3600 / 24 / 365)
}

/// "N units ago" relative to now, from a unix timestamp.
pub fn ago(unix: i64) -> String {
    format!("{} ago", human_duration(now_unix() - unix))
}

/// Go's `%.*g` for the small precisions go-units uses.
fn go_g(v: f64, precision: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let exp = v.abs().log10().floor() as i32;
    if exp < -4 || exp >= precision as i32 {
        let s = format!("{:.*e}", precision.saturating_sub(1), v);
        // Rust prints `1.5e3`; Go prints `1.5e+03` and trims zeros of the mantissa.
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = trim_zeros(m);
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (precision as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// go-units `HumanSizeWithPrecision(size, 3)` (decimal units: kB, MB, GB...).
pub fn human_size(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut s = size;
    let mut i = 0;
    while s >= 1000.0 && i < UNITS.len() - 1 {
        s /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(s, 3), UNITS[i])
}

/// podman's image size column: `human_size` with a space before the unit ("5.83 MB").
pub fn human_size_spaced(size: f64) -> String {
    let s = human_size(size);
    match s.rfind(|c: char| c.is_ascii_digit()) {
        Some(j) => format!("{} {}", &s[..=j], &s[j + 1..]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_like_go_units() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(119), "About a minute");
        assert_eq!(human_duration(120), "2 minutes");
        assert_eq!(human_duration(3599), "59 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(3 * 3600), "3 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(human_duration(20 * 86400), "2 weeks");
        assert_eq!(human_duration(90 * 86400), "3 months");
    }

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(1_234_567.0), "1.23MB");
        assert_eq!(human_size(5_830_000.0), "5.83MB");
        assert_eq!(human_size(12_345_678.0), "12.3MB");
        assert_eq!(human_size_spaced(1_234_567.0), "1.23 MB");
    }

    #[test]
    fn json_escaping_like_go() {
        let v = json!({"a": "<x&y>", "b": []});
        assert_eq!(
            go_json_indent(&v, "  "),
            "{\n  \"a\": \"\\u003cx\\u0026y\\u003e\",\n  \"b\": []\n}"
        );
    }
}
