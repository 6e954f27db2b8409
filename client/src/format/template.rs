//! Go `text/template` engine over `serde_json::Value` data.
//!
//! The lexer, parser and executor live in sibling modules; this one holds
//! the public [`Template`] type and the error type.
//!
//! Where JSON data cannot reproduce what podman's Go structs would do, the
//! engine leans towards printing something useful:
//! - `.Field` tries the exact key, then an ASCII case-insensitive match,
//!   because API keys (`Id`) and the Go field names users type (`ID`)
//!   differ in case;
//! - a missing key prints `<no value>` like a Go map, but a field of JSON
//!   `null` (a Go nil pointer/slice/map) is empty instead of an error, and
//!   `null` counts as empty for `range`, `len`, `index` and `join`;
//! - `index` of a missing map key yields an empty string (podman's maps are
//!   mostly `map[string]string`);
//! - numbers compare across int/float and float verbs accept integers,
//!   since JSON turns integral Go floats into integers;
//! - a field holding an object can be called with one argument
//!   (`{{.Label "app"}}`) to emulate podman's lookup methods.

use super::exec;
use super::gofmt::quote;
use super::parse::{self, List};
use serde_json::Value;
use std::collections::HashMap;

/// A parse or execution failure, rendered like Go's messages, e.g.
/// `template: :1: function "foo" not defined` or
/// `template: :1:6: executing "" at <.Foo.Bar>: can't evaluate field Bar in type string`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template text is malformed.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        name: String,
        line: usize,
        message: String,
    },
    /// Execution failed at a node; `location` is `name:line:column`
    /// (0-based byte column, as Go reports it) and `context` the node text.
    #[error("template: {location}: executing {} at <{context}>: {message}", quote(.name))]
    Exec {
        location: String,
        name: String,
        context: String,
        message: String,
    },
    /// Writing the output failed.
    #[error("{0}")]
    Io(String),
}

impl From<std::io::Error> for TemplateError {
    fn from(e: std::io::Error) -> Self {
        TemplateError::Io(e.to_string())
    }
}

/// A parsed template, including the templates it `define`s.
#[derive(Debug)]
pub struct Template {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) trees: HashMap<String, List>,
}

impl Template {
    /// Parses `text` as an unnamed template (Go's `template.New("")`).
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        Template::parse_named("", text)
    }

    /// Parses `text`; `name` appears in error messages (podman uses the
    /// command name, e.g. `ps` or `inspect`).
    pub fn parse_named(name: &str, text: &str) -> Result<Template, TemplateError> {
        let trees = parse::parse(name, text)?;
        Ok(Template {
            name: name.to_string(),
            text: text.to_string(),
            trees,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Executes the template with `data` as dot and returns the output.
    pub fn execute(&self, data: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        self.execute_into(data, &mut out, false)?;
        Ok(out)
    }

    /// Executes into `w`; like Go, output produced before an execution
    /// error is still written.
    pub fn execute_to(
        &self,
        data: &Value,
        w: &mut dyn std::io::Write,
    ) -> Result<(), TemplateError> {
        let mut out = String::new();
        let r = self.execute_into(data, &mut out, false);
        w.write_all(out.as_bytes())?;
        r
    }

    /// Appends the output to `out` (partial output stays on error).
    /// `header` selects the lenient mode used to render table headers.
    pub(crate) fn execute_into(
        &self,
        data: &Value,
        out: &mut String,
        header: bool,
    ) -> Result<(), TemplateError> {
        exec::execute(self, data, out, header)
    }

    /// Line and 0-based column of byte offset `pos`, as Go's ErrorContext.
    pub(crate) fn location(&self, pos: usize) -> (usize, usize) {
        let before = self.text.get(..pos).unwrap_or(&self.text);
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(i) => before.len() - i - 1,
            None => before.len(),
        };
        (line, col)
    }
}
