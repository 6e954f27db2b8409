//! `stats`: container resource usage from libpod's multi-container stats stream, printed as
//! podman prints it (its table, JSON shape, template fields and number formatting).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use bindings::http::ApiClient;
use clap::Args;
use serde_json::{json, Map, Value};

use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::go_json_indent;

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Show all containers. Only running containers are shown by default.
    #[arg(short, long)]
    pub all: bool,
    /// Pretty-print container statistics to JSON or using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Disable resetting the screen between intervals.
    #[arg(long)]
    pub no_reset: bool,
    /// Disable streaming stats and only pull the first result.
    #[arg(long)]
    pub no_stream: bool,
    /// Time in seconds between stats reports.
    #[arg(short, long, default_value_t = 5, allow_negative_numbers = true)]
    pub interval: i64,
    /// Containers (all containers when none is given).
    pub containers: Vec<String>,
}

const DEFAULT_ROW: &str = "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDS}}\t{{.UpTime}}\t{{.AVGCPU}}";

pub async fn stats(g: &GlobalOpts, a: StatsArgs) -> Result<u8, Failure> {
    if a.all && !a.containers.is_empty() {
        return Err(Failure::msg(
            "--all, --latest and containers cannot be used together",
        ));
    }
    let client = g.client().await?;
    // podman's remote client does not send --all: without names the engine reports every
    // container, running or not.
    let mut stream = client
        .container_stats(&a.containers, !a.no_stream, a.interval)
        .await?;
    let reset = !a.no_reset && std::io::stdout().is_terminal();
    while let Some(report) = stream.next().await? {
        if report.get("Error").is_some_and(|e| !e.is_null()) {
            return Err(stats_failure(&client, &a.containers, &report).await);
        }
        let stats: Vec<Value> = report
            .get("Stats")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        if reset {
            // goterm's Clear + MoveCursor(1,1), which podman only emits on a terminal.
            out.extend_from_slice(b"\x1b[2J\x1b[1;1H");
        }
        render(&a, &stats, &mut out)?;
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout.write_all(&out).and_then(|_| stdout.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(0);
            }
            return Err(Failure::msg(format!("writing the statistics: {e}")));
        }
        if a.no_stream {
            break;
        }
    }
    Ok(0)
}

/// The engine reports a failed lookup as an empty error object (Go cannot serialize the
/// error), so find out which named container is missing to say something useful.
async fn stats_failure(client: &ApiClient, containers: &[String], report: &Value) -> Failure {
    for c in containers {
        if let Ok(false) = client.container_exists(c).await {
            return Failure::msg(format!(
                "no container with name or ID {c:?} found: no such container"
            ));
        }
    }
    let detail = match report.get("Error") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if v.as_object().is_some_and(|m| !m.is_empty()) => v.to_string(),
        _ => "the engine did not say why".to_string(),
    };
    Failure::msg(format!("cannot get container statistics: {detail}"))
}

fn render(a: &StatsArgs, stats: &[Value], out: &mut Vec<u8>) -> Result<(), Failure> {
    if a.format.as_deref().is_some_and(format::is_json) {
        let rows: Vec<Value> = stats.iter().map(|s| json_row(s, a.no_trunc)).collect();
        writeln!(out, "{}", go_json_indent(&Value::Array(rows), " "))?;
        return Ok(());
    }
    let rows: Vec<Value> = stats.iter().map(|s| template_row(s, a.no_trunc)).collect();
    let (template, user) = match &a.format {
        Some(f) => (f.as_str(), true),
        None => (DEFAULT_ROW, false),
    };
    format::print_rows(template, &rows, &headers(), user, false, out)
        .map_err(|e| Failure::msg(e.to_string()))
}

