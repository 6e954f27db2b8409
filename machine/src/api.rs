//! The machine's API socket on the host (`$XDG_RUNTIME_DIR/podman/<name>-api.sock`), served by
//! the SSH-tunnelled API server of the `server` crate.
//!
//! INTEGRATION POINT (server issue): `start` calls [`start`] once the guest answers SSH, and
//! `stop`/`rm` call [`stop`]. The `server` crate is built on another branch; until it is wired
//! here, [`start`] serves nothing and returns `None`, so `start` prints no DOCKER_HOST line.
//! Wiring it: spawn the server (in the machine's watcher process, which lives as long as the
//! VM) on `dirs.api_socket(name)` forwarding to `mc.guest_socket(rootful)` over SSH as
//! `mc.ssh_user()` with `mc.ssh.identity_path` and the pinned `mc.known_hosts_path`, wait for
//! the socket to accept, and return its path.

use std::path::PathBuf;

use crate::config::MachineConfig;
use crate::dirs::Dirs;
use crate::Result;

/// Start forwarding the machine's API; returns the host socket when one is served.
pub fn start(dirs: &Dirs, mc: &MachineConfig) -> Result<Option<PathBuf>> {
    let _ = (dirs, mc);
    Ok(None)
}

/// Stop forwarding and remove the socket.
pub fn stop(dirs: &Dirs, mc: &MachineConfig) -> Result<()> {
    crate::remove_quiet(&dirs.api_socket(&mc.name));
    Ok(())
}

/// podman's hint after start (`WaitAPIAndPrintInfo`).
pub fn docker_host_lines(socket: &std::path::Path) -> String {
    if cfg!(windows) {
        format!(
            "API forwarding listening on: {0}\n\nYou can connect Docker API clients by setting \
             DOCKER_HOST using the\nfollowing command in your terminal session:\n\n\t\
             $Env:DOCKER_HOST=\"unix://{0}\"\n",
            socket.display()
        )
    } else {
        format!(
            "API forwarding listening on: {0}\n\nYou can connect Docker API clients by setting \
             DOCKER_HOST using the\nfollowing command in your terminal session:\n\n\t\
             export DOCKER_HOST='unix://{0}'\n",
            socket.display()
        )
    }
}
