//! `build` / `image build`: the context streamed as a tar while it is read, ignore files
//! honoured, the builder's output shown as it arrives.

mod context;
mod ignore;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bindings::api::archive::channel_body;
use bindings::api::build::BuildMessage;
use bindings::http::Query;
use bytes::Bytes;
use clap::{ArgAction, Args};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::context::GlobalOpts;
use crate::exit::Failure;

fn bool_value(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("parse error on {s:?}: invalid syntax")),
    }
}

#[derive(Args, Debug, Default)]
pub struct BuildArgs {
    // Boxed: the flags are many and the command enums hold this by value.
    #[command(flatten)]
    pub flags: Box<BuildFlags>,
}

#[derive(Args, Debug, Default)]
pub struct BuildFlags {
    /// Pathname of a Containerfile ("-" reads it from stdin); may be repeated.
    #[arg(short = 'f', long = "file", value_name = "PATHNAME")]
    pub file: Vec<String>,
    /// Tagged name to apply to the built image; may be repeated.
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    pub tag: Vec<String>,
    /// argument=value to supply to the builder (a bare name takes the local environment's value).
    #[arg(long = "build-arg", value_name = "ARGUMENT=VALUE")]
    pub build_arg: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use existing cached images for the container build.
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Pull policy: true/always, missing/false, never, newer.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_name = "POLICY")]
    pub pull: Option<String>,
    /// Always pull the image (same as --pull=always).
    #[arg(long = "pull-always", hide = true)]
    pub pull_always: bool,
    /// Never pull the image (same as --pull=never).
    #[arg(long = "pull-never", hide = true)]
    pub pull_never: bool,
    /// Cache intermediate layers during build (BUILDAH_LAYERS overrides the default).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          action = ArgAction::Set, value_parser = bool_value, value_name = "BOOL")]
    pub layers: Option<bool>,
    /// Set metadata for an image; may be repeated.
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Set an annotation of the image; may be repeated.
    #[arg(long, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// Format of the built image's manifest and metadata: oci or docker (BUILDAH_FORMAT).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// OS/ARCH[/VARIANT] of the image; may be repeated or comma separated.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Set the ARCH of the image.
    #[arg(long)]
    pub arch: Option<String>,
    /// Set the OS of the image.
    #[arg(long)]
    pub os: Option<String>,
    /// Refrain from announcing build instructions and image read/write progress.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Remove intermediate containers after a successful build.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          action = ArgAction::Set, value_parser = bool_value, value_name = "BOOL")]
    pub rm: Option<bool>,
    /// Always remove intermediate containers, even if the build is unsuccessful.
    #[arg(long = "force-rm", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = bool_value,
          value_name = "BOOL")]
    pub force_rm: Option<bool>,
    /// Network for RUN instructions: private, none, host, ns:PATH or a network name.
    #[arg(long, alias = "net", value_name = "MODE")]
    pub network: Option<String>,
    /// File to write the image ID to.
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<String>,
    /// Squash newly built layers into a single new layer.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          action = ArgAction::Set, value_parser = bool_value, value_name = "BOOL")]
    pub squash: Option<bool>,
    /// Squash all layers into a single layer.
    #[arg(long = "squash-all", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = bool_value,
          value_name = "BOOL")]
    pub squash_all: Option<bool>,
    /// Path to an alternate .containerignore/.dockerignore file.
    #[arg(long, value_name = "FILE")]
    pub ignorefile: Option<String>,
    /// How many stages to run in parallel.
    #[arg(long, default_value_t = 1)]
    pub jobs: u64,
    /// Set the created timestamp to these epoch seconds.
    #[arg(long)]
    pub timestamp: Option<i64>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host", value_name = "HOST:IP", value_delimiter = ',')]
    pub add_host: Vec<String>,
    /// Add the specified capability when running.
    #[arg(long = "cap-add", value_delimiter = ',')]
    pub cap_add: Vec<String>,
    /// Drop the specified capability when running.
    #[arg(long = "cap-drop", value_delimiter = ',')]
    pub cap_drop: Vec<String>,
    /// Set custom DNS servers.
    #[arg(long, value_delimiter = ',')]
    pub dns: Vec<String>,
    /// Set custom DNS options.
    #[arg(long = "dns-option", value_delimiter = ',')]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains.
    #[arg(long = "dns-search", value_delimiter = ',')]
    pub dns_search: Vec<String>,
    /// Set an environment variable for the image.
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Unset an environment variable from the final image.
    #[arg(long, value_delimiter = ',')]
    pub unsetenv: Vec<String>,
    /// Image name used to replace the value in the first FROM instruction.
    #[arg(long)]
    pub from: Option<String>,
    /// Add the image to the specified manifest list.
    #[arg(long)]
    pub manifest: Option<String>,
    /// Type of process isolation: oci, rootless or chroot.
    #[arg(long)]
    pub isolation: Option<String>,
    /// Pass through HTTP proxy environment variables.
    #[arg(long = "http-proxy", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = bool_value,
          value_name = "BOOL")]
    pub http_proxy: Option<bool>,
    /// Omit build history information from the built image.
    #[arg(long = "omit-history")]
    pub omit_history: bool,
    /// Optional parent cgroup for the build containers.
    #[arg(long = "cgroup-parent")]
    pub cgroup_parent: Option<String>,
    /// Path of the authentication file (REGISTRY_AUTH_FILE overrides the default).
    #[arg(long, value_name = "PATH")]
    pub authfile: Option<String>,
    /// Use USERNAME[:PASSWORD] for accessing the registry.
    #[arg(long, value_name = "USERNAME[:PASSWORD]")]
    pub creds: Option<String>,
    /// Accepted and ignored, as by podman-remote: the engine checks registries with its own
    /// certificates (/etc/containers/certs.d/HOST:PORT/ on the server).
    #[arg(long = "cert-dir", value_name = "PATH")]
    pub cert_dir: Option<String>,
    /// Require HTTPS and verify certificates when contacting registries.
    #[arg(long = "tls-verify", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = bool_value,
          value_name = "BOOL", hide = true)]
    pub tls_verify: Option<bool>,
    /// [CONTEXT]: a directory, or the URL of an archive or a git repository (fetched by the
    /// engine).
    #[arg(value_name = "CONTEXT")]
    pub context: Vec<String>,
}

