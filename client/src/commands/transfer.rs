//! Moving images in and out: save, load, import.
//!
//! Archives never sit in memory: `load` and `import` stream the file (or stdin) as the
//! request body through bounded buffers, `save` writes the response chunk by chunk. A saved
//! archive only appears at its path once complete: it is written to an anonymous file
//! (`O_TMPFILE`, which vanishes even on SIGKILL) or a hidden temporary file next to it and
//! linked or renamed into place; SIGINT/SIGTERM/SIGHUP during a save remove what was staged.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bindings::api::transfer::{reader_body, ExportOptions, ImportOptions};
use clap::Args;

use super::lifecycle::go_io_error;
use crate::context::GlobalOpts;
use crate::exit::Failure;

const FORMATS: [&str; 4] = ["oci-dir", "oci-archive", "docker-dir", "docker-archive"];

// ---------------------------------------------------------------------------------------------
// save
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Compress tarball image layers when saving to a directory using the 'dir' transport.
    #[arg(long)]
    pub compress: bool,
    /// Save image to oci-archive, oci-dir, docker-archive or docker-dir.
    #[arg(long, default_value = "docker-archive")]
    pub format: String,
    /// Interpret additional arguments as images not tags and create a multi-image-archive.
    #[arg(short, long)]
    pub multi_image_archive: bool,
    /// Write to a specified file (default: stdout, which must be redirected).
    #[arg(short, long, default_value = "")]
    pub output: String,
    /// Suppress the output.
    #[arg(short, long)]
    pub quiet: bool,
    /// Accept uncompressed layers when copying OCI images.
    #[arg(long)]
    pub uncompressed: bool,
    /// Images to save.
    pub images: Vec<String>,
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file being written that becomes visible at its destination only on `commit`.
enum Staged {
    /// Linux: an unnamed file in the destination's directory.
    #[cfg(target_os = "linux")]
    Anonymous(File, PathBuf),
    /// Elsewhere: a hidden temporary file next to the destination, removed on drop.
    Named(tempfile::NamedTempFile),
}

impl Staged {
    fn create(dest: &Path) -> std::io::Result<Staged> {
        let dir = parent_dir(dest);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Readable too: the directory formats unpack the download from it.
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .mode(0o644)
                .custom_flags(libc::O_TMPFILE)
                .open(&dir);
            match f {
                Ok(f) => return Ok(Staged::Anonymous(f, dir)),
                // Filesystems without O_TMPFILE: fall back to a named temporary file.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {}
                Err(e) => return Err(e),
            }
        }
        tempfile::Builder::new()
            .prefix(".podman-save-")
            .tempfile_in(&dir)
            .map(Staged::Named)
    }

    fn file(&mut self) -> &mut File {
        match self {
            #[cfg(target_os = "linux")]
            Staged::Anonymous(f, _) => f,
            Staged::Named(t) => t.as_file_mut(),
        }
    }

    fn commit(self, dest: &Path) -> std::io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Staged::Anonymous(f, dir) => {
                use std::os::unix::ffi::OsStrExt;
                use std::os::unix::io::AsRawFd;
                f.sync_all()?;
                // linkat cannot replace an existing file: link under a unique hidden name,
                // then rename over the destination.
                let tmp = dir.join(format!(
                    ".podman-save-{}-{}",
                    std::process::id(),
                    f.as_raw_fd()
                ));
                let proc = format!("/proc/self/fd/{}\0", f.as_raw_fd());
                let mut tmp_c = tmp.as_os_str().as_bytes().to_vec();
                tmp_c.push(0);
                // SAFETY: both paths are NUL-terminated buffers alive for the call.
                let r = unsafe {
                    libc::linkat(
                        libc::AT_FDCWD,
                        proc.as_ptr().cast(),
                        libc::AT_FDCWD,
                        tmp_c.as_ptr().cast(),
                        libc::AT_SYMLINK_FOLLOW,
                    )
                };
                if r != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                std::fs::rename(&tmp, dest).inspect_err(|_| {
                    let _ = std::fs::remove_file(&tmp);
                })
            }
            Staged::Named(t) => {
                t.as_file().sync_all()?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    // tempfile creates 0600; podman creates the archive 0644.
                    let _ = t
                        .as_file()
                        .set_permissions(std::fs::Permissions::from_mode(0o644));
                }
                t.persist(dest).map(|_| ()).map_err(|e| e.error)
            }
        }
    }
}

