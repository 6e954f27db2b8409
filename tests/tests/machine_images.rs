//! `podman-remote machine init --image` from every remote source, without booting a VM: an
//! https URL served by a local TLS server with a CA made for the run, and podman 5's
//! machine-os OCI artifact pushed to a real `docker-registry` (TLS, and plain HTTP on
//! localhost). `init` without `--now` fetches, verifies and decompresses the disk and writes
//! the machine's files; the tests check the disk it leaves against the source with
//! `qemu-img compare`, and that a failure leaves no disk, no partial file, no machine config.
//!
//! Its own test target: `cargo test -p podman-e2e --test machine_images`.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::*;
use serde_json::{json, Value};

const CMD: Duration = MACHINE_CMD;

/// A private home for one test (`e2e::MachineHome`), with this file's helpers.
struct Env(MachineHome);

impl std::ops::Deref for Env {
    type Target = MachineHome;
    fn deref(&self) -> &MachineHome {
        &self.0
    }
}

impl std::ops::DerefMut for Env {
    fn deref_mut(&mut self) -> &mut MachineHome {
        &mut self.0
    }
}

impl Env {
    fn new() -> Env {
        Env(MachineHome::new("pmi"))
    }

    /// `machine init --image IMAGE --disk-size 1 NAME`.
    fn init(&self, image: &str, name: &str) -> Output {
        self.pr(&[
            "machine",
            "init",
            "--disk-size",
            "1",
            "--image",
            image,
            name,
        ])
    }

    fn cache(&self) -> PathBuf {
        self.data_dir().join("cache")
    }

    fn disk(&self, name: &str) -> PathBuf {
        self.data_dir().join(format!("{name}-amd64.qcow2"))
    }

    /// The cache's files (the download lock aside).
    fn cached(&self) -> Vec<String> {
        names(&self.cache())
            .into_iter()
            .filter(|n| n != ".download.lock")
            .collect()
    }

    /// Nothing of machine `name` exists: no config, no disk, no staging or key file.
    #[track_caller]
    fn assert_no_machine(&self, name: &str) {
        let left: Vec<String> = names(&self.config_dir())
            .into_iter()
            .chain(names(&self.data_dir()))
            .filter(|n| n.contains(name))
            .collect();
        assert!(left.is_empty(), "files of {name} left behind: {left:?}");
        let out = self.pr(&["machine", "list", "--format", "json"]);
        out.assert_success();
        let list: Value = serde_json::from_str(&out.stdout).unwrap();
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|m| m["Name"].as_str() != Some(name)),
            "{out}"
        );
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[track_caller]
fn check(cmd: &mut Command) -> String {
    let out = run(cmd, None, CMD);
    out.assert_success();
    out.stdout
}

/// podman-remote's own errors exit 125.
#[track_caller]
fn assert_fails_125(out: &Output, needle: &str) {
    assert_eq!(out.status, 125, "{out}");
    out.assert_stderr_contains(needle);
}

/// The disk `init` left holds exactly the source image's content (the virtual size grew to
/// `--disk-size`; `qemu-img compare` checks the grown part reads as zeros).
#[track_caller]
fn assert_same_disk(disk: &Path, source: &Path) {
    assert!(disk.is_file(), "{} missing", disk.display());
    let out = run(
        Command::new("qemu-img")
            .args(["compare", "-f", "qcow2", "-F", "qcow2"])
            .arg(source)
            .arg(disk),
        None,
        CMD,
    );
    assert_eq!(out.status, 0, "the disk differs from the source:\n{out}");
    let info: Value = serde_json::from_str(&check(
        Command::new("qemu-img")
            .args(["info", "--output=json", "-U"])
            .arg(disk),
    ))
    .unwrap();
    assert_eq!(info["virtual-size"], 1u64 << 30, "{info}");
}

