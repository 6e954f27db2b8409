//! Image commands: images / image list.

use std::collections::HashMap;
use std::io::Write;

use bindings::api::images::ListImages;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{build, image_mgmt, registry, transfer};
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::{ago, go_json_indent, human_size_spaced, Civil};

#[derive(Subcommand, Debug)]
pub enum ImageCmd {
    /// List images in local storage.
    #[command(visible_aliases = ["list"])]
    Ls(ImagesArgs),
    /// Build an image using instructions from Containerfiles.
    Build(build::BuildArgs),
    /// Check if an image exists in local storage.
    Exists(image_mgmt::ImageExistsArgs),
    /// Show history of a specified image.
    History(image_mgmt::HistoryArgs),
    /// Import a tarball to create a filesystem image.
    Import(transfer::ImportArgs),
    /// Display the configuration of an image.
    Inspect(image_mgmt::ImageInspectArgs),
    /// Load image(s) from a tar archive.
    Load(transfer::LoadArgs),
    /// Remove unused images.
    Prune(image_mgmt::ImagePruneArgs),
    /// Pull an image from a registry.
    Pull(registry::PullArgs),
    /// Push an image to a specified destination.
    Push(registry::PushArgs),
    /// Remove one or more images from local storage.
    Rm(image_mgmt::RmiArgs),
    /// Save image(s) to an archive.
    Save(transfer::SaveArgs),
    /// Search registry for image.
    Search(registry::SearchArgs),
    /// Add an additional name to a local image.
    Tag(image_mgmt::TagArgs),
    /// Print layer hierarchy of an image in a tree format.
    Tree(image_mgmt::ImageTreeArgs),
    /// Remove a name from a local image.
    Untag(image_mgmt::UntagArgs),
}

pub async fn image(g: &GlobalOpts, c: ImageCmd) -> Result<u8, Failure> {
    match c {
        ImageCmd::Ls(a) => images(g, a).await,
        ImageCmd::Build(a) => build::build(g, a).await,
        ImageCmd::Exists(a) => image_mgmt::exists(g, a).await,
        ImageCmd::History(a) => image_mgmt::history(g, a).await,
        ImageCmd::Import(a) => transfer::import(g, a).await,
        ImageCmd::Inspect(a) => image_mgmt::inspect(g, a).await,
        ImageCmd::Load(a) => transfer::load(g, a).await,
        ImageCmd::Prune(a) => image_mgmt::prune(g, a).await,
        ImageCmd::Pull(a) => registry::pull(g, a).await,
        ImageCmd::Push(a) => registry::push(g, a).await,
        ImageCmd::Rm(a) => image_mgmt::rmi(g, a).await,
        ImageCmd::Save(a) => transfer::save(g, a).await,
        ImageCmd::Search(a) => registry::search(g, a).await,
        ImageCmd::Tag(a) => image_mgmt::tag(g, a).await,
        ImageCmd::Tree(a) => image_mgmt::tree(g, a).await,
        ImageCmd::Untag(a) => image_mgmt::untag(g, a).await,
    }
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images).
    #[arg(short, long)]
    all: bool,
    /// Show digests.
    #[arg(long)]
    digests: bool,
    /// Filter output based on conditions provided.
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Change the output format to JSON or a Go template.
    #[arg(long)]
    format: Option<String>,
    /// Display the image name history.
    #[arg(long)]
    history: bool,
    /// Do not print column headings.
    #[arg(short, long)]
    noheading: bool,
    /// Do not truncate output.
    #[arg(long)]
    no_trunc: bool,
    /// Display only image IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Sort by created, id, repository, size or tag.
    #[arg(long, default_value = "created", value_parser = ["created", "id", "repository", "size", "tag"])]
    sort: String,
    /// Image to list (a reference filter).
    image: Option<String>,
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Split "registry/repo:tag" into repository and tag ("<none>" when absent).
fn split_tag(r: &str) -> (String, String) {
    if r == "<none>:<none>" {
        return ("<none>".into(), "<none>".into());
    }
    let name = r.split('@').next().unwrap_or(r);
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[last_slash..].rfind(':') {
        Some(c) => {
            let at = last_slash + c;
            (name[..at].to_string(), name[at + 1..].to_string())
        }
        None => (name.to_string(), "<none>".into()),
    }
}

