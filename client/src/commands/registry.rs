//! Registry commands: pull, push, login, logout, search.
//!
//! The engine, not this client, talks to the registry (pull, push, search, and the credential
//! check of `login`), so registry reachability and TLS trust are the engine's: certificates go
//! in the server's `certs.d`. Credentials live on this machine: in the OS keyring (service
//! [`creds::KEYRING_SERVICE`], one entry per registry) or, when there is no keyring or the
//! user names a file (`--authfile`, `REGISTRY_AUTH_FILE`), in podman's auth.json; podman's
//! own auth.json files are read too, so a `podman login` works for us. They reach the engine
//! only as the `X-Registry-Auth` header of the request that needs them.

use std::io::{BufRead, IsTerminal, Write};

use bindings::api::registry::{Credentials, PullOptions, PushOptions, RegistryAuth, SearchOptions};
use clap::{ArgAction, Args};
use serde_json::{json, Value};

use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::go_json_indent;
use crate::progress::Progress;

/// podman's `--tls-verify[=BOOL]`: `None` unless given, so the engine's default applies.
#[derive(Args, Debug, Clone, Default)]
pub struct TlsArg {
    /// Require HTTPS and verify certificates when contacting registries (default true).
    #[arg(long = "tls-verify", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), value_name = "BOOL")]
    pub tls_verify: Option<bool>,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// All tagged images in the repository will be pulled.
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// Use ARCH instead of the architecture of the machine for choosing images.
    #[arg(long, value_name = "ARCH")]
    arch: Option<String>,
    /// Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override.
    #[arg(long, value_name = "PATH")]
    authfile: Option<String>,
    // No --cert-dir: podman-remote's pull has none either (the engine pulls, and checks the
    // registry with its own /etc/containers/certs.d), so it is an unknown flag, exit 125.
    /// Credentials (USERNAME:PASSWORD) to use for authenticating to a registry.
    #[arg(long, value_name = "USERNAME[:PASSWORD]")]
    creds: Option<String>,
    /// This is a Docker specific option and is a NOOP.
    #[arg(long = "disable-content-trust", hide = true)]
    disable_content_trust: bool,
    /// Use OS instead of the running OS for choosing images.
    #[arg(long, value_name = "OS")]
    os: Option<String>,
    /// Specify the platform for selecting the image (conflicts with --arch and --os).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Suppress output information when pulling images.
    #[arg(short, long)]
    quiet: bool,
    /// Number of times to retry in case of failure when performing pull.
    #[arg(long, value_name = "N")]
    retry: Option<u32>,
    /// Delay between retries in case of pull failures (e.g. 2s).
    #[arg(long = "retry-delay", value_name = "DURATION")]
    retry_delay: Option<String>,
    #[command(flatten)]
    tls: TlsArg,
    /// Use VARIANT instead of the running architecture variant for choosing images.
    #[arg(long, value_name = "VARIANT")]
    variant: Option<String>,
    /// Images to pull.
    #[arg(value_name = "IMAGE")]
    images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override.
    #[arg(long, value_name = "PATH")]
    authfile: Option<String>,
    /// Accepted and ignored, hidden, as by podman-remote: the engine pushes and checks the
    /// registry with its own certificates (/etc/containers/certs.d/HOST:PORT/ on the server).
    #[arg(long = "cert-dir", value_name = "PATH", hide = true)]
    cert_dir: Option<String>,
    /// Compression format to use (gzip, zstd, zstd:chunked).
    #[arg(long = "compression-format", value_name = "FORMAT")]
    compression_format: Option<String>,
    /// Credentials (USERNAME:PASSWORD) to use for authenticating to a registry.
    #[arg(long, value_name = "USERNAME[:PASSWORD]")]
    creds: Option<String>,
    /// Write the digest of the pushed image to the specified file.
    #[arg(long, value_name = "PATH")]
    digestfile: Option<String>,
    /// This is a Docker specific option and is a NOOP.
    #[arg(long = "disable-content-trust", hide = true)]
    disable_content_trust: bool,
    /// Manifest type (oci, v2s2, or v2s1) to use in the destination.
    #[arg(short, long, value_name = "FORMAT")]
    format: Option<String>,
    /// Suppress output information when pushing images.
    #[arg(short, long)]
    quiet: bool,
    /// Discard any pre-existing signatures in the image.
    #[arg(long = "remove-signatures")]
    remove_signatures: bool,
    #[command(flatten)]
    tls: TlsArg,
    /// The image to push, and optionally where to.
    #[arg(value_name = "IMAGE [DESTINATION]")]
    args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override.
    #[arg(long, value_name = "PATH")]
    authfile: Option<String>,
    /// Accepted for compatibility; the engine checks the registry with its own certificates.
    #[arg(long = "cert-dir", value_name = "PATH")]
    cert_dir: Option<String>,
    /// Return the current login user for the registry.
    #[arg(long = "get-login")]
    get_login: bool,
    /// Password for registry.
    #[arg(short, long)]
    password: Option<String>,
    /// Take the password from stdin.
    #[arg(long = "password-stdin")]
    password_stdin: bool,
    #[command(flatten)]
    tls: TlsArg,
    /// Username for registry.
    #[arg(short, long)]
    username: Option<String>,
    /// Write more detailed information to stdout.
    #[arg(short, long)]
    verbose: bool,
    /// The registry to log in to.
    #[arg(value_name = "REGISTRY")]
    registry: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Remove the cached credentials for all registries in the auth file.
    #[arg(short, long)]
    all: bool,
    /// Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override.
    #[arg(long, value_name = "PATH")]
    authfile: Option<String>,
    /// The registry to log out of.
    #[arg(value_name = "REGISTRY")]
    registry: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override.
    #[arg(long, value_name = "PATH")]
    authfile: Option<String>,
    /// List stars, official and automated columns (Docker compatibility).
    #[arg(long)]
    compatible: bool,
    /// Filter output based on conditions provided.
    #[arg(short, long, value_name = "FILTER")]
    filter: Vec<String>,
    /// Change the output format to JSON or a Go template.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Limit the number of results.
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// List the tags of the input registry.
    #[arg(long = "list-tags")]
    list_tags: bool,
    /// Do not truncate the output.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    #[command(flatten)]
    tls: TlsArg,
    /// What to search for.
    #[arg(value_name = "TERM")]
    term: Vec<String>,
}

