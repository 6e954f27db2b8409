//! The machine operations the CLI calls: init, start, stop, rm, list, inspect, set, reset,
//! info, plus the watcher that keeps a running machine's clock right. Provider-neutral: the
//! VM itself is driven through [`Provider`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bindings::connections::{Destination, Registry};
use chrono::Utc;
use serde_json::{json, Value};

use crate::config::{
    validate_name, HostUser, MachineConfig, Mount, PathRef, Provisioner, Resources, SshConfig,
    CONFIG_VERSION,
};
use crate::dirs::Dirs;
use crate::ignition::ProvisionSpec;
use crate::image::{ImageSource, Progress};
use crate::provider::{self, Provider, ProvisionDelivery, StartOptions, VmState, VmType};
use crate::{lock, path_ctx, Error, IoContext, Result};

/// Boot timeout (QEMU start to SSH login). Under TCG a boot takes 15-40 s, more under load.
pub const BOOT_TIMEOUT_ENV: &str = "PODMAN_REMOTE_MACHINE_BOOT_TIMEOUT";
/// Seconds between checks of the guest clock by the watcher (default 60).
pub const CLOCK_CHECK_ENV: &str = "PODMAN_REMOTE_MACHINE_CLOCK_CHECK";

pub struct Machines {
    pub dirs: Dirs,
    pub provider: Arc<dyn Provider>,
    pub registry: Registry,
}

#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    pub name: String,
    pub cpus: Option<u32>,
    /// MiB.
    pub memory: Option<u64>,
    /// GiB.
    pub disk_size: Option<u64>,
    pub image: String,
    pub username: String,
    pub rootful: bool,
    pub volumes: Vec<String>,
    pub timezone: String,
    pub ignition_path: Option<PathBuf>,
    pub provisioner: Option<Provisioner>,
}

#[derive(Debug, Clone, Default)]
pub struct SetOptions {
    pub cpus: Option<u32>,
    pub memory: Option<u64>,
    pub disk_size: Option<u64>,
    pub rootful: Option<bool>,
}

/// Starts the detached watcher process of a machine (the CLI re-executes itself).
pub type WatcherSpawner<'a> = &'a dyn Fn(&str) -> Result<()>;

/// What `start` achieved, for the CLI's messages.
#[derive(Debug, Clone)]
pub struct Started {
    pub api_socket: Option<PathBuf>,
    pub clock_warning: Option<String>,
}

fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

fn host_cpus() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(2)
}

#[cfg(unix)]
fn host_uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

#[cfg(not(unix))]
fn host_uid() -> u32 {
    1000
}

/// The host's zone name for `--timezone local`: `$TZ`, else the /etc/localtime link.
fn local_timezone() -> String {
    if let Ok(tz) = std::env::var("TZ") {
        let tz = tz.trim_start_matches(':');
        if !tz.is_empty() {
            return tz.to_string();
        }
    }
    std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|p| {
            let s = p.to_string_lossy().to_string();
            s.split_once("zoneinfo/").map(|(_, z)| z.to_string())
        })
        .unwrap_or_default()
}

/// A free localhost TCP port not recorded by another machine.
fn free_port(taken: &[u16]) -> Result<u16> {
    for _ in 0..50 {
        let l = std::net::TcpListener::bind("127.0.0.1:0")
            .ctx(|| "cannot find a free localhost port".into())?;
        let p = l
            .local_addr()
            .ctx(|| "cannot find a free localhost port".into())?
            .port();
        if !taken.contains(&p) {
            return Ok(p);
        }
    }
    Err(Error::Provider("no free localhost port found".into()))
}

fn port_free(p: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
}

/// `--volume SRC:DST[:ro]` → a mount, rejecting system directories as podman does.
pub fn parse_volume(spec: &str, kind: &str) -> Result<Mount> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, ro) = match parts.as_slice() {
        [s] => (*s, *s, false),
        [s, d] => (*s, *d, false),
        [s, d, o] if *o == "ro" || *o == "rw" => (*s, *d, *o == "ro"),
        _ => {
            return Err(Error::Invalid(format!(
                "invalid volume {spec:?}: expected SRC[:DEST[:ro]]"
            )))
        }
    };
    if !dst.starts_with('/') {
        return Err(Error::Invalid(format!(
            "invalid volume {spec:?}: the target must be an absolute path"
        )));
    }
    for sys in [
        "/bin", "/boot", "/dev", "/etc", "/home", "/proc", "/root", "/run", "/sbin", "/sys",
        "/tmp", "/usr", "/var",
    ] {
        if dst.trim_end_matches('/') == sys {
            return Err(Error::Invalid(format!(
                "invalid volume {spec:?}: {sys} cannot be a mount target in the machine"
            )));
        }
    }
    let tag = crate::hex(&sha2::Digest::finalize(sha2::Sha256::new_with_prefix(
        dst.as_bytes(),
    )))[..36]
        .to_string();
    Ok(Mount {
        original_input: spec.to_string(),
        read_only: ro,
        source: src.to_string(),
        tag,
        target: dst.to_string(),
        kind: kind.to_string(),
    })
}

