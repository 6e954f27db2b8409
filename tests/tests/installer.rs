//! Release archives and install scripts, end to end: `cargo run -p installer -- dist` builds the
//! static Linux and the Windows archives, `install.sh` installs the Linux one into a temporary
//! prefix, and the installed binary talks to the world's engine over SSH; the Windows exe runs
//! under Wine.
//!
//! The archives are built with the `dist-test` profile (no optimisation, no LTO): the same
//! static musl/mingw linking as a release, in a fraction of the build time. Set
//! `E2E_DIST_PROFILE=release` to test the shipped profile instead.
#![cfg(target_os = "linux")]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use e2e::*;

const T: Duration = Duration::from_secs(120);
/// Two cold cross builds on a loaded 2-core machine.
const BUILD_TIMEOUT: Duration = Duration::from_secs(3 * 3600);
/// The first Wine start creates its prefix, which takes a while.
const WINE_TIMEOUT: Duration = Duration::from_secs(600);

const LINUX: &str = "linux-x86_64";
const WINDOWS: &str = "windows-x86_64";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The dist directory, built once per test binary.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let w = world();
        let out = w.dir.join("dist");
        let profile = std::env::var("E2E_DIST_PROFILE").unwrap_or_else(|_| "dist-test".into());
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut c = Command::new(cargo);
        c.current_dir(workspace())
            .args(["run", "--locked", "-q", "-p", "installer", "--", "dist"])
            .args([
                "--target",
                LINUX,
                "--target",
                WINDOWS,
                "--profile",
                &profile,
            ])
            .arg("--out")
            .arg(&out);
        let o = run(&mut c, None, BUILD_TIMEOUT);
        o.assert_success();
        eprintln!(
            "installer dist ({profile}) took {:.0?}:\n{}",
            o.elapsed, o.stdout
        );
        out
    })
}

fn archive(target: &str) -> PathBuf {
    let ext = if target.starts_with("windows") {
        "zip"
    } else {
        "tar.gz"
    };
    dist().join(format!("podman-remote-{}-{target}.{ext}", version()))
}

fn install_sh() -> PathBuf {
    workspace().join("installer/install.sh")
}

/// `sh install.sh ARGS` with a clean environment whose HOME is `home`.
fn install(home: &Path, args: &[&str]) -> Output {
    let mut c = Command::new("/bin/sh");
    c.arg(install_sh())
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("TMPDIR", home);
    run(&mut c, None, T)
}

/// Every file and symlink under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if e.file_type().unwrap().is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

fn tmpdir(w: &World, prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&w.dir)
        .expect("temp dir in the world")
}

fn sha256(path: &Path) -> String {
    let mut c = Command::new("sha256sum");
    c.arg(path);
    let o = run(&mut c, None, T);
    o.assert_success();
    o.stdout.split_whitespace().next().unwrap().to_string()
}

