//! The value model templates execute over.
//!
//! Go's executor works on `reflect.Value`s, which distinguish an *invalid*
//! value (a missing map key, printed as `<no value>`) from a typed zero value.
//! JSON loses the Go types, so [`Val`] keeps just enough of that distinction:
//! `Missing` plays the invalid value, `Empty` a zero value of unknown type
//! (what Go yields for e.g. a missing key of a `map[string]string`).

use serde_json::{Map, Value};
use std::rc::Rc;

#[derive(Clone, Debug)]
pub(crate) enum Val<'d> {
    /// Go's invalid `reflect.Value`: prints `<no value>`, is false.
    Missing,
    /// A zero value of unknown type: prints as the empty string, is false.
    Empty,
    /// A value borrowed from the data the template executes over.
    Ref(&'d Value),
    /// A value computed during execution (constants, function results).
    Own(Rc<Value>),
}

impl<'d> Val<'d> {
    pub(crate) fn own(v: Value) -> Self {
        Val::Own(Rc::new(v))
    }

    pub(crate) fn str(s: impl Into<String>) -> Self {
        Val::own(Value::String(s.into()))
    }

    pub(crate) fn int(i: i64) -> Self {
        Val::own(Value::from(i))
    }

    pub(crate) fn bool(b: bool) -> Self {
        Val::own(Value::Bool(b))
    }

    pub(crate) fn json(&self) -> Option<&Value> {
        match self {
            Val::Ref(v) => Some(v),
            Val::Own(v) => Some(v),
            Val::Missing | Val::Empty => None,
        }
    }

    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Val::Missing)
    }

    /// Go's `isTrue`: empty collections, zero numbers, false and nil are false.
    pub(crate) fn truth(&self) -> bool {
        match self.json() {
            None => false,
            Some(v) => json_truth(v),
        }
    }

    /// The Go type name used in error messages, as podman would report it
    /// for data decoded into `interface{}`.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Missing => "<nil>",
            Val::Empty => "string",
            _ => json_type_name(self.json().unwrap_or(&Value::Null)),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Empty => Some(""),
            _ => self.json().and_then(Value::as_str),
        }
    }

    pub(crate) fn as_int(&self) -> Option<i128> {
        self.json().and_then(json_int)
    }

    pub(crate) fn is_object(&self) -> bool {
        matches!(self.json(), Some(Value::Object(_)))
    }

    /// Looks a field up: exact key first, then ASCII case-insensitively.
    pub(crate) fn field(&self, name: &str) -> Option<Val<'d>> {
        match self {
            Val::Ref(v) => {
                let v: &'d Value = v;
                lookup_field(v.as_object()?, name).map(Val::Ref)
            }
            Val::Own(v) => lookup_field(v.as_object()?, name).map(|c| Val::own(c.clone())),
            _ => None,
        }
    }

    /// Exact-key lookup, as Go's `index` does on maps.
    pub(crate) fn key(&self, name: &str) -> Option<Val<'d>> {
        match self {
            Val::Ref(v) => {
                let v: &'d Value = v;
                v.as_object()?.get(name).map(Val::Ref)
            }
            Val::Own(v) => v.as_object()?.get(name).map(|c| Val::own(c.clone())),
            _ => None,
        }
    }

    pub(crate) fn elem(&self, i: usize) -> Option<Val<'d>> {
        match self {
            Val::Ref(v) => {
                let v: &'d Value = v;
                v.as_array()?.get(i).map(Val::Ref)
            }
            Val::Own(v) => v.as_array()?.get(i).map(|c| Val::own(c.clone())),
            _ => None,
        }
    }

    /// Array elements as (index, element) pairs.
    pub(crate) fn array_items(&self) -> Vec<(Val<'d>, Val<'d>)> {
        match self {
            Val::Ref(Value::Array(a)) => {
                let a: &'d Vec<Value> = a;
                a.iter()
                    .enumerate()
                    .map(|(i, e)| (Val::int(i as i64), Val::Ref(e)))
                    .collect()
            }
            Val::Own(v) => match &**v {
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (Val::int(i as i64), Val::own(e.clone())))
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Object entries in sorted key order, the order Go ranges over maps.
    pub(crate) fn sorted_entries(&self) -> Vec<(Val<'d>, Val<'d>)> {
        match self {
            Val::Ref(Value::Object(m)) => {
                let m: &'d Map<String, Value> = m;
                sorted_keys(m)
                    .into_iter()
                    .map(|k| (Val::str(k.as_str()), Val::Ref(&m[k.as_str()])))
                    .collect()
            }
            Val::Own(v) => match &**v {
                Value::Object(m) => sorted_keys(m)
                    .into_iter()
                    .map(|k| (Val::str(k.as_str()), Val::own(m[k.as_str()].clone())))
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

fn lookup_field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    // podman's users write `.ID` while the API may spell the key `Id` (and
    // vice versa); Go would only see the struct field, so an exact match must
    // win and the case-insensitive match is a fallback, never a competitor.
    m.get(name).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

pub(crate) fn sorted_keys(m: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys
}

pub(crate) fn json_truth(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

pub(crate) fn json_int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    }
}

pub(crate) fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}