fn sha256(p: &Path) -> String {
    check(Command::new("sha256sum").arg(p))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Test disks: small qcow2 images whose content depends on `seed` (so two never compare
/// equal), compressed as the sources serve them.
struct Disks {
    dir: tempfile::TempDir,
}

impl Disks {
    fn new() -> Disks {
        Disks {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `NAME.qcow2` (16 MiB virtual, a few MiB of pseudo-random data in places).
    fn qcow2(&self, name: &str, seed: u32) -> PathBuf {
        let raw = self.dir.path().join(format!("{name}.raw"));
        let mut data = vec![0u8; 16 << 20];
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        for block in [0usize, 3, 7, 12] {
            for b in &mut data[block << 20..(block << 20) + (600 << 10)] {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
        }
        std::fs::write(&raw, &data).unwrap();
        let q = self.dir.path().join(format!("{name}.qcow2"));
        check(
            Command::new("qemu-img")
                .args(["convert", "-f", "raw", "-O", "qcow2"])
                .arg(&raw)
                .arg(&q),
        );
        std::fs::remove_file(&raw).unwrap();
        q
    }

    /// `src` compressed with `xz` or `zstd` into `dest`.
    fn compress(&self, src: &Path, tool: &str, dest: &Path) {
        let out = std::fs::File::create(dest).unwrap();
        let st = Command::new(tool)
            .args(["-c", "-q"])
            .arg(src)
            .stdout(out)
            .status()
            .unwrap();
        assert!(st.success(), "{tool} failed");
    }
}

/// A CA and a server certificate it signs for 127.0.0.1 and localhost.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn new() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let p = |f: &str| dir.path().join(f).display().to_string();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        check(
            Command::new("openssl")
                .args(["req", "-x509", "-nodes", "-days", "2", "-subj"])
                .arg("/CN=machine images test CA")
                .args(ec)
                .args(["-keyout", &p("ca.key"), "-out", &p("ca.crt")]),
        );
        check(
            Command::new("openssl")
                .args(["req", "-nodes", "-subj", "/CN=127.0.0.1"])
                .args(ec)
                .args(["-keyout", &p("server.key"), "-out", &p("server.csr")]),
        );
        std::fs::write(
            dir.path().join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        check(Command::new("openssl").args([
            "x509",
            "-req",
            "-days",
            "2",
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
        ]));
        Certs { dir }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }
    fn cert(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }
}

/// The https file server: serves its directory with Range support, logs every request, and
/// cuts the first transfer of any `/cut/FILE` in the middle of the body (then serves `FILE`
/// whole or from the asked range on later requests).
const SERVER_PY: &str = r#"
import http.server, os, ssl, sys, threading
root, log, portfile, cert, key = sys.argv[1:6]
cut_once = set()
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, headers, body=b""):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        rng = self.headers.get("Range")
        with lock, open(log, "a") as f:
            f.write("GET %s range=%s\n" % (self.path, rng or "-"))
        path = self.path.split("?")[0]
        cut = False
        if path.startswith("/cut/"):
            path = path[4:]
            with lock:
                if not path.endswith(".sha256") and path not in cut_once:
                    cut_once.add(path)
                    cut = True
        fp = os.path.join(root, path.lstrip("/"))
        if not os.path.isfile(fp):
            return self.reply(404, [])
        data = open(fp, "rb").read()
        start, code, headers = 0, 200, []
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.reply(416, [("Content-Range", "bytes */%d" % len(data))])
            code = 206
            headers = [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))]
        body = data[start:]
        if not cut:
            return self.reply(code, headers, body)
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if cert != "-":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
"#;

struct FileServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl FileServer {
    fn start(c: &Certs) -> FileServer {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        std::fs::create_dir(&root).unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER_PY).unwrap();
        let portfile = dir.path().join("port");
        let mut cmd = Command::new("python3");
        cmd.arg(&script)
            .arg(&root)
            .arg(dir.path().join("requests.log"))
            .arg(&portfile)
            .arg(c.cert())
            .arg(c.key())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("server.err")).unwrap());
        let mut child = spawn_daemon(cmd).expect("starting python3");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&portfile) {
                break p.trim().parse().unwrap();
            }
            if let Ok(Some(st)) = child.try_wait() {
                panic!(
                    "the https server exited ({st}):\n{}",
                    std::fs::read_to_string(dir.path().join("server.err")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "the https server did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        FileServer { dir, port, child }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}/{path}", self.port)
    }

    /// `GET PATH range=R` lines, in order.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        stop_daemon(&mut self.child, Duration::from_secs(5));
    }
}

