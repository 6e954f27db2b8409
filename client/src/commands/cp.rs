//! `cp` between a container and the local file system (tar streams).
//!
//! The engine's archive endpoint only stats paths, sends a tar of a path and extracts a tar
//! into a directory; like podman's client we decide everything else here: which path to
//! archive, which top-level name to rename, whether the destination must be a directory. Both
//! directions stream: the tar for a copy in is built while it is being sent, the tar of a
//! copy out is extracted while it arrives. A copy out is extracted into a hidden staging
//! directory next to the destination and moved into place only once complete, so an
//! interrupted or failed copy leaves nothing half-written behind.

use std::fs;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use bindings::api::archive::{channel_body, CopyInOptions, PathStat, StatResult};
use bindings::api::logs::BodyReader;
use bindings::http::ApiClient;
use bytes::Bytes;
use clap::{ArgAction, Args};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Chown copied files to the primary uid/gid of the destination container.
    #[arg(short = 'a', long = "archive", action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value_t = true, default_missing_value = "true")]
    pub archive: bool,
    /// Allow to overwrite directories with non-directories and vice versa.
    #[arg(long)]
    pub overwrite: bool,
    /// Deprecated, no effect.
    #[arg(long, hide = true)]
    pub extract: bool,
    /// Deprecated, no effect.
    #[arg(long, hide = true, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value_t = true, default_missing_value = "true")]
    pub pause: bool,
    /// [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
}

pub async fn cp(g: &GlobalOpts, a: CpArgs) -> Result<u8, Failure> {
    if a.paths.len() != 2 {
        return Err(Failure::msg(format!(
            "accepts 2 arg(s), received {}",
            a.paths.len()
        )));
    }
    let (src_ctr, src_path) = parse_user_input(&a.paths[0]);
    let (dst_ctr, dst_path) = parse_user_input(&a.paths[1]);
    if src_path.is_empty() || dst_path.is_empty() {
        return Err(Failure::msg(format!(
            "invalid arguments {:?}, {:?}: you must specify paths",
            a.paths[0], a.paths[1]
        )));
    }
    let client = g.client().await?;
    let opts = Opts {
        chown: a.archive,
        overwrite: a.overwrite,
    };
    match (src_ctr.is_empty(), dst_ctr.is_empty()) {
        (false, false) => {
            container_to_container(&client, &src_ctr, &src_path, &dst_ctr, &dst_path, &opts).await
        }
        (false, true) => copy_from_container(&client, &src_ctr, &src_path, &dst_path, &opts).await,
        // Like podman, a copy between two local paths is reported as a missing container "".
        _ => copy_to_container(&client, &dst_ctr, &dst_path, &src_path, &opts).await,
    }?;
    Ok(0)
}

struct Opts {
    chown: bool,
    overwrite: bool,
}

/// `[CONTAINER:]PATH`; a path starting with "." or "/" never names a container, so local
/// paths with colons work.
fn parse_user_input(input: &str) -> (String, String) {
    if input.is_empty() {
        return (String::new(), String::new());
    }
    if input.starts_with('.') || input.starts_with('/') {
        return (String::new(), input.to_string());
    }
    // `C:\x` on a Windows client is a local path, not container `C` (podman's IsHostWinPath).
    if cfg!(windows) && bindings::winpath::is_host_win_path(input) {
        return (String::new(), input.to_string());
    }
    match input.split_once(':') {
        Some((c, p)) => (c.to_string(), p.to_string()),
        None => (String::new(), input.to_string()),
    }
}

/// podman reports the failures of the two halves of a copy through a multi-error.
fn copy_failure(msg: impl std::fmt::Display) -> Failure {
    Failure::msg(format!("1 error occurred:\n\t* {msg}"))
}

async fn must_exist(client: &ApiClient, container: &str) -> Result<(), Failure> {
    if container.is_empty() || !client.container_exists(container).await? {
        return Err(Failure::msg(format!(
            "container {container:?} does not exist"
        )));
    }
    Ok(())
}

/// The reason podman gives for a failed stat: ENOENT's text for a 404, else the HTTP status.
fn stat_reason(r: &StatResult) -> String {
    match r.status {
        Some(404) => "no such file or directory".into(),
        _ => r.status_text.clone(),
    }
}

async fn stat_existing(
    client: &ApiClient,
    container: &str,
    path: &str,
) -> Result<PathStat, Failure> {
    let r = client.container_stat(container, path).await?;
    match (&r.status, r.info) {
        (None, Some(info)) => Ok(info),
        (None, None) => Err(Failure::msg(format!(
            "{path:?} could not be found on container {container}: the engine sent no file \
             information"
        ))),
        (Some(_), _) => Err(Failure::msg(format!(
            "{path:?} could not be found on container {container}: {}",
            stat_reason(&StatResult {
                info: None,
                status: r.status,
                status_text: r.status_text.clone()
            })
        ))),
    }
}

/// Where a copy into a container lands: the path itself if it exists, else its parent
/// directory (the copy then creates the path). Returns the base name to give the copy, the
/// stat of the directory or file written to, and whether the parent was used.
async fn resolve_destination(
    client: &ApiClient,
    container: &str,
    path: &str,
    is_stdin: bool,
) -> Result<(String, PathStat, bool), Failure> {
    let r = client.container_stat(container, path).await?;
    if r.status.is_none() {
        if let Some(info) = r.info {
            return Ok((go::base(&info.link_target), info, false));
        }
    }
    let reason = stat_reason(&r);
    if path.ends_with('/') {
        return Err(Failure::msg(format!(
            "{path:?} could not be found on container {container}: {reason}"
        )));
    }
    if is_stdin {
        return Err(Failure::msg(
            "destination must be a directory when copying from stdin",
        ));
    }
    // A symlink pointing nowhere: the copy goes to where it points.
    let (base, target) = match &r.info {
        Some(info) => (go::base(&info.link_target), info.link_target.clone()),
        None => (go::base(path), path.to_string()),
    };
    let parent = if target.starts_with('/') {
        go::dir(&target)
    } else {
        let inspect = client
            .container_inspect(container, false)
            .await
            .map_err(|e| {
                Failure::msg(format!(
                    "could not determine parent dir of {target:?} on container {container}: {e}"
                ))
            })?;
        let wd = inspect
            .get("Config")
            .and_then(|c| c.get("WorkingDir"))
            .and_then(|w| w.as_str())
            .unwrap_or("");
        go::dir(&go::join(&[&go::join(&["/", wd]), &target]))
    };
    let pr = client.container_stat(container, &parent).await?;
    match (pr.status, pr.info) {
        (None, Some(info)) => Ok((base, info, true)),
        (status, _) => Err(Failure::msg(format!(
            "{path:?} could not be found on container {container}: {}",
            stat_reason(&StatResult {
                info: None,
                status,
                status_text: pr.status_text
            })
        ))),
    }
}