fn headers() -> HashMap<String, String> {
    [
        ("ID", "ID"),
        ("UpTime", "CPU TIME"),
        ("CPUPerc", "CPU %"),
        ("AVGCPU", "Avg CPU %"),
        ("MemUsage", "MEM USAGE / LIMIT"),
        ("MemUsageBytes", "MEM USAGE / LIMIT"),
        ("MemPerc", "MEM %"),
        ("NetIO", "NET IO"),
        ("BlockIO", "BLOCK IO"),
        ("PIDS", "PIDS"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn f(s: &Value, k: &str) -> f64 {
    s.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn u(s: &Value, k: &str) -> u64 {
    s.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn id(s: &Value, no_trunc: bool) -> String {
    let full = s.get("ContainerID").and_then(Value::as_str).unwrap_or("");
    if no_trunc {
        full.to_string()
    } else {
        full.chars().take(12).collect()
    }
}

/// The computed columns podman's stats report offers, by their template names.
struct Computed {
    id: String,
    cpu_perc: String,
    avg_cpu: String,
    up: String,
    mem_perc: String,
    mem_usage: String,
    mem_usage_bytes: String,
    net_io: String,
    block_io: String,
    pids: String,
}

fn computed(s: &Value, no_trunc: bool) -> Computed {
    Computed {
        id: id(s, no_trunc),
        cpu_perc: percent(f(s, "CPU")),
        avg_cpu: percent(f(s, "AvgCPU")),
        up: go_duration(s.get("UpTime").and_then(Value::as_i64).unwrap_or(0)),
        mem_perc: percent(f(s, "MemPerc")),
        mem_usage: pair(u(s, "MemUsage"), u(s, "MemLimit"), human_size),
        mem_usage_bytes: pair(u(s, "MemUsage"), u(s, "MemLimit"), bytes_size),
        net_io: pair(u(s, "NetInput"), u(s, "NetOutput"), human_size),
        block_io: pair(u(s, "BlockInput"), u(s, "BlockOutput"), human_size),
        pids: u(s, "PIDs").to_string(),
    }
}

/// podman's `--format json` document for one container.
fn json_row(s: &Value, no_trunc: bool) -> Value {
    let c = computed(s, no_trunc);
    json!({
        "id": c.id,
        "name": s.get("Name").and_then(Value::as_str).unwrap_or(""),
        "cpu_time": c.up,
        "cpu_percent": c.cpu_perc,
        "avg_cpu": c.avg_cpu,
        "mem_usage": c.mem_usage,
        "mem_percent": c.mem_perc,
        "net_io": c.net_io,
        "block_io": c.block_io,
        "pids": c.pids,
    })
}

/// The engine's fields plus podman's computed ones; where a computed column shares a field's
/// name (MemUsage, MemPerc) podman's method wins, and UpTime prints as a Go duration.
fn template_row(s: &Value, no_trunc: bool) -> Value {
    let c = computed(s, no_trunc);
    let mut m: Map<String, Value> = s.as_object().cloned().unwrap_or_default();
    m.insert("UpTime".into(), json!(c.up));
    m.insert("ID".into(), json!(c.id));
    m.insert("CPUPerc".into(), json!(c.cpu_perc));
    m.insert("AVGCPU".into(), json!(c.avg_cpu));
    m.insert("Up".into(), json!(c.up));
    m.insert("MemPerc".into(), json!(c.mem_perc));
    m.insert("NetIO".into(), json!(c.net_io));
    m.insert("BlockIO".into(), json!(c.block_io));
    m.insert("PIDS".into(), json!(c.pids));
    m.insert("MemUsage".into(), json!(c.mem_usage));
    m.insert("MemUsageBytes".into(), json!(c.mem_usage_bytes));
    Value::Object(m)
}

fn pair(a: u64, b: u64, f: fn(f64) -> String) -> String {
    format!("{} / {}", f(a as f64), f(b as f64))
}

/// podman's percentages: the mantissa of Go's shortest `%g` form (an exponent is dropped, so
/// 5e-05 shows as 5.00%), then two decimals.
fn percent(x: f64) -> String {
    let shortest = go_shortest_g(x);
    let mantissa = match shortest.find(['e', 'E']) {
        Some(i) if i > 0 => &shortest[..i],
        _ => shortest.as_str(),
    };
    match mantissa.parse::<f64>() {
        Ok(v) => format!("{v:.2}%"),
        Err(_) => "--".to_string(),
    }
}

/// Go's `strconv.FormatFloat(x, 'g', -1, 64)`: shortest round-trip digits, exponent form when
/// the exponent is below -4 or at least 21.
fn go_shortest_g(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits as d.ddddde<exp>.
    let e = format!("{x:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..21).contains(&exp) {
        return format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    format!("{x}")
}

/// Go's `fmt.Sprintf("%.*g", prec, v)` for non-negative finite values.
fn go_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let prec = prec.max(1);
    let e = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= prec as i32 {
        return format!(
            "{}e{}{:02}",
            trim(mant),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    trim(&format!("{v:.decimals$}"))
}

fn scaled(size: f64, base: f64, units: &[&str]) -> String {
    let mut s = size;
    let mut i = 0;
    while s >= base && i < units.len() - 1 {
        s /= base;
        i += 1;
    }
    format!("{}{}", go_g(s, 4), units[i])
}

/// go-units `HumanSize` (decimal units, 4 significant digits).
fn human_size(size: f64) -> String {
    scaled(
        size,
        1000.0,
        &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"],
    )
}

/// go-units `BytesSize` (binary units, 4 significant digits).
fn bytes_size(size: f64) -> String {
    scaled(
        size,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"],
    )
}

/// Go's `time.Duration.String()` of a nanosecond count: "0s", "150.587013ms", "1m0.5s".
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let frac = |v: u64, digits: u32| -> String {
        let p = 10u64.pow(digits);
        let (whole, rest) = (v / p, v % p);
        if rest == 0 {
            return whole.to_string();
        }
        let f = format!("{rest:0width$}", width = digits as usize);
        format!("{whole}.{}", f.trim_end_matches('0'))
    };
    let body = if u < 1_000 {
        format!("{u}ns")
    } else if u < 1_000_000 {
        format!("{}µs", frac(u, 3))
    } else if u < 1_000_000_000 {
        format!("{}ms", frac(u, 6))
    } else {
        let secs = u / 1_000_000_000;
        let sub = u % 1_000_000_000;
        let s_part = frac((secs % 60) * 1_000_000_000 + sub, 9);
        let mins = secs / 60;
        if mins == 0 {
            format!("{s_part}s")
        } else if mins < 60 {
            format!("{mins}m{s_part}s")
        } else {
            format!("{}h{}m{s_part}s", mins / 60, mins % 60)
        }
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size(274432.0), "274.4kB");
        assert_eq!(human_size(25276510208.0), "25.28GB");
        assert_eq!(human_size(796.0), "796B");
        assert_eq!(human_size(7294.0), "7.294kB");
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999_950.0), "1000kB");
        assert_eq!(bytes_size(274432.0), "268KiB");
        assert_eq!(bytes_size(25276510208.0), "23.54GiB");
    }

    #[test]
    fn percentages_drop_the_exponent_like_podman() {
        assert_eq!(percent(0.22616560138755665), "0.23%");
        assert_eq!(percent(0.0010857194990198547), "0.00%");
        assert_eq!(percent(0.0), "0.00%");
        assert_eq!(percent(5e-05), "5.00%");
        assert_eq!(percent(100.0), "100.00%");
        assert_eq!(go_shortest_g(1e21), "1e+21");
        assert_eq!(go_shortest_g(123456.0), "123456");
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(150_587_013), "150.587013ms");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(2_000_000_000), "2s");
        assert_eq!(go_duration(60_500_000_000), "1m0.5s");
        assert_eq!(go_duration(3_723_000_000_000), "1h2m3s");
        assert_eq!(go_duration(-1_000_000), "-1ms");
    }

    #[test]
    fn rows_carry_podmans_fields() {
        let s = json!({"AvgCPU":0.22616560138755665,"ContainerID":"c1c0f5f2210738f8ff820839f1a71ee1aeef3c17f0c01e6bebb4632dd078a1ad","Name":"cpc","PerCPU":[1,2],"CPU":0.22616560138755665,"CPUNano":150587013,"CPUSystemNano":32000000,"SystemNano":1,"MemUsage":274432,"MemLimit":25276510208u64,"MemPerc":0.0010857194990198547,"NetInput":796,"NetOutput":7294,"BlockInput":0,"BlockOutput":0,"PIDs":1,"UpTime":150587013,"Duration":150587013});
        let j = json_row(&s, false);
        assert_eq!(
            j,
            json!({"id":"c1c0f5f22107","name":"cpc","cpu_time":"150.587013ms","cpu_percent":"0.23%",
                   "avg_cpu":"0.23%","mem_usage":"274.4kB / 25.28GB","mem_percent":"0.00%",
                   "net_io":"796B / 7.294kB","block_io":"0B / 0B","pids":"1"})
        );
        let r = template_row(&s, true);
        assert_eq!(r["ID"].as_str().unwrap().len(), 64);
        assert_eq!(r["PIDs"], 1);
        assert_eq!(r["PIDS"], "1");
        assert_eq!(r["MemUsageBytes"], "268KiB / 23.54GiB");
        assert_eq!(r["UpTime"], "150.587013ms");
        let mut out = Vec::new();
        format::print_rows(DEFAULT_ROW, &[r], &headers(), false, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("ID  "), "{text}");
        assert!(text.contains("AVG CPU %"), "{text}");
        assert!(text.contains("274.4kB / 25.28GB"), "{text}");
    }
}