/// `--creds USER[:PASSWORD]`; a missing password is asked for on the terminal.
fn parse_creds(s: &str) -> Result<Credentials, Failure> {
    let (user, pass) = match s.split_once(':') {
        Some((u, p)) => (u.to_string(), Some(p.to_string())),
        None => (s.to_string(), None),
    };
    if user.is_empty() {
        return Err(Failure::msg(
            "credentials must be in the form USERNAME[:PASSWORD]",
        ));
    }
    let password = match pass {
        Some(p) => p,
        None => prompt_password()?,
    };
    Ok(Credentials {
        username: user,
        password,
    })
}

fn prompt_password() -> Result<String, Failure> {
    if !bindings::ssh::auth::terminal_available() {
        return Err(Failure::msg(
            "a password is needed and there is no terminal to ask for it: give it with \
             --password-stdin, -p or --creds USER:PASSWORD",
        ));
    }
    rpassword::prompt_password("Password: ")
        .map_err(|e| Failure::msg(format!("reading the password: {e}")))
}

/// The registry part of an image reference (podman's normalisation: a first component with
/// a dot or a colon, or `localhost`, is a registry; anything else is on docker.io).
fn registry_of(reference: &str) -> String {
    let r = reference.strip_prefix("docker://").unwrap_or(reference);
    match r.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "docker.io".to_string(),
    }
}

/// The `X-Registry-Auth` to send for an operation on `registry`.
fn auth_for(
    registry: &str,
    creds: &Option<String>,
    authfile: &Option<String>,
) -> Result<RegistryAuth, Failure> {
    if let Some(c) = creds {
        return Ok(RegistryAuth::Single(parse_creds(c)?));
    }
    let store = creds::Store::new(authfile.as_deref())?;
    let map = store.all_for(registry)?;
    Ok(if map.is_empty() {
        RegistryAuth::None
    } else {
        RegistryAuth::Map(map)
    })
}

/// The credentials of a build: `--creds`, else every stored credential (keyring and auth
/// files), since the registries its FROM lines name are known only to the builder.
pub(crate) fn build_auth(
    creds: &Option<String>,
    authfile: &Option<String>,
) -> Result<RegistryAuth, Failure> {
    check_authfile(authfile)?;
    auth_for("", creds, authfile)
}

/// podman checks a named auth file exists before anything else.
fn check_authfile(authfile: &Option<String>) -> Result<(), Failure> {
    if let Some(p) = authfile {
        if let Err(e) = std::fs::metadata(p) {
            return Err(Failure::msg(format!("stat {p}: {}", io_reason(&e))));
        }
    }
    Ok(())
}

/// Go's spelling of common errno texts, as podman prints them.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