use sha2::Digest as _;

/// Pick the provisioner from the image name when not given: machine-os/CoreOS images take
/// Ignition, generic cloud images cloud-init.
pub fn guess_provisioner(image: &str) -> Provisioner {
    let l = image.to_ascii_lowercase();
    if l.contains("coreos") || l.contains("machine-os") || l.contains("fcos") {
        Provisioner::Ignition
    } else if l.contains("cloud") || l.contains("cloudimg") || l.contains("nocloud") {
        Provisioner::CloudInit
    } else {
        Provisioner::Ignition
    }
}

/// Undo steps of a failed `init`, run in reverse.
#[derive(Default)]
struct Cleanup {
    files: Vec<PathBuf>,
    connections: Vec<String>,
    armed: bool,
}

impl Cleanup {
    fn run(&mut self, registry: &Registry) {
        if !self.armed {
            return;
        }
        for c in self.connections.iter().rev() {
            let _ = registry.remove(c);
        }
        for f in self.files.iter().rev() {
            if f.is_dir() {
                let _ = std::fs::remove_dir_all(f);
            } else {
                crate::remove_quiet(f);
            }
        }
    }
}

impl Machines {
    pub fn new() -> Result<Machines> {
        let vm = VmType::from_env()?;
        let provider: Arc<dyn Provider> = Arc::from(provider::for_type(vm)?);
        Ok(Machines {
            dirs: Dirs::for_provider(vm),
            provider,
            registry: Registry::from_env(),
        })
    }

    pub fn load(&self, name: &str) -> Result<MachineConfig> {
        MachineConfig::load(&self.dirs, name)
    }

    fn lock(&self, name: &str, wait: Duration) -> Result<lock::MachineLock> {
        let n = name.to_string();
        lock::acquire(&self.dirs.lock_file(name), wait, move || {
            Error::AlreadyRunning(n)
        })
    }

    pub fn state(&self, mc: &MachineConfig) -> Result<VmState> {
        self.provider.state(&self.dirs, mc)
    }

    /// `init`.
    pub fn init(&self, o: &InitOptions, progress: &dyn Progress) -> Result<MachineConfig> {
        self.init_interruptible(o, progress, &Interrupt::default())
    }

    /// `init` that another thread can stop (the CLI on SIGINT): at its next step it fails
    /// with [`Error::Interrupted`] and removes what it created, in this thread, so nothing
    /// it is still writing can outlive the rollback.
    pub fn init_interruptible(
        &self,
        o: &InitOptions,
        progress: &dyn Progress,
        interrupt: &Interrupt,
    ) -> Result<MachineConfig> {
        validate_name(&o.name)?;
        self.provider.check_host()?;
        self.dirs.ensure()?;
        let _l = lock::acquire(&self.dirs.lock_file(&o.name), Duration::ZERO, || {
            Error::Invalid(format!(
                "machine {} is being created by another command",
                o.name
            ))
        })?;
        if MachineConfig::exists(&self.dirs, &o.name) {
            return Err(Error::Exists(o.name.clone()));
        }
        let user_ignition = o.ignition_path.is_some();
        if !user_ignition {
            for c in [o.name.clone(), format!("{}-root", o.name)] {
                if self.registry.get(&c)?.is_some() {
                    return Err(Error::Invalid(format!(
                        "a connection named {c:?} already exists; remove it with \
                         `podman-remote system connection rm {c}` or choose another machine name"
                    )));
                }
            }
        }
        if let Some(c) = o.cpus {
            if c == 0 {
                return Err(Error::Invalid("--cpus must be at least 1".into()));
            }
        }
        let mut cleanup = Cleanup {
            armed: true,
            ..Default::default()
        };
        cleanup.files.push(self.dirs.lock_file(&o.name));
        let r = self.init_inner(o, progress, &mut cleanup, interrupt);
        if r.is_err() {
            cleanup.run(&self.registry);
        }
        r
    }

