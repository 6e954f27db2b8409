//! Per-test client state: a private HOME, and an ssh-agent.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::run::{run, spawn_daemon, stop_daemon, Output};
use crate::world::{World, SYSTEM_PATH};

/// A private HOME for one test, under the world directory, deleted on drop.
///
/// Layout: `.ssh/` (0700, empty: no known_hosts, config or keys unless the
/// test writes them), `.config/` (XDG_CONFIG_HOME), `run/` (0700,
/// XDG_RUNTIME_DIR).
#[derive(Debug)]
pub struct Home {
    /// Owns the directory (removing it when the Home is dropped).
    pub dir: tempfile::TempDir,
    /// `dir.path()`, for convenience.
    pub path: PathBuf,
    ssh_port: u16,
}

impl Home {
    #[track_caller]
    pub(crate) fn new(world: &World) -> Home {
        let dir = tempfile::Builder::new()
            .prefix("h")
            .tempdir_in(world.dir.join("homes"))
            .unwrap_or_else(|e| {
                panic!(
                    "cannot create a test home under {}: {e}",
                    world.dir.display()
                )
            });
        let path = dir.path().to_path_buf();
        for (sub, mode) in [(".ssh", 0o700), (".config", 0o755), ("run", 0o700)] {
            fs::DirBuilder::new()
                .mode(mode)
                .create(path.join(sub))
                .unwrap_or_else(|e| panic!("cannot create {}/{sub}: {e}", path.display()));
        }
        Home {
            dir,
            path,
            ssh_port: world.ssh_port,
        }
    }

    /// `<home>/.ssh`
    pub fn ssh_dir(&self) -> PathBuf {
        self.path.join(".ssh")
    }

    /// `<home>/.ssh/known_hosts` (absent until written by the test or a client).
    pub fn known_hosts_path(&self) -> PathBuf {
        self.ssh_dir().join("known_hosts")
    }

    /// `<home>/.config` (XDG_CONFIG_HOME).
    pub fn config_dir(&self) -> PathBuf {
        self.path.join(".config")
    }

    /// `<home>/.config/containers/containers.conf` (podman 4.x connections).
    pub fn containers_conf_path(&self) -> PathBuf {
        self.config_dir().join("containers/containers.conf")
    }

    /// `<home>/.config/containers/podman-connections.json` (podman 5.x connections).
    pub fn connections_json_path(&self) -> PathBuf {
        self.config_dir().join("containers/podman-connections.json")
    }

    /// The clean environment of client commands: exactly HOME, PATH,
    /// XDG_CONFIG_HOME, XDG_RUNTIME_DIR, USER=root, LANG=C. No SSH_AUTH_SOCK
    /// (add `agent.sock` yourself), no CONTAINER_HOST, no CONTAINERS_CONF.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        vec![
            ("HOME".into(), self.path.clone().into()),
            ("PATH".into(), SYSTEM_PATH.into()),
            ("XDG_CONFIG_HOME".into(), self.config_dir().into()),
            ("XDG_RUNTIME_DIR".into(), self.path.join("run").into()),
            ("USER".into(), "root".into()),
            ("LANG".into(), "C".into()),
        ]
    }

    /// Our `podman-remote` binary with [`Home::env`] as its whole environment.
    #[track_caller]
    pub fn podman_remote(&self) -> Command {
        let mut cmd = Command::new(podman_remote_bin());
        cmd.env_clear().envs(self.env());
        cmd
    }

    /// Replaces `~/.ssh/known_hosts` (mode 0600).
    #[track_caller]
    pub fn write_known_hosts(&self, text: &str) {
        write_private(&self.known_hosts_path(), text);
    }

    /// `~/.ssh/known_hosts`, or "" if it does not exist.
    #[track_caller]
    pub fn known_hosts(&self) -> String {
        match fs::read_to_string(self.known_hosts_path()) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => panic!("cannot read {}: {e}", self.known_hosts_path().display()),
        }
    }

    /// Writes known_hosts lines for both of the world's host keys.
    #[track_caller]
    pub fn trust_world(&self, world: &World) {
        self.write_known_hosts(&format!(
            "{}\n{}\n",
            world.known_hosts_line(),
            world.known_hosts_line_rsa()
        ));
    }

    /// Replaces `~/.ssh/config` (mode 0600: ssh rejects a group/world-writable one).
    #[track_caller]
    pub fn write_ssh_config(&self, text: &str) {
        write_private(&self.ssh_dir().join("config"), text);
    }

    /// Copies a private key (and its `.pub`, if present) into `~/.ssh/NAME`
    /// with mode 0600, e.g. to test default identity files. Returns the path.
    #[track_caller]
    pub fn install_key(&self, key: &Path, name: &str) -> PathBuf {
        let dest = self.ssh_dir().join(name);
        let private = fs::read_to_string(key)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", key.display()));
        write_private(&dest, &private);
        if let Ok(public) = fs::read_to_string(key.with_extension("pub")) {
            write_private(&self.ssh_dir().join(format!("{name}.pub")), &public);
        }
        dest
    }

    /// The world's sshd port (handy in ssh configs).
    pub fn ssh_port(&self) -> u16 {
        self.ssh_port
    }
}