#[test]
fn dist_has_stable_names_checksums_and_a_static_binary() {
    let d = dist();
    let sums = fs::read_to_string(d.join("SHA256SUMS")).unwrap();
    for name in [
        format!("podman-remote-{}-{LINUX}.tar.gz", version()),
        format!("podman-remote-{}-{WINDOWS}.zip", version()),
        "install.sh".into(),
        "install.ps1".into(),
    ] {
        assert!(
            sums.lines().any(|l| l.ends_with(&format!("  {name}"))),
            "{name} missing:\n{sums}"
        );
    }
    let mut c = Command::new("sha256sum");
    c.current_dir(d).args(["-c", "SHA256SUMS"]);
    run(&mut c, None, T).assert_success();

    // The archive's binary is static: `file` and `ldd` both say so.
    let x = tmpdir(world(), "x");
    let mut c = Command::new("tar");
    c.arg("-xzf").arg(archive(LINUX)).arg("-C").arg(x.path());
    run(&mut c, None, T).assert_success();
    let top = x
        .path()
        .join(format!("podman-remote-{}-{LINUX}", version()));
    let bin = top.join("bin/podman-remote");
    let mut c = Command::new("file");
    c.arg("-L").arg(&bin);
    let file = run(&mut c, None, T);
    file.assert_success();
    assert!(
        file.stdout.contains("statically linked") || file.stdout.contains("static-pie linked"),
        "not static: {}",
        file.stdout
    );
    assert!(file.stdout.contains("x86-64"), "{}", file.stdout);
    let mut c = Command::new("ldd");
    c.arg(&bin);
    let ldd = run(&mut c, None, T);
    let said = format!("{}{}", ldd.stdout, ldd.stderr);
    assert!(
        said.contains("not a dynamic executable") || said.contains("statically linked"),
        "ldd: {said}"
    );
    let size = fs::metadata(&bin).unwrap().len();
    eprintln!("linux-x86_64 binary: {size} bytes");
    if std::env::var("E2E_DIST_PROFILE").as_deref() == Ok("release") {
        assert!(
            size <= 15 * 1024 * 1024,
            "release binary is {size} bytes, over 15 MiB"
        );
    }
    // Completions and man pages are in the archive, generated from the clap definitions.
    for f in [
        "share/bash-completion/completions/podman-remote",
        "share/zsh/site-functions/_podman-remote",
        "share/fish/vendor_completions.d/podman-remote.fish",
        "share/man/man1/podman-remote.1",
        "share/man/man1/podman-remote-container-ps.1",
    ] {
        assert!(top.join(f).is_file(), "{f} missing from the archive");
    }
    let page = fs::read_to_string(top.join("share/man/man1/podman-remote-run.1")).unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH"),
        "{page}"
    );
    assert!(page.contains("podman\\-remote\\-run") || page.contains("podman-remote-run"));
    assert!(
        page.contains("\\-\\-detach") || page.contains("--detach"),
        "no --detach in run.1"
    );
}

