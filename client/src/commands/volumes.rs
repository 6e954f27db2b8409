//! `volume ...`: create, ls, inspect, rm, prune, exists, export, import.
//!
//! Also home of the small helpers the network and secret commands share with it (key=value
//! parsing, podman's error list, the prune prompt and the JSON encoder of `ls --format json`).

use std::collections::HashMap;
use std::io::{self, Write};

use bindings::api::volumes::VolumeCreate;
use clap::Args;
use serde_json::{Map, Value};

use super::argcheck::exact_args;
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// podman's label/option syntax: `key=value`, or a bare `key` meaning an empty value.
pub(crate) fn parse_kv(items: &[String]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (s.to_string(), String::new()),
        })
        .collect()
}

pub(crate) fn kv_map(items: &[String]) -> Map<String, Value> {
    parse_kv(items)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

/// Errors of a multi-object command as podman prints them: every one but the last as an
/// `Error:` line, the last one as the command's own error with the given exit code.
pub(crate) struct Errors {
    list: Vec<String>,
    code: Option<u8>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Errors {
            list: Vec::new(),
            code: None,
        }
    }

    /// `code` is the exit code this error selects (podman keeps the last one set).
    pub(crate) fn push(&mut self, message: String, code: Option<u8>) {
        if code.is_some() {
            self.code = code;
        }
        self.list.push(message);
    }

    pub(crate) fn finish(mut self) -> Result<u8, Failure> {
        let Some(last) = self.list.pop() else {
            return Ok(0);
        };
        for e in &self.list {
            eprintln!("Error: {e}");
        }
        Err(Failure::with_code(
            self.code.unwrap_or(crate::exit::EXIT_ERROR),
            last,
        ))
    }
}

/// The `[y/N]` question of the prune commands; end of input before a newline is podman's
/// `EOF` error, anything but an answer starting with `y` means no.
pub(crate) fn confirm() -> Result<bool, Failure> {
    print!("Are you sure you want to continue? [y/N] ");
    io::stdout().flush()?;
    let mut answer = String::new();
    let n = io::stdin().read_line(&mut answer)?;
    if n == 0 || !answer.ends_with('\n') {
        return Err(Failure::msg("EOF"));
    }
    Ok(answer.to_lowercase().starts_with('y'))
}

/// The `ls --format json` encoder of podman 4.x (json-iterator's `MarshalIndent`): Go's
/// encoding except that an empty object still opens an indented line.
pub(crate) fn ls_json(v: &Value, indent: &str) -> String {
    let mut out = String::new();
    encode_ls(&mut out, v, indent, 0);
    out
}

fn encode_ls(out: &mut String, v: &Value, indent: &str, depth: usize) {
    let nl = |out: &mut String, d: usize| {
        out.push('\n');
        for _ in 0..d {
            out.push_str(indent);
        }
    };
    match v {
        Value::Array(a) if !a.is_empty() => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                encode_ls(out, item, indent, depth + 1);
            }
            nl(out, depth);
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            if m.is_empty() {
                nl(out, depth + 1);
            }
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                out.push_str(&format::to_go_json(&Value::String(k.clone()), true, None));
                out.push_str(": ");
                encode_ls(out, item, indent, depth + 1);
            }
            nl(out, depth);
            out.push('}');
        }
        other => out.push_str(&format::to_go_json(other, true, None)),
    }
}

