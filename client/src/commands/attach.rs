//! Streams and terminals: `start [-a -i]`, `attach`, `exec`, raw mode, resize, detach keys,
//! signal proxying.

use std::collections::BTreeMap;

use bindings::api::containers::{AttachOptions, ListContainers};
use bindings::api::exec::ExecConfig;
use bindings::http::ApiClient;
use bindings::stream::{Demuxer, StreamId};
use clap::Args;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::create::{remove_quietly, start_failure};
use crate::context::GlobalOpts;
use crate::exit::{exec_failure_code, Failure};
use crate::terminal::{self, DetachMatcher, RawMode, DEFAULT_DETACH_KEYS};

/// How `run` (and `start -a`) connect the local terminal or pipes to a container.
#[derive(Debug, Clone)]
pub struct RunStream {
    /// `-t`: the container has a TTY (raw bytes, no framing; local terminal in raw mode).
    pub tty: bool,
    /// `-i`: forward our stdin; its EOF half-closes the container's stdin.
    pub interactive: bool,
    /// `--detach-keys`; `None` = podman's default (ctrl-p,ctrl-q), `Some("")` disables.
    pub detach_keys: Option<String>,
    /// `--sig-proxy`: forward SIGINT/SIGTERM etc. to the container.
    pub sig_proxy: bool,
    /// `--rm`: remove the container when done (the engine normally already has).
    pub remove: bool,
}

impl Default for RunStream {
    fn default() -> Self {
        RunStream {
            tty: false,
            interactive: false,
            detach_keys: None,
            sig_proxy: true,
            remove: false,
        }
    }
}

/// Attach to a created container, start it, stream until it ends and return its exit code
/// (the code `run` exits with).
pub async fn start_and_attach(
    client: &ApiClient,
    id: &str,
    opts: &RunStream,
) -> Result<u8, Failure> {
    attach_start_wait(client, id, opts, Caller::Run).await
}

/// Who runs the attach-start-wait sequence: the two differ in how a failed start is worded.
#[derive(Clone, Copy, PartialEq)]
enum Caller {
    Run,
    StartAttach,
}

