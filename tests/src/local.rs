//! Small helpers for talking to things on this host: raw HTTP/1.0 over a unix socket (an API
//! server's socket, without any client of ours in between), a published port on 127.0.0.1,
//! free ports and polling with a deadline.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// One HTTP/1.0 request on a new connection to a unix socket; returns (status, body).
pub fn http_unix(socket: &Path, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: d\r\n\r\n")?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    parse_http_reply(&reply)
}

/// (status, body) of a whole HTTP/1.x reply.
pub fn parse_http_reply(reply: &str) -> std::io::Result<(u16, String)> {
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP reply: {reply:?}")))?;
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// GET / on 127.0.0.1:port; the body when something answered.
pub fn get_local(port: u16) -> Option<String> {
    let mut s = TcpStream::connect_timeout(
        &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_secs(2),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    parse_http_reply(&reply).ok().map(|(_, b)| b)
}

/// Poll `f` every 100 ms until it holds; fails the test after `timeout`.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(100));
    }
}
