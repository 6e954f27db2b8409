//! podman's `--format` support: a Go `text/template` engine over
//! `serde_json::Value` data plus podman's report conventions (`json`,
//! `table` templates, headers, tabwriter alignment).
//!
//! Commands typically call [`report::render`] with the rows they fetched
//! from the API; [`template::Template`] and [`tabwriter::TabWriter`] are
//! available for anything more specific.

// The API is consumed incrementally by the commands; unused parts must not
// break `-D warnings` builds in the meantime.
#![allow(dead_code)]

mod exec;
mod funcs;
mod gofmt;
mod json;
mod lexer;
mod parse;
pub mod report;
pub mod tabwriter;
pub mod template;
mod value;

#[cfg(test)]
mod tests;

// Re-exports for the commands; like the rest of the API they may be unused
// for a while in the binary crate.
#[allow(unused_imports)]
pub use json::to_go_json;
#[allow(unused_imports)]
pub use report::{
    default_header, enforce_range, is_json, is_table, normalize_format, render, render_with,
    Formatter, Origin, RenderOptions,
};
#[allow(unused_imports)]
pub use tabwriter::TabWriter;
#[allow(unused_imports)]
pub use template::{Template, TemplateError};

use std::collections::HashMap;
use std::io::Write;

use serde_json::Value;

/// Print rows with a template: `user` tells a `--format` given by the user (aligned and
/// headed only with the `table` prefix) from podman's own default format (always aligned and
/// headed unless `no_heading`).
pub fn print_rows(
    template: &str,
    rows: &[Value],
    headers: &HashMap<String, String>,
    user: bool,
    no_heading: bool,
    out: &mut dyn Write,
) -> Result<(), TemplateError> {
    let opts = RenderOptions {
        origin: if user { Origin::User } else { Origin::Podman },
        no_heading,
        name: String::new(),
    };
    render_with(template, rows, headers, &opts, out)
}

/// Execute a template over one document (version, info), as podman does for those commands.
pub fn render_one(template: &str, data: &Value, out: &mut dyn Write) -> Result<(), TemplateError> {
    let t = match Template::parse(&normalize_format(template)) {
        Ok(t) => t,
        Err(_) => Template::parse(template)?,
    };
    t.execute_to(data, out)
}
