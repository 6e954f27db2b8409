//! vfkit's (and krunkit's) REST endpoint: `GET /vm/state` and `POST /vm/state` with
//! `{"state":"Stop"|"HardStop"}`, over TCP on localhost or a unix socket. A request is one
//! short HTTP/1.1 exchange with `Connection: close`, so a blocking client on a plain stream
//! is all that is needed; responses are parsed with `httparse`.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::{Error, Result};

/// Where the REST API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

impl Endpoint {
    /// `tcp://host:port`, `http://host:port` (podman's stored form) or `unix:///path`.
    pub fn parse(uri: &str) -> Result<Endpoint> {
        let bad = |why: &str| Error::Invalid(format!("vfkit endpoint {uri:?}: {why}"));
        if let Some(p) = uri.strip_prefix("unix://") {
            if !p.starts_with('/') {
                return Err(bad("a unix socket path must be absolute"));
            }
            return Ok(Endpoint::Unix(PathBuf::from(p)));
        }
        let rest = uri
            .strip_prefix("tcp://")
            .or_else(|| uri.strip_prefix("http://"))
            .ok_or_else(|| bad("expected tcp://, http:// or unix://"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("missing port"))?;
        let port: u16 = port.parse().map_err(|_| bad("invalid port"))?;
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        Ok(Endpoint::Tcp {
            host: host.to_string(),
            port,
        })
    }

    /// The value for `--restful-uri`.
    pub fn restful_uri(&self) -> String {
        match self {
            Endpoint::Tcp { host, port } => format!("tcp://{host}:{port}"),
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
        }
    }

    /// The form stored in the machine config (`http://localhost:PORT` as podman stores it).
    pub fn config_form(&self) -> String {
        match self {
            Endpoint::Tcp { host, port } => format!("http://{host}:{port}"),
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
        }
    }
}

/// vfkit's `VirtualMachineState*` strings, reduced to what callers act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VfState {
    Running,
    Stopped,
    Starting,
    Paused,
    Stopping,
    Error,
}

