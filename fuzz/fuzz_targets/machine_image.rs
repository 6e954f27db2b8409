//! Image download metadata, everything `machine init --image` reads from a server or a
//! registry: checksum files, `Content-Range` / `Content-Length` and the resume decision made
//! from them, machine-os OCI index and manifest JSON, the registry's auth challenge, `--image`
//! references and the compression sniffer. Nothing panics, and what the parsers accept keeps
//! the promises the download relies on:
//! - a checksum is always 64 lower-case hex digits;
//! - a parsed range is ordered and inside its total; a resume appends only at the byte we hold
//!   and never promises a file shorter than that;
//! - the index entry chosen has the disk type and arch asked for; the layer chosen has a
//!   sha256 digest and a title that is a plain file name (it names a file in the cache).
//!
//! Input: the whole input is tried as each kind of text; the first 10 bytes also give the
//! HTTP status and the size of the part file for the resume decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podman_machine::image::{
    parse_challenge, parse_checksum, parse_content_range, resume_plan, select_index_entry,
    select_layer, sniff, ContentRange, ImageSource, OciRef, Resume,
};

fn is_sha256(h: &str) -> bool {
    h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_range(cr: ContentRange) {
    if let Some((a, b)) = cr.range {
        assert!(a <= b, "{cr:?}");
        if let Some(t) = cr.total {
            assert!(b < t, "{cr:?}");
        }
    } else {
        assert!(cr.total.is_some(), "{cr:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = sniff(data);

    // Checksum files, for a name taken from the input's first line too.
    let first = text.lines().next().unwrap_or_default().trim();
    for name in ["disk.qcow2.xz", first] {
        if let Some(h) = parse_checksum(&text, name) {
            assert!(is_sha256(&h), "{h:?}");
        }
    }

    // Headers: every line is a candidate value.
    for line in text.lines().take(16) {
        if let Some(cr) = parse_content_range(line) {
            check_range(cr);
        }
    }
    let mut lines = text.lines();
    let (cr, cl) = (lines.next(), lines.next());
    let status = match data.first() {
        // Mostly the statuses a download meets, sometimes any.
        Some(&b) if b < 200 => [200u16, 206, 416, 404][usize::from(b % 4)],
        Some(&b) => 100 + u16::from(b) * 2,
        None => 200,
    };
    let have = data
        .get(1..9)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .unwrap_or(0);
    for have in [have, have % 4096, 0] {
        match resume_plan(status, have, cr, cl) {
            Resume::Append { total } => {
                assert!(
                    status == 206 && (have > 0 || cr.is_some()),
                    "{status} {cr:?}"
                );
                if let Some(t) = total {
                    assert!(t >= have, "append at {have} to a file of {t}");
                }
                if let Some(c) = cr.and_then(parse_content_range) {
                    assert_eq!(c.range.map(|r| r.0), Some(have));
                }
            }
            Resume::Complete => {
                assert_eq!(status, 416);
                assert_eq!(
                    cr.and_then(parse_content_range).and_then(|c| c.total),
                    Some(have)
                );
            }
            Resume::Restart { .. } => assert_eq!(status, 200),
            Resume::Discard => assert!(status == 206 || status == 416),
            Resume::Failed(s) => assert_eq!(s, status),
        }
    }

    // Registry answers.
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        for (disktype, arch) in [
            ("qemu", "x86_64"),
            ("applehv", "aarch64"),
            ("wsl", "x86_64"),
        ] {
            if let Ok(e) = select_index_entry(&v, disktype, arch) {
                assert_eq!(e["annotations"]["disktype"].as_str(), Some(disktype));
                assert_eq!(e["platform"]["architecture"].as_str(), Some(arch));
            }
        }
        if let Ok((digest, title)) = select_layer(&v) {
            assert!(is_sha256(&digest["sha256:".len()..].to_ascii_lowercase()));
            assert!(!title.is_empty() && !title.contains(['/', '\\']) && !title.starts_with('.'));
            assert_eq!(std::path::Path::new(&title).components().count(), 1);
        }
    }
    let _ = parse_challenge(&text);

    // `--image` values.
    if let Ok(ImageSource::Oci(r)) = ImageSource::parse(&text) {
        assert!(!r.repository.is_empty() && !r.reference.is_empty());
    }
    if let Ok(r) = OciRef::parse(&text) {
        assert!(!r.registry.is_empty(), "{r:?}");
    }
});
