//! System commands: version, info, and the `system` group.

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::commands::connection::{self, ConnectionCmd};
use crate::commands::sysadmin;
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::{go_json_indent, Civil};
use crate::yaml::to_yaml;

#[derive(Subcommand, Debug)]
pub enum SystemCmd {
    /// Manage remote API service destinations.
    #[command(subcommand, alias = "context")]
    Connection(ConnectionCmd),
    /// Display podman system information.
    Info(InfoArgs),
    /// Display the podman version information.
    Version(VersionArgs),
    /// Show podman disk usage.
    Df(sysadmin::DfArgs),
    /// Remove unused data.
    Prune(sysadmin::SystemPruneArgs),
    /// Run an API service.
    Service(crate::commands::service::ServiceArgs),
    /// Prepare the host to run Hyper-V-based Podman machines.
    #[cfg_attr(not(windows), command(hide = true))]
    #[command(name = "hyperv-prep")]
    HypervPrep(crate::commands::hyperv_prep::HypervPrepArgs),
    #[command(external_subcommand)]
    Other(Vec<String>),
}

pub async fn system(g: &GlobalOpts, c: SystemCmd) -> Result<u8, Failure> {
    match c {
        SystemCmd::Connection(c) => connection::run(g, c).await,
        SystemCmd::Info(a) => info(g, a).await,
        SystemCmd::Df(a) => sysadmin::df(g, a).await,
        SystemCmd::Prune(a) => sysadmin::prune(g, a).await,
        SystemCmd::Version(a) => version(g, a).await,
        SystemCmd::Service(a) => crate::commands::service::service(g, a).await,
        SystemCmd::HypervPrep(a) => crate::commands::hyperv_prep::run(a),
        SystemCmd::Other(args) => {
            let name = args.first().cloned().unwrap_or_default();
            match name.as_str() {
                "events" | "check" => {
                    Err(Failure::not_built(&format!("system {name}"), ""))
                }
                "migrate" | "renumber" | "reset" => Err(Failure::msg(format!(
                    "cannot use command \"podman-remote system {name}\" with the remote podman client"
                ))),
                _ => Err(Failure::msg(format!(
                    "unrecognized command `podman-remote system {name}`\nTry 'podman-remote system --help' for more information"
                ))),
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// Change the output format to JSON or a Go template.
    #[arg(short, long)]
    format: Option<String>,
}

/// Go's `time.ANSIC` layout ("Mon Jan _2 15:04:05 2006") in UTC.
fn ansic(unix: i64) -> String {
    Civil::from_unix(unix).ansic()
}

fn client_version(api: &str) -> Value {
    json!({
        "APIVersion": api,
        "Version": env!("CARGO_PKG_VERSION"),
        // The field keeps podman's name; the compiler that built us is the useful fact here.
        "GoVersion": env!("PODMAN_REMOTE_RUSTC"),
        "GitCommit": env!("PODMAN_REMOTE_GIT_COMMIT"),
        "BuiltTime": ansic(build_epoch()),
        "Built": build_epoch(),
        "OsArch": format!("{}/{}", std::env::consts::OS, go_arch()),
        "Os": std::env::consts::OS,
    })
}

/// When this binary was built, as embedded by build.rs (SOURCE_DATE_EPOCH, else the commit's
/// time, so that rebuilding a commit gives the same binary).
fn build_epoch() -> i64 {
    env!("PODMAN_REMOTE_BUILD_EPOCH").parse().unwrap_or(0)
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// podman's mapping of the engine's Docker-style version document to its own shape.
fn server_version(v: &Value) -> Value {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut api = s("ApiVersion");
    if let Some(comps) = v.get("Components").and_then(Value::as_array) {
        for c in comps {
            if c.get("Name").and_then(Value::as_str) == Some("Podman Engine") {
                if let Some(a) = c
                    .get("Details")
                    .and_then(|d| d.get("APIVersion"))
                    .and_then(Value::as_str)
                {
                    api = a.to_string();
                }
            }
        }
    }
    let built = v
        .get("BuildTime")
        .and_then(Value::as_str)
        .and_then(crate::commands::containers::parse_rfc3339)
        .unwrap_or(0);
    json!({
        "APIVersion": api,
        "Version": s("Version"),
        "GoVersion": s("GoVersion"),
        "GitCommit": s("GitCommit"),
        "BuiltTime": ansic(built),
        "Built": built,
        "OsArch": format!("{}/{}", s("Os"), s("Arch")),
        "Os": s("Os"),
    })
}

const VERSION_TEMPLATE: &str = "{{with .Client -}}
Client:       Podman Engine
Version:      {{.Version}}
API Version:  {{.APIVersion}}
Go Version:   {{.GoVersion}}
{{if .GitCommit -}}Git Commit:   {{.GitCommit}}
{{end -}}
Built:        {{.BuiltTime}}
OS/Arch:      {{.OsArch}}
{{- end}}
{{- if .Server }}{{with .Server}}

Server:       Podman Engine
Version:      {{.Version}}
API Version:  {{.APIVersion}}
Go Version:   {{.GoVersion}}
{{if .GitCommit -}}Git Commit:   {{.GitCommit}}
{{end -}}
Built:        {{.BuiltTime}}
OS/Arch:      {{.OsArch}}
{{- end}}{{- end}}
";

pub async fn version(g: &GlobalOpts, a: VersionArgs) -> Result<u8, Failure> {
    let client = g.client().await?;
    let server = server_version(&client.version().await?);
    let report = json!({
        "Client": client_version(client.server_version()),
        "Server": server,
    });
    let mut out = std::io::stdout().lock();
    match a.format.as_deref() {
        Some(f) if format::is_json(f) => {
            writeln!(out, "{}", go_json_indent(&report, "    "))?;
        }
        Some(f) => {
            format::render_one(f, &report, &mut out).map_err(|e| Failure::msg(e.to_string()))?
        }
        None => format::render_one(VERSION_TEMPLATE, &report, &mut out)
            .map_err(|e| Failure::msg(e.to_string()))?,
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Change the output format to JSON or a Go template.
    #[arg(short, long)]
    format: Option<String>,
    /// Ignored: podman-remote always shows the remote engine's details.
    #[arg(short = 'D', long, hide = true)]
    debug: bool,
}

pub async fn info(g: &GlobalOpts, a: InfoArgs) -> Result<u8, Failure> {
    let client = g.client().await?;
    let mut info = client.info().await?;
    // podman's remote client marks the engine as remote (the engine itself reports false).
    if let Some(host) = info.get_mut("host").and_then(Value::as_object_mut) {
        host.insert("serviceIsRemote".into(), Value::Bool(true));
    }
    let mut out = std::io::stdout().lock();
    match a.format.as_deref() {
        Some(f) if format::is_json(f) => writeln!(out, "{}", go_json_indent(&info, "  "))?,
        Some(f) => {
            format::render_one(f, &info, &mut out).map_err(|e| Failure::msg(e.to_string()))?
        }
        // podman prints the YAML document followed by an empty line.
        None => writeln!(out, "{}", to_yaml(&info))?,
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansic_like_go() {
        assert_eq!(ansic(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ansic(1795863600), "Sat Nov 28 11:00:00 2026");
    }

    #[test]
    fn server_version_mapping() {
        let v = json!({"Version": "4.3.1", "ApiVersion": "1.41", "GoVersion": "go1.19.8",
            "Os": "linux", "Arch": "amd64", "BuildTime": "1970-01-01T00:00:00+00:00",
            "Components": [{"Name": "Podman Engine", "Details": {"APIVersion": "4.3.1"}}]});
        let s = server_version(&v);
        assert_eq!(s["APIVersion"], "4.3.1");
        assert_eq!(s["OsArch"], "linux/amd64");
        assert_eq!(s["BuiltTime"], "Thu Jan  1 00:00:00 1970");
    }
}