/// What podman's `ResolveHostPath` learns about a local path (following symlinks).
struct HostInfo {
    is_dir: bool,
    is_regular: bool,
    /// The absolute path, with a trailing "/" or "/." of the input kept.
    link_target: String,
}

fn resolve_host_path(path: &str) -> Result<HostInfo, String> {
    let abs = go::abs(path).map_err(|e| go::io_text(&e))?;
    let resolved = go::preserve_base_path(path, &abs);
    match fs::metadata(&resolved) {
        Ok(m) => Ok(HostInfo {
            is_dir: m.is_dir(),
            is_regular: m.is_file(),
            link_target: resolved,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err("no such file or directory".into()),
        Err(e) => Err(format!("stat {resolved}: {}", go::io_text(&e))),
    }
}

async fn copy_from_container(
    client: &ApiClient,
    container: &str,
    container_path: &str,
    host_path: &str,
    opts: &Opts,
) -> Result<(), Failure> {
    must_exist(client, container).await?;
    let is_stdout = host_path == "-";
    let host_path = if is_stdout { "/dev/stdout" } else { host_path };
    let info = stat_existing(client, container, container_path).await?;

    let (host, host_base, to_parent) = match resolve_host_path(host_path) {
        Ok(h) => {
            let base = go::base(&h.link_target);
            (h, base, false)
        }
        Err(e) => {
            if host_path.ends_with('/') {
                return Err(Failure::msg(format!(
                    "{host_path:?} could not be found on the host: {e}"
                )));
            }
            let parent = resolve_host_path(&go::dir(host_path)).map_err(|_| {
                Failure::msg(format!("{host_path:?} could not be found on the host: {e}"))
            })?;
            (parent, go::base(host_path), true)
        }
    };
    if !is_stdout && !host.is_dir && !host.is_regular {
        return Err(Failure::msg(format!(
            "invalid destination: {:?} must be a directory or a regular file",
            host.link_target
        )));
    }
    // "dir/." into a path that does not exist yet: archive the directory itself and let the
    // rename create the destination.
    let mut target = info.link_target.clone();
    if to_parent && info.is_dir && target.ends_with('.') {
        target = go::dir(&target);
    }
    if !is_stdout && info.is_dir && !host.is_dir {
        return Err(Failure::msg(
            "destination must be a directory when copying a directory",
        ));
    }
    let body = client
        .container_archive_get(container, &target)
        .await
        .map_err(copy_failure)?;
    if is_stdout {
        return pipe_to_stdout(body).await;
    }
    let rename =
        ((!info.is_dir && !host.is_dir) || to_parent).then(|| (go::base(&target), host_base));
    let dir = if host.is_dir {
        host.link_target.clone()
    } else {
        go::dir(&host.link_target)
    };
    let plan = extract::Plan {
        dir: PathBuf::from(dir),
        rename,
        overwrite: opts.overwrite,
    };
    extract_stream(body, plan).await
}

async fn pipe_to_stdout(mut body: BodyReader) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    loop {
        let chunk = tokio::select! {
            c = body.next_chunk() => c.map_err(|e| copy_failure(format!("copying from container: {e}")))?,
            code = interrupted() => return Err(Failure::with_code(code, "")),
        };
        let Some(chunk) = chunk else { break };
        if let Err(e) = out.write_all(&chunk) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(copy_failure(format!("writing to stdout: {e}")));
        }
    }
    out.flush()
        .map_err(|e| copy_failure(format!("writing to stdout: {e}")))
}

/// Resolves on SIGINT or SIGTERM with the exit code a shell reports for that signal, so a
/// copy can clean up before the process ends.
async fn interrupted() -> u8 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut i), Ok(mut t)) => {
                tokio::select! {
                    _ = i.recv() => 130,
                    _ = t.recv() => 143,
                }
            }
            _ => std::future::pending::<u8>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        130
    }
}

/// Feed the response into the extractor (a blocking thread) through a bounded channel.
async fn extract_stream(mut body: BodyReader, plan: extract::Plan) -> Result<(), Failure> {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let worker = tokio::task::spawn_blocking(move || extract::run(ChannelReader::new(rx), plan));
    let mut stopped: Option<u8> = None;
    loop {
        tokio::select! {
            c = body.next_chunk() => match c {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        break; // the extractor is done (or failed); its result says which
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(io::Error::other(format!("copying from container: {e}")))).await;
                    break;
                }
            },
            code = interrupted(), if stopped.is_none() => {
                stopped = Some(code);
                let _ = tx.send(Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"))).await;
                break;
            }
        }
    }
    drop(tx);
    let result = worker
        .await
        .map_err(|e| Failure::msg(format!("the copy to the host stopped: {e}")))?;
    if let Some(code) = stopped {
        return Err(Failure::with_code(code, ""));
    }
    result.map_err(|e| copy_failure(format!("copying to host: {e}")))
}

/// A blocking `Read` over chunks sent from the async side.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    cur: Bytes,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        ChannelReader {
            rx,
            cur: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(c)) => self.cur = c,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = self.cur.len().min(buf.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// A blocking `Write` whose bytes go, in chunks, into a streaming request body.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChannelWriter {
    fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the engine stopped reading the archive",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= CHUNK {
            self.send_buf()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buf()
    }
}

