//! Docker's multiplexed stream framing, used by libpod for logs, attach and exec without a TTY:
//! an 8-byte header (stream id, three zero bytes, big-endian payload length) then the payload.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamId {
    Stdin,
    Stdout,
    Stderr,
    /// Stream 3: the server reports an error in the middle of a stream.
    ServerError,
}

impl StreamId {
    fn from_byte(b: u8) -> Option<StreamId> {
        match b {
            0 => Some(StreamId::Stdin),
            1 => Some(StreamId::Stdout),
            2 => Some(StreamId::Stderr),
            3 => Some(StreamId::ServerError),
            _ => None,
        }
    }
}

/// Frames larger than this are treated as corruption rather than allocated.
pub const MAX_FRAME: usize = 64 << 20;

/// Parse a frame header; `None` if the bytes are not a valid header.
pub fn parse_header(h: &[u8; 8]) -> Option<(StreamId, usize)> {
    let id = StreamId::from_byte(h[0])?;
    if h[1] != 0 || h[2] != 0 || h[3] != 0 {
        return None;
    }
    let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
    Some((id, len))
}

/// Reads frames one at a time from a multiplexed stream.
pub struct Demuxer<R> {
    inner: R,
}

impl<R: AsyncRead + Unpin> Demuxer<R> {
    pub fn new(inner: R) -> Self {
        Demuxer { inner }
    }

    /// The next frame, or `None` at a clean end of stream.
    pub async fn next(&mut self) -> Result<Option<(StreamId, Vec<u8>)>> {
        let mut header = [0u8; 8];
        let mut got = 0;
        while got < 8 {
            let n = self
                .inner
                .read(&mut header[got..])
                .await
                .map_err(|e| Error::io("reading the container stream", e))?;
            if n == 0 {
                if got == 0 {
                    return Ok(None);
                }
                return Err(Error::Http(
                    "the container stream ended inside a frame header".into(),
                ));
            }
            got += n;
        }
        let (id, len) = parse_header(&header)
            .ok_or_else(|| Error::Http(format!("malformed stream frame header {header:02x?}")))?;
        if len > MAX_FRAME {
            return Err(Error::Http(format!(
                "stream frame of {len} bytes is too large"
            )));
        }
        let mut buf = vec![0u8; len];
        self.inner
            .read_exact(&mut buf)
            .await
            .map_err(|e| Error::io("reading the container stream", e))?;
        Ok(Some((id, buf)))
    }
}

/// Encode one frame (used by tests and by the API server's tests).
pub fn encode_frame(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + payload.len());
    v.push(id);
    v.extend_from_slice(&[0, 0, 0]);
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demux_frames_and_eof() {
        let mut data = encode_frame(1, b"out\n");
        data.extend(encode_frame(2, b"err\n"));
        data.extend(encode_frame(1, b""));
        let mut d = Demuxer::new(&data[..]);
        assert_eq!(
            d.next().await.unwrap(),
            Some((StreamId::Stdout, b"out\n".to_vec()))
        );
        assert_eq!(
            d.next().await.unwrap(),
            Some((StreamId::Stderr, b"err\n".to_vec()))
        );
        assert_eq!(d.next().await.unwrap(), Some((StreamId::Stdout, vec![])));
        assert_eq!(d.next().await.unwrap(), None);
    }

    #[tokio::test]
    async fn truncated_and_bad_headers_are_errors() {
        let data = encode_frame(1, b"hello");
        let mut d = Demuxer::new(&data[..6]);
        assert!(d.next().await.is_err());
        let mut d = Demuxer::new(&data[..10]);
        assert!(d.next().await.is_err());
        let bad = [9u8, 0, 0, 0, 0, 0, 0, 1, b'x'];
        let mut d = Demuxer::new(&bad[..]);
        assert!(d
            .next()
            .await
            .unwrap_err()
            .to_string()
            .contains("malformed"));
    }
}