fn image_id(img: &Value, no_trunc: bool) -> String {
    let id = s(img, "Id");
    if !no_trunc && id.len() >= 12 {
        id[..12].to_string()
    } else {
        format!("sha256:{id}")
    }
}

/// One row per tag, as podman lists images.
fn rows(list: &[Value], no_trunc: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for img in list {
        let created = img.get("Created").and_then(Value::as_i64).unwrap_or(0);
        let size = img.get("Size").and_then(Value::as_f64).unwrap_or(0.0);
        let base = |repo: String, tag: String| {
            let mut m = img.as_object().cloned().unwrap_or_default();
            m.insert("Repository".into(), json!(repo));
            m.insert("Tag".into(), json!(tag));
            m.insert("ID".into(), json!(image_id(img, no_trunc)));
            m.insert("Created".into(), json!(ago(created)));
            m.insert("CreatedSince".into(), json!(ago(created)));
            m.insert("Size".into(), json!(human_size_spaced(size)));
            m.insert("Digest".into(), json!(s(img, "Digest")));
            let history: Vec<&str> = img
                .get("History")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            m.insert("History".into(), json!(history.join(", ")));
            Value::Object(m)
        };
        let tags: Vec<&str> = img
            .get("RepoTags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if tags.is_empty() {
            out.push(base("<none>".into(), "<none>".into()));
            continue;
        }
        let (tagged, untagged): (Vec<_>, Vec<_>) = tags
            .iter()
            .map(|t| split_tag(t))
            .partition(|(_, tag)| tag != "<none>");
        if tagged.is_empty() {
            if let Some((r, t)) = untagged.into_iter().next() {
                out.push(base(r, t));
            }
        } else {
            for (r, t) in tagged {
                out.push(base(r, t));
            }
        }
    }
    out
}

