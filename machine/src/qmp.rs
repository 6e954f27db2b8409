//! QMP, QEMU's monitor protocol, over the machine's unix socket, with the `qapi` crate's typed
//! commands. Every call connects, greets and disconnects: QEMU serves one QMP client at a time,
//! so holding the socket would block `list` and `stop` in other processes.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use qapi::qmp;

use crate::{Error, Result};

pub struct Qmp<'a> {
    inner: qapi::Qmp<qapi::Stream<BufReader<&'a UnixStream>, &'a UnixStream>>,
    socket: String,
}

fn err(socket: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Qmp {
        socket: socket.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Connect to the socket (bounded by `timeout` per read and write).
pub fn connect(path: &Path, timeout: Duration) -> Result<UnixStream> {
    let s = UnixStream::connect(path).map_err(|e| err(path, e))?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| err(path, e))?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| err(path, e))?;
    Ok(s)
}

impl<'a> Qmp<'a> {
    /// Read the greeting and negotiate capabilities. The greeting is read here rather than by
    /// qapi's `handshake`, which panics when the peer closes before greeting.
    pub fn handshake(stream: &'a UnixStream, path: &Path) -> Result<Qmp<'a>> {
        let mut r = BufReader::new(stream);
        let mut line = String::new();
        r.read_line(&mut line).map_err(|e| err(path, e))?;
        let greeting: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| err(path, format!("not a QMP greeting ({e}): {line:?}")))?;
        if greeting.get("QMP").is_none() {
            return Err(err(path, format!("not a QMP greeting: {line:?}")));
        }
        let mut q = Qmp {
            inner: qapi::Qmp::new(qapi::Stream::new(r, stream)),
            socket: path.display().to_string(),
        };
        q.inner
            .execute(&qmp::qmp_capabilities { enable: None })
            .map_err(|e| q.error(e))?;
        Ok(q)
    }

    fn error(&self, e: impl std::fmt::Display) -> Error {
        Error::Qmp {
            socket: self.socket.clone(),
            reason: e.to_string(),
        }
    }

    /// `query-status`: (running, status name).
    pub fn status(&mut self) -> Result<(bool, String)> {
        let s = self
            .inner
            .execute(&qmp::query_status {})
            .map_err(|e| self.error(e))?;
        let name = serde_json::to_value(s.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Ok((s.running, name))
    }

    /// ACPI power button: the guest shuts down cleanly.
    pub fn system_powerdown(&mut self) -> Result<()> {
        self.inner
            .execute(&qmp::system_powerdown {})
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    pub fn quit(&mut self) -> Result<()> {
        self.inner
            .execute(&qmp::quit {})
            .map(|_| ())
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixListener;

    /// A fake QMP server speaking the real wire format: greeting, capabilities, then canned
    /// replies per command; records the commands it received.
    fn fake_server(
        path: &Path,
        replies: Vec<(&'static str, &'static str)>,
    ) -> std::thread::JoinHandle<Vec<String>> {
        let l = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            writeln!(
                w,
                r#"{{"QMP": {{"version": {{"qemu": {{"micro": 0, "minor": 2, "major": 7}}, "package": ""}}, "capabilities": ["oob"]}}}}"#
            )
            .unwrap();
            let mut seen = Vec::new();
            let mut line = String::new();
            while r.read_line(&mut line).unwrap() > 0 {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                let cmd = v["execute"].as_str().unwrap().to_string();
                let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
                let ret = if cmd == "qmp_capabilities" {
                    "{}"
                } else {
                    replies
                        .iter()
                        .find(|(c, _)| *c == cmd)
                        .map(|(_, r)| *r)
                        .unwrap_or("{}")
                };
                // An event in between, as QEMU sends them at any time.
                writeln!(
                    w,
                    r#"{{"event": "RESUME", "timestamp": {{"seconds": 1, "microseconds": 2}}}}"#
                )
                .unwrap();
                if id.is_null() {
                    writeln!(w, r#"{{"return": {ret}}}"#).unwrap();
                } else {
                    writeln!(w, r#"{{"return": {ret}, "id": {id}}}"#).unwrap();
                }
                seen.push(cmd);
                line.clear();
            }
            seen
        })
    }

    #[test]
    fn status_and_powerdown_against_a_fake_monitor() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("qmp.sock");
        let server = fake_server(
            &p,
            vec![(
                "query-status",
                r#"{"running": true, "singlestep": false, "status": "running"}"#,
            )],
        );
        let s = connect(&p, Duration::from_secs(5)).unwrap();
        let mut q = Qmp::handshake(&s, &p).unwrap();
        assert_eq!(q.status().unwrap(), (true, "running".to_string()));
        q.system_powerdown().unwrap();
        drop(q);
        s.shutdown(std::net::Shutdown::Both).unwrap();
        assert_eq!(
            server.join().unwrap(),
            ["qmp_capabilities", "query-status", "system_powerdown"]
        );
    }

    #[test]
    fn a_peer_that_closes_before_greeting_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("qmp.sock");
        let l = UnixListener::bind(&p).unwrap();
        let t = std::thread::spawn(move || drop(l.accept().unwrap()));
        let s = connect(&p, Duration::from_secs(5)).unwrap();
        let e = Qmp::handshake(&s, &p).err().unwrap();
        assert!(e.to_string().contains("not a QMP greeting"), "{e}");
        t.join().unwrap();
    }
}
