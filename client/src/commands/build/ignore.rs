//! `.containerignore` / `.dockerignore` patterns with Docker's rules (the PatternMatcher of
//! Docker's and containers/storage's `fileutils`): each line a cleaned path pattern in Go
//! `filepath.Match` syntax, `**` for any number of directories, a leading `!` for an
//! exception; the last pattern that matches a path decides; a pattern that matches a
//! directory also matches everything below it.

use regex::Regex;

#[derive(Debug)]
struct Pattern {
    /// The cleaned pattern, without its `!`.
    text: String,
    exception: bool,
    re: Regex,
}

#[derive(Debug, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

/// The patterns of an ignore file: blank lines and `#` comments dropped, as podman does.
pub fn parse_file(text: &str) -> Vec<String> {
    text.split('\n')
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Go's `path.Clean` (lexical: `.`/`..` resolved, slashes collapsed).
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

impl Matcher {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Matcher, String> {
        let mut out = Vec::new();
        for raw in patterns {
            let p = raw.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let (exception, body) = match p.strip_prefix('!') {
                Some(rest) => {
                    if rest.trim().is_empty() {
                        return Err("illegal exclusion pattern: \"!\"".into());
                    }
                    (true, rest.trim())
                }
                None => (false, p),
            };
            // The context root is both the working and the root directory: "/a" is "a".
            let mut text = clean(body);
            while let Some(rest) = text.strip_prefix('/') {
                text = rest.to_string();
            }
            if text.is_empty() {
                text = ".".into();
            }
            let re = compile(&text)
                .map_err(|e| format!("syntax error in pattern {raw:?}: {e}", raw = raw.as_ref()))?;
            out.push(Pattern {
                text,
                exception,
                re,
            });
        }
        Ok(Matcher { patterns: out })
    }

    /// Whether `path` (relative to the context, `/`-separated) is excluded.
    pub fn excluded(&self, path: &str) -> bool {
        let mut matched = false;
        for p in &self.patterns {
            if p.re.is_match(path) {
                matched = !p.exception;
            }
        }
        matched
    }

    /// Whether some exception could re-include a path below the excluded directory `dir`,
    /// so that the directory must still be walked. Conservative: it answers yes unless the
    /// pattern's leading segments provably cannot match the directory's.
    pub fn exception_may_match_below(&self, dir: &str) -> bool {
        let dir_parts: Vec<&str> = dir.split('/').collect();
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| prefix_may_match(&p.text, &dir_parts))
    }
}

fn prefix_may_match(pattern: &str, dir_parts: &[&str]) -> bool {
    let pat_parts: Vec<&str> = pattern.split('/').collect();
    for (i, d) in dir_parts.iter().enumerate() {
        let Some(pp) = pat_parts.get(i) else {
            // The pattern matched an ancestor of dir: it re-includes dir's whole subtree.
            return true;
        };
        if pp.contains("**") {
            return true;
        }
        match compile_segment(pp) {
            Ok(re) if re.is_match(d) => {}
            Ok(_) => return false,
            Err(_) => return true,
        }
    }
    true
}

fn compile_segment(seg: &str) -> Result<Regex, String> {
    let body = translate(seg)?;
    Regex::new(&format!("^{body}$")).map_err(|e| e.to_string())
}

/// The pattern as an anchored regular expression that also matches any path below a match.
fn compile(pattern: &str) -> Result<Regex, String> {
    let body = translate(pattern)?;
    Regex::new(&format!("^{body}(/.*)?$")).map_err(|e| e.to_string())
}