pub async fn pull(g: &GlobalOpts, a: PullArgs) -> Result<u8, Failure> {
    if a.images.is_empty() {
        return Err(Failure::msg("requires at least 1 arg(s), only received 0"));
    }
    check_authfile(&a.authfile)?;
    let (mut os, mut arch, mut variant) = (a.os.clone(), a.arch.clone(), a.variant.clone());
    if let Some(p) = &a.platform {
        if os.is_some() || arch.is_some() {
            return Err(Failure::msg(
                "--platform option can not be specified with --arch or --os",
            ));
        }
        let parts: Vec<&str> = p.split('/').collect();
        match parts.as_slice() {
            [o, ar] if !o.is_empty() && !ar.is_empty() => {
                os = Some(o.to_string());
                arch = Some(ar.to_string());
            }
            [o, ar, v] if !o.is_empty() && !ar.is_empty() => {
                os = Some(o.to_string());
                arch = Some(ar.to_string());
                variant = Some(v.to_string());
            }
            _ => {
                return Err(Failure::msg(format!(
                    "invalid platform syntax for --platform={p:?}: use OS/ARCH[/VARIANT]"
                )))
            }
        }
    }
    if let Some(d) = &a.retry_delay {
        if !looks_like_go_duration(d) {
            return Err(Failure::msg(format!(
                "invalid --retry-delay {d:?}: use a duration such as 500ms, 2s or 1m"
            )));
        }
    }
    let client = g.client().await?;
    let mut out = std::io::stdout().lock();
    for image in &a.images {
        let opts = PullOptions {
            reference: image.clone(),
            all_tags: a.all_tags,
            arch: arch.clone(),
            os: os.clone(),
            variant: variant.clone(),
            tls_verify: a.tls.tls_verify,
            quiet: a.quiet,
            retry: a.retry,
            retry_delay: a.retry_delay.clone(),
            auth: auth_for(&registry_of(image), &a.creds, &a.authfile)?,
        };
        let mut progress = Progress::new(a.quiet);
        let ids = if progress.is_live() && compat_pull_applies(&opts) {
            let result = client
                .pull_image_compat(&opts.reference, &opts.auth, |ev| progress.pull_event(ev))
                .await;
            progress.finish();
            drop(progress);
            vec![full_image_id(&client, &result?, image).await?]
        } else {
            let result = client.pull_image(&opts, |line| progress.text(line)).await;
            progress.finish();
            drop(progress);
            result?
        };
        for id in ids {
            writeln!(out, "{id}")?;
        }
    }
    Ok(0)
}

/// The Docker-compatible pull reports layer bytes but knows only the reference and the
/// credentials: any option that only the libpod endpoint honours keeps the libpod pull.
fn compat_pull_applies(o: &PullOptions) -> bool {
    !o.all_tags
        && !o.quiet
        && o.tls_verify.is_none()
        && o.arch.is_none()
        && o.os.is_none()
        && o.variant.is_none()
        && o.retry.is_none()
        && o.retry_delay.is_none()
}

/// The compat stream names the pulled image by its short ID; podman prints the full one.
/// Looking up by that ID (not the name) reports exactly the image just pulled; should the
/// short ID be ambiguous in the engine's store, the reference resolves it instead.
async fn full_image_id(
    client: &bindings::http::ApiClient,
    short: &str,
    reference: &str,
) -> Result<String, Failure> {
    let by_id: Result<serde_json::Value, _> = client
        .get_json(
            &format!("/images/{}/json", bindings::http::seg(short)),
            &bindings::http::Query::new(),
        )
        .await;
    let doc = match by_id {
        Ok(v) => v,
        Err(_) => client
            .get_json(
                &format!("/images/{}/json", bindings::http::seg(reference)),
                &bindings::http::Query::new(),
            )
            .await
            .map_err(|e| {
                Failure::msg(format!(
                    "{reference} was pulled, but its image ID could not be read back: {e}"
                ))
            })?,
    };
    doc.get("Id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            Failure::msg(format!(
                "{reference} was pulled, but the engine's inspect answer has no image ID"
            ))
        })
}

