//! The subset of Go's `fmt` and `strconv` that templates need: `%v`-style
//! printing of values, `Sprint`/`Sprintln`/`Sprintf`, and Go's quoting and
//! float formatting rules (which differ from Rust's in many details).

use super::value::{json_int, sorted_keys, Val};
use serde_json::{Map, Value};

/// An operand as Go's `fmt` sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FArg<'a> {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
    Arr(&'a [Value]),
    Obj(&'a Map<String, Value>),
}

impl<'a> FArg<'a> {
    pub(crate) fn from_json(v: &'a Value) -> Self {
        match v {
            Value::Null => FArg::Nil,
            Value::Bool(b) => FArg::Bool(*b),
            Value::Number(n) => match json_int(v) {
                Some(i) => FArg::Int(i),
                None => FArg::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => FArg::Str(s),
            Value::Array(a) => FArg::Arr(a),
            Value::Object(m) => FArg::Obj(m),
        }
    }

    /// A missing value reaches `fmt` as a nil interface, like in Go.
    pub(crate) fn from_val(v: &'a Val<'_>) -> Self {
        match v {
            Val::Missing => FArg::Nil,
            Val::Empty => FArg::Str(""),
            _ => v.json().map_or(FArg::Nil, FArg::from_json),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            FArg::Nil => "<nil>",
            FArg::Bool(_) => "bool",
            FArg::Int(_) => "int",
            FArg::Float(_) => "float64",
            FArg::Str(_) => "string",
            FArg::Arr(_) => "[]interface {}",
            FArg::Obj(_) => "map[string]interface {}",
        }
    }
}

/// What `{{.X}}` prints: `fmt.Fprint` of the value, or `<no value>`.
pub(crate) fn print_val(v: &Val<'_>) -> String {
    match v {
        Val::Missing => "<no value>".to_string(),
        Val::Empty => String::new(),
        _ => sprint(&[FArg::from_val(v)]),
    }
}

/// `fmt.Sprint`: spaces go between operands when neither is a string.
pub(crate) fn sprint(args: &[FArg<'_>]) -> String {
    let mut p = Printer::default();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, FArg::Str(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.f = Flags::default();
        p.print_arg(a, 'v', 0);
        prev_string = is_string;
    }
    p.buf
}

/// `fmt.Sprintln`: always spaces, then a newline.
pub(crate) fn sprintln(args: &[FArg<'_>]) -> String {
    let mut p = Printer::default();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.f = Flags::default();
        p.print_arg(a, 'v', 0);
    }
    p.buf.push('\n');
    p.buf
}

/// `fmt.Sprintf` with Go's verbs, flags, width, precision, `*` and `[n]`
/// argument indexes, and its `%!verb(type=value)` error annotations.
pub(crate) fn sprintf(format: &str, args: &[FArg<'_>]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

#[derive(Clone, Copy, Default, Debug)]
struct Flags {
    wid: Option<usize>,
    prec: Option<usize>,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    sharp_v: bool,
}

#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
    reordered: bool,
    good_arg_num: bool,
}

const TOO_LARGE: i128 = 1_000_000;

/// Go's `parsenum`: (value, found, next index).
fn parse_num(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num: usize = 0;
    let mut found = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if num as i128 > TOO_LARGE {
            return (0, false, end);
        }
        num = num * 10 + usize::from(s[i] - b'0');
        found = true;
        i += 1;
    }
    (num, found, i)
}

impl Printer {
    fn do_printf(&mut self, format: &str, a: &[FArg<'_>]) {
        let s = format.as_bytes();
        let end = s.len();
        let mut arg_num = 0usize;
        let mut i = 0usize;
        self.reordered = false;
        while i < end {
            self.good_arg_num = true;
            let last = i;
            while i < end && s[i] != b'%' {
                i += 1;
            }
            if i > last {
                self.buf.push_str(&format[last..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.f = Flags::default();
            while i < end {
                match s[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    _ => break,
                }
                i += 1;
            }
            let mut after_index;
            (arg_num, i, after_index) = self.arg_number(arg_num, s, i, a.len());
            if i < end && s[i] == b'*' {
                i += 1;
                let (w, ok, n) = int_from_arg(a, arg_num);
                arg_num = n;
                if !ok {
                    self.buf.push_str("%!(BADWIDTH)");
                }
                match w {
                    Some(w) if w < 0 => {
                        self.f.wid = Some(w.unsigned_abs() as usize);
                        self.f.minus = true;
                    }
                    Some(w) => self.f.wid = Some(w as usize),
                    None => self.f.wid = None,
                }
                after_index = false;
            } else {
                let (w, ok, n) = parse_num(s, i, end);
                i = n;
                if ok {
                    self.f.wid = Some(w);
                    if after_index {
                        self.good_arg_num = false;
                    }
                }
            }
            if i + 1 < end && s[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false;
                }
                (arg_num, i, after_index) = self.arg_number(arg_num, s, i, a.len());
                if i < end && s[i] == b'*' {
                    i += 1;
                    let (pr, _, n) = int_from_arg(a, arg_num);
                    arg_num = n;
                    // A negative precision is reported like a missing one.
                    self.f.prec = pr.filter(|p| *p >= 0).map(|p| p as usize);
                    if self.f.prec.is_none() {
                        self.buf.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (pr, ok, n) = parse_num(s, i, end);
                    i = n;
                    self.f.prec = Some(if ok { pr } else { 0 });
                }
            }
            if !after_index {
                (arg_num, i, _) = self.arg_number(arg_num, s, i, a.len());
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('?');
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
                continue;
            }
            if !self.good_arg_num {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
                continue;
            }
            if arg_num >= a.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
                continue;
            }
            if verb == 'v' {
                self.f.sharp_v = self.f.sharp;
                self.f.sharp = false;
                self.f.plus = false;
            }
            self.print_arg(&a[arg_num], verb, 0);
            arg_num += 1;
        }
        if !self.reordered && arg_num < a.len() {
            self.f = Flags::default();
            self.buf.push_str("%!(EXTRA ");
            for (k, arg) in a[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if let FArg::Nil = arg {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(arg.type_name());
                    self.buf.push('=');
                    self.print_arg(arg, 'v', 0);
                }
            }
            self.buf.push(')');
        }
    }

    fn arg_number(
        &mut self,
        arg_num: usize,
        s: &[u8],
        i: usize,
        num_args: usize,
    ) -> (usize, usize, bool) {
        if s.len() <= i || s[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(&s[i..]);
        if ok && index >= 1 && index - 1 < num_args {
            return (index - 1, i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero && !self.f.minus {
            '0'
        } else {
            ' '
        };
        self.buf.extend(std::iter::repeat_n(c, n));
    }

    fn pad(&mut self, s: &str) {
        match self.f.wid {
            None | Some(0) => self.buf.push_str(s),
            Some(w) => {
                let n = w.saturating_sub(s.chars().count());
                if self.f.minus {
                    self.buf.push_str(s);
                    self.write_padding(n);
                } else {
                    self.write_padding(n);
                    self.buf.push_str(s);
                }
            }
        }
    }

    /// Go documents the `0` flag as ignored for strings.
    fn pad_string(&mut self, s: &str) {
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(s);
        self.f.zero = zero;
    }

    fn print_arg(&mut self, arg: &FArg<'_>, verb: char, depth: usize) {
        if let FArg::Nil = arg {
            if depth > 0 {
                // Nil elements of collections print bare whatever the verb.
                self.buf.push_str(if self.f.sharp_v {
                    "interface {}(nil)"
                } else {
                    "<nil>"
                });
            } else if verb == 'v' || verb == 'T' {
                self.pad_string("<nil>");
            } else {
                self.bad_verb(verb, arg);
            }
            return;
        }
        if verb == 'T' {
            self.pad_string(arg.type_name());
            return;
        }
        match *arg {
            FArg::Nil => {}
            FArg::Bool(b) => match verb {
                't' | 'v' => self.pad(if b { "true" } else { "false" }),
                _ => self.bad_verb(verb, arg),
            },
            FArg::Int(i) => self.fmt_int(i, verb, arg),
            FArg::Float(x) => self.fmt_float_verb(x, verb, arg),
            FArg::Str(s) => match verb {
                'v' if self.f.sharp_v => self.fmt_q(s),
                'v' | 's' => self.fmt_s(s),
                'x' => self.fmt_sx(s, false),
                'X' => self.fmt_sx(s, true),
                'q' => self.fmt_q(s),
                _ => self.bad_verb(verb, arg),
            },
            FArg::Arr(items) => {
                if verb == 'p' {
                    self.bad_verb(verb, arg);
                    return;
                }
                if self.f.sharp_v {
                    self.buf.push_str("[]interface {}{");
                    for (k, e) in items.iter().enumerate() {
                        if k > 0 {
                            self.buf.push_str(", ");
                        }
                        self.print_arg(&FArg::from_json(e), verb, depth + 1);
                    }
                    self.buf.push('}');
                    return;
                }
                self.buf.push('[');
                for (k, e) in items.iter().enumerate() {
                    if k > 0 {
                        self.buf.push(' ');
                    }
                    self.print_arg(&FArg::from_json(e), verb, depth + 1);
                }
                self.buf.push(']');
            }
            FArg::Obj(m) => {
                if verb == 'p' {
                    self.bad_verb(verb, arg);
                    return;
                }
                let sharp_v = self.f.sharp_v;
                self.buf.push_str(if sharp_v {
                    "map[string]interface {}{"
                } else {
                    "map["
                });
                for (k, key) in sorted_keys(m).into_iter().enumerate() {
                    if k > 0 {
                        self.buf.push_str(if sharp_v { ", " } else { " " });
                    }
                    self.print_arg(&FArg::Str(key), verb, depth + 1);
                    self.buf.push(':');
                    self.print_arg(&FArg::from_json(&m[key.as_str()]), verb, depth + 1);
                }
                self.buf.push(if sharp_v { '}' } else { ']' });
            }
        }
    }

    fn bad_verb(&mut self, verb: char, arg: &FArg<'_>) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        match arg {
            FArg::Nil => self.buf.push_str("<nil>"),
            _ => {
                self.buf.push_str(arg.type_name());
                self.buf.push('=');
                self.print_arg(arg, 'v', 0);
            }
        }
        self.buf.push(')');
    }

    fn fmt_int(&mut self, i: i128, verb: char, arg: &FArg<'_>) {
        match verb {
            'v' | 'd' => self.fmt_integer(i, 10, verb, false),
            'b' => self.fmt_integer(i, 2, verb, false),
            'o' | 'O' => self.fmt_integer(i, 8, verb, false),
            'x' => self.fmt_integer(i, 16, verb, false),
            'X' => self.fmt_integer(i, 16, verb, true),
            'c' => {
                let c = char_of(i);
                self.pad(c.encode_utf8(&mut [0; 4]));
            }
            'q' => {
                let c = char_of(i);
                let s = if self.f.sharp && is_print(c) {
                    format!("'{c}'")
                } else {
                    quote_with(&c.to_string(), '\'', self.f.plus)
                };
                self.pad(&s);
            }
            'U' => self.fmt_unicode(i),
            // JSON cannot tell a Go float64 that happens to be integral from
            // an int, so float verbs format integers instead of erroring.
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => self.fmt_float_verb(i as f64, verb, arg),
            _ => self.bad_verb(verb, arg),
        }
    }

    fn fmt_integer(&mut self, v: i128, base: u32, verb: char, upper: bool) {
        let negative = v < 0;
        let u = v.unsigned_abs();
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let zero = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.f.wid.unwrap_or(0));
                self.f.zero = zero;
                return;
            }
        } else if let (true, false, Some(w)) = (self.f.zero, self.f.minus, self.f.wid) {
            prec = w;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut digits = to_base(u, base, upper);
        if digits.len() < prec {
            digits = "0".repeat(prec - digits.len()) + &digits;
        }
        if self.f.sharp {
            match base {
                2 => digits.insert_str(0, "0b"),
                8 if !digits.starts_with('0') => digits.insert(0, '0'),
                16 => digits.insert_str(0, if upper { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            digits.insert_str(0, "0o");
        }
        if negative {
            digits.insert(0, '-');
        } else if self.f.plus {
            digits.insert(0, '+');
        } else if self.f.space {
            digits.insert(0, ' ');
        }
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(&digits);
        self.f.zero = zero;
    }

    fn fmt_unicode(&mut self, i: i128) {
        let prec = self.f.prec.filter(|p| *p > 4).unwrap_or(4);
        let mut s = format!("U+{:0width$X}", i.max(0), width = prec);
        if self.f.sharp {
            if let Some(c) = u32::try_from(i).ok().and_then(char::from_u32) {
                if is_print(c) {
                    s.push_str(" '");
                    s.push(c);
                    s.push('\'');
                }
            }
        }
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = zero;
    }

    fn fmt_float_verb(&mut self, x: f64, verb: char, arg: &FArg<'_>) {
        match verb {
            'v' => self.fmt_float(x, 'g', -1),
            'g' | 'G' => self.fmt_float(x, verb, -1),
            'e' | 'E' | 'f' => self.fmt_float(x, verb, 6),
            'F' => self.fmt_float(x, 'f', 6),
            _ => self.bad_verb(verb, arg),
        }
    }

    fn fmt_float(&mut self, x: f64, verb: char, default_prec: i32) {
        let prec = self.f.prec.map_or(default_prec, |p| p as i32);
        let num = format_float(x, verb, prec);
        let (mut sign, body) = match num.strip_prefix('-') {
            Some(rest) => ('-', rest),
            None => ('+', num.as_str()),
        };
        if self.f.space && sign == '+' && !self.f.plus {
            sign = ' ';
        }
        if self.f.plus || sign != '+' {
            let len = 1 + body.chars().count();
            if let (true, false, Some(w)) = (self.f.zero, self.f.minus, self.f.wid) {
                if w > len {
                    self.buf.push(sign);
                    self.write_padding(w - len);
                    self.buf.push_str(body);
                    return;
                }
            }
            let s = format!("{sign}{body}");
            self.pad(&s);
        } else {
            let body = body.to_string();
            self.pad(&body);
        }
    }

    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        match self.f.prec {
            Some(p) => match s.char_indices().nth(p) {
                Some((idx, _)) => &s[..idx],
                None => s,
            },
            None => s,
        }
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad_string(s);
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        let q = if self.f.sharp && can_backquote(s) {
            format!("`{s}`")
        } else {
            quote_with(s, '"', self.f.plus)
        };
        self.pad_string(&q);
    }

    fn fmt_sx(&mut self, s: &str, upper: bool) {
        let bytes = s.as_bytes();
        let length = self.f.prec.map_or(bytes.len(), |p| p.min(bytes.len()));
        let mut width = 2 * length;
        if width == 0 {
            if let Some(w) = self.f.wid {
                let zero = self.f.zero;
                self.f.zero = false;
                self.write_padding(w);
                self.f.zero = zero;
            }
            return;
        }
        if self.f.space {
            if self.f.sharp {
                width *= 2;
            }
            width += length - 1;
        } else if self.f.sharp {
            width += 2;
        }
        let digits: &[u8; 16] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let x = if upper { "0X" } else { "0x" };
        let mut out = String::with_capacity(width);
        if self.f.sharp {
            out.push_str(x);
        }
        for (i, b) in bytes[..length].iter().enumerate() {
            if self.f.space && i > 0 {
                out.push(' ');
                if self.f.sharp {
                    out.push_str(x);
                }
            }
            out.push(digits[usize::from(b >> 4)] as char);
            out.push(digits[usize::from(b & 0xF)] as char);
        }
        self.pad_string(&out);
    }
}

/// Go's `parseArgNumber`: the 1-based index inside `[n]`, bytes consumed, ok.
fn parse_arg_number(s: &[u8]) -> (usize, usize, bool) {
    if s.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..s.len() {
        if s[i] == b']' {
            let (n, ok, newi) = parse_num(s, 1, i);
            if !ok || newi != i {
                return (0, i + 1, false);
            }
            return (n, i + 1, true);
        }
    }
    (0, 1, false)
}

/// Go's `intFromArg`: (value, ok, next arg index).
fn int_from_arg(a: &[FArg<'_>], arg_num: usize) -> (Option<i128>, bool, usize) {
    if arg_num >= a.len() {
        return (None, false, arg_num);
    }
    match a[arg_num] {
        FArg::Int(i) if (-TOO_LARGE..=TOO_LARGE).contains(&i) => (Some(i), true, arg_num + 1),
        _ => (None, false, arg_num + 1),
    }
}

fn char_of(i: i128) -> char {
    u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

fn to_base(mut u: u128, base: u32, upper: bool) -> String {
    if u == 0 {
        return "0".to_string();
    }
    let digits: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::new();
    while u > 0 {
        out.push(digits[(u % u128::from(base)) as usize]);
        u /= u128::from(base);
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Go's `strconv.IsPrint`, approximated: Rust has no Unicode category
/// tables, so the non-printable format, separator and private-use ranges
/// are listed explicitly and unassigned code points count as printable.
pub(crate) fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() {
        return false;
    }
    !matches!(u,
        0xA0 | 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2
        | 0x1680 | 0x180E | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x206F
        | 0x3000 | 0xE000..=0xF8FF | 0xFEFF | 0xFFF9..=0xFFFB | 0xFFFE | 0xFFFF
        | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F | 0xF0000..)
}

/// `strconv.Quote` (or `QuoteToASCII` when `ascii`) with the given quote.
pub(crate) fn quote_with(s: &str, quote: char, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for r in s.chars() {
        if r == quote || r == '\\' {
            out.push('\\');
            out.push(r);
            continue;
        }
        let printable = if ascii {
            r.is_ascii() && is_print(r)
        } else {
            is_print(r)
        };
        if printable {
            out.push(r);
            continue;
        }
        match r {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            _ => {
                let u = r as u32;
                if u < 0x20 || u == 0x7f {
                    out.push_str(&format!("\\x{u:02x}"));
                } else if u < 0x10000 {
                    out.push_str(&format!("\\u{u:04x}"));
                } else {
                    out.push_str(&format!("\\U{u:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|r| !((r < ' ' && r != '\t') || r == '`' || r == '\u{7f}' || r == '\u{feff}'))
}

/// `fmt`'s `%#U` rendering of a rune, used in lexer error messages.
pub(crate) fn sharp_u(c: char) -> String {
    let mut s = format!("U+{:04X}", c as u32);
    if is_print(c) {
        s.push_str(&format!(" '{c}'"));
    }
    s
}

/// Decimal digits and decimal-point position of |x|, Go `decimal` style:
/// no trailing zeros, and zero has no digits at all.
fn digits_of(sci: &str) -> (Vec<u8>, i32) {
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return (d, 0);
    }
    (d, exp + 1)
}

fn shortest_digits(a: f64) -> (Vec<u8>, i32) {
    digits_of(&format!("{a:e}"))
}

fn fmt_e(out: &mut String, d: &[u8], dp: i32, prec: usize, e: char) {
    out.push(d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(d.get(i).map_or('0', |c| *c as char));
        }
    }
    out.push(e);
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let x = exp.unsigned_abs();
    if x < 10 {
        out.push('0');
    }
    out.push_str(&x.to_string());
}

fn fmt_f(out: &mut String, d: &[u8], dp: i32, prec: usize) {
    if dp > 0 {
        let m = (dp as usize).min(d.len());
        out.extend(d[..m].iter().map(|c| *c as char));
        for _ in m..dp as usize {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            let j = i64::from(dp) + i - 1;
            let c = if j >= 0 && (j as usize) < d.len() {
                d[j as usize] as char
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

/// `strconv.FormatFloat(x, fmt, prec, 64)` for the `e`, `E`, `f`, `g` and
/// `G` formats; a negative `prec` asks for the shortest exact representation.
pub(crate) fn format_float(x: f64, fmt: char, prec: i32) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let mut out = String::new();
    if x.is_sign_negative() {
        out.push('-');
    }
    let a = x.abs();
    match fmt {
        'e' | 'E' => {
            if prec < 0 {
                let (d, dp) = shortest_digits(a);
                fmt_e(&mut out, &d, dp, d.len().saturating_sub(1), fmt);
            } else {
                let (d, dp) = digits_of(&format!("{:.*e}", prec as usize, a));
                fmt_e(&mut out, &d, dp, prec as usize, fmt);
            }
        }
        'f' => {
            if prec < 0 {
                out.push_str(&format!("{a}"));
            } else {
                out.push_str(&format!("{:.*}", prec as usize, a));
            }
        }
        _ => {
            let e = if fmt == 'G' { 'E' } else { 'e' };
            let shortest = prec < 0;
            let (d, dp) = if shortest {
                shortest_digits(a)
            } else {
                let p = prec.max(1) as usize;
                digits_of(&format!("{:.*e}", p - 1, a))
            };
            let nd = d.len() as i32;
            let mut p = if shortest { nd } else { prec.max(1) };
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &d, dp, (p - 1).max(0) as usize, e);
            } else {
                if p > dp {
                    p = nd;
                }
                fmt_f(&mut out, &d, dp, (p - dp).max(0) as usize);
            }
        }
    }
    out
}