/// An env trusting the test CA through `SSL_CERT_FILE`, as a user behind a proxy would.
fn trusting_env(c: &Certs) -> Env {
    let mut env = Env::new();
    env.extra
        .push(("SSL_CERT_FILE".into(), c.ca().display().to_string()));
    env
}

#[test]
fn https_download_decompresses_xz_and_zstd_and_verifies_the_published_sha256() {
    let c = Certs::new();
    let disks = Disks::new();
    let src = disks.qcow2("disk", 1);
    let srv = FileServer::start(&c);
    disks.compress(&src, "xz", &srv.root().join("disk.qcow2.xz"));
    disks.compress(&src, "zstd", &srv.root().join("disk.qcow2.zst"));
    // A correct checksum beside the .zst, in sha256sum's shape.
    let zst = srv.root().join("disk.qcow2.zst");
    std::fs::write(
        srv.root().join("disk.qcow2.zst.sha256"),
        format!("{}  disk.qcow2.zst\n", sha256(&zst)),
    )
    .unwrap();

    // The CA is not in the system store: refused as untrusted, with the way out named.
    let plain = Env::new();
    let out = plain.init(&srv.url("disk.qcow2.xz"), "untrusted");
    assert_fails_125(&out, "TLS verification failed");
    out.assert_stderr_contains("SSL_CERT_FILE");
    assert!(
        out.stderr.to_ascii_lowercase().contains("certificate")
            || out.stderr.contains("UnknownIssuer"),
        "{out}"
    );
    plain.assert_no_machine("untrusted");

    let env = trusting_env(&c);
    let out = env.init(&srv.url("disk.qcow2.xz"), "fromxz");
    out.assert_success();
    out.assert_stdout_contains("Machine init complete");
    assert_same_disk(&env.disk("fromxz"), &src);

    let out = env.init(&srv.url("disk.qcow2.zst"), "fromzst");
    out.assert_success();
    assert_same_disk(&env.disk("fromzst"), &src);
    // The checksum file was asked for and the downloads are cached, complete.
    let reqs = srv.requests();
    assert!(
        reqs.iter()
            .any(|r| r.starts_with("GET /disk.qcow2.zst.sha256 ")),
        "{reqs:?}"
    );
    let cached = env.cached();
    assert_eq!(cached.len(), 2, "{cached:?}");
    assert!(cached.iter().all(|c| !c.ends_with(".part")), "{cached:?}");
    let cached_zst = env
        .cache()
        .join(cached.iter().find(|c| c.ends_with(".zst")).unwrap());
    assert_eq!(sha256(&cached_zst), sha256(&zst));

    let out = env.pr(&["machine", "inspect", "fromzst"]);
    out.assert_success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v[0]["ImageSource"].as_str(),
        Some(srv.url("disk.qcow2.zst").as_str()),
        "{out}"
    );
}

#[test]
fn a_published_sha256_that_does_not_match_is_refused_and_leaves_nothing() {
    let c = Certs::new();
    let disks = Disks::new();
    let src = disks.qcow2("disk", 2);
    let srv = FileServer::start(&c);
    let xz = srv.root().join("disk.qcow2.xz");
    disks.compress(&src, "xz", &xz);
    let wrong = "0".repeat(64);
    std::fs::write(
        srv.root().join("disk.qcow2.xz.sha256"),
        format!("{wrong}  disk.qcow2.xz\n"),
    )
    .unwrap();
    let env = trusting_env(&c);
    let out = env.init(&srv.url("disk.qcow2.xz"), "badsum");
    assert_fails_125(&out, "sha256 mismatch");
    out.assert_stderr_contains(&format!("expected {wrong}, got {}", sha256(&xz)));
    env.assert_no_machine("badsum");
    assert_eq!(env.cached(), Vec::<String>::new(), "no download kept");

    // An expected hash given in the URL wins over the published one.
    let url = format!("{}#sha256={}", srv.url("disk.qcow2.xz"), sha256(&xz));
    let out = env.init(&url, "pinned");
    out.assert_success();
    assert_same_disk(&env.disk("pinned"), &src);
    // A malformed one is an error before anything is fetched.
    let out = env.init(
        &format!("{}#sha256=xyz", srv.url("disk.qcow2.xz")),
        "badpin",
    );
    assert_fails_125(&out, "not a 64-digit hex sha256");
    env.assert_no_machine("badpin");
}