/// Go's time.ParseDuration accepts sequences of number+unit; reject obvious mistakes early.
fn looks_like_go_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    if rest == "0" {
        return true;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return false;
        }
        rest = &rest[num_len..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .filter(|u| rest.starts_with(**u))
            .max_by_key(|u| u.len());
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

pub async fn push(g: &GlobalOpts, a: PushArgs) -> Result<u8, Failure> {
    let (source, dest) = match a.args.as_slice() {
        [s] => (s.clone(), None),
        [s, d] => (s.clone(), Some(d.clone())),
        [] => return Err(Failure::msg("requires at least 1 arg(s), only received 0")),
        more => {
            return Err(Failure::msg(format!(
                "accepts at most 2 arg(s), received {}",
                more.len()
            )))
        }
    };
    if a.cert_dir.is_some() {
        tracing::debug!(
            "--cert-dir ignored: the engine checks the registry with its own certificates"
        );
    }
    check_authfile(&a.authfile)?;
    let target = dest.clone().unwrap_or_else(|| source.clone());
    let opts = PushOptions {
        source,
        destination: dest,
        tls_verify: a.tls.tls_verify,
        format: a.format.clone(),
        compression_format: a.compression_format.clone(),
        remove_signatures: a.remove_signatures,
        quiet: a.quiet,
        auth: auth_for(&registry_of(&target), &a.creds, &a.authfile)?,
    };
    let client = g.client().await?;
    let mut progress = Progress::new(a.quiet);
    let result = client.push_image(&opts, |line| progress.text(line)).await;
    progress.finish();
    drop(progress);
    let report = result?;
    if let Some(path) = &a.digestfile {
        let digest = report.manifest_digest.ok_or_else(|| {
            Failure::msg(format!(
                "the image was pushed, but the engine (podman {}) does not report the manifest \
                 digest, so --digestfile {path} cannot be written; podman 4.6 or newer reports it",
                client.server_version()
            ))
        })?;
        write_atomic(std::path::Path::new(path), digest.as_bytes(), None)
            .map_err(|e| Failure::msg(format!("writing digest file {path}: {e}")))?;
    }
    Ok(0)
}

/// auth.json and friends: the directory is created (podman's run directory may not exist
/// yet) owner-only, as containers/image does, then the file is written whole or not at all.
fn write_atomic(path: &std::path::Path, data: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    Ok(crate::fsutil::write_atomic(path, data, mode)?)
}

/// `https://host/` or `host/path` → the key podman uses for the registry.
fn normalize_registry(r: &str) -> String {
    let r = r
        .strip_prefix("https://")
        .or_else(|| r.strip_prefix("http://"))
        .unwrap_or(r);
    let r = r.trim_end_matches('/');
    match r {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => r.to_string(),
    }
}

fn one_registry(args: &[String], what: &str) -> Result<Option<String>, Failure> {
    match args {
        [] => Ok(None),
        [r] => Ok(Some(normalize_registry(r))),
        more => Err(Failure::msg(format!(
            "{what} accepts at most 1 arg(s), received {}",
            more.len()
        ))),
    }
}

pub async fn login(g: &GlobalOpts, a: LoginArgs) -> Result<u8, Failure> {
    let registry = one_registry(&a.registry, "login")?.ok_or_else(|| {
        Failure::msg("please provide a registry to log in to (podman-remote login REGISTRY)")
    })?;
    let store = creds::Store::new(a.authfile.as_deref())?;
    if a.get_login {
        return match store.get(&registry)? {
            Some(c) => {
                println!("{}", c.username);
                Ok(0)
            }
            None => Err(Failure::msg(format!("not logged into {registry}"))),
        };
    }
    if a.password.is_some() && a.password_stdin {
        return Err(Failure::msg(
            "can't specify both --password-stdin and --password",
        ));
    }
    if a.password_stdin && a.username.is_none() {
        return Err(Failure::msg(
            "must provide --username with --password-stdin",
        ));
    }
    if a.cert_dir.is_some() {
        tracing::info!(
            "--cert-dir is a path on this machine; the engine checks {registry} with its own \
             certificates (/etc/containers/certs.d/{registry}/ on the server)"
        );
    }
    let client = g.client().await?;

    // Like podman: with no new credentials given, first try the stored ones.
    if a.username.is_none() && a.password.is_none() && !a.password_stdin {
        if let Some(old) = store.get(&registry)? {
            println!("Authenticating with existing credentials for {registry}");
            match verify(&client, &registry, &old, a.tls.tls_verify).await {
                Ok(()) => {
                    println!("Existing credentials are valid. Already logged in to {registry}");
                    return Ok(0);
                }
                Err(_) => {
                    println!("Existing credentials are invalid, please enter valid username and password");
                }
            }
        }
    }

    let username = match &a.username {
        Some(u) => u.clone(),
        None => prompt_username()?,
    };
    let password = if let Some(p) = &a.password {
        p.clone()
    } else if a.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::msg(format!("reading the password from stdin: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        prompt_password()?
    };
    if username.is_empty() || password.is_empty() {
        return Err(Failure::msg(format!(
            "logging into {registry:?}: a username and a password are required"
        )));
    }
    let new = Credentials { username, password };
    verify(&client, &registry, &new, a.tls.tls_verify).await?;
    let place = store.set(&registry, &new)?;
    if a.verbose {
        println!("Used: {place}");
    }
    println!("Login Succeeded!");
    Ok(0)
}

fn prompt_username() -> Result<String, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::msg(
            "a username is needed and stdin is not a terminal: give it with -u/--username",
        ));
    }
    print!("Username: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::msg(format!("reading the username: {e}")))?;
    Ok(line.trim().to_string())
}

