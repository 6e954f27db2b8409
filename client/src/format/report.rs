//! podman's output conventions for `--format` (containers/common
//! `pkg/report`): `json` detection, `table` templates with headers, the
//! normalisation applied to user-typed templates, and tabwriter alignment.

use super::funcs::to_upper;
use super::tabwriter::TabWriter;
use super::template::{Template, TemplateError};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Write;

/// Whether `--format` asks for JSON output: podman's `report.IsJSON`, the pattern
/// `^\s*(json|{{\s*json\s*(\.)?\s*}})\s*$` — so `json`, `{{json}}`, `{{json .}}` and
/// `{{ json. }}` all mean "the JSON document" (checked against podman 4.3.1, which prints
/// `images --format '{{json .}}'` as one indented array).
pub fn is_json(format: &str) -> bool {
    let t = format.trim_matches(is_go_space);
    if t == "json" {
        return true;
    }
    match t.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
        Some(inner) => {
            let inner = inner.trim_matches(is_go_space);
            match inner.strip_prefix("json") {
                Some(rest) => {
                    let rest = rest.trim_start_matches(is_go_space);
                    rest.is_empty() || rest == "."
                }
                None => false,
            }
        }
        None => false,
    }
}

/// Whether the template is a `table` template (podman's `report.HasTable`:
/// the `table` keyword must be followed by a space).
pub fn is_table(format: &str) -> bool {
    format.starts_with("table ")
}