#[test]
fn a_cut_download_resumes_with_a_range_and_the_cache_serves_the_next_init() {
    let c = Certs::new();
    let disks = Disks::new();
    let src = disks.qcow2("disk", 3);
    let srv = FileServer::start(&c);
    let zst = srv.root().join("disk.qcow2.zst");
    disks.compress(&src, "zstd", &zst);
    let size = std::fs::metadata(&zst).unwrap().len();
    std::fs::write(
        srv.root().join("disk.qcow2.zst.sha256"),
        format!("{}  disk.qcow2.zst\n", sha256(&zst)),
    )
    .unwrap();
    let env = trusting_env(&c);
    let url = srv.url("cut/disk.qcow2.zst");

    // The server sends half the body and closes the connection.
    let out = env.init(&url, "first");
    assert_fails_125(&out, "download interrupted after");
    out.assert_stderr_contains("run the same command again to resume");
    env.assert_no_machine("first");
    // What arrived waits in the cache, never in the machine's place.
    let cached = env.cached();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].ends_with("disk.qcow2.zst.part"), "{cached:?}");
    let have = std::fs::metadata(env.cache().join(&cached[0]))
        .unwrap()
        .len();
    assert!(have > 0 && have < size, "{have} of {size}");

    // The retry asks only for the rest, and the result verifies against the checksum.
    let out = env.init(&url, "first");
    out.assert_success();
    assert_same_disk(&env.disk("first"), &src);
    let gets: Vec<String> = srv
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET /cut/disk.qcow2.zst range"))
        .collect();
    assert_eq!(
        gets,
        vec![
            "GET /cut/disk.qcow2.zst range=-".to_string(),
            format!("GET /cut/disk.qcow2.zst range=bytes={have}-"),
        ]
    );
    let cached = env.cached();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(!cached[0].ends_with(".part"), "{cached:?}");

    // A second machine from the same URL: the cached image, no new transfer.
    let before = srv.requests().len();
    let out = env.init(&url, "second");
    out.assert_success();
    assert_same_disk(&env.disk("second"), &src);
    let new: Vec<String> = srv.requests()[before..].to_vec();
    assert!(
        new.iter().all(|r| r.contains(".sha256")),
        "the image was fetched again: {new:?}"
    );
}

/// The cache's name for a URL's download (and its `.part`): 16 hex digits of the URL's sha256.
fn cache_key(url: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("url");
    std::fs::write(&f, url).unwrap();
    sha256(&f)[..16].to_string()
}

#[test]
fn leftover_part_files_are_completed_or_started_over() {
    let c = Certs::new();
    let disks = Disks::new();
    let src = disks.qcow2("disk", 4);
    let srv = FileServer::start(&c);
    let zst = srv.root().join("disk.qcow2.zst");
    disks.compress(&src, "zstd", &zst);
    let full = std::fs::read(&zst).unwrap();
    std::fs::copy(&zst, srv.root().join("other.qcow2.zst")).unwrap();
    let env = trusting_env(&c);
    std::fs::create_dir_all(env.cache()).unwrap();

    // A run that died between the last byte and the rename: the server's 416 says the part
    // is the whole file, so nothing is downloaded again.
    let url = srv.url("disk.qcow2.zst");
    let part = env
        .cache()
        .join(format!("{}-disk.qcow2.zst.part", cache_key(&url)));
    std::fs::write(&part, &full).unwrap();
    let out = env.init(&url, "whole");
    out.assert_success();
    assert_same_disk(&env.disk("whole"), &src);
    let gets: Vec<String> = srv
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET /disk.qcow2.zst "))
        .collect();
    assert_eq!(
        gets,
        vec![format!("GET /disk.qcow2.zst range=bytes={}-", full.len())]
    );

    // A part longer than the file (the file changed on the server): dropped, downloaded anew.
    let url = srv.url("other.qcow2.zst");
    let part = env
        .cache()
        .join(format!("{}-other.qcow2.zst.part", cache_key(&url)));
    std::fs::write(&part, vec![7u8; full.len() + 100]).unwrap();
    let out = env.init(&url, "longer");
    out.assert_success();
    assert_same_disk(&env.disk("longer"), &src);
    let gets: Vec<String> = srv
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET /other.qcow2.zst "))
        .collect();
    assert_eq!(
        gets,
        vec![
            format!("GET /other.qcow2.zst range=bytes={}-", full.len() + 100),
            "GET /other.qcow2.zst range=-".to_string(),
        ]
    );
    assert!(env.cached().iter().all(|c| !c.ends_with(".part")));
}