async fn copy_to_container(
    client: &ApiClient,
    container: &str,
    container_path: &str,
    host_path: &str,
    opts: &Opts,
) -> Result<(), Failure> {
    must_exist(client, container).await?;
    let is_stdin = host_path == "-";
    let host_path = if is_stdin { "/dev/stdin" } else { host_path };
    let host = resolve_host_path(host_path)
        .map_err(|e| Failure::msg(format!("{host_path:?} could not be found on the host: {e}")))?;
    let (base, cinfo, to_parent) =
        resolve_destination(client, container, container_path, is_stdin).await?;
    let mut host_target = host.link_target.clone();
    if to_parent && host.is_dir && host_target.ends_with('.') {
        host_target = go::dir(&host_target);
    }
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let producer = if is_stdin {
        if !cinfo.is_dir {
            return Err(Failure::msg(
                "destination must be a directory when copying from stdin",
            ));
        }
        let mut stdin = tokio::io::stdin();
        let head = read_head(&mut stdin).await?;
        if !looks_like_archive(&head) {
            return Err(Failure::msg(
                "source must be a (compressed) tar archive when copying from stdin",
            ));
        }
        Producer::Stdin(tokio::spawn(pump_stdin(stdin, head, tx)))
    } else {
        if host.is_dir && !cinfo.is_dir {
            return Err(Failure::msg(
                "destination must be a directory when copying a directory",
            ));
        }
        let keep_dir_names = host.is_dir && go::base(&host_target) != ".";
        let rename = ((!host.is_dir && !cinfo.is_dir) || to_parent)
            .then(|| (go::base(&host_target), base.clone()));
        let plan = pack::Plan {
            item: host_target.clone(),
            keep_dir_names,
            rename,
        };
        let err_tx = tx.clone();
        Producer::Tar(tokio::task::spawn_blocking(move || {
            let res = pack::run(ChannelWriter::new(tx), &plan);
            if let Err(e) = &res {
                // Abort the upload so the engine does not take a truncated archive as whole.
                let _ = err_tx.blocking_send(Err(io::Error::other(e.clone())));
            }
            res
        }))
    };
    let mut target = cinfo.link_target.clone();
    if !cinfo.is_dir {
        target = go::dir(&target);
    }
    let put_opts = CopyInOptions {
        chown: opts.chown,
        no_overwrite_dir_non_dir: !opts.overwrite,
        rename: None,
    };
    let put = client.container_archive_put(container, &target, &put_opts, channel_body(rx));
    let put_result = tokio::select! {
        r = put => r,
        code = interrupted() => {
            producer.abort();
            return Err(Failure::with_code(code, ""));
        }
    };
    let produced = producer.finish().await;
    if let Err(e) = produced {
        return Err(copy_failure(format!("copying from host: {e}")));
    }
    put_result.map_err(|e| copy_failure(format!("copying to container: {e}")))
}

enum Producer {
    Stdin(tokio::task::JoinHandle<Result<(), String>>),
    Tar(tokio::task::JoinHandle<Result<(), String>>),
}

impl Producer {
    fn abort(&self) {
        match self {
            Producer::Stdin(h) | Producer::Tar(h) => h.abort(),
        }
    }

    async fn finish(self) -> Result<(), String> {
        let h = match self {
            Producer::Stdin(h) | Producer::Tar(h) => h,
        };
        match h.await {
            Ok(r) => r,
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The first block of stdin, enough to recognise a tar header or a compression magic.
async fn read_head(stdin: &mut tokio::io::Stdin) -> Result<Vec<u8>, Failure> {
    let mut head = vec![0u8; 512];
    let mut got = 0;
    while got < head.len() {
        let n = stdin
            .read(&mut head[got..])
            .await
            .map_err(|e| Failure::msg(format!("reading stdin: {e}")))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    head.truncate(got);
    Ok(head)
}

/// podman accepts a tar archive, plain or compressed, on stdin.
fn looks_like_archive(head: &[u8]) -> bool {
    const MAGICS: [&[u8]; 4] = [
        &[0x1f, 0x8b],                         // gzip
        b"BZh",                                // bzip2
        &[0xfd, b'7', b'z', b'X', b'Z', 0x00], // xz
        &[0x28, 0xb5, 0x2f, 0xfd],             // zstd
    ];
    if MAGICS.iter().any(|m| head.starts_with(m)) {
        return true;
    }
    if head.len() < 512 {
        return false;
    }
    // A tar header's checksum: the sum of its bytes with the checksum field read as spaces.
    let field = &head[148..156];
    let text: String = field
        .iter()
        .take_while(|b| **b != 0 && **b != b' ')
        .map(|b| *b as char)
        .collect();
    let text = text.trim();
    let Ok(expected) = u32::from_str_radix(text, 8) else {
        return false;
    };
    let sum: u32 = head[..512]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                b' ' as u32
            } else {
                *b as u32
            }
        })
        .sum();
    sum == expected
}

async fn pump_stdin(
    mut stdin: tokio::io::Stdin,
    head: Vec<u8>,
    tx: mpsc::Sender<io::Result<Bytes>>,
) -> Result<(), String> {
    if tx.send(Ok(Bytes::from(head))).await.is_err() {
        return Ok(());
    }
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = match stdin.read(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                let msg = format!("reading stdin: {e}");
                let _ = tx.send(Err(io::Error::other(msg.clone()))).await;
                return Err(msg);
            }
        };
        if n == 0 {
            return Ok(());
        }
        buf.truncate(n);
        if tx.send(Ok(Bytes::from(buf))).await.is_err() {
            // The engine answered before reading everything; its answer tells why.
            return Ok(());
        }
    }
}

