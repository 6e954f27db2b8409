//! `installer dist`: build every requested target, package it with its completions and man
//! pages, and write `SHA256SUMS` for everything in the output directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::archive::{self, Entry};
use crate::build::{self, Built};
use crate::checksum;
use crate::targets::{self, Format, Target};
use crate::{Error, Result};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The install scripts, shipped next to the archives.
pub const SCRIPTS: [&str; 2] = ["install.sh", "install.ps1"];

#[derive(Debug, Clone)]
pub struct Options {
    pub targets: Vec<Target>,
    /// Cargo profile; releases use `release`.
    pub profile: String,
    pub out: PathBuf,
}

/// What one target produced.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub target: Target,
    pub archive: PathBuf,
    pub binary_size: u64,
    pub archive_size: u64,
    pub build_time: Duration,
}

/// Completion scripts and man pages, generated once from a binary that runs here.
struct Docs {
    bash: Vec<u8>,
    zsh: Vec<u8>,
    fish: Vec<u8>,
    powershell: Vec<u8>,
    man: Vec<(String, Vec<u8>)>,
}

pub fn dist(opts: &Options, mut progress: impl FnMut(&str)) -> Result<Vec<Artifact>> {
    for t in &opts.targets {
        if let Some(why) = t.unbuildable_reason() {
            return Err(Error::NotBuildableHere {
                target: t.name.into(),
                why,
            });
        }
    }
    std::fs::create_dir_all(&opts.out).map_err(Error::io("creating", &opts.out))?;
    let epoch = build::source_date_epoch();
    let mut built: Vec<(Target, Built)> = Vec::new();
    for t in &opts.targets {
        progress(&format!(
            "building {} ({}, profile {})",
            t.name, t.triple, opts.profile
        ));
        let b = build::build(t, &opts.profile, epoch)?;
        let size = file_size(&b.binary)?;
        progress(&format!(
            "built {} in {:.0?}: {} bytes ({:.1} MiB)",
            t.name,
            b.elapsed,
            size,
            size as f64 / 1048576.0
        ));
        if let Some(limit) = t.max_size.filter(|_| opts.profile == "release") {
            if size > limit {
                return Err(Error::TooBig {
                    target: t.name.into(),
                    size,
                    limit,
                });
            }
        }
        built.push((*t, b));
    }

    let tool = match built.iter().find(|(t, _)| t.runs_here()) {
        Some((_, b)) => b.binary.clone(),
        None => {
            let host = targets::ALL
                .iter()
                .find(|t| t.runs_here() && t.unbuildable_reason().is_none())
                .ok_or_else(|| Error::NotBuildableHere {
                    target: "host".into(),
                    why: "no release target runs on this machine to generate completions and \
                          man pages"
                        .into(),
                })?;
            progress(&format!(
                "building {} to generate completions and man pages",
                host.name
            ));
            build::build(host, &opts.profile, epoch)?.binary
        }
    };
    let docs = generate_docs(&tool)?;

    let mut artifacts = Vec::new();
    for (t, b) in &built {
        let archive = opts.out.join(t.archive_name(VERSION));
        let entries = entries(t, &b.binary, &docs)?;
        match t.format {
            Format::TarGz => archive::write_tar_gz(&archive, &entries, epoch)?,
            Format::Zip => archive::write_zip(&archive, &entries, epoch)?,
        }
        artifacts.push(Artifact {
            target: *t,
            binary_size: file_size(&b.binary)?,
            archive_size: file_size(&archive)?,
            archive,
            build_time: b.elapsed,
        });
    }
    for s in SCRIPTS {
        let src = build::workspace_root().join("installer").join(s);
        let data = std::fs::read(&src).map_err(Error::io("reading", &src))?;
        write_file(&opts.out.join(s), &data)?;
    }
    write_sums(&opts.out)?;
    Ok(artifacts)
}

fn file_size(p: &Path) -> Result<u64> {
    Ok(std::fs::metadata(p).map_err(Error::io("stat", p))?.len())
}

fn generate_docs(tool: &Path) -> Result<Docs> {
    let comp = |shell| build::run_capture(tool, &["completion", shell]);
    let mandir =
        tempfile::tempdir().map_err(Error::io("creating a temporary directory", "/tmp"))?;
    let dir = mandir.path().to_str().unwrap_or(".");
    build::run_capture(tool, &["__generate-man", dir])?;
    let mut man = Vec::new();
    for e in std::fs::read_dir(mandir.path()).map_err(Error::io("listing", mandir.path()))? {
        let e = e.map_err(Error::io("listing", mandir.path()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        man.push((
            name,
            std::fs::read(e.path()).map_err(Error::io("reading", e.path()))?,
        ));
    }
    man.sort();
    Ok(Docs {
        bash: comp("bash")?,
        zsh: comp("zsh")?,
        fish: comp("fish")?,
        powershell: comp("powershell")?,
        man,
    })
}

/// The archive's files, laid out like the install prefix on Unix (`bin/`, `share/…`) so that
/// install.sh copies the tree as is; flat with the exe on top for Windows.
fn entries(t: &Target, binary: &Path, docs: &Docs) -> Result<Vec<Entry>> {
    let top = t.stem(VERSION);
    let readme = build::workspace_root().join("README.md");
    let mut v = vec![Entry::file(format!("{top}/README.md"), &readme, 0o644)?];
    let mut add = |name: String, data: &[u8]| {
        v.push(Entry {
            name,
            data: data.to_vec(),
            mode: 0o644,
        })
    };
    if t.os == "windows" {
        add(
            format!("{top}/completions/podman-remote.ps1"),
            &docs.powershell,
        );
        v.push(Entry::file(
            format!("{top}/{}", t.exe_name()),
            binary,
            0o755,
        )?);
    } else {
        add(
            format!("{top}/share/bash-completion/completions/podman-remote"),
            &docs.bash,
        );
        add(
            format!("{top}/share/zsh/site-functions/_podman-remote"),
            &docs.zsh,
        );
        add(
            format!("{top}/share/fish/vendor_completions.d/podman-remote.fish"),
            &docs.fish,
        );
        for (name, data) in &docs.man {
            add(format!("{top}/share/man/man1/{name}"), data);
        }
        v.push(Entry::file(
            format!("{top}/bin/podman-remote"),
            binary,
            0o755,
        )?);
    }
    Ok(v)
}

fn write_file(dest: &Path, data: &[u8]) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(Error::io("creating a temporary file in", dir))?;
    std::io::Write::write_all(&mut tmp, data).map_err(Error::io("writing", dest))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if dest.extension().is_some_and(|e| e == "sh") {
            0o755
        } else {
            0o644
        };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(Error::io("chmod", dest))?;
    }
    tmp.persist(dest)
        .map_err(|e| Error::io("renaming into place", dest)(e.error))?;
    Ok(())
}

/// SHA256SUMS covers this version's archives and the install scripts, including archives of
/// other targets built by an earlier run into the same directory.
fn write_sums(out: &Path) -> Result<()> {
    let prefix = format!("podman-remote-{VERSION}-");
    let mut entries = Vec::new();
    for e in std::fs::read_dir(out).map_err(Error::io("listing", out))? {
        let e = e.map_err(Error::io("listing", out))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = (name.starts_with(&prefix)
            && (name.ends_with(".tar.gz") || name.ends_with(".zip")))
            || SCRIPTS.contains(&name.as_str());
        if ours && e.path().is_file() {
            entries.push((name, checksum::sha256_file(&e.path())?));
        }
    }
    write_file(
        &out.join("SHA256SUMS"),
        checksum::render(&entries).as_bytes(),
    )
}