#[test]
fn an_unreachable_url_says_how_to_use_a_local_file() {
    let c = Certs::new();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = trusting_env(&c);
    let out = env.init(
        &format!("https://127.0.0.1:{port}/images/disk.qcow2.xz"),
        "offline",
    );
    assert_fails_125(&out, "download failed");
    out.assert_stderr_contains("--image /path/to/image.qcow2");
    assert!(!out.stderr.contains("TLS"), "{out}");
    env.assert_no_machine("offline");
    assert!(env.cached().is_empty(), "{:?}", env.cached());

    // A missing file on a reachable server is an HTTP error, not a hang or a bogus disk.
    let srv = FileServer::start(&c);
    let out = env.init(&srv.url("nope.qcow2.xz"), "missing");
    assert_fails_125(&out, "HTTP 404");
    env.assert_no_machine("missing");
}

// ---------------------------------------------------------------------------------------------
// OCI: podman 5's machine-os artifact on a real registry.

/// A `docker-registry` without authentication, over TLS (certificate of the test CA) or plain.
struct Reg {
    port: u16,
    tls: bool,
    ca: PathBuf,
    _dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Reg {
    fn drop(&mut self) {
        stop_daemon(&mut self.child, Duration::from_secs(5));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Reg {
    fn start(tls: bool, c: &Certs) -> Reg {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let tls_conf = if tls {
            format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                c.cert().display(),
                c.key().display()
            )
        } else {
            String::new()
        };
        let conf = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n{tls_conf}",
            dir.path().join("data").display()
        );
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut cmd = Command::new("/usr/bin/docker-registry");
        cmd.arg("serve")
            .arg(&cfg)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = spawn_daemon(cmd).expect("starting docker-registry");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen:\n{}",
                std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Reg {
            port,
            tls,
            ca: c.ca(),
            _dir: dir,
            child,
        }
    }

    /// The name `--image docker://NAME/...` uses: TLS at 127.0.0.1, plain HTTP at localhost.
    fn host(&self) -> String {
        if self.tls {
            format!("127.0.0.1:{}", self.port)
        } else {
            format!("localhost:{}", self.port)
        }
    }

    fn curl(&self) -> Command {
        let mut c = Command::new("curl");
        c.args(["-sS", "--fail-with-body"]);
        if self.tls {
            c.arg("--cacert").arg(&self.ca);
        }
        c
    }

    fn base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/v2", self.port)
    }