    fn init_inner(
        &self,
        o: &InitOptions,
        progress: &dyn Progress,
        cleanup: &mut Cleanup,
        interrupt: &Interrupt,
    ) -> Result<MachineConfig> {
        let name = &o.name;
        interrupt.check()?;
        let dirs = &self.dirs;
        let taken: Vec<u16> = MachineConfig::list(dirs)?
            .iter()
            .map(|m| m.ssh.port)
            .collect();
        let port = free_port(&taken)?;

        // Keys first: they are quick and an image download is not.
        let identity = dirs.identity_file(name);
        cleanup.files.push(identity.clone());
        cleanup.files.push(crate::guest::pub_path(&identity));
        let authorized_key = crate::guest::generate_key(&identity, name)?;
        let host_key = dirs.host_key_file(name);
        cleanup.files.push(host_key.clone());
        cleanup.files.push(crate::guest::pub_path(&host_key));
        let host_pub = crate::guest::generate_key(&host_key, &format!("{name} host key"))?;
        let host_priv = std::fs::read_to_string(&host_key).ctx(path_ctx("read", &host_key))?;

        // The disk.
        interrupt.check()?;
        let source = ImageSource::parse(&o.image)?;
        let fetched = match &source {
            ImageSource::Local(p) => p.clone(),
            ImageSource::Url(u) => crate::image::download(u, &dirs.cache_dir(), progress)?,
            ImageSource::Oci(r) => crate::image::pull_oci(
                r,
                self.provider.oci_disk_type(),
                &dirs.cache_dir(),
                progress,
            )?,
        };
        interrupt.check()?;
        let staging = dirs.data.join(format!(".{name}-incoming"));
        cleanup.files.push(staging.clone());
        crate::image::decompress_to(&fetched, &staging)?;
        interrupt.check()?;
        #[cfg(unix)]
        let format = crate::provider::qemu::probe_image(&staging)?;
        #[cfg(not(unix))]
        let format = self.provider.disk_format();
        let disk = dirs.disk_file(name, format.ext());
        cleanup.files.push(disk.clone());
        std::fs::rename(&staging, &disk).ctx(path_ctx("rename into", &disk))?;

        let uid = match host_uid() {
            // The guest's user cannot be uid 0; use the image's first user id.
            0 => 1000,
            u => u,
        };
        let username = if o.username.is_empty() {
            "core".to_string()
        } else {
            o.username.clone()
        };
        let timezone = match o.timezone.as_str() {
            "local" => local_timezone(),
            tz => tz.to_string(),
        };
        #[cfg(unix)]
        let share = crate::provider::qemu::share_type();
        #[cfg(not(unix))]
        let share = "9p";
        let mounts = o
            .volumes
            .iter()
            .map(|v| parse_volume(v, share))
            .collect::<Result<Vec<_>>>()?;
        let provisioner = o.provisioner.unwrap_or_else(|| guess_provisioner(&o.image));
        if !self.provider.supports(provisioner) {
            return Err(Error::Invalid(format!(
                "the {} provider cannot provision with {provisioner:?}",
                self.provider.vm_type()
            )));
        }
        let now = Utc::now();
        let mut mc = MachineConfig {
            config_path: PathRef::new(dirs.config_file(name)),
            created: now,
            host_user: HostUser {
                rootful: o.rootful,
                uid,
                host_user_modified: false,
            },
            last_up: chrono::DateTime::<Utc>::UNIX_EPOCH,
            mounts,
            name: name.clone(),
            resources: Resources {
                cpus: o.cpus.unwrap_or_else(|| (host_cpus() / 2).max(1)),
                disk_size: o.disk_size.unwrap_or(100),
                memory: o.memory.unwrap_or(2048),
                usbs: vec![],
            },
            ssh: SshConfig {
                identity_path: identity.clone(),
                port,
                remote_username: username.clone(),
            },
            version: CONFIG_VERSION,
            swap: 0,
            image_path: PathRef::new(disk.clone()),
            qemu: None,
            starting: false,
            rosetta: false,
            vm_type: self.provider.vm_type(),
            provisioner,
            ignition_path: PathRef::new(
                o.ignition_path
                    .clone()
                    .unwrap_or_else(|| dirs.ignition_file(name)),
            ),
            user_ignition: o.ignition_path.is_some(),
            known_hosts_path: PathRef::new(dirs.known_hosts_file(name)),
            timezone: timezone.clone(),
            image_source: o.image.clone(),
            provider_files: vec![],
            extra: Default::default(),
        };
        self.provider.create(dirs, &mut mc)?;
        cleanup.files.extend(mc.provider_files.iter().cloned());
        interrupt.check()?;

        let spec = ProvisionSpec {
            name: name.clone(),
            user: username.clone(),
            uid,
            rootful: o.rootful,
            authorized_key,
            host_key_private: host_priv,
            host_key_public: host_pub.clone(),
            timezone,
            proxy_env: crate::ignition::host_proxy_env(&|k| std::env::var(k).ok()),
            ca_certs: host_ca_certs(),
            mounts: mc
                .mounts
                .iter()
                .map(|m| (m.tag.clone(), m.target.clone(), m.kind.clone(), m.read_only))
                .collect(),
        };
        if let Some(user) = &o.ignition_path {
            if !user.is_file() {
                return Err(Error::Invalid(format!(
                    "--ignition-path {}: no such file",
                    user.display()
                )));
            }
        } else {
            match provisioner {
                Provisioner::Ignition => {
                    let ign = dirs.ignition_file(name);
                    cleanup.files.push(ign.clone());
                    let body = serde_json::to_vec_pretty(&crate::ignition::generate(&spec))
                        .map_err(|e| Error::Invalid(e.to_string()))?;
                    // It carries the guest's private host key.
                    crate::write_atomic(&ign, &body, 0o600)?;
                }
                Provisioner::CloudInit => {
                    let seed = dirs.seed_dir(name);
                    cleanup.files.push(seed.clone());
                    crate::cloudinit::write_seed(
                        &seed,
                        &spec,
                        &format!("{name}-{}", now.timestamp()),
                    )?;
                }
            }
        }
        interrupt.check()?;
        cleanup.files.push(mc.known_hosts_path.path.clone());
        crate::guest::write_known_hosts(&mc.known_hosts_path.path, port, &host_pub)?;
        cleanup.files.push(mc.config_path.path.clone());
        mc.save()?;

        if !o.user_ignition_skips_connections() {
            interrupt.check()?;
            self.add_connections(&mc, cleanup)?;
        }
        interrupt.check()?;
        cleanup.armed = false;
        Ok(mc)
    }