async fn attach_start_wait(
    client: &ApiClient,
    id: &str,
    opts: &RunStream,
    caller: Caller,
) -> Result<u8, Failure> {
    let failed = |msg: String, code: u8| -> Failure {
        match caller {
            Caller::Run => Failure::with_code(code, msg),
            Caller::StartAttach => Failure::msg(format!("unable to start container {id}: {msg}")),
        }
    };
    let keys_spec = opts
        .detach_keys
        .clone()
        .unwrap_or_else(|| DEFAULT_DETACH_KEYS.to_string());
    let keys = match terminal::parse_detach_keys(&keys_spec) {
        Ok(k) => k,
        Err(e) => {
            if opts.remove {
                remove_quietly(client, id).await;
            }
            // podman's run reports this as a failed start (126).
            return Err(failed(format!("invalid detach keys: {e}"), 126));
        }
    };

    let io = match client
        .container_attach(
            id,
            &AttachOptions {
                stdin: opts.interactive,
                stdout: true,
                stderr: true,
                detach_keys: Some(keys_spec.clone()),
                logs: false,
            },
        )
        .await
    {
        Ok(io) => io,
        Err(e) => {
            // The engine initializes a created container while attaching, so a command that
            // cannot be run is reported here.
            if opts.remove {
                remove_quietly(client, id).await;
            }
            let f = start_failure(e);
            return Err(failed(f.message, f.code));
        }
    };

    // The wait must be registered before the start: with --rm the engine may remove a fast
    // container before a later wait could see it exit.
    let waiter = {
        let client = client.clone();
        let id = id.to_string();
        tokio::spawn(async move { client.container_wait(&id, &[]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;

    if let Err(e) = client.container_start(id, Some(&keys_spec)).await {
        waiter.abort();
        if opts.remove {
            remove_quietly(client, id).await;
        }
        let f = start_failure(e);
        return Err(failed(f.message, f.code));
    }

    // After the start: the engine only resizes a running container's terminal.
    let helpers = Helpers::start(
        client,
        opts.tty && opts.interactive,
        opts.tty.then(|| TtyTarget::Container(id.to_string())),
        opts.sig_proxy.then(|| id.to_string()),
    )?;
    let ended = pump(
        io,
        StreamSpec {
            tty: opts.tty,
            stdin: opts.interactive,
            keys,
            end_on_stdin_eof: opts.tty,
        },
    )
    .await;
    match ended {
        Ok(Ended::Detached) => {
            // The container keeps running; podman prints nothing and succeeds.
            waiter.abort();
            return Ok(0);
        }
        Ok(_) => {}
        Err(f) => {
            waiter.abort();
            drop(helpers);
            if opts.remove {
                remove_quietly(client, id).await;
            }
            return Err(f);
        }
    }
    let code = match waiter.await {
        Ok(Ok(code)) => code,
        // A container whose command cannot be started fails the wait with the runtime's
        // message; it decides 126/127 as for a failed start.
        Ok(Err(e)) => {
            let f = start_failure(e);
            return Err(failed(f.message, f.code));
        }
        Err(e) => return Err(Failure::msg(format!("waiting for the container: {e}"))),
    };
    drop(helpers);
    if opts.remove {
        // Normally already gone (the engine removes it); make sure.
        remove_quietly(client, id).await;
    }
    Ok(code.clamp(0, 255) as u8)
}

/// Whose terminal size follows ours.
#[derive(Clone)]
enum TtyTarget {
    Container(String),
    Exec(String),
}

impl TtyTarget {
    async fn resize(&self, client: &ApiClient) {
        let Some((rows, cols)) = terminal::size() else {
            return;
        };
        let r = match self {
            TtyTarget::Container(id) => client.container_resize(id, rows, cols).await,
            TtyTarget::Exec(id) => client.exec_resize(id, rows, cols).await,
        };
        if let Err(e) = r {
            // As in podman: a failed resize (e.g. the container just exited) is not an error.
            tracing::debug!("resizing the TTY: {e}");
        }
    }
}

/// What runs beside a stream: raw mode, resizing, signal proxying. Dropping it stops the
/// tasks and restores the terminal.
struct Helpers {
    tasks: Vec<JoinHandle<()>>,
    _raw: RawMode,
}

impl Helpers {
    /// `raw`: put our terminal in raw mode (only happens if stdin is a terminal).
    /// `resize`: keep this TTY at our terminal's size (only with a terminal).
    /// `proxy_to`: forward caught signals to this container.
    fn start(
        client: &ApiClient,
        raw: bool,
        resize: Option<TtyTarget>,
        proxy_to: Option<String>,
    ) -> Result<Helpers, Failure> {
        let raw = if raw {
            RawMode::enable()
                .map_err(|e| Failure::msg(format!("setting the terminal to raw mode: {e}")))?
        } else {
            RawMode::none()
        };
        let mut tasks = Vec::new();
        if let (Some(target), true) = (resize, terminal::stdin_is_terminal()) {
            let client = client.clone();
            let mut changes = terminal::window_changes();
            tasks.push(tokio::spawn(async move {
                target.resize(&client).await;
                while changes.recv().await.is_some() {
                    target.resize(&client).await;
                }
            }));
        }
        // In raw mode the signals that would kill us are caught too, so that the terminal
        // is restored before we die of them.
        if let Some(mut caught) = terminal::catch_signals(proxy_to.is_some(), raw.is_active()) {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(sig) = caught.recv().await {
                    match &proxy_to {
                        Some(id) => {
                            if let Err(e) = client.container_kill(id, sig.name).await {
                                // Typically the container has just stopped.
                                tracing::debug!("forwarding SIG{} to {id}: {e}", sig.name);
                            }
                        }
                        None => terminal::die_of(sig),
                    }
                }
            }));
        }
        Ok(Helpers { tasks, _raw: raw })
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// How a stream session ended.
#[derive(Debug, PartialEq)]
enum Ended {
    /// The engine closed the stream (the process ended or the engine detached us).
    Output,
    /// The user typed the detach sequence.
    Detached,
    /// Our stdin ended (ends the session only where `end_on_stdin_eof` says so).
    StdinClosed,
}

struct StreamSpec {
    /// Raw bytes (the process has a TTY) rather than multiplexed frames.
    tty: bool,
    /// Forward our stdin.
    stdin: bool,
    /// Detach sequence to look for on stdin (empty: none).
    keys: Vec<u8>,
    /// podman's attach to a TTY is over when the input ends.
    end_on_stdin_eof: bool,
}

/// Copy our stdin to a hijacked stream and its output to our stdout/stderr until it ends.
async fn pump<S>(io: S, spec: StreamSpec) -> Result<Ended, Failure>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (reader, mut writer) = tokio::io::split(io);
    let (events, mut event_rx) = mpsc::channel::<Ended>(2);
    let stdin_task = if spec.stdin {
        let keys = spec.keys;
        Some(tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let mut matcher = DetachMatcher::new(keys);
            let mut buf = vec![0u8; 32 * 1024];
            let mut out = Vec::new();
            loop {
                // A read error (e.g. the terminal went away) is the end of input too.
                let n = stdin.read(&mut buf).await.unwrap_or(0);
                out.clear();
                if n == 0 {
                    matcher.flush(&mut out);
                    if !out.is_empty() {
                        let _ = writer.write_all(&out).await;
                    }
                    // EOF on our stdin becomes EOF on the process's (half-close).
                    let _ = writer.shutdown().await;
                    let _ = events.send(Ended::StdinClosed).await;
                    return;
                }
                let detached = matcher.feed(&buf[..n], &mut out);
                if !out.is_empty() {
                    if writer.write_all(&out).await.is_err() {
                        // The engine closed the stream; the output side ends the session.
                        return;
                    }
                    let _ = writer.flush().await;
                }
                if detached {
                    let _ = events.send(Ended::Detached).await;
                    return;
                }
            }
        }))
    } else {
        drop(writer);
        None
    };

    let output = copy_output(reader, spec.tty);
    tokio::pin!(output);
    let result = loop {
        tokio::select! {
            r = &mut output => break r.map(|()| Ended::Output),
            Some(ev) = event_rx.recv() => match ev {
                Ended::StdinClosed if !spec.end_on_stdin_eof => {}
                ev => break Ok(ev),
            },
        }
    };
    if let Some(t) = stdin_task {
        t.abort();
    }
    result
}

