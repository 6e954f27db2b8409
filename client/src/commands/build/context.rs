//! The build context as a tar stream written while the directory is walked: ignored paths
//! are skipped (whole directories when no exception can re-include anything below them),
//! owners are reset to root as podman does, hard links are kept as links, sockets and
//! devices are left out. Extra entries (a Containerfile from outside the context or from
//! stdin) are appended under generated names.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::ignore::Matcher;

pub struct Plan {
    pub root: PathBuf,
    pub matcher: Matcher,
    /// (name in the archive, content source) appended after the context.
    pub extra: Vec<(String, Extra)>,
}

pub enum Extra {
    File(PathBuf),
    Bytes(Vec<u8>),
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub entries: u64,
    pub skipped: u64,
}

pub fn write<W: Write>(w: W, plan: &Plan) -> Result<Totals, String> {
    let mut b = tar::Builder::new(w);
    b.follow_symlinks(false);
    let mut totals = Totals::default();
    let mut links = HashMap::new();
    walk(&mut b, plan, &plan.root, "", &mut links, &mut totals)?;
    for (name, src) in &plan.extra {
        let data = match src {
            Extra::Bytes(d) => d.clone(),
            Extra::File(p) => fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()))?,
        };
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        );
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data.as_slice())
            .map_err(|e| format!("writing {name:?} to the build context: {e}"))?;
        totals.entries += 1;
    }
    b.into_inner()
        .and_then(|mut w| w.flush())
        .map_err(|e| format!("finishing the build context: {e}"))?;
    Ok(totals)
}

fn walk<W: Write>(
    b: &mut tar::Builder<W>,
    plan: &Plan,
    dir: &Path,
    prefix: &str,
    links: &mut HashMap<(u64, u64), String>,
    totals: &mut Totals,
) -> Result<(), String> {
    let read_err = |e: io::Error| format!("reading directory {}: {e}", dir.display());
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(read_err)?
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    // A stable, lexical order like Go's WalkDir, so that two builds send the same archive.
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let fname = e.file_name().to_string_lossy().to_string();
        let name = if prefix.is_empty() {
            fname
        } else {
            format!("{prefix}/{fname}")
        };
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            // Removed while we walk: nothing to send.
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(format!("reading {}: {err}", path.display())),
        };
        let excluded = plan.matcher.excluded(&name);
        if excluded {
            totals.skipped += 1;
            if meta.is_dir() && plan.matcher.exception_may_match_below(&name) {
                walk(b, plan, &path, &name, links, totals)?;
            }
            continue;
        }
        add(b, &path, &meta, &name, links)?;
        totals.entries += 1;
        if meta.is_dir() {
            walk(b, plan, &path, &name, links, totals)?;
        }
    }
    Ok(())
}

fn add<W: Write>(
    b: &mut tar::Builder<W>,
    path: &Path,
    meta: &fs::Metadata,
    name: &str,
    links: &mut HashMap<(u64, u64), String>,
) -> Result<(), String> {
    let werr = |e: io::Error| format!("adding {name:?} to the build context: {e}");
    let mut h = tar::Header::new_gnu();
    h.set_mode(file_mode(meta));
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime(meta));
    h.set_size(0);
    let ft = meta.file_type();
    if ft.is_dir() {
        h.set_entry_type(tar::EntryType::Directory);
        b.append_data(&mut h, format!("{name}/"), io::empty())
            .map_err(werr)?;
    } else if ft.is_symlink() {
        let target =
            fs::read_link(path).map_err(|e| format!("readlink {}: {e}", path.display()))?;
        h.set_entry_type(tar::EntryType::Symlink);
        b.append_link(&mut h, name, &target).map_err(werr)?;
    } else if ft.is_file() {
        if let Some(key) = hard_link_key(meta) {
            if let Some(first) = links.get(&key) {
                h.set_entry_type(tar::EntryType::Link);
                b.append_link(&mut h, name, first).map_err(werr)?;
                return Ok(());
            }
            links.insert(key, name.to_string());
        }
        let f = fs::File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(meta.len());
        // Reading at most the size in the header keeps the archive valid if the file grows;
        // a file that shrinks makes the tar writer fail rather than send a corrupt archive.
        b.append_data(&mut h, name, io::Read::take(f, meta.len()))
            .map_err(werr)?;
    }
    // Sockets, fifos and devices are not part of a build context (podman skips them too).
    Ok(())
}

#[cfg(unix)]
fn file_mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    meta.mode() & 0o7777
}

/// Windows has no permission bits: directories and files get the modes a fresh checkout
/// would have on Linux, read-only files lose their write bits.
#[cfg(not(unix))]
fn file_mode(meta: &fs::Metadata) -> u32 {
    match (meta.is_dir(), meta.permissions().readonly()) {
        (true, _) => 0o755,
        (false, true) => 0o444,
        (false, false) => 0o644,
    }
}

fn mtime(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Identity of a file with several hard links, so that later names become links to the
/// first one (as tar and podman do); `None` for a file with one name.
#[cfg(unix)]
fn hard_link_key(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn hard_link_key(_meta: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(plan: &Plan) -> Vec<String> {
        let mut buf = Vec::new();
        write(&mut buf, plan).expect("archive");
        let mut ar = tar::Archive::new(buf.as_slice());
        ar.entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn ignored_paths_are_left_out_and_exceptions_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::write(root.join("Containerfile"), "FROM x\n").expect("write");
        fs::create_dir_all(root.join("logs/keep")).expect("mkdir");
        fs::write(root.join("logs/a.log"), "a").expect("write");
        fs::write(root.join("logs/keep/k.log"), "k").expect("write");
        fs::create_dir_all(root.join("target/deep")).expect("mkdir");
        fs::write(root.join("target/deep/obj"), "o").expect("write");
        fs::write(root.join("big"), "b").expect("write");
        fs::hard_link(root.join("big"), root.join("big2")).expect("link");
        let plan = Plan {
            root: root.to_path_buf(),
            matcher: Matcher::new(&["logs", "target", "big2", "!logs/keep"]).expect("patterns"),
            extra: vec![(".generated".into(), Extra::Bytes(b"FROM y\n".to_vec()))],
        };
        assert_eq!(
            names(&plan),
            vec![
                "Containerfile",
                "big",
                "logs/keep",
                "logs/keep/k.log",
                ".generated"
            ]
        );
    }

    #[test]
    fn hard_links_become_link_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::write(root.join("a"), "data").expect("write");
        fs::hard_link(root.join("a"), root.join("b")).expect("link");
        let plan = Plan {
            root: root.to_path_buf(),
            matcher: Matcher::default(),
            extra: vec![],
        };
        let mut buf = Vec::new();
        write(&mut buf, &plan).expect("archive");
        let mut ar = tar::Archive::new(buf.as_slice());
        let kinds: Vec<_> = ar
            .entries()
            .expect("entries")
            .map(|e| e.expect("entry").header().entry_type())
            .collect();
        assert_eq!(kinds, vec![tar::EntryType::Regular, tar::EntryType::Link]);
    }
}