#[test]
fn install_sh_installs_a_working_client_and_uninstalls_it() {
    let w = world();
    let t = tmpdir(w, "inst");
    let prefix = t.path().join("prefix");
    let prefix_s = prefix.to_str().unwrap();
    let a = archive(LINUX);
    let o = install(
        t.path(),
        &[
            "--archive",
            a.to_str().unwrap(),
            "--prefix",
            prefix_s,
            "--link-podman",
            "--link-docker",
        ],
    );
    o.assert_success().assert_stderr_contains("verified");
    let bin = prefix.join("bin/podman-remote");
    assert_eq!(
        fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o755
    );
    for link in ["podman", "docker"] {
        let l = prefix.join("bin").join(link);
        assert_eq!(fs::read_link(&l).unwrap(), Path::new("podman-remote"));
    }
    for f in [
        "share/bash-completion/completions/podman-remote",
        "share/zsh/site-functions/_podman-remote",
        "share/fish/vendor_completions.d/podman-remote.fish",
        "share/man/man1/podman-remote-ps.1",
        "share/podman-remote/install-manifest",
    ] {
        assert!(prefix.join(f).is_file(), "{f} not installed");
    }
    // No staging leftovers.
    assert!(
        !tree(&prefix)
            .iter()
            .any(|p| p.contains(".podman-remote-stage")),
        "{:?}",
        tree(&prefix)
    );

    // The installed bash completion registers itself for the command and completes
    // subcommands and their flags.
    let comp = prefix.join("share/bash-completion/completions/podman-remote");
    let mut c = Command::new("bash");
    c.arg("-c").arg(format!(
        "source '{}'; f=$(complete -p podman-remote | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p'); \
         COMP_WORDS=(podman-remote cont); COMP_CWORD=1; \
         $f podman-remote cont podman-remote; echo \"${{COMPREPLY[@]}}\"; \
         COMP_WORDS=(podman-remote run --det); COMP_CWORD=2; \
         $f podman-remote --det run; echo \"${{COMPREPLY[@]}}\"",
        comp.display()
    ));
    let o = run(&mut c, None, T);
    o.assert_success();
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.first().copied(), Some("container"), "{o}");
    assert!(
        lines
            .get(1)
            .is_some_and(|l| l.split(' ').any(|w| w == "--detach")),
        "{o}"
    );

    // The installed binary against the engine, over SSH, through the `podman` link too.
    let home = w.home();
    home.trust_world(w);
    let mut c = Command::new(&bin);
    c.env_clear()
        .envs(home.env())
        .args(["--url", &w.ssh_url(), "--identity"])
        .arg(&w.key)
        .arg("version");
    let v = run(&mut c, None, T);
    v.assert_success()
        .assert_stdout_contains("Client:       Podman Engine")
        .assert_stdout_contains(&format!("Version:      {}", version()))
        .assert_stdout_contains("OS/Arch:      linux/amd64")
        .assert_stdout_contains("Server:       Podman Engine")
        .assert_stdout_contains("Version:      4.3.1");
    let commit = v
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Git Commit:   "))
        .unwrap_or_else(|| panic!("no Git Commit line:\n{v}"));
    assert!(
        commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{commit:?}"
    );
    // The client's build time is embedded (the commit's time), not left at zero.
    let built = v
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Built:        "));
    assert!(
        built.is_some_and(|b| !b.ends_with(" 1970")),
        "client build time: {built:?}"
    );

    let name = unique("installed");
    let mut c = Command::new(prefix.join("bin/podman"));
    c.env_clear()
        .envs(home.env())
        .args(["--url", &w.ssh_url(), "--identity"])
        .arg(&w.key)
        .args([
            "run",
            "--rm",
            "--name",
            &name,
            &w.image,
            "echo",
            "hello from the installed binary",
        ]);
    run(&mut c, None, T)
        .assert_success()
        .assert_stdout_contains("hello from the installed binary");

    // Installing again (an upgrade in place) is allowed: the files are ours.
    install(
        t.path(),
        &["--archive", a.to_str().unwrap(), "--prefix", prefix_s],
    )
    .assert_success();
    // That run did not ask for the links: they are gone, as the manifest says.
    assert!(fs::symlink_metadata(prefix.join("bin/podman")).is_err());

    let o = install(t.path(), &["--uninstall", "--prefix", prefix_s]);
    o.assert_success()
        .assert_stderr_contains("removed podman-remote");
    assert_eq!(
        tree(&prefix),
        Vec::<String>::new(),
        "left behind after uninstall"
    );
    // A second uninstall finds nothing and says so.
    install(t.path(), &["--uninstall", "--prefix", prefix_s])
        .assert_failure()
        .assert_stderr_contains("no podman-remote installed by install.sh");
}

#[test]
fn install_sh_from_a_release_url_picks_this_machines_archive() {
    let w = world();
    let t = tmpdir(w, "url");
    let prefix = t.path().join("p");
    let url = format!("file://{}/", dist().display());
    install(
        t.path(),
        &[
            "--url",
            &url,
            "--prefix",
            prefix.to_str().unwrap(),
            "--no-man",
        ],
    )
    .assert_success()
    .assert_stderr_contains(&format!("podman-remote-{}-{LINUX}.tar.gz", version()));
    let mut c = Command::new(prefix.join("bin/podman-remote"));
    c.arg("--version");
    run(&mut c, None, T)
        .assert_success()
        .assert_stdout_contains(&format!("podman-remote version {}", version()));
    assert!(
        !prefix.join("share/man").exists(),
        "--no-man installed man pages"
    );
    assert!(prefix
        .join("share/zsh/site-functions/_podman-remote")
        .is_file());
}