/// Have the engine check credentials. The Docker-compatible `POST /auth` always verifies TLS
/// (podman 4.3's engine skips verification for `localhost:` names only), so with `--tls-verify=false` the check is a registry catalog
/// search with the credentials instead, which honours `tlsVerify`.
async fn verify(
    client: &bindings::http::ApiClient,
    registry: &str,
    c: &Credentials,
    tls_verify: Option<bool>,
) -> Result<(), Failure> {
    let result = if tls_verify == Some(false) {
        client
            .search_images(&SearchOptions {
                term: format!("{registry}/"),
                limit: Some(1),
                tls_verify,
                // The search endpoint reads only the map form of the header.
                auth: RegistryAuth::Map([(registry.to_string(), c.clone())].into()),
                ..Default::default()
            })
            .await
            .map(|_| ())
    } else {
        client.check_registry_login(registry, c).await
    };
    result.map_err(|e| {
        let msg = e.to_string();
        if msg.contains("401 Unauthorized")
            || msg.contains("unauthorized")
            || msg.contains("invalid username/password")
        {
            Failure::msg(format!(
                "logging into {registry:?}: invalid username/password"
            ))
        } else {
            let reason = msg
                .split_once("failed with status: ")
                .map(|(_, r)| r.to_string())
                .unwrap_or(msg);
            let mut f = Failure::msg(format!("authenticating creds for {registry:?}: {reason}"));
            f.connect_hint = e.is_connect();
            f
        }
    })
}

pub async fn logout(_g: &GlobalOpts, a: LogoutArgs) -> Result<u8, Failure> {
    let registry = one_registry(&a.registry, "logout")?;
    let store = creds::Store::new(a.authfile.as_deref())?;
    if a.all {
        if registry.is_some() {
            return Err(Failure::msg(
                "--all takes no arguments: it removes the credentials of every registry",
            ));
        }
        store.remove_all()?;
        println!("Removed login credentials for all registries");
        return Ok(0);
    }
    let registry = registry.ok_or_else(|| {
        Failure::msg("please provide a registry to log out of (podman-remote logout REGISTRY)")
    })?;
    if store.remove(&registry)? {
        println!("Removed login credentials for {registry}");
        Ok(0)
    } else {
        Err(Failure::msg(format!("not logged into {registry}")))
    }
}

/// Field order of podman's `entities.ImageSearchReport`.
const SEARCH_FIELDS: &[&str] = &[
    "Index",
    "Name",
    "Description",
    "Stars",
    "Official",
    "Automated",
    "Tag",
];

pub async fn search(g: &GlobalOpts, a: SearchArgs) -> Result<u8, Failure> {
    let term = match a.term.as_slice() {
        [t] => t.clone(),
        _ => return Err(Failure::msg("search requires exactly one argument")),
    };
    if a.list_tags && !a.filter.is_empty() {
        return Err(Failure::msg(
            "filters are not applicable to list tags result",
        ));
    }
    check_authfile(&a.authfile)?;
    let opts = SearchOptions {
        term: term.clone(),
        limit: a.limit,
        filters: a.filter.clone(),
        tls_verify: a.tls.tls_verify,
        list_tags: a.list_tags,
        auth: auth_for(&registry_of(&term), &None, &a.authfile)?,
    };
    let client = g.client().await?;
    let results = client.search_images(&opts).await?;
    if results.is_empty() {
        return Ok(0);
    }
    let is_json = a.format.as_deref().is_some_and(format::is_json);
    let rows: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for k in SEARCH_FIELDS {
                m.insert(k.to_string(), r.get(*k).cloned().unwrap_or(Value::Null));
            }
            let d = r
                .get("Description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .replace('\n', " ");
            m.insert(
                "Description".into(),
                json!(truncate_description(&d, a.no_trunc || is_json)),
            );
            Value::Object(m)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if a.list_tags {
        if is_json {
            let mut entries: Vec<(String, Vec<Value>)> = Vec::new();
            for r in &rows {
                let name = r["Name"].as_str().unwrap_or("").to_string();
                let tag = r["Tag"].clone();
                match entries.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, tags)) => tags.push(tag),
                    None => entries.push((name, vec![tag])),
                }
            }
            let list: Vec<Value> = entries
                .into_iter()
                .map(|(n, t)| json!({"Name": n, "Tags": t}))
                .collect();
            writeln!(out, "{}", go_json_indent(&Value::Array(list), "    "))?;
            return Ok(0);
        }
        print(&mut out, "{{.Name}}\t{{.Tag}}", &rows, false)?;
        return Ok(0);
    }
    if is_json {
        writeln!(out, "{}", go_json_indent(&Value::Array(rows), "    "))?;
        return Ok(0);
    }
    match &a.format {
        Some(f) => print(&mut out, f, &rows, true)?,
        None => {
            let mut t = "{{.Name}}\t{{.Description}}".to_string();
            if a.compatible {
                t.push_str("\t{{.Stars}}\t{{.Official}}\t{{.Automated}}");
            }
            print(&mut out, &t, &rows, false)?;
        }
    }
    Ok(0)
}

