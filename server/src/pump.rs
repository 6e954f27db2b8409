//! Bytes both ways between a client and a channel, with buffers sized by the traffic: an
//! idle or chatty connection (most API calls) costs a small buffer, a bulk transfer (image
//! load, build context, export) gets a large one for as long as data keeps coming. A
//! thousand idle connections would otherwise pin two 8 KiB buffers each.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const SMALL: usize = 1024;
const LARGE: usize = 32 * 1024;

/// Copies until both directions are done (EOF is passed on as a write shutdown), or the
/// first error.
pub(crate) async fn bidirectional<A, B>(a: A, b: B) -> std::io::Result<()>
where
    A: AsyncRead + AsyncWrite + Send,
    B: AsyncRead + AsyncWrite + Send,
{
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    tokio::try_join!(one_way(ar, bw), one_way(br, aw))?;
    Ok(())
}

/// Like [`bidirectional`], for clients that cannot be sent a half-close: a byte-mode Windows
/// named pipe has none (EOF is the other end closing), so once `b` (the engine) has sent
/// everything the connection ends, as the client waits for that EOF (an attach stream ends
/// that way). What the client might still send would have no reader anyway.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) async fn until_remote_done<A, B>(a: A, b: B) -> std::io::Result<()>
where
    A: AsyncRead + AsyncWrite + Send,
    B: AsyncRead + AsyncWrite + Send,
{
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let up = one_way(ar, bw);
    let down = one_way(br, aw);
    tokio::pin!(up, down);
    tokio::select! {
        r = &mut down => r,
        r = &mut up => {
            r?;
            down.await
        }
    }
}

async fn one_way<R, W>(mut r: R, mut w: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut small = [0u8; SMALL];
    let mut large: Vec<u8> = Vec::new();
    loop {
        let n = if large.is_empty() {
            let n = r.read(&mut small).await?;
            if n > 0 {
                w.write_all(&small[..n]).await?;
            }
            if n == SMALL {
                // A full read: more is probably queued; switch to the large buffer.
                large = vec![0u8; LARGE];
            }
            n
        } else {
            let n = r.read(&mut large).await?;
            if n > 0 {
                w.write_all(&large[..n]).await?;
            }
            if n < SMALL {
                // The burst is over: give the memory back.
                large = Vec::new();
            }
            n
        };
        if n == 0 {
            w.shutdown().await?;
            return Ok(());
        }
        w.flush().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine ends while the client still has its sending side open (it waits for EOF):
    /// the pump returns, which closes the client's connection.
    #[tokio::test]
    async fn without_half_close_the_engine_ending_ends_the_connection() {
        let (client, server_side) = tokio::io::duplex(64);
        let (engine_side, engine) = tokio::io::duplex(64);
        let pump = tokio::spawn(until_remote_done(server_side, engine_side));
        let (mut cr, mut cw) = tokio::io::split(client);
        let (mut er, mut ew) = tokio::io::split(engine);
        cw.write_all(b"request").await.unwrap();
        let mut req = [0u8; 7];
        er.read_exact(&mut req).await.unwrap();
        assert_eq!(&req, b"request");
        ew.write_all(b"stream output").await.unwrap();
        ew.shutdown().await.unwrap();
        let mut back = Vec::new();
        cr.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"stream output");
        tokio::time::timeout(std::time::Duration::from_secs(10), pump)
            .await
            .expect("the pump waits for the client to half-close")
            .unwrap()
            .unwrap();
        // The client's side is still open, but nobody reads it any more.
        drop(cw);
    }

    #[tokio::test]
    async fn copies_both_ways_with_half_close() {
        let (client, server_side) = tokio::io::duplex(64);
        let (engine_side, engine) = tokio::io::duplex(64);
        let pump = tokio::spawn(bidirectional(server_side, engine_side));
        let (mut cr, mut cw) = tokio::io::split(client);
        let (mut er, mut ew) = tokio::io::split(engine);
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let up = big.clone();
        let writer = tokio::spawn(async move {
            cw.write_all(&up).await.unwrap();
            cw.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        er.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, big);
        ew.write_all(b"reply").await.unwrap();
        ew.shutdown().await.unwrap();
        let mut back = Vec::new();
        cr.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"reply");
        writer.await.unwrap();
        pump.await.unwrap().unwrap();
    }
}