#[test]
fn install_sh_refuses_bad_archives_and_installs_nothing() {
    let w = world();
    let t = tmpdir(w, "bad");
    let name = format!("podman-remote-{}-{LINUX}.tar.gz", version());
    let good = fs::read(archive(LINUX)).unwrap();

    // A corrupted copy next to the real SHA256SUMS.
    let corrupt_dir = t.path().join("corrupt");
    fs::create_dir(&corrupt_dir).unwrap();
    let mut bytes = good.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(corrupt_dir.join(&name), &bytes).unwrap();
    fs::copy(dist().join("SHA256SUMS"), corrupt_dir.join("SHA256SUMS")).unwrap();
    let prefix = t.path().join("fresh");
    let corrupt = corrupt_dir.join(&name);
    install(
        t.path(),
        &[
            "--archive",
            corrupt.to_str().unwrap(),
            "--prefix",
            prefix.to_str().unwrap(),
        ],
    )
    .assert_failure()
    .assert_stderr_contains("checksum mismatch")
    .assert_stderr_contains("nothing was installed");
    assert!(
        !prefix.exists(),
        "the prefix was created: {:?}",
        tree(&prefix)
    );

    // No checksum at all: refused too.
    let lone_dir = t.path().join("lone");
    fs::create_dir(&lone_dir).unwrap();
    fs::write(lone_dir.join(&name), &good).unwrap();
    let lone = lone_dir.join(&name);
    install(
        t.path(),
        &[
            "--archive",
            lone.to_str().unwrap(),
            "--prefix",
            prefix.to_str().unwrap(),
        ],
    )
    .assert_failure()
    .assert_stderr_contains("refusing to install an unverified archive");
    assert!(!prefix.exists());

    // Over an existing installation: a truncated archive whose checksum matches (a broken
    // release) fails while unpacking, and the installation is left exactly as it was.
    let good_archive = archive(LINUX);
    install(
        t.path(),
        &[
            "--archive",
            good_archive.to_str().unwrap(),
            "--prefix",
            prefix.to_str().unwrap(),
        ],
    )
    .assert_success();
    let before = tree(&prefix);
    let bin_hash = sha256(&prefix.join("bin/podman-remote"));
    let trunc_dir = t.path().join("trunc");
    fs::create_dir(&trunc_dir).unwrap();
    let trunc = trunc_dir.join(&name);
    fs::write(&trunc, &good[..good.len() / 3]).unwrap();
    let trunc_sum = sha256(&trunc);
    install(
        t.path(),
        &[
            "--archive",
            trunc.to_str().unwrap(),
            "--sha256",
            &trunc_sum,
            "--prefix",
            prefix.to_str().unwrap(),
        ],
    )
    .assert_failure()
    .assert_stderr_contains("unpacking")
    .assert_stderr_contains("nothing was installed");
    assert_eq!(tree(&prefix), before);
    assert_eq!(sha256(&prefix.join("bin/podman-remote")), bin_hash);

    // A `podman` that is not ours is not overwritten, and nothing else changes either.
    fs::write(
        prefix.join("bin/podman"),
        "#!/bin/sh\necho the real podman\n",
    )
    .unwrap();
    let before = tree(&prefix);
    install(
        t.path(),
        &[
            "--archive",
            good_archive.to_str().unwrap(),
            "--prefix",
            prefix.to_str().unwrap(),
            "--link-podman",
        ],
    )
    .assert_failure()
    .assert_stderr_contains("was not installed by install.sh");
    assert_eq!(tree(&prefix), before);
    assert_eq!(
        fs::read_to_string(prefix.join("bin/podman")).unwrap(),
        "#!/bin/sh\necho the real podman\n"
    );

    // An archive for another machine is refused by name before anything else.
    let other = t
        .path()
        .join(format!("podman-remote-{}-linux-riscv64.tar.gz", version()));
    fs::write(&other, &good).unwrap();
    install(
        t.path(),
        &[
            "--archive",
            other.to_str().unwrap(),
            "--prefix",
            prefix.to_str().unwrap(),
        ],
    )
    .assert_failure()
    .assert_stderr_contains("not a podman-remote release archive for this machine");
}

/// A private Wine prefix (first start creates it: slow) and the unpacked Windows archive.
struct Wine {
    _dir: tempfile::TempDir,
    prefix: PathBuf,
    exe: PathBuf,
}