impl VfState {
    pub fn parse(s: &str) -> Option<VfState> {
        Some(match s {
            "VirtualMachineStateRunning" | "VirtualMachineStateResuming" => VfState::Running,
            "VirtualMachineStateStopped" => VfState::Stopped,
            "VirtualMachineStateStarting" => VfState::Starting,
            "VirtualMachineStatePaused" | "VirtualMachineStatePausing" => VfState::Paused,
            "VirtualMachineStateStopping" => VfState::Stopping,
            "VirtualMachineStateError" => VfState::Error,
            _ => return None,
        })
    }
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

fn connect(ep: &Endpoint, timeout: Duration) -> io::Result<Box<dyn Stream>> {
    match ep {
        Endpoint::Tcp { host, port } => {
            use std::net::ToSocketAddrs;
            let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
            for a in (host.as_str(), *port).to_socket_addrs()? {
                match std::net::TcpStream::connect_timeout(&a, timeout) {
                    Ok(s) => {
                        s.set_read_timeout(Some(timeout))?;
                        s.set_write_timeout(Some(timeout))?;
                        return Ok(Box::new(s));
                    }
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
        #[cfg(unix)]
        Endpoint::Unix(p) => {
            let s = std::os::unix::net::UnixStream::connect(p)?;
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))?;
            Ok(Box::new(s))
        }
        #[cfg(not(unix))]
        Endpoint::Unix(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "unix socket endpoints need a unix host",
        )),
    }
}

/// One request; returns the status code and body.
pub fn request(
    ep: &Endpoint,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    timeout: Duration,
) -> io::Result<(u16, Vec<u8>)> {
    let mut s = connect(ep, timeout)?;
    let host = match ep {
        Endpoint::Tcp { host, port } => format!("{host}:{port}"),
        Endpoint::Unix(_) => "localhost".to_string(),
    };
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    let mut msg = req.into_bytes();
    if let Some(b) = body {
        msg.extend_from_slice(b);
    }
    s.write_all(&msg)?;
    s.flush()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

fn parse_response(raw: &[u8]) -> io::Result<(u16, Vec<u8>)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(raw).map_err(|e| invalid(e.to_string()))? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Err(invalid("truncated HTTP response")),
    };
    let code = resp.code.unwrap_or(0);
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let rest = &raw[head_len..];
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if rest.len() < n {
            return Err(invalid("HTTP body shorter than its Content-Length"));
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    Ok((code, body))
}

fn dechunk(mut b: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let pos = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| invalid("bad chunk header"))?;
        let size_txt = String::from_utf8_lossy(&b[..pos]);
        let size = usize::from_str_radix(size_txt.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| invalid("bad chunk size"))?;
        b = &b[pos + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err(invalid("truncated chunk"));
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// The VM's state, or `None` when nothing answers (vfkit not running).
pub fn get_state(ep: &Endpoint) -> Result<Option<VfState>> {
    let (code, body) = match request(ep, "GET", "/vm/state", None, Duration::from_secs(5)) {
        Ok(r) => r,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::NotFound
                    | io::ErrorKind::ConnectionReset
            ) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(Error::Provider(format!(
                "vfkit REST {}: {e}",
                ep.restful_uri()
            )))
        }
    };
    if code != 200 {
        return Err(Error::Provider(format!(
            "vfkit REST GET /vm/state: HTTP {code}: {}",
            String::from_utf8_lossy(&body).trim()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| Error::Provider(format!("vfkit REST GET /vm/state: {e}")))?;
    let s = v["state"].as_str().unwrap_or_default();
    VfState::parse(s)
        .map(Some)
        .ok_or_else(|| Error::Provider(format!("vfkit reports an unknown VM state {s:?}")))
}

/// Ask for `Stop` (guest ACPI power button) or `HardStop`.
pub fn set_state(ep: &Endpoint, state: &str) -> Result<()> {
    let body = serde_json::to_vec(&serde_json::json!({ "state": state }))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let (code, resp) = request(
        ep,
        "POST",
        "/vm/state",
        Some(&body),
        Duration::from_secs(10),
    )
    .map_err(|e| Error::Provider(format!("vfkit REST {}: {e}", ep.restful_uri())))?;
    if !(200..300).contains(&code) {
        return Err(Error::Provider(format!(
            "vfkit refused state change to {state}: HTTP {code}: {}",
            String::from_utf8_lossy(&resp).trim()
        )));
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::sync::mpsc;

    /// A one-connection HTTP server on a unix socket: records the raw request, answers with
    /// `reply`.
    fn serve_once(reply: &'static [u8]) -> (tempfile::TempDir, Endpoint, mpsc::Receiver<String>) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("rest.sock");
        let l = UnixListener::bind(&sock).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            loop {
                let n = c.read(&mut buf).unwrap();
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if req.len() >= i + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            tx.send(String::from_utf8_lossy(&req).into_owned()).unwrap();
            c.write_all(reply).unwrap();
        });
        (dir, Endpoint::Unix(sock), rx)
    }

    #[test]
    fn get_state_sends_the_request_and_maps_the_answer() {
        let (_d, ep, rx) = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 63\r\n\r\n{\"state\":\"VirtualMachineStateRunning\",\"canStart\":false,\"x\":1}  ",
        );
        assert_eq!(get_state(&ep).unwrap(), Some(VfState::Running));
        let req = rx.recv().unwrap();
        assert!(req.starts_with("GET /vm/state HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("Connection: close\r\n"));
    }

    #[test]
    fn chunked_answers_are_decoded() {
        let (_d, ep, _rx) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"state\":\"Virtua\r\n1a\r\nlMachineStateStopped\"}    \r\n0\r\n\r\n",
        );
        assert_eq!(get_state(&ep).unwrap(), Some(VfState::Stopped));
    }

    #[test]
    fn stop_posts_the_state_change() {
        let (_d, ep, rx) = serve_once(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
        set_state(&ep, "Stop").unwrap();
        let req = rx.recv().unwrap();
        assert!(req.starts_with("POST /vm/state HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("Content-Type: application/json\r\n"));
        assert!(req.ends_with("\r\n\r\n{\"state\":\"Stop\"}"), "{req}");
    }

    #[test]
    fn refusals_and_absent_sockets() {
        let (_d, ep, _rx) =
            serve_once(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nnope");
        let e = set_state(&ep, "HardStop").unwrap_err().to_string();
        assert!(e.contains("HTTP 500: nope"), "{e}");
        let gone = Endpoint::Unix(PathBuf::from("/nonexistent/podman-vfkit.sock"));
        assert_eq!(get_state(&gone).unwrap(), None);
    }

    #[test]
    fn endpoints_parse_and_print() {
        let t = Endpoint::parse("http://localhost:5555").unwrap();
        assert_eq!(t.restful_uri(), "tcp://localhost:5555");
        assert_eq!(t.config_form(), "http://localhost:5555");
        let u = Endpoint::parse("unix:///tmp/x.sock").unwrap();
        assert_eq!(u.restful_uri(), "unix:///tmp/x.sock");
        for bad in [
            "localhost:1",
            "tcp://localhost",
            "tcp://:80",
            "unix://rel",
            "tcp://h:99999",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