    /// Upload a blob (POST then PUT with its digest); returns `sha256:…`.
    fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("blob");
        std::fs::write(&f, data).unwrap();
        let digest = format!("sha256:{}", sha256(&f));
        let headers = check(
            self.curl()
                .args(["-X", "POST", "-o", "/dev/null", "-D", "-"])
                .arg(format!("{}/{repo}/blobs/uploads/", self.base())),
        );
        let loc = headers
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no Location in {headers}"));
        let loc = if loc.starts_with('/') {
            format!("{}{}", self.base().trim_end_matches("/v2"), loc)
        } else {
            loc
        };
        let sep = if loc.contains('?') { '&' } else { '?' };
        check(
            self.curl()
                .args(["-X", "PUT", "-H", "Content-Type: application/octet-stream"])
                .arg("--data-binary")
                .arg(format!("@{}", f.display()))
                .arg(format!("{loc}{sep}digest={digest}")),
        );
        digest
    }

    /// PUT a manifest or index under `reference`; returns its digest and size.
    fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media: &str,
        doc: &Value,
    ) -> (String, usize) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("manifest.json");
        let bytes = serde_json::to_vec(doc).unwrap();
        std::fs::write(&f, &bytes).unwrap();
        let digest = format!("sha256:{}", sha256(&f));
        let reference = if reference.is_empty() {
            &digest
        } else {
            reference
        };
        check(
            self.curl()
                .args(["-X", "PUT", "-H"])
                .arg(format!("Content-Type: {media}"))
                .arg("--data-binary")
                .arg(format!("@{}", f.display()))
                .arg(format!("{}/{repo}/manifests/{reference}", self.base())),
        );
        (digest, bytes.len())
    }

    /// A machine-os artifact: an index under `tag` whose entries are (disktype, arch, disk
    /// file), each a manifest with the disk as its one titled layer. `None` disktype leaves the
    /// annotation out.
    fn push_artifact(
        &self,
        repo: &str,
        tag: &str,
        entries: &[(Option<&str>, &str, &Path)],
    ) -> String {
        let config = b"{}";
        let config_digest = self.push_blob(repo, config);
        let mut manifests = Vec::new();
        for (disktype, arch, disk) in entries {
            let data = std::fs::read(disk).unwrap();
            let title = disk.file_name().unwrap().to_string_lossy().to_string();
            let layer = self.push_blob(repo, &data);
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": config.len(),
                },
                "layers": [{
                    "mediaType": "application/zstd",
                    "digest": layer,
                    "size": data.len(),
                    "annotations": {"org.opencontainers.image.title": title},
                }],
            });
            let (digest, size) = self.push_manifest(
                repo,
                "",
                "application/vnd.oci.image.manifest.v1+json",
                &manifest,
            );
            let mut entry = json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": size,
                "platform": {"architecture": arch, "os": "linux"},
            });
            if let Some(d) = disktype {
                entry["annotations"] = json!({ "disktype": d });
            }
            manifests.push(entry);
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        self.push_manifest(repo, tag, "application/vnd.oci.image.index.v1+json", &index)
            .0
    }
}

/// The disks of the artifacts: the qemu/x86_64 one and decoys for the other entries.
struct ArtifactDisks {
    disks: Disks,
    qemu: PathBuf,
    qemu_zst: PathBuf,
    arm_zst: PathBuf,
    hyperv_zst: PathBuf,
}

fn artifact_disks() -> ArtifactDisks {
    let disks = Disks::new();
    let qemu = disks.qcow2("qemu", 10);
    let arm = disks.qcow2("arm", 11);
    let hyperv = disks.qcow2("hyperv", 12);
    let z = |p: &Path, name: &str| {
        let out = disks.dir.path().join(name);
        disks.compress(p, "zstd", &out);
        out
    };
    ArtifactDisks {
        qemu_zst: z(&qemu, "machine-os-qemu.x86_64.qcow2.zst"),
        arm_zst: z(&arm, "machine-os-qemu.aarch64.qcow2.zst"),
        hyperv_zst: z(&hyperv, "machine-os-hyperv.x86_64.vhdx.zst"),
        qemu,
        disks,
    }
}