impl Wine {
    fn new(w: &World) -> Wine {
        let dir = tmpdir(w, "wine");
        let prefix = dir.path().join("wineprefix");
        fs::create_dir(&prefix).unwrap();
        let mut c = Command::new("wineboot");
        c.arg("--init")
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", dir.path())
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
        run(&mut c, None, WINE_TIMEOUT);
        // Rust's std (1.78+) draws randomness from bcryptprimitives.dll's ProcessPrng, which
        // every Windows 10+ has but Debian 12's Wine 8.0 lacks ("Library bcryptprimitives.dll
        // not found", status c0000135). Give this private prefix that one function, on top of
        // advapi32's RtlGenRandom; the exe under test is left exactly as shipped.
        let shim = dir.path().join("bcryptprimitives.c");
        fs::write(&shim, PROCESS_PRNG_SHIM).unwrap();
        let system32 = prefix.join("drive_c/windows/system32");
        assert!(
            system32.is_dir(),
            "wineboot did not create {}",
            system32.display()
        );
        let mut c = Command::new("x86_64-w64-mingw32-gcc");
        c.args(["-shared", "-O2", "-o"])
            .arg(system32.join("bcryptprimitives.dll"))
            .arg(&shim)
            .arg("-ladvapi32");
        run(&mut c, None, T).assert_success();
        let mut c = Command::new("unzip");
        c.arg("-q").arg(archive(WINDOWS)).arg("-d").arg(dir.path());
        run(&mut c, None, T).assert_success();
        let exe = dir
            .path()
            .join(format!("podman-remote-{}-{WINDOWS}", version()))
            .join("podman-remote.exe");
        assert!(exe.is_file());
        assert!(exe
            .with_file_name("completions/podman-remote.ps1")
            .is_file());
        Wine {
            _dir: dir,
            prefix,
            exe,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("wine");
        c.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.prefix.parent().unwrap())
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .arg(&self.exe)
            .args(args);
        c
    }
}

const PROCESS_PRNG_SHIM: &str = r#"
#include <windows.h>
#include <ntsecapi.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
"#;

/// `Z:\…`: how a Windows program under Wine names a Unix path.
fn wine_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

#[test]
fn windows_exe_runs_under_wine_and_reaches_the_engine_over_ssh() {
    let w = world();
    let wine = Wine::new(w);
    let v = run(&mut wine.cmd(&["--version"]), None, WINE_TIMEOUT);
    v.assert_success()
        .assert_stdout_contains(&format!("podman-remote version {}", version()));

    run(&mut wine.cmd(&["--help"]), None, WINE_TIMEOUT)
        .assert_success()
        .assert_stdout_contains("Manage containers");

    // `machine list` is its own feature; here it must answer like podman either way: a table,
    // or podman's `Error:` line and exit code 125 — never a crash.
    let m = run(&mut wine.cmd(&["machine", "list"]), None, WINE_TIMEOUT);
    match m.status {
        0 => assert!(m.stdout.starts_with("NAME"), "{m}"),
        125 => assert!(m.stderr.starts_with("Error: "), "{m}"),
        _ => panic!("machine list under Wine: {m}"),
    }

    let c = run(
        &mut wine.cmd(&["completion", "powershell"]),
        None,
        WINE_TIMEOUT,
    );
    c.assert_success()
        .assert_stdout_contains("Register-ArgumentCompleter");

    // Over SSH from Wine: the key and known_hosts are given as Windows paths.
    let home = w.home();
    home.trust_world(w);
    let win_home = wine_path(&home.path);
    let mut c = wine.cmd(&[
        "--url",
        &w.ssh_url(),
        "--identity",
        &wine_path(&w.key),
        "version",
        "--format",
        "{{.Client.OsArch}} {{.Server.Version}}",
    ]);
    c.env("HOME", &win_home).env("USERPROFILE", &win_home);
    let o = run(&mut c, None, WINE_TIMEOUT);
    o.assert_success()
        .assert_stdout_contains("windows/amd64 4.3.1");
}
