//! The TCP socket under an SSH session, tuned for request/response latency.
//!
//! Two measured stalls are avoided here (see shared/reference/rust-stack.md):
//! Nagle's algorithm (40-80 ms per command without `nodelay`), and a ~40 ms wait on the first
//! channel open where sshd holds its reply until our delayed ACK fires. Linux clears
//! `TCP_QUICKACK` after every ACK it sends, so it has to be re-armed after each read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::error::{Error, Result};

pub struct FastTcp {
    inner: TcpStream,
}

impl FastTcp {
    pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<FastTcp> {
        let target = format!("{}:{port}", bracket(host));
        let fail = |reason: String| Error::Connect {
            target: target.clone(),
            reason,
        };
        let stream = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
            Err(_) => {
                return Err(fail(format!(
                    "no answer within {} s (is the host up and the port right?)",
                    timeout.as_secs()
                )))
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(fail(
                    "connection refused (is sshd running on that port?)".into(),
                ))
            }
            Ok(Err(e)) => return Err(fail(e.to_string())),
            Ok(Ok(s)) => s,
        };
        // Best effort: a socket that refuses these options still works, only slower.
        let _ = stream.set_nodelay(true);
        quickack(&stream);
        Ok(FastTcp { inner: stream })
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(target_os = "linux")]
fn quickack(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: setsockopt on a valid, open socket fd with a correctly sized int option.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn quickack(_stream: &TcpStream) {}

impl AsyncRead for FastTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            quickack(&self.inner);
        }
        r
    }
}

impl AsyncWrite for FastTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
