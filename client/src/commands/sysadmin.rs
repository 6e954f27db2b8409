//! `system df` and `system prune`, printed as podman prints them.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use clap::Args;
use serde_json::{json, Value};

use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::{go_json_indent, human_duration, human_size4, now_unix};

#[derive(Args, Debug)]
pub struct DfArgs {
    /// Show detailed information on disk usage.
    #[arg(short, long)]
    verbose: bool,
    /// Pretty-print with a Go template, or json.
    #[arg(long)]
    format: Option<String>,
}

#[derive(Args, Debug)]
pub struct SystemPruneArgs {
    /// Remove all unused data, not only dangling images.
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
    /// Prune volumes.
    #[arg(long)]
    volumes: bool,
    /// Provide filter values (e.g. 'label=<key>=<value>').
    #[arg(long = "filter")]
    filter: Vec<String>,
}

fn i(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

fn since(created: &Value) -> String {
    let t = created
        .as_str()
        .and_then(crate::commands::containers::parse_rfc3339)
        .unwrap_or(0);
    human_duration(now_unix() - t)
}

/// One row of the summary table, with podman's derived columns (and its JSON shape:
/// the raw fields plus the Docker-compatible `TotalCount`, `Size`, `Reclaimable`).
fn summary(kind: &str, total: usize, active: i64, raw_size: i64, reclaimable: i64) -> Value {
    let percent = if raw_size > 0 {
        ((reclaimable as f64) / (raw_size as f64) * 100.0).round() as i64
    } else {
        0
    };
    json!({
        "Type": kind,
        "Total": total,
        "Active": active,
        "RawSize": raw_size,
        "RawReclaimable": reclaimable,
        "TotalCount": total,
        "Size": human_size4(raw_size as f64),
        "Reclaimable": format!("{} ({percent}%)", human_size4(reclaimable as f64)),
    })
}

fn summaries(df: &Value) -> Vec<Value> {
    let images = list(df, "Images");
    let mut seen = Vec::new();
    let (mut active, mut used, mut sum, mut unused) = (0, 0, 0, 0);
    for img in images {
        let id = s(img, "ImageID");
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        sum += i(img, "Size");
        if i(img, "Containers") > 0 {
            active += 1;
            used += i(img, "UniqueSize");
        } else {
            unused += i(img, "Size");
        }
    }
    // Engines from podman 5 report the layer total (`ImagesSize`); older ones do not, and
    // podman 4 then adds up the images, counting those without containers as reclaimable.
    let (images_size, reclaimable) = match df.get("ImagesSize").and_then(Value::as_i64) {
        Some(total) => (total, total - used),
        None => (sum, unused),
    };
    let mut rows = vec![summary(
        "Images",
        images.len(),
        active,
        images_size,
        reclaimable,
    )];

    let containers = list(df, "Containers");
    let (mut c_active, mut c_size, mut c_reclaim) = (0, 0, 0);
    for c in containers {
        if s(c, "Status") == "running" {
            c_active += 1;
        } else {
            c_reclaim += i(c, "RWSize");
        }
        c_size += i(c, "RWSize");
    }
    rows.push(summary(
        "Containers",
        containers.len(),
        c_active,
        c_size,
        c_reclaim,
    ));

    let volumes = list(df, "Volumes");
    let (mut links, mut v_size, mut v_reclaim) = (0, 0, 0);
    for v in volumes {
        links += i(v, "Links");
        v_size += i(v, "Size");
        v_reclaim += i(v, "ReclaimableSize");
    }
    rows.push(summary(
        "Local Volumes",
        volumes.len(),
        links,
        v_size,
        v_reclaim,
    ));
    rows
}

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub async fn df(g: &GlobalOpts, a: DfArgs) -> Result<u8, Failure> {
    if a.format.is_some() && a.verbose {
        return Err(Failure::msg("cannot combine --format and --verbose flags"));
    }
    let client = g.client().await?;
    let df = client.system_df().await?;
    let mut out = std::io::stdout().lock();
    let fail = |e: format::TemplateError| Failure::msg(e.to_string());
    if a.verbose {
        return verbose(&df, &mut out).map_err(fail).map(|()| 0);
    }
    let rows = summaries(&df);
    match a.format.as_deref() {
        // podman 4.3.1 printed the word "json" three times here; newer podman prints the
        // summaries, which is what a script asking for json wants.
        Some(f) if format::is_json(f) => {
            writeln!(out, "{}", go_json_indent(&Value::Array(rows), "    "))?;
        }
        Some(f) => {
            format::print_rows(f, &rows, &HashMap::new(), true, false, &mut out).map_err(fail)?
        }
        None => format::print_rows(
            "{{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
            &rows,
            &headers(&[("Size", "SIZE"), ("Reclaimable", "RECLAIMABLE")]),
            false,
            false,
            &mut out,
        )
        .map_err(fail)?,
    }
    Ok(0)
}

fn verbose(df: &Value, out: &mut dyn Write) -> Result<(), format::TemplateError> {
    let images: Vec<Value> = list(df, "Images")
        .iter()
        .map(|img| {
            json!({
                "Repository": s(img, "Repository"),
                "Tag": s(img, "Tag"),
                "ImageID": short(s(img, "ImageID")),
                "Created": since(&img["Created"]),
                "Size": human_size4(i(img, "Size") as f64),
                "SharedSize": human_size4(i(img, "SharedSize") as f64),
                "UniqueSize": human_size4(i(img, "UniqueSize") as f64),
                "Containers": i(img, "Containers"),
            })
        })
        .collect();
    let containers: Vec<Value> = list(df, "Containers")
        .iter()
        .map(|c| {
            let image = s(c, "Image");
            let command = c
                .get("Command")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            json!({
                "ContainerID": short(s(c, "ContainerID")),
                "Image": if image.len() >= 12 { short(image) } else { String::new() },
                "Command": command,
                "LocalVolumes": i(c, "LocalVolumes"),
                "RWSize": human_size4(i(c, "RWSize") as f64),
                "Created": since(&c["Created"]),
                "Status": s(c, "Status"),
                "Names": s(c, "Names"),
            })
        })
        .collect();
    let volumes: Vec<Value> = list(df, "Volumes")
        .iter()
        .map(|v| {
            json!({
                "VolumeName": s(v, "VolumeName"),
                "Links": i(v, "Links"),
                "Size": human_size4(i(v, "Size") as f64),
            })
        })
        .collect();
    write!(out, "Images space usage:\n\n").map_err(io_err)?;
    format::print_rows(
        "{{.Repository}}\t{{.Tag}}\t{{.ImageID}}\t{{.Created}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
        &images,
        &headers(&[
            ("ImageID", "IMAGE ID"),
            ("SharedSize", "SHARED SIZE"),
            ("UniqueSize", "UNIQUE SIZE"),
        ]),
        false,
        false,
        out,
    )?;
    write!(out, "\nContainers space usage:\n\n").map_err(io_err)?;
    format::print_rows(
        "{{.ContainerID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.RWSize}}\t{{.Created}}\t{{.Status}}\t{{.Names}}",
        &containers,
        &headers(&[
            ("ContainerID", "CONTAINER ID"),
            ("LocalVolumes", "LOCAL VOLUMES"),
            ("RWSize", "SIZE"),
        ]),
        false,
        false,
        out,
    )?;
    write!(out, "\nLocal Volumes space usage:\n\n").map_err(io_err)?;
    format::print_rows(
        "{{.VolumeName}}\t{{.Links}}\t{{.Size}}",
        &volumes,
        &headers(&[("VolumeName", "VOLUME NAME")]),
        false,
        false,
        out,
    )
}

fn io_err(e: std::io::Error) -> format::TemplateError {
    format::TemplateError::Io(e.to_string())
}

fn warning(a: &SystemPruneArgs) -> String {
    let volumes = if a.volumes {
        "\n\t- all volumes not used by at least one container"
    } else {
        ""
    };
    if a.all {
        format!(
            "WARNING! This command removes:\n\t- all stopped containers\n\t- all networks not used by at least one container{volumes}\n\t- all images without at least one container associated with them\n\t- all build cache\n\n"
        )
    } else {
        format!(
            "WARNING! This command removes:\n\t- all stopped containers\n\t- all networks not used by at least one container{volumes}\n\t- all dangling images\n\t- all dangling build cache\n\n"
        )
    }
}

/// Print one section of the prune report ("Deleted Containers" then one ID a line); the
/// per-item errors are returned to be reported after all sections, as podman does.
fn section(
    out: &mut dyn Write,
    title: &str,
    items: &[Value],
    id_key: &str,
    err_key: &str,
    errors: &mut Vec<String>,
) -> std::io::Result<()> {
    if !items.is_empty() {
        writeln!(out, "{title}")?;
    }
    for it in items {
        writeln!(out, "{}", s(it, id_key))?;
        let e = s(it, err_key);
        if !e.is_empty() {
            errors.push(e.to_string());
        }
    }
    Ok(())
}

pub async fn prune(g: &GlobalOpts, a: SystemPruneArgs) -> Result<u8, Failure> {
    for f in &a.filter {
        if !f.contains('=') {
            return Err(Failure::msg(format!("invalid filter {f:?}")));
        }
    }
    if !a.force {
        print!("{}Are you sure you want to continue? [y/N] ", warning(&a));
        std::io::stdout().flush()?;
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer)? == 0 {
            return Err(Failure::msg("EOF"));
        }
        if !answer.trim_start().to_lowercase().starts_with('y') {
            return Ok(0);
        }
    }
    let client = g.client().await?;
    let report = client.system_prune(a.all, a.volumes, &a.filter).await?;
    let mut out = std::io::stdout().lock();
    let mut errors = Vec::new();
    section(
        &mut out,
        "Deleted Containers",
        list(&report, "ContainerPruneReports"),
        "Id",
        "Err",
        &mut errors,
    )?;
    section(
        &mut out,
        "Deleted Pods",
        list(&report, "PodPruneReport"),
        "Id",
        "Err",
        &mut errors,
    )?;
    if a.volumes {
        section(
            &mut out,
            "Deleted Volumes",
            list(&report, "VolumePruneReports"),
            "Id",
            "Err",
            &mut errors,
        )?;
    }
    section(
        &mut out,
        "Deleted Images",
        list(&report, "ImagePruneReports"),
        "Id",
        "Err",
        &mut errors,
    )?;
    section(
        &mut out,
        "Deleted Networks",
        list(&report, "NetworkPruneReports"),
        "Name",
        "Error",
        &mut errors,
    )?;
    writeln!(
        out,
        "Total reclaimed space: {}",
        human_size4(i(&report, "ReclaimedSpace") as f64)
    )?;
    if let Some(last) = errors.pop() {
        for e in errors {
            eprintln!("Error: {e}");
        }
        return Err(Failure::msg(last));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_rows_like_podman() {
        let df = json!({
            "Images": [{"ImageID": "abc", "Containers": 2, "Size": 2141277, "UniqueSize": 2141277}],
            "Containers": [
                {"Status": "running", "RWSize": 12},
                {"Status": "created", "RWSize": 0}
            ],
            "Volumes": [{"Links": 1, "Size": 0, "ReclaimableSize": 0}]
        });
        let rows = summaries(&df);
        assert_eq!(rows[0]["Size"], "2.141MB");
        assert_eq!(rows[0]["Reclaimable"], "0B (0%)");
        assert_eq!(rows[1]["Active"], 1);
        assert_eq!(rows[1]["Size"], "12B");
        assert_eq!(rows[2]["Type"], "Local Volumes");
        let half = summary("Images", 2, 1, 1000, 500);
        assert_eq!(half["Reclaimable"], "500B (50%)");
    }

    #[test]
    fn warning_lists_what_goes() {
        let a = SystemPruneArgs {
            all: true,
            force: false,
            volumes: true,
            filter: vec![],
        };
        let w = warning(&a);
        assert!(w.contains("all volumes not used"));
        assert!(w.contains("all images without at least one container"));
    }
}
