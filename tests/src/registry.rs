//! A private container registry for the registry tests (pull, push, login…):
//! Debian's `docker-registry` (distribution v2) on a free 127.0.0.1 port, with
//! htpasswd (bcrypt) authentication and a TLS certificate signed by a CA made
//! for this run. Started lazily once per test binary, inside the world's
//! directory, and stopped with the world at exit.
//!
//! Trust: the world's ENGINE is the one talking to the registry. It trusts the
//! CA for the name `127.0.0.1:PORT` (the CA is in the engine's per-host
//! `certs.d`), but not for `localhost:PORT` (same server, same certificate, no
//! `certs.d` entry): that name is the "self-signed, verification fails unless
//! `--tls-verify=false`" case.

use std::fs;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::cleanup;
use crate::run::{spawn_daemon, try_run};
use crate::world::{world, World};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
const HTPASSWD: &str = "/usr/bin/htpasswd";
const OPENSSL: &str = "/usr/bin/openssl";

/// The running registry; see the module documentation.
#[derive(Debug)]
pub struct Registry {
    /// Its directory (config, certificates, storage, log) under the world's.
    pub dir: PathBuf,
    pub port: u16,
    /// The one account of the htpasswd file.
    pub user: String,
    pub password: String,
    /// A directory holding only `ca.crt` (the CA that signed the server
    /// certificate), in the layout `--cert-dir` expects.
    pub cert_dir: PathBuf,
    pub log_path: PathBuf,
}

static REGISTRY: OnceLock<Result<Registry, String>> = OnceLock::new();

/// The registry of this test binary (starting the world first if needed).
/// Fails the calling test if it could not be started.
#[track_caller]
pub fn registry() -> &'static Registry {
    let w = world();
    match REGISTRY.get_or_init(|| start(w)) {
        Ok(r) => r,
        Err(e) => panic!("the e2e registry (docker-registry) could not be started:\n{e}"),
    }
}

impl Registry {
    /// `127.0.0.1:PORT`: the name the engine trusts the certificate for.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `localhost:PORT`: the same registry under a name whose certificate
    /// the engine cannot verify (no CA configured for it).
    pub fn untrusted_host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// The registry's log (requests and their authentication outcomes).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

fn start(w: &World) -> Result<Registry, String> {
    for bin in [REGISTRY_BIN, HTPASSWD, OPENSSL] {
        if !Path::new(bin).exists() {
            return Err(format!(
                "missing {bin}; install docker-registry, apache2-utils and openssl \
                 (scripts/install-deps.sh)"
            ));
        }
    }
    let dir = w.dir.join("registry");
    let cert_dir = dir.join("certs");
    fs::create_dir_all(dir.join("data")).map_err(|e| format!("{}: {e}", dir.display()))?;
    fs::create_dir_all(&cert_dir).map_err(|e| format!("{}: {e}", cert_dir.display()))?;

    make_certificates(&dir)?;
    fs::copy(dir.join("ca.crt"), cert_dir.join("ca.crt"))
        .map_err(|e| format!("copying ca.crt: {e}"))?;

    let user = "e2euser".to_string();
    let password = format!("pw-{}", std::process::id());
    let out = checked(Command::new(HTPASSWD).args(["-Bbn", &user, &password]))?;
    write(&dir.join("htpasswd"), &out)?;

    let port = free_port()?;
    let config = format!(
        "version: 0.1\n\
         log:\n  level: info\n  accesslog:\n    disabled: false\n\
         storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {crt}\n    key: {key}\n\
         auth:\n  htpasswd:\n    realm: e2e-registry\n    path: {htpasswd}\n",
        data = dir.join("data").display(),
        crt = dir.join("server.crt").display(),
        key = dir.join("server.key").display(),
        htpasswd = dir.join("htpasswd").display(),
    );
    let config_path = dir.join("config.yml");
    write(&config_path, &config)?;

    // The engine (rootful) looks for per-registry CAs in its
    // $HOME/.config/containers/certs.d/HOST:PORT/ as well as /etc; the
    // world's engine has a private HOME, so nothing outside the world changes.
    let engine_certs = w
        .dir
        .join("enginehome/.config/containers/certs.d")
        .join(format!("127.0.0.1:{port}"));
    fs::create_dir_all(&engine_certs).map_err(|e| format!("{}: {e}", engine_certs.display()))?;
    fs::copy(dir.join("ca.crt"), engine_certs.join("ca.crt"))
        .map_err(|e| format!("copying ca.crt for the engine: {e}"))?;

    let log_path = dir.join("registry.log");
    let log = fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(REGISTRY_BIN);
    cmd.arg("serve")
        .arg(&config_path)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    let child = spawn_daemon(cmd).map_err(|e| format!("starting {REGISTRY_BIN}: {e}"))?;
    cleanup::add_daemon("registry", child);

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if TcpStream::connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok() {
            break;
        }
        if let Some(status) = cleanup::daemon_exited("registry") {
            return Err(format!(
                "docker-registry exited ({status}):\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "docker-registry did not listen on port {port} within 30 s:\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
    Ok(Registry {
        dir,
        port,
        user,
        password,
        cert_dir,
        log_path,
    })
}

/// A CA and a server certificate it signs, valid for 127.0.0.1 and localhost
/// (P-256 keys: generated in milliseconds).
fn make_certificates(dir: &Path) -> Result<(), String> {
    let p = |f: &str| dir.join(f).display().to_string();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    checked(
        Command::new(OPENSSL)
            .args([
                "req",
                "-x509",
                "-nodes",
                "-days",
                "3",
                "-subj",
                "/CN=e2e registry CA",
            ])
            .args(ec)
            .args(["-keyout", &p("ca.key"), "-out", &p("ca.crt")]),
    )?;
    checked(
        Command::new(OPENSSL)
            .args(["req", "-nodes", "-subj", "/CN=127.0.0.1"])
            .args(ec)
            .args(["-keyout", &p("server.key"), "-out", &p("server.csr")]),
    )?;
    write(
        &dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )?;
    checked(Command::new(OPENSSL).args([
        "x509",
        "-req",
        "-days",
        "3",
        "-in",
        &p("server.csr"),
        "-CA",
        &p("ca.crt"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-extfile",
        &p("ext.cnf"),
        "-out",
        &p("server.crt"),
    ]))?;
    Ok(())
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn checked(cmd: &mut Command) -> Result<String, String> {
    let out = try_run(cmd, None, Duration::from_secs(60)).map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(out.to_string());
    }
    Ok(out.stdout)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
