//! `SHA256SUMS` in the format of coreutils' `sha256sum` (`<hex>  <name>`), so that
//! `sha256sum -c SHA256SUMS` checks a download.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{Error, Result};

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(Error::io("opening", path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(Error::io("reading", path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file's text for `(name, hash)` pairs, sorted by name.
pub fn render(entries: &[(String, String)]) -> String {
    let mut sorted = entries.to_vec();
    sorted.sort();
    sorted
        .iter()
        .map(|(name, hash)| format!("{hash}  {name}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sha256sum_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        std::fs::write(&p, "abc").unwrap();
        let h = sha256_file(&p).unwrap();
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let text = render(&[
            ("b.zip".into(), "22".into()),
            ("a.tar.gz".into(), "11".into()),
        ]);
        assert_eq!(text, "11  a.tar.gz\n22  b.zip\n");
    }
}