async fn container_to_container(
    client: &ApiClient,
    src: &str,
    src_path: &str,
    dst: &str,
    dst_path: &str,
    opts: &Opts,
) -> Result<(), Failure> {
    must_exist(client, src).await?;
    must_exist(client, dst).await?;
    let sinfo = stat_existing(client, src, src_path).await?;
    let (dbase, dinfo, to_parent) = resolve_destination(client, dst, dst_path, false).await?;
    if sinfo.is_dir && !dinfo.is_dir {
        return Err(Failure::msg(
            "destination must be a directory when copying a directory",
        ));
    }
    let mut src_target = sinfo.link_target.clone();
    let dst_target = if dinfo.is_dir {
        dinfo.link_target.clone()
    } else {
        go::dir(dst_path)
    };
    if to_parent && sinfo.is_dir && src_path.ends_with('.') {
        src_target = go::dir(&src_target);
    }
    let rename = ((!sinfo.is_dir && !dinfo.is_dir) || to_parent).then(|| {
        let mut m = serde_json::Map::new();
        m.insert(go::base(&src_target), serde_json::Value::String(dbase));
        serde_json::Value::Object(m).to_string()
    });
    let mut body = client
        .container_archive_get(src, &src_target)
        .await
        .map_err(copy_failure)?;
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let pump = tokio::spawn(async move {
        loop {
            match body.next_chunk().await {
                Ok(Some(c)) => {
                    if tx.send(Ok(c)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    let msg = e.to_string();
                    let _ = tx.send(Err(io::Error::other(msg.clone()))).await;
                    return Err(msg);
                }
            }
        }
    });
    let put_opts = CopyInOptions {
        chown: opts.chown,
        no_overwrite_dir_non_dir: !opts.overwrite,
        rename,
    };
    let put = client
        .container_archive_put(dst, &dst_target, &put_opts, channel_body(rx))
        .await;
    let pumped: Result<(), String> = pump.await.unwrap_or_else(|e| Err(e.to_string()));
    if let Err(e) = pumped {
        return Err(copy_failure(format!("copying from container: {e}")));
    }
    put.map_err(|e| copy_failure(format!("copying to container: {e}")))
}

/// Go's `path/filepath` behaviour, which decides podman's naming rules.
mod go {
    use std::io;

    pub fn clean(p: &str) -> String {
        if p.is_empty() {
            return ".".into();
        }
        let rooted = p.starts_with('/');
        let mut parts: Vec<&str> = Vec::new();
        for c in p.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    if parts.last().is_some_and(|l| *l != "..") {
                        parts.pop();
                    } else if !rooted {
                        parts.push("..");
                    }
                }
                c => parts.push(c),
            }
        }
        let joined = parts.join("/");
        match (rooted, joined.is_empty()) {
            (true, _) => format!("/{joined}"),
            (false, true) => ".".into(),
            (false, false) => joined,
        }
    }

    pub fn base(p: &str) -> String {
        if p.is_empty() {
            return ".".into();
        }
        let t = p.trim_end_matches('/');
        if t.is_empty() {
            return "/".into();
        }
        match t.rfind('/') {
            Some(i) => t[i + 1..].to_string(),
            None => t.to_string(),
        }
    }

    pub fn dir(p: &str) -> String {
        match p.rfind('/') {
            Some(i) => clean(&p[..=i]),
            None => ".".into(),
        }
    }

    pub fn join(parts: &[&str]) -> String {
        let kept: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
        if kept.is_empty() {
            return String::new();
        }
        clean(&kept.join("/"))
    }

    pub fn abs(p: &str) -> io::Result<String> {
        if p.starts_with('/') {
            return Ok(clean(p));
        }
        let cwd = std::env::current_dir()?;
        Ok(join(&[&cwd.to_string_lossy(), p]))
    }

    /// podman's `PreserveBasePath`: cleaning drops a trailing "/" or "/." that decides
    /// whether a directory or its contents are copied, so put it back.
    pub fn preserve_base_path(original: &str, resolved: &str) -> String {
        let mut r = resolved.to_string();
        if original.ends_with('/') {
            if !r.ends_with('/') {
                r.push('/');
            }
            return r;
        }
        if original.ends_with("/.") {
            if r.ends_with('/') {
                r.push('.');
            } else if !r.ends_with("/.") {
                r.push_str("/.");
            }
        }
        r
    }

    /// An I/O error as Go prints it ("permission denied"), without Rust's "(os error N)".
    pub fn io_text(e: &io::Error) -> String {
        let s = e.to_string();
        let s = match s.find(" (os error") {
            Some(i) => s[..i].to_string(),
            None => s,
        };
        let mut c = s.chars();
        match c.next() {
            Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
            None => s,
        }
    }
}

/// Local file trees are packed and unpacked with unix file semantics (modes, owners, hard
/// links, fifos); other platforms get a clear error until a port exists.
#[cfg(not(unix))]
mod pack {
    #[allow(dead_code)]
    pub struct Plan {
        pub item: String,
        pub keep_dir_names: bool,
        pub rename: Option<(String, String)>,
    }
    pub fn run<W: std::io::Write>(_w: W, _plan: &Plan) -> Result<(), String> {
        Err("copying local files is not implemented yet on this platform; use `cp - CONTAINER:DIR` with a tar archive".into())
    }
}

#[cfg(not(unix))]
mod extract {
    #[allow(dead_code)]
    pub struct Plan {
        pub dir: std::path::PathBuf,
        pub rename: Option<(String, String)>,
        pub overwrite: bool,
    }
    pub fn run<R: std::io::Read>(_r: R, _plan: Plan) -> Result<(), String> {
        Err("copying to local files is not implemented yet on this platform; use `cp CONTAINER:PATH -` for a tar archive".into())
    }
}

/// Building the tar of a local path as podman's client does (buildah's copier "get" from
/// "/"): a top-level symlink is followed, symlinks below it are kept, hard links are
/// recorded once, sockets are skipped, and the top-level name may be renamed.
#[cfg(unix)]
mod pack {
    use std::collections::HashMap;
    use std::fs;
    use std::io::{self, Write};
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::path::Path;

    pub struct Plan {
        /// Absolute local path (may end in "/" or "/.").
        pub item: String,
        /// Name entries `base(item)/...` rather than by their path inside `item`.
        pub keep_dir_names: bool,
        /// Rename the top-level name `.0` to `.1`.
        pub rename: Option<(String, String)>,
    }

