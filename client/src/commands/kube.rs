//! `kube play|down|generate`, `generate kube|systemd`: the YAML travels as the request body,
//! the engine does the work, and the reports are printed as podman prints them.

use std::io::{Read, Write};

use bindings::api::kube::PlayOptions;
use bindings::http::Query;
use clap::Args;
use serde_json::Value;

use crate::context::GlobalOpts;
use crate::exit::Failure;

#[derive(Args, Debug)]
pub struct KubePlayArgs {
    /// Tear down the pods created by a previous run of kube play.
    #[arg(long)]
    pub down: bool,
    /// Delete and recreate pods defined in the YAML file.
    #[arg(long)]
    pub replace: bool,
    /// Connect the pod to a network.
    #[arg(long, visible_alias = "net")]
    pub network: Vec<String>,
    /// Start the pod after creating it.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub start: bool,
    /// The YAML file, or `-` for stdin.
    pub file: Option<String>,
}

#[derive(Args, Debug)]
pub struct KubeDownArgs {
    /// The YAML file, or `-` for stdin.
    pub file: Option<String>,
}

#[derive(Args, Debug)]
pub struct KubeGenerateArgs {
    /// Write output to the specified path.
    #[arg(short, long)]
    pub filename: Option<std::path::PathBuf>,
    /// Generate YAML for a Kubernetes service object.
    #[arg(short, long)]
    pub service: bool,
    /// Containers, pods or volumes.
    pub names: Vec<String>,
}

pub type GenerateKubeArgs = KubeGenerateArgs;

#[derive(Args, Debug)]
pub struct GenerateSystemdArgs {
    /// Use container/pod names instead of IDs.
    #[arg(short, long)]
    pub name: bool,
    /// Create a new container or pod instead of starting an existing one.
    #[arg(long)]
    pub new: bool,
    /// Generate .service files instead of printing to stdout.
    #[arg(short, long)]
    pub files: bool,
    /// Stop timeout override.
    #[arg(short, long)]
    pub time: Option<u32>,
    /// Systemd restart-policy.
    #[arg(long)]
    pub restart_policy: Option<String>,
    /// Systemd unit name prefix for containers.
    #[arg(long, default_value = "container")]
    pub container_prefix: String,
    /// Systemd unit name prefix for pods.
    #[arg(long, default_value = "pod")]
    pub pod_prefix: String,
    /// Systemd unit name separator between name/id and prefix.
    #[arg(long, default_value = "-")]
    pub separator: String,
    /// Skip header generation.
    #[arg(long)]
    pub no_header: bool,
    /// Print the created units in the specified format (json).
    #[arg(long)]
    pub format: Option<String>,
    /// Make it a template file and use %i and %I specifiers.
    #[arg(long)]
    pub template: bool,
    /// The container or pod.
    pub target: Vec<String>,
}

/// The YAML from a file or stdin (`-`), with podman's message for a missing file.
fn read_yaml(file: Option<&str>) -> Result<Vec<u8>, Failure> {
    match file {
        None => Err(Failure::msg("accepts 1 arg(s), received 0")),
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Failure::msg(format!("reading YAML from stdin: {e}")))?;
            Ok(buf)
        }
        Some(p) => std::fs::read(p).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                _ => e.to_string(),
            };
            Failure::msg(format!("open {p}: {why}"))
        }),
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Errors of a down report; `null` and `{}` mean success.
fn report_errors(v: Option<&Value>, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for r in v.and_then(Value::as_array).into_iter().flatten() {
        match r.get(key) {
            Some(Value::String(s)) if !s.is_empty() => out.push(s.clone()),
            Some(Value::Array(a)) => {
                out.extend(a.iter().filter_map(Value::as_str).map(String::from))
            }
            _ => {}
        }
    }
    out
}

