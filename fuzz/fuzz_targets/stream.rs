//! The multiplexed stream demuxer (logs, attach and exec without a TTY): any byte sequence
//! either yields frames that re-encode to exactly the bytes consumed, or a clean error; it
//! never panics, never loops and never allocates more than MAX_FRAME for one frame.
#![no_main]

use std::sync::OnceLock;

use bindings::stream::{encode_frame, parse_header, Demuxer, StreamId, MAX_FRAME};
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
    })
}

fn id_byte(id: StreamId) -> u8 {
    match id {
        StreamId::Stdin => 0,
        StreamId::Stdout => 1,
        StreamId::Stderr => 2,
        StreamId::ServerError => 3,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(header) = data.first_chunk::<8>() {
        if let Some((_, len)) = parse_header(header) {
            assert!(len <= u32::MAX as usize);
        }
    }
    runtime().block_on(async {
        let mut demuxer = Demuxer::new(data);
        let mut rebuilt = Vec::new();
        loop {
            match demuxer.next().await {
                Ok(Some((id, payload))) => {
                    assert!(payload.len() <= MAX_FRAME);
                    rebuilt.extend(encode_frame(id_byte(id), &payload));
                    assert!(rebuilt.len() <= data.len(), "more bytes out than in");
                    assert_eq!(
                        rebuilt[..],
                        data[..rebuilt.len()],
                        "frame does not round-trip"
                    );
                }
                Ok(None) => {
                    assert_eq!(rebuilt, data, "clean end before the input was used up");
                    break;
                }
                Err(_) => {
                    assert!(
                        rebuilt.len() < data.len(),
                        "error with nothing left to read"
                    );
                    break;
                }
            }
        }
    });
});