pub async fn build(g: &GlobalOpts, a: BuildArgs) -> Result<u8, Failure> {
    let a = *a.flags;
    let req = prepare(&a)?;
    let plan_extra_stdin = if req.stdin_containerfile {
        let mut data = Vec::new();
        tokio::io::stdin()
            .read_to_end(&mut data)
            .await
            .map_err(|e| Failure::msg(format!("reading the Containerfile from stdin: {e}")))?;
        Some(data)
    } else {
        None
    };
    let mut plan = req.plan;
    if let (Some(data), Some(name), Some(plan)) =
        (plan_extra_stdin, req.stdin_name.clone(), plan.as_mut())
    {
        plan.extra.push((name, context::Extra::Bytes(data)));
    }
    let auth = crate::commands::registry::build_auth(&a.creds, &a.authfile)?;
    let client = g.client().await?;
    let Some(plan) = plan else {
        let url = a.context.first().cloned().unwrap_or_default();
        let stream = client
            .build(&req.query, &auth, bindings::http::empty())
            .await
            .map_err(|e| {
                Failure::msg(format!(
                    "fetching the build context {url} on the engine: {e}"
                ))
            })?;
        return follow(stream, a.iidfile.as_deref()).await;
    };

    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let sent = Arc::new(AtomicU64::new(0));
    let sent_w = sent.clone();
    let err_tx = tx.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let res = context::write(CountingWriter::new(tx, sent_w), &plan);
        if let Err(e) = &res {
            // Abort the upload so the engine never builds from a truncated context.
            let _ = err_tx.blocking_send(Err(io::Error::other(e.clone())));
        }
        res
    });

    let started = client.build(&req.query, &auth, channel_body(rx)).await;
    let produced = producer
        .await
        .map_err(|e| Failure::msg(format!("building the context archive: {e}")))?;
    let totals = match produced {
        Ok(t) => t,
        Err(e) => return Err(Failure::msg(format!("sending the build context: {e}"))),
    };
    tracing::debug!(
        "build context: sent {} bytes of tar ({} entries, {} paths ignored)",
        sent.load(Ordering::Relaxed),
        totals.entries,
        totals.skipped
    );
    follow(started?, a.iidfile.as_deref()).await
}