/// Resolves when the user asks us to stop (Ctrl-C, kill, hang-up); the exit code is
/// 128 + the signal, as when a shell reports a killed process.
pub(crate) async fn stop_requested() -> u8 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
            _ = hup.recv() => 129,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        130
    }
}

/// Write the export stream to `sink`; chunks go straight from the connection to the file.
async fn stream_export(
    client: &bindings::http::ApiClient,
    opts: &ExportOptions,
    sink: &mut dyn Write,
    what: &str,
) -> Result<(), Failure> {
    let mut body = client.images_export(opts).await?;
    while let Some(chunk) = body.next_chunk().await? {
        sink.write_all(&chunk)
            .map_err(|e| Failure::msg(go_io_error("write", what, &e)))?;
    }
    sink.flush()
        .map_err(|e| Failure::msg(go_io_error("write", what, &e)))?;
    Ok(())
}

pub async fn save(g: &GlobalOpts, a: SaveArgs) -> Result<u8, Failure> {
    if !FORMATS.contains(&a.format.as_str()) {
        return Err(Failure::msg(format!(
            "format value must be one of {}",
            FORMATS.join(" ")
        )));
    }
    if a.images.is_empty() {
        return Err(Failure::msg("need at least 1 argument"));
    }
    if a.compress && a.format != "docker-dir" {
        return Err(Failure::msg(
            "--compress can only be set when --format is 'docker-dir'",
        ));
    }
    let dir_format = a.format.ends_with("-dir");
    if a.output.is_empty() {
        if std::io::stdout().is_terminal() {
            return Err(Failure::msg(
                "refusing to save to terminal. Use -o flag or redirect",
            ));
        }
        if dir_format {
            return Err(Failure::msg(format!(
                "--format {} writes a directory: name it with -o DIR",
                a.format
            )));
        }
    } else if a.output.contains(':') {
        return Err(Failure::msg(format!(
            "invalid filename (should not contain ':') {:?}",
            a.output
        )));
    }
    let opts = ExportOptions {
        references: a.images.clone(),
        format: a.format.clone(),
        compress: a.compress,
        oci_accept_uncompressed_layers: a.uncompressed,
    };
    let client = g.client().await?;
    if a.output.is_empty() {
        let mut out = std::io::stdout().lock();
        stream_export(&client, &opts, &mut out, "/dev/stdout").await?;
        return Ok(0);
    }
    let dest = PathBuf::from(&a.output);
    if dir_format {
        return save_dir(&client, &opts, &dest).await;
    }
    let mut staged =
        Staged::create(&dest).map_err(|e| Failure::msg(go_io_error("open", &a.output, &e)))?;
    let transfer = async {
        stream_export(&client, &opts, staged.file(), &a.output).await?;
        Ok::<(), Failure>(())
    };
    tokio::select! {
        r = transfer => r?,
        // Dropping the staged file on the way out deletes it.
        code = stop_requested() => return Ok(code),
    }
    staged
        .commit(&dest)
        .map_err(|e| Failure::msg(go_io_error("rename", &a.output, &e)))?;
    Ok(0)
}

/// oci-dir / docker-dir: the engine sends a tar of the directory. It is downloaded to an
/// unnamed file, unpacked into a hidden directory beside the destination and renamed into
/// place, so the destination never holds half an image.
async fn save_dir(
    client: &bindings::http::ApiClient,
    opts: &ExportOptions,
    dest: &Path,
) -> Result<u8, Failure> {
    let shown = dest.display().to_string();
    match std::fs::metadata(dest) {
        Ok(m) if !m.is_dir() => {
            return Err(Failure::msg(format!(
                "{shown:?} already exists as a regular file"
            )))
        }
        Ok(_) | Err(_) => {}
    }
    let dir = parent_dir(dest);
    let mut staged = Staged::create(&dir.join(".podman-save.tar"))
        .map_err(|e| Failure::msg(go_io_error("open", &shown, &e)))?;
    let unpack_to = tempfile::Builder::new()
        .prefix(".podman-save-")
        .tempdir_in(&dir)
        .map_err(|e| Failure::msg(go_io_error("mkdir", &shown, &e)))?;
    let cancel = Arc::new(AtomicBool::new(false));
    let target = unpack_to.path().to_path_buf();
    let work = async {
        stream_export(client, opts, staged.file(), &shown).await?;
        let mut file = staged
            .file()
            .try_clone()
            .map_err(|e| Failure::msg(e.to_string()))?;
        let cancel = cancel.clone();
        tokio::task::spawn_blocking(move || unpack(&mut file, &target, &cancel))
            .await
            .map_err(|e| Failure::msg(format!("unpacking the image directory: {e}")))?
    };
    let mut work = std::pin::pin!(work);
    let stopped = tokio::select! {
        r = &mut work => { r?; None }
        code = stop_requested() => Some(code),
    };
    if let Some(code) = stopped {
        // The unpacking thread (if running) stops at its next entry; the temporary
        // directory goes when `unpack_to` is dropped.
        cancel.store(true, Ordering::SeqCst);
        return Ok(code);
    }
    let staged_dir = unpack_to.keep();
    let result = place_dir(&staged_dir, dest);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staged_dir);
    }
    result.map_err(|e| Failure::msg(go_io_error("rename", &shown, &e)))?;
    Ok(0)
}