fn print_down(report: &Value) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let mut errs = report_errors(report.get("StopReport"), "Errs");
    errs.extend(report_errors(report.get("RmReport"), "Err"));
    for (key, title) in [
        ("StopReport", "Pods stopped:"),
        ("RmReport", "Pods removed:"),
    ] {
        let items: Vec<&Value> = report
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        if items.is_empty() {
            continue;
        }
        writeln!(out, "{title}")?;
        for r in items {
            let failed = match key {
                "StopReport" => r
                    .get("Errs")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty()),
                _ => r
                    .get("Err")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty()),
            };
            if !failed {
                writeln!(out, "{}", r.get("Id").and_then(Value::as_str).unwrap_or(""))?;
            }
        }
    }
    let vols = strs(report.get("VolumeRmReport"));
    if !vols.is_empty() {
        writeln!(out, "Volumes removed:")?;
        for v in vols {
            writeln!(out, "{v}")?;
        }
    }
    match errs.pop() {
        None => Ok(()),
        Some(last) => {
            for e in errs {
                eprintln!("Error: {e}");
            }
            Err(Failure::msg(last))
        }
    }
}

pub async fn play(g: &GlobalOpts, a: KubePlayArgs) -> Result<u8, Failure> {
    if a.down && a.replace {
        return Err(Failure::msg("--down and --replace cannot be used together"));
    }
    let yaml = read_yaml(a.file.as_deref())?;
    let client = g.client().await?;
    if a.down {
        let r = client.kube_down(yaml).await?;
        print_down(&r)?;
        return Ok(0);
    }
    if a.replace {
        let r = client.kube_down(yaml.clone()).await?;
        print_down(&r)?;
    }
    let opts = PlayOptions {
        network: a.network.clone(),
        start: (!a.start).then_some(false),
    };
    let report = client.kube_play(yaml, &opts).await?;
    let mut out = std::io::stdout().lock();
    let mut failed = 0usize;
    for pod in report
        .get("Pods")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        writeln!(
            out,
            "Pod:\n{}",
            pod.get("ID").and_then(Value::as_str).unwrap_or("")
        )?;
        let ctrs = strs(pod.get("Containers"));
        match ctrs.len() {
            0 => continue,
            1 => writeln!(out, "Container:")?,
            _ => writeln!(out, "Containers:")?,
        }
        for c in &ctrs {
            writeln!(out, "{c}")?;
        }
        let errs = strs(pod.get("ContainerErrors"));
        failed += errs.len();
        out.flush()?;
        for e in errs {
            eprintln!("{e}");
        }
        writeln!(out)?;
    }
    let vols: Vec<String> = report
        .get("Volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("Name").and_then(Value::as_str).map(String::from))
        .collect();
    match vols.len() {
        0 => {}
        1 => writeln!(out, "Volume:")?,
        _ => writeln!(out, "Volumes:")?,
    }
    for v in vols {
        writeln!(out, "{v}")?;
    }
    if failed > 0 {
        return Err(Failure::msg(format!("failed to start {failed} containers")));
    }
    Ok(0)
}

pub async fn down(g: &GlobalOpts, a: KubeDownArgs) -> Result<u8, Failure> {
    let yaml = read_yaml(a.file.as_deref())?;
    let client = g.client().await?;
    let r = client.kube_down(yaml).await?;
    print_down(&r)?;
    Ok(0)
}

pub async fn kube_generate(g: &GlobalOpts, a: KubeGenerateArgs) -> Result<u8, Failure> {
    generate_kube(g, a).await
}

pub async fn generate_kube(g: &GlobalOpts, a: GenerateKubeArgs) -> Result<u8, Failure> {
    if a.names.is_empty() {
        return Err(Failure::msg("requires at least 1 arg(s), only received 0"));
    }
    if let Some(f) = &a.filename {
        // podman refuses to overwrite an existing file.
        if f.exists() {
            return Err(Failure::msg(format!(
                "cannot write to {:?}; file exists",
                f.display().to_string()
            )));
        }
    }
    let client = g.client().await?;
    let yaml = client.generate_kube(&a.names, a.service).await?;
    match &a.filename {
        None => {
            let mut out = std::io::stdout().lock();
            // podman prints the document followed by a newline of its own, so its output ends
            // with an empty line.
            out.write_all(&yaml)?;
            writeln!(out)?;
        }
        Some(f) => {
            let dir = f
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| Failure::msg(format!("cannot write {}: {e}", f.display())))?;
            tmp.write_all(&yaml)?;
            tmp.persist_noclobber(f)
                .map_err(|e| Failure::msg(format!("cannot write {}: {}", f.display(), e.error)))?;
        }
    }
    Ok(0)
}