/// Show the builder's output as it comes; the image ID goes to `iidfile` if asked.
async fn follow(
    mut stream: bindings::api::build::BuildStream,
    iidfile: Option<&str>,
) -> Result<u8, Failure> {
    let mut id = String::new();
    let mut out = io::stdout();
    loop {
        let msg = match stream.next().await {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => return Err(Failure::msg(e.to_string())),
        };
        match msg {
            BuildMessage::Stream(s) => {
                let _ = out.write_all(s.as_bytes());
                let _ = out.flush();
                if looks_like_id(&s) {
                    id = s.trim_end_matches('\n').to_string();
                }
            }
            BuildMessage::Error(e) => {
                return Err(Failure::with_code(exit_code_of(&e), e));
            }
            BuildMessage::Other(_) => {}
        }
    }
    if id.is_empty() {
        return Err(Failure::msg("decoding stream: EOF"));
    }
    if let Some(path) = iidfile {
        write_atomically(path, format!("sha256:{id}").as_bytes())
            .map_err(|e| Failure::msg(format!("writing the image ID to {path}: {e}")))?;
    }
    Ok(0)
}

/// podman takes the last output line that starts with 12 hex digits as the image ID.
fn looks_like_id(s: &str) -> bool {
    s.len() >= 12
        && s.as_bytes()[..12]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// A failing RUN ends with "exit status N": podman exits with N, else with 125.
fn exit_code_of(message: &str) -> u8 {
    if message.contains("exit status") {
        let words: Vec<&str> = message.split(' ').collect();
        if words.len() >= 2 && words[words.len() - 2] == "status" {
            let last = words[words.len() - 1].split('\n').next().unwrap_or("");
            if let Ok(n) = last.parse::<i64>() {
                return (n & 0xff) as u8;
            }
        }
    }
    125
}

struct Request {
    query: Query,
    /// None for a URL context, which the engine fetches itself.
    plan: Option<context::Plan>,
    stdin_containerfile: bool,
    stdin_name: Option<String>,
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Validate the flags, find the context and Containerfiles, and build the query and the
/// archive plan, all before connecting.
fn prepare(a: &BuildFlags) -> Result<Request, Failure> {
    if (a.squash.is_some() && a.layers.is_some()) || (a.squash_all.is_some() && a.squash.is_some())
    {
        return Err(Failure::msg(
            "cannot specify --squash with --layers and --squash-all with --squash",
        ));
    }
    if a.context.len() > 1 {
        return Err(Failure::msg(format!(
            "accepts at most 1 arg(s), received {}",
            a.context.len()
        )));
    }
    if a.network.as_deref() == Some("none") {
        for (given, flag) in [
            (!a.dns.is_empty(), "dns"),
            (!a.dns_option.is_empty(), "dns-option"),
            (!a.dns_search.is_empty(), "dns-search"),
        ] {
            if given {
                return Err(Failure::msg(format!(
                    "the --{flag} option cannot be used with --network=none"
                )));
            }
        }
    }
    let pull_flags =
        usize::from(a.pull.is_some()) + usize::from(a.pull_always) + usize::from(a.pull_never);
    if pull_flags > 1 {
        return Err(Failure::msg(
            "can only set one of 'pull' or 'pull-always' or 'pull-never'",
        ));
    }
    let pull_policy = if a.pull_always {
        "always"
    } else if a.pull_never {
        "never"
    } else {
        match a.pull.as_deref().map(|p| p.trim().to_ascii_lowercase()) {
            None => "missing",
            Some(p) => match p.as_str() {
                "true" | "always" => "always",
                "false" | "missing" => "missing",
                "never" => "never",
                "newer" | "ifnewer" => "ifnewer",
                _ => {
                    return Err(Failure::msg(format!(
                    "invalid pull policy {p:?}: use true, false, always, missing, never or newer"
                )))
                }
            },
        }
    };
    let format = a
        .format
        .clone()
        .or_else(|| {
            std::env::var("BUILDAH_FORMAT")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "oci".into())
        .to_ascii_lowercase();
    let output_format = if format.starts_with("oci") {
        "application/vnd.oci.image.manifest.v1+json"
    } else if format.starts_with("docker") {
        "application/vnd.docker.distribution.manifest.v2+json"
    } else {
        return Err(Failure::msg(format!("unrecognized image type {format:?}")));
    };
    let isolation = match a.isolation.as_deref() {
        None => None,
        Some("oci" | "default") => Some(1),
        Some("chroot") => Some(2),
        Some("rootless") => Some(3),
        Some(other) => {
            return Err(Failure::msg(format!(
                "unrecognized isolation type {other:?}"
            )))
        }
    };
    if let Some(net) = &a.network {
        if net != "host" && isolation == Some(2) {
            return Err(Failure::msg(
                "cannot set --network other than host with --isolation chroot",
            ));
        }
    }

    // The context: a URL the engine fetches itself, or a local directory streamed as a tar.
    let (local, remote) = match a.context.first().filter(|c| is_url(c)) {
        Some(url) => {
            url_context_flags(a)?;
            (None, Some(url.clone()))
        }
        None => (Some(local_context(a)?), None),
    };
    let (plan, dockerfiles, stdin_containerfile, stdin_name, excludes) = match local {
        Some(l) => (
            Some(l.plan),
            l.dockerfiles,
            l.stdin_containerfile,
            l.stdin_name,
            l.excludes,
        ),
        None => (None, Vec::new(), false, None, None),
    };

    // The query, in podman's names and encodings.
    let mut q = Query::new();
    if !a.annotation.is_empty() {
        q = q.add("annotations", json(&a.annotation));
    }
    q = q.add("t", a.tag.first().cloned().unwrap_or_default());
    for t in a.tag.iter().skip(1) {
        q = q.add("t", t);
    }
    if !a.cap_add.is_empty() {
        q = q.add("addcaps", json(&a.cap_add));
    }
    let mut args = BTreeMap::new();
    for arg in &a.build_arg {
        match arg.split_once('=') {
            Some((k, v)) => {
                args.insert(k.to_string(), v.to_string());
            }
            None => match std::env::var(arg) {
                Ok(v) => {
                    args.insert(arg.clone(), v);
                }
                Err(_) => {
                    args.remove(arg);
                }
            },
        }
    }
    if !args.is_empty() {
        q = q.add("buildargs", json(&args));
    }
    if let Some(excludes) = &excludes {
        q = q.add("excludes", json(excludes));
    }
    if let Some(c) = &a.cgroup_parent {
        q = q.add("cgroupparent", c);
    }
    let mut ns_options = Vec::new();
    let mut network_mode = 0;
    if let Some(net) = &a.network {
        let (host, path, mode) = match net.as_str() {
            "" | "container" | "private" => (false, String::new(), 2),
            "host" => (true, String::new(), 2),
            "none" => (false, String::new(), 1),
            other => (false, other.trim_start_matches("ns:").to_string(), 2),
        };
        network_mode = mode;
        ns_options.push(serde_json::json!({"Name": "network", "Host": host, "Path": path}));
    }
    q = q.add("networkmode", network_mode);
    q = q.add("outputformat", output_format);
    if !a.dns.is_empty() {
        q = q.add("dnsservers", json(&a.dns));
    }
    if !a.dns_option.is_empty() {
        q = q.add("dnsoptions", json(&a.dns_option));
    }
    if !a.dns_search.is_empty() {
        q = q.add("dnssearch", json(&a.dns_search));
    }
    if !a.cap_drop.is_empty() {
        q = q.add("dropcaps", json(&a.cap_drop));
    }
    if a.force_rm.unwrap_or(true) {
        q = q.add("forcerm", "1");
    }
    q = q.add("rm", if a.rm.unwrap_or(true) { "1" } else { "0" });
    q = q.add("omithistory", if a.omit_history { "1" } else { "0" });
    if let Some(f) = &a.from {
        q = q.add("from", f);
    }
    if let Some(i) = isolation {
        q = q.add("isolation", i);
    }
    if a.http_proxy.unwrap_or(false) {
        q = q.add("httpproxy", "1");
    }
    q = q.add("jobs", a.jobs);
    if !a.label.is_empty() {
        q = q.add("labels", json(&a.label));
    }
    // podman: --squash keeps the base layers and squashes the new ones (no layer cache);
    // --squash-all squashes everything.
    let env_layers = !matches!(
        std::env::var("BUILDAH_LAYERS")
            .ok()
            .map(|v| v.to_ascii_lowercase())
            .as_deref(),
        Some("false" | "0")
    );
    let mut layers = a.layers.unwrap_or(env_layers);
    let mut squash = false;
    if a.squash == Some(true) {
        layers = false;
    }
    if a.squash_all.is_some() {
        squash = a.squash_all == Some(true);
        if squash && a.layers.is_none() {
            layers = false;
        }
    }
    if layers {
        q = q.add("layers", "1");
    }
    if let Some(m) = &a.manifest {
        q = q.add("manifest", m);
    }
    if a.no_cache {
        q = q.add("nocache", "1");
    }
    let mut platforms = Vec::new();
    for p in &a.platform {
        let parts: Vec<&str> = p.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|s| s.is_empty()) {
            return Err(Failure::msg(format!(
                "invalid platform syntax for --platform={p:?}: use OS/ARCH[/VARIANT]"
            )));
        }
        platforms.push(p.clone());
    }
    if platforms.is_empty() && (a.os.is_some() || a.arch.is_some()) {
        platforms.push(format!(
            "{}/{}",
            a.os.as_deref().unwrap_or("linux"),
            a.arch.as_deref().unwrap_or(go_arch())
        ));
    }
    for p in platforms {
        q = q.add("platform", p);
    }
    q = q.add("pullpolicy", pull_policy);
    if a.quiet {
        q = q.add("q", "1");
    }
    if let Some(t) = &a.target {
        q = q.add("target", t);
    }
    if !a.add_host.is_empty() {
        q = q.add("extrahosts", json(&a.add_host));
    }
    if !ns_options.is_empty() {
        q = q.add("nsoptions", json(&ns_options));
    }
    if squash {
        q = q.add("squash", "1");
    }
    if let Some(t) = a.timestamp {
        q = q.add("timestamp", t);
    }
    for e in &a.env {
        q = q.add("setenv", e);
    }
    for e in &a.unsetenv {
        q = q.add("unsetenv", e);
    }
    match &remote {
        // The engine downloads the archive or clones the repository, and uses the
        // Containerfile (or Dockerfile) at its root.
        Some(url) => q = q.add("remote", url),
        None => q = q.add("dockerfile", json(&dockerfiles)),
    }
    if let Some(v) = a.tls_verify {
        q = q.add("tlsVerify", v);
    }

    Ok(Request {
        query: q,
        plan,
        stdin_containerfile,
        stdin_name,
    })
}

struct LocalContext {
    plan: context::Plan,
    dockerfiles: Vec<String>,
    stdin_containerfile: bool,
    stdin_name: Option<String>,
    /// Ignore patterns the engine must apply itself (`excludes`), when it cannot read them
    /// from the context.
    excludes: Option<Vec<String>>,
}

/// The local context directory and the Containerfiles, and what of them goes into the tar.
fn local_context(a: &BuildFlags) -> Result<LocalContext, Failure> {
    // The context directory and the Containerfiles.
    let mut files: Vec<String> = a
        .file
        .iter()
        .map(|f| {
            if f == "-" {
                "/dev/stdin".to_string()
            } else {
                f.clone()
            }
        })
        .collect();
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::msg(format!("determining the current directory: {e}")))?;
    let context_dir: PathBuf = if let Some(c) = a.context.first() {
        cwd.join(c)
    } else {
        let first = files
            .iter()
            .position(|f| f != "/dev/stdin" && !is_url(f))
            .ok_or_else(|| Failure::msg("no context directory and no Containerfile specified"))?;
        let abs = cwd.join(&files[first]);
        files[first] = abs.to_string_lossy().to_string();
        abs.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.clone())
    };
    let context_dir = PathBuf::from(ignore::clean(&context_dir.to_string_lossy()));
    if !context_dir.is_dir() {
        return Err(Failure::msg(format!(
            "context must be a directory: {:?}",
            context_dir.display().to_string()
        )));
    }
    let root = std::fs::canonicalize(&context_dir).map_err(|e| {
        Failure::msg(format!(
            "resolving the context {}: {e}",
            context_dir.display()
        ))
    })?;
    if files.is_empty() {
        if root.join("Containerfile").exists() {
            files.push("Containerfile".into());
        } else if root.join("Dockerfile").exists() {
            files.push("Dockerfile".into());
        } else {
            return Err(Failure::msg(format!(
                "no Containerfile or Dockerfile in the context directory {:?}: add one or name it with -f",
                context_dir.display().to_string()
            )));
        }
    }

    let mut keep = vec![
        "!Dockerfile".to_string(),
        "!Containerfile".into(),
        "!.dockerignore".into(),
        "!.containerignore".into(),
    ];
    let mut dockerfiles: Vec<String> = Vec::new();
    let mut extra: Vec<(String, context::Extra)> = Vec::new();
    let mut stdin_containerfile = false;
    let mut stdin_name = None;
    for (i, f) in files.iter().enumerate() {
        if f == "/dev/stdin" {
            if stdin_containerfile {
                return Err(Failure::msg(
                    "the Containerfile can be read from stdin only once",
                ));
            }
            let name = generated_name(&root, i);
            stdin_containerfile = true;
            stdin_name = Some(name.clone());
            dockerfiles.push(name);
            continue;
        }
        let abs = cwd.join(f);
        // Resolve symlinks of the directory only: a Containerfile that is a symlink stays
        // as named, as podman does.
        let resolved = match (abs.parent(), abs.file_name()) {
            (Some(d), Some(n)) => std::fs::canonicalize(d)
                .map(|d| d.join(n))
                .unwrap_or_else(|_| abs.clone()),
            _ => abs.clone(),
        };
        if let Ok(rel) = resolved.strip_prefix(&root) {
            if !rel.as_os_str().is_empty() {
                let rel = rel.to_string_lossy().replace('\\', "/");
                keep.push(format!("!{rel}"));
                dockerfiles.push(rel);
                continue;
            }
        }
        if std::fs::symlink_metadata(&resolved).is_ok() {
            if !resolved.is_file() {
                return Err(Failure::msg(format!(
                    "the Containerfile {f:?} is not a regular file"
                )));
            }
            let name = generated_name(&root, i);
            extra.push((name.clone(), context::Extra::File(resolved)));
            dockerfiles.push(name);
        } else if Path::new(f).is_relative() && root.join(f).is_file() {
            // Not found from the current directory: podman then looks in the context.
            let rel = ignore::clean(f);
            keep.push(format!("!{rel}"));
            dockerfiles.push(rel);
        } else {
            return Err(Failure::msg(format!(
                "the Containerfile {f:?} does not exist (looked in the current directory and in the context {:?})",
                root.display().to_string()
            )));
        }
    }

    // Ignore patterns: --ignorefile, else the context's .containerignore, else .dockerignore.
    let (patterns, explicit) = match &a.ignorefile {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::msg(format!("reading the ignore file {p}: {e}")))?;
            (ignore::parse_file(&text), true)
        }
        None => {
            let mut found = None;
            for n in [".containerignore", ".dockerignore"] {
                match std::fs::read_to_string(root.join(n)) {
                    Ok(t) => {
                        found = Some(t);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Failure::msg(format!("reading {n}: {e}"))),
                }
            }
            (
                found.map(|t| ignore::parse_file(&t)).unwrap_or_default(),
                false,
            )
        }
    };
    let mut all = patterns.clone();
    all.extend(keep);
    let matcher = ignore::Matcher::new(&all)
        .map_err(|e| Failure::msg(format!("processing the ignore patterns: {e}")))?;
    let generated: Vec<String> = extra
        .iter()
        .map(|(n, _)| n.clone())
        .chain(stdin_name.clone())
        .collect();
    // The engine applies these to COPY/ADD instead of reading the ignore file, so the
    // generated Containerfile names never end up in the image.
    let excludes = (explicit || !generated.is_empty()).then(|| {
        let mut e = patterns;
        e.extend(generated);
        e
    });
    Ok(LocalContext {
        plan: context::Plan {
            root,
            matcher,
            extra,
        },
        dockerfiles,
        stdin_containerfile,
        stdin_name,
        excludes,
    })
}