fn unpack(file: &mut File, target: &Path, cancel: &AtomicBool) -> Result<(), Failure> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut ar = tar::Archive::new(std::io::BufReader::new(file));
    let bad = |e: std::io::Error| Failure::msg(format!("unpacking the image directory: {e}"));
    for entry in ar.entries().map_err(bad)? {
        if cancel.load(Ordering::SeqCst) {
            return Err(Failure::msg("interrupted"));
        }
        // unpack_in refuses entries that would land outside the target.
        entry.map_err(bad)?.unpack_in(target).map_err(bad)?;
    }
    Ok(())
}

/// Move the unpacked directory to `dest`: a rename when `dest` does not exist (or is an
/// empty directory); into an existing directory entry by entry, replacing what is there,
/// as podman untars over it.
fn place_dir(staged: &Path, dest: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(staged, std::fs::Permissions::from_mode(0o755));
    }
    if !dest.exists() {
        return std::fs::rename(staged, dest);
    }
    if std::fs::remove_dir(dest).is_ok() {
        return std::fs::rename(staged, dest);
    }
    for entry in std::fs::read_dir(staged)? {
        let entry = entry?;
        let to = dest.join(entry.file_name());
        if let Ok(m) = std::fs::symlink_metadata(&to) {
            if m.is_dir() {
                std::fs::remove_dir_all(&to)?;
            } else {
                std::fs::remove_file(&to)?;
            }
        }
        std::fs::rename(entry.path(), &to)?;
    }
    std::fs::remove_dir_all(staged)
}

// ---------------------------------------------------------------------------------------------
// load
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from specified archive file (default: stdin).
    #[arg(short, long, default_value = "")]
    pub input: String,
    /// Suppress the output.
    #[arg(short, long)]
    pub quiet: bool,
    /// Not accepted (podman's load takes no arguments).
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `load -i URL`: podman's client downloads the archive to a temporary file and loads that;
/// here it streams from the server into the request (no copy on disk). Unlike podman 4.3, an
/// HTTP error status is an error rather than an error page sent to the engine as an archive.
fn open_url(url: &str) -> Result<impl std::io::Read + Send + 'static, Failure> {
    let resp = ureq::get(url)
        .call()
        .map_err(|e| Failure::msg(format!("downloading {url}: {e}")))?;
    Ok(resp.into_body().into_reader())
}