async fn copy_output<R: AsyncRead + Unpin>(reader: R, tty: bool) -> Result<(), Failure> {
    let mut stdout = tokio::io::stdout();
    if tty {
        let mut reader = reader;
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    stdout.write_all(&buf[..n]).await?;
                    stdout.flush().await?;
                }
                Err(e) => {
                    tracing::debug!("attach stream ended: {e}");
                    return Ok(());
                }
            }
        }
    }
    let mut stderr = tokio::io::stderr();
    let mut demux = Demuxer::new(reader);
    loop {
        match demux.next().await {
            Ok(Some((StreamId::Stdout, data))) => {
                stdout.write_all(&data).await?;
                stdout.flush().await?;
            }
            Ok(Some((StreamId::Stderr, data))) => {
                stderr.write_all(&data).await?;
                stderr.flush().await?;
            }
            Ok(Some((StreamId::ServerError, data))) => {
                // The engine reports a failed start of the attached process on stream 3;
                // podman derives 126/127 from that message too.
                let msg = String::from_utf8_lossy(&data).trim().to_string();
                return Err(Failure::with_code(exec_failure_code(&msg), msg));
            }
            Ok(Some((StreamId::Stdin, _))) => {}
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::debug!("attach stream ended: {e}");
                return Ok(());
            }
        }
    }
}

/// `--sig-proxy` as podman spells it: `--sig-proxy` alone means true, `--sig-proxy=false`.
fn bool_flag_value(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("parse error on {s:?}: invalid syntax")),
    }
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach container's STDOUT and STDERR.
    #[arg(short, long)]
    pub attach: bool,
    /// Select the key sequence for detaching a container.
    #[arg(long = "detach-keys", default_value = DEFAULT_DETACH_KEYS, value_name = "KEYS")]
    pub detach_keys: String,
    /// Keep STDIN open even if not attached.
    #[arg(short, long)]
    pub interactive: bool,
    /// Proxy received signals to the process (default true if attaching, false otherwise).
    #[arg(long = "sig-proxy", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = bool_flag_value)]
    pub sig_proxy: Option<bool>,
    /// Filter output based on conditions given.
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Start all containers regardless of their state or configuration.
    #[arg(long)]
    pub all: bool,
    /// Containers to start.
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// A container named on the command line (or found by --all/--filter), as the start needs it.
struct Target {
    id: String,
    /// What to print on success: the name as given, or the ID when found by a filter.
    shown: String,
    running: bool,
    tty: bool,
    auto_remove: bool,
}