    pub fn run<W: Write>(w: W, plan: &Plan) -> Result<(), String> {
        let mut b = tar::Builder::new(w);
        b.follow_symlinks(false);
        let mut item = plan.item.clone();
        let mut meta = fs::symlink_metadata(&item)
            .map_err(|e| format!("copier: get: lstat {item:?}: {}", super::go::io_text(&e)))?;
        let mut followed = 0;
        while meta.file_type().is_symlink() {
            if followed >= 16 {
                return Err(format!(
                    "copier: get: resolving symlink {:?}: too many levels of symbolic links",
                    plan.item
                ));
            }
            let link = fs::read_link(&item).map_err(|e| super::go::io_text(&e))?;
            let link = link.to_string_lossy().to_string();
            item = if link.starts_with('/') {
                super::go::clean(&link)
            } else {
                super::go::join(&[&super::go::dir(&item), &link])
            };
            meta = fs::symlink_metadata(&item).map_err(|e| {
                format!(
                    "copier: get: lstat {:?}({item:?}): {}",
                    plan.item,
                    super::go::io_text(&e)
                )
            })?;
            followed += 1;
        }
        let mut links: HashMap<(u64, u64), String> = HashMap::new();
        if meta.is_dir() {
            let prefix = if plan.keep_dir_names {
                super::go::base(&item)
            } else {
                String::new()
            };
            if !prefix.is_empty() {
                add(&mut b, Path::new(&item), &meta, &prefix, plan, &mut links)?;
            }
            walk(&mut b, Path::new(&item), &prefix, plan, &mut links)?;
        } else {
            let name = super::go::base(&plan.item);
            add(&mut b, Path::new(&item), &meta, &name, plan, &mut links)?;
        }
        b.into_inner()
            .and_then(|mut w| w.flush())
            .map_err(|e| e.to_string())
    }

    fn walk<W: Write>(
        b: &mut tar::Builder<W>,
        dir: &Path,
        prefix: &str,
        plan: &Plan,
        links: &mut HashMap<(u64, u64), String>,
    ) -> Result<(), String> {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .map_err(|e| {
                format!(
                    "copier: get: error reading {dir:?}: {}",
                    super::go::io_text(&e)
                )
            })?
            .collect::<Result<_, _>>()
            .map_err(|e| {
                format!(
                    "copier: get: error reading {dir:?}: {}",
                    super::go::io_text(&e)
                )
            })?;
        // filepath.WalkDir visits names in lexical order.
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                // A file removed while we walk is skipped, as podman does.
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => {
                    return Err(format!(
                        "copier: get: error reading {path:?}: {}",
                        super::go::io_text(&err)
                    ))
                }
            };
            if meta.file_type().is_socket() {
                continue;
            }
            let fname = e.file_name().to_string_lossy().to_string();
            let name = if prefix.is_empty() {
                fname
            } else {
                format!("{prefix}/{fname}")
            };
            add(b, &path, &meta, &name, plan, links)?;
            if meta.is_dir() {
                walk(b, &path, &name, plan, links)?;
            }
        }
        Ok(())
    }

    fn renamed(name: &str, plan: &Plan) -> String {
        if let Some((from, to)) = &plan.rename {
            if name == from {
                return to.clone();
            }
            if let Some(rest) = name.strip_prefix(from.as_str()) {
                if let Some(rest) = rest.strip_prefix('/') {
                    return format!("{to}/{rest}");
                }
            }
        }
        name.to_string()
    }

    fn add<W: Write>(
        b: &mut tar::Builder<W>,
        path: &Path,
        meta: &fs::Metadata,
        name: &str,
        plan: &Plan,
        links: &mut HashMap<(u64, u64), String>,
    ) -> Result<(), String> {
        let name = renamed(name, plan);
        let mut h = tar::Header::new_gnu();
        h.set_mode(meta.mode() & 0o7777);
        h.set_uid(meta.uid() as u64);
        h.set_gid(meta.gid() as u64);
        h.set_mtime(meta.mtime().max(0) as u64);
        h.set_size(0);
        let ft = meta.file_type();
        let werr = |e: io::Error| format!("writing the archive entry {name:?}: {e}");
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            b.append_data(&mut h, format!("{name}/"), io::empty())
                .map_err(werr)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(path)
                .map_err(|e| format!("copier: get: readlink({name:?}({path:?})): {e}"))?;
            h.set_entry_type(tar::EntryType::Symlink);
            b.append_link(&mut h, &name, &target).map_err(werr)?;
        } else if ft.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = links.get(&key) {
                    h.set_entry_type(tar::EntryType::Link);
                    b.append_link(&mut h, &name, first).map_err(werr)?;
                    return Ok(());
                }
                links.insert(key, name.clone());
            }
            let f = fs::File::open(path).map_err(|e| {
                format!(
                    "opening file for adding its contents to archive: open {}: {}",
                    path.display(),
                    super::go::io_text(&e)
                )
            })?;
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(meta.len());
            // A file that changes size while we read it would corrupt the archive; the tar
            // writer refuses short reads, and extra bytes are never read.
            b.append_data(&mut h, &name, io::Read::take(f, meta.len()))
                .map_err(werr)?;
        } else if ft.is_fifo() {
            h.set_entry_type(tar::EntryType::Fifo);
            b.append_data(&mut h, &name, io::empty()).map_err(werr)?;
        } else if ft.is_char_device() || ft.is_block_device() {
            h.set_entry_type(if ft.is_char_device() {
                tar::EntryType::Char
            } else {
                tar::EntryType::Block
            });
            let rdev = meta.rdev();
            let major = ((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff);
            let minor = ((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff);
            h.set_device_major(major as u32).map_err(werr)?;
            h.set_device_minor(minor as u32).map_err(werr)?;
            b.append_data(&mut h, &name, io::empty()).map_err(werr)?;
        }
        Ok(())
    }
}

/// Extracting a tar from the engine into a local directory as podman's client does
/// (buildah's copier "put"): modes and times from the archive, symlinks kept, devices
/// ignored, files owned by the user running the copy; an existing directory is not
/// replaced by a non-directory or the reverse unless `--overwrite`. Everything lands first in
/// a staging directory inside the destination directory and is moved into place at the end.
#[cfg(unix)]
mod extract {
    use std::fs;
    use std::io::{self, Read};
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    use std::path::{Component, Path, PathBuf};

    use filetime::FileTime;

    pub struct Plan {
        /// The existing local directory the archive's entries go into.
        pub dir: PathBuf,
        /// Rename the archive's top-level name `.0` to `.1`.
        pub rename: Option<(String, String)>,
        pub overwrite: bool,
    }

    struct DirMeta {
        rel: PathBuf,
        mode: u32,
        mtime: FileTime,
    }