pub(crate) fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn template_failure(e: impl std::fmt::Display) -> Failure {
    Failure::msg(e.to_string())
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct VolumeCreateArgs {
    /// Specify volume driver name.
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume.
    #[arg(short, long, value_delimiter = ',')]
    pub label: Vec<String>,
    /// Set driver specific options.
    #[arg(short, long)]
    pub opt: Vec<String>,
    /// Do not fail if the volume already exists.
    #[arg(long)]
    pub ignore: bool,
    /// Name of the volume (generated when omitted).
    pub name: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeLsArgs {
    /// Filter volume output.
    #[arg(short, long, value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Format volume output using JSON or a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Do not print headers.
    #[arg(long)]
    pub noheading: bool,
    /// Print volume output in quiet mode.
    #[arg(short, long)]
    pub quiet: bool,
    /// (podman takes no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeInspectArgs {
    /// Inspect all volumes.
    #[arg(short, long)]
    pub all: bool,
    /// Format volume output using Go template.
    #[arg(short, long, default_value = "json")]
    pub format: String,
    /// Volumes to inspect.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeRmArgs {
    /// Remove all volumes.
    #[arg(short, long)]
    pub all: bool,
    /// Remove a volume by force, even if it is being used by a container.
    #[arg(short, long)]
    pub force: bool,
    /// Seconds to wait for running containers to stop before killing the container.
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    /// Volumes to remove.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumePruneArgs {
    /// Provide filter values (e.g. 'label=<key>=<value>').
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub force: bool,
    /// (podman takes no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeExistsArgs {
    /// The volume.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeExportArgs {
    /// Write to a specified file (default: stdout, which must be redirected).
    #[arg(short, long, default_value = "")]
    pub output: String,
    /// The volume.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeImportArgs {
    /// VOLUME and SOURCE (a tar file, or `-` for stdin).
    pub args: Vec<String>,
}

fn no_args(cmd: &str, args: &[String]) -> Result<(), Failure> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(Failure::msg(format!(
            "`podman {cmd}` takes no arguments, got {:?}",
            args
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

pub async fn create(g: &GlobalOpts, a: VolumeCreateArgs) -> Result<u8, Failure> {
    if a.name.len() > 1 {
        return Err(Failure::msg(
            "too many arguments, create takes at most 1 argument",
        ));
    }
    let client = g.client().await?;
    if a.ignore {
        if let Some(n) = a.name.first() {
            // Engines before 4.4 ignore `IgnoreIfExists`; an existing volume is the answer.
            if client.volume_exists(n).await? {
                println!("{n}");
                return Ok(0);
            }
        }
    }
    let v = client
        .volume_create(&VolumeCreate {
            name: a.name.first().cloned(),
            driver: a.driver,
            labels: kv_map(&a.label),
            options: kv_map(&a.opt),
            ignore_if_exists: a.ignore,
        })
        .await?;
    println!("{}", str_of(&v, "Name"));
    Ok(0)
}

/// A volume as `ls` templates see it: podman's `time.Time` prints with Go's `Time.String`.
fn ls_row(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::String(t)) = v.get_mut("CreatedAt") {
        if let Some(go) = super::lifecycle::go_time_string(t) {
            *t = go;
        }
    }
    for k in ["Labels", "Options"] {
        if let Some(m) = v.as_object_mut() {
            let slot = m.entry(k.to_string()).or_insert(Value::Null);
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
        }
    }
    v
}

pub async fn ls(g: &GlobalOpts, a: VolumeLsArgs) -> Result<u8, Failure> {
    no_args("volume ls", &a.args)?;
    let client = g.client().await?;
    let list = client.volumes(&a.filter).await?;
    let mut out = io::stdout().lock();
    let fmt = a.format.as_deref();
    if fmt.is_some_and(format::is_json) {
        writeln!(out, "{}", ls_json(&Value::Array(list), "  "))?;
        return Ok(0);
    }
    if a.quiet {
        for v in &list {
            writeln!(out, "{}", str_of(v, "Name"))?;
        }
        return Ok(0);
    }
    let rows: Vec<Value> = list.iter().map(ls_row).collect();
    let (template, user) = match fmt {
        Some(f) if !f.is_empty() => (f.to_string(), true),
        _ => ("{{.Driver}}\t{{.Name}}".to_string(), false),
    };
    format::print_rows(
        &template,
        &rows,
        &headers(&[("Name", "VOLUME NAME")]),
        user,
        a.noheading,
        &mut out,
    )
    .map_err(template_failure)?;
    Ok(0)
}

pub async fn inspect(g: &GlobalOpts, a: VolumeInspectArgs) -> Result<u8, Failure> {
    if a.all && !a.names.is_empty() {
        return Err(Failure::msg(
            "when using the --all switch, you may not pass any volume names or IDs",
        ));
    }
    let names = if a.all {
        let client = g.client().await?;
        client
            .volumes(&[])
            .await?
            .iter()
            .map(|v| str_of(v, "Name").to_string())
            .collect()
    } else {
        if a.names.is_empty() {
            return Err(Failure::msg(
                "provide one or more volume names or use --all",
            ));
        }
        a.names
    };
    if names.is_empty() {
        println!("[]");
        return Ok(0);
    }
    super::lifecycle::run_inspect(g, "volume", &a.format, false, &names).await
}

/// podman's exit codes of `volume rm`: 1 for an unknown volume, 2 for one in use.
fn rm_code(message: &str) -> Option<u8> {
    if message.contains("no such volume") {
        Some(1)
    } else if message.contains("volume is being used") {
        Some(2)
    } else {
        None
    }
}

pub async fn rm(g: &GlobalOpts, a: VolumeRmArgs) -> Result<u8, Failure> {
    if (a.all && !a.names.is_empty()) || (!a.all && a.names.is_empty()) {
        return Err(Failure::msg("choose either one or more volumes or all"));
    }
    let client = g.client().await?;
    let names: Vec<String> = if a.all {
        client
            .volumes(&[])
            .await?
            .iter()
            .map(|v| str_of(v, "Name").to_string())
            .collect()
    } else {
        a.names
    };
    let mut errs = Errors::new();
    let mut out = io::stdout().lock();
    for n in &names {
        match client.volume_remove(n, a.force, a.time).await {
            Ok(()) => writeln!(out, "{n}")?,
            Err(e) if e.status().is_some() => {
                let m = e.to_string();
                let code = rm_code(&m);
                errs.push(m, code);
            }
            Err(e) => return Err(e.into()),
        }
    }
    out.flush()?;
    errs.finish()
}

pub async fn prune(g: &GlobalOpts, a: VolumePruneArgs) -> Result<u8, Failure> {
    no_args("volume prune", &a.args)?;
    let client = g.client().await?;
    if !a.force {
        let mut listing = a.filter.clone();
        listing.push("dangling=true".into());
        let candidates = client.volumes(&listing).await?;
        println!("WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:");
        if candidates.is_empty() {
            println!("No dangling volumes found");
            return Ok(0);
        }
        for v in &candidates {
            println!("{}", str_of(v, "Name"));
        }
        if !confirm()? {
            return Ok(0);
        }
    }
    let reports = client.volume_prune(&a.filter).await?;
    let mut errs = Errors::new();
    let mut out = io::stdout().lock();
    for r in &reports {
        match r
            .get("Err")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
        {
            Some(e) => errs.push(e.to_string(), None),
            None => writeln!(out, "{}", str_of(r, "Id"))?,
        }
    }
    out.flush()?;
    errs.finish()
}

pub async fn exists(g: &GlobalOpts, a: VolumeExistsArgs) -> Result<u8, Failure> {
    exact_args(&a.names, 1)?;
    let client = g.client().await?;
    Ok(if client.volume_exists(&a.names[0]).await? {
        0
    } else {
        1
    })
}

/// An engine without the volume export/import API answers the route with a plain 404.
fn missing_route(e: &bindings::Error) -> bool {
    matches!(e, bindings::Error::Api { status: 404, message, .. } if message == "Not Found" || message == "404 page not found")
}

/// The libpod volume export/import endpoints came with podman 5.0; older engines get the
/// helper-container fallback without a first request that can only fail.
fn has_volume_archive_api(version: &str) -> bool {
    version
        .split('.')
        .next()
        .and_then(|m| m.trim_start_matches('v').parse::<u32>().ok())
        .is_some_and(|major| major >= 5)
}

/// Where the helper container mounts the volume.
const HELPER_MOUNT: &str = "/podman-remote-volume";

/// A container that mounts the volume and is never started, for engines without the volume
/// archive API: the engine's container archive endpoints then read and write the volume.
/// Contents, modes and symlinks come through; ownership does not (those endpoints give every
/// file the container user's owner, root for a rootful engine), unlike podman's local export.
struct Helper {
    name: String,
}

impl Helper {
    fn new(what: &str) -> Helper {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Helper {
            name: format!(
                "podman-remote-volume-{what}-{}-{nanos:08x}",
                std::process::id()
            ),
        }
    }

    /// Create the container from any image the engine already has (it never runs, so which
    /// one does not matter).
    async fn create(
        &self,
        client: &bindings::http::ApiClient,
        volume: &str,
    ) -> Result<(), Failure> {
        let images = client
            .images(&bindings::api::images::ListImages::default())
            .await?;
        let image = images
            .iter()
            .find_map(|i| i.get("Id").and_then(Value::as_str))
            .ok_or_else(|| {
                Failure::msg(format!(
                    "this engine (podman {}) has no volume archive API, and the fallback \
                     needs an image on the engine to create a helper container that mounts \
                     the volume: pull or load any image first",
                    client.server_version()
                ))
            })?
            .to_string();
        let spec = serde_json::json!({
            "name": self.name,
            "image": image,
            "command": ["/bin/true"],
            "volumes": [{"Name": volume, "Dest": HELPER_MOUNT}],
            "netns": {"nsmode": "none"},
            "labels": {"io.podman-remote.helper": "volume-archive"},
        });
        client.container_create(&spec).await?;
        Ok(())
    }

    /// Remove the helper whatever happened (it may not even exist yet).
    async fn remove(&self, client: &bindings::http::ApiClient) {
        let opts = bindings::api::containers::RemoveOptions {
            force: true,
            ignore: true,
            ..Default::default()
        };
        if let Err(e) = client.container_remove(&self.name, &opts).await {
            eprintln!(
                "Error: removing the helper container {}: {e} (remove it with `podman-remote rm -f {}`)",
                self.name, self.name
            );
        }
    }
}

async fn volume_must_exist(client: &bindings::http::ApiClient, name: &str) -> Result<(), Failure> {
    if !client.volume_exists(name).await? {
        return Err(Failure::msg(format!(
            "no volume with name {name:?} found: no such volume"
        )));
    }
    Ok(())
}

pub async fn export(g: &GlobalOpts, a: VolumeExportArgs) -> Result<u8, Failure> {
    use std::io::IsTerminal;
    exact_args(&a.names, 1)?;
    let name = &a.names[0];
    if a.output.is_empty() && io::stdout().is_terminal() {
        return Err(Failure::msg(
            "cannot write to terminal, use command-line redirection or the --output flag",
        ));
    }
    let client = g.client().await?;
    // Ask first, so an unknown volume is reported as such and not as a missing API.
    volume_must_exist(&client, name).await?;
    let helper = Helper::new("export");
    let mut used_helper = false;
    let work = async {
        let api = if has_volume_archive_api(client.server_version()) {
            match client.volume_export(name).await {
                Ok(b) => Some(b),
                Err(e) if missing_route(&e) => None,
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        let body = match api {
            Some(b) => b,
            None => {
                used_helper = true;
                helper.create(&client, name).await?;
                client
                    .container_archive_get(&helper.name, &format!("{HELPER_MOUNT}/."))
                    .await?
            }
        };
        write_export(body, &a.output).await
    };
    let result = tokio::select! {
        r = work => r,
        code = super::transfer::stop_requested() => {
            used_helper = true;
            Err(Failure::with_code(code, "interrupted"))
        }
    };
    if used_helper {
        helper.remove(&client).await;
    }
    result.map(|()| 0)
}

/// The archive to stdout, or to `output` through a temporary file renamed once the whole
/// archive arrived: an interrupted export leaves nothing behind.
async fn write_export(
    mut body: bindings::api::logs::BodyReader,
    output: &str,
) -> Result<(), Failure> {
    if output.is_empty() {
        let mut out = io::stdout().lock();
        while let Some(chunk) = body.next_chunk().await? {
            match out.write_all(&chunk) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(Failure::msg(format!("writing to stdout: {e}"))),
            }
        }
        out.flush()?;
        return Ok(());
    }
    let path = std::path::Path::new(output);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".podman-volume-export-")
        .tempfile_in(&dir)
        .map_err(|e| Failure::msg(format!("open {output}: {e}")))?;
    while let Some(chunk) = body.next_chunk().await? {
        tmp.write_all(&chunk)
            .map_err(|e| Failure::msg(format!("write {output}: {e}")))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Failure::msg(format!("write {output}: {e}")))?;
    tmp.persist(output)
        .map_err(|e| Failure::msg(format!("rename {output}: {}", e.error)))?;
    Ok(())
}

/// The tarball as a streamed request body, read in chunks while the engine consumes it.
fn tar_body(
    mut reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
) -> (bindings::http::Body, tokio::task::JoinHandle<()>) {
    use tokio::io::AsyncReadExt;
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<bytes::Bytes>>(8);
    let pump = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    if tx
                        .send(Ok(bytes::Bytes::copy_from_slice(&buf[..n])))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    break;
                }
            }
        }
    });
    (bindings::api::archive::channel_body(rx), pump)
}