fn target_from_inspect(v: &Value, shown: String) -> Target {
    Target {
        id: v["Id"].as_str().unwrap_or_default().to_string(),
        shown,
        running: v["State"]["Status"].as_str() == Some("running"),
        tty: v["Config"]["Tty"].as_bool().unwrap_or(false),
        auto_remove: v["HostConfig"]["AutoRemove"].as_bool().unwrap_or(false),
    }
}

async fn resolve(client: &ApiClient, a: &StartArgs) -> Result<Vec<Target>, Failure> {
    let mut out = Vec::new();
    if a.all || !a.filter.is_empty() {
        let list = client
            .containers(&ListContainers {
                all: true,
                filters: a.filter.clone(),
                ..Default::default()
            })
            .await?;
        for c in list {
            let Some(id) = c["Id"].as_str() else { continue };
            let v = client.container_inspect(id, false).await?;
            out.push(target_from_inspect(&v, id.to_string()));
        }
        return Ok(out);
    }
    // All names are checked before anything is started, as podman does.
    for name in &a.containers {
        let v = client.container_inspect(name, false).await?;
        out.push(target_from_inspect(&v, name.clone()));
    }
    Ok(out)
}

pub async fn start(g: &GlobalOpts, a: StartArgs) -> Result<u8, Failure> {
    if a.containers.is_empty() && !a.all && a.filter.is_empty() {
        return Err(Failure::msg("start requires at least one argument"));
    }
    if a.all && !a.containers.is_empty() {
        return Err(Failure::msg(
            "either start all containers or the container(s) provided in the arguments",
        ));
    }
    if a.containers.len() > 1 && a.attach {
        return Err(Failure::msg(
            "you cannot start and attach multiple containers at once",
        ));
    }
    if a.attach && a.all {
        return Err(Failure::msg(
            "you cannot start and attach all containers at once",
        ));
    }
    let sig_proxy = a.sig_proxy.unwrap_or(a.attach);
    if sig_proxy && !a.attach {
        return Err(Failure::msg(
            "you cannot use sig-proxy without --attach: invalid argument",
        ));
    }
    if let Some(f) = a.filter.iter().find(|f| !f.contains('=')) {
        return Err(Failure::msg(format!("invalid filter {f:?}")));
    }
    let client = g.client().await?;
    let targets = resolve(&client, &a).await?;

    if a.attach {
        let Some(t) = targets.first() else {
            return Ok(0);
        };
        if targets.len() > 1 {
            return Err(Failure::msg(
                "you cannot start and attach multiple containers at once",
            ));
        }
        let opts = RunStream {
            tty: t.tty,
            interactive: a.interactive,
            detach_keys: Some(a.detach_keys.clone()),
            sig_proxy,
            remove: t.auto_remove,
        };
        return attach_start_wait(&client, &t.id, &opts, Caller::StartAttach).await;
    }

    let mut errors: Vec<String> = Vec::new();
    for t in &targets {
        if t.running {
            // podman reports nothing for a container that is already running.
            continue;
        }
        match client.container_start(&t.id, Some(&a.detach_keys)).await {
            Ok(()) => println!("{}", t.shown),
            Err(e) => {
                if t.auto_remove {
                    remove_quietly(&client, &t.id).await;
                }
                if e.status().is_none() {
                    return Err(e.into());
                }
                errors.push(format!("unable to start container {:?}: {e}", t.id));
            }
        }
    }
    // podman prints every error, the last one as the command's own.
    match errors.pop() {
        None => Ok(0),
        Some(last) => {
            for e in errors {
                eprintln!("Error: {e}");
            }
            Err(Failure::msg(last))
        }
    }
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Select the key sequence for detaching a container.
    #[arg(long = "detach-keys", default_value = DEFAULT_DETACH_KEYS, value_name = "KEYS")]
    pub detach_keys: String,
    /// Do not attach STDIN. The default is false.
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy received signals to the process.
    #[arg(long = "sig-proxy", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "true", value_parser = bool_flag_value)]
    pub sig_proxy: bool,
    /// The running container to attach to.
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn attach(g: &GlobalOpts, a: AttachArgs) -> Result<u8, Failure> {
    if a.containers.len() > 1 {
        return Err(Failure::msg("`podman attach` accepts at most one argument"));
    }
    let Some(name) = a.containers.first() else {
        return Err(Failure::msg(
            "attach requires the name or id of one running container or the latest flag",
        ));
    };
    let client = g.client().await?;
    let v = client.container_inspect(name, false).await?;
    let t = target_from_inspect(&v, name.clone());
    if !t.running {
        return Err(Failure::msg("you can only attach to running containers"));
    }
    let keys = terminal::parse_detach_keys(&a.detach_keys)
        .map_err(|e| Failure::msg(format!("invalid detach keys: {e}")))?;
    let stdin = !a.no_stdin;
    let io = client
        .container_attach(
            &t.id,
            &AttachOptions {
                stdin,
                stdout: true,
                stderr: true,
                detach_keys: Some(a.detach_keys.clone()),
                logs: false,
            },
        )
        .await?;
    let helpers = Helpers::start(
        &client,
        t.tty && stdin,
        t.tty.then(|| TtyTarget::Container(t.id.clone())),
        a.sig_proxy.then(|| t.id.clone()),
    )?;
    let ended = pump(
        io,
        StreamSpec {
            tty: t.tty,
            stdin,
            keys,
            end_on_stdin_eof: t.tty,
        },
    )
    .await;
    drop(helpers);
    // podman's remote attach succeeds when the stream ends, whatever the container's code.
    ended.map(|_| 0)
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Run the exec session in detached mode (backgrounded).
    #[arg(short, long)]
    pub detach: bool,
    /// Select the key sequence for detaching a container.
    #[arg(long = "detach-keys", default_value = DEFAULT_DETACH_KEYS, value_name = "KEYS")]
    pub detach_keys: String,
    /// Set environment variables.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long = "env-file", value_name = "FILE", value_delimiter = ',')]
    pub env_file: Vec<String>,
    /// Keep STDIN open even if not attached.
    #[arg(short, long)]
    pub interactive: bool,
    /// Give the process extended Linux capabilities inside the container.
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY. The default is false.
    #[arg(short, long)]
    pub tty: bool,
    /// Sets the username or UID used and optionally the groupname or GID for the command.
    #[arg(short, long, value_name = "USER")]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Pass N additional file descriptors to the container (not possible remotely).
    #[arg(long = "preserve-fds", hide = true, value_name = "N")]
    pub preserve_fds: Option<u32>,
    /// The container, then the command and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CONTAINER COMMAND [ARG...]"
    )]
    pub args: Vec<String>,
}