    fn connection_pair(&self, mc: &MachineConfig) -> [(String, Destination); 2] {
        let (host, port) = self.provider.ssh_endpoint(mc);
        let mk = |user: &str, sock: String| {
            let mut d = Destination::new(format!("ssh://{user}@{host}:{port}{sock}"));
            d.identity = Some(mc.ssh.identity_path.display().to_string());
            d.is_machine = true;
            d
        };
        [
            (
                mc.name.clone(),
                mk(&mc.ssh.remote_username, mc.guest_socket(false)),
            ),
            (
                format!("{}-root", mc.name),
                mk("root", mc.guest_socket(true)),
            ),
        ]
    }

    fn add_connections(&self, mc: &MachineConfig, cleanup: &mut Cleanup) -> Result<()> {
        let mut pair = self.connection_pair(mc).to_vec();
        if mc.host_user.rootful {
            pair.reverse();
        }
        for (n, d) in pair {
            cleanup.connections.push(n.clone());
            self.registry.add(&n, d, false)?;
        }
        Ok(())
    }

    /// Rewrite the pair's URIs after the SSH port changed (keeps the default as it is).
    fn update_connections(&self, mc: &MachineConfig) -> Result<()> {
        if mc.user_ignition {
            return Ok(());
        }
        for (n, d) in self.connection_pair(mc) {
            if self.registry.get(&n)?.is_some() {
                self.registry.add(&n, d, false)?;
            }
        }
        Ok(())
    }

