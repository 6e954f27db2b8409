//! End-to-end test environment for `podman-remote`.
//!
//! Each test binary (tests/tests/*.rs) lazily starts, once, a private world
//! shared by all its tests ([`world()`]):
//!
//! * a rootful podman 4.3.1 engine (`podman system service`) with its own
//!   storage (vfs), config, locks and socket under `/tmp/pr-e2e-XXXXXX`,
//!   never touching the machine's /var/lib/containers or /run/podman;
//! * a tiny busybox image, [`IMAGE`], imported into it;
//! * a private OpenSSH sshd on a free 127.0.0.1 port that lets root in with
//!   the world's client keys and whose sessions' `podman` is a wrapper
//!   talking to the private engine (for socket discovery).
//!
//! Everything is stopped and deleted when the test binary exits (also after
//! a SIGKILL: the daemons die with the process and the next run sweeps the
//! directory). Linux only, as root; `.ci/run` lists the packages.
//!
//! ```no_run
//! use e2e::*;
//! use std::time::Duration;
//!
//! let w = world();
//! let home = w.home();
//! home.trust_world(w);
//! let out = run(
//!     home.podman_remote()
//!         .args(["--url", &w.ssh_url(), "--identity"])
//!         .arg(&w.key)
//!         .args(["run", "--rm", &w.image, "echo", "hi"]),
//!     None,
//!     Duration::from_secs(60),
//! );
//! out.assert_success();
//! assert_eq!(out.stdout, "hi\n");
//! ```

// The harness drives Linux-only machinery (podman, sshd, prctl); on other
// targets (the Windows cross-check of the workspace) the crate is empty.
#![cfg(target_os = "linux")]

mod cleanup;
mod home;
mod local;
mod machine;
mod netns;
mod registry;
mod run;
mod wine;
mod world;

pub use home::{podman_remote_bin, Agent, Home};
pub use local::{free_port, get_local, http_unix, parse_http_reply, wait_until};
pub use machine::{cmdline, machine_image, pid_alive, MachineHome, MACHINE_BOOT, MACHINE_CMD};
pub use netns::{RemoteHost, Sshd};
pub use registry::{registry, Registry};
pub use run::{describe, run, spawn_daemon, stop_daemon, try_run, Output};
pub use wine::{wine_path, WinePrefix, WINE_TIMEOUT};
pub use world::{unique, world, PrivateSshd, World, IMAGE};
