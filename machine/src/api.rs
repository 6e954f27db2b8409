//! The machine's API socket on the host (`$XDG_RUNTIME_DIR/podman/<name>-api.sock`), served by
//! the SSH-tunnelled API server of the `server` crate inside the machine's watcher process
//! (`machine __watch NAME`), which lives exactly as long as the VM: [`serve`] runs there,
//! `start` waits for the socket with [`start`], and stopping the watcher stops the server.
//! The server checks the guest's host key against the key pinned with the machine, and it
//! forwards the containers' published ports to the host's localhost, as gvproxy does for
//! podman machine.

#[cfg(unix)]
use std::future::Future;
#[cfg(unix)]
use std::path::Path;
use std::path::PathBuf;
#[cfg(unix)]
use std::time::{Duration, Instant};

use crate::config::MachineConfig;
use crate::dirs::Dirs;
use crate::Result;

/// How long `start` waits for the watcher's server to accept connections.
#[cfg(unix)]
const API_WAIT: Duration = Duration::from_secs(60);

/// The engine the API socket forwards to: the rootful or rootless socket, as the default
/// connection of the machine does.
pub fn engine_uri(mc: &MachineConfig, host: &str, port: u16) -> String {
    format!(
        "ssh://{}@{}:{}{}",
        mc.ssh_user(),
        host,
        port,
        mc.guest_socket(mc.host_user.rootful)
    )
}

/// Serve the machine's API socket until `shutdown` resolves (called in the watcher process).
/// The guest's podman socket may come up a little after SSH (socket activation of the user's
/// systemd), so connecting is retried for a while before giving up.
#[cfg(unix)]
pub async fn serve(
    socket: &Path,
    mc: &MachineConfig,
    host: &str,
    port: u16,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let uri = engine_uri(mc, host, port);
    let listen = podman_server::ListenAddr::parse(&format!("unix://{}", socket.display()))?;
    let deadline = Instant::now() + API_WAIT;
    let mut wait = Duration::from_millis(250);
    // The VM may go away while this still tries (an interrupted start): stop trying then,
    // so no socket is bound after the machine is down.
    tokio::pin!(shutdown);
    let server = loop {
        let starting = podman_server::Server::builder(&uri)?
            .identity(Some(mc.ssh.identity_path.clone()))
            .pinned_known_hosts(Some(mc.known_hosts_path.path.clone()))
            .connection_name(Some(mc.name.clone()))
            .listen(listen.clone())
            .idle_timeout(None)
            .start();
        let attempt = tokio::select! {
            r = starting => r,
            () = &mut shutdown => return Ok(()),
        };
        match attempt {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                tracing::info!("machine {}: API server not up yet: {e}", mc.name);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = &mut shutdown => return Ok(()),
                }
                wait = (wait * 2).min(Duration::from_secs(3));
            }
            Err(e) => return Err(e.into()),
        }
    };
    server.serve(shutdown).await?;
    Ok(())
}

/// The server's state file, written once it is connected to the guest's engine.
fn state_file(socket: &std::path::Path) -> PathBuf {
    podman_server::ServerFiles::for_addr(&podman_server::ListenAddr::Unix(socket.to_path_buf()))
        .state
}

/// Wait until the watcher's API server is connected to the guest's engine (its state file
/// exists; bound alone is not enough, since the first client would then wait for the SSH
/// login). Returns the host socket, or `None` (with a warning) when it did not come up,
/// since the machine itself is usable.
pub fn start(dirs: &Dirs, mc: &MachineConfig) -> Result<Option<PathBuf>> {
    let socket = dirs.api_socket(&mc.name);
    #[cfg(unix)]
    {
        let deadline = Instant::now() + API_WAIT;
        let state = state_file(&socket);
        while Instant::now() < deadline {
            if state.is_file() && std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                return Ok(Some(socket));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        tracing::warn!(
            "machine {}: the API socket {} did not come up; see {}",
            mc.name,
            socket.display(),
            watcher_log(dirs, &mc.name).display()
        );
        Ok(None)
    }
    #[cfg(windows)]
    {
        let _ = socket;
        crate::api_windows::start(dirs, mc)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = socket;
        Ok(None)
    }
}

/// The API socket of the running machine whose server forwards to exactly `uri` (one of the
/// machine's connections), so a client can send its requests over the watcher's open SSH
/// session instead of logging in again. `None` when no such server is connected.
pub fn socket_serving(uri: &str) -> Option<PathBuf> {
    let (host, port) = match bindings::url::ConnectionUrl::parse(uri).ok()? {
        bindings::url::ConnectionUrl::Ssh(s) => (s.host, s.port?),
        _ => return None,
    };
    let vm = crate::provider::VmType::from_env().ok()?;
    let dirs = Dirs::for_provider(vm);
    let mc = MachineConfig::list(&dirs)
        .ok()?
        .into_iter()
        .find(|m| m.ssh.port == port)?;
    let socket = dirs.api_socket(&mc.name);
    (engine_uri(&mc, &host, port) == uri && state_file(&socket).is_file()).then_some(socket)
}

/// The watcher's log (its stderr), where the API server reports.
pub fn watcher_log(dirs: &Dirs, name: &str) -> PathBuf {
    dirs.api_socket(name).with_extension("log")
}

/// Stop forwarding and remove the socket (the watcher, which serves it, is stopped by the
/// caller).
pub fn stop(dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
    let socket = dirs.api_socket(&mc.name);
    crate::remove_quiet(&state_file(&socket));
    crate::remove_quiet(&socket);
    Ok(())
}

/// podman's hint after start (`WaitAPIAndPrintInfo`).
pub fn docker_host_lines(socket: &std::path::Path) -> String {
    if cfg!(windows) {
        // On Windows `start` returns the named pipe (see `api_windows`).
        crate::api_windows::docker_host_lines(&socket.to_string_lossy())
    } else {
        format!(
            "API forwarding listening on: {0}\n\nYou can connect Docker API clients by setting \
             DOCKER_HOST using the\nfollowing command in your terminal session:\n\n\t\
             export DOCKER_HOST='unix://{0}'\n",
            socket.display()
        )
    }
}
