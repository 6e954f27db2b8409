//! The flags `create` and `run` share, named and shaped as podman's. Comma-separated list
//! flags ("strings" in podman's help) split on commas; repeatable ones ("stringArray") don't.
//! Numbers arrive as text so that a bad value gets podman's message, not clap's.

use clap::{ArgAction, Args};

#[derive(Args, Debug, Default, Clone)]
pub struct CreateFlags {
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host", value_delimiter = ',', value_name = "HOST:IP")]
    pub add_host: Vec<String>,
    /// Add annotations to container (key=value).
    #[arg(long, value_delimiter = ',', value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// Add capabilities to the container.
    #[arg(long = "cap-add", value_delimiter = ',', value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop capabilities from the container.
    #[arg(long = "cap-drop", value_delimiter = ',', value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Write the container ID to the file.
    #[arg(long, value_name = "FILE")]
    pub cidfile: Option<String>,
    /// Number of CPUs. The default is 0.000 which means no limit.
    #[arg(long, value_name = "CPUS")]
    pub cpus: Option<String>,
    /// Add a host device to the container.
    #[arg(long, value_delimiter = ',', value_name = "DEVICE")]
    pub device: Vec<String>,
    /// Set custom DNS servers.
    #[arg(long, value_delimiter = ',', value_name = "IP")]
    pub dns: Vec<String>,
    /// Set custom DNS options.
    #[arg(long = "dns-option", value_delimiter = ',', value_name = "OPTION")]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains.
    #[arg(long = "dns-search", value_delimiter = ',', value_name = "DOMAIN")]
    pub dns_search: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image.
    #[arg(long, value_name = "CMD", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Set environment variables in container.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long = "env-file", value_delimiter = ',', value_name = "FILE")]
    pub env_file: Vec<String>,
    /// Expose a port or a range of ports.
    #[arg(long, value_delimiter = ',', value_name = "PORT")]
    pub expose: Vec<String>,
    /// Add additional groups to the primary container process.
    #[arg(long = "group-add", value_delimiter = ',', value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// Set a healthcheck command for the container ('none' disables the existing healthcheck).
    #[arg(long = "health-cmd", value_name = "CMD", allow_hyphen_values = true)]
    pub health_cmd: Option<String>,
    /// Set an interval for the healthchecks ("disable" = no automatic timer).
    #[arg(
        long = "health-interval",
        default_value = "30s",
        value_name = "DURATION"
    )]
    pub health_interval: String,
    /// The number of retries allowed before a healthcheck is considered to be unhealthy.
    #[arg(long = "health-retries", default_value = "3", value_name = "N")]
    pub health_retries: String,
    /// The initialization time needed for a container to bootstrap.
    #[arg(
        long = "health-start-period",
        default_value = "0s",
        value_name = "DURATION"
    )]
    pub health_start_period: String,
    /// The maximum time allowed to complete the healthcheck before an interval is considered failed.
    #[arg(
        long = "health-timeout",
        default_value = "30s",
        value_name = "DURATION"
    )]
    pub health_timeout: String,
    /// Disable healthchecks on container.
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Set container hostname.
    #[arg(short = 'h', long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Run an init binary inside the container that forwards signals and reaps processes.
    #[arg(long)]
    pub init: bool,
    /// Keep STDIN open even if not attached.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Set metadata on container.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels.
    #[arg(long = "label-file", value_delimiter = ',', value_name = "FILE")]
    pub label_file: Vec<String>,
    /// Logging driver for the container.
    #[arg(long = "log-driver", value_name = "DRIVER")]
    pub log_driver: Option<String>,
    /// Logging driver options.
    #[arg(long = "log-opt", value_delimiter = ',', value_name = "OPT")]
    pub log_opt: Vec<String>,
    /// Memory limit (format: <number>[<unit>], where unit = b, k, m or g).
    #[arg(short = 'm', long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Attach a filesystem mount to the container.
    #[arg(long, value_name = "MOUNT")]
    pub mount: Vec<String>,
    /// Assign a name to the container.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Connect a container to a network.
    #[arg(long, value_name = "NETWORK", alias = "net")]
    pub network: Vec<String>,
    /// Do not create /etc/hosts within the container, instead use the version from the image.
    #[arg(long = "no-hosts")]
    pub no_hosts: bool,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long = "pids-limit", value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// Run container in an existing pod.
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
    /// Give extended privileges to container.
    #[arg(long)]
    pub privileged: bool,
    /// Publish a container's port, or a range of ports, to the host.
    #[arg(short = 'p', long, value_delimiter = ',', value_name = "PORT")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports on the host interface.
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Pull image policy (always, missing, never, newer).
    #[arg(long, default_value = "missing", value_name = "POLICY")]
    pub pull: String,
    /// Suppress output information when pulling images.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Make containers root filesystem read-only.
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// With --read-only, mount a read-write tmpfs on /run, /tmp and /var/tmp.
    #[arg(long = "read-only-tmpfs", default_value = "true", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), value_name = "BOOL")]
    pub read_only_tmpfs: bool,
    /// If a container with the same name exists, replace it.
    #[arg(long)]
    pub replace: bool,
    /// Restart policy to apply when a container exits ("always"|"no"|"on-failure"|"unless-stopped").
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<String>,
    /// Remove container (and pod if created) after exit.
    #[arg(long)]
    pub rm: bool,
    /// Security Options.
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// Size of /dev/shm (format: <number>[<unit>]).
    #[arg(long = "shm-size", value_name = "SIZE")]
    pub shm_size: Option<String>,
    /// Signal to stop a container. Default is SIGTERM.
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) that containers stopped by user command have to exit.
    #[arg(long = "stop-timeout", default_value = "10", value_name = "SECONDS")]
    pub stop_timeout: String,
    /// Sysctl options.
    #[arg(long, value_delimiter = ',', value_name = "KEY=VALUE")]
    pub sysctl: Vec<String>,
    /// Mount a temporary filesystem (tmpfs) into a container.
    #[arg(long, value_name = "TMPFS")]
    pub tmpfs: Vec<String>,
    /// Allocate a pseudo-TTY for container.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set timezone in container.
    #[arg(long = "tz", value_name = "TZ")]
    pub tz: Option<String>,
    /// Ulimit options.
    #[arg(long, value_delimiter = ',', value_name = "NAME=SOFT[:HARD]")]
    pub ulimit: Vec<String>,
    /// Set umask in container.
    #[arg(long, default_value = "0022", value_name = "UMASK")]
    pub umask: String,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// User namespace to use.
    #[arg(long, value_name = "MODE")]
    pub userns: Option<String>,
    /// Bind mount a volume into the container (source on the server machine).
    #[arg(short = 'v', long, value_name = "VOLUME")]
    pub volume: Vec<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<String>,
}