    /// `start`: boot, wait for the ready signal and an SSH login, set the clock, start the
    /// watcher and the API server. A guest host key other than the pinned one fails the start
    /// (the VM is killed) and is never re-pinned here: a changed key means another VM.
    pub async fn start(&self, name: &str, watcher: Option<WatcherSpawner<'_>>) -> Result<Started> {
        self.load(name)?;
        let _l = self.lock(name, Duration::ZERO)?;
        let mut mc = self.load(name)?;
        if self.state(&mc)? != VmState::Stopped {
            return Err(Error::AlreadyRunning(name.to_string()));
        }
        self.provider.check_host()?;
        if !port_free(mc.ssh.port) {
            let taken: Vec<u16> = MachineConfig::list(&self.dirs)?
                .iter()
                .map(|m| m.ssh.port)
                .collect();
            let p = free_port(&taken)?;
            tracing::info!(
                "port {} is in use; machine {name} now uses {p}",
                mc.ssh.port
            );
            mc.ssh.port = p;
            let host_pub =
                std::fs::read_to_string(crate::guest::pub_path(&self.dirs.host_key_file(name)))
                    .ctx(path_ctx("read", &self.dirs.host_key_file(name)))?;
            crate::guest::write_known_hosts(&mc.known_hosts_path.path, p, &host_pub)?;
            mc.save()?;
            self.update_connections(&mc)?;
        }
        let provision = if mc.user_ignition || mc.provisioner == Provisioner::Ignition {
            ProvisionDelivery::Ignition(mc.ignition_path.path.clone())
        } else {
            ProvisionDelivery::NoCloud(self.dirs.seed_dir(name))
        };
        let timeout = env_secs(BOOT_TIMEOUT_ENV, 300);
        let t0 = Instant::now();
        let deadline = t0 + timeout;
        let opts = StartOptions {
            provision,
            ready_timeout: timeout,
        };
        // From here on a failure, or this future being dropped (the CLI does so on SIGINT),
        // takes the VM, the watcher and the API socket down again before the lock goes.
        let mut rollback = StartRollback::new(self, &mc);
        {
            let p = self.provider.clone();
            let dirs = self.dirs.clone();
            let mc2 = mc.clone();
            let launching = rollback.launching.clone();
            tokio::task::spawn_blocking(move || {
                let _done = launching;
                p.start(&dirs, &mc2, &opts)
            })
            .await
            .map_err(|e| Error::Provider(format!("start task failed: {e}")))??;
        }
        tracing::debug!("machine {name}: ready after {:?}", t0.elapsed());
        // The watcher's API server opens its own SSH session, which also wakes the guest's
        // socket-activated podman: started now, both overlap with this process's login and
        // clock setting instead of following them (each costs seconds of guest CPU under TCG).
        crate::api::stop(&self.dirs, &mc)?;
        let watching = match watcher.map(|spawn| spawn(name)) {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                tracing::warn!("clock watcher for {name} not started: {e}");
                false
            }
            None => false,
        };
        let (host, port) = self.provider.ssh_endpoint(&mc);
        let alive = || {
            self.provider
                .state(&self.dirs, &mc)
                .map(|s| s != VmState::Stopped)
                .unwrap_or(false)
        };
        let user = mc.ssh_user().to_string();
        // The first command of the login sets the clock: one round trip less on the way.
        let as_root = user == "root";
        let first = || crate::clock::set_clock_command(as_root);
        let (session, code, err) =
            crate::guest::wait_ssh(&mc, &user, &host, port, deadline, alive, first).await?;
        drop(session);
        let clock_warning = crate::clock::clock_result(code, &err)
            .err()
            .map(|e| e.to_string());
        tracing::debug!(
            "machine {name}: SSH login, clock set after {:?}",
            t0.elapsed()
        );
        mc.last_up = Utc::now();
        mc.save()?;
        let api_socket = if watching {
            crate::api::start(&self.dirs, &mc)?
        } else {
            None
        };
        tracing::debug!(
            "machine {name}: API server connected after {:?}",
            t0.elapsed()
        );
        rollback.disarm();
        Ok(Started {
            api_socket,
            clock_warning,
        })
    }

    /// `stop`: power off through the provider, stop the watcher and the API server.
    pub fn stop(&self, name: &str) -> Result<()> {
        self.load(name)?;
        let _l = self.lock(name, Duration::from_secs(30))?;
        let mut mc = self.load(name)?;
        crate::api::stop(&self.dirs, &mc)?;
        stop_watcher(&self.dirs, name);
        let was = self.state(&mc)?;
        self.provider.stop(
            &self.dirs,
            &mc,
            env_secs("PODMAN_REMOTE_MACHINE_STOP_TIMEOUT", 90),
        )?;
        if was != VmState::Stopped {
            mc.last_up = Utc::now();
            mc.save()?;
        }
        Ok(())
    }

    /// Files `rm` deletes, for its question.
    pub fn remove_plan(&self, name: &str) -> Result<Vec<PathBuf>> {
        let mc = self.load(name)?;
        Ok(mc
            .files(&self.dirs)
            .into_iter()
            .filter(|p| p.exists())
            .collect())
    }

    /// `rm`: a running machine needs `force` (then it is killed).
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        self.load(name)?;
        let _l = self.lock(name, Duration::from_secs(30))?;
        let mc = self.load(name)?;
        if self.state(&mc)? != VmState::Stopped {
            if !force {
                return Err(Error::Invalid(format!(
                    "vm \"{name}\" cannot be destroyed while running; stop it or use --force"
                )));
            }
            crate::api::stop(&self.dirs, &mc)?;
            stop_watcher(&self.dirs, name);
            self.provider.kill(&self.dirs, &mc)?;
        }
        self.provider.remove(&self.dirs, &mc)?;
        for p in mc.files(&self.dirs) {
            if p == self.dirs.lock_file(name) {
                continue;
            }
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                crate::remove_quiet(&p);
            }
        }
        if !mc.user_ignition {
            let default = self.registry.default_connection()?.map(|c| c.name);
            for (n, _) in self.connection_pair(&mc) {
                if self.registry.get(&n)?.is_some() {
                    self.registry.remove(&n)?;
                }
            }
            // podman: the default falls back to another machine's connection if it was ours.
            if default.is_some_and(|d| d == name || d == format!("{name}-root")) {
                if let Some(other) = self
                    .registry
                    .list()?
                    .into_iter()
                    .find(|c| c.destination.is_machine)
                {
                    self.registry.set_default(&other.name)?;
                }
            }
        }
        crate::remove_quiet(&self.dirs.lock_file(name));
        Ok(())
    }

    /// `set`: the machine must be stopped; disks only grow.
    pub fn set(&self, name: &str, o: &SetOptions) -> Result<MachineConfig> {
        self.load(name)?;
        let _l = self.lock(name, Duration::from_secs(30))?;
        let mut mc = self.load(name)?;
        if self.state(&mc)? != VmState::Stopped {
            return Err(Error::MustBeStopped(name.to_string()));
        }
        if let Some(c) = o.cpus {
            if c == 0 {
                return Err(Error::Invalid("--cpus must be at least 1".into()));
            }
            mc.resources.cpus = c;
        }
        if let Some(m) = o.memory {
            mc.resources.memory = m;
        }
        if let Some(d) = o.disk_size {
            if d < mc.resources.disk_size {
                return Err(Error::Invalid(format!(
                    "new disk size must be larger than the current disk size: {}GB",
                    mc.resources.disk_size
                )));
            }
            self.provider.resize_disk(&mc, d)?;
            mc.resources.disk_size = d;
        }
        if let Some(r) = o.rootful {
            if r != mc.host_user.rootful {
                mc.host_user.rootful = r;
                mc.host_user.host_user_modified = true;
                // Flip the default between the pair when one of them is the default.
                if let Some(d) = self.registry.default_connection()?.map(|c| c.name) {
                    let root = format!("{name}-root");
                    if d == name || d == root {
                        self.registry.set_default(if r { &root } else { name })?;
                    }
                }
            }
        }
        mc.save()?;
        Ok(mc)
    }

    /// podman's list row (`ListReporter`).
    pub fn list_reports(&self) -> Result<Vec<Value>> {
        let default = self.registry.default_connection()?.map(|c| c.name);
        let mut rows = Vec::new();
        for mc in MachineConfig::list(&self.dirs)? {
            let st = self.state(&mc).unwrap_or(VmState::Stopped);
            let is_default = default
                .as_deref()
                .is_some_and(|d| d == mc.name || d == format!("{}-root", mc.name));
            rows.push(json!({
                "Name": mc.name,
                "Default": is_default,
                "Created": mc.created.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                "Running": st == VmState::Running,
                "Starting": st == VmState::Starting,
                "LastUp": mc.last_up.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                "Stream": "default",
                "VMType": mc.vm_type.as_str(),
                "CPUs": mc.resources.cpus,
                "Memory": (mc.resources.memory * 1024 * 1024).to_string(),
                "Swap": (mc.swap * 1024 * 1024).to_string(),
                "DiskSize": (mc.resources.disk_size * 1024 * 1024 * 1024).to_string(),
                "Port": mc.ssh.port,
                "RemoteUsername": mc.ssh.remote_username,
                "IdentityPath": mc.ssh.identity_path,
                "UserModeNetworking": false,
            }));
        }
        // podman: running first, then most recently up.
        rows.sort_by(|a, b| {
            b["Running"]
                .as_bool()
                .cmp(&a["Running"].as_bool())
                .then_with(|| {
                    b["LastUp"]
                        .as_str()
                        .unwrap_or("")
                        .cmp(a["LastUp"].as_str().unwrap_or(""))
                })
        });
        Ok(rows)
    }

    /// podman's `InspectInfo`.
    pub fn inspect(&self, name: &str) -> Result<Value> {
        let mc = self.load(name)?;
        let st = self.state(&mc)?;
        Ok(json!({
            "ConfigDir": { "Path": self.dirs.config },
            "ConnectionInfo": {
                "PodmanSocket": { "Path": self.dirs.api_socket(name) },
                "PodmanPipe": crate::api_windows::inspect_pipe(name, cfg!(windows)),
            },
            "Created": mc.created.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            "LastUp": mc.last_up.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            "Name": mc.name,
            "Resources": {
                "CPUs": mc.resources.cpus,
                "DiskSize": mc.resources.disk_size,
                "Memory": mc.resources.memory,
                "USBs": [],
            },
            "SSHConfig": {
                "IdentityPath": mc.ssh.identity_path,
                "Port": mc.ssh.port,
                "RemoteUsername": mc.ssh.remote_username,
            },
            "State": st.as_str(),
            "UserModeNetworking": false,
            "Rootful": mc.host_user.rootful,
            "Rosetta": false,
            "Image": mc.image_path.path,
            "ImageSource": mc.image_source,
            "Provisioner": mc.provisioner,
            "SerialLog": self.provider.log_file(&self.dirs, &mc),
        }))
    }

    /// podman's `machine info` document (Host part; the CLI adds Version).
    pub fn info_host(&self) -> Result<Value> {
        let all = MachineConfig::list(&self.dirs)?;
        let default = self.registry.default_connection()?.map(|c| c.name);
        let current = all
            .iter()
            .find(|m| matches!(self.state(m), Ok(VmState::Running)))
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let default_machine = all
            .iter()
            .find(|m| {
                default
                    .as_deref()
                    .is_some_and(|d| d == m.name || d == format!("{}-root", m.name))
            })
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let state = if current.is_empty() { "" } else { "Running" };
        Ok(json!({
            "Arch": crate::provider::guest_arch(),
            "CurrentMachine": current,
            "DefaultMachine": default_machine,
            "EventsDir": self.dirs.runtime,
            "MachineConfigDir": self.dirs.config,
            "MachineImageDir": self.dirs.data,
            "MachineState": state,
            "NumberOfMachines": all.len(),
            "OS": std::env::consts::OS,
            "VMType": self.provider.vm_type().as_str(),
        }))
    }

    /// `reset`: stop and remove every machine, then the machine dirs.
    pub fn reset(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for mc in MachineConfig::list(&self.dirs)? {
            self.remove(&mc.name, true)?;
            removed.push(mc.name);
        }
        for d in [&self.dirs.config, &self.dirs.data] {
            if d.exists() {
                std::fs::remove_dir_all(d).ctx(path_ctx("remove", d))?;
            }
        }
        Ok(removed)
    }

    /// The command line of the system `ssh` for `machine ssh`.
    pub fn ssh_argv(
        &self,
        mc: &MachineConfig,
        user: Option<&str>,
        tty: bool,
        cmd: &[String],
    ) -> Vec<String> {
        let (host, port) = self.provider.ssh_endpoint(mc);
        let user = user.unwrap_or(mc.ssh_user()).to_string();
        let mut a = crate::guest::openssh_options(mc);
        a.extend(["-p".into(), port.to_string()]);
        if tty {
            a.push("-t".into());
        }
        a.push(format!("{user}@{host}"));
        a.extend(cmd.iter().cloned());
        a
    }

    /// The command line of `scp` for `machine cp`.
    pub fn scp_argv(&self, mc: &MachineConfig, quiet: bool, src: &str, dst: &str) -> Vec<String> {
        let (host, port) = self.provider.ssh_endpoint(mc);
        let user = mc.ssh_user().to_string();
        let mut a = vec!["-r".to_string()];
        if quiet {
            a.push("-q".into());
        }
        a.extend(crate::guest::openssh_options(mc));
        a.extend(["-P".into(), port.to_string()]);
        let map = |s: &str| match s.split_once(':') {
            Some((m, p)) if m == mc.name => format!("{user}@{host}:{p}"),
            _ => s.to_string(),
        };
        a.push(map(src));
        a.push(map(dst));
        a
    }

    /// Run in the detached watcher process while the machine runs: resync the guest clock
    /// after a host clock jump (resume) and whenever the guest drifts; exit with the VM.
    pub async fn watch(&self, name: &str) -> Result<()> {
        let mc = self.load(name)?;
        let pidf = self.dirs.watcher_pid_file(name);
        crate::write_atomic(&pidf, std::process::id().to_string().as_bytes(), 0o600)?;
        let check_every = env_secs(CLOCK_CHECK_ENV, 60);
        let mut jumps = crate::clock::JumpDetector::new();
        let mut last_check = Instant::now();
        let (host, port) = self.provider.ssh_endpoint(&mc);
        let user = mc.ssh_user().to_string();
        let mut session: Option<bindings::ssh::session::SshSession> = None;
        // The API socket lives in this process, as long as the VM.
        let (api_stop, api_stopped) = tokio::sync::oneshot::channel::<()>();
        #[cfg(unix)]
        let api = {
            let (socket, mc, host) = (self.dirs.api_socket(name), mc.clone(), host.clone());
            tokio::spawn(async move {
                let shutdown = async {
                    let _ = api_stopped.await;
                };
                if let Err(e) = crate::api::serve(&socket, &mc, &host, port, shutdown).await {
                    tracing::warn!("machine {}: API socket not served: {e}", mc.name);
                }
            })
        };
        #[cfg(windows)]
        let api = {
            let (dirs, mc, host) = (self.dirs.clone(), mc.clone(), host.clone());
            tokio::spawn(async move {
                let shutdown = async {
                    let _ = api_stopped.await;
                };
                if let Err(e) = crate::api_windows::serve(&dirs, &mc, &host, port, shutdown).await {
                    tracing::warn!("machine {}: API pipes not served: {e}", mc.name);
                }
            })
        };
        #[cfg(not(any(unix, windows)))]
        drop(api_stopped);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if self.state(&mc).unwrap_or(VmState::Stopped) == VmState::Stopped {
                break;
            }
            let jumped = jumps.check().is_some();
            let due = last_check.elapsed() >= check_every;
            if !jumped && !due {
                continue;
            }
            last_check = Instant::now();
            if session.as_ref().is_none_or(|s| s.is_closed()) {
                session = crate::guest::connect(&mc, &user, &host, port).await.ok();
            }
            let Some(s) = &session else { continue };
            let off = if jumped {
                None
            } else {
                match crate::clock::guest_offset(s).await {
                    Ok(o) => Some(o),
                    Err(_) => {
                        session = None;
                        continue;
                    }
                }
            };
            if jumped || off.is_some_and(|o| o.unsigned_abs() > crate::clock::THRESHOLD.as_secs()) {
                match crate::clock::set_guest_clock(s, user == "root").await {
                    Ok(()) => tracing::info!("machine {name}: guest clock set from the host"),
                    Err(e) => tracing::warn!("machine {name}: {e}"),
                }
            }
        }
        let _ = api_stop.send(());
        #[cfg(any(unix, windows))]
        let _ = api.await;
        // A newer watcher (after a restart) may own the file by now.
        if std::fs::read_to_string(&pidf).is_ok_and(|p| p.trim() == std::process::id().to_string())
        {
            crate::remove_quiet(&pidf);
        }
        Ok(())
    }
}