async fn open_source(
    source: &str,
) -> Result<Box<dyn tokio::io::AsyncRead + Unpin + Send>, Failure> {
    if source == "-" {
        return Ok(Box::new(tokio::io::stdin()));
    }
    let f = tokio::fs::File::open(source)
        .await
        .map_err(|e| Failure::msg(format!("open {source}: {e}")))?;
    Ok(Box::new(f))
}

pub async fn import(g: &GlobalOpts, a: VolumeImportArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 2)?;
    let (name, source) = (&a.args[0], &a.args[1]);
    // Opened before connecting: a missing file is reported without touching the engine.
    let mut reader = Some(open_source(source).await?);
    let client = g.client().await?;
    volume_must_exist(&client, name).await?;
    let helper = Helper::new("import");
    let mut used_helper = false;
    let work = async {
        if has_volume_archive_api(client.server_version()) {
            let (body, pump) = tar_body(reader.take().expect("reader"));
            let r = client.volume_import(name, body).await;
            pump.abort();
            match r {
                Ok(()) => return Ok(()),
                // The body was not consumed by a missing route, but it may have been read:
                // only a file can be read again.
                Err(e) if missing_route(&e) && source != "-" => {
                    reader = Some(open_source(source).await?);
                }
                Err(e) => return Err(Failure::from(e)),
            }
        }
        used_helper = true;
        helper.create(&client, name).await?;
        let (body, pump) = tar_body(reader.take().expect("reader"));
        let r = client
            .container_archive_put(
                &helper.name,
                HELPER_MOUNT,
                &bindings::api::archive::CopyInOptions::default(),
                body,
            )
            .await;
        pump.abort();
        r.map_err(Failure::from)
    };
    let result = tokio::select! {
        r = work => r,
        code = super::transfer::stop_requested() => {
            used_helper = true;
            Err(Failure::with_code(code, "interrupted"))
        }
    };
    if used_helper {
        helper.remove(&client).await;
    }
    result.map(|()| 0)
}