pub async fn images(g: &GlobalOpts, a: ImagesArgs) -> Result<u8, Failure> {
    if !a.filter.is_empty() && a.image.is_some() {
        return Err(Failure::msg("cannot specify an image and a filter(s)"));
    }
    let mut filters = a.filter.clone();
    if let Some(i) = &a.image {
        filters.push(format!("reference={i}"));
    }
    let client = g.client().await?;
    let list = client
        .images(&ListImages {
            all: a.all,
            filters,
        })
        .await?;
    let mut rows = rows(&list, a.no_trunc);
    let created_of = |r: &Value| r.get("Created").cloned();
    let _ = created_of;
    let raw_created = |r: &Value| {
        list.iter()
            .find(|i| i.get("Id") == r.get("Id"))
            .and_then(|i| i.get("Created").and_then(Value::as_i64))
            .unwrap_or(0)
    };
    match a.sort.as_str() {
        "id" => rows.sort_by(|x, y| s(x, "ID").cmp(s(y, "ID"))),
        "repository" => rows.sort_by(|x, y| s(x, "Repository").cmp(s(y, "Repository"))),
        "tag" => rows.sort_by(|x, y| s(x, "Tag").cmp(s(y, "Tag"))),
        "size" => rows.sort_by_key(|r| {
            list.iter()
                .find(|i| i.get("Id") == r.get("Id"))
                .and_then(|i| i.get("Size").and_then(Value::as_i64))
                .unwrap_or(0)
        }),
        _ => rows.sort_by_key(|r| std::cmp::Reverse(raw_created(r))),
    }
    let mut out = std::io::stdout().lock();
    let fmt = a.format.as_deref();
    if fmt.is_some_and(format::is_json) {
        // podman prints one document per listed row (an image with three names thrice), in
        // the sorted order of the rows.
        let json_rows: Vec<Value> = rows
            .iter()
            .filter_map(|r| list.iter().find(|i| i.get("Id") == r.get("Id")))
            .map(|img| {
                let created = img.get("Created").and_then(Value::as_i64).unwrap_or(0);
                let src = img.as_object().cloned().unwrap_or_default();
                // podman re-encodes its ImageSummary struct: its field order, RepoTags nulled,
                // Created as unix seconds and CreatedAt added at the end; fields of newer
                // engines that we do not know keep the engine's order after ours.
                let mut m = serde_json::Map::new();
                for k in IMAGE_SUMMARY_ORDER {
                    if let Some(v) = src.get(*k) {
                        m.insert(k.to_string(), v.clone());
                    }
                }
                for (k, v) in &src {
                    if !m.contains_key(k) && k != "Created" {
                        m.insert(k.clone(), v.clone());
                    }
                }
                m.insert("RepoTags".into(), Value::Null);
                m.insert("Created".into(), json!(created));
                m.insert("CreatedAt".into(), json!(rfc3339(created)));
                Value::Object(m)
            })
            .collect();
        writeln!(out, "{}", go_json_indent(&Value::Array(json_rows), "    "))?;
        return Ok(0);
    }
    if a.quiet {
        let mut seen = Vec::new();
        for r in &rows {
            let id = s(r, "ID").to_string();
            if !seen.contains(&id) {
                writeln!(out, "{id}")?;
                seen.push(id);
            }
        }
        return Ok(0);
    }
    let headers: HashMap<String, String> = [("ID", "IMAGE ID"), ("ReadOnly", "R/O")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (template, user) = match fmt {
        Some(f) => (f.to_string(), true),
        None => {
            let mut cols = vec!["{{.Repository}}", "{{.Tag}}"];
            if a.digests {
                cols.push("{{.Digest}}");
            }
            cols.extend(["{{.ID}}", "{{.Created}}", "{{.Size}}"]);
            if a.history {
                cols.push("{{if .History}}{{.History}}{{else}}<none>{{end}}");
            }
            (cols.join("\t"), false)
        }
    };
    format::print_rows(&template, &rows, &headers, user, a.noheading, &mut out)
        .map_err(|e| Failure::msg(e.to_string()))?;
    Ok(0)
}

/// Field order of podman's `entities.ImageSummary`, which `images --format json` re-encodes.
const IMAGE_SUMMARY_ORDER: &[&str] = &[
    "Id",
    "ParentId",
    "RepoTags",
    "RepoDigests",
    "Size",
    "SharedSize",
    "VirtualSize",
    "Labels",
    "Containers",
    "ReadOnly",
    "Dangling",
    "Names",
    "Digest",
    "History",
];

/// Go's `time.Unix(n,0).UTC().Format(time.RFC3339Nano)` (whole seconds).
fn rfc3339(unix: i64) -> String {
    Civil::from_unix(unix).rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(
            split_tag("localhost/e2e/busybox:latest"),
            ("localhost/e2e/busybox".into(), "latest".into())
        );
        assert_eq!(
            split_tag("registry:5000/x/y"),
            ("registry:5000/x/y".into(), "<none>".into())
        );
        assert_eq!(
            split_tag("registry:5000/x/y:1.0"),
            ("registry:5000/x/y".into(), "1.0".into())
        );
    }

    #[test]
    fn rfc3339_format() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1795863600), "2026-11-28T11:00:00Z");
    }

    #[test]
    fn untagged_rows() {
        let list =
            vec![json!({"Id": "abcdef0123456789", "RepoTags": null, "Created": 0, "Size": 1000})];
        let r = rows(&list, false);
        assert_eq!(r[0]["Repository"], "<none>");
        assert_eq!(r[0]["ID"], "abcdef012345");
        assert_eq!(r[0]["Size"], "1 kB");
    }
}
