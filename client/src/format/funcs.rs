//! Template functions: Go's builtins plus podman's `report.DefaultFuncs`
//! (containers/common pkg/report: join, json, lower, pad, split, title,
//! truncate, upper).

use super::gofmt::{is_print, sprint, sprintf, sprintln, FArg};
use super::json::to_go_json;
use super::value::Val;
use serde_json::Value;
use std::cmp::Ordering;

/// How an argument is converted before the call, mirroring the Go parameter
/// type of the function (which decides the error messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    /// `interface{}`: a missing value arrives as nil.
    Any,
    /// `reflect.Value`: passed through untouched, missing included.
    Value,
    Str,
    Int,
    StrSlice,
}

impl Param {
    pub(crate) fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Value => "reflect.Value",
            Param::Str => "string",
            Param::Int => "int",
            Param::StrSlice => "[]string",
        }
    }
}

pub(crate) struct Sig {
    pub params: &'static [Param],
    pub variadic: Option<Param>,
}

impl Sig {
    pub(crate) fn param(&self, i: usize) -> Param {
        self.params
            .get(i)
            .copied()
            .or(self.variadic)
            .unwrap_or(Param::Any)
    }
}

use Param::*;

pub(crate) fn lookup(name: &str) -> Option<Sig> {
    let sig = |params: &'static [Param], variadic: Option<Param>| Some(Sig { params, variadic });
    match name {
        "and" | "or" | "call" | "index" | "slice" | "eq" => sig(&[Value], Some(Value)),
        "not" | "len" => sig(&[Value], None),
        "ne" | "lt" | "le" | "gt" | "ge" => sig(&[Value, Value], None),
        "html" | "js" | "urlquery" | "print" | "println" => sig(&[], Some(Any)),
        "printf" => sig(&[Str], Some(Any)),
        "join" => sig(&[StrSlice, Str], None),
        "json" => sig(&[Any], None),
        "lower" | "upper" | "title" => sig(&[Str], None),
        "pad" => sig(&[Str, Int, Int], None),
        "split" => sig(&[Str, Str], None),
        "truncate" => sig(&[Str, Int], None),
        _ => None,
    }
}

pub(crate) fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

