//! YAML as podman prints it (`podman info`): the JSON document re-encoded by Go's yaml.v2,
//! which sorts mapping keys, indents by two spaces with sequences at their key's level, and
//! quotes a string only when a plain scalar would be read back as something else — double
//! quotes when it would resolve to another type, single quotes when it contains characters a
//! plain scalar cannot hold, a literal block (`|-`) when it spans lines.

use std::cmp::Ordering;

use serde_json::Value;

pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => mapping(v, 0, &mut out),
        Value::Array(a) if !a.is_empty() => sequence(v, 0, &mut out),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

/// yaml.v2's key order: rune by rune; letters by code point; a non-letter sorts before a
/// letter; runs of digits compare as numbers; a prefix sorts first.
fn key_order(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let num = |r: &[char], from: usize| {
            let mut n: u128 = 0;
            let mut end = from;
            while end < r.len() && r[end].is_ascii_digit() {
                n = n
                    .saturating_mul(10)
                    .saturating_add(r[end] as u128 - '0' as u128);
                end += 1;
            }
            (n, end)
        };
        let (an, ae) = num(&ar, i);
        let (bn, be) = num(&br, i);
        if an != bn {
            return an.cmp(&bn);
        }
        if ae != be {
            return ae.cmp(&be);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

fn sorted(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| key_order(a.0, b.0));
    v
}

fn mapping(v: &Value, indent: usize, out: &mut String) {
    let Value::Object(m) = v else { return };
    for (k, val) in sorted(m) {
        out.push_str(&" ".repeat(indent));
        entry(k, val, indent, out);
    }
}

/// `key: value` where the key's column is `indent` and the caller already wrote the
/// indentation (or a "- " in front of it).
fn entry(k: &str, val: &Value, indent: usize, out: &mut String) {
    out.push_str(&string(k, indent));
    out.push(':');
    match val {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            mapping(val, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            sequence(val, indent, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent + 2));
            out.push('\n');
        }
    }
}

fn sequence(v: &Value, indent: usize, out: &mut String) {
    let Value::Array(a) = v else { return };
    for item in a {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => {
                for (n, (k, val)) in sorted(m).into_iter().enumerate() {
                    if n > 0 {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    entry(k, val, indent + 2, out);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                // yaml.v2 puts a nested sequence's first item on the dash line.
                let mut nested = String::new();
                sequence(item, indent + 2, &mut nested);
                out.push_str(nested.trim_start());
            }
            other => {
                out.push_str(&scalar(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, indent),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Would a plain scalar with this text be read as something other than a string?
fn resolves_to_non_string(s: &str) -> bool {
    const BOOLS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if s.is_empty() || matches!(s, "~" | "null" | "Null" | "NULL") || BOOLS.contains(&s) {
        return true;
    }
    if matches!(
        s,
        ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
    ) {
        return true;
    }
    let plain = s.replace('_', "");
    let body = plain.trim_start_matches(['-', '+']);
    if !body.is_empty() && body.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    if let Some(hex) = body.strip_prefix("0x") {
        if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return true;
        }
    }
    if let Some(bin) = body.strip_prefix("0b") {
        if !bin.is_empty() && bin.chars().all(|c| c == '0' || c == '1') {
            return true;
        }
    }
    if body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body.parse::<f64>().is_ok()
        && !body.ends_with('.')
        && body.chars().any(|c| c.is_ascii_digit())
    {
        return true;
    }
    // Sexagesimal numbers ("1:20") are floats in YAML 1.1.
    let mut parts = body.split(':');
    if body.contains(':')
        && parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts.all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
    {
        return true;
    }
    false
}

/// Can this text be written as a plain scalar in block context (libyaml's analysis)?
fn plain_allowed(s: &str) -> bool {
    let first = match s.chars().next() {
        Some(c) => c,
        None => return false,
    };
    let second = s.chars().nth(1);
    let indicator_start = matches!(
        first,
        '#' | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) || (matches!(first, '-' | '?' | ':')
        && second.is_none_or(|c| c == ' '));
    if indicator_start
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.contains(": ")
        || s.ends_with(':')
        || s.contains(" #")
        || s.starts_with("---")
        || s.starts_with("...")
    {
        return false;
    }
    s.chars()
        .all(|c| !c.is_control() && c != '\u{feff}' && (c.is_ascii() || !c.is_whitespace()))
}

fn string(s: &str, indent: usize) -> String {
    if s.contains('\n') && !s.chars().any(|c| c.is_control() && c != '\n') {
        // Literal block: "|-" strips the final line break, "|" keeps exactly one.
        let (body, chomp) = match s.strip_suffix('\n') {
            Some(b) if !b.ends_with('\n') => (b, ""),
            Some(_) => (s, "+"),
            None => (s, "-"),
        };
        let pad = " ".repeat(indent.max(2));
        let mut out = format!("|{chomp}");
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
                out.push_str(line);
            }
        }
        return out;
    }
    if resolves_to_non_string(s) {
        return double_quoted(s);
    }
    if plain_allowed(s) {
        return s.to_string();
    }
    if s.chars().any(|c| c.is_control()) {
        return double_quoted(s);
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_keys_and_sequences() {
        let v = json!({"version": {"Version": "4.3.1", "OsArch": "linux/amd64", "Os": "linux",
                        "Built": 0, "APIVersion": "4.3.1"},
                       "host": {"list": ["a", "b"], "empty": [], "arch": "amd64", "n": 3}});
        assert_eq!(
            to_yaml(&v),
            "host:\n  arch: amd64\n  empty: []\n  list:\n  - a\n  - b\n  \"n\": 3\nversion:\n  APIVersion: 4.3.1\n  Built: 0\n  Os: linux\n  OsArch: linux/amd64\n  Version: 4.3.1\n"
        );
    }

    #[test]
    fn key_order_like_yaml_v2() {
        let mut keys = vec!["b10", "b9", "B", "a", "_x", "Built", "BuiltTime", "a1"];
        keys.sort_by(|a, b| key_order(a, b));
        // Non-letters sort before letters; letters by code point (upper case first).
        assert_eq!(
            keys,
            ["_x", "B", "Built", "BuiltTime", "a", "a1", "b9", "b10"]
        );
    }

    #[test]
    fn scalar_styles() {
        assert_eq!(string("", 2), "\"\"");
        assert_eq!(string("true", 2), "\"true\"");
        assert_eq!(string("no", 2), "\"no\"");
        assert_eq!(string("1.5", 2), "\"1.5\"");
        assert_eq!(string("42", 2), "\"42\"");
        assert_eq!(string("1:20", 2), "\"1:20\"");
        assert_eq!(string("4.3.1", 2), "4.3.1");
        assert_eq!(string("0h 40m 53.00s", 2), "0h 40m 53.00s");
        assert_eq!(
            string("conmon version 2.1.6, commit: unknown", 2),
            "'conmon version 2.1.6, commit: unknown'"
        );
        assert_eq!(string("/usr/bin/conmon", 2), "/usr/bin/conmon");
        assert_eq!(string("-x", 2), "-x");
        assert_eq!(string("- x", 2), "'- x'");
        assert_eq!(string("it's: x", 2), "'it''s: x'");
        assert_eq!(string("a\nb", 4), "|-\n    a\n    b");
        assert_eq!(string("a\nb\n", 4), "|\n    a\n    b");
    }

    #[test]
    fn sequences_of_mappings() {
        let v = json!({"objs": [{"z": 1, "a": "x"}], "nested": [["a"]]});
        assert_eq!(to_yaml(&v), "nested:\n- - a\nobjs:\n- a: x\n  z: 1\n");
    }
}