#[track_caller]
fn write_private(path: &Path, text: &str) {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Path of our `podman-remote` binary: `$PODMAN_REMOTE_BIN`, else next to
/// the test binary's `deps/` directory (`target/<profile>/podman-remote`).
/// Fails the test if it is missing: `cargo test` does not build the binaries
/// of other packages.
#[track_caller]
pub fn podman_remote_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("PODMAN_REMOTE_BIN") {
        return bin.into();
    }
    let exe =
        std::env::current_exe().unwrap_or_else(|e| panic!("cannot locate the test binary: {e}"));
    // target/<profile>/deps/<test>-<hash> → target/<profile>/podman-remote
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()));
    let bin = profile_dir.join("podman-remote");
    if !bin.is_file() {
        panic!(
            "{} not found: run `cargo build -p podman-remote` first (or set PODMAN_REMOTE_BIN)",
            bin.display()
        );
    }
    bin
}

/// A private ssh-agent (killed on drop). Point a client at it with
/// `cmd.env("SSH_AUTH_SOCK", &agent.sock)`.
#[derive(Debug)]
pub struct Agent {
    /// The agent's socket (SSH_AUTH_SOCK).
    pub sock: PathBuf,
    child: Child,
    askpass: PathBuf,
}

impl Agent {
    #[track_caller]
    pub(crate) fn start(world: &World) -> Agent {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let sock = world
            .dir
            .join("agents")
            .join(format!("a{}.sock", COUNTER.fetch_add(1, Ordering::Relaxed)));
        let mut cmd = Command::new("/usr/bin/ssh-agent");
        // -D: foreground, so it is our child and dies with us.
        cmd.env_clear()
            .env("PATH", SYSTEM_PATH)
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = spawn_daemon(cmd).unwrap_or_else(|e| panic!("cannot start ssh-agent: {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sock.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "ssh-agent exited ({status}) before creating {}",
                    sock.display()
                );
            }
            if Instant::now() > deadline {
                stop_daemon(&mut child, Duration::from_secs(1));
                panic!("ssh-agent did not create {} within 10 s", sock.display());
            }
            thread::sleep(Duration::from_millis(5));
        }
        Agent {
            sock,
            child,
            askpass: world.dir.join("askpass"),
        }
    }

    /// `ssh-add KEY`. The world's encrypted key is unlocked with its
    /// passphrase (through SSH_ASKPASS, since there is no terminal).
    #[track_caller]
    pub fn add(&self, key: &Path) -> &Self {
        let mut cmd = self.ssh_add();
        cmd.arg(key);
        run(&mut cmd, None, Duration::from_secs(30)).assert_success();
        self
    }

    /// `ssh-add -L`: the public keys the agent holds ("" if none).
    #[track_caller]
    pub fn list(&self) -> String {
        let mut cmd = self.ssh_add();
        cmd.arg("-L");
        let out: Output = run(&mut cmd, None, Duration::from_secs(30));
        // Exit status 1 with "The agent has no identities." means empty.
        if out.success() {
            out.stdout
        } else {
            String::new()
        }
    }

    fn ssh_add(&self) -> Command {
        let mut cmd = Command::new("/usr/bin/ssh-add");
        cmd.env_clear()
            .env("PATH", SYSTEM_PATH)
            .env("SSH_AUTH_SOCK", &self.sock)
            .env("SSH_ASKPASS", &self.askpass)
            .env("SSH_ASKPASS_REQUIRE", "force");
        cmd
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        stop_daemon(&mut self.child, Duration::from_secs(2));
        let _ = fs::remove_file(&self.sock);
    }
}
