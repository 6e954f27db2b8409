//! Template execution, following Go's text/template `exec.go` semantics.

use super::funcs::{self, Param, Sig};
use super::gofmt::print_val;
use super::parse::{Arg, Branch, Command, List, Node, Number, Pipe, TemplateCall};
use super::report::default_header;
use super::template::{Template, TemplateError};
use super::value::Val;
use serde_json::Value;

/// Bound on nested execution (lists, parenthesised pipelines and template
/// calls together) so recursive templates fail instead of overflowing the
/// stack. Go's own limit (100000) assumes growable goroutine stacks.
pub(crate) const MAX_EXEC_DEPTH: usize = 200;

// Errors are boxed so that the many `Result`s alive in each recursive
// frame stay small; deep templates then need far less stack.
type Error = Box<TemplateError>;
type R<T> = Result<T, Error>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The node an error is reported at (Go's `state.at`).
#[derive(Clone, Copy)]
enum At<'t> {
    Arg(&'t Arg),
    Cmd(&'t Command),
    Pipe(&'t Pipe),
    Node(&'t Node),
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::Arg(a) => a.pos(),
            At::Cmd(c) => c.pos,
            At::Pipe(p) => p.pos,
            At::Node(n) => n.pos(),
        }
    }

    fn describe(&self) -> String {
        match self {
            At::Arg(a) => a.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Node(n) => n.to_string(),
        }
    }
}

struct State<'t, 'd, 'o> {
    tmpl: &'t Template,
    name: &'t str,
    out: &'o mut String,
    vars: Vec<(&'t str, Val<'d>)>,
    at: Option<At<'t>>,
    depth: usize,
    header: bool,
}

pub(crate) fn execute(
    tmpl: &Template,
    data: &Value,
    out: &mut String,
    header: bool,
) -> Result<(), TemplateError> {
    // Parsing always registers the top-level tree; an absent one renders nothing.
    static EMPTY: List = Vec::new();
    let root = tmpl.trees.get(&tmpl.name).unwrap_or(&EMPTY);
    let dot = Val::Ref(data);
    let mut s = State {
        tmpl,
        name: &tmpl.name,
        out,
        vars: vec![("$", dot.clone())],
        at: None,
        depth: 0,
        header,
    };
    s.walk_list(&dot, root).map(|_| ()).map_err(|e| *e)
}

impl<'t, 'd> State<'t, 'd, '_> {
    fn errorf(&self, message: impl Into<String>) -> Error {
        let (location, context) = match self.at {
            Some(at) => {
                let (line, col) = self.tmpl.location(at.pos());
                let mut context = at.describe();
                // Go's ErrorContext shortens long node texts to 20 runes.
                if context.chars().count() > 20 {
                    context = context.chars().take(20).collect::<String>() + "...";
                }
                (format!("{}:{line}:{col}", self.tmpl.name), context)
            }
            None => (self.tmpl.name.clone(), String::new()),
        };
        Box::new(TemplateError::Exec {
            location,
            name: self.name.to_string(),
            context,
            message: message.into(),
        })
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn walk_list(&mut self, dot: &Val<'d>, list: &'t List) -> R<Flow> {
        for node in list {
            match self.walk(dot, node) {
                Ok(Flow::Normal) => {}
                Ok(flow) => return Ok(flow),
                // Headers are rendered from a synthetic row of strings where
                // data-shaped expressions (ranges over fields, index, ...)
                // can fail; such a cell is left empty instead of failing.
                Err(_) if self.header => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val<'d>, node: &'t Node) -> R<Flow> {
        match node {
            Node::Text(t) => {
                self.out.push_str(t);
                Ok(Flow::Normal)
            }
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.out.push_str(&print_val(&v));
                }
                Ok(Flow::Normal)
            }
            Node::If(b) => self.walk_if_or_with(false, dot, b),
            Node::With(b) => self.walk_if_or_with(true, dot, b),
            Node::Range(b) => self.walk_range(dot, node, b),
            Node::Template(t) => self.walk_template(dot, node, t),
            Node::Break(_) => Ok(Flow::Break),
            Node::Continue(_) => Ok(Flow::Continue),
        }
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Val<'d>, b: &'t Branch) -> R<Flow> {
        let mark = self.vars.len();
        let r = self.nested(|s| {
            let val = s.eval_pipeline(dot, &b.pipe)?;
            if val.truth() {
                if with {
                    s.walk_list(&val, &b.list)
                } else {
                    s.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                s.walk_list(dot, e)
            } else {
                Ok(Flow::Normal)
            }
        });
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Val<'d>, node: &'t Node, b: &'t Branch) -> R<Flow> {
        self.at = Some(At::Node(node));
        let mark0 = self.vars.len();
        let r = self.nested(|s| s.range_body(dot, b));
        self.vars.truncate(mark0);
        r
    }

    fn range_body(&mut self, dot: &Val<'d>, b: &'t Branch) -> R<Flow> {
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mark = self.vars.len();
        let items = match val.json() {
            // A nil slice or map arrives as null; Go ranges over those zero times.
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(_)) => val.array_items(),
            Some(Value::Object(_)) => val.sorted_entries(),
            Some(Value::Number(_)) if val.as_int().is_some() => {
                let n = val.as_int().unwrap_or(0);
                if b.pipe.decl.len() > 1 {
                    return Err(self.errorf(format!(
                        "can't use {n} to iterate over more than one variable"
                    )));
                }
                // Counted lazily: `range N` must not allocate N elements.
                let mut i = 0;
                while i < n {
                    let v = Val::int(i as i64);
                    if self.range_iteration(b, mark, v.clone(), v)? == Flow::Break {
                        break;
                    }
                    i += 1;
                }
                if n > 0 {
                    return Ok(Flow::Normal);
                }
                Vec::new()
            }
            Some(_) => {
                return Err(self.errorf(format!("range can't iterate over {}", print_val(&val))))
            }
        };
        if items.is_empty() {
            return match &b.else_list {
                Some(e) => self.walk_list(dot, e),
                None => Ok(Flow::Normal),
            };
        }
        for (index, elem) in items {
            if self.range_iteration(b, mark, index, elem)? == Flow::Break {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// One pass of a range body; `mark` is the variable stack height with
    /// the range's own variables on top.
    fn range_iteration(
        &mut self,
        b: &'t Branch,
        mark: usize,
        index: Val<'d>,
        elem: Val<'d>,
    ) -> R<Flow> {
        let decl = &b.pipe.decl;
        if let Some(first) = decl.first() {
            if b.pipe.is_assign {
                // With two variables the index comes first.
                if decl.len() > 1 {
                    self.set_var(first, index.clone())?;
                } else {
                    self.set_var(first, elem.clone())?;
                }
            } else if let Some(top) = self.vars.last_mut() {
                top.1 = elem.clone();
            }
        }
        if decl.len() > 1 {
            if b.pipe.is_assign {
                self.set_var(&decl[1], elem.clone())?;
            } else {
                let n = self.vars.len();
                self.vars[n - 2].1 = index;
            }
        }
        let flow = self.walk_list(&elem, &b.list);
        self.vars.truncate(mark);
        flow
    }

    fn walk_template(&mut self, dot: &Val<'d>, node: &'t Node, t: &'t TemplateCall) -> R<Flow> {
        self.at = Some(At::Node(node));
        let Some(tree) = self.tmpl.trees.get(&t.name) else {
            return Err(self.errorf(format!(
                "template {} not defined",
                super::gofmt::quote(&t.name)
            )));
        };
        let new_dot = match &t.pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Val::Missing,
        };
        // Template invocations inherit no variables (no dynamic scoping).
        let vars = std::mem::replace(&mut self.vars, vec![("$", new_dot.clone())]);
        let name = std::mem::replace(&mut self.name, &t.name);
        let r = self.nested(|s| s.walk_list(&new_dot, tree));
        self.vars = vars;
        self.name = name;
        r.map(|_| Flow::Normal)
    }

    fn eval_pipeline(&mut self, dot: &Val<'d>, pipe: &'t Pipe) -> R<Val<'d>> {
        self.at = Some(At::Pipe(pipe));
        let mut value: Option<Val<'d>> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Val::Missing);
        for d in &pipe.decl {
            if pipe.is_assign {
                self.set_var(d, value.clone())?;
            } else {
                self.vars.push((d.as_str(), value.clone()));
            }
        }
        Ok(value)
    }

    fn set_var(&mut self, name: &str, value: Val<'d>) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, name: &str) -> R<Val<'d>> {
        match self.vars.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn not_a_function(&self, args: &'t [Arg], final_: &Option<Val<'d>>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            let what = args.first().map(|a| a.to_string()).unwrap_or_default();
            return Err(self.errorf(format!("can't give argument to non-function {what}")));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Val<'d>,
        cmd: &'t Command,
        final_: Option<Val<'d>>,
    ) -> R<Val<'d>> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { .. } => return self.eval_field_node(dot, first, &cmd.args, final_),
            Arg::Chain { .. } => return self.eval_chain_node(dot, first, &cmd.args, final_),
            Arg::Ident { name, .. } => {
                return self.eval_function(dot, first, name, At::Cmd(cmd), &cmd.args, final_)
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.nested(|s| s.eval_pipeline(dot, p));
            }
            Arg::Variable { .. } => return self.eval_variable_node(dot, first, &cmd.args, final_),
            _ => {}
        }
        self.at = Some(At::Arg(first));
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool(_, b) => Ok(Val::bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.errorf("nil is not a command")),
            Arg::Number(n) => self.ideal_constant(n),
            Arg::Str { text, .. } => Ok(Val::str(text.as_str())),
            _ => Err(self.errorf(format!("can't evaluate command {}", first))),
        }
    }

    /// Go's untyped constants: integers become `int`, anything written
    /// with a fraction or exponent `float64`.
    fn ideal_constant(&self, n: &Number) -> R<Val<'d>> {
        let t = &n.text;
        let hex_int = t.len() > 2
            && t.starts_with('0')
            && matches!(t.as_bytes()[1], b'x' | b'X')
            && !t.contains(['p', 'P']);
        let rune = t.starts_with('\'');
        if n.is_float && !hex_int && !rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(serde_json::Number::from_f64(n.float)
                .map(|x| Val::own(Value::Number(x)))
                .unwrap_or(Val::Missing));
        }
        if n.is_int {
            return Ok(Val::int(n.int));
        }
        Err(self.errorf(format!("{t} overflows int")))
    }

    fn eval_field_node(
        &mut self,
        dot: &Val<'d>,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Val<'d>>,
    ) -> R<Val<'d>> {
        self.at = Some(At::Arg(node));
        let Arg::Field { idents, .. } = node else {
            return Ok(Val::Missing);
        };
        self.eval_field_chain(dot, dot.clone(), node, idents, args, final_)
    }

    fn eval_chain_node(
        &mut self,
        dot: &Val<'d>,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Val<'d>>,
    ) -> R<Val<'d>> {
        self.at = Some(At::Arg(node));
        let Arg::Chain {
            node: inner,
            fields,
            ..
        } = node
        else {
            return Ok(Val::Missing);
        };
        if let Arg::Nil(_) = **inner {
            return Err(self.errorf(format!("indirection through explicit nil in {node}")));
        }
        let recv = self.eval_arg(dot, Param::Value, inner)?;
        self.eval_field_chain(dot, recv, node, fields, args, final_)
    }

    fn eval_variable_node(
        &mut self,
        dot: &Val<'d>,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Val<'d>>,
    ) -> R<Val<'d>> {
        self.at = Some(At::Arg(node));
        let Arg::Variable { idents, .. } = node else {
            return Ok(Val::Missing);
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, node, &idents[1..], args, final_)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val<'d>,
        receiver: Val<'d>,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        final_: Option<Val<'d>>,
    ) -> R<Val<'d>> {
        let Some((last, init)) = idents.split_last() else {
            return Ok(receiver);
        };
        let mut r = receiver;
        for id in init {
            r = self.eval_field(dot, id, node, &[], None, r)?;
        }
        self.eval_field(dot, last, node, args, final_, r)
    }

    fn eval_field(
        &mut self,
        dot: &Val<'d>,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Val<'d>>,
        receiver: Val<'d>,
    ) -> R<Val<'d>> {
        let has_args = args.len() > 1 || final_.is_some();
        let Some(json) = receiver.json() else {
            // Fields of a missing value are missing (Go returns the zero
            // reflect.Value); fields of an unknown zero value stay empty.
            return Ok(receiver);
        };
        match json {
            // JSON null stands for Go's nil pointers, slices and maps; podman
            // users expect `.State.Health.Status` to print nothing when
            // Health is absent rather than abort the whole listing.
            Value::Null => Ok(Val::Empty),
            Value::Object(_) => {
                let found = receiver.field(name);
                if self.header {
                    return Ok(found.unwrap_or_else(|| Val::str(default_header(name))));
                }
                if !has_args {
                    return Ok(found.unwrap_or(Val::Missing));
                }
                // Emulates podman methods such as `.Label "key"`: a field
                // holding an object, called with one argument, looks it up.
                let nargs = args.len().saturating_sub(1) + usize::from(final_.is_some());
                if let Some(obj) = found.filter(|f| f.is_object() && nargs == 1) {
                    let key = match final_ {
                        Some(f) => self.validate_type(f, Param::Str)?,
                        None => self.eval_arg(dot, Param::Str, &args[1])?,
                    };
                    self.at = Some(At::Arg(node));
                    return Ok(obj.key(key.as_str().unwrap_or("")).unwrap_or(Val::Empty));
                }
                self.at = Some(At::Arg(node));
                Err(self.errorf(format!("{name} is not a method but has arguments")))
            }
            // The synthetic header row only holds strings; a chain like
            // `.Labels.foo` keeps the header of its first field.
            Value::String(_) if self.header => Ok(receiver),
            _ => {
                self.at = Some(At::Arg(node));
                Err(self.errorf(format!(
                    "can't evaluate field {name} in type {}",
                    receiver.type_name()
                )))
            }
        }
    }

    fn eval_function(
        &mut self,
        dot: &Val<'d>,
        ident: &'t Arg,
        name: &'t str,
        node: At<'t>,
        args: &'t [Arg],
        final_: Option<Val<'d>>,
    ) -> R<Val<'d>> {
        self.at = Some(At::Arg(ident));
        let Some(sig) = funcs::lookup(name) else {
            return Err(self.errorf(format!(
                "{} is not a defined function",
                super::gofmt::quote(name)
            )));
        };
        self.eval_call(dot, &sig, node, name, args, final_)
    }

    fn eval_call(
        &mut self,
        dot: &Val<'d>,
        sig: &Sig,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Val<'d>>,
    ) -> R<Val<'d>> {
        let args = args.get(1..).unwrap_or(&[]);
        let num_in = args.len() + usize::from(final_.is_some());
        let num_fixed = sig.params.len();
        if sig.variadic.is_some() {
            if num_in < num_fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {num_fixed} got {}",
                    args.len()
                )));
            }
        } else if num_in != num_fixed {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {num_fixed} got {num_in}"
            )));
        }
        if name == "and" || name == "or" {
            // Short-circuit: stop at the first false (and) / true (or) value.
            let mut v = Val::Missing;
            for a in args {
                v = self.eval_arg(dot, Param::Value, a)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, sig.param(i), a)?);
        }
        if let Some(f) = final_ {
            let p = sig.param(argv.len());
            argv.push(self.validate_type(f, p)?);
        }
        if name == "call" {
            self.at = Some(node);
            let callee = args.first().map(|a| a.to_string()).unwrap_or_default();
            let msg = if argv[0].is_missing() || matches!(argv[0].json(), Some(Value::Null)) {
                "call of nil".to_string()
            } else {
                format!("non-function {callee} of type {}", argv[0].type_name())
            };
            return Err(self.errorf(format!("error calling call: {msg}")));
        }
        funcs::call(name, argv).map_err(|msg| {
            self.at = Some(node);
            self.errorf(format!("error calling {name}: {msg}"))
        })
    }

    fn eval_arg(&mut self, dot: &Val<'d>, param: Param, node: &'t Arg) -> R<Val<'d>> {
        self.at = Some(At::Arg(node));
        let v = match node {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => {
                return match param {
                    Param::Str | Param::Int => {
                        Err(self.errorf(format!("cannot assign nil to {}", param.go_type())))
                    }
                    _ => Ok(Val::own(Value::Null)),
                }
            }
            Arg::Field { .. } => {
                self.eval_field_node(dot, node, std::slice::from_ref(node), None)?
            }
            Arg::Variable { .. } => self.eval_variable_node(dot, node, &[], None)?,
            Arg::Pipe(p) => self.nested(|s| s.eval_pipeline(dot, p))?,
            Arg::Ident { name, .. } => {
                self.eval_function(dot, node, name, At::Arg(node), &[], None)?
            }
            Arg::Chain { .. } => self.eval_chain_node(dot, node, &[], None)?,
            Arg::Bool(_, b) => match param {
                Param::Any | Param::Value => Val::bool(*b),
                _ => return Err(self.literal_mismatch(param, node)),
            },
            Arg::Number(n) => match param {
                Param::Any | Param::Value => self.ideal_constant(n)?,
                Param::Int if n.is_int => Val::int(n.int),
                _ => return Err(self.literal_mismatch(param, node)),
            },
            Arg::Str { text, .. } => match param {
                Param::Any | Param::Value | Param::Str => Val::str(text.as_str()),
                _ => return Err(self.literal_mismatch(param, node)),
            },
        };
        self.validate_type(v, param)
    }

    fn literal_mismatch(&self, param: Param, node: &Arg) -> Error {
        match param {
            Param::Str => self.errorf(format!("expected string; found {node}")),
            Param::Int => self.errorf(format!("expected integer; found {node}")),
            _ => self.errorf(format!(
                "can't handle {node} for arg of type {}",
                param.go_type()
            )),
        }
    }

    /// Go's `validateType`: converts a computed value to a parameter type.
    fn validate_type(&self, v: Val<'d>, param: Param) -> R<Val<'d>> {
        let wrong = |s: &Self, v: &Val<'_>| {
            s.errorf(format!(
                "wrong type for value; expected {}; got {}",
                param.go_type(),
                v.type_name()
            ))
        };
        match param {
            Param::Value => Ok(v),
            Param::Any => Ok(if v.is_missing() {
                Val::own(Value::Null)
            } else {
                v
            }),
            Param::Str => match &v {
                Val::Missing => Err(self.errorf("invalid value; expected string")),
                Val::Empty => Ok(Val::str("")),
                _ => match v.json() {
                    Some(Value::String(_)) => Ok(v),
                    // Null stands for a nil *string or similar: treat as "".
                    Some(Value::Null) => Ok(Val::str("")),
                    _ => Err(wrong(self, &v)),
                },
            },
            Param::Int => match &v {
                Val::Missing => Err(self.errorf("invalid value; expected int")),
                _ if v.as_int().is_some() => Ok(v),
                _ => Err(wrong(self, &v)),
            },
            Param::StrSlice => match v.json() {
                None | Some(Value::Null) => Ok(Val::own(Value::Array(Vec::new()))),
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => Ok(v),
                _ => Err(wrong(self, &v)),
            },
        }
    }
}