pub async fn generate_systemd(g: &GlobalOpts, a: GenerateSystemdArgs) -> Result<u8, Failure> {
    if a.target.len() != 1 {
        return Err(Failure::msg(format!(
            "accepts 1 arg(s), received {}",
            a.target.len()
        )));
    }
    let json_out = a.format.as_deref().is_some_and(crate::format::is_json);
    let q = Query::new()
        .add("containerprefix", &a.container_prefix)
        .add("new", a.new)
        .add("noheader", a.no_header)
        .add("podprefix", &a.pod_prefix)
        .opt("restartPolicy", a.restart_policy.as_deref())
        .add("separator", &a.separator)
        .opt("stopTimeout", a.time)
        .add("templateunitfile", a.template)
        .add("usename", a.name);
    let client = g.client().await?;
    // podman warns before asking the engine, so the warning precedes any error too.
    eprintln!("time=\"{}\" level=warning msg=\"The generated units should be placed on your remote system\"", crate::output::Civil::from_unix(crate::output::now_unix()).rfc3339());
    let units = client.generate_systemd(&a.target[0], &q).await?;
    let Some(map) = units.as_object() else {
        return Err(Failure::msg("the engine answered no systemd units"));
    };
    // podman checks the format only once the units are generated and the warning printed.
    if let Some(f) = a.format.as_deref().filter(|_| !json_out) {
        return Err(Failure::msg(format!("unknown --format argument: {f}")));
    }
    let mut out = std::io::stdout().lock();
    if a.files {
        let cwd = std::env::current_dir()?;
        let mut paths = serde_json::Map::new();
        for (name, content) in map {
            let path = cwd.join(format!("{name}.service"));
            let mut tmp = tempfile::NamedTempFile::new_in(&cwd)
                .map_err(|e| Failure::msg(format!("cannot write {}: {e}", path.display())))?;
            tmp.write_all(content.as_str().unwrap_or("").as_bytes())?;
            tmp.persist(&path).map_err(|e| {
                Failure::msg(format!("cannot write {}: {}", path.display(), e.error))
            })?;
            paths.insert(name.clone(), Value::String(path.display().to_string()));
        }
        if json_out {
            writeln!(
                out,
                "{}",
                crate::output::go_json_indent(&Value::Object(paths), " ")
            )?;
        } else {
            for p in paths.values() {
                writeln!(out, "{}", p.as_str().unwrap_or(""))?;
            }
        }
        return Ok(0);
    }
    if json_out {
        writeln!(out, "{}", crate::output::go_json_indent(&units, " "))?;
        return Ok(0);
    }
    // Container units first, then the pod's, as podman prints them: one after the other,
    // without an empty line between them.
    let mut names: Vec<&String> = map.keys().collect();
    names.sort_by_key(|n| {
        (
            n.starts_with(&format!("{}{}", a.pod_prefix, a.separator)),
            n.to_string(),
        )
    });
    let texts: Vec<String> = names
        .iter()
        .map(|n| {
            map[*n]
                .as_str()
                .unwrap_or("")
                .trim_end_matches('\n')
                .to_string()
        })
        .collect();
    writeln!(out, "{}", texts.join("\n"))?;
    Ok(0)
}

#[derive(clap::Subcommand, Debug)]
pub enum KubeCmd {
    /// Play a pod or volume based on Kubernetes YAML.
    Play(KubePlayArgs),
    /// Remove pods based on Kubernetes YAML.
    Down(KubeDownArgs),
    /// Generate Kubernetes YAML from containers, pods or volumes.
    Generate(KubeGenerateArgs),
}

pub async fn kube(g: &GlobalOpts, c: KubeCmd) -> Result<u8, Failure> {
    match c {
        KubeCmd::Play(a) => play(g, a).await,
        KubeCmd::Down(a) => down(g, a).await,
        KubeCmd::Generate(a) => kube_generate(g, a).await,
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum GenerateCmd {
    /// Generate Kubernetes YAML from containers, pods or volumes.
    Kube(GenerateKubeArgs),
    /// Generate systemd units.
    Systemd(GenerateSystemdArgs),
}

pub async fn generate(g: &GlobalOpts, c: GenerateCmd) -> Result<u8, Failure> {
    match c {
        GenerateCmd::Kube(a) => generate_kube(g, a).await,
        GenerateCmd::Systemd(a) => generate_systemd(g, a).await,
    }
}