pub async fn load(g: &GlobalOpts, a: LoadArgs) -> Result<u8, Failure> {
    if !a.args.is_empty() {
        return Err(Failure::msg("`podman load` takes no arguments"));
    }
    let body = if a.input.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(Failure::msg(
                "cannot read from terminal, use command-line redirection or the --input flag",
            ));
        }
        reader_body(std::io::stdin())
    } else {
        if a.input.starts_with("http://") || a.input.starts_with("https://") {
            let url = a.input.clone();
            let reader = tokio::task::spawn_blocking(move || open_url(&url))
                .await
                .map_err(|e| Failure::msg(format!("downloading {}: {e}", a.input)))??;
            let client = g.client().await?;
            let names = client.images_load(reader_body(reader)).await?;
            println!("Loaded image: {}", names.join("\nLoaded image: "));
            return Ok(0);
        }
        let meta = std::fs::metadata(&a.input)
            .map_err(|e| Failure::msg(go_io_error("stat", &a.input, &e)))?;
        if meta.is_dir() {
            return Err(Failure::msg(format!(
                "remote client supports archives only but {:?} is a directory",
                a.input
            )));
        }
        let f =
            File::open(&a.input).map_err(|e| Failure::msg(go_io_error("open", &a.input, &e)))?;
        reader_body(f)
    };
    let client = g.client().await?;
    let names = client.images_load(body).await?;
    // podman prints the names even with --quiet (that only silences local copy progress).
    println!("Loaded image: {}", names.join("\nLoaded image: "));
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// import
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Apply the following possible instructions to the created image.
    #[arg(short = 'c', long)]
    pub change: Vec<String>,
    /// Takes the place of the global `--connection` in this command, so that its `-c` is not
    /// inherited: after `import`, `-c` is `--change`, as in podman. `--connection` itself
    /// still works here (clap copies it to the global options by its id).
    #[arg(
        id = "connection",
        long = "connection",
        hide = true,
        value_name = "NAME"
    )]
    pub connection_here: Option<String>,
    /// Set commit message for imported image.
    #[arg(short, long)]
    pub message: Option<String>,
    /// Set the OS of the imported image.
    #[arg(long)]
    pub os: Option<String>,
    /// Set the architecture of the imported image.
    #[arg(long)]
    pub arch: Option<String>,
    /// Set the variant of the imported image.
    #[arg(long)]
    pub variant: Option<String>,
    /// Suppress output.
    #[arg(short, long)]
    pub quiet: bool,
    /// TARBALL (a file, a URL or - for stdin) and an optional REFERENCE.
    #[arg(allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Whether `s` starts with a URL scheme (Go's `url.ParseRequestURI` plus podman's
/// "missing scheme" check).
fn has_url_scheme(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, _)) => {
            let b = scheme.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphabetic()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

pub async fn import(g: &GlobalOpts, a: ImportArgs) -> Result<u8, Failure> {
    if a.args.len() > 2 || a.args.is_empty() {
        return Err(Failure::msg(format!(
            "accepts between 1 and 2 arg(s), received {}",
            a.args.len()
        )));
    }
    let source = &a.args[0];
    let mut opts = ImportOptions {
        changes: a.change.clone(),
        message: a.message.clone(),
        reference: a.args.get(1).cloned(),
        url: None,
        os: a.os.clone(),
        arch: a.arch.clone(),
        variant: a.variant.clone(),
    };
    let body = if source == "-" {
        reader_body(std::io::stdin())
    } else if has_url_scheme(source) {
        // The engine downloads the tarball itself.
        opts.url = Some(source.clone());
        bindings::http::empty()
    } else if source.contains(':') {
        return Err(Failure::msg(format!(
            "2 errors occurred:\n\t* invalid filename (should not contain ':') {source:?}\n\t* invalid url {source:?}: missing scheme"
        )));
    } else {
        let f = File::open(source).map_err(|e| Failure::msg(go_io_error("open", source, &e)))?;
        reader_body(f)
    };
    let client = g.client().await?;
    let id = client.images_import(body, &opts).await?;
    println!("{id}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes() {
        assert!(has_url_scheme("http://h/x.tar"));
        assert!(has_url_scheme("s3+x://a"));
        assert!(!has_url_scheme("/tmp/x.tar"));
        assert!(!has_url_scheme("./a:b"));
        assert!(!has_url_scheme("x.tar"));
    }

    #[test]
    fn staged_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.tar");
        std::fs::write(&dest, b"old").unwrap();
        let mut s = Staged::create(&dest).unwrap();
        s.file().write_all(b"new archive").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        s.commit(&dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new archive");
        // Nothing else is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_staged_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.tar");
        let mut s = Staged::create(&dest).unwrap();
        s.file().write_all(b"partial").unwrap();
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn dir_placement_replaces_entries() {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("staged");
        std::fs::create_dir_all(staged.join("blobs")).unwrap();
        std::fs::write(staged.join("index.json"), b"{}").unwrap();
        let dest = dir.path().join("dest");
        std::fs::create_dir_all(dest.join("blobs/old")).unwrap();
        std::fs::write(dest.join("keep"), b"k").unwrap();
        place_dir(&staged, &dest).unwrap();
        assert!(dest.join("index.json").exists());
        assert!(!dest.join("blobs/old").exists());
        assert!(dest.join("keep").exists());
        assert!(!staged.exists());
    }
}
