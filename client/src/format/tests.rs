//! Expected strings are what Go's text/template (and podman's report
//! package) print for the same template and data.

use super::*;
use serde_json::{json, Value};
use std::collections::HashMap;

fn run(t: &str, data: Value) -> String {
    match Template::parse(t) {
        Ok(tmpl) => match tmpl.execute(&data) {
            Ok(s) => s,
            Err(e) => panic!("exec {t:?}: {e}"),
        },
        Err(e) => panic!("parse {t:?}: {e}"),
    }
}

fn parse_err(t: &str) -> String {
    match Template::parse(t) {
        Ok(_) => panic!("{t:?} parsed"),
        Err(e) => e.to_string(),
    }
}

fn exec_err(t: &str, data: Value) -> String {
    let tmpl = Template::parse(t).unwrap_or_else(|e| panic!("parse {t:?}: {e}"));
    match tmpl.execute(&data) {
        Ok(s) => panic!("{t:?} executed: {s:?}"),
        Err(e) => e.to_string(),
    }
}

mod template {
    use super::*;

    #[test]
    fn text_and_fields() {
        assert_eq!(run("hello", json!(null)), "hello");
        assert_eq!(run("{{.Name}}!", json!({"Name": "web"})), "web!");
        assert_eq!(
            run("{{.Config.Image}}", json!({"Config": {"Image": "alpine"}})),
            "alpine"
        );
        assert_eq!(run("{{.A.B.C}}", json!({"A": {"B": {"C": 7}}})), "7");
    }

    #[test]
    fn missing_and_null() {
        assert_eq!(run("{{.Nope}}", json!({})), "<no value>");
        assert_eq!(run("{{.Nope.Deeper}}", json!({})), "<no value>");
        assert_eq!(run("{{.N}}", json!({"N": null})), "<nil>");
        // Field of null: empty (a Go nil pointer would abort the listing).
        assert_eq!(run("[{{.N.X}}]", json!({"N": null})), "[]");
        assert_eq!(run("[{{.N.X.Y}}]", json!({"N": null})), "[]");
    }

    #[test]
    fn case_insensitive_fallback() {
        assert_eq!(run("{{.Id}}", json!({"ID": "abc"})), "abc");
        assert_eq!(run("{{.ID}}", json!({"Id": "abc"})), "abc");
        assert_eq!(run("{{.ID}}", json!({"Id": "a", "ID": "b"})), "b");
        assert_eq!(run("{{.Id}}", json!({"ID": "b", "Id": "a"})), "a");
    }

    #[test]
    fn printing_values_like_fmt() {
        let data = json!({
            "s": "x", "i": 42, "neg": -7, "f": 1.5, "big": 1000000.0,
            "hundredk": 100000.0, "tiny": 0.00001, "small": 0.0001, "b": true,
            "arr": ["a", "b", 1, null, [2, 3]], "empty": [], "obj": {"z": 1, "a": "x", "m": {"k": [1]}},
            "eobj": {}, "long": 123456789.0, "negf": -2.5, "u": 18446744073709551615u64
        });
        let cases = [
            ("{{.s}}", "x"),
            ("{{.i}}", "42"),
            ("{{.neg}}", "-7"),
            ("{{.f}}", "1.5"),
            ("{{.big}}", "1e+06"),
            ("{{.hundredk}}", "100000"),
            ("{{.tiny}}", "1e-05"),
            ("{{.small}}", "0.0001"),
            ("{{.long}}", "1.23456789e+08"),
            ("{{.negf}}", "-2.5"),
            ("{{.u}}", "18446744073709551615"),
            ("{{.b}}", "true"),
            ("{{.arr}}", "[a b 1 <nil> [2 3]]"),
            ("{{.empty}}", "[]"),
            ("{{.obj}}", "map[a:x m:map[k:[1]] z:1]"),
            ("{{.eobj}}", "map[]"),
        ];
        for (t, want) in cases {
            assert_eq!(run(t, data.clone()), want, "{t}");
        }
    }