    pub fn run<R: Read>(r: R, plan: Plan) -> Result<(), String> {
        let staging = tempfile::Builder::new()
            .prefix(".podman-remote-cp-")
            .tempdir_in(&plan.dir)
            .map_err(|e| {
                format!(
                    "creating a staging directory in {}: {}",
                    plan.dir.display(),
                    super::go::io_text(&e)
                )
            })?;
        let root = staging.path().to_path_buf();
        let mut dirs: Vec<DirMeta> = Vec::new();
        let mut archive = tar::Archive::new(r);
        let entries = archive
            .entries()
            .map_err(|e| format!("reading the archive: {e}"))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("reading the archive: {e}"))?;
            let raw = entry
                .path()
                .map_err(|e| format!("reading the archive: {e}"))?
                .to_string_lossy()
                .to_string();
            let Some(rel) = relative(&raw, &plan) else {
                continue; // the archive's root itself
            };
            let target = root.join(&rel);
            ensure_parents(&root, &rel)?;
            let h = entry.header();
            let mode = h.mode().unwrap_or(0o644) & 0o7777;
            let mtime = FileTime::from_unix_time(h.mtime().unwrap_or(0) as i64, 0);
            let kind = h.entry_type();
            let fail = |what: &str, e: io::Error| {
                format!("{what} {:?}: {}", rel.display(), super::go::io_text(&e))
            };
            match kind {
                tar::EntryType::Directory => {
                    match fs::symlink_metadata(&target) {
                        Ok(m) if m.is_dir() => {}
                        Ok(_) => {
                            remove_any(&target).map_err(|e| fail("replacing", e))?;
                            fs::create_dir(&target).map_err(|e| fail("creating directory", e))?;
                        }
                        Err(_) => {
                            fs::create_dir(&target).map_err(|e| fail("creating directory", e))?
                        }
                    }
                    // Owner-writable until the end, so entries can still be added inside.
                    fs::set_permissions(&target, fs::Permissions::from_mode(0o700))
                        .map_err(|e| fail("setting permissions of", e))?;
                    dirs.push(DirMeta { rel, mode, mtime });
                }
                tar::EntryType::Regular
                | tar::EntryType::Continuous
                | tar::EntryType::GNUSparse => {
                    remove_existing(&target).map_err(|e| fail("replacing", e))?;
                    let mut f = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(&target)
                        .map_err(|e| fail("creating file", e))?;
                    let size = entry.header().size().unwrap_or(0);
                    let copied = io::copy(&mut entry, &mut f).map_err(|e| fail("writing", e))?;
                    if copied != size {
                        return Err(format!(
                            "the archive ended inside {:?} ({copied} of {size} bytes)",
                            rel.display()
                        ));
                    }
                    f.sync_all().map_err(|e| fail("writing", e))?;
                    drop(f);
                    fs::set_permissions(&target, fs::Permissions::from_mode(mode))
                        .map_err(|e| fail("setting permissions of", e))?;
                    filetime::set_file_times(&target, mtime, mtime)
                        .map_err(|e| fail("setting times of", e))?;
                }
                tar::EntryType::Symlink => {
                    let link = entry
                        .link_name()
                        .map_err(|e| format!("reading the archive: {e}"))?
                        .ok_or_else(|| format!("symlink {:?} has no target", rel.display()))?
                        .into_owned();
                    remove_existing(&target).map_err(|e| fail("replacing", e))?;
                    std::os::unix::fs::symlink(&link, &target)
                        .map_err(|e| fail("creating symlink", e))?;
                    let _ = filetime::set_symlink_file_times(&target, mtime, mtime);
                }
                tar::EntryType::Link => {
                    let link = entry
                        .link_name()
                        .map_err(|e| format!("reading the archive: {e}"))?
                        .ok_or_else(|| format!("hard link {:?} has no target", rel.display()))?
                        .to_string_lossy()
                        .to_string();
                    let Some(src_rel) = relative(&link, &plan) else {
                        return Err(format!(
                            "hard link {:?} points at the archive's root",
                            rel.display()
                        ));
                    };
                    remove_existing(&target).map_err(|e| fail("replacing", e))?;
                    fs::hard_link(root.join(&src_rel), &target)
                        .map_err(|e| fail("creating hard link", e))?;
                }
                tar::EntryType::Fifo => {
                    remove_existing(&target).map_err(|e| fail("replacing", e))?;
                    make_fifo(&target, mode).map_err(|e| fail("creating fifo", e))?;
                }
                // Devices are not created on the host (podman: IgnoreDevices), and other
                // entry kinds carry nothing to write.
                _ => {}
            }
        }
        // Deepest first, so setting a directory's time is not undone by its children.
        for d in dirs.iter().rev() {
            let p = root.join(&d.rel);
            fs::set_permissions(&p, fs::Permissions::from_mode(d.mode)).map_err(|e| {
                format!(
                    "setting permissions of {:?}: {}",
                    d.rel.display(),
                    super::go::io_text(&e)
                )
            })?;
            let _ = filetime::set_file_times(&p, d.mtime, d.mtime);
        }
        let staged = list(&root)?;
        for name in &staged {
            check(&root.join(name), &plan.dir.join(name), plan.overwrite)?;
        }
        for name in &staged {
            commit(&root.join(name), &plan.dir.join(name))?;
        }
        staging
            .close()
            .map_err(|e| format!("removing the staging directory: {e}"))
    }

    fn make_fifo(path: &Path, mode: u32) -> io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
        // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// An entry name as a path inside the destination: ".." cannot climb above it (as in
    /// copier's chroot), and the top-level name is renamed. `None` for the root itself.
    fn relative(raw: &str, plan: &Plan) -> Option<PathBuf> {
        let mut parts: Vec<String> = Vec::new();
        for c in Path::new(raw).components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().to_string()),
                Component::ParentDir => {
                    parts.pop();
                }
                _ => {}
            }
        }
        if parts.is_empty() {
            return None;
        }
        if let Some((from, to)) = &plan.rename {
            if &parts[0] == from {
                let mut renamed: Vec<String> = to
                    .split('/')
                    .filter(|s| !s.is_empty() && *s != "." && *s != "..")
                    .map(str::to_string)
                    .collect();
                renamed.extend(parts.drain(1..));
                parts = renamed;
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(parts.iter().collect())
    }

    /// Create missing parent directories inside the staging root and refuse to write
    /// through a symlink the archive itself created (it could point anywhere).
    fn ensure_parents(root: &Path, rel: &Path) -> Result<(), String> {
        let mut cur = root.to_path_buf();
        let comps: Vec<_> = rel.components().collect();
        for c in &comps[..comps.len().saturating_sub(1)] {
            cur.push(c);
            match fs::symlink_metadata(&cur) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!(
                        "archive entry {:?} lies beneath the symbolic link {:?}",
                        rel.display(),
                        cur.strip_prefix(root).unwrap_or(&cur).display()
                    ))
                }
                Ok(_) => {
                    return Err(format!(
                        "archive entry {:?} lies beneath a non-directory",
                        rel.display()
                    ))
                }
                Err(_) => fs::create_dir(&cur).map_err(|e| {
                    format!(
                        "creating directory {:?}: {}",
                        cur.display(),
                        super::go::io_text(&e)
                    )
                })?,
            }
        }
        Ok(())
    }

    fn remove_existing(p: &Path) -> io::Result<()> {
        match fs::symlink_metadata(p) {
            Ok(_) => remove_any(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn remove_any(p: &Path) -> io::Result<()> {
        let m = fs::symlink_metadata(p)?;
        if m.is_dir() {
            fs::remove_dir_all(p)
        } else {
            fs::remove_file(p)
        }
    }

    fn list(dir: &Path) -> Result<Vec<std::ffi::OsString>, String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .and_then(|rd| rd.map(|e| e.map(|e| e.file_name())).collect())
            .map_err(|e: io::Error| {
                format!("reading {}: {}", dir.display(), super::go::io_text(&e))
            })?;
        names.sort();
        Ok(names)
    }

    /// Would moving `src` onto `dst` replace a directory by a non-directory or the reverse?
    fn check(src: &Path, dst: &Path, overwrite: bool) -> Result<(), String> {
        let src_dir = fs::symlink_metadata(src)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if src_dir {
            // A directory merges into an existing directory, also one reached by a symlink.
            match fs::metadata(dst) {
                Ok(m) if m.is_dir() => {
                    for name in list(src)? {
                        check(&src.join(&name), &dst.join(&name), overwrite)?;
                    }
                    Ok(())
                }
                Ok(_) if !overwrite => Err(format!(
                    "cannot overwrite non-directory {:?} with a directory (use --overwrite)",
                    dst.display()
                )),
                _ => Ok(()),
            }
        } else {
            match fs::symlink_metadata(dst) {
                Ok(m) if m.is_dir() && !overwrite => Err(format!(
                    "cannot overwrite directory {:?} with a non-directory (use --overwrite)",
                    dst.display()
                )),
                _ => Ok(()),
            }
        }
    }

    /// Move `src` into place at `dst`: a new name is one rename (a whole tree appears at
    /// once), a file replaces a file atomically, directories merge.
    fn commit(src: &Path, dst: &Path) -> Result<(), String> {
        let fail = |what: &str, p: &Path, e: io::Error| {
            format!("{what} {:?}: {}", p.display(), super::go::io_text(&e))
        };
        let src_meta = fs::symlink_metadata(src).map_err(|e| fail("reading", src, e))?;
        if src_meta.is_dir() {
            if let Ok(m) = fs::metadata(dst) {
                if m.is_dir() {
                    for name in list(src)? {
                        commit(&src.join(&name), &dst.join(&name))?;
                    }
                    // The archive's mode and time for a directory that already existed.
                    let _ = fs::set_permissions(dst, src_meta.permissions());
                    let t = FileTime::from_last_modification_time(&src_meta);
                    let _ = filetime::set_file_times(dst, t, t);
                    return Ok(());
                }
                remove_any(dst).map_err(|e| fail("replacing", dst, e))?;
            }
        } else if let Ok(m) = fs::symlink_metadata(dst) {
            if m.is_dir() {
                fs::remove_dir_all(dst).map_err(|e| fail("replacing", dst, e))?;
            }
        }
        fs::rename(src, dst).map_err(|e| fail("moving into place", dst, e))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn user_input() {
        assert_eq!(parse_user_input("c:/a"), ("c".into(), "/a".into()));
        assert_eq!(parse_user_input("./c:/a"), ("".into(), "./c:/a".into()));
        assert_eq!(parse_user_input("/x:y"), ("".into(), "/x:y".into()));
        assert_eq!(parse_user_input("file"), ("".into(), "file".into()));
        assert_eq!(parse_user_input("c:"), ("c".into(), "".into()));
        assert_eq!(parse_user_input("-"), ("".into(), "-".into()));
    }

    #[test]
    fn go_paths() {
        assert_eq!(go::base("/d/."), ".");
        assert_eq!(go::base("/d/"), "d");
        assert_eq!(go::base("/"), "/");
        assert_eq!(go::base(""), ".");
        assert_eq!(go::dir("/d/."), "/d");
        assert_eq!(go::dir("nodir/x"), "nodir");
        assert_eq!(go::dir("x"), ".");
        assert_eq!(go::dir("/x"), "/");
        assert_eq!(go::clean("/a/../../b/./c/"), "/b/c");
        assert_eq!(go::clean("a/../.."), "..");
        assert_eq!(go::join(&["/", "", "rel"]), "/rel");
        assert_eq!(go::preserve_base_path("src/.", "/w/src"), "/w/src/.");
        assert_eq!(go::preserve_base_path("src/", "/w/src"), "/w/src/");
        assert_eq!(go::preserve_base_path("/.", "/"), "/.");
    }

    #[test]
    fn archive_sniffing() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        b.append_data(&mut h, "x", &b"hi"[..]).unwrap();
        let tarball = b.into_inner().unwrap();
        assert!(looks_like_archive(&tarball[..512]));
        assert!(looks_like_archive(&[0x1f, 0x8b, 8, 0]));
        assert!(!looks_like_archive(b"hello world"));
        assert!(!looks_like_archive(&[0u8; 512]));
    }

    fn sample_tree(dir: &Path) {
        fs::create_dir_all(dir.join("src/sub")).unwrap();
        fs::write(dir.join("src/a"), b"alpha").unwrap();
        fs::write(dir.join("src/sub/b"), b"beta").unwrap();
        std::os::unix::fs::symlink("a", dir.join("src/la")).unwrap();
        fs::hard_link(dir.join("src/a"), dir.join("src/ha")).unwrap();
    }

    fn names(tarball: &[u8]) -> Vec<String> {
        tar::Archive::new(tarball)
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
            .collect()
    }

    #[test]
    fn pack_names_entries_like_podman() {
        let t = tempfile::tempdir().unwrap();
        sample_tree(t.path());
        let item = t.path().join("src").to_string_lossy().to_string();
        let mut out = Vec::new();
        let plan = pack::Plan {
            item: item.clone(),
            keep_dir_names: true,
            rename: None,
        };
        pack::run(&mut out, &plan).unwrap();
        assert_eq!(
            names(&out),
            ["src/", "src/a", "src/ha", "src/la", "src/sub/", "src/sub/b"]
        );
        let mut out = Vec::new();
        let plan = pack::Plan {
            item: format!("{item}/."),
            keep_dir_names: false,
            rename: None,
        };
        pack::run(&mut out, &plan).unwrap();
        assert_eq!(names(&out), ["a", "ha", "la", "sub/", "sub/b"]);
        let mut out = Vec::new();
        let plan = pack::Plan {
            item,
            keep_dir_names: true,
            rename: Some(("src".into(), "dst".into())),
        };
        pack::run(&mut out, &plan).unwrap();
        assert_eq!(names(&out)[0], "dst/");
        let kinds: Vec<tar::EntryType> = tar::Archive::new(&out[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().header().entry_type())
            .collect();
        assert_eq!(kinds[2], tar::EntryType::Link);
        assert_eq!(kinds[3], tar::EntryType::Symlink);
    }

    #[test]
    fn extract_round_trip_renames_and_merges() {
        let t = tempfile::tempdir().unwrap();
        sample_tree(t.path());
        let mut out = Vec::new();
        let plan = pack::Plan {
            item: t.path().join("src").to_string_lossy().to_string(),
            keep_dir_names: true,
            rename: None,
        };
        pack::run(&mut out, &plan).unwrap();

        let dest = t.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let plan = extract::Plan {
            dir: dest.clone(),
            rename: Some(("src".into(), "copy".into())),
            overwrite: false,
        };
        extract::run(&out[..], plan).unwrap();
        assert_eq!(fs::read(dest.join("copy/a")).unwrap(), b"alpha");
        assert_eq!(fs::read(dest.join("copy/sub/b")).unwrap(), b"beta");
        assert_eq!(fs::read_link(dest.join("copy/la")).unwrap(), Path::new("a"));
        assert_eq!(fs::read(dest.join("copy/ha")).unwrap(), b"alpha");
        // Only the result is left: no staging directory.
        let left: Vec<_> = fs::read_dir(&dest)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["copy"]);

        // Merging into the existing tree replaces files and keeps unrelated ones.
        fs::write(dest.join("copy/a"), b"old").unwrap();
        fs::write(dest.join("copy/mine"), b"keep").unwrap();
        let plan = extract::Plan {
            dir: dest.clone(),
            rename: Some(("src".into(), "copy".into())),
            overwrite: false,
        };
        extract::run(&out[..], plan).unwrap();
        assert_eq!(fs::read(dest.join("copy/a")).unwrap(), b"alpha");
        assert_eq!(fs::read(dest.join("copy/mine")).unwrap(), b"keep");
    }

    #[test]
    fn extract_refuses_dir_over_file_and_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        sample_tree(t.path());
        let mut out = Vec::new();
        let plan = pack::Plan {
            item: t.path().join("src").to_string_lossy().to_string(),
            keep_dir_names: true,
            rename: None,
        };
        pack::run(&mut out, &plan).unwrap();
        let dest = t.path().join("dest");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("src"), b"a file").unwrap();
        let plan = extract::Plan {
            dir: dest.clone(),
            rename: None,
            overwrite: false,
        };
        let err = extract::run(&out[..], plan).unwrap_err();
        assert!(err.contains("non-directory"), "{err}");
        let left: Vec<_> = fs::read_dir(&dest)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["src"]);
        assert_eq!(fs::read(dest.join("src")).unwrap(), b"a file");
    }

    #[test]
    fn extract_of_a_truncated_archive_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("big"), vec![7u8; 100_000]).unwrap();
        let mut out = Vec::new();
        let plan = pack::Plan {
            item: t.path().join("big").to_string_lossy().to_string(),
            keep_dir_names: false,
            rename: None,
        };
        pack::run(&mut out, &plan).unwrap();
        let dest = t.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let plan = extract::Plan {
            dir: dest.clone(),
            rename: None,
            overwrite: false,
        };
        assert!(extract::run(&out[..50_000], plan).is_err());
        assert_eq!(fs::read_dir(&dest).unwrap().count(), 0);
    }

    #[test]
    fn extract_stays_inside_the_destination() {
        let t = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "esc", "/").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, "esc/pwned", &b"x"[..]).unwrap();
        let tarball = b.into_inner().unwrap();
        let dest = t.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let plan = extract::Plan {
            dir: dest.clone(),
            rename: None,
            overwrite: false,
        };
        assert!(extract::run(&tarball[..], plan).is_err());
        assert!(!Path::new("/pwned").exists());
        assert_eq!(fs::read_dir(&dest).unwrap().count(), 0);
    }
}

#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;

    /// On Windows `C:\x` is a local path (podman's IsHostWinPath), not container `C`; as in
    /// podman, a one-letter container name cannot be used with a drive-like path there.
    #[test]
    fn drive_paths_are_local_not_containers() {
        assert_eq!(parse_user_input(r"C:\x\y"), ("".into(), r"C:\x\y".into()));
        assert_eq!(parse_user_input("c:/a"), ("".into(), "c:/a".into()));
        assert_eq!(
            parse_user_input(r"\\srv\share\f"),
            ("".into(), r"\\srv\share\f".into())
        );
        assert_eq!(
            parse_user_input("ctr:/etc/hosts"),
            ("ctr".into(), "/etc/hosts".into())
        );
    }
}