impl InitOptions {
    fn user_ignition_skips_connections(&self) -> bool {
        self.ignition_path.is_some()
    }
}

/// CA certificates to trust in the guest: `SSL_CERT_FILE` and podman's/docker's `certs.d`.
fn host_ca_certs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(f) = std::env::var("SSL_CERT_FILE") {
        if let Ok(pem) = std::fs::read_to_string(&f) {
            out.push(("podman-machine-ssl.crt".to_string(), pem));
        }
    }
    let home = bindings::ssh::session::home_dir();
    for base in [
        home.join(".config/containers/certs.d"),
        home.join(".config/docker/certs.d"),
    ] {
        let Ok(rd) = std::fs::read_dir(&base) else {
            continue;
        };
        for reg in rd.flatten() {
            let Ok(files) = std::fs::read_dir(reg.path()) else {
                continue;
            };
            for f in files.flatten() {
                let p = f.path();
                if p.extension().and_then(|e| e.to_str()) == Some("crt") {
                    if let Ok(pem) = std::fs::read_to_string(&p) {
                        out.push((
                            format!(
                                "{}-{}",
                                reg.file_name().to_string_lossy().replace(':', "_"),
                                f.file_name().to_string_lossy()
                            ),
                            pem,
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Raised by another thread to stop an `init` (see [`Machines::init_interruptible`]).
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<std::sync::atomic::AtomicBool>);

impl Interrupt {
    pub fn raise(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn check(&self) -> Result<()> {
        if self.0.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        Ok(())
    }
}

/// Undoes a `start` that did not finish: kills the VM, the watcher and the API socket. Lives
/// in `start`'s future after the lock, so it runs (on error or when the future is dropped)
/// while the lock is still held and no other command sees a half-started machine.
struct StartRollback<'a> {
    m: &'a Machines,
    mc: MachineConfig,
    /// Held by the provider's launch task until it returns: while it runs, a QEMU may still be
    /// daemonizing and write its pid file after a first kill.
    launching: Arc<()>,
    armed: bool,
}

impl<'a> StartRollback<'a> {
    fn new(m: &'a Machines, mc: &MachineConfig) -> StartRollback<'a> {
        StartRollback {
            m,
            mc: mc.clone(),
            launching: Arc::new(()),
            armed: true,
        }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for StartRollback<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (dirs, name) = (&self.m.dirs, self.mc.name.as_str());
        tracing::info!("machine {name}: start did not complete; stopping the VM");
        let _ = crate::api::stop(dirs, &self.mc);
        stop_watcher(dirs, name);
        let p = &self.m.provider;
        // The launch task sees its VM die and returns; until then, kill whatever came up.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Arc::strong_count(&self.launching) > 1 && Instant::now() < deadline {
            if p.state(dirs, &self.mc).is_ok_and(|s| s != VmState::Stopped) {
                let _ = p.kill(dirs, &self.mc);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Err(e) = p.kill(dirs, &self.mc) {
            tracing::warn!("machine {name}: {e}");
        }
        // A watcher started just before the interruption writes its pid file late.
        stop_watcher(dirs, name);
        let _ = crate::api::stop(dirs, &self.mc);
    }
}

/// Stop the watcher process of a machine (by its pid file).
pub fn stop_watcher(dirs: &Dirs, name: &str) {
    let pidf = dirs.watcher_pid_file(name);
    #[cfg(unix)]
    if let Some(pid) = std::fs::read_to_string(&pidf)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
    {
        // Only a process that is really our watcher: its command line names the machine.
        #[cfg(target_os = "linux")]
        let ours = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains("__watch") && c.contains(name)
            })
            .unwrap_or(false);
        #[cfg(not(target_os = "linux"))]
        let ours = true;
        if ours {
            // SAFETY: kill(2) on the watcher pid we recorded and checked.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
    crate::remove_quiet(&pidf);
}

/// The pinned known_hosts file of the machine whose SSH port a connection URI uses, so the
/// client verifies machine connections against it instead of the user's known_hosts.
pub fn pinned_known_hosts(uri: &str) -> Option<PathBuf> {
    let url = bindings::url::ConnectionUrl::parse(uri).ok()?;
    let port = match &url {
        bindings::url::ConnectionUrl::Ssh(s) => s.port?,
        _ => return None,
    };
    let vm = VmType::from_env().ok()?;
    let dirs = Dirs::for_provider(vm);
    MachineConfig::list(&dirs)
        .ok()?
        .into_iter()
        .find(|m| m.ssh.port == port)
        .map(|m| m.known_hosts_path.path)
        .filter(|p| p.is_file())
}

/// Seconds from an RFC 3339 time until now (for "x ago" columns).
pub fn secs_since(rfc3339: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(Utc::now().timestamp() - t.timestamp())
}

/// Used by tests and `rm`'s question.
pub fn display_files(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_parse_and_refuse_system_dirs() {
        let m = parse_volume("/src:/mnt/x:ro", "9p").unwrap();
        assert_eq!(
            (m.source.as_str(), m.target.as_str(), m.read_only),
            ("/src", "/mnt/x", true)
        );
        assert_eq!(m.tag.len(), 36);
        assert!(parse_volume("/a:/etc", "9p").is_err());
        assert!(parse_volume("/a:rel", "9p").is_err());
        assert!(parse_volume("/a:/b:zz", "9p").is_err());
        assert_eq!(parse_volume("/data", "virtiofs").unwrap().target, "/data");
    }

    #[test]
    fn provisioner_from_image_name() {
        assert_eq!(
            guess_provisioner("fedora-coreos-40.qcow2.xz"),
            Provisioner::Ignition
        );
        assert_eq!(
            guess_provisioner("debian-12-genericcloud-amd64.qcow2"),
            Provisioner::CloudInit
        );
        assert_eq!(
            guess_provisioner("/x/machine-debian.qcow2"),
            Provisioner::Ignition
        );
    }

    #[test]
    fn free_port_avoids_taken_ones() {
        let p = free_port(&[]).unwrap();
        assert!(port_free(p));
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(!port_free(l.local_addr().unwrap().port()));
    }
}
