//! Reproducible archives: entries sorted, owner root, one timestamp (SOURCE_DATE_EPOCH), no
//! gzip name or time; written to a temporary file and renamed, so an interrupted run never
//! leaves a truncated archive under a release name.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One file in an archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the archive, with `/` separators.
    pub name: String,
    pub data: Vec<u8>,
    pub mode: u32,
}

impl Entry {
    pub fn file(name: impl Into<String>, source: &Path, mode: u32) -> Result<Entry> {
        Ok(Entry {
            name: name.into(),
            data: std::fs::read(source).map_err(Error::io("reading", source))?,
            mode,
        })
    }
}

fn sorted(entries: &[Entry]) -> Vec<&Entry> {
    let mut v: Vec<&Entry> = entries.iter().collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// Parent directories of all entries, each once, parents first.
fn directories(entries: &[Entry]) -> Vec<String> {
    let mut dirs = std::collections::BTreeSet::new();
    for e in entries {
        let mut p = e.name.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            dirs.insert(format!("{parent}/"));
            p = parent;
        }
    }
    dirs.into_iter().collect()
}

fn temp_in(dest: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(Error::io("creating a temporary file in", dir))
}

fn persist(tmp: tempfile::NamedTempFile, dest: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(Error::io("chmod", tmp.path()))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(Error::io("syncing", dest))?;
    tmp.persist(dest)
        .map_err(|e| Error::io("renaming into place", PathBuf::from(dest))(e.error))?;
    Ok(())
}

pub fn write_tar_gz(dest: &Path, entries: &[Entry], mtime: i64) -> Result<()> {
    let tmp = temp_in(dest)?;
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(tmp.as_file(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    let header = |size: u64, mode: u32, kind: tar::EntryType| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(mtime.max(0) as u64);
        h.set_uid(0);
        h.set_gid(0);
        let _ = h.set_username("root");
        let _ = h.set_groupname("root");
        h
    };
    let io = |e| Error::io("writing", dest)(e);
    for d in directories(entries) {
        let mut h = header(0, 0o755, tar::EntryType::Directory);
        tar.append_data(&mut h, &d, std::io::empty()).map_err(io)?;
    }
    for e in sorted(entries) {
        let mut h = header(e.data.len() as u64, e.mode, tar::EntryType::Regular);
        tar.append_data(&mut h, &e.name, e.data.as_slice())
            .map_err(io)?;
    }
    let gz = tar.into_inner().map_err(io)?;
    gz.finish().map_err(io)?.flush().map_err(io)?;
    persist(tmp, dest)
}

pub fn write_zip(dest: &Path, entries: &[Entry], mtime: i64) -> Result<()> {
    use zip::write::SimpleFileOptions;
    let zerr = |source| Error::Zip {
        path: dest.to_path_buf(),
        source,
    };
    let tmp = temp_in(dest)?;
    // Zip stores local time with 2 s resolution from 1980 on; clamp older stamps.
    let when = time::OffsetDateTime::from_unix_timestamp(mtime.max(315_532_800))
        .ok()
        .and_then(|t| zip::DateTime::try_from(t).ok())
        .unwrap_or_default();
    let mut zip = zip::ZipWriter::new(tmp.as_file());
    for d in directories(entries) {
        let opts = SimpleFileOptions::default()
            .last_modified_time(when)
            .unix_permissions(0o755);
        zip.add_directory(d, opts).map_err(zerr)?;
    }
    for e in sorted(entries) {
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(when)
            .unix_permissions(e.mode);
        zip.start_file(e.name.as_str(), opts).map_err(zerr)?;
        zip.write_all(&e.data)
            .map_err(|err| Error::io("writing", dest)(err))?;
    }
    zip.finish().map_err(zerr)?;
    persist(tmp, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Entry> {
        vec![
            Entry {
                name: "top/share/x".into(),
                data: b"x".to_vec(),
                mode: 0o644,
            },
            Entry {
                name: "top/bin/tool".into(),
                data: b"#!/bin/sh\n".to_vec(),
                mode: 0o755,
            },
        ]
    }

    #[test]
    fn tar_gz_is_reproducible_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.tar.gz"), dir.path().join("b.tar.gz"));
        write_tar_gz(&a, &sample(), 1_700_000_000).unwrap();
        let mut reversed = sample();
        reversed.reverse();
        write_tar_gz(&b, &reversed, 1_700_000_000).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&a).unwrap());
        let mut names = Vec::new();
        for e in tar::Archive::new(gz).entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            names.push((e.path().unwrap().display().to_string(), h.mode().unwrap()));
        }
        assert_eq!(
            names,
            [
                ("top/".to_string(), 0o755),
                ("top/bin/".into(), 0o755),
                ("top/share/".into(), 0o755),
                ("top/bin/tool".into(), 0o755),
                ("top/share/x".into(), 0o644),
            ]
        );
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn zip_is_reproducible_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        write_zip(&a, &sample(), 1_700_000_000).unwrap();
        write_zip(&b, &sample(), 1_700_000_000).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let mut z = zip::ZipArchive::new(std::fs::File::open(&a).unwrap()).unwrap();
        let mut f = z.by_name("top/bin/tool").unwrap();
        assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).unwrap();
        assert_eq!(s, "#!/bin/sh\n");
    }
}