/// One `-e`/env-file entry in podman's notation: `K=V`, `K` (our value of K, if set) or
/// `PREFIX*` (all our variables starting with PREFIX).
fn add_env(
    env: &mut BTreeMap<String, String>,
    entry: &str,
    local: &dyn Fn() -> Vec<(String, String)>,
) -> Result<(), String> {
    if let Some((k, v)) = entry.split_once('=') {
        if k.is_empty() {
            return Err(format!("invalid environment variable: {entry:?}"));
        }
        env.insert(k.to_string(), v.to_string());
        return Ok(());
    }
    if entry.is_empty() {
        return Err(format!("invalid environment variable: {entry:?}"));
    }
    if let Some(prefix) = entry.strip_suffix('*') {
        for (k, v) in local() {
            if k.starts_with(prefix) {
                env.insert(k, v);
            }
        }
        return Ok(());
    }
    if let Some((_, v)) = local().into_iter().find(|(k, _)| k == entry) {
        env.insert(entry.to_string(), v);
    }
    Ok(())
}

/// The wording Go uses for the common file errors, which podman's messages carry.
fn go_io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

fn local_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The environment of an exec session: env files first, then `-e` (later entries win).
fn exec_env(a: &ExecArgs) -> Result<Vec<String>, Failure> {
    let mut env = BTreeMap::new();
    for path in &a.env_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::msg(format!("open {path}: {}", go_io_reason(&e))))?;
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            add_env(&mut env, line, &local_env).map_err(Failure::msg)?;
        }
    }
    for e in &a.env {
        add_env(&mut env, e, &local_env)
            .map_err(|e| Failure::msg(format!("parsing environment variables: {e}")))?;
    }
    Ok(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
}