fn truncate_description(d: &str, keep: bool) -> String {
    // podman cuts at 44 bytes; cut at the char boundary at or before it.
    if keep || d.len() <= 44 {
        return d.to_string();
    }
    let mut end = 44;
    while !d.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", d[..end].trim())
}

fn print(out: &mut dyn Write, template: &str, rows: &[Value], user: bool) -> Result<(), Failure> {
    format::print_rows(
        template,
        rows,
        &std::collections::HashMap::new(),
        user,
        false,
        out,
    )
    .map_err(|e| Failure::msg(e.to_string()))
}

/// Where registry credentials are kept: the OS keyring, podman's auth.json files.
pub mod creds {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use base64::Engine;
    use bindings::api::registry::Credentials;
    use serde_json::{json, Value};

    use crate::exit::Failure;

    pub const KEYRING_SERVICE: &str = "podman-remote-registry";
    /// The keyring cannot list its entries; this non-secret file names the registries we
    /// stored there, for `logout --all` and for sending every credential like podman does.
    const INDEX_FILE: &str = "podman-remote/keyring-registries.json";

    pub struct Store {
        /// `--authfile` / `REGISTRY_AUTH_FILE`: the user chose a file; use only it.
        explicit: Option<PathBuf>,
        home: Option<PathBuf>,
        runtime_dir: Option<PathBuf>,
        config_dir: Option<PathBuf>,
    }