    #[test]
    fn constants() {
        let cases = [
            ("{{1}}", "1"),
            ("{{-3}}", "-3"),
            ("{{+3}}", "3"),
            ("{{1.5}}", "1.5"),
            ("{{1.0}}", "1"),
            ("{{1e6}}", "1e+06"),
            ("{{1e3}}", "1000"),
            ("{{.5}}", "0.5"),
            ("{{0x10}}", "16"),
            ("{{0o17}}", "15"),
            ("{{017}}", "15"),
            ("{{0b101}}", "5"),
            ("{{1_000}}", "1000"),
            ("{{0x1p4}}", "16"),
            ("{{'a'}}", "97"),
            ("{{'\\n'}}", "10"),
            ("{{true}} {{false}}", "true false"),
            (r#"{{"a\tb\u00e9\x41"}}"#, "a\tbéA"),
            ("{{`raw\\n`}}", "raw\\n"),
        ];
        for (t, want) in cases {
            assert_eq!(run(t, json!(null)), want, "{t}");
        }
        assert_eq!(
            parse_err("{{99999999999999999999}}"),
            r#"template: :1: integer overflow: "99999999999999999999""#
        );
        assert_eq!(
            parse_err("{{1x}}"),
            r#"template: :1: bad number syntax: "1x""#
        );
        assert_eq!(
            parse_err("{{-}}"),
            r#"template: :1: illegal number syntax: "-""#
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        assert_eq!(run("a  {{- \"b\" -}}  c", json!(null)), "abc");
        assert_eq!(run("a\n\t{{- .X -}}\n\tb", json!({"X": "X"})), "aXb");
        assert_eq!(run("a {{- /* c */ -}} b", json!(null)), "ab");
        assert_eq!(run("x {{/* comment */}} y", json!(null)), "x  y");
        assert_eq!(run("x\n{{- /* multi\nline */}}\ny", json!(null)), "x\ny");
        // "-3" without a space is a number, not a trim marker.
        assert_eq!(run("a {{-3}}", json!(null)), "a -3");
        assert_eq!(run("{{3 -}}  \n x", json!(null)), "3x");
        assert_eq!(run("{{- 3 -}}", json!(null)), "3");
        assert_eq!(
            run("{{range .}}\n  {{- .}}\n{{- end}}\n", json!(["a", "b"])),
            "ab\n"
        );
        assert_eq!(parse_err("{{/* x }}"), "template: :1: unclosed comment");
        assert_eq!(
            parse_err("{{/* x */ .X}}"),
            "template: :1: comment ends before closing delimiter"
        );
    }

    #[test]
    fn pipelines() {
        assert_eq!(run(r#"{{.S | printf "%q"}}"#, json!({"S": "x"})), r#""x""#);
        assert_eq!(run(r#"{{"a" | printf "%s-%s" "b"}}"#, json!(null)), "b-a");
        assert_eq!(run("{{.S | len}}", json!({"S": "héllo"})), "6");
        assert_eq!(run(r#"{{(printf "%d" 345) | len}}"#, json!(null)), "3");
        assert_eq!(
            run(r#"{{.S | upper | printf "<%s>"}}"#, json!({"S": "ab"})),
            "<AB>"
        );
        assert_eq!(
            run(r#"{{(index .M "k").X}}"#, json!({"M": {"k": {"X": 5}}})),
            "5"
        );
        assert_eq!(
            parse_err("{{.X | 3}}"),
            "template: :1: non executable command in pipeline stage 2"
        );
    }

    #[test]
    fn variables() {
        assert_eq!(run("{{$x := 1}}{{$x}}", json!(null)), "1");
        assert_eq!(run("{{$x := 1}}{{$x = 2}}{{$x}}", json!(null)), "2");
        assert_eq!(run("{{$}}", json!("root")), "root");
        assert_eq!(
            run(
                "{{range .Items}}{{$.Name}}:{{.}} {{end}}",
                json!({"Name": "n", "Items": [1, 2]})
            ),
            "n:1 n:2 "
        );
        assert_eq!(run("{{$x := .A}}{{$x.B}}", json!({"A": {"B": "c"}})), "c");
        assert_eq!(
            run(
                "{{$n := 0}}{{range .}}{{$n = .}}{{end}}{{$n}}",
                json!([1, 2, 3])
            ),
            "3"
        );
        assert_eq!(
            run("{{with $x := \"a\"}}{{$x}}{{.}}{{end}}", json!(null)),
            "aa"
        );
        assert_eq!(
            parse_err("{{with $x := 1}}{{end}}{{$x}}"),
            r#"template: :1: undefined variable "$x""#
        );
        assert_eq!(
            parse_err("{{$x}}"),
            r#"template: :1: undefined variable "$x""#
        );
        assert_eq!(
            parse_err("{{$a, $b := 1}}"),
            "template: :1: too many declarations in command"
        );
    }

    #[test]
    fn range_arrays_and_maps() {
        assert_eq!(
            run("{{range .}}<{{.}}>{{end}}", json!(["a", "b"])),
            "<a><b>"
        );
        assert_eq!(
            run(
                "{{range $i, $v := .}}{{$i}}={{$v}} {{end}}",
                json!(["a", "b"])
            ),
            "0=a 1=b "
        );
        assert_eq!(
            run("{{range $v := .}}{{$v}}{{end}}", json!(["a", "b"])),
            "ab"
        );
        // Maps iterate in sorted key order, whatever the JSON order.
        assert_eq!(
            run(
                "{{range $k, $v := .}}{{$k}}:{{$v}},{{end}}",
                json!({"b": 2, "a": 1, "c": 3})
            ),
            "a:1,b:2,c:3,"
        );
        assert_eq!(
            run("{{range .}}{{.}}{{end}}", json!({"b": 2, "a": 1})),
            "12"
        );
        assert_eq!(run("{{range 3}}{{.}}{{end}}", json!(null)), "012");
        assert_eq!(
            run(
                "{{$i := 9}}{{$v := 0}}{{range $i, $v = .}}{{end}}{{$i}}{{$v}}",
                json!(["x", "y"])
            ),
            "1y"
        );
        assert_eq!(
            exec_err("{{$i := 9}}{{range $i, $v = .}}{{end}}", json!(["x"])),
            r#"template: :1:28: executing "" at <.>: undefined variable: $v"#
        );
        assert_eq!(
            exec_err("{{range .}}{{end}}", json!("abc")),
            r#"template: :1:8: executing "" at <.>: range can't iterate over abc"#
        );
    }

    #[test]
    fn range_else_only_when_empty() {
        let t = "{{range .}}x{{else}}empty{{end}}";
        assert_eq!(run(t, json!([])), "empty");
        assert_eq!(run(t, json!({})), "empty");
        assert_eq!(run(t, json!(null)), "empty");
        assert_eq!(
            run("{{range .Nope}}x{{else}}empty{{end}}", json!({})),
            "empty"
        );
        assert_eq!(run(t, json!([1])), "x");
        assert_eq!(run(t, json!([1, 2, 3])), "xxx");
        assert_eq!(run(t, json!({"a": 1})), "x");
        assert_eq!(run("{{range 0}}x{{else}}none{{end}}", json!(null)), "none");
    }

    #[test]
    fn break_and_continue() {
        assert_eq!(
            run(
                "{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}",
                json!([1, 2, 3, 4])
            ),
            "12"
        );
        assert_eq!(
            run(
                "{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}",
                json!([1, 2, 3, 4])
            ),
            "134"
        );
        // break only leaves the innermost range.
        assert_eq!(
            run(
                "{{range .}}[{{range .}}{{if eq . 0}}{{break}}{{end}}{{.}}{{end}}]{{end}}",
                json!([[1, 0, 2], [3]])
            ),
            "[1][3]"
        );
        assert_eq!(
            parse_err("{{break}}"),
            "template: :1: {{break}} outside {{range}}"
        );
        assert_eq!(
            parse_err("{{range .}}{{else}}{{continue}}{{end}}"),
            "template: :1: {{continue}} outside {{range}}"
        );
        assert_eq!(
            parse_err("{{range .}}{{break 1}}{{end}}"),
            r#"template: :1: unexpected "1" in {{break}}"#
        );
    }

    #[test]
    fn if_else_chains_and_with() {
        let t = "{{if .A}}a{{else if .B}}b{{else}}c{{end}}";
        assert_eq!(run(t, json!({"A": 1, "B": 1})), "a");
        assert_eq!(run(t, json!({"A": 0, "B": "x"})), "b");
        assert_eq!(run(t, json!({"A": "", "B": []})), "c");
        assert_eq!(
            run("{{with .A}}{{.}}{{else}}none{{end}}", json!({"A": "v"})),
            "v"
        );
        assert_eq!(
            run("{{with .A}}{{.}}{{else}}none{{end}}", json!({"A": {}})),
            "none"
        );
        assert_eq!(
            run(
                "{{with .A}}a{{else with .B}}{{.}}{{else}}none{{end}}",
                json!({"B": "b"})
            ),
            "b"
        );
        assert_eq!(run("{{if $v := .A}}{{$v}}{{end}}", json!({"A": 3})), "3");
    }

    #[test]
    fn truthiness() {
        let falsy = [
            json!(""),
            json!(0),
            json!(0.0),
            json!([]),
            json!({}),
            json!(false),
            json!(null),
        ];
        for v in falsy {
            assert_eq!(run("{{if .}}T{{else}}F{{end}}", v.clone()), "F", "{v}");
        }
        let truthy = [
            json!("0"),
            json!(1),
            json!(-0.5),
            json!([0]),
            json!({"a": 0}),
            json!(true),
        ];
        for v in truthy {
            assert_eq!(run("{{if .}}T{{else}}F{{end}}", v.clone()), "T", "{v}");
        }
        assert_eq!(run("{{if .Nope}}T{{else}}F{{end}}", json!({})), "F");
    }

    #[test]
    fn nested_templates() {
        assert_eq!(
            run(
                r#"{{define "T"}}Hi {{.}}{{end}}{{template "T" "x"}}!"#,
                json!(null)
            ),
            "Hi x!"
        );
        assert_eq!(
            run(
                r#"{{define "T"}}[{{.}}]{{end}}{{template "T"}}"#,
                json!("d")
            ),
            "[<no value>]"
        );
        assert_eq!(
            run(r#"{{block "B" .}}default {{.}}{{end}}"#, json!("y")),
            "default y"
        );
        assert_eq!(
            run(
                r#"{{define "item"}}<{{.Name}}>{{end}}{{range .}}{{template "item" .}}{{end}}"#,
                json!([{"Name": "a"}, {"Name": "b"}])
            ),
            "<a><b>"
        );
        assert_eq!(
            exec_err(r#"{{template "nope"}}"#, json!(null)),
            r#"template: :1:11: executing "" at <{{template "nope"}}>: template "nope" not defined"#
        );
        assert_eq!(
            parse_err(r#"{{$x := 1}}{{define "T"}}{{$x}}{{end}}"#),
            r#"template: :1: undefined variable "$x""#
        );
        assert_eq!(
            parse_err(r#"{{define "T"}}a{{end}}{{define "T"}}b{{end}}"#),
            r#"template: :1: template: multiple definition of template "T""#
        );
        let e = exec_err(
            r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#,
            json!(1),
        );
        assert!(e.contains("exceeded maximum template depth"), "{e}");
        // Errors inside a called template name it.
        assert_eq!(
            exec_err(
                r#"{{define "T"}}{{.X.Y}}{{end}}{{template "T" .}}"#,
                json!({"X": 1})
            ),
            r#"template: :1:18: executing "T" at <.X.Y>: can't evaluate field Y in type int"#
        );
    }

    #[test]
    fn method_like_field_calls() {
        let data = json!({"Label": {"app": "web"}});
        assert_eq!(run(r#"{{.Label "app"}}"#, data.clone()), "web");
        assert_eq!(run(r#"[{{.Label "nope"}}]"#, data.clone()), "[]");
        assert_eq!(run(r#"{{"app" | .Label}}"#, data.clone()), "web");
        assert_eq!(
            exec_err(r#"{{.Name "x"}}"#, json!({"Name": "n"})),
            r#"template: :1:2: executing "" at <.Name>: Name is not a method but has arguments"#
        );
    }
}

mod functions {
    use super::*;

    #[test]
    fn index_len_slice() {
        let d = json!({"A": ["a", "b", "c"], "M": {"k": "v"}, "N": [[1, 2], [3]], "Z": null});
        assert_eq!(run("{{index .A 1}}", d.clone()), "b");
        assert_eq!(run(r#"{{index .M "k"}}"#, d.clone()), "v");
        assert_eq!(run(r#"[{{index .M "missing"}}]"#, d.clone()), "[]");
        assert_eq!(run(r#"[{{index .Z "missing"}}]"#, d.clone()), "[]");
        assert_eq!(run("{{index .N 0 1}}", d.clone()), "2");
        assert_eq!(run("{{index .A}}", d.clone()), "[a b c]");
        assert_eq!(run(r#"{{index "abc" 1}}"#, d.clone()), "98");
        assert_eq!(run("{{len .A}} {{len .M}} {{len .Z}}", d.clone()), "3 1 0");
        assert_eq!(run("{{slice .A 1 3}}", d.clone()), "[b c]");
        assert_eq!(run("{{slice .A 1}}", d.clone()), "[b c]");
        assert_eq!(run("{{slice .A}}", d.clone()), "[a b c]");
        assert_eq!(run(r#"{{slice "abcdef" 1 3}}"#, d.clone()), "bc");
        assert_eq!(
            exec_err("{{index .A 5}}", d.clone()),
            r#"template: :1:2: executing "" at <index .A 5>: error calling index: index out of range: 5"#
        );
        assert_eq!(
            exec_err("{{index .A 3}}", d.clone()),
            r#"template: :1:2: executing "" at <index .A 3>: error calling index: index out of range: 3"#
        );
        assert_eq!(
            exec_err(r#"{{index .A "x"}}"#, d.clone()),
            r#"template: :1:2: executing "" at <index .A "x">: error calling index: cannot index slice/array with type string"#
        );
        assert_eq!(
            exec_err("{{index 3 0}}", d.clone()),
            r#"template: :1:2: executing "" at <index 3 0>: error calling index: can't index item of type int"#
        );
        assert_eq!(
            exec_err("{{slice .A 2 1}}", d.clone()),
            r#"template: :1:2: executing "" at <slice .A 2 1>: error calling slice: invalid slice index: 2 > 1"#
        );
        assert_eq!(
            exec_err("{{len 3}}", d.clone()),
            r#"template: :1:2: executing "" at <len 3>: error calling len: len of type int"#
        );
        assert_eq!(
            exec_err("{{len}}", d),
            r#"template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 0"#
        );
    }

    #[test]
    fn print_and_println() {
        assert_eq!(
            run(r#"{{print 1 2 "a" 3 "b" "c"}}"#, json!(null)),
            "1 2a3bc"
        );
        assert_eq!(run(r#"{{print "a" "b"}}"#, json!(null)), "ab");
        assert_eq!(run("{{print .Nope}}", json!({})), "<nil>");
        assert_eq!(run(r#"{{println 1 "a" true}}"#, json!(null)), "1 a true\n");
        assert_eq!(run("{{print}}", json!(null)), "");
    }

    #[test]
    fn comparisons() {
        let cases = [
            ("{{eq 1 1}}", "true"),
            ("{{eq 1 2}}", "false"),
            (r#"{{eq "a" "b" "a"}}"#, "true"),
            (r#"{{eq .S "x"}}"#, "true"),
            ("{{eq .B true}}", "true"),
            ("{{eq .Nope 1}}", "false"),
            ("{{eq .Null nil}}", "true"),
            ("{{ne 1 2}}", "true"),
            ("{{lt 1 2}}", "true"),
            (r#"{{lt "b" "a"}}"#, "false"),
            ("{{le 2 2}}", "true"),
            ("{{gt 3 2}}", "true"),
            ("{{ge 2 3}}", "false"),
            ("{{gt 1.5 1}}", "true"),
            ("{{eq .F 2}}", "true"),
        ];
        let d = json!({"S": "x", "B": true, "Null": null, "F": 2.0});
        for (t, want) in cases {
            assert_eq!(run(t, d.clone()), want, "{t}");
        }
        assert_eq!(
            exec_err(r#"{{eq 1 "a"}}"#, json!(null)),
            r#"template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison"#
        );
        assert_eq!(
            exec_err("{{lt true false}}", json!(null)),
            r#"template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison"#
        );
        assert_eq!(
            exec_err("{{eq 1}}", json!(null)),
            r#"template: :1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison"#
        );
        assert_eq!(
            exec_err("{{eq .A .A}}", json!({"A": [1]})),
            r#"template: :1:2: executing "" at <eq .A .A>: error calling eq: non-comparable type [1]: []interface {}"#
        );
    }

    #[test]
    fn logic() {
        assert_eq!(run("{{and 1 0 2}}", json!(null)), "0");
        assert_eq!(run("{{and 1 2}}", json!(null)), "2");
        assert_eq!(run(r#"{{or 0 "" "x"}}"#, json!(null)), "x");
        assert_eq!(run(r#"[{{or 0 ""}}]"#, json!(null)), "[]");
        assert_eq!(run("{{not 0}} {{not .A}}", json!({"A": [1]})), "true false");
        // Short-circuit: the failing index is never evaluated.
        assert_eq!(
            run("{{and false (index .A 99)}}", json!({"A": []})),
            "false"
        );
        assert_eq!(run("{{or true (index .A 99)}}", json!({"A": []})), "true");
        assert_eq!(
            run("{{if and .A .B}}y{{else}}n{{end}}", json!({"A": 1})),
            "n"
        );
        assert_eq!(run(r#"{{"x" | and 1}}"#, json!(null)), "x");
    }

    #[test]
    fn escapers() {
        assert_eq!(
            run(r#"{{html "<a href='x'>&\"\u0000"}}"#, json!(null)),
            "&lt;a href=&#39;x&#39;&gt;&amp;&#34;\u{FFFD}"
        );
        assert_eq!(
            run(r#"{{js "a'b\"c<>&=\n\\"}}"#, json!(null)),
            r#"a\'b\"c\u003C\u003E\u0026\u003D\u000A\\"#
        );
        assert_eq!(
            run(r#"{{urlquery "a b&c=d/é~"}}"#, json!(null)),
            "a+b%26c%3Dd%2F%C3%A9~"
        );
        assert_eq!(run("{{html 1 2}}", json!(null)), "1 2");
        assert_eq!(run("{{html .Nope}}", json!({})), "&lt;no value&gt;");
        assert_eq!(run("{{urlquery .Nope 1}}", json!({})), "%3Cno+value%3E1");
    }

    #[test]
    fn podman_string_functions() {
        let cases = [
            (r#"{{upper "abcß"}}"#, "ABCß"),
            (r#"{{lower "ABC"}}"#, "abc"),
            (
                r#"{{title "hello world-foo bar_baz x.y"}}"#,
                "Hello World-Foo Bar_baz X.Y",
            ),
            (r#"{{split "a,b,c" ","}}"#, "[a b c]"),
            (r#"{{split "abc" ""}}"#, "[a b c]"),
            (r#"{{len (split "" ",")}}"#, "1"),
            (r#"{{join (split "a,b,c" ",") "-"}}"#, "a-b-c"),
            (r#"{{join .Names ", "}}"#, "x, y"),
            (r#"[{{join .Nope ","}}]"#, "[]"),
            (r#"{{truncate "abcdef" 3}}"#, "abc"),
            (r#"{{truncate "ab" 5}}"#, "ab"),
            (r#"{{truncate .ID 4}}"#, "0123"),
            (r#"[{{pad "ab" 2 3}}]"#, "[  ab   ]"),
            (r#"[{{pad "" 2 3}}]"#, "[]"),
        ];
        let d = json!({"Names": ["x", "y"], "ID": "0123456789"});
        for (t, want) in cases {
            assert_eq!(run(t, d.clone()), want, "{t}");
        }
        assert_eq!(
            exec_err(r#"{{lower 3}}"#, json!(null)),
            r#"template: :1:8: executing "" at <3>: expected string; found 3"#
        );
        assert_eq!(
            exec_err(r#"{{truncate "a" "b"}}"#, json!(null)),
            r#"template: :1:15: executing "" at <"b">: expected integer; found "b""#
        );
        assert_eq!(
            exec_err("{{lower .N}}", json!({"N": 5})),
            r#"template: :1:8: executing "" at <.N>: wrong type for value; expected string; got int"#
        );
        assert_eq!(
            exec_err("{{lower .Nope}}", json!({})),
            r#"template: :1:8: executing "" at <.Nope>: invalid value; expected string"#
        );
        // join takes the slice first, so it cannot sit at the end of a pipeline.
        assert_eq!(
            exec_err(r#"{{.Names | join ","}}"#, d),
            r#"template: :1:16: executing "" at <",">: can't handle "," for arg of type []string"#
        );
        assert_eq!(
            exec_err(r#"{{pad "a" -1 0}}"#, json!(null)),
            r#"template: :1:2: executing "" at <pad "a" -1 0>: error calling pad: strings: negative Repeat count"#
        );
    }

    #[test]
    fn json_function() {
        // podman's json encodes with SetEscapeHTML(false), keeping key order.
        assert_eq!(
            run(
                "{{json .}}",
                json!({"b": "<x>&", "a": [1, 2.5, null, true]})
            ),
            r#"{"b":"<x>&","a":[1,2.5,null,true]}"#
        );
        assert_eq!(
            run(r#"{{json "a\tb\u0001é"}}"#, json!(null)),
            r#""a\tb\u0001é""#
        );
        assert_eq!(run("{{json .Nope}}", json!({})), "null");
        assert_eq!(run(r#"{{json (index .M "x")}}"#, json!({"M": {}})), r#""""#);
        assert_eq!(run("{{json .}}", json!([])), "[]");
        assert_eq!(
            run("{{json .}}", json!([1e21, 1e20, 1e-7, 0.000001, 0.5, -0.0])),
            "[1e+21,100000000000000000000,1e-7,0.000001,0.5,-0]"
        );
        assert_eq!(run(r#"{{json "\u2028"}}"#, json!(null)), r#""\u2028""#);
    }

    #[test]
    fn unknown_functions_are_parse_errors() {
        assert_eq!(
            parse_err("{{foo}}"),
            r#"template: :1: function "foo" not defined"#
        );
        // Not in podman's function map either.
        assert_eq!(
            parse_err(r#"{{contains .X "a"}}"#),
            r#"template: :1: function "contains" not defined"#
        );
        assert_eq!(
            parse_err("\n\n{{humanize .Size}}"),
            r#"template: :3: function "humanize" not defined"#
        );
    }

    #[test]
    fn call_is_defined_but_has_nothing_to_call() {
        assert_eq!(
            exec_err("{{call .F 1}}", json!({"F": "x"})),
            r#"template: :1:2: executing "" at <call .F 1>: error calling call: non-function .F of type string"#
        );
    }
}

mod printf {
    use super::*;

    fn pf(args: &str) -> String {
        run(
            &format!("{{{{printf {args}}}}}"),
            json!({
                "Arr": ["a", "b"], "Ints": [1, 2], "M": {"b": 2, "a": 1}, "F": 1.23456
            }),
        )
    }

    #[test]
    fn verbs() {
        let cases = [
            (r#""%s" "x""#, "x"),
            (r#""%v|%d" 42 42"#, "42|42"),
            (r#""%5d|%-5d|%05d" 42 42 42"#, "   42|42   |00042"),
            (r#""%05d" -42"#, "-0042"),
            (r#""%x %X %o %b %O" 255 255 8 5 8"#, "ff FF 10 101 0o10"),
            (r#""%#x %#X %#o %#b" 255 255 8 5"#, "0xff 0XFF 010 0b101"),
            (r#""%x" -255"#, "-ff"),
            (r#""%+d|% d|%+d" 5 5 -5"#, "+5| 5|-5"),
            (r#""%.3d|%.0d|%3.0d|" 7 0 0"#, "007||   |"),
            (r#""%q" "a\"b\n""#, r#""a\"b\n""#),
            (r#""%#q" "ab""#, "`ab`"),
            (r#""%+q" "é""#, r#""\u00e9""#),
            (r#""%q" 97"#, "'a'"),
            (r#""%c|%U|%#U" 65 65 233"#, "A|U+0041|U+00E9 'é'"),
            (r#""%t %v" true false"#, "true false"),
            (r#""%-10s|%10s|" "ab" "ab""#, "ab        |        ab|"),
            (r#""%.2s|%5.1s|" "abcdef" "xyz""#, "ab|    x|"),
            (r#""%05s" "ab""#, "   ab"),
            (
                r#""%x %X % x %#x" "hi" "hi" "hi" "hi""#,
                "6869 6869 68 69 0x6869",
            ),
            (r#""%v %s" .Arr .Arr"#, "[a b] [a b]"),
            (r#""%d" .Ints"#, "[1 2]"),
            (r#""%q" .Arr"#, r#"["a" "b"]"#),
            (r#""%v" .M"#, "map[a:1 b:2]"),
            (r#""%#v" .M"#, r#"map[string]interface {}{"a":1, "b":2}"#),
            (r#""%#v %#v" "s" .Arr"#, r#""s" []interface {}{"a", "b"}"#),
            (
                r#""%T %T %T %T %T" 1 "a" 1.5 .Arr .M"#,
                "int string float64 []interface {} map[string]interface {}",
            ),
            (r#""%%|%5.2f%%" 12.3456"#, "%|12.35%"),
        ];
        for (args, want) in cases {
            assert_eq!(pf(args), want, "{args}");
        }
    }

    #[test]
    fn floats() {
        let cases = [
            (r#""%5.2f" .F"#, " 1.23"),
            (r#""%f" .F"#, "1.234560"),
            (r#""%.0f %.0f %.0f" 0.5 1.5 2.5"#, "0 2 2"),
            (r#""%08.3f" -3.14159"#, "-003.142"),
            (r#""%+.1f|% .1f" 2.0 2.0"#, "+2.0| 2.0"),
            (r#""%-8.2f|" 2.5"#, "2.50    |"),
            (r#""%e" 0.0"#, "0.000000e+00"),
            (r#""%.3e" 1234.5678"#, "1.235e+03"),
            (r#""%E" 1e-10"#, "1.000000E-10"),
            (
                r#""%g %g %g" 100000.0 1e6 0.000012345"#,
                "100000 1e+06 1.2345e-05",
            ),
            (
                r#""%.3g %.3g %.10g" 1234.5678 0.0001234 1.5"#,
                "1.23e+03 0.000123 1.5",
            ),
            (r#""%G" 1e-7"#, "1E-07"),
            (r#""%v %v" 1e21 1e20"#, "1e+21 1e+20"),
            (r#""%v" 0.1"#, "0.1"),
            // JSON cannot keep Go's float64 type for integral values, so
            // float verbs accept integers.
            (r#""%.2f" 3"#, "3.00"),
        ];
        for (args, want) in cases {
            assert_eq!(pf(args), want, "{args}");
        }
    }

    #[test]
    fn error_annotations() {
        let cases = [
            (r#""%d" "s""#, "%!d(string=s)"),
            (r#""%s" 5"#, "%!s(int=5)"),
            (r#""%d" 1.5"#, "%!d(float64=1.5)"),
            (r#""%s" true"#, "%!s(bool=true)"),
            (r#""%5d" "foo""#, "%!d(string=  foo)"),
            (r#""%d""#, "%!d(MISSING)"),
            (r#""x" 1"#, "x%!(EXTRA int=1)"),
            (r#""x" 1 "a""#, "x%!(EXTRA int=1, string=a)"),
            (r#""%""#, "%!(NOVERB)"),
            (r#""%v|%s" nil nil"#, "<nil>|%!s(<nil>)"),
            (r#""%s" .Ints"#, "[%!s(int=1) %!s(int=2)]"),
            (r#""%*d|%-*d|" 5 1 3 2"#, "    1|2  |"),
            (r#""%*d" "x" 1"#, "%!(BADWIDTH)1"),
            (r#""%.*f" -1 1.0"#, "%!(BADPREC)1.000000"),
            (r#""%[2]d %[1]d" 1 2"#, "2 1"),
            (r#""%[3]d" 1 2"#, "%!d(BADINDEX)"),
            (r#""%z" 1"#, "%!z(int=1)"),
        ];
        for (args, want) in cases {
            assert_eq!(pf(args), want, "{args}");
        }
    }
}

mod errors {
    use super::*;

    #[test]
    fn parse_errors() {
        let cases = [
            ("{{if .X}}", "template: :1: unexpected EOF"),
            ("{{range .}}a", "template: :1: unexpected EOF"),
            ("{{end}}", "template: :1: unexpected {{end}}"),
            ("{{else}}", "template: :1: unexpected {{else}}"),
            ("{{.X", "template: :1: unclosed action"),
            ("{{", "template: :1: unclosed action"),
            ("a\n{{.X\n\n", "template: :4: unclosed action started at :2"),
            (r#"{{"abc}}"#, "template: :1: unterminated quoted string"),
            ("{{`abc}}", "template: :1: unterminated raw quoted string"),
            ("{{'a}}", "template: :1: unterminated character constant"),
            ("{{(.X}}", "template: :1: unclosed left paren"),
            ("{{.X)}}", "template: :1: unexpected right paren"),
            ("{{.X:}}", "template: :1: expected :="),
            ("{{.X@}}", "template: :1: bad character U+0040 '@'"),
            ("{{é}}", "template: :1: function \"é\" not defined"),
            ("{{.X ^}}", r#"template: :1: unexpected "^" in operand"#),
            ("{{}}", "template: :1: missing command in command"),
            ("{{if}}{{end}}", "template: :1: missing command in if"),
            (
                "{{range $i, 3 := .}}{{end}}",
                "template: :1: range can only initialize variables",
            ),
            ("{{end 1}}", r#"template: :1: unexpected "1" in end"#),
            (
                "{{\"a\".X}}",
                r#"template: :1: unexpected . after term "\"a\"""#,
            ),
            (
                "{{if 1}}{{else}}{{else}}{{end}}",
                "template: :1: expected end; found {{else}}",
            ),
            (
                "{{template .X}}",
                r#"template: :1: unexpected ".X" in template clause"#,
            ),
            (
                "{{template .}}",
                "template: :1: unexpected <.> in template clause",
            ),
            ("{{define \"x\"}}", "template: :1: unexpected EOF"),
            (
                "{{with .}}{{else if 1}}{{end}}",
                "template: :1: unexpected <if> in input",
            ),
            (
                "{{printf \"%d\"3}}",
                r#"template: :1: unexpected "3" in operand"#,
            ),
            ("{{\"\\z\"}}", "template: :1: invalid syntax"),
            (
                "{{'ab'}}",
                "template: :1: malformed character constant: 'ab'",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(parse_err(t), want, "{t:?}");
        }
    }

    #[test]
    fn exec_errors_name_the_node() {
        assert_eq!(
            exec_err("{{.Foo.Bar}}", json!({"Foo": "s"})),
            r#"template: :1:6: executing "" at <.Foo.Bar>: can't evaluate field Bar in type string"#
        );
        assert_eq!(
            exec_err("{{.Foo}}", json!(["a"])),
            r#"template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type []interface {}"#
        );
        assert_eq!(
            exec_err("a\n{{.X.Y}}", json!({"X": "s"})),
            r#"template: :2:4: executing "" at <.X.Y>: can't evaluate field Y in type string"#
        );
        assert_eq!(
            exec_err(r#"{{"a" "b"}}"#, json!(null)),
            r#"template: :1:2: executing "" at <"a">: can't give argument to non-function "a""#
        );
        assert_eq!(
            exec_err("{{nil}}", json!(null)),
            r#"template: :1:2: executing "" at <nil>: nil is not a command"#
        );
        assert_eq!(
            exec_err("{{printf}}", json!(null)),
            r#"template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0"#
        );
        // Long node texts are cut at 20 characters like Go does.
        assert_eq!(
            exec_err(
                r#"{{index .Aaaaaaaaaaaa "bbbbbbbb"}}"#,
                json!({"Aaaaaaaaaaaa": 1})
            ),
            r#"template: :1:2: executing "" at <index .Aaaaaaaaaaaa ...>: error calling index: can't index item of type int"#
        );
        let named = Template::parse_named("ps", "{{.A.B}}").unwrap();
        assert_eq!(
            named.execute(&json!({"A": 1})).unwrap_err().to_string(),
            r#"template: ps:1:4: executing "ps" at <.A.B>: can't evaluate field B in type int"#
        );
        assert_eq!(
            Template::parse_named("ps", "{{x}}")
                .unwrap_err()
                .to_string(),
            r#"template: ps:1: function "x" not defined"#
        );
    }

    #[test]
    fn partial_output_survives_errors() {
        let t = Template::parse("a{{.X.Y}}b").unwrap();
        let mut out = Vec::new();
        assert!(t.execute_to(&json!({"X": 1}), &mut out).is_err());
        assert_eq!(out, b"a");
    }
}

mod robustness {
    use super::*;

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let n = 5000;
        let ifs = "{{if 1}}".repeat(n) + &"{{end}}".repeat(n);
        assert!(parse_err(&ifs).contains("max expression depth exceeded"));
        let parens = "{{".to_string() + &"(".repeat(n) + "1" + &")".repeat(n) + "}}";
        assert!(parse_err(&parens).contains("max expression depth exceeded"));
        let ranges = "{{range .}}".repeat(n);
        assert!(Template::parse(&ranges).is_err());
        // Just below the limit still works.
        let ok = "{{with 1}}".repeat(90) + "x" + &"{{end}}".repeat(90);
        assert_eq!(run(&ok, json!(null)), "x");
    }

    #[test]
    fn unterminated_inputs() {
        for t in [
            "{{",
            "{{-",
            "{{- ",
            "{{ -}}",
            "{{{{",
            "{{/*",
            "{{/**/",
            "{{\"",
            "{{'",
            "{{`",
            "{{(",
            "{{)",
            "{{$",
            "{{$x :=",
            "{{.",
            "{{..",
            "{{range",
            "{{if}}",
            "{{template",
            "{{define",
            "{{block \"x\" .}}",
            "{{0x",
            "{{1e",
            "{{'\\",
            "{{\"\\",
            "{{else if",
        ] {
            assert!(Template::parse(t).is_err(), "{t:?}");
        }
    }

    /// Random token soup must never panic or hang in parse or execution.
    #[test]
    fn token_soup_never_panics() {
        const PIECES: &[&str] = &[
            "{{",
            "}}",
            "{{- ",
            " -}}",
            ".",
            ".A",
            ".B.C",
            "$",
            "$x",
            ":=",
            "=",
            "|",
            "(",
            ")",
            " ",
            "\n",
            "if",
            "else",
            "end",
            "range",
            "with",
            "break",
            "continue",
            "define",
            "template",
            "block",
            "\"s\"",
            "`r`",
            "'c'",
            "1",
            "-2",
            "3.5",
            "0x1f",
            "nil",
            "true",
            "index",
            "len",
            "slice",
            "printf",
            "\"%d %s %v %5.2f\"",
            "eq",
            "lt",
            "and",
            "or",
            "not",
            "json",
            "split",
            "join",
            "truncate",
            "pad",
            "upper",
            "html",
            "js",
            ",",
            "/*",
            "*/",
            "@",
            "é",
            "\\",
            "call",
            "print",
            "urlquery",
        ];
        let data = json!({"A": [1, "x", null, {"k": 2.5}], "B": {"C": {"D": true}}, "S": "str"});
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let mut t = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 1 + (seed % 14) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                t.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            if let Ok(tmpl) = Template::parse(&t) {
                let _ = tmpl.execute(&data);
            }
            let _ = render(
                &format!("table {t}"),
                std::slice::from_ref(&data),
                &HashMap::new(),
                &mut Vec::new(),
            );
        }
    }
}

mod go_json {
    use super::*;

    #[test]
    fn marshal_escapes_html_and_indent_matches_marshal_indent() {
        let v = json!({"a": [1, 2], "b": {}, "c": "<&>", "d": []});
        assert_eq!(
            to_go_json(&v, true, None),
            r#"{"a":[1,2],"b":{},"c":"\u003c\u0026\u003e","d":[]}"#
        );
        assert_eq!(
            to_go_json(&v, false, Some("    ")),
            "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": {},\n    \"c\": \"<&>\",\n    \"d\": []\n}"
        );
        assert_eq!(
            to_go_json(&json!("\u{8}\u{c}\u{1f}\"\\"), true, None),
            r#""\b\f\u001f\"\\""#
        );
    }
}

mod report_conventions {
    use super::*;

    #[test]
    fn json_and_table_detection() {
        for yes in [
            "json",
            " json\n",
            "{{json}}",
            "{{ json }}",
            "{{json.}}",
            "{{ json. }}",
            "{{json .}}",
            "{{ json . }}",
        ] {
            assert!(is_json(yes), "{yes:?}");
        }
        for no in [
            "JSON",
            "{{json .ID}}",
            "{{jsonx}}",
            "jsonx",
            "table json",
            "",
        ] {
            assert!(!is_json(no), "{no:?}");
        }
        assert!(is_table("table {{.ID}}"));
        assert!(!is_table("table"));
        assert!(!is_table("{{.ID}} table"));
    }

    #[test]
    fn normalize_like_podman() {
        let cases = [
            ("{{.ID}}\t{{.ID}}", "{{.ID}}\t{{.ID}}\n"),
            (r"{{.ID}}\t{{.ID}}", "{{.ID}}\t{{.ID}}\n"),
            (r"{{.ID}}\n", "{{.ID}}\n"),
            ("{{.ID}} {{.ID}}", "{{.ID}} {{.ID}}\n"),
            (r"table {{.ID}}\t{{.ID}}", "{{.ID}}\t{{.ID}}\n"),
            ("table {{.ID}} {{.ID}}", "{{.ID}}\t{{.ID}}\n"),
            ("table {{ .ID }}\n", "{{\t.ID\t}}\n"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_format(input), want, "{input:?}");
        }
    }

    #[test]
    fn enforce_range_like_podman() {
        let r = "{{range .}}foobar was here{{end -}}";
        assert_eq!(enforce_range(r), r);
        assert_eq!(enforce_range("foobar was here"), r);
        let r2 = "{{range .}}foobar was here{{end}}";
        assert_eq!(enforce_range(r2), r2);
        let r3 = "{{ range . }}x{{ end - }}";
        assert_eq!(enforce_range(r3), r3);
        assert_eq!(
            enforce_range("{{range .Mounts}}x{{end}}"),
            "{{range .}}{{range .Mounts}}x{{end}}{{end -}}"
        );
    }

    #[test]
    fn camelcase_headers() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("lowercase", &["lowercase"]),
            ("MyClass", &["My", "Class"]),
            ("MyC", &["My", "C"]),
            ("HTML", &["HTML"]),
            ("PDFLoader", &["PDF", "Loader"]),
            ("AString", &["A", "String"]),
            ("SimpleXMLParser", &["Simple", "XML", "Parser"]),
            ("vimRPCPlugin", &["vim", "RPC", "Plugin"]),
            ("GL11Version", &["GL", "11", "Version"]),
            ("99Bottles", &["99", "Bottles"]),
            ("May5", &["May", "5"]),
            ("BFG9000", &["BFG", "9000"]),
            ("BöseÜberraschung", &["Böse", "Überraschung"]),
            ("Two  spaces", &["Two", "  ", "spaces"]),
        ];
        for (input, want) in cases {
            assert_eq!(report::camelcase_split(input), *want, "{input:?}");
        }
        assert_eq!(default_header("RepoTags"), "REPO TAGS");
        assert_eq!(default_header("ID"), "ID");
        assert_eq!(default_header("FieldA"), "FIELD A");
        assert_eq!(default_header("Fieldb"), "FIELDB");
        assert_eq!(default_header("CreatedAt"), "CREATED AT");
    }

    fn rows() -> Vec<Value> {
        vec![
            json!({"ID": "c061a0839e", "Value": "one"}),
            json!({"ID": "f10fc2e11057", "Value": "two"}),
            json!({"ID": "1eb6fab5aa8f4b5cbfd3e66aa35e9b2a", "Value": "three"}),
        ]
    }

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn render_str(t: &str, opts: &RenderOptions) -> Result<String, TemplateError> {
        let mut out = Vec::new();
        let h = headers(&[("ID", "Identity"), ("Value", "Value")]);
        let r = render_with(t, &rows(), &h, opts, &mut out);
        r.map(|()| String::from_utf8(out).unwrap())
    }

    fn user(t: &str) -> String {
        render_str(t, &RenderOptions::default()).unwrap()
    }

    #[test]
    fn formatter_cases_from_podman() {
        let ids = "c061a0839e\nf10fc2e11057\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\n";
        for t in [
            "table {{ .ID}}",
            "table {{ .ID}}\n",
            r"table {{ .ID}}\n",
            "table {{.ID}}",
        ] {
            assert_eq!(user(t), format!("IDENTITY\n{ids}"), "{t:?}");
        }
        assert_eq!(
            user("table {{.ID}}\t{{.Value}}"),
            "IDENTITY                          VALUE\n\
             c061a0839e                        one\n\
             f10fc2e11057                      two\n\
             1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n"
        );
        // Spaces in table templates become column separators.
        assert_eq!(
            user("table {{.ID}} {{.Value}}"),
            user("table {{.ID}}\t{{.Value}}")
        );
        assert_eq!(
            user("{{range .}}{{.ID}}\tID{{end}}"),
            "c061a0839e\tIDf10fc2e11057\tID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tID\n"
        );
        assert_eq!(
            user("{{range .}}{{.ID}}\tID\n{{end}}"),
            "c061a0839e\tID\nf10fc2e11057\tID\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tID\n\n"
        );
        assert_eq!(
            user("{{range .}}{{.ID}}{{end -}}"),
            "c061a0839ef10fc2e110571eb6fab5aa8f4b5cbfd3e66aa35e9b2a"
        );
        // Normalising `\n` breaks the string literal, so the raw text is used.
        assert_eq!(user(r#"{{range .}}{{printf "\n"}}{{end -}}"#), "\n\n\n");
        assert_eq!(user(r#"table {{printf "\n"}}"#), "\n\n\n\n");
        assert_eq!(
            user("ID\t{{.ID}}"),
            "ID\tc061a0839e\nID\tf10fc2e11057\nID\t1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\n"
        );
        assert_eq!(user("{{.ID}}"), ids);
        let podman = RenderOptions {
            origin: Origin::Podman,
            ..RenderOptions::default()
        };
        assert_eq!(
            render_str("Value\tIdent\n{{range .}}{{.ID}}\tID{{end}}", &podman).unwrap(),
            "Value       Ident\nIDENTITY    ID\nValue       Ident\n\
             c061a0839e  IDf10fc2e11057  ID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  ID\n"
        );
        let noheading = RenderOptions {
            no_heading: true,
            ..RenderOptions::default()
        };
        assert_eq!(render_str("table {{.ID}}", &noheading).unwrap(), ids);
    }

    #[test]
    fn headers_then_rows_without_tabwriter() {
        let f =
            Formatter::parse(Origin::User, "", "{{.Field1}}\t{{.Field2}}\t{{.Field3}}").unwrap();
        let mut out = String::new();
        f.execute_headers(
            &headers(&[("Field1", "Eins"), ("Field2", "Zwei"), ("Field3", "Drei")]),
            &mut out,
        )
        .unwrap();
        f.execute(
            &[
                json!({"Field1": "One", "Field2": 1, "Field3": "First"}),
                json!({"Field1": "Two", "Field2": 2, "Field3": "Second"}),
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, "EINS\tZWEI\tDREI\nOne\t1\tFirst\nTwo\t2\tSecond\n");
    }

    const PS: &str = "{{range .}}{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\n{{end -}}";

    fn ps_headers() -> HashMap<String, String> {
        headers(&[("ID", "container id"), ("CreatedHuman", "created")])
    }

    #[test]
    fn ps_default_table() {
        let podman = RenderOptions {
            origin: Origin::Podman,
            ..RenderOptions::default()
        };
        let mut out = Vec::new();
        render_with(PS, &[], &ps_headers(), &podman, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "CONTAINER ID  IMAGE       COMMAND     CREATED     STATUS      PORTS       NAMES\n"
        );
        let row = json!({
            "ID": "abc123def456", "Image": "quay.io/podman/hello:latest", "Command": "/bin/sh",
            "CreatedHuman": "2 minutes ago", "Status": "Up 2 minutes", "Ports": "", "Names": "happy_cat"
        });
        let mut out = Vec::new();
        render_with(PS, &[row], &ps_headers(), &podman, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "CONTAINER ID  IMAGE                        COMMAND     CREATED        STATUS        PORTS       NAMES\n\
             abc123def456  quay.io/podman/hello:latest  /bin/sh     2 minutes ago  Up 2 minutes              happy_cat\n"
        );
    }

    #[test]
    fn table_headers_for_odd_expressions() {
        let rows = [
            json!({"ID": "abc", "Labels": {"app": "web"}, "Label": {"app": "web"}, "Mounts": ["/a"]}),
        ];
        let mut out = Vec::new();
        render(
            r#"table {{.ID}}\t{{.Labels.app}}\t{{.Label "app"}}\t{{upper .ID}}\t{{range .Mounts}}{{.}}{{end}}|"#,
            &rows,
            &HashMap::new(),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID          LABELS      LABEL       ID          |\n\
             abc         web         web         ABC         /a|\n"
        );
    }

    #[test]
    fn exec_errors_keep_partial_output() {
        let mut out = Vec::new();
        let e = render(
            "{{.ID}} {{index .A 3}}",
            &[
                json!({"ID": "a", "A": [1, 2, 3, 4]}),
                json!({"ID": "b", "A": []}),
            ],
            &HashMap::new(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(String::from_utf8(out).unwrap(), "a 4\nb ");
        assert_eq!(
            e.to_string(),
            r#"template: :1:21: executing "" at <index .A 3>: error calling index: index out of range: 3"#
        );
        let mut out = Vec::new();
        let named = RenderOptions {
            name: "inspect".into(),
            ..RenderOptions::default()
        };
        let e = render_with(
            "{{.X.Y}}",
            &[json!({"X": 1})],
            &HashMap::new(),
            &named,
            &mut out,
        )
        .unwrap_err();
        // The range wrapper podman adds shifts the reported column.
        assert_eq!(
            e.to_string(),
            r#"template: inspect:1:15: executing "inspect" at <.X.Y>: can't evaluate field Y in type int"#
        );
    }
}

mod tabwriter_semantics {
    use super::super::tabwriter::{ALIGN_RIGHT, DEBUG};
    use super::*;
    use std::io::Write;

    fn tw(
        input: &str,
        minwidth: usize,
        tabwidth: usize,
        padding: usize,
        padchar: u8,
        flags: u32,
    ) -> String {
        let mut out = Vec::new();
        {
            let mut w = TabWriter::new(&mut out, minwidth, tabwidth, padding, padchar, flags);
            w.write_all(input.as_bytes()).unwrap();
            w.flush().unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    fn podman(input: &str) -> String {
        tw(input, 12, 2, 2, b' ', 0)
    }

    #[test]
    fn go_example_elastic() {
        assert_eq!(
            tw(
                "a\tb\tc\naa\tbb\tcc\naaa\t\naaaa\tdddd\teeee\n",
                0,
                0,
                1,
                b'.',
                ALIGN_RIGHT | DEBUG
            ),
            "....a|..b|c\n...aa|.bb|cc\n..aaa|\n.aaaa|.dddd|eeee\n"
        );
    }

    #[test]
    fn go_example_trailing_tab() {
        assert_eq!(
            tw(
                "a\tb\taligned\t\naa\tbb\taligned\t\naaa\tbbb\tunaligned\naaaa\tbbbb\taligned\t\n",
                0, 0, 3, b'-', ALIGN_RIGHT | DEBUG
            ),
            "------a|------b|---aligned|\n-----aa|-----bb|---aligned|\n----aaa|----bbb|unaligned\n---aaaa|---bbbb|---aligned|\n"
        );
    }

    #[test]
    fn go_example_init() {
        assert_eq!(
            tw(
                "a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n",
                0,
                8,
                0,
                b'\t',
                0
            ),
            "a\tb\tc\td\t\t.\n123\t12345\t1234567\t123456789\t.\n\n"
        );
        assert_eq!(
            tw(
                "a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n",
                5,
                0,
                1,
                b' ',
                ALIGN_RIGHT
            ),
            "    a     b       c         d.\n  123 12345 1234567 123456789.\n\n"
        );
    }

    #[test]
    fn podman_writer_columns() {
        assert_eq!(podman("a\tb\nccc\td\n"), "a           b\nccc         d\n");
        assert_eq!(
            podman("0123456789abcd\tb\nc\td\n"),
            "0123456789abcd  b\nc               d\n"
        );
        // Empty cells still occupy their column.
        assert_eq!(
            podman("\tb\tc\na\t\tc\n"),
            "            b           c\na                       c\n"
        );
        // Trailing cells never widen a column.
        assert_eq!(
            podman("a\tthis is a very long trailing cell\nb\tc\n"),
            "a           this is a very long trailing cell\nb           c\n"
        );
        // A line without tabs ends the column block.
        assert_eq!(
            podman("a\tb\nplain line\nccccccccccccccc\td\n"),
            "a           b\nplain line\nccccccccccccccc  d\n"
        );
        // Blocks are per column: the second column only spans lines that have it.
        assert_eq!(
            podman("a\tb\tc\nxxxxxxxxxxxxxxxxxxx\ty\nd\te\tf\n"),
            "a                    b           c\nxxxxxxxxxxxxxxxxxxx  y\nd                    e           f\n"
        );
        // Width counts characters, not bytes.
        assert_eq!(
            podman("héllo\tx\nab\ty\n"),
            "héllo       x\nab          y\n"
        );
        // Unterminated final line is flushed without a newline.
        assert_eq!(podman("a\tb\nc\td"), "a           b\nc           d");
        assert_eq!(podman(""), "");
    }

    #[test]
    fn written_in_pieces_or_dropped_unflushed() {
        let mut out = Vec::new();
        {
            let mut w = TabWriter::podman(&mut out);
            for piece in ["a", "\t", "b\nlo", "ng", "er\t", "c\n"] {
                w.write_all(piece.as_bytes()).unwrap();
            }
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a           b\nlonger      c\n"
        );
    }
}

mod stack_safety {
    use super::*;

    /// The worst case per nesting level is a parenthesised argument; even
    /// recursing to the limit through such arguments must end in an error
    /// on a 2 MiB thread (tokio's worker size), in debug builds too.
    #[test]
    fn recursion_through_parens_fits_small_stacks() {
        let parens = 90;
        let arg = "(print ".repeat(parens) + "." + &")".repeat(parens);
        let t = format!(
            r#"{{{{define "r"}}}}{{{{template "r" {arg}}}}}{{{{end}}}}{{{{template "r" .}}}}"#
        );
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let tmpl = Template::parse(&t).unwrap();
                tmpl.execute(&json!(1)).unwrap_err().to_string()
            })
            .unwrap();
        let e = handle.join().unwrap();
        assert!(e.contains("exceeded maximum template depth"), "{e}");
    }

    #[test]
    fn deep_parse_fits_small_stacks() {
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let n = 99;
                let t =
                    "{{if 1}}(".repeat(n) + "{{(" + &"(".repeat(n) + "1" + &")".repeat(n) + ")}}";
                Template::parse(&t).unwrap_err().to_string()
            })
            .unwrap();
        assert!(handle
            .join()
            .unwrap()
            .contains("max expression depth exceeded"));
    }
}

mod podman_usage {
    use super::*;

    fn user(t: &str, rows: &[Value]) -> String {
        let mut out = Vec::new();
        render(t, rows, &HashMap::new(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn common_command_line_templates() {
        let ctr = json!({
            "Id": "f00dfeed", "State": {"Status": "running", "Health": null},
            "Config": {"Labels": {"app": "web", "tier": "front"}, "Env": ["A=1", "B=<2>"]},
            "Mounts": [{"Source": "/src", "Destination": "/dst"}, {"Source": "/a", "Destination": "/b"}],
            "NetworkSettings": {"Networks": {"podman": {"IPAddress": "10.88.0.2"}}}
        });
        let rows = [ctr];
        let cases = [
            ("{{.ID}}", "f00dfeed\n"),
            ("{{.State.Status}}", "running\n"),
            ("[{{.State.Health.Status}}]", "[]\n"),
            (
                "{{if eq .State.Status \"running\"}}up{{else}}down{{end}}",
                "up\n",
            ),
            ("{{.Config.Labels.app}}", "web\n"),
            (r#"{{index .Config.Labels "tier"}}"#, "front\n"),
            (
                "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}",
                "app=web tier=front \n",
            ),
            ("{{json .Config.Env}}", "[\"A=1\",\"B=<2>\"]\n"),
            (
                "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}",
                "/src:/dst /a:/b \n",
            ),
            (
                "{{.NetworkSettings.Networks.podman.IPAddress}}",
                "10.88.0.2\n",
            ),
            (
                r#"{{(index .NetworkSettings.Networks "podman").IPAddress}}"#,
                "10.88.0.2\n",
            ),
            ("{{len .Mounts}} mounts", "2 mounts\n"),
            (r"{{.ID}}\t{{.State.Status}}", "f00dfeed\trunning\n"),
        ];
        for (t, want) in cases {
            assert_eq!(user(t, &rows), want, "{t}");
        }
    }

    #[test]
    fn images_table_with_spaces() {
        let rows =
            [json!({"Repository": "quay.io/podman/hello", "Tag": "latest", "Size": "82.3kB"})];
        assert_eq!(
            user("table {{.Repository}}:{{.Tag}} {{.Size}}", &rows),
            "REPOSITORY:TAG               SIZE\nquay.io/podman/hello:latest  82.3kB\n"
        );
    }
}