#[derive(clap::Subcommand, Debug)]
pub enum VolumeCmd {
    /// Create a new volume.
    Create(VolumeCreateArgs),
    /// List volumes.
    #[command(visible_alias = "list")]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes.
    Inspect(VolumeInspectArgs),
    /// Remove one or more volumes.
    #[command(visible_alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove all unused volumes.
    Prune(VolumePruneArgs),
    /// Check if volume exists.
    Exists(VolumeExistsArgs),
    /// Export volumes.
    Export(VolumeExportArgs),
    /// Import a tarball contents into a podman volume.
    Import(VolumeImportArgs),
}

pub async fn volume(g: &GlobalOpts, c: VolumeCmd) -> Result<u8, Failure> {
    match c {
        VolumeCmd::Create(a) => create(g, a).await,
        VolumeCmd::Ls(a) => ls(g, a).await,
        VolumeCmd::Inspect(a) => inspect(g, a).await,
        VolumeCmd::Rm(a) => rm(g, a).await,
        VolumeCmd::Prune(a) => prune(g, a).await,
        VolumeCmd::Exists(a) => exists(g, a).await,
        VolumeCmd::Export(a) => export(g, a).await,
        VolumeCmd::Import(a) => import(g, a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volume_archive_api_from_engine_version() {
        assert!(!has_volume_archive_api("4.3.1"));
        assert!(!has_volume_archive_api("4.9.4-dev"));
        assert!(has_volume_archive_api("5.0.0"));
        assert!(has_volume_archive_api("v5.2.1"));
        assert!(!has_volume_archive_api(""));
    }

    #[test]
    fn kv_parsing() {
        let m = kv_map(&["a=b".into(), "c".into(), "d=e=f".into()]);
        assert_eq!(Value::Object(m), json!({"a": "b", "c": "", "d": "e=f"}));
    }

    #[test]
    fn ls_json_keeps_jsoniter_empty_objects() {
        let v = json!([{"Name": "v", "Labels": {}, "Options": {"a": "<b>"}, "N": 0}]);
        assert_eq!(
            ls_json(&v, "  "),
            "[\n  {\n    \"Name\": \"v\",\n    \"Labels\": {\n      \n    },\n    \"Options\": {\n      \"a\": \"\\u003cb\\u003e\"\n    },\n    \"N\": 0\n  }\n]"
        );
        assert_eq!(ls_json(&json!([]), "  "), "[]");
    }

    #[test]
    fn rm_exit_codes() {
        assert_eq!(
            rm_code("no volume with name \"x\" found: no such volume"),
            Some(1)
        );
        assert_eq!(
            rm_code("volume v is being used by ...: volume is being used"),
            Some(2)
        );
        assert_eq!(rm_code("other"), None);
    }

    #[test]
    fn ls_rows_print_go_times() {
        let r = ls_row(&json!({"Name": "v", "CreatedAt": "2026-11-28T12:08:40.753688211Z"}));
        assert_eq!(r["CreatedAt"], "2026-11-28 12:08:40.753688211 +0000 UTC");
        assert_eq!(r["Labels"], json!({}));
    }
}
