//! Load tool for bench/server.sh: latency of `GET /_ping` on N concurrently open keep-alive
//! connections to a unix socket (the engine's, or the API server's), and the RSS of a process
//! while they are open.
//!
//! `server_load SOCKET CONNECTIONS ROUNDS [PID]` prints one line of JSON:
//! `{"sequential_ms":{"p50":..,"p99":..},"burst_ms":{..},"rss_kib":..,"hwm_kib":..}` where
//! `sequential` is one request at a time spread over all open connections (pure added
//! latency) and `burst` is every connection sending at once (ROUNDS times).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

#[cfg(unix)]
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit on a properly initialized struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// One `GET /_ping` on a keep-alive connection; checks the answer is `200` with body `OK`.
async fn ping(s: &mut UnixStream, buf: &mut Vec<u8>) -> std::io::Result<Duration> {
    let t = Instant::now();
    s.write_all(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        .await?;
    buf.clear();
    loop {
        let mut chunk = [0u8; 1024];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                if !head.starts_with("http/1.1 200") || &buf[end + 4..end + 4 + len] != b"OK" {
                    return Err(std::io::Error::other(format!(
                        "unexpected answer: {}",
                        String::from_utf8_lossy(buf)
                    )));
                }
                return Ok(t.elapsed());
            }
        }
    }
}

fn percentiles(mut v: Vec<Duration>) -> serde_json::Value {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    serde_json::json!({"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "n": v.len()})
}

fn proc_kib(pid: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    #[cfg(unix)]
    raise_fd_limit();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: server_load SOCKET CONNECTIONS ROUNDS [PID]");
        std::process::exit(2);
    }
    let socket = PathBuf::from(&args[0]);
    let n: usize = args[1].parse().expect("CONNECTIONS is a number");
    let rounds: usize = args[2].parse().expect("ROUNDS is a number");
    let pid = args.get(3).cloned();

    // Open every connection first and warm it with one request.
    let mut conns = Vec::with_capacity(n);
    let mut buf = Vec::new();
    for _ in 0..n {
        let mut s = UnixStream::connect(&socket).await?;
        ping(&mut s, &mut buf).await?;
        conns.push(s);
    }
    let rss = pid.as_deref().and_then(|p| proc_kib(p, "VmRSS:"));

    // One request at a time, round-robin over the open connections.
    let mut seq = Vec::new();
    for i in 0..(2 * n).max(1000) {
        let c = &mut conns[i % n];
        seq.push(ping(c, &mut buf).await?);
    }

    // Every connection at once, `rounds` times.
    let mut burst = Vec::new();
    for _ in 0..rounds {
        let tasks: Vec<_> = conns
            .drain(..)
            .map(|mut c| {
                tokio::spawn(async move {
                    let mut b = Vec::new();
                    let r = ping(&mut c, &mut b).await;
                    (c, r)
                })
            })
            .collect();
        for t in tasks {
            let (c, r) = t.await.map_err(std::io::Error::other)?;
            burst.push(r?);
            conns.push(c);
        }
    }
    let rss_after = pid.as_deref().and_then(|p| proc_kib(p, "VmRSS:"));
    let hwm = pid.as_deref().and_then(|p| proc_kib(p, "VmHWM:"));
    println!(
        "{}",
        serde_json::json!({
            "connections": n,
            "sequential_ms": percentiles(seq),
            "burst_ms": percentiles(burst),
            "rss_kib_idle_connections": rss,
            "rss_kib_after_burst": rss_after,
            "hwm_kib": hwm,
        })
    );
    Ok(())
}
