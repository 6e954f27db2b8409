//! `logs`: a container's log through libpod's framed logs endpoint, stdout lines to our
//! stdout and stderr lines to our stderr, byte for byte as the engine sends them.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use bindings::api::logs::LogsOptions;
use bindings::stream::StreamId;
use clap::Args;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow log output.
    #[arg(short, long)]
    pub follow: bool,
    /// Show logs since TIMESTAMP (RFC 3339, unix seconds or a duration such as 10m).
    #[arg(long, value_name = "TIMESTAMP")]
    pub since: Option<String>,
    /// Show logs until TIMESTAMP.
    #[arg(long, value_name = "TIMESTAMP")]
    pub until: Option<String>,
    /// Output the specified number of LINES at the end of the logs (-1: all).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true, value_name = "LINES")]
    pub tail: i64,
    /// Output the timestamps in the log.
    #[arg(short, long)]
    pub timestamps: bool,
    /// Output the container name in the log (no effect remotely: one container only).
    #[arg(short, long)]
    pub names: bool,
    /// Output the containers with different colors in the log (no effect remotely).
    #[arg(long)]
    pub color: bool,
    /// Show extra details provided to the logs.
    #[arg(long, hide = true)]
    pub details: bool,
    /// The container. Like podman, flags after the first container are not parsed.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CONTAINER"
    )]
    pub containers: Vec<String>,
}

/// What podman's remote client sends for an unset `--since`/`--until`: Go's zero time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub async fn logs(g: &GlobalOpts, a: LogsArgs) -> Result<u8, Failure> {
    if a.containers.len() > 1 {
        return Err(Failure::msg(
            "logs does not support multiple containers when run remotely",
        ));
    }
    let Some(name) = a.containers.first() else {
        return Err(Failure::msg(
            "specify at least one container name or ID to log",
        ));
    };
    let since = match &a.since {
        Some(raw) => rfc3339_seconds(
            parse_input_time(raw, true, now())
                .map_err(|e| Failure::msg(format!("parsing --since {raw:?}: {e}")))?,
        ),
        None => ZERO_TIME.to_string(),
    };
    let until = match &a.until {
        Some(raw) => rfc3339_seconds(
            parse_input_time(raw, false, now())
                .map_err(|e| Failure::msg(format!("parsing --until {raw:?}: {e}")))?,
        ),
        None => ZERO_TIME.to_string(),
    };
    let client = g.client().await?;
    let opts = LogsOptions {
        follow: a.follow,
        since: Some(since),
        until: Some(until),
        tail: Some(a.tail.to_string()),
        timestamps: a.timestamps,
        stdout: true,
        stderr: true,
    };
    let mut frames = client.container_logs(name, &opts).await?;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    while let Some((id, payload)) = frames.next().await? {
        let written = match id {
            StreamId::Stdin | StreamId::Stdout => {
                let mut o = stdout.lock();
                o.write_all(&payload).and_then(|_| o.flush())
            }
            StreamId::Stderr => {
                let mut e = stderr.lock();
                e.write_all(&payload).and_then(|_| e.flush())
            }
            StreamId::ServerError => {
                return Err(Failure::msg(format!(
                    "from service in stream: {}",
                    String::from_utf8_lossy(&payload)
                )))
            }
        };
        if let Err(e) = written {
            // A reader that went away (`logs | head`) ends the command quietly, as podman
            // does when its output pipe closes.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(0);
            }
            return Err(Failure::msg(format!("writing the log: {e}")));
        }
    }
    Ok(0)
}

/// An instant as seconds and nanoseconds since the unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    pub secs: i64,
    pub nanos: u32,
}

fn now() -> Instant {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Instant {
            secs: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
        },
        Err(_) => Instant { secs: 0, nanos: 0 },
    }
}

/// podman's `ParseInputTime`: an RFC 3339 time (zone optional, date alone allowed), a unix
/// timestamp with optional fraction, or a Go duration counted back from now for `since`
/// and forward for `until`.
pub fn parse_input_time(input: &str, since: bool, now: Instant) -> Result<Instant, String> {
    if let Some(t) = parse_rfc3339_like(input) {
        return Ok(t);
    }
    if let Some(t) = parse_unix(input) {
        return Ok(t);
    }
    let d = parse_go_duration(input).ok_or_else(|| "unable to interpret time value".to_string())?;
    let now_ns = now.secs as i128 * 1_000_000_000 + now.nanos as i128;
    let t = if since {
        now_ns - d as i128
    } else {
        now_ns + d as i128
    };
    Ok(Instant {
        secs: t.div_euclid(1_000_000_000) as i64,
        nanos: t.rem_euclid(1_000_000_000) as u32,
    })
}

fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    if s.len() < n || !s.as_bytes()[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The layouts podman tries: `2006-01-02T15:04:05[.frac][Z07:00]`, `2006-01-02[Z07:00]`.
/// Without a zone the time is UTC, as Go's `time.Parse` reads it.
fn parse_rfc3339_like(s: &str) -> Option<Instant> {
    let (y, r) = digits(s, 4)?;
    let r = r.strip_prefix('-')?;
    let (mo, r) = digits(r, 2)?;
    let r = r.strip_prefix('-')?;
    let (d, r) = digits(r, 2)?;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let (mut secs, mut nanos, zone) = (days_from_civil(y, mo, d) * 86400, 0u32, r);
    let zone = match zone.strip_prefix('T') {
        Some(clock) => {
            let (hh, r) = digits(clock, 2)?;
            let r = r.strip_prefix(':')?;
            let (mm, r) = digits(r, 2)?;
            let r = r.strip_prefix(':')?;
            let (ss, mut r) = digits(r, 2)?;
            if hh > 23 || mm > 59 || ss > 59 {
                return None;
            }
            secs += hh * 3600 + mm * 60 + ss;
            if let Some(frac) = r.strip_prefix(['.', ',']) {
                let n = frac.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                let mut ns: u64 = 0;
                for (i, b) in frac.bytes().take(n).enumerate() {
                    if i < 9 {
                        ns = ns * 10 + (b - b'0') as u64;
                    }
                }
                for _ in n..9 {
                    ns *= 10;
                }
                nanos = ns as u32;
                r = &frac[n..];
            }
            r
        }
        None => zone,
    };
    let offset = match zone {
        "" | "Z" => 0,
        z => {
            let sign = match z.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, r) = digits(&z[1..], 2)?;
            let r = r.strip_prefix(':')?;
            let (om, r) = digits(r, 2)?;
            if !r.is_empty() || oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(Instant {
        secs: secs - offset,
        nanos,
    })
}

/// A unix timestamp with an optional fraction ("1700000000", "1700000000.25").
fn parse_unix(s: &str) -> Option<Instant> {
    let f: f64 = s.parse().ok()?;
    if !f.is_finite() || s.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    let whole = f.trunc();
    let frac = ((f - whole) * 1e9) as i64;
    let total = whole as i128 * 1_000_000_000 + frac as i128;
    Some(Instant {
        secs: total.div_euclid(1_000_000_000) as i64,
        nanos: total.rem_euclid(1_000_000_000) as u32,
    })
}

/// Go's `time.ParseDuration`, in nanoseconds: "300ms", "-1.5h", "2h45m".
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut r) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if r == "0" {
        return Some(0);
    }
    if r.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !r.is_empty() {
        let int_len = r.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, rest) = r.split_at(int_len);
        let (frac_part, rest) = match rest.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                (Some(&f[..n]), &f[n..])
            }
            None => (None, rest),
        };
        if int_part.is_empty() && frac_part.is_none_or(str::is_empty) {
            return None;
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let (unit, rest) = rest.split_at(unit_len);
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        let number: f64 = format!(
            "{}.{}",
            if int_part.is_empty() { "0" } else { int_part },
            frac_part.unwrap_or("0")
        )
        .parse()
        .ok()?;
        total += number * scale;
        r = rest;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let ns = total.round() as i64;
    Some(if neg { -ns } else { ns })
}

/// RFC 3339 at whole seconds in UTC: what podman's client sends (Go's `Format(time.RFC3339)`
/// drops the fraction; the zone it prints does not change the instant).
pub fn rfc3339_seconds(t: Instant) -> String {
    let days = t.secs.div_euclid(86400);
    let rem = t.secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Instant = Instant {
        secs: 1_795_863_600,
        nanos: 500_000_000,
    };

    fn at(s: &str, since: bool) -> String {
        rfc3339_seconds(parse_input_time(s, since, NOW).unwrap())
    }

    #[test]
    fn absolute_times() {
        assert_eq!(at("2026-11-28T11:00:00Z", true), "2026-11-28T11:00:00Z");
        assert_eq!(
            at("2026-11-28T12:00:00+01:00", true),
            "2026-11-28T11:00:00Z"
        );
        assert_eq!(
            at("2026-11-28T11:00:00.999999999Z", true),
            "2026-11-28T11:00:00Z"
        );
        assert_eq!(at("2026-11-28T11:00:00", true), "2026-11-28T11:00:00Z");
        assert_eq!(at("2026-11-28", true), "2026-11-28T00:00:00Z");
        assert_eq!(at("2026-11-28-02:00", true), "2026-11-28T02:00:00Z");
        assert_eq!(at("0", true), "1970-01-01T00:00:00Z");
        assert_eq!(at("1795863600", true), "2026-11-28T11:00:00Z");
        assert_eq!(at("1795863600.75", true), "2026-11-28T11:00:00Z");
    }

    #[test]
    fn durations_count_from_now() {
        assert_eq!(at("10m", true), "2026-11-28T10:50:00Z");
        assert_eq!(at("10m", false), "2026-11-28T11:10:00Z");
        assert_eq!(at("1h30m", true), "2026-11-28T09:30:00Z");
        assert_eq!(at("1.5s", true), "2026-11-28T10:59:59Z");
        assert_eq!(parse_go_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_go_duration("-2us"), Some(-2_000));
        assert_eq!(parse_go_duration(".5h"), Some(1_800_000_000_000));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("m"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("3d"), None);
    }

    #[test]
    fn garbage_is_refused_with_podmans_words() {
        for bad in [
            "xyz",
            "2026-13-01",
            "2026-02-30",
            "2026-11-28T25:00:00Z",
            "inf",
            "",
        ] {
            assert_eq!(
                parse_input_time(bad, true, NOW),
                Err("unable to interpret time value".to_string()),
                "{bad}"
            );
        }
    }
}