/// Translate `filepath.Match` syntax plus `**` to regex syntax: `*` is any run of non-`/`,
/// `?` one non-`/`, `**` any number of directories (everything when it ends the pattern),
/// `[...]` a character class, `\c` the literal c; everything else literal.
fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' => {
                if chars.get(i + 1) == Some(&'*') {
                    i += 1;
                    if chars.get(i + 1) == Some(&'/') {
                        i += 1;
                    }
                    if i + 1 >= chars.len() {
                        out.push_str(".*");
                    } else {
                        out.push_str("(.*/)?");
                    }
                } else {
                    out.push_str("[^/]*");
                }
            }
            '?' => out.push_str("[^/]"),
            '\\' => {
                let Some(next) = chars.get(i + 1) else {
                    return Err("trailing backslash".into());
                };
                out.push_str(&regex::escape(&next.to_string()));
                i += 1;
            }
            '[' => {
                let mut j = i + 1;
                let mut class = String::from("[");
                if chars.get(j) == Some(&'^') {
                    class.push('^');
                    j += 1;
                }
                let start = j;
                loop {
                    let Some(&cc) = chars.get(j) else {
                        return Err("unterminated character class".into());
                    };
                    if cc == ']' && j > start {
                        break;
                    }
                    if cc == '\\' {
                        let Some(&n) = chars.get(j + 1) else {
                            return Err("trailing backslash".into());
                        };
                        class.push_str(&regex::escape(&n.to_string()));
                        j += 2;
                        continue;
                    }
                    if matches!(cc, '[' | ']' | '&' | '~' | '^') {
                        class.push('\\');
                    }
                    class.push(cc);
                    j += 1;
                }
                class.push(']');
                out.push_str(&class);
                i = j;
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &[&str]) -> Matcher {
        Matcher::new(patterns).expect("valid patterns")
    }

    #[test]
    fn docker_documented_examples() {
        // From Docker's .dockerignore documentation.
        let pm = m(&["*/temp*", "*/*/temp*", "temp?"]);
        assert!(pm.excluded("somedir/temporary.txt"));
        assert!(pm.excluded("somedir/temp"));
        assert!(pm.excluded("somedir/subdir/temporary.txt"));
        assert!(pm.excluded("tempa"));
        assert!(pm.excluded("tempb/file"));
        assert!(!pm.excluded("temp"));
        assert!(!pm.excluded("temporary.txt"));
        assert!(!pm.excluded("a/b/c/temp"));
    }

    #[test]
    fn double_star_matches_any_number_of_directories() {
        let pm = m(&["**/*.go"]);
        assert!(pm.excluded("main.go"));
        assert!(pm.excluded("a/b/c/main.go"));
        assert!(!pm.excluded("main.rs"));
        let pm = m(&["a/**"]);
        assert!(pm.excluded("a/x"));
        assert!(pm.excluded("a/x/y"));
        let pm = m(&["a/**/z"]);
        assert!(pm.excluded("a/z"));
        assert!(pm.excluded("a/b/c/z"));
        assert!(!pm.excluded("b/z"));
    }

    #[test]
    fn exceptions_and_last_match_wins() {
        // Docker's example: all markdown files but README.md.
        let pm = m(&["*.md", "!README.md"]);
        assert!(pm.excluded("CHANGES.md"));
        assert!(!pm.excluded("README.md"));
        // Docker's example: README-secret.md excluded again by a later pattern.
        let pm = m(&["*.md", "!README*.md", "README-secret.md"]);
        assert!(pm.excluded("README-secret.md"));
        assert!(!pm.excluded("README-public.md"));
        assert!(pm.excluded("other.md"));
        // ... and re-included when the exception comes last.
        let pm = m(&["*.md", "README-secret.md", "!README*.md"]);
        assert!(!pm.excluded("README-secret.md"));
    }

    #[test]
    fn directory_patterns_cover_their_contents() {
        let pm = m(&["build"]);
        assert!(pm.excluded("build"));
        assert!(pm.excluded("build/out/x.o"));
        assert!(!pm.excluded("builder"));
        assert!(!pm.excluded("src/build"));
        let pm = m(&["build", "!build/keep"]);
        assert!(pm.excluded("build/out"));
        assert!(!pm.excluded("build/keep"));
        assert!(!pm.excluded("build/keep/inner"));
        assert!(pm.exception_may_match_below("build"));
        assert!(!pm.exception_may_match_below("other"));
    }

    #[test]
    fn exceptions_below_excluded_directories() {
        let pm = m(&["*", "!src/*.rs"]);
        assert!(pm.excluded("src"));
        assert!(pm.exception_may_match_below("src"));
        assert!(!pm.exception_may_match_below("target"));
        assert!(!pm.excluded("src/main.rs"));
        assert!(pm.excluded("src/notes.txt"));
        let pm = m(&["*", "!**/keep"]);
        assert!(pm.exception_may_match_below("anything/deep"));
        let pm = m(&["big"]);
        assert!(!pm.exception_may_match_below("big"));
    }

    #[test]
    fn patterns_are_cleaned_and_rooted_at_the_context() {
        let pm = m(&["/abs/./x/../y", "  spaced  ", "dir/"]);
        assert!(pm.excluded("abs/y"));
        assert!(pm.excluded("spaced"));
        assert!(pm.excluded("dir"));
        assert!(pm.excluded("dir/f"));
        assert!(!pm.excluded("abs/x"));
    }

    #[test]
    fn go_match_syntax() {
        let pm = m(&["f[a-c]o", "q\\*", "x?y", "d.t", "p+q"]);
        assert!(pm.excluded("fbo"));
        assert!(!pm.excluded("fdo"));
        assert!(pm.excluded("q*"));
        assert!(!pm.excluded("qq"));
        assert!(pm.excluded("x_y"));
        assert!(!pm.excluded("x/y"));
        assert!(pm.excluded("d.t"));
        assert!(!pm.excluded("dxt"));
        assert!(pm.excluded("p+q"));
        assert!(!pm.excluded("ppq"));
        let pm = m(&["[^a]b"]);
        assert!(pm.excluded("cb"));
        assert!(!pm.excluded("ab"));
    }

    #[test]
    fn bad_patterns_are_reported() {
        assert!(Matcher::new(&["["]).is_err());
        assert!(Matcher::new(&["a\\"]).is_err());
        assert!(Matcher::new(&["!"]).is_err());
    }

    #[test]
    fn ignore_file_lines() {
        let pats = parse_file("# comment\n\nbig\n!keep\n");
        assert_eq!(pats, vec!["big", "!keep"]);
    }

    #[test]
    fn go_clean() {
        assert_eq!(clean("a//b/./c/.."), "a/b");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(clean("../x"), "../x");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("./"), ".");
    }
}
