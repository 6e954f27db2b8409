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

/// A UTC calendar time, for printing timestamps the way Go's time package does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

impl Civil {
    /// From seconds since the epoch (proleptic Gregorian; Howard Hinnant's algorithm).
    pub fn from_unix(unix: i64) -> Civil {
        let days = unix.div_euclid(86400);
        let secs = unix.rem_euclid(86400);
        let z = days + 719468;
        let era = if z >= 0 { z } else { z - 146096 } / 146097;
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        Civil {
            year,
            month: month as u32,
            day: day as u32,
            hour: (secs / 3600) as u32,
            minute: (secs % 3600 / 60) as u32,
            second: (secs % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// Go's `time.RFC3339` in UTC: `2006-01-02T15:04:05Z`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Go's `time.ANSIC`: `Mon Jan _2 15:04:05 2006`.
    pub fn ansic(&self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {} {:>2} {:02}:{:02}:{:02} {}",
            DAYS[self.weekday as usize % 7],
            MONTHS[(self.month as usize + 11) % 12],
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.year
        )
    }
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
    human_size_precision(size, 3)
}

/// go-units `HumanSize`: four significant digits ("2.141MB").
pub fn human_size4(size: f64) -> String {
    human_size_precision(size, 4)
}

fn human_size_precision(size: f64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut s = size;
    let mut i = 0;
    while s >= 1000.0 && i < UNITS.len() - 1 {
        s /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(s, precision), UNITS[i])
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
    fn civil_times_like_go() {
        assert_eq!(Civil::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Civil::from_unix(0).ansic(), "Thu Jan  1 00:00:00 1970");
        let t = Civil::from_unix(1795863600);
        assert_eq!(t.rfc3339(), "2026-11-28T11:00:00Z");
        assert_eq!(t.ansic(), "Sat Nov 28 11:00:00 2026");
        assert_eq!(
            Civil::from_unix(951782400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(Civil::from_unix(-1).rfc3339(), "1969-12-31T23:59:59Z");
    }

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