/// With a URL context the engine fetches the context and finds the Containerfile in it:
/// the flags naming local files cannot apply.
fn url_context_flags(a: &BuildFlags) -> Result<(), Failure> {
    for (given, flag) in [
        (!a.file.is_empty(), "-f/--file"),
        (a.ignorefile.is_some(), "--ignorefile"),
    ] {
        if given {
            return Err(Failure::msg(format!(
                "{flag} cannot be used with a URL context: the engine fetches the context and \
                 uses the Containerfile or Dockerfile at its root (a local context directory \
                 takes {flag})"
            )));
        }
    }
    Ok(())
}

fn is_url(s: &str) -> bool {
    ["http://", "https://", "git://", "github.com/"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// A name for a Containerfile that is not in the context, unused by the context's own files.
fn generated_name(root: &Path, i: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut n = 0u32;
    loop {
        let name = format!(
            ".podman-remote-containerfile-{}-{i}-{:08x}",
            std::process::id(),
            nanos.wrapping_add(n)
        );
        if std::fs::symlink_metadata(root.join(&name)).is_err() {
            return name;
        }
        n += 1;
    }
}

/// `--iidfile`: an interrupted build never leaves a partial ID behind.
fn write_atomically(path: &str, data: &[u8]) -> io::Result<()> {
    Ok(crate::fsutil::write_atomic(
        Path::new(path),
        data,
        Some(0o644),
    )?)
}

/// A blocking `Write` whose bytes go, in 64 KiB chunks, into the streaming request body
/// (a bounded channel: the walk runs only as fast as the engine reads), counting them.
struct CountingWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    sent: Arc<AtomicU64>,
}

const CHUNK: usize = 64 * 1024;

impl CountingWriter {
    fn new(tx: mpsc::Sender<io::Result<Bytes>>, sent: Arc<AtomicU64>) -> Self {
        CountingWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
            sent,
        }
    }

    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        let n = chunk.len() as u64;
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the engine stopped reading the build context",
            )
        })?;
        self.sent.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

impl Write for CountingWriter {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_from_builder_messages() {
        assert_eq!(
            exit_code_of(
                "building at STEP \"RUN echo oops; exit 3\": while running runtime: exit status 3\n"
            ),
            3
        );
        assert_eq!(
            exit_code_of("stat /x/Dockerfile: no such file or directory\n"),
            125
        );
        assert_eq!(exit_code_of("exit status x"), 125);
    }

    #[test]
    fn image_id_lines() {
        assert!(looks_like_id(
            "1d8c1de86c243d89d8c57c5e787313f66335807d9d099d43ce6900a1a9e81bfe\n"
        ));
        assert!(!looks_like_id("--> 1d8c1de86c2\n"));
        assert!(!looks_like_id("STEP 1/2"));
    }
}
