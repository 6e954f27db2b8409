//! `secret ...`. Secret values are never printed unless asked (`inspect --showsecret`), never
//! logged: the value only ever exists as the request body of `secrets/create`.

use std::io::{self, Read, Write};

use bindings::api::secrets::SecretCreate;
use clap::Args;
use serde_json::{json, Value};

use super::volumes::{headers, parse_kv, template_failure, Errors};
use crate::context::GlobalOpts;
use crate::exit::Failure;
use crate::format;
use crate::output::{ago, go_json_indent};

/// The engine refuses larger secrets; reading stops just past it so a huge input is not
/// held in memory only to be rejected.
const MAX_SECRET: u64 = 512_000;

#[derive(Args, Debug)]
pub struct SecretCreateArgs {
    /// Specify secret driver.
    #[arg(short, long, default_value = "file")]
    pub driver: String,
    /// Specify driver specific options.
    #[arg(long, value_delimiter = ',')]
    pub driver_opts: Vec<String>,
    /// Read secret data from the environment variable named by the second argument.
    #[arg(long)]
    pub env: bool,
    /// Specify labels on the secret.
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Replace an existing secret of the same name.
    #[arg(long)]
    pub replace: bool,
    /// NAME FILE|- (or NAME VARIABLE with --env)
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretLsArgs {
    /// Filter secret output.
    #[arg(short, long, value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Format secret output using JSON or a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Do not print headers.
    #[arg(long)]
    pub noheading: bool,
    /// Print secret IDs only.
    #[arg(short, long)]
    pub quiet: bool,
    /// (podman takes no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretInspectArgs {
    /// Format inspect output using a Go template.
    #[arg(short, long, default_value = "")]
    pub format: String,
    /// Print inspect output in human-readable format.
    #[arg(long)]
    pub pretty: bool,
    /// Display the secret's value (engines that return it only).
    #[arg(long)]
    pub showsecret: bool,
    /// Secrets to inspect.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretRmArgs {
    /// Remove all secrets.
    #[arg(short, long)]
    pub all: bool,
    /// Secrets to remove.
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretExistsArgs {
    /// The secret.
    pub names: Vec<String>,
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Read at most `MAX_SECRET + 1` bytes, so the engine still sees (and rejects with its own
/// message) an input that is too large.
fn read_limited(r: impl Read) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    r.take(MAX_SECRET + 1).read_to_end(&mut data)?;
    Ok(data)
}

pub async fn create(g: &GlobalOpts, a: SecretCreateArgs) -> Result<u8, Failure> {
    if a.args.len() != 2 {
        return Err(Failure::msg(format!(
            "accepts 2 arg(s), received {}",
            a.args.len()
        )));
    }
    let (name, source) = (&a.args[0], &a.args[1]);
    let data = if a.env {
        match std::env::var_os(source) {
            Some(v) => v.into_encoded_bytes(),
            None => {
                return Err(Failure::msg(format!(
                    "cannot create store secret data: environment variable {source} is not set"
                )))
            }
        }
    } else if source == "-" {
        read_limited(io::stdin().lock())
            .map_err(|e| Failure::msg(format!("reading secret data from stdin: {e}")))?
    } else {
        let f = std::fs::File::open(source)
            .map_err(|e| Failure::msg(format!("open {source}: {}", io_text(&e))))?;
        read_limited(f).map_err(|e| Failure::msg(format!("read {source}: {}", io_text(&e))))?
    };
    let client = g.client().await?;
    let opts = SecretCreate {
        name: name.clone(),
        driver: Some(a.driver.clone()),
        driver_opts: parse_kv(&a.driver_opts),
        labels: parse_kv(&a.label),
        replace: a.replace,
    };
    let id = match client
        .secret_create(&opts, bindings::http::full(data.clone()))
        .await
    {
        Ok(id) => id,
        // Engines before 4.7 ignore `replace`: remove the old secret and create it again.
        Err(e) if a.replace && e.to_string().contains("secret name in use") => {
            client.secret_remove(name).await?;
            client
                .secret_create(&opts, bindings::http::full(data))
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    println!("{id}");
    Ok(0)
}

/// Go's `os.PathError` text: "no such file or directory" rather than Rust's wording.
fn io_text(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

fn since(t: &str) -> String {
    match super::containers::parse_rfc3339(t) {
        Some(unix) => ago(unix),
        None => t.to_string(),
    }
}

pub async fn ls(g: &GlobalOpts, a: SecretLsArgs) -> Result<u8, Failure> {
    if !a.args.is_empty() {
        return Err(Failure::msg(format!(
            "`podman secret ls` takes no arguments, got {:?}",
            a.args
        )));
    }
    let client = g.client().await?;
    let list = client.secrets(&a.filter).await?;
    let mut out = io::stdout().lock();
    let fmt = a.format.as_deref();
    if fmt.is_some_and(format::is_json) {
        writeln!(out, "{}", go_json_indent(&Value::Array(list), "    "))?;
        return Ok(0);
    }
    if a.quiet {
        for s in &list {
            writeln!(out, "{}", str_at(s, "/ID"))?;
        }
        return Ok(0);
    }
    // podman's list report: the fields a template can use.
    let rows: Vec<Value> = list
        .iter()
        .map(|s| {
            json!({
                "ID": str_at(s, "/ID"),
                "Name": str_at(s, "/Spec/Name"),
                "Driver": str_at(s, "/Spec/Driver/Name"),
                "CreatedAt": since(str_at(s, "/CreatedAt")),
                "UpdatedAt": since(str_at(s, "/UpdatedAt")),
            })
        })
        .collect();
    let (template, user) = match fmt {
        Some(f) if !f.is_empty() => (f.to_string(), true),
        _ => (
            "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}".to_string(),
            false,
        ),
    };
    format::print_rows(
        &template,
        &rows,
        &headers(&[("CreatedAt", "CREATED"), ("UpdatedAt", "UPDATED")]),
        user,
        a.noheading,
        &mut out,
    )
    .map_err(template_failure)?;
    Ok(0)
}

/// A secret as inspect templates see it: times as Go's `Time.String`.
fn template_view(s: &Value) -> Value {
    let mut v = s.clone();
    for k in ["CreatedAt", "UpdatedAt"] {
        if let Some(Value::String(t)) = v.get_mut(k) {
            if let Some(go) = super::lifecycle::go_time_string(t) {
                *t = go;
            }
        }
    }
    v
}

fn pretty(s: &Value, out: &mut dyn Write) -> io::Result<()> {
    let v = template_view(s);
    writeln!(out, "ID:              {}", str_at(&v, "/ID"))?;
    writeln!(out, "Name:              {}", str_at(&v, "/Spec/Name"))?;
    if let Some(labels) = v
        .pointer("/Spec/Labels")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        writeln!(out, "Labels:")?;
        // Go's templates range over maps in key order.
        let mut keys: Vec<&String> = labels.keys().collect();
        keys.sort();
        for k in keys {
            match labels.get(k).and_then(Value::as_str).unwrap_or("") {
                "" => writeln!(out, " - {k}")?,
                val => writeln!(out, " - {k}={val}")?,
            }
        }
    }
    writeln!(
        out,
        "Driver:            {}",
        str_at(&v, "/Spec/Driver/Name")
    )?;
    writeln!(out, "Created at:        {}", str_at(&v, "/CreatedAt"))?;
    writeln!(out, "Updated at:        {}", str_at(&v, "/UpdatedAt"))?;
    Ok(())
}

pub async fn inspect(g: &GlobalOpts, a: SecretInspectArgs) -> Result<u8, Failure> {
    if a.names.is_empty() {
        return Err(Failure::msg("requires at least 1 arg(s), only received 0"));
    }
    if a.pretty && !a.format.is_empty() {
        return Err(Failure::msg(
            "--format and --pretty cannot be used together",
        ));
    }
    let client = g.client().await?;
    let mut found = Vec::new();
    let mut errs: Vec<String> = Vec::new();
    for n in &a.names {
        match client.secret_inspect(n, a.showsecret).await {
            Ok(v) => found.push(v),
            Err(e) if e.status() == Some(404) => errs.push(format!("no such secret {n:?}")),
            Err(e) => return Err(e.into()),
        }
    }
    if a.showsecret {
        // Engines before 4.7 ignore the request and send no value; saying nothing would
        // look like an empty secret.
        if let Some(s) = found.iter().find(|s| s.get("SecretData").is_none()) {
            return Err(Failure::msg(format!(
                "the engine (podman {}) does not return secret values: --showsecret needs \
                 podman 4.7 or newer on the server (secret {:?})",
                client.server_version(),
                str_at(s, "/Spec/Name")
            )));
        }
    }
    let mut out = io::stdout().lock();
    if a.pretty {
        for s in &found {
            pretty(s, &mut out)?;
        }
    } else if a.format.is_empty() || format::is_json(&a.format) {
        writeln!(out, "{}", go_json_indent(&Value::Array(found), "    "))?;
    } else {
        let rows: Vec<Value> = found.iter().map(template_view).collect();
        format::print_rows(&a.format, &rows, &Default::default(), true, true, &mut out)
            .map_err(template_failure)?;
    }
    out.flush()?;
    drop(out);
    if errs.is_empty() {
        return Ok(0);
    }
    for e in &errs[1..] {
        eprintln!("error inspecting secret: {e}");
    }
    Err(Failure::msg(format!("inspecting secret: {}", errs[0])))
}

pub async fn rm(g: &GlobalOpts, a: SecretRmArgs) -> Result<u8, Failure> {
    if (a.all && !a.names.is_empty()) || (!a.all && a.names.is_empty()) {
        return Err(Failure::msg(
            "`podman secret rm` requires one argument, or the --all flag",
        ));
    }
    let client = g.client().await?;
    let names: Vec<String> = if a.all {
        client
            .secrets(&[])
            .await?
            .iter()
            .map(|s| str_at(s, "/ID").to_string())
            .collect()
    } else {
        a.names
    };
    let mut errs = Errors::new();
    let mut out = io::stdout().lock();
    for n in &names {
        // podman prints the ID of what it removed, whatever name the user gave.
        let id = match client.secret_inspect(n, false).await {
            Ok(v) => str_at(&v, "/ID").to_string(),
            Err(e) if e.status() == Some(404) => {
                errs.push(
                    format!("no secret with name or id {n:?}: no such secret "),
                    None,
                );
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match client.secret_remove(&id).await {
            Ok(()) => writeln!(out, "{id}")?,
            Err(e) if e.status().is_some() => errs.push(e.to_string(), None),
            Err(e) => return Err(e.into()),
        }
    }
    out.flush()?;
    errs.finish()
}

pub async fn exists(g: &GlobalOpts, a: SecretExistsArgs) -> Result<u8, Failure> {
    if a.names.len() != 1 {
        return Err(Failure::msg(format!(
            "accepts 1 arg(s), received {}",
            a.names.len()
        )));
    }
    let client = g.client().await?;
    Ok(if client.secret_exists(&a.names[0]).await? {
        0
    } else {
        1
    })
}

#[derive(clap::Subcommand, Debug)]
pub enum SecretCmd {
    /// Create a new secret.
    Create(SecretCreateArgs),
    /// List secrets.
    #[command(visible_alias = "list")]
    Ls(SecretLsArgs),
    /// Inspect a secret.
    Inspect(SecretInspectArgs),
    /// Remove one or more secrets.
    #[command(visible_alias = "remove")]
    Rm(SecretRmArgs),
    /// Check if a secret exists.
    Exists(SecretExistsArgs),
}

pub async fn secret(g: &GlobalOpts, c: SecretCmd) -> Result<u8, Failure> {
    match c {
        SecretCmd::Create(a) => create(g, a).await,
        SecretCmd::Ls(a) => ls(g, a).await,
        SecretCmd::Inspect(a) => inspect(g, a).await,
        SecretCmd::Rm(a) => rm(g, a).await,
        SecretCmd::Exists(a) => exists(g, a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_output() {
        let s = json!({"ID": "abc", "CreatedAt": "2026-11-28T12:09:19.758988873Z",
            "UpdatedAt": "2026-11-28T12:09:19.758988873Z",
            "Spec": {"Name": "n", "Driver": {"Name": "file"}, "Labels": {"k": "v", "e": ""}}});
        let mut out = Vec::new();
        pretty(&s, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID:              abc\nName:              n\nLabels:\n - e\n - k=v\n\
             Driver:            file\nCreated at:        2026-11-28 12:09:19.758988873 +0000 UTC\n\
             Updated at:        2026-11-28 12:09:19.758988873 +0000 UTC\n"
        );
    }

    #[test]
    fn limited_read_stops_past_the_limit() {
        let big = vec![0u8; 600_000];
        assert_eq!(read_limited(&big[..]).unwrap().len() as u64, MAX_SECRET + 1);
    }
}
