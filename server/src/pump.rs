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