pub async fn exec(g: &GlobalOpts, a: ExecArgs) -> Result<u8, Failure> {
    let Some((container, cmd)) = a.args.split_first() else {
        return Err(Failure::msg(
            "exec requires the name or ID of a container or the --latest flag",
        ));
    };
    if a.preserve_fds.unwrap_or(0) > 0 {
        return Err(Failure::msg(
            "--preserve-fds is not supported by podman-remote: local file descriptors cannot \
             be passed to a remote engine",
        ));
    }
    let env = exec_env(&a)?;
    let keys = terminal::parse_detach_keys(&a.detach_keys)
        .map_err(|e| Failure::msg(format!("invalid detach keys: {e}")))?;
    let config = ExecConfig {
        cmd: cmd.to_vec(),
        env,
        user: a.user.clone().unwrap_or_default(),
        working_dir: a.workdir.clone().unwrap_or_default(),
        privileged: a.privileged,
        tty: a.tty,
        attach_stdin: a.interactive,
        detach_keys: Some(a.detach_keys.clone()),
    };
    let client = g.client().await?;
    let session = client.exec_create(container, &config).await?;

    if a.detach {
        client.exec_start_detached(&session).await?;
        println!("{session}");
        return Ok(0);
    }

    let tty = client
        .exec_inspect(&session)
        .await?
        .process_config
        .map(|p| p.tty)
        .unwrap_or(a.tty);
    // A terminal size only means something when our stdin is a terminal.
    let local_tty = tty && terminal::stdin_is_terminal();
    let size = if local_tty { terminal::size() } else { None };
    let io = client
        .exec_start_attached(&session, local_tty, size)
        .await?;
    let helpers = Helpers::start(
        &client,
        local_tty && a.interactive,
        local_tty.then(|| TtyTarget::Exec(session.clone())),
        None,
    )?;
    let ended = pump(
        io,
        StreamSpec {
            tty,
            stdin: a.interactive,
            keys,
            end_on_stdin_eof: false,
        },
    )
    .await;
    drop(helpers);
    if ended? == Ended::Detached {
        return Ok(0);
    }
    let inspect = client.exec_inspect(&session).await?;
    // Engines before 5.0 have no exec remove endpoint and clean sessions up themselves.
    let major: u64 = client
        .server_version()
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major >= 5 {
        if let Err(e) = client.exec_remove(&session).await {
            tracing::debug!("removing exec session {session}: {e}");
        }
    }
    Ok(inspect.exit_code.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_env() -> Vec<(String, String)> {
        vec![
            ("HOME".into(), "/root".into()),
            ("LC_ALL".into(), "C".into()),
            ("LC_TIME".into(), "x".into()),
        ]
    }

    #[test]
    fn env_entries_follow_podman() {
        let mut env = BTreeMap::new();
        add_env(&mut env, "A=1", &fake_env).unwrap();
        add_env(&mut env, "B=x=y", &fake_env).unwrap();
        add_env(&mut env, "HOME", &fake_env).unwrap();
        add_env(&mut env, "NOT_SET", &fake_env).unwrap();
        add_env(&mut env, "LC_*", &fake_env).unwrap();
        add_env(&mut env, "A=2", &fake_env).unwrap();
        let got: Vec<String> = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(got, ["A=2", "B=x=y", "HOME=/root", "LC_ALL=C", "LC_TIME=x"]);
        let mut env = BTreeMap::new();
        assert!(add_env(&mut env, "=v", &fake_env).is_err());
        assert!(add_env(&mut env, "", &fake_env).is_err());
    }

    #[test]
    fn sig_proxy_values() {
        assert_eq!(bool_flag_value("true"), Ok(true));
        assert_eq!(bool_flag_value("false"), Ok(false));
        assert_eq!(bool_flag_value("0"), Ok(false));
        assert!(bool_flag_value("yes").is_err());
    }

    #[tokio::test]
    async fn tty_output_is_copied_raw_and_ends_at_eof() {
        // The stream ends when the engine closes it; with no stdin forwarded that is the
        // only way out.
        let (ours, mut engine) = tokio::io::duplex(64);
        engine.write_all(b"").await.unwrap();
        drop(engine);
        let ended = pump(
            ours,
            StreamSpec {
                tty: true,
                stdin: false,
                keys: vec![16, 17],
                end_on_stdin_eof: true,
            },
        )
        .await
        .unwrap();
        assert_eq!(ended, Ended::Output);
    }

    #[tokio::test]
    async fn server_error_frame_fails_with_podmans_code() {
        let (ours, mut engine) = tokio::io::duplex(1024);
        let frame = bindings::stream::encode_frame(
            3,
            b"exec: \"nosuch\": executable file not found in $PATH",
        );
        engine.write_all(&frame).await.unwrap();
        drop(engine);
        let err = pump(
            ours,
            StreamSpec {
                tty: false,
                stdin: false,
                keys: vec![],
                end_on_stdin_eof: false,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, 127);
        assert!(err.message.contains("nosuch"));
    }
}