#[test]
fn oci_artifact_pull_picks_the_qemu_entry_for_this_arch() {
    let d = artifact_disks();
    let entries = [
        (Some("qemu"), "aarch64", d.arm_zst.as_path()),
        (Some("hyperv"), "x86_64", d.hyperv_zst.as_path()),
        (Some("qemu"), "x86_64", d.qemu_zst.as_path()),
    ];

    // TLS: the registry's CA is trusted where containers/image looks for it (certs.d).
    let c = Certs::new();
    let tls = Reg::start(true, &c);
    tls.push_artifact("podman/machine-os", "5.5", &entries);
    let image = format!("docker://{}/podman/machine-os:5.5", tls.host());
    let env = Env::new();
    let out = env.init(&image, "untrusted");
    assert_fails_125(&out, "TLS verification failed");
    out.assert_stderr_contains("certs.d/HOST:PORT/ca.crt");
    env.assert_no_machine("untrusted");
    let certs_d = env
        .path()
        .join(".config/containers/certs.d")
        .join(tls.host());
    std::fs::create_dir_all(&certs_d).unwrap();
    std::fs::copy(c.ca(), certs_d.join("ca.crt")).unwrap();
    let out = env.init(&image, "tlsm");
    out.assert_success();
    assert_same_disk(&env.disk("tlsm"), &d.qemu);
    // Cached under the layer's digest and title, as podman does.
    let layer = sha256(&d.qemu_zst);
    assert_eq!(
        env.cached(),
        vec![format!("{layer}.machine-os-qemu.x86_64.qcow2.zst")]
    );
    // Sanity of the comparison: the decoy disks really differ.
    let other = run(
        Command::new("qemu-img")
            .args(["compare", "-f", "qcow2", "-F", "qcow2"])
            .arg(d.disks.dir.path().join("arm.qcow2"))
            .arg(env.disk("tlsm")),
        None,
        CMD,
    );
    assert_eq!(other.status, 1, "{other}");

    // Plain HTTP on localhost: the default tag, then a reference by the index's digest.
    let plain = Reg::start(false, &c);
    let index = plain.push_artifact("machine/os", "latest", &entries);
    let env2 = Env::new();
    let out = env2.init(&format!("docker://{}/machine/os", plain.host()), "plainm");
    out.assert_success();
    assert_same_disk(&env2.disk("plainm"), &d.qemu);
    let out = env2.init(
        &format!("docker://{}/machine/os@{index}", plain.host()),
        "digestm",
    );
    out.assert_success();
    assert_same_disk(&env2.disk("digestm"), &d.qemu);
}

#[test]
fn oci_artifact_without_a_disk_for_this_host_is_a_clear_error() {
    let d = artifact_disks();
    let c = Certs::new();
    let reg = Reg::start(false, &c);
    reg.push_artifact(
        "arm-only",
        "1",
        &[(Some("qemu"), "aarch64", d.arm_zst.as_path())],
    );
    reg.push_artifact(
        "no-disktype",
        "1",
        &[(None, "x86_64", d.qemu_zst.as_path())],
    );
    // Go's arch name is not the artifact format's.
    reg.push_artifact(
        "go-arch",
        "1",
        &[(Some("qemu"), "amd64", d.qemu_zst.as_path())],
    );
    let env = Env::new();
    let out = env.init(&format!("docker://{}/arm-only:1", reg.host()), "a");
    assert_fails_125(&out, "no disk image for disktype qemu on x86_64");
    out.assert_stderr_contains("the index offers: qemu/aarch64");
    env.assert_no_machine("a");
    let out = env.init(&format!("docker://{}/no-disktype:1", reg.host()), "b");
    assert_fails_125(&out, "(no disktype)/x86_64");
    env.assert_no_machine("b");
    let out = env.init(&format!("docker://{}/go-arch:1", reg.host()), "c");
    assert_fails_125(&out, "qemu/amd64");
    env.assert_no_machine("c");
    // A missing tag is the registry's 404, named.
    let out = env.init(&format!("docker://{}/arm-only:2", reg.host()), "d");
    assert_fails_125(&out, "HTTP 404");
    env.assert_no_machine("d");
    assert!(env.cached().is_empty(), "{:?}", env.cached());

    // An ordinary image manifest under the tag (not an index) is named as such.
    let cfg = reg.push_blob("plain-image", b"{}");
    let layer = reg.push_blob("plain-image", b"not a disk");
    let m = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 10}],
    });
    reg.push_manifest(
        "plain-image",
        "1",
        "application/vnd.oci.image.manifest.v1+json",
        &m,
    );
    let out = env.init(&format!("docker://{}/plain-image:1", reg.host()), "e");
    assert_fails_125(&out, "not a machine-os artifact index");
    env.assert_no_machine("e");
}