    fn env_path(name: &str) -> Option<PathBuf> {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    impl Store {
        pub fn new(authfile: Option<&str>) -> Result<Store, Failure> {
            let explicit = authfile
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .or_else(|| env_path("REGISTRY_AUTH_FILE"));
            let home = env_path("HOME")
                .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()));
            let config_dir =
                env_path("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
            Ok(Store {
                explicit,
                home,
                runtime_dir: if cfg!(target_os = "linux") {
                    env_path("XDG_RUNTIME_DIR")
                } else {
                    None
                },
                config_dir,
            })
        }

        /// podman's default auth.json: `$XDG_RUNTIME_DIR/containers/auth.json` on Linux,
        /// else `$XDG_CONFIG_HOME/containers/auth.json`.
        fn default_file(&self) -> Option<PathBuf> {
            self.runtime_dir
                .as_ref()
                .map(|d| d.join("containers/auth.json"))
                .or_else(|| {
                    self.config_dir
                        .as_ref()
                        .map(|d| d.join("containers/auth.json"))
                })
        }

        /// Files read, most important first (podman's order).
        fn read_files(&self) -> Vec<PathBuf> {
            if let Some(e) = &self.explicit {
                return vec![e.clone()];
            }
            let mut v = Vec::new();
            if let Some(f) = self.default_file() {
                v.push(f);
            }
            if let Some(c) = &self.config_dir {
                let f = c.join("containers/auth.json");
                if !v.contains(&f) {
                    v.push(f);
                }
            }
            if let Some(h) = &self.home {
                v.push(h.join(".docker/config.json"));
            }
            v
        }

        fn use_keyring(&self) -> bool {
            self.explicit.is_none()
        }

        fn keyring_get(&self, registry: &str) -> Option<Credentials> {
            if !self.use_keyring() {
                return None;
            }
            let entry = keyring::Entry::new(KEYRING_SERVICE, registry).ok()?;
            match entry.get_password() {
                Ok(secret) => decode_secret(&secret),
                Err(e) => {
                    tracing::debug!("no credentials for {registry} in the OS keyring: {e}");
                    None
                }
            }
        }

        /// Credentials for one registry (exact key first, like podman's lookup).
        pub fn get(&self, registry: &str) -> Result<Option<Credentials>, Failure> {
            if let Some(c) = self.keyring_get(registry) {
                return Ok(Some(c));
            }
            for f in self.read_files() {
                let doc = read_auth_file(&f)?;
                if let Some(c) = doc
                    .get("auths")
                    .and_then(|a| a.get(registry))
                    .and_then(entry_credentials)
                {
                    return Ok(Some(c));
                }
            }
            Ok(None)
        }

        /// Every credential we know, keyed by registry, with `registry`'s keyring entry;
        /// sent as a map so the engine picks the right one (as podman does).
        pub fn all_for(&self, registry: &str) -> Result<BTreeMap<String, Credentials>, Failure> {
            let mut map = BTreeMap::new();
            // Later files have lower priority: fill from the least important up.
            for f in self.read_files().iter().rev() {
                let doc = read_auth_file(f)?;
                if let Some(auths) = doc.get("auths").and_then(Value::as_object) {
                    for (k, v) in auths {
                        if let Some(c) = entry_credentials(v) {
                            map.insert(normalize_key(k), c);
                        }
                    }
                }
            }
            if self.use_keyring() {
                let named = (!registry.is_empty()).then(|| registry.to_string());
                for r in self.index().into_iter().chain(named) {
                    if let Some(c) = self.keyring_get(&r) {
                        map.insert(r, c);
                    }
                }
            }
            Ok(map)
        }

        /// Store credentials: in the OS keyring, or in auth.json when a file was named or
        /// there is no usable keyring. Returns where they went (for `--verbose`).
        pub fn set(&self, registry: &str, c: &Credentials) -> Result<String, Failure> {
            if self.use_keyring() {
                let secret = encode_secret(c);
                // A keyring we cannot read back from is no use (the Linux session keyring of
                // a process outside a login session accepts keys it then can neither find nor
                // delete): probe it with a non-secret value first, so that no orphaned secret
                // is left behind when falling back to auth.json.
                let stored = keyring_works()
                    .and_then(|()| keyring::Entry::new(KEYRING_SERVICE, registry))
                    .and_then(|e| {
                        let result =
                            e.set_password(&secret)
                                .and_then(|()| match e.get_password() {
                                    Ok(back) if back == secret => Ok(()),
                                    Ok(_) => Err(keyring::Error::NoEntry),
                                    Err(err) => Err(err),
                                });
                        if result.is_err() {
                            let _ = e.delete_credential();
                        }
                        result
                    });
                match stored {
                    Ok(()) => {
                        let mut idx = self.index();
                        if !idx.iter().any(|r| r == registry) {
                            idx.push(registry.to_string());
                            self.write_index(&idx)?;
                        }
                        // An older auth.json entry for the same registry would be stale.
                        if let Some(f) = self.default_file() {
                            edit_auth_file(&f, |auths| {
                                auths.remove(registry);
                            })?;
                        }
                        return Ok("the OS keyring".into());
                    }
                    Err(e) => {
                        tracing::debug!("OS keyring unavailable ({e}); using auth.json");
                    }
                }
            }
            let f = self
                .explicit
                .clone()
                .or_else(|| self.default_file())
                .ok_or_else(|| {
                    Failure::msg(
                        "no place to store credentials: no OS keyring, and neither \
                         XDG_RUNTIME_DIR nor HOME is set; use --authfile",
                    )
                })?;
            let auth = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.username, c.password));
            edit_auth_file(&f, |auths| {
                auths.insert(registry.to_string(), json!({ "auth": auth }));
            })?;
            Ok(f.display().to_string())
        }

        /// Remove one registry's credentials everywhere we write them; false if none existed.
        pub fn remove(&self, registry: &str) -> Result<bool, Failure> {
            let mut removed = false;
            if self.use_keyring() {
                if let Ok(e) = keyring::Entry::new(KEYRING_SERVICE, registry) {
                    removed |= e.delete_credential().is_ok();
                }
                let idx = self.index();
                if idx.iter().any(|r| r == registry) {
                    let rest: Vec<String> = idx.into_iter().filter(|r| r != registry).collect();
                    self.write_index(&rest)?;
                }
            }
            if let Some(f) = self.explicit.clone().or_else(|| self.default_file()) {
                edit_auth_file(&f, |auths| {
                    removed |= auths.remove(registry).is_some();
                })?;
            }
            Ok(removed)
        }

        pub fn remove_all(&self) -> Result<(), Failure> {
            if self.use_keyring() {
                for r in self.index() {
                    if let Ok(e) = keyring::Entry::new(KEYRING_SERVICE, &r) {
                        let _ = e.delete_credential();
                    }
                }
                self.write_index(&[])?;
            }
            if let Some(f) = self.explicit.clone().or_else(|| self.default_file()) {
                edit_auth_file(&f, |auths| auths.clear())?;
            }
            Ok(())
        }

        fn index_path(&self) -> Option<PathBuf> {
            self.config_dir.as_ref().map(|c| c.join(INDEX_FILE))
        }

        fn index(&self) -> Vec<String> {
            self.index_path()
                .and_then(|p| std::fs::read(p).ok())
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default()
        }

        fn write_index(&self, list: &[String]) -> Result<(), Failure> {
            let Some(p) = self.index_path() else {
                return Ok(());
            };
            let text = serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
            super::write_atomic(&p, text.as_bytes(), Some(0o600))
                .map_err(|e| Failure::msg(format!("writing {}: {e}", p.display())))
        }
    }

    /// Store, read back and delete a non-secret value. A keyring that fails this may keep
    /// (at most) this one harmless entry, which the next probe overwrites.
    fn keyring_works() -> keyring::Result<()> {
        let e = keyring::Entry::new(KEYRING_SERVICE, "podman-remote-probe")?;
        e.set_password("probe")?;
        let back = e.get_password()?;
        e.delete_credential()?;
        if back == "probe" {
            Ok(())
        } else {
            Err(keyring::Error::NoEntry)
        }
    }

    /// The keyring secret: the JSON of the pair (usernames may contain ':').
    fn encode_secret(c: &Credentials) -> String {
        json!({"username": c.username, "password": c.password}).to_string()
    }

    fn decode_secret(s: &str) -> Option<Credentials> {
        let v: Value = serde_json::from_str(s).ok()?;
        Some(Credentials {
            username: v.get("username")?.as_str()?.to_string(),
            password: v.get("password")?.as_str()?.to_string(),
        })
    }

    fn normalize_key(k: &str) -> String {
        super::normalize_registry(k)
    }

    /// An auth.json entry's `auth` (base64 of `user:password`).
    fn entry_credentials(v: &Value) -> Option<Credentials> {
        let auth = v.get("auth")?.as_str()?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (u, p) = text.split_once(':')?;
        Some(Credentials {
            username: u.to_string(),
            password: p.trim_end_matches('\n').to_string(),
        })
    }

    fn read_auth_file(path: &PathBuf) -> Result<Value, Failure> {
        match std::fs::read(path) {
            Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(json!({})),
            Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                Failure::msg(format!(
                    "{} is not a valid auth file ({e}); fix or remove it",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(json!({})),
            Err(e) => Err(Failure::msg(format!("reading {}: {e}", path.display()))),
        }
    }

    /// Read-modify-write an auth.json, keeping every other key (credHelpers, …), written
    /// atomically with mode 0600. A missing file is only created when something is added.
    fn edit_auth_file(
        path: &PathBuf,
        f: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> Result<(), Failure> {
        let mut doc = read_auth_file(path)?;
        let existed = path.exists();
        if !doc.is_object() {
            doc = json!({});
        }
        let Some(obj) = doc.as_object_mut() else {
            return Ok(());
        };
        let auths = obj.entry("auths").or_insert_with(|| json!({}));
        if !auths.is_object() {
            *auths = json!({});
        }
        let Some(map) = auths.as_object_mut() else {
            return Ok(());
        };
        let before = map.clone();
        f(map);
        if *map == before && (existed || map.is_empty()) {
            return Ok(());
        }
        let text = crate::output::go_json_indent(&doc, "\t");
        super::write_atomic(path, text.as_bytes(), Some(0o600))
            .map_err(|e| Failure::msg(format!("writing {}: {e}", path.display())))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn secrets_roundtrip() {
            let c = Credentials {
                username: "a:b".into(),
                password: "p:w".into(),
            };
            assert_eq!(decode_secret(&encode_secret(&c)), Some(c));
        }

        #[test]
        fn auth_entries() {
            let v = json!({"auth": "dXNlcjpwYTpzcw=="}); // user:pa:ss
            let c = entry_credentials(&v).unwrap();
            assert_eq!(
                (c.username.as_str(), c.password.as_str()),
                ("user", "pa:ss")
            );
            assert!(entry_credentials(&json!({"auth": "!!"})).is_none());
        }

        #[test]
        fn auth_file_edit_keeps_other_keys_and_mode() {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("sub/auth.json");
            edit_auth_file(&p, |a| {
                a.remove("x");
            })
            .unwrap();
            assert!(!p.exists(), "nothing to remove must not create the file");
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, r#"{"auths":{},"credHelpers":{"r":"h"}}"#).unwrap();
            edit_auth_file(&p, |a| {
                a.insert("reg:5000".into(), json!({"auth": "eDp5"}));
            })
            .unwrap();
            let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            assert_eq!(v["credHelpers"]["r"], "h");
            assert_eq!(v["auths"]["reg:5000"]["auth"], "eDp5");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_of_references() {
        assert_eq!(registry_of("127.0.0.1:5000/a/b:c"), "127.0.0.1:5000");
        assert_eq!(registry_of("quay.io/x"), "quay.io");
        assert_eq!(registry_of("localhost/x"), "localhost");
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("library/busybox"), "docker.io");
        assert_eq!(registry_of("docker://r.io/x"), "r.io");
        assert_eq!(normalize_registry("https://r.io:5000/"), "r.io:5000");
    }

    #[test]
    fn durations() {
        for ok in ["2s", "500ms", "1m30s", "0", "1.5h"] {
            assert!(looks_like_go_duration(ok), "{ok}");
        }
        for bad in ["", "2", "s", "2x", "-1s"] {
            assert!(!looks_like_go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(truncate_description("short", false), "short");
        let long = "x".repeat(50);
        assert_eq!(
            truncate_description(&long, false),
            format!("{}...", "x".repeat(44))
        );
        assert_eq!(truncate_description(&long, true), long);
    }

    #[test]
    fn creds_flag() {
        let c = parse_creds("u:p:q").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p:q"));
        assert!(parse_creds(":p").is_err());
    }
}