/// Go's regexp `\s`.
fn is_go_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// podman's `report.NormalizeFormat`: the escapes `\t` and `\n` typed on
/// the command line become real tabs and newlines; for `table` templates
/// every `table ` is dropped and every space becomes a tab (so
/// `table {{.ID}} {{.Names}}` yields aligned columns); a trailing newline
/// is added when missing.
pub fn normalize_format(format: &str) -> String {
    let table = is_table(format);
    let mut out = String::with_capacity(format.len() + 1);
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if table && rest.starts_with("table ") {
            rest = &rest["table ".len()..];
        } else if rest.starts_with("\\t") {
            out.push('\t');
            rest = &rest[2..];
        } else if rest.starts_with("\\n") {
            out.push('\n');
            rest = &rest[2..];
        } else {
            out.push(if table && c == ' ' { '\t' } else { c });
            rest = &rest[c.len_utf8()..];
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// podman's `report.EnforceRange`: wraps the template in
/// `{{range .}}...{{end -}}` unless it already ranges over dot.
pub fn enforce_range(format: &str) -> String {
    if ranges_over_dot(format) {
        format.to_string()
    } else {
        format!("{{{{range .}}}}{format}{{{{end -}}}}")
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
        i += 1;
    }
    i
}

fn eat(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    b.get(i..i + word.len())
        .filter(|s| *s == word)
        .map(|_| i + word.len())
}

/// Matches podman's regexp `{{\s*range\s*\.\s*}}.*{{\s*end\s*-?\s*}}`.
fn ranges_over_dot(s: &str) -> bool {
    let b = s.as_bytes();
    let open = |i: usize| -> Option<usize> {
        let i = skip_ws(b, eat(b, i, b"{{")?);
        let i = skip_ws(b, eat(b, i, b"range")?);
        let i = skip_ws(b, eat(b, i, b".")?);
        eat(b, i, b"}}")
    };
    let close = |i: usize| -> bool {
        let step = || -> Option<usize> {
            let i = skip_ws(b, eat(b, i, b"{{")?);
            let mut i = skip_ws(b, eat(b, i, b"end")?);
            if b.get(i) == Some(&b'-') {
                i += 1;
            }
            eat(b, skip_ws(b, i), b"}}")
        };
        step().is_some()
    };
    for (i, _) in s.match_indices("{{") {
        if let Some(after) = open(i) {
            return s[after..]
                .match_indices("{{")
                .any(|(j, _)| close(after + j));
        }
    }
    false
}

/// Splits a Go identifier into words like podman's `camelcase.Split`:
/// runs of lower-case, upper-case, digits and other characters, with the
/// last capital of a capital run moved to a following lower-case run
/// (`PDFLoader` → `PDF`, `Loader`).
pub fn camelcase_split(s: &str) -> Vec<String> {
    let class = |c: char| {
        if c.is_lowercase() {
            1
        } else if c.is_uppercase() {
            2
        } else if c.is_numeric() {
            3
        } else {
            4
        }
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = 0;
    for c in s.chars() {
        let k = class(c);
        match runs.last_mut() {
            Some(run) if k == last => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = k;
    }
    for i in 0..runs.len().saturating_sub(1) {
        let upper_then_lower = runs[i].first().is_some_and(|c| c.is_uppercase())
            && runs[i + 1].first().is_some_and(|c| c.is_lowercase());
        if upper_then_lower {
            if let Some(c) = runs[i].pop() {
                runs[i + 1].insert(0, c);
            }
        }
    }
    runs.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().collect())
        .collect()
}

/// The header podman derives from a field name: camel-case words,
/// upper-cased (`RepoTags` → `REPO TAGS`, `ID` → `ID`).
pub fn default_header(field: &str) -> String {
    to_upper(&camelcase_split(field).join(" "))
}

/// Where a template comes from, which decides how podman renders it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// Given with `--format`: aligned with headers only for `table`.
    #[default]
    User,
    /// A command's built-in default format: always aligned, with headers.
    Podman,
}

/// Options for [`render_with`].
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    pub origin: Origin,
    /// `--noheading`: omit the header row.
    pub no_heading: bool,
    /// Template name for error messages; podman uses the command name.
    pub name: String,
}

/// A template prepared the way podman's `report.Formatter` prepares it.
#[derive(Debug)]
pub struct Formatter {
    template: Template,
    table: bool,
    origin: Origin,
}

impl Formatter {
    /// Normalises `text` (see [`normalize_format`]) and makes it range over
    /// the rows; when the normalised text does not parse (e.g. the user
    /// wrote `{{printf "\n"}}`, which normalisation breaks), the text is
    /// parsed again without normalisation, as podman does.
    pub fn parse(origin: Origin, name: &str, text: &str) -> Result<Formatter, TemplateError> {
        let (norm, raw, table) = match text.strip_prefix("table ") {
            Some(rest) => (
                format!("{{{{range .}}}}{}{{{{end -}}}}", normalize_format(text)),
                format!("{{{{range .}}}}{rest}{{{{end -}}}}"),
                true,
            ),
            None => (
                enforce_range(&normalize_format(text)),
                enforce_range(text),
                false,
            ),
        };
        let template = match Template::parse_named(name, &norm) {
            Ok(t) => t,
            Err(_) => Template::parse_named(name, &raw)?,
        };
        Ok(Formatter {
            template,
            table,
            origin,
        })
    }

    /// Whether the template had the `table` prefix.
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// Whether output goes through the tabwriter and gets a header row
    /// (podman: `table` templates and its own default formats).
    pub fn is_aligned(&self) -> bool {
        self.table || self.origin == Origin::Podman
    }

    /// Renders the rows, appending to `out` (partial output stays on error).
    pub fn execute(&self, rows: &[Value], out: &mut String) -> Result<(), TemplateError> {
        let data = Value::Array(rows.to_vec());
        self.template.execute_into(&data, out, false)
    }

    /// Renders the header row: the template runs over one synthetic row
    /// mapping field names to header texts, as podman's `report.Headers`
    /// does. `overrides` maps field names to header texts (upper-cased like
    /// podman); other fields get [`default_header`]. Expressions that cannot
    /// work on header strings (ranges, `index`, ...) leave their cell empty.
    pub fn execute_headers(
        &self,
        overrides: &HashMap<String, String>,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        let mut keys: Vec<&String> = overrides.keys().collect();
        keys.sort();
        let row: Map<String, Value> = keys
            .into_iter()
            .map(|k| (k.clone(), Value::String(to_upper(&overrides[k]))))
            .collect();
        let data = Value::Array(vec![Value::Object(row)]);
        self.template.execute_into(&data, out, true)
    }
}

/// Renders `rows` for a user-supplied `--format`, the way podman does:
/// `table` templates get a header row and tabwriter alignment, other
/// templates are printed as they come, one execution per row.
pub fn render(
    template: &str,
    rows: &[Value],
    headers: &HashMap<String, String>,
    out: &mut dyn Write,
) -> Result<(), TemplateError> {
    render_with(template, rows, headers, &RenderOptions::default(), out)
}

/// [`render`] with control over origin, `--noheading` and the template name.
pub fn render_with(
    template: &str,
    rows: &[Value],
    headers: &HashMap<String, String>,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> Result<(), TemplateError> {
    let f = Formatter::parse(opts.origin, &opts.name, template)?;
    let mut buf = String::new();
    let mut result = Ok(());
    if f.is_aligned() && !opts.no_heading {
        result = f.execute_headers(headers, &mut buf);
    }
    if result.is_ok() {
        result = f.execute(rows, &mut buf);
    }
    // Like podman, whatever was produced before an error is still printed.
    let written = if f.is_aligned() {
        let mut tw = TabWriter::podman(&mut *out);
        tw.write_all(buf.as_bytes()).and_then(|()| tw.flush())
    } else {
        out.write_all(buf.as_bytes())
    };
    result?;
    written.map_err(TemplateError::from)
}