fn fargs<'a>(args: &'a [Val<'_>]) -> Vec<FArg<'a>> {
    args.iter().map(FArg::from_val).collect()
}

fn s_arg<'a>(args: &'a [Val<'_>], i: usize) -> &'a str {
    args.get(i).and_then(|v| v.as_str()).unwrap_or("")
}

fn i_arg(args: &[Val<'_>], i: usize) -> i128 {
    args.get(i).and_then(|v| v.as_int()).unwrap_or(0)
}

/// Calls builtin `name` on converted arguments; the error is the text Go's
/// function would return (the caller adds "error calling NAME: ").
pub(crate) fn call<'d>(name: &str, args: Vec<Val<'d>>) -> Result<Val<'d>, String> {
    match name {
        "not" => Ok(Val::bool(!args[0].truth())),
        "len" => length(&args[0]).map(|n| Val::int(n as i64)),
        "index" => index(&args[0], &args[1..]),
        "slice" => slice(&args[0], &args[1..]),
        "eq" => eq(&args[0], &args[1..]).map(Val::bool),
        "ne" => eq(&args[0], &args[1..]).map(|b| Val::bool(!b)),
        "lt" => lt(&args[0], &args[1]).map(Val::bool),
        "le" => le(&args[0], &args[1]).map(Val::bool),
        "gt" => le(&args[0], &args[1]).map(|b| Val::bool(!b)),
        "ge" => lt(&args[0], &args[1]).map(|b| Val::bool(!b)),
        "print" => Ok(Val::str(sprint(&fargs(&args)))),
        "println" => Ok(Val::str(sprintln(&fargs(&args)))),
        "printf" => Ok(Val::str(sprintf(s_arg(&args, 0), &fargs(&args[1..])))),
        "html" => Ok(Val::str(html_escape(&eval_args(&args)))),
        "js" => Ok(Val::str(js_escape(&eval_args(&args)))),
        "urlquery" => Ok(Val::str(query_escape(&eval_args(&args)))),
        "json" => Ok(Val::str(json(&args[0]))),
        "join" => {
            let items: Vec<&str> = args[0]
                .json()
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Ok(Val::str(items.join(s_arg(&args, 1))))
        }
        "lower" => Ok(Val::str(map_chars(s_arg(&args, 0), false))),
        "upper" => Ok(Val::str(map_chars(s_arg(&args, 0), true))),
        "title" => Ok(Val::str(title(s_arg(&args, 0)))),
        "split" => Ok(Val::own(Value::Array(
            split(s_arg(&args, 0), s_arg(&args, 1))
                .into_iter()
                .map(Value::String)
                .collect(),
        ))),
        "truncate" => truncate(s_arg(&args, 0), i_arg(&args, 1)).map(Val::str),
        "pad" => pad(s_arg(&args, 0), i_arg(&args, 1), i_arg(&args, 2)).map(Val::str),
        _ => Err(format!("{name} is not a defined function")),
    }
}

fn length(v: &Val<'_>) -> Result<usize, String> {
    match v {
        Val::Missing => Err("len of nil pointer".into()),
        Val::Empty => Ok(0),
        _ => match v.json() {
            // A nil slice or map reaches us as null; Go's len of those is 0.
            Some(Value::Null) => Ok(0),
            Some(Value::String(s)) => Ok(s.len()),
            Some(Value::Array(a)) => Ok(a.len()),
            Some(Value::Object(m)) => Ok(m.len()),
            _ => Err(format!("len of type {}", v.type_name())),
        },
    }
}

/// Go's `indexArg`: an integer index in [0, cap].
fn index_arg(idx: &Val<'_>, cap: usize) -> Result<usize, String> {
    let x = match idx {
        Val::Missing => return Err("cannot index slice/array with nil".into()),
        _ => match idx.json() {
            Some(Value::Null) => return Err("cannot index slice/array with nil".into()),
            _ => idx
                .as_int()
                .ok_or_else(|| format!("cannot index slice/array with type {}", idx.type_name()))?,
        },
    };
    if x < 0 || x > cap as i128 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index<'d>(item: &Val<'d>, indexes: &[Val<'d>]) -> Result<Val<'d>, String> {
    if item.is_missing() {
        return Err("index of untyped nil".into());
    }
    let mut item = item.clone();
    for idx in indexes {
        item = match item.json() {
            // Indexing a nil map yields the zero value in Go; JSON turns nil
            // maps into null, so `index .Labels "x"` keeps working.
            None | Some(Value::Null) => Val::Empty,
            Some(Value::Array(a)) => {
                let len = a.len();
                let i = index_arg(idx, len)?;
                if i == len {
                    return Err(format!("index out of range: {i}"));
                }
                item.elem(i).unwrap_or(Val::Missing)
            }
            Some(Value::String(s)) => {
                let len = s.len();
                let i = index_arg(idx, len)?;
                if i == len {
                    return Err(format!("index out of range: {i}"));
                }
                Val::int(i64::from(s.as_bytes()[i]))
            }
            Some(Value::Object(_)) => match idx.as_str() {
                // A missing key yields the element type's zero value in Go;
                // podman's maps are mostly map[string]string, hence "".
                Some(k) => item.key(k).unwrap_or(Val::Empty),
                None if idx.is_missing() || matches!(idx.json(), Some(Value::Null)) => {
                    return Err("value is nil; should be of type string".into())
                }
                None => {
                    return Err(format!(
                        "value has type {}; should be string",
                        idx.type_name()
                    ))
                }
            },
            Some(_) => return Err(format!("can't index item of type {}", item.type_name())),
        };
    }
    Ok(item)
}

fn slice<'d>(item: &Val<'d>, indexes: &[Val<'d>]) -> Result<Val<'d>, String> {
    if item.is_missing() {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let empty = Value::Array(Vec::new());
    let v = match item.json() {
        None | Some(Value::Null) => &empty,
        Some(v) => v,
    };
    let len = match v {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::Array(a) => a.len(),
        _ => return Err(format!("can't slice item of type {}", item.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match v {
        Value::String(s) => Val::str(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]])),
        Value::Array(a) => Val::own(Value::Array(a[idx[0]..idx[1]].to_vec())),
        _ => Val::Missing,
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Bool,
    Number,
    String,
}

fn basic_kind(v: &Val<'_>) -> Option<Kind> {
    match v {
        Val::Empty => Some(Kind::String),
        _ => match v.json()? {
            Value::Bool(_) => Some(Kind::Bool),
            Value::Number(_) => Some(Kind::Number),
            Value::String(_) => Some(Kind::String),
            _ => None,
        },
    }
}

fn is_nil(v: &Val<'_>) -> bool {
    matches!(v, Val::Missing) || matches!(v.json(), Some(Value::Null))
}

fn num_cmp(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    // Integers compare exactly; a float on either side compares as floats,
    // because JSON may have turned an integral Go float64 into an integer.
    match (a.as_int(), b.as_int()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => {
            let x = a.json()?.as_f64()?;
            let y = b.json()?.as_f64()?;
            x.partial_cmp(&y)
        }
    }
}

fn eq(a: &Val<'_>, rest: &[Val<'_>]) -> Result<bool, String> {
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in rest {
        let k2 = basic_kind(b);
        let truth = match (k1, k2) {
            (Some(x), Some(y)) if x != y => return Err("incompatible types for comparison".into()),
            (Some(Kind::Number), Some(_)) => num_cmp(a, b) == Some(Ordering::Equal),
            (Some(Kind::Bool), Some(_)) => a.truth() == b.truth(),
            (Some(_), Some(_)) => a.as_str() == b.as_str(),
            (Some(_), None) | (None, Some(_)) => {
                if !is_nil(a) && !is_nil(b) {
                    return Err("incompatible types for comparison".into());
                }
                false
            }
            (None, None) => {
                if is_nil(a) || is_nil(b) {
                    is_nil(a) && is_nil(b)
                } else {
                    let shown = sprint(&[FArg::from_val(b)]);
                    return Err(format!("non-comparable type {shown}: {}", b.type_name()));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    const BAD_TYPE: &str = "invalid type for comparison";
    let k1 = basic_kind(a).ok_or(BAD_TYPE)?;
    let k2 = basic_kind(b).ok_or(BAD_TYPE)?;
    if k1 != k2 {
        return Err("incompatible types for comparison".into());
    }
    match k1 {
        Kind::Bool => Err(BAD_TYPE.into()),
        Kind::Number => Ok(num_cmp(a, b) == Some(Ordering::Less)),
        Kind::String => Ok(a.as_str() < b.as_str()),
    }
}

fn le(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// Go's `evalArgs` for html/js/urlquery: a lone string as is, else Sprint
/// of the operands, where nil operands print as `<no value>` (Go runs them
/// through `printableValue` first, unlike `print`).
fn eval_args(args: &[Val<'_>]) -> String {
    if let [v] = args {
        if let Some(s) = v.as_str() {
            return s.to_string();
        }
    }
    let operands: Vec<FArg<'_>> = args
        .iter()
        .map(|v| match FArg::from_val(v) {
            FArg::Nil => FArg::Str("<no value>"),
            f => f,
        })
        .collect();
    sprint(&operands)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if c.is_ascii() || is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// podman encodes with `SetEscapeHTML(false)` and trims the trailing newline.
fn json(v: &Val<'_>) -> String {
    match v {
        Val::Empty => "\"\"".to_string(),
        _ => match v.json() {
            Some(j) => to_go_json(j, false, None),
            None => "null".to_string(),
        },
    }
}

/// Go's one-to-one case mapping: unlike Rust's `to_uppercase`, `ß` stays
/// `ß` and no character expands into several.
fn map_chars(s: &str, upper: bool) -> String {
    s.chars().map(|c| map_char(c, upper)).collect()
}

fn map_char(c: char, upper: bool) -> char {
    if c.is_ascii() {
        return if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        };
    }
    if !upper && c == '\u{130}' {
        return 'i';
    }
    let mut it: Box<dyn Iterator<Item = char>> = if upper {
        Box::new(c.to_uppercase())
    } else {
        Box::new(c.to_lowercase())
    };
    match (it.next(), it.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}

/// Go's deprecated `strings.Title`: upper-cases letters that follow a
/// separator (anything but letters, digits, underscore and non-space
/// symbols outside ASCII).
fn title(s: &str) -> String {
    let is_sep = |r: char| {
        if r.is_ascii() {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if r.is_alphanumeric() {
            return false;
        }
        r.is_whitespace()
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_sep(prev) { map_char(c, true) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// Go's `strings.Split`: an empty separator splits into characters.
fn split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return s.chars().map(String::from).collect();
    }
    s.split(sep).map(str::to_string).collect()
}

/// podman's `truncate`: byte-based like the Go original.
fn truncate(s: &str, n: i128) -> Result<String, String> {
    if (s.len() as i128) < n {
        return Ok(s.to_string());
    }
    if n < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{n}]"));
    }
    Ok(String::from_utf8_lossy(&s.as_bytes()[..n as usize]).into_owned())
}

/// podman's `pad`: `prefix` spaces before and `suffix` after a non-empty string.
fn pad(s: &str, prefix: i128, suffix: i128) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if prefix < 0 || suffix < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let (p, q) = (prefix.min(1 << 20) as usize, suffix.min(1 << 20) as usize);
    Ok(format!("{}{s}{}", " ".repeat(p), " ".repeat(q)))
}

/// Go's `strings.ToUpper`.
pub(crate) fn to_upper(s: &str) -> String {
    map_chars(s, true)
}
