//! Image management: rmi, tag, untag, history, image inspect/exists/prune/tree.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use bindings::api::images::RemoveImages;
use clap::{ArgAction, Args};
use serde_json::{json, Value};

use super::argcheck::exact_args;
use super::lifecycle::{parse_commit_reference, run_inspect};
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::{ago, human_size_spaced, Civil};

/// cobra's `MinimumNArgs`.
fn min_args(args: &[String], n: usize) -> Result<(), Failure> {
    if args.len() < n {
        return Err(Failure::msg(format!(
            "requires at least {n} arg(s), only received {}",
            args.len()
        )));
    }
    Ok(())
}

/// hashicorp/multierror's rendering, which podman uses when several images fail.
fn join_errors(errs: &[String]) -> String {
    if errs.len() == 1 {
        return errs[0].clone();
    }
    let mut s = format!("{} errors occurred:", errs.len());
    for e in errs {
        s.push_str("\n\t* ");
        s.push_str(e);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// rmi
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct RmiArgs {
    /// Remove all images.
    #[arg(short, long)]
    pub all: bool,
    /// Force removal of the image (and of containers using it).
    #[arg(short, long)]
    pub force: bool,
    /// Ignore errors if a specified image does not exist.
    #[arg(short, long)]
    pub ignore: bool,
    /// Do not remove dangling images.
    #[arg(long)]
    pub no_prune: bool,
    /// Images to remove.
    pub images: Vec<String>,
}

pub async fn rmi(g: &GlobalOpts, a: RmiArgs) -> Result<u8, Failure> {
    if a.images.is_empty() && !a.all {
        return Err(Failure::msg("image name or ID must be specified"));
    }
    if !a.images.is_empty() && a.all {
        return Err(Failure::msg(
            "when using the --all switch, you may not pass any images names or IDs",
        ));
    }
    let client = g.client().await?;
    let report = client
        .images_remove(&RemoveImages {
            images: a.images.clone(),
            all: a.all,
            force: a.force,
            ignore: a.ignore,
            no_prune: a.no_prune,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    for u in report.untagged.iter().flatten() {
        writeln!(out, "Untagged: {u}")?;
    }
    for d in report.deleted.iter().flatten() {
        if !d.is_empty() {
            writeln!(out, "Deleted: {d}")?;
        }
    }
    out.flush()?;
    // With --force a missing image is not an error, as for podman.
    let errs: Vec<String> = report
        .errors
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !(a.force && e.contains("image not known")))
        .collect();
    if errs.is_empty() {
        return Ok(0);
    }
    let code = u8::try_from(report.exit_code)
        .ok()
        .filter(|c| *c != 0)
        .unwrap_or(crate::exit::EXIT_ERROR);
    Err(Failure::with_code(code, join_errors(&errs)))
}

// ---------------------------------------------------------------------------------------------
// tag, untag
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct TagArgs {
    /// The image, then one or more new names.
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UntagArgs {
    /// The image, then the names to remove (all names when none is given).
    pub args: Vec<String>,
}

/// Repository and tag of a reference, as podman's remote client sends them for tag and
/// untag (no normalization: the engine adds `localhost/` and `latest`). A digest stays on
/// the tag, as `tag@digest`.
fn repo_and_tag(s: &str) -> Result<(String, String), Failure> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    // Validate the whole reference (digest included) with the shared grammar.
    parse_commit_reference(s).map_err(Failure::msg)?;
    let (repo, _) = parse_commit_reference(rest).map_err(Failure::msg)?;
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let mut tag = match rest[last_slash..].rfind(':') {
        Some(i) => rest[last_slash + i + 1..].to_string(),
        None => String::new(),
    };
    if let Some(d) = digest {
        tag.push('@');
        tag.push_str(d);
    }
    Ok((repo, tag))
}

pub async fn tag(g: &GlobalOpts, a: TagArgs) -> Result<u8, Failure> {
    min_args(&a.args, 2)?;
    let client = g.client().await?;
    let image = &a.args[0];
    for name in &a.args[1..] {
        let (repo, tag) = repo_and_tag(name)?;
        client.image_tag(image, &repo, &tag).await?;
    }
    Ok(0)
}

pub async fn untag(g: &GlobalOpts, a: UntagArgs) -> Result<u8, Failure> {
    min_args(&a.args, 1)?;
    let client = g.client().await?;
    let image = &a.args[0];
    if a.args.len() == 1 {
        client.image_untag(image, "", "").await?;
        return Ok(0);
    }
    for name in &a.args[1..] {
        let (repo, tag) = repo_and_tag(name)?;
        client.image_untag(image, &repo, &tag).await?;
    }
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// history
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Change the output to JSON or a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Display sizes and dates in human readable format.
    #[arg(short = 'H', long, action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value = "true", default_missing_value = "true")]
    pub human: bool,
    /// Takes the place of the global `--url` in this command, so that the global's `-H`
    /// (`--host`) is not inherited: after `history`, `-H` is `--human`, as in podman.
    /// `--url` itself still works here (clap copies it to the global options by its id).
    #[arg(id = "url", long = "url", hide = true, value_name = "URL")]
    pub url_here: Option<String>,
    /// Do not truncate the output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Display the numeric IDs only.
    #[arg(short, long)]
    pub quiet: bool,
    /// The image.
    pub args: Vec<String>,
}

fn i64_of(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// podman's JSON for one history layer: its `ImageHistoryLayer` fields (lower-case keys,
/// empty ones omitted) followed by `Created` as RFC 3339.
fn history_json(layer: &Value) -> Value {
    let created = Civil::from_unix(i64_of(layer, "Created")).rfc3339();
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(str_of(layer, "Id")));
    m.insert("created".into(), json!(created));
    if !str_of(layer, "CreatedBy").is_empty() {
        m.insert("CreatedBy".into(), json!(str_of(layer, "CreatedBy")));
    }
    if let Some(t) = layer.get("Tags").and_then(Value::as_array) {
        if !t.is_empty() {
            m.insert("tags".into(), Value::Array(t.clone()));
        }
    }
    m.insert("size".into(), json!(i64_of(layer, "Size")));
    if !str_of(layer, "Comment").is_empty() {
        m.insert("comment".into(), json!(str_of(layer, "Comment")));
    }
    m.insert("Created".into(), json!(created));
    Value::Object(m)
}

/// A template row with podman's computed fields (truncated ID and command, human times and
/// sizes).
fn history_row(layer: &Value, human: bool, no_trunc: bool) -> Value {
    let created = i64_of(layer, "Created");
    let id = str_of(layer, "Id");
    let id = if !no_trunc && id.len() >= 12 {
        id[..12].to_string()
    } else {
        id.to_string()
    };
    let by = str_of(layer, "CreatedBy");
    let by = if !no_trunc && by.len() > 45 {
        // podman cuts bytes; stay on a character boundary.
        let mut cut = 42;
        while !by.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &by[..cut])
    } else {
        by.to_string()
    };
    let created_s = if human {
        ago(created)
    } else {
        Civil::from_unix(created).rfc3339()
    };
    let size = layer.get("Size").and_then(Value::as_f64).unwrap_or(0.0);
    json!({
        "ID": id,
        "Created": created_s,
        "CreatedSince": created_s,
        "CreatedAt": go_utc_string(created),
        "CreatedBy": by,
        "Size": human_size_spaced(size),
        "Comment": str_of(layer, "Comment"),
        "Tags": layer.get("Tags").cloned().filter(|t| !t.is_null()).unwrap_or(json!([])),
    })
}

/// Go's `time.Time.String()` of a UTC time in whole seconds.
fn go_utc_string(unix: i64) -> String {
    let r = Civil::from_unix(unix).rfc3339();
    // "2024-01-02T03:04:05Z" -> "2024-01-02 03:04:05 +0000 UTC"
    let body = r.trim_end_matches('Z').replacen('T', " ", 1);
    format!("{body} +0000 UTC")
}

pub async fn history(g: &GlobalOpts, a: HistoryArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 1)?;
    let client = g.client().await?;
    let layers = client.image_history(&a.args[0]).await?;
    let mut out = std::io::stdout().lock();
    if a.format.as_deref().is_some_and(format::is_json) {
        if layers.is_empty() {
            writeln!(out, "[]")?;
        } else {
            let arr = Value::Array(layers.iter().map(history_json).collect());
            writeln!(out, "{}", format::to_go_json(&arr, true, None))?;
        }
        return Ok(0);
    }
    let rows: Vec<Value> = layers
        .iter()
        .map(|l| history_row(l, a.human, a.no_trunc))
        .collect();
    let headers: HashMap<String, String> = [("CreatedBy", "CREATED BY")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (template, user) = if a.quiet {
        ("{{.ID}}".to_string(), true)
    } else if let Some(f) = &a.format {
        (f.clone(), true)
    } else {
        (
            "{{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}".to_string(),
            false,
        )
    };
    format::print_rows(&template, &rows, &headers, user, false, &mut out)
        .map_err(|e| Failure::msg(e.to_string()))?;
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// image inspect, exists, tree
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct ImageInspectArgs {
    /// Format the output to a Go template or json.
    #[arg(short, long, default_value = "json")]
    pub format: String,
    /// Images to inspect.
    pub images: Vec<String>,
}

pub async fn inspect(g: &GlobalOpts, a: ImageInspectArgs) -> Result<u8, Failure> {
    run_inspect(g, "image", &a.format, false, &a.images).await
}

#[derive(Args, Debug)]
pub struct ImageExistsArgs {
    /// The image.
    pub args: Vec<String>,
}

pub async fn exists(g: &GlobalOpts, a: ImageExistsArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 1)?;
    let client = g.client().await?;
    Ok(if client.image_exists(&a.args[0]).await? {
        0
    } else {
        1
    })
}

#[derive(Args, Debug)]
pub struct ImageTreeArgs {
    /// Show all child images and layers of the specified image.
    #[arg(long)]
    pub whatrequires: bool,
    /// The image.
    pub args: Vec<String>,
}

pub async fn tree(g: &GlobalOpts, a: ImageTreeArgs) -> Result<u8, Failure> {
    exact_args(&a.args, 1)?;
    let client = g.client().await?;
    let t = client.image_tree(&a.args[0], a.whatrequires).await?;
    println!("{t}");
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// image prune
// ---------------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub struct ImagePruneArgs {
    /// Remove all images not in use by containers, not just dangling ones.
    #[arg(short, long)]
    pub all: bool,
    /// Remove images even when they are used by external containers (e.g., build containers).
    #[arg(long)]
    pub external: bool,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub force: bool,
    /// Provide filter values (e.g. 'label=<key>=<value>').
    #[arg(long = "filter")]
    pub filter: Vec<String>,
}

pub async fn prune(g: &GlobalOpts, a: ImagePruneArgs) -> Result<u8, Failure> {
    if !a.force {
        let what = if a.all {
            "WARNING! This command removes all images without at least one container associated with them."
        } else {
            "WARNING! This command removes all dangling images."
        };
        print!("{what}\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        let n = std::io::stdin().lock().read_line(&mut answer)?;
        // Go's ReadString fails with EOF when the line has no newline.
        if n == 0 || !answer.ends_with('\n') {
            return Err(Failure::msg("EOF"));
        }
        if !answer.to_lowercase().starts_with('y') {
            return Ok(0);
        }
    }
    let client = g.client().await?;
    let reports = client.images_prune(a.all, a.external, &a.filter).await?;
    let mut out = std::io::stdout().lock();
    for r in &reports {
        writeln!(out, "{}", r.id)?;
        if let Some(e) = r.error() {
            out.flush()?;
            eprintln!("{e}");
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_references() {
        assert_eq!(
            repo_and_tag("x1").unwrap(),
            ("x1".to_string(), String::new())
        );
        assert_eq!(
            repo_and_tag("quay.io:5000/a/b:c").unwrap(),
            ("quay.io:5000/a/b".to_string(), "c".to_string())
        );
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            repo_and_tag(&format!("x/y:t@{d}")).unwrap(),
            ("x/y".to_string(), format!("t@{d}"))
        );
        let e = repo_and_tag("A B").unwrap_err();
        assert_eq!(
            e.message,
            "parsing reference \"A B\": invalid reference format"
        );
    }

    #[test]
    fn multierror_text() {
        assert_eq!(join_errors(&["a".into()]), "a");
        assert_eq!(
            join_errors(&["a".into(), "b".into()]),
            "2 errors occurred:\n\t* a\n\t* b"
        );
    }

    #[test]
    fn history_layers() {
        let l = json!({"Id": "0123456789abcdef", "Created": 0, "CreatedBy": "x".repeat(50),
                       "Tags": null, "Size": 2140160, "Comment": "c"});
        let j = history_json(&l);
        assert_eq!(
            format::to_go_json(&j, true, None),
            format!(
                r#"{{"id":"0123456789abcdef","created":"1970-01-01T00:00:00Z","CreatedBy":"{}","size":2140160,"comment":"c","Created":"1970-01-01T00:00:00Z"}}"#,
                "x".repeat(50)
            )
        );
        let r = history_row(&l, false, false);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["CreatedBy"], format!("{}...", "x".repeat(42)));
        assert_eq!(r["Size"], "2.14 MB");
        assert_eq!(r["Created"], "1970-01-01T00:00:00Z");
        assert_eq!(r["CreatedAt"], "1970-01-01 00:00:00 +0000 UTC");
    }
}
