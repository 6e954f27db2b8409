//! OpenSSH client configuration (`~/.ssh/config`, then `/etc/ssh/ssh_config`), resolved for one
//! host alias so that `podman-remote --url ssh://alias/...` reaches the same place, as the same
//! user, with the same keys and known_hosts files as `ssh alias` would.
//!
//! Parser decision: this is our own tokenizer and evaluator rather than a layer over
//! `ssh2-config` 0.9. That crate keeps `IdentitiesOnly`, `IdentityAgent`, `UserKnownHostsFile`,
//! `GlobalKnownHostsFile`, `StrictHostKeyChecking` and `HashKnownHosts` (half of what we need)
//! only as raw strings in a last-wins map, aborts the whole parse on one bad value where we must
//! warn and skip the line, and applies `Match` bodies to the previous `Host`. Fixing `Match`
//! means evaluating blocks in file order interleaved with `Host` blocks (`Match host` sees the
//! `HostName` obtained so far), which already needs our own line tokenizer and `Include`
//! expansion; what would be left for the crate is a per-keyword value parse smaller than the glue.
//!
//! Semantics follow OpenSSH 9.x (checked against `ssh -G`), with these deliberate differences:
//! - A single pass: `Match final` matches in that pass, in file order (OpenSSH evaluates it in a
//!   second pass, after everything else); `Match canonical` never matches because we do not
//!   canonicalise host names.
//! - `Match exec` is never run: a block using it never matches (also when negated) and a warning
//!   is recorded. `Match` attributes newer than 9.2 (`tagged`, `localnetwork`, ...) likewise.
//! - Errors that make OpenSSH refuse the whole configuration are warnings here; the offending
//!   line is skipped, and a broken `Host`/`Match` line starts a block that never matches so its
//!   body cannot leak into the previous block.
//! - `ProxyJump` is returned raw; `ProxyCommand` is not modelled.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// OpenSSH's READCONF_MAX_DEPTH.
const MAX_INCLUDE_DEPTH: usize = 16;
/// Nested globs can fan out exponentially below the depth limit; OpenSSH would die on the first
/// too-deep chain, we keep going, so the total work needs its own bound.
const MAX_INCLUDED_FILES: usize = 1024;
/// Far above any real configuration; stops `Include /dev/*`-style accidents from eating memory.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// What ssh_config says about one host. Only values that were obtained are set: defaults such
/// as port 22 or `~/.ssh/known_hosts` are left to the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostConfig {
    /// `HostName` with `%h`/`%%` expanded, case as written (OpenSSH lowercases the final name:
    /// compare case-insensitively).
    pub hostname: Option<String>,
    /// The URL's user if one was given (it wins, like `ssh user@alias`), else `User`.
    pub user: Option<String>,
    /// The port given to [`SshConfig::resolve_with_port`] if any, else `Port`.
    pub port: Option<u16>,
    /// Expanded, in order, duplicates dropped (a literal `none` is kept as given).
    pub identity_files: Vec<PathBuf>,
    pub identities_only: Option<bool>,
    /// `"none"`, `"SSH_AUTH_SOCK"` or an expanded path; a `$VAR` value is replaced by the
    /// variable's value, or by `"none"` when it is unset (as OpenSSH does).
    pub identity_agent: Option<String>,
    /// Expanded, from the first `UserKnownHostsFile` line obtained (one line may list several
    /// files; later lines do not add to it, as in OpenSSH). Empty when not configured; a single
    /// `none` entry when configured off.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// Like `user_known_hosts_files`, for `GlobalKnownHostsFile`.
    pub global_known_hosts_files: Vec<PathBuf>,
    pub strict_host_key_checking: Option<StrictHostKeyChecking>,
    pub hash_known_hosts: Option<bool>,
    /// Raw value, e.g. `"user@jump:2222,other"` or `"none"`; see [`parse_proxy_jump`].
    pub proxy_jump: Option<String>,
    /// Seconds.
    pub connect_timeout: Option<u64>,
    /// Seconds.
    pub server_alive_interval: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    Yes,
    AcceptNew,
    No,
    Ask,
}

impl StrictHostKeyChecking {
    /// Parses an ssh_config value, case-insensitively. `on` is accepted as `yes` although
    /// OpenSSH itself rejects it.
    pub fn from_config_value(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" => Some(Self::Yes),
            "no" | "false" | "off" => Some(Self::No),
            "ask" => Some(Self::Ask),
            "accept-new" => Some(Self::AcceptNew),
            _ => None,
        }
    }
}

/// One hop of a `ProxyJump` chain.
#[derive(Debug, Clone, PartialEq)]
pub struct JumpHost {
    pub user: Option<String>,
    /// Without brackets, also for IPv6 literals.
    pub host: String,
    pub port: Option<u16>,
}

/// Parsed ssh_config files, ready to be resolved for any number of aliases.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// Top-level files in priority order (user, then system); each starts active.
    sources: Vec<Vec<Item>>,
    warnings: Vec<String>,
    home: PathBuf,
}

impl Default for SshConfig {
    /// No configuration at all, with `~` meaning `$HOME`.
    fn default() -> Self {
        SshConfig {
            sources: Vec::new(),
            warnings: Vec::new(),
            home: home_from_env(),
        }
    }
}

impl SshConfig {
    /// ~/.ssh/config then /etc/ssh/ssh_config (home from $HOME). Missing files are fine;
    /// unreadable ones add warnings.
    pub fn load_default() -> SshConfig {
        let home = home_from_env();
        let user = home.join(".ssh").join("config");
        Self::load_files(Some(&user), Some(Path::new("/etc/ssh/ssh_config")), &home)
    }

    /// One user file and an optional system file, explicitly (tests use this). Relative
    /// `Include`s resolve against `home/.ssh` for the user file and `/etc/ssh` for the system
    /// file, as in OpenSSH.
    pub fn load_files(user: Option<&Path>, system: Option<&Path>, home: &Path) -> SshConfig {
        let mut parser = Parser::new(home);
        let mut sources = Vec::new();
        let user_dir = home.join(".ssh");
        if let Some(path) = user {
            let origin = Origin {
                base_dir: &user_dir,
                user_conf: true,
            };
            if let Some(items) = parser.parse_file(path, &origin, 0) {
                sources.push(items);
            }
        }
        if let Some(path) = system {
            let origin = Origin {
                base_dir: Path::new("/etc/ssh"),
                user_conf: false,
            };
            if let Some(items) = parser.parse_file(path, &origin, 0) {
                sources.push(items);
            }
        }
        SshConfig {
            sources,
            warnings: parser.warnings,
            home: home.to_path_buf(),
        }
    }

    /// Parses `text` as a user configuration whose relative `Include`s resolve against
    /// `base_dir`.
    pub fn parse_str(text: &str, base_dir: &Path, home: &Path) -> SshConfig {
        let mut parser = Parser::new(home);
        let origin = Origin {
            base_dir,
            user_conf: true,
        };
        let items = parser.parse_text(text, "<string>", &origin, 0);
        SshConfig {
            sources: vec![items],
            warnings: parser.warnings,
            home: home.to_path_buf(),
        }
    }

    /// Problems found while loading, as `file line N: message`. Nothing here stopped the load.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// Resolve for the alias the user typed; `user` is the user given in the URL if any (affects
    /// %r and Match user), `local_user` the OS user. Returns values exactly as given (defaults
    /// such as port 22 are NOT filled in).
    pub fn resolve(&self, alias: &str, user: Option<&str>, local_user: &str) -> HostConfig {
        self.resolve_with_port(alias, user, None, local_user)
    }

    /// [`SshConfig::resolve`] for a URL that also carries a port: it wins over `Port` and is
    /// what `%p` (and `%C`) expand to.
    pub fn resolve_with_port(
        &self,
        alias: &str,
        user: Option<&str>,
        port: Option<u16>,
        local_user: &str,
    ) -> HostConfig {
        let env = |name: &str| std::env::var(name).ok();
        self.resolve_inner(alias, user, port, local_user, &LocalInfo::detect(), &env)
    }

    fn resolve_inner(
        &self,
        alias: &str,
        user: Option<&str>,
        port: Option<u16>,
        local_user: &str,
        local: &LocalInfo,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> HostConfig {
        let mut eval = Eval {
            alias,
            url_user: user,
            local_user,
            got: Collected::default(),
        };
        for source in &self.sources {
            let mut active = true;
            eval.walk(source, &mut active, false);
        }
        let got = eval.got;

        let hostname = got.hostname.as_deref().map(|h| expand_hostname(h, alias));
        let final_user = user.map(str::to_string).or(got.user);
        let final_port = port.or(got.port);
        let home = self.home.to_string_lossy().into_owned();
        let tokens = Tokens {
            home: &home,
            host: hostname.as_deref().unwrap_or(alias).to_lowercase(),
            port: final_port.unwrap_or(22).to_string(),
            remote_user: final_user.as_deref().unwrap_or(local_user),
            local_user,
            alias,
            key_alias: got.host_key_alias.as_deref().unwrap_or(alias),
            local,
            env,
        };
        let paths = |list: &[String]| -> Vec<PathBuf> {
            list.iter()
                .map(|p| PathBuf::from(tokens.expand_path(p)))
                .collect()
        };

        HostConfig {
            hostname,
            user: final_user.clone(),
            port: final_port,
            identity_files: paths(&got.identity_files),
            identities_only: got.identities_only,
            identity_agent: got
                .identity_agent
                .as_deref()
                .map(|a| tokens.expand_agent(a)),
            user_known_hosts_files: paths(got.user_known_hosts.as_deref().unwrap_or_default()),
            global_known_hosts_files: paths(got.global_known_hosts.as_deref().unwrap_or_default()),
            strict_host_key_checking: got.strict,
            hash_known_hosts: got.hash_known_hosts,
            proxy_jump: got.proxy_jump,
            connect_timeout: got.connect_timeout,
            server_alive_interval: got.server_alive_interval,
        }
    }
}

fn home_from_env() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("/"))
}

// ---------------------------------------------------------------------------------------------
// Parsed form

#[derive(Debug, Clone)]
enum Item {
    /// Starts a new block; every later setting up to the next block belongs to it.
    Block(Block),
    Set(Setting),
    /// One entry per included file, in glob order.
    Include(Vec<Vec<Item>>),
}

#[derive(Debug, Clone)]
enum Block {
    Host(Vec<String>),
    Match(Vec<Criterion>),
    /// A header we could not use: its body must not apply anywhere.
    Never,
}

#[derive(Debug, Clone)]
struct Criterion {
    negated: bool,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    All,
    Canonical,
    Final,
    Host(String),
    OriginalHost(String),
    User(String),
    LocalUser(String),
}

#[derive(Debug, Clone)]
enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    IdentitiesOnly(bool),
    IdentityAgent(String),
    UserKnownHostsFile(Vec<String>),
    GlobalKnownHostsFile(Vec<String>),
    StrictHostKeyChecking(StrictHostKeyChecking),
    HashKnownHosts(bool),
    ProxyJump(String),
    ConnectTimeout(u64),
    ServerAliveInterval(u64),
    /// Only feeds `%k`.
    HostKeyAlias(String),
}

// ---------------------------------------------------------------------------------------------
// Parsing

struct Origin<'a> {
    /// Where relative `Include` paths live.
    base_dir: &'a Path,
    /// User files may use `~` in `Include`; system files may not (OpenSSH rejects it).
    user_conf: bool,
}

struct Parser<'a> {
    home: &'a Path,
    warnings: Vec<String>,
    files_read: usize,
    budget_warned: bool,
}

impl<'a> Parser<'a> {
    fn new(home: &'a Path) -> Self {
        Parser {
            home,
            warnings: Vec::new(),
            files_read: 0,
            budget_warned: false,
        }
    }

    /// `None` when the file does not exist or cannot be read (the latter with a warning).
    fn parse_file(&mut self, path: &Path, origin: &Origin, depth: usize) -> Option<Vec<Item>> {
        // OpenSSH checks the user file and every included file (never the top system file):
        // one that others can write could point us at their host, key or known_hosts.
        if origin.user_conf || depth > 0 {
            if let Err(problem) = check_permissions(path) {
                self.warnings.push(problem);
                return None;
            }
        }
        match read_config_file(path) {
            Ok(Some(bytes)) => {
                let text = String::from_utf8_lossy(&bytes);
                let name = path.display().to_string();
                Some(self.parse_text(&text, &name, origin, depth))
            }
            Ok(None) => None,
            // A glob such as `config.d/*` may legitimately match sub-directories.
            Err(e) if e.kind() == io::ErrorKind::IsADirectory && depth > 0 => None,
            Err(e) => {
                self.warnings
                    .push(format!("{}: cannot read: {e}", path.display()));
                None
            }
        }
    }

    fn parse_text(&mut self, text: &str, name: &str, origin: &Origin, depth: usize) -> Vec<Item> {
        // A BOM would otherwise glue itself to the first keyword and silently drop that line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut items = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let at = format!("{name} line {}", index + 1);
            match self.parse_line(line, &at, origin, depth) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => {}
                Err(msg) => {
                    self.warnings.push(format!("{at}: {msg}"));
                    if is_block_keyword(line) {
                        items.push(Item::Block(Block::Never));
                    }
                }
            }
        }
        items
    }

    fn parse_line(
        &mut self,
        line: &str,
        at: &str,
        origin: &Origin,
        depth: usize,
    ) -> Result<Option<Item>, String> {
        let Some((keyword, rest)) = split_keyword(line) else {
            return Ok(None);
        };
        let keyword = keyword.to_ascii_lowercase();
        if rest.is_empty() {
            return Err(format!("no argument after keyword \"{keyword}\""));
        }
        let args = split_args(rest)?;
        if args.is_empty() {
            return Err(format!("no argument after keyword \"{keyword}\""));
        }
        match keyword.as_str() {
            "host" => Ok(Some(Item::Block(Block::Host(args)))),
            "match" => {
                let (criteria, uses_exec) = parse_match(&args)?;
                if uses_exec {
                    self.warnings.push(format!(
                        "{at}: Match exec is not supported; this Match block never matches"
                    ));
                    return Ok(Some(Item::Block(Block::Never)));
                }
                Ok(Some(Item::Block(Block::Match(criteria))))
            }
            "include" => Ok(Some(self.include(&args, at, origin, depth))),
            _ => Ok(parse_setting(&keyword, &args)?.map(Item::Set)),
        }
    }

    fn include(&mut self, args: &[String], at: &str, origin: &Origin, depth: usize) -> Item {
        let mut files = Vec::new();
        if depth >= MAX_INCLUDE_DEPTH {
            self.warnings.push(format!(
                "{at}: too many recursive configuration includes (limit {MAX_INCLUDE_DEPTH})"
            ));
            return Item::Include(files);
        }
        for arg in args {
            let pattern = if let Some(rest) = arg.strip_prefix('~') {
                if !origin.user_conf {
                    self.warnings.push(format!(
                        "{at}: bad include path {arg} (no ~ in system files)"
                    ));
                    continue;
                }
                if rest.is_empty() {
                    self.home.to_path_buf()
                } else if let Some(rest) = rest.strip_prefix('/') {
                    self.home.join(rest)
                } else {
                    self.warnings.push(format!(
                        "{at}: ~user in include path {arg} is not supported"
                    ));
                    continue;
                }
            } else if Path::new(arg).is_absolute() {
                PathBuf::from(arg)
            } else {
                origin.base_dir.join(arg)
            };
            for path in glob(&pattern) {
                if self.files_read >= MAX_INCLUDED_FILES {
                    if !self.budget_warned {
                        self.budget_warned = true;
                        self.warnings.push(format!(
                            "{at}: more than {MAX_INCLUDED_FILES} included files; the rest are ignored"
                        ));
                    }
                    return Item::Include(files);
                }
                self.files_read += 1;
                if let Some(items) = self.parse_file(&path, origin, depth + 1) {
                    files.push(items);
                }
            }
        }
        Item::Include(files)
    }
}

/// OpenSSH's rule for user configuration files: owned by the user or root, and writable by
/// no one else. A file breaking it is ignored whole (OpenSSH refuses to start), with
/// OpenSSH's "Bad owner or permissions" message.
#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // Missing files, directories and devices are reported by the read that follows.
    let Some(meta) = fs::metadata(path).ok().filter(|m| m.is_file()) else {
        return Ok(());
    };
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    permissions_problem(path, meta.uid(), meta.mode(), uid).map_or(Ok(()), Err)
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(any(unix, test))]
fn permissions_problem(path: &Path, owner: u32, mode: u32, uid: u32) -> Option<String> {
    let bad_owner = owner != 0 && owner != uid;
    let writable_by_others = mode & 0o022 != 0;
    (bad_owner || writable_by_others).then(|| {
        format!(
            "Bad owner or permissions on {} (mode {:04o}, owner uid {owner}): the file is \
             ignored; it must be owned by you and writable only by you (chmod go-w {})",
            path.display(),
            mode & 0o7777,
            path.display()
        )
    })
}

/// `Ok(None)` when the file does not exist.
fn read_config_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    if !meta.is_file() {
        // Devices and FIFOs could block or never end.
        return Err(io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io::Error::other(format!(
            "larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    Ok(Some(bytes))
}

fn is_block_keyword(line: &str) -> bool {
    split_keyword(line)
        .is_some_and(|(k, _)| k.eq_ignore_ascii_case("host") || k.eq_ignore_ascii_case("match"))
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c')
}

/// Splits `Keyword value`, `Keyword=value` and `Keyword = value`. `None` for blank and
/// comment lines. The remainder is trimmed and may be empty.
fn split_keyword(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_matches(is_space);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| is_space(c) || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    if keyword.is_empty() {
        // A line starting with `=` has no keyword: let the caller report the whole line.
        return Some((line, ""));
    }
    let rest = rest.trim_start_matches(is_space);
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    Some((keyword, rest.trim_start_matches(is_space)))
}

/// Splits arguments the way OpenSSH does: whitespace-separated, `"..."` and `'...'` quoting,
/// backslash escapes of quotes, backslash and (unquoted) space, and a `#` starting a word ends
/// the line.
fn split_args(s: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|&c| is_space(c)) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => break,
            Some(_) => {}
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => match chars.peek() {
                    Some(&n) if matches!(n, '\'' | '"' | '\\') || (n == ' ' && quote.is_none()) => {
                        arg.push(n);
                        chars.next();
                    }
                    _ => arg.push('\\'),
                },
                (c, None) if is_space(c) => break,
                ('"' | '\'', None) => quote = Some(c),
                (c, Some(q)) if c == q => quote = None,
                (c, _) => arg.push(c),
            }
        }
        if quote.is_some() {
            return Err("invalid quotes".to_string());
        }
        args.push(arg);
    }
    Ok(args)
}

/// Returns the criteria and whether `exec` was among them.
fn parse_match(args: &[String]) -> Result<(Vec<Criterion>, bool), String> {
    let mut criteria = Vec::new();
    let mut uses_exec = false;
    let mut only_phases = true;
    let mut rest = args.iter();
    while let Some(raw) = rest.next() {
        let (negated, name) = match raw.strip_prefix('!') {
            Some(name) => (true, name),
            None => (false, raw.as_str()),
        };
        let lower = name.to_ascii_lowercase();
        let test = match lower.as_str() {
            "all" => {
                if !only_phases || !rest.as_slice().is_empty() {
                    return Err("'all' cannot be combined with other Match attributes".into());
                }
                Test::All
            }
            "canonical" => Test::Canonical,
            "final" => Test::Final,
            "exec" | "host" | "originalhost" | "user" | "localuser" => {
                let Some(arg) = rest.next() else {
                    return Err(format!("missing Match criteria for {name}"));
                };
                let arg = arg.clone();
                match lower.as_str() {
                    "exec" => {
                        uses_exec = true;
                        only_phases = false;
                        continue;
                    }
                    "host" => Test::Host(arg),
                    "originalhost" => Test::OriginalHost(arg),
                    "user" => Test::User(arg),
                    _ => Test::LocalUser(arg),
                }
            }
            _ => return Err(format!("unsupported Match attribute {name}")),
        };
        if !matches!(test, Test::Canonical | Test::Final) {
            only_phases = false;
        }
        criteria.push(Criterion { negated, test });
    }
    Ok((criteria, uses_exec))
}

/// `Ok(None)` for keywords we do not model.
fn parse_setting(keyword: &str, args: &[String]) -> Result<Option<Setting>, String> {
    let one = || -> Result<String, String> {
        match args {
            [] => Err(format!("no argument after keyword \"{keyword}\"")),
            [a] if a.is_empty() => Err(format!("empty argument for keyword \"{keyword}\"")),
            [a] => Ok(a.clone()),
            _ => Err(format!("keyword {keyword}: extra arguments at end of line")),
        }
    };
    let flag = || -> Result<bool, String> {
        let v = one()?;
        match v.to_ascii_lowercase().as_str() {
            "yes" | "true" => Ok(true),
            "no" | "false" => Ok(false),
            _ => Err(format!(
                "keyword {keyword}: expected yes or no, got \"{v}\""
            )),
        }
    };
    let time = || -> Result<u64, String> {
        let v = one()?;
        parse_time(&v).ok_or_else(|| format!("keyword {keyword}: invalid time value \"{v}\""))
    };
    let files = || -> Result<Vec<String>, String> {
        if args.iter().any(|a| a.is_empty()) {
            return Err(format!("keyword {keyword}: empty argument"));
        }
        if args.len() > 1 && args.iter().any(|a| a.eq_ignore_ascii_case("none")) {
            return Err(format!(
                "keyword {keyword}: \"none\" argument must appear alone"
            ));
        }
        Ok(args.to_vec())
    };
    let setting = match keyword {
        "hostname" => Setting::HostName(one()?),
        "user" => Setting::User(one()?),
        "port" => {
            let v = one()?;
            match v.parse::<u16>() {
                Ok(p) if p > 0 => Setting::Port(p),
                _ => return Err(format!("bad port \"{v}\"")),
            }
        }
        "identityfile" => Setting::IdentityFile(one()?),
        "identitiesonly" => Setting::IdentitiesOnly(flag()?),
        "identityagent" => Setting::IdentityAgent(one()?),
        "userknownhostsfile" => Setting::UserKnownHostsFile(files()?),
        "globalknownhostsfile" => Setting::GlobalKnownHostsFile(files()?),
        "stricthostkeychecking" => {
            let v = one()?;
            Setting::StrictHostKeyChecking(
                StrictHostKeyChecking::from_config_value(&v)
                    .ok_or_else(|| format!("unsupported StrictHostKeyChecking value \"{v}\""))?,
            )
        }
        "hashknownhosts" => Setting::HashKnownHosts(flag()?),
        "proxyjump" => {
            let v = one()?;
            parse_proxy_jump(&v).map_err(|e| format!("invalid ProxyJump \"{v}\": {e}"))?;
            Setting::ProxyJump(v)
        }
        "connecttimeout" => Setting::ConnectTimeout(time()?),
        "serveraliveinterval" => Setting::ServerAliveInterval(time()?),
        "hostkeyalias" => Setting::HostKeyAlias(one()?),
        _ => return Ok(None),
    };
    Ok(Some(setting))
}

/// sshd_config(5) TIME FORMATS: `90`, `1m30s`, `2h`, `1w`. Seconds.
fn parse_time(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if let Some(n) = number {
        total = total.checked_add(n)?;
    }
    Some(total)
}

/// Parse a ProxyJump value into hops: `[user@]host[:port]` or `ssh://[user@]host[:port]`,
/// comma-separated; "none" → empty.
pub fn parse_proxy_jump(value: &str) -> Result<Vec<JumpHost>, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    if value.is_empty() {
        return Err("empty ProxyJump".to_string());
    }
    value.split(',').map(parse_jump_hop).collect()
}

fn parse_jump_hop(hop: &str) -> Result<JumpHost, String> {
    if hop.is_empty() {
        return Err("empty hop".to_string());
    }
    if hop.chars().any(char::is_whitespace) {
        return Err(format!("whitespace in hop \"{hop}\""));
    }
    let is_uri = hop
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("ssh://"));
    let (spec, uri) = match hop.get(6..) {
        Some(rest) if is_uri => (rest.strip_suffix('/').unwrap_or(rest), true),
        _ => (hop, false),
    };
    if uri && spec.contains(['/', '?', '#']) {
        return Err(format!("ssh URI \"{hop}\" may not have a path"));
    }
    // The last `@` separates the user, so user names may themselves contain `@`.
    let (user, host_port) = match spec.rsplit_once('@') {
        Some((u, hp)) => {
            if u.is_empty() {
                return Err(format!("empty user in \"{hop}\""));
            }
            let u = if uri {
                percent_encoding::percent_decode_str(u)
                    .decode_utf8()
                    .map_err(|_| format!("bad user encoding in \"{hop}\""))?
                    .into_owned()
            } else {
                u.to_string()
            };
            (Some(u), hp)
        }
        None => (None, spec),
    };
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(format!("missing ] in \"{hop}\""));
        };
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected text after ] in \"{hop}\"")),
            },
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() || host.contains(['[', ']', '/', '@']) {
        return Err(format!(
            "bad host in \"{hop}\" (IPv6 addresses need brackets: [::1]:22)"
        ));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("bad port \"{p}\" in \"{hop}\"")),
        },
    };
    Ok(JumpHost {
        user,
        host: host.to_string(),
        port,
    })
}

// ---------------------------------------------------------------------------------------------
// Include globbing: glob(7) semantics (`*`, `?`, `[...]`, hidden files only by an explicit
// leading dot), results in byte order like glob(3) in the C locale.

fn glob(pattern: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = vec![PathBuf::new()];
    for component in pattern.components() {
        let wildcard = match component {
            Component::Normal(os) => os.to_str().filter(|s| s.contains(['*', '?', '['])),
            _ => None,
        };
        let Some(wildcard) = wildcard else {
            for path in &mut found {
                path.push(component.as_os_str());
            }
            continue;
        };
        let pat: Vec<char> = wildcard.chars().collect();
        let mut next = Vec::new();
        for dir in &found {
            let listing = if dir.as_os_str().is_empty() {
                fs::read_dir(".")
            } else {
                fs::read_dir(dir)
            };
            let Ok(entries) = listing else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') && !wildcard.starts_with('.') {
                    continue;
                }
                let name_chars: Vec<char> = name.chars().collect();
                if wildcard_match(&pat, &name_chars, true) {
                    next.push(dir.join(name));
                }
            }
        }
        found = next;
        if found.is_empty() {
            break;
        }
    }
    // Literal components after (or without) a wildcard may name nothing; glob(3) drops those.
    let mut found: Vec<PathBuf> = found
        .into_iter()
        .filter(|p| !p.as_os_str().is_empty() && p.exists())
        .collect();
    found.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    found
}

/// `*` and `?` wildcards, plus `[...]` classes when `classes` (globs have them, ssh_config host
/// patterns do not).
fn wildcard_match(pat: &[char], text: &[char], classes: bool) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and how much text it has swallowed, to backtrack into.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if pat.get(p) == Some(&'*') {
            star = Some((p, t));
            p += 1;
            continue;
        }
        if let Some(next) = match_one(pat, p, text[t], classes) {
            p = next;
            t += 1;
            continue;
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pat[p.min(pat.len())..].iter().all(|&c| c == '*')
}

/// If the single (non-`*`) pattern element at `p` matches `c`, where the next element starts.
fn match_one(pat: &[char], p: usize, c: char, classes: bool) -> Option<usize> {
    match *pat.get(p)? {
        '?' => Some(p + 1),
        '[' if classes => match match_class(pat, p, c) {
            Some((true, next)) => Some(next),
            Some((false, _)) => None,
            // No closing bracket: the `[` is an ordinary character.
            None => (c == '[').then_some(p + 1),
        },
        x => (x == c).then_some(p + 1),
    }
}

/// `pat[p]` is `[`. Returns whether `c` is in the class and the index after `]`, or `None` when
/// the class is not closed.
fn match_class(pat: &[char], p: usize, c: char) -> Option<(bool, usize)> {
    let mut i = p + 1;
    let negated = matches!(pat.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *pat.get(i)?;
        if lo == ']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        if pat.get(i + 1) == Some(&'-') && pat.get(i + 2).is_some_and(|&hi| hi != ']') {
            let hi = *pat.get(i + 2)?;
            matched |= lo <= c && c <= hi;
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

#[derive(Default)]
struct Collected {
    hostname: Option<String>,
    user: Option<String>,
    port: Option<u16>,
    identity_files: Vec<String>,
    identities_only: Option<bool>,
    identity_agent: Option<String>,
    user_known_hosts: Option<Vec<String>>,
    global_known_hosts: Option<Vec<String>>,
    strict: Option<StrictHostKeyChecking>,
    hash_known_hosts: Option<bool>,
    proxy_jump: Option<String>,
    connect_timeout: Option<u64>,
    server_alive_interval: Option<u64>,
    host_key_alias: Option<String>,
}

struct Eval<'a> {
    alias: &'a str,
    url_user: Option<&'a str>,
    local_user: &'a str,
    got: Collected,
}

fn first<T: Clone>(slot: &mut Option<T>, value: &T) {
    if slot.is_none() {
        *slot = Some(value.clone());
    }
}

impl Eval<'_> {
    /// `never` is set inside files included from an inactive block: OpenSSH still reads them,
    /// but none of their blocks may match.
    fn walk(&mut self, items: &[Item], active: &mut bool, never: bool) {
        for item in items {
            match item {
                Item::Block(block) => *active = !never && self.matches(block),
                Item::Set(setting) if *active => self.apply(setting),
                Item::Set(_) => {}
                Item::Include(files) => {
                    let outer = *active;
                    for file in files {
                        self.walk(file, active, never || !outer);
                        // A Host or Match inside an included file ends at that file's end.
                        *active = outer;
                    }
                }
            }
        }
    }

    fn matches(&self, block: &Block) -> bool {
        match block {
            Block::Never => false,
            Block::Host(patterns) => host_patterns_match(patterns, self.alias),
            Block::Match(criteria) => criteria.iter().all(|c| self.criterion(c) != c.negated),
        }
    }

    fn criterion(&self, criterion: &Criterion) -> bool {
        match &criterion.test {
            Test::All | Test::Final => true,
            Test::Canonical => false,
            Test::Host(list) => {
                let host = match &self.got.hostname {
                    Some(h) => expand_hostname(h, self.alias),
                    None => self.alias.to_string(),
                };
                pattern_list_match(list, &host, true)
            }
            Test::OriginalHost(list) => pattern_list_match(list, self.alias, true),
            Test::User(list) => {
                let user = self
                    .url_user
                    .or(self.got.user.as_deref())
                    .unwrap_or(self.local_user);
                pattern_list_match(list, user, false)
            }
            Test::LocalUser(list) => pattern_list_match(list, self.local_user, false),
        }
    }

    fn apply(&mut self, setting: &Setting) {
        let got = &mut self.got;
        match setting {
            Setting::HostName(v) => first(&mut got.hostname, v),
            Setting::User(v) => first(&mut got.user, v),
            Setting::Port(v) => first(&mut got.port, v),
            Setting::IdentityFile(v) => {
                if !got.identity_files.contains(v) {
                    got.identity_files.push(v.clone());
                }
            }
            Setting::IdentitiesOnly(v) => first(&mut got.identities_only, v),
            Setting::IdentityAgent(v) => first(&mut got.identity_agent, v),
            // The first line wins as a whole: later lines do not add to the list.
            Setting::UserKnownHostsFile(v) => first(&mut got.user_known_hosts, v),
            Setting::GlobalKnownHostsFile(v) => first(&mut got.global_known_hosts, v),
            Setting::StrictHostKeyChecking(v) => first(&mut got.strict, v),
            Setting::HashKnownHosts(v) => first(&mut got.hash_known_hosts, v),
            Setting::ProxyJump(v) => first(&mut got.proxy_jump, v),
            Setting::ConnectTimeout(v) => first(&mut got.connect_timeout, v),
            Setting::ServerAliveInterval(v) => first(&mut got.server_alive_interval, v),
            Setting::HostKeyAlias(v) => first(&mut got.host_key_alias, v),
        }
    }
}

/// `Host` line semantics: any negated match vetoes, otherwise one positive match is needed.
/// Case-sensitive, as OpenSSH compares the alias as typed.
fn host_patterns_match(patterns: &[String], alias: &str) -> bool {
    let alias: Vec<char> = alias.chars().collect();
    let mut positive = false;
    for pattern in patterns {
        let (negated, pat) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern.as_str()),
        };
        let pat: Vec<char> = pat.chars().collect();
        if wildcard_match(&pat, &alias, false) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// A comma-separated pattern-list as in `Match host a,!b*`; host names compare
/// case-insensitively there (unlike `Host`), user names do not.
fn pattern_list_match(list: &str, subject: &str, fold_case: bool) -> bool {
    let fold = |s: &str| {
        if fold_case {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let subject: Vec<char> = fold(subject).chars().collect();
    let mut positive = false;
    for entry in list.split(',') {
        let (negated, pat) = match entry.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, entry),
        };
        let pat: Vec<char> = fold(pat).chars().collect();
        if wildcard_match(&pat, &subject, false) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

// ---------------------------------------------------------------------------------------------
// Token expansion

/// `HostName` only knows `%h` (the alias) and `%%`; anything else is kept literally.
fn expand_hostname(value: &str, alias: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(alias),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Facts about this machine that some tokens need; looked up once per resolve.
struct LocalInfo {
    uid: Option<String>,
    /// gethostname(), possibly with a domain.
    hostname: Option<String>,
}

impl LocalInfo {
    fn detect() -> Self {
        LocalInfo {
            uid: local_uid(),
            hostname: local_hostname(),
        }
    }
}

#[cfg(unix)]
fn local_uid() -> Option<String> {
    // SAFETY: getuid has no preconditions and cannot fail.
    Some(unsafe { libc::getuid() }.to_string())
}

#[cfg(not(unix))]
fn local_uid() -> Option<String> {
    None
}

#[cfg(unix)]
fn local_hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what we pass; the result is
    // read only up to the first NUL, and the last byte is never written so a NUL always exists.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(not(unix))]
fn local_hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

struct Tokens<'a> {
    home: &'a str,
    /// Final remote host name, lowercased as OpenSSH does before expanding `%h`.
    host: String,
    port: String,
    remote_user: &'a str,
    local_user: &'a str,
    alias: &'a str,
    key_alias: &'a str,
    local: &'a LocalInfo,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Tokens<'_> {
    /// `~` then `%x` tokens and `${VAR}`, in that order like OpenSSH. Unknown tokens and unset
    /// variables stay literal (OpenSSH would refuse the option instead).
    fn expand_path(&self, raw: &str) -> String {
        let tilde_expanded;
        let raw = if raw == "~" {
            self.home
        } else if let Some(rest) = raw.strip_prefix("~/") {
            tilde_expanded = format!("{}/{rest}", self.home.trim_end_matches('/'));
            &tilde_expanded
        } else if let Some(rest) = raw
            .strip_prefix('~')
            .and_then(|r| r.strip_prefix(self.local_user))
            .filter(|r| r.is_empty() || r.starts_with('/'))
        {
            tilde_expanded = format!("{}{rest}", self.home.trim_end_matches('/'));
            &tilde_expanded
        } else {
            raw
        };
        self.expand_tokens(raw)
    }

    fn expand_tokens(&self, raw: &str) -> String {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '%' => {
                    let Some(t) = chars.next() else {
                        out.push('%');
                        break;
                    };
                    match self.token(t) {
                        Some(v) => out.push_str(&v),
                        None => {
                            out.push('%');
                            out.push(t);
                        }
                    }
                }
                '$' if chars.peek() == Some(&'{') => {
                    chars.next();
                    let mut name = String::new();
                    let mut closed = false;
                    for n in chars.by_ref() {
                        if n == '}' {
                            closed = true;
                            break;
                        }
                        name.push(n);
                    }
                    match (closed, (self.env)(&name)) {
                        (true, Some(value)) => out.push_str(&value),
                        _ => {
                            out.push_str("${");
                            out.push_str(&name);
                            if closed {
                                out.push('}');
                            }
                        }
                    }
                }
                _ => out.push(c),
            }
        }
        out
    }

    fn token(&self, t: char) -> Option<String> {
        Some(match t {
            '%' => "%".to_string(),
            'd' => self.home.to_string(),
            'h' => self.host.clone(),
            'p' => self.port.clone(),
            'r' => self.remote_user.to_string(),
            'u' => self.local_user.to_string(),
            'n' => self.alias.to_string(),
            'k' => self.key_alias.to_string(),
            'i' => self.local.uid.clone()?,
            'l' => self.local.hostname.clone()?,
            'L' => {
                let full = self.local.hostname.as_deref()?;
                full.split('.').next().unwrap_or(full).to_string()
            }
            'C' => {
                use sha1::{Digest, Sha1};
                let local = self.local.hostname.as_deref()?;
                let mut hasher = Sha1::new();
                for part in [local, &self.host, &self.port, self.remote_user] {
                    hasher.update(part.as_bytes());
                }
                hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            }
            _ => return None,
        })
    }

    /// `IdentityAgent` as the caller can use it directly; see [`HostConfig::identity_agent`].
    fn expand_agent(&self, raw: &str) -> String {
        if raw == "none" || raw == "SSH_AUTH_SOCK" {
            return raw.to_string();
        }
        if let Some(var) = raw.strip_prefix('$').filter(|v| !v.starts_with('{')) {
            return (self.env)(var).unwrap_or_else(|| "none".to_string());
        }
        self.expand_path(raw)
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const HOME: &str = "/home/me";

    fn cfg(text: &str) -> SshConfig {
        SshConfig::parse_str(text, Path::new("/nonexistent-base"), Path::new(HOME))
    }

    fn local() -> LocalInfo {
        LocalInfo {
            uid: Some("1000".into()),
            hostname: Some("box.example.org".into()),
        }
    }

    fn resolve(c: &SshConfig, alias: &str, user: Option<&str>) -> HostConfig {
        c.resolve_inner(alias, user, None, "me", &local(), &|_| None)
    }

    fn resolve_env(c: &SshConfig, alias: &str, vars: &[(&str, &str)]) -> HostConfig {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        c.resolve_inner(alias, None, None, "me", &local(), &move |k| {
            map.get(k).cloned()
        })
    }

    fn paths(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn alias_with_hostname_user_port_identity() {
        let c = cfg("Host myalias\n  HostName 10.0.0.5\n  User core\n  Port 2222\n  IdentityFile ~/.ssh/podman\n");
        let h = resolve(&c, "myalias", None);
        assert_eq!(h.hostname.as_deref(), Some("10.0.0.5"));
        assert_eq!(h.user.as_deref(), Some("core"));
        assert_eq!(h.port, Some(2222));
        assert_eq!(h.identity_files, paths(&["/home/me/.ssh/podman"]));
        assert!(c.warnings().is_empty());
        assert_eq!(resolve(&c, "other", None), HostConfig::default());
    }

    #[test]
    fn url_user_and_port_win_over_config() {
        let c = cfg("Host a\n User cfg\n Port 2200\n IdentityFile /k/%r_%p\n");
        let h = c.resolve_inner("a", Some("url"), Some(33), "me", &local(), &|_| None);
        assert_eq!(h.user.as_deref(), Some("url"));
        assert_eq!(h.port, Some(33));
        assert_eq!(h.identity_files, paths(&["/k/url_33"]));
    }

    #[test]
    fn first_match_wins_and_host_star_defaults() {
        let c = cfg("\
Host web
  User alice
  IdentityFile /k/web
Host web db
  User bob
  Port 2022
  IdentityFile /k/web
  IdentityFile /k/shared
Host *
  User nobody
  Port 22
  IdentityFile /k/default
  ConnectTimeout 5
");
        let h = resolve(&c, "web", None);
        assert_eq!(h.user.as_deref(), Some("alice"));
        assert_eq!(h.port, Some(2022));
        // Accumulate in order; a repeated file is listed once.
        assert_eq!(
            h.identity_files,
            paths(&["/k/web", "/k/shared", "/k/default"])
        );
        assert_eq!(h.connect_timeout, Some(5));
        let d = resolve(&c, "db", None);
        assert_eq!(d.user.as_deref(), Some("bob"));
        let x = resolve(&c, "x", None);
        assert_eq!(x.user.as_deref(), Some("nobody"));
        assert_eq!(x.port, Some(22));
        assert_eq!(x.identity_files, paths(&["/k/default"]));
    }

    #[test]
    fn settings_before_any_host_apply_to_all() {
        let c = cfg("User early\nHost a\n User late\n");
        assert_eq!(resolve(&c, "a", None).user.as_deref(), Some("early"));
    }

    #[test]
    fn key_value_forms_and_case_insensitive_keywords() {
        let c = cfg("\
HOST=a
  hostname=h1
  USER = u1
  Port =2201
  identityFILE= /k/one
  IdentitiesOnly\tyes
  StrictHostKeyChecking=accept-new
");
        let h = resolve(&c, "a", None);
        assert_eq!(h.hostname.as_deref(), Some("h1"));
        assert_eq!(h.user.as_deref(), Some("u1"));
        assert_eq!(h.port, Some(2201));
        assert_eq!(h.identity_files, paths(&["/k/one"]));
        assert_eq!(h.identities_only, Some(true));
        assert_eq!(
            h.strict_host_key_checking,
            Some(StrictHostKeyChecking::AcceptNew)
        );
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    }

    #[test]
    fn quoting_escapes_and_comments() {
        let c = cfg(r#"
# a comment line
   # indented comment
Host "q1" # trailing comment
  IdentityFile "/a b/c" # comment
  User 'x y'
  HostName h#not-a-comment
  UserKnownHostsFile /p\ q a\"b "/c d" e#f
Host q2
  IdentityFile ""
"#);
        let h = resolve(&c, "q1", None);
        assert_eq!(h.identity_files, paths(&["/a b/c"]));
        assert_eq!(h.user.as_deref(), Some("x y"));
        assert_eq!(h.hostname.as_deref(), Some("h#not-a-comment"));
        assert_eq!(
            h.user_known_hosts_files,
            paths(&["/p q", "a\"b", "/c d", "e#f"])
        );
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("line 10") && w[0].contains("empty"), "{w:?}");
    }

    #[test]
    fn split_args_matches_openssh_tokenizer() {
        assert_eq!(split_args("a  b\t c").unwrap(), vec!["a", "b", "c"]);
        assert_eq!(split_args(r#""a b"c 'd"e'"#).unwrap(), vec!["a bc", "d\"e"]);
        assert_eq!(split_args(r"a\\b c\d").unwrap(), vec![r"a\b", r"c\d"]);
        assert_eq!(split_args("x #y z").unwrap(), vec!["x"]);
        assert!(split_args("\"open").is_err());
        assert!(split_args("'open").is_err());
    }

    #[test]
    fn host_patterns() {
        let c = cfg("\
Host *.prod !bastion.prod
  User prod
Host web?? db
  User multi
Host Upper
  User upper
Host !only-negated
  User never
Host *
  Port 1
");
        let u = |a: &str| resolve(&c, a, None).user;
        assert_eq!(u("x.prod").as_deref(), Some("prod"));
        assert_eq!(u("bastion.prod"), None);
        assert_eq!(u("web01").as_deref(), Some("multi"));
        assert_eq!(u("web1"), None);
        assert_eq!(u("db").as_deref(), Some("multi"));
        assert_eq!(u("Upper").as_deref(), Some("upper"));
        // `Host` compares the alias as typed (verified with `ssh -G`).
        assert_eq!(u("upper"), None);
        assert_eq!(u("anything"), None);
        assert_eq!(resolve(&c, "anything", None).port, Some(1));
    }

    #[test]
    fn wildcard_matcher() {
        let m = |p: &str, t: &str, classes: bool| {
            wildcard_match(
                &p.chars().collect::<Vec<_>>(),
                &t.chars().collect::<Vec<_>>(),
                classes,
            )
        };
        assert!(m("*", "", false));
        assert!(m("a*b*c", "aXXbYbc", false));
        assert!(!m("a*b*c", "aXXbYb", false));
        assert!(m("??", "ab", false));
        assert!(!m("??", "abc", false));
        assert!(m("[ab]x", "bx", true));
        assert!(!m("[ab]x", "bx", false));
        assert!(m("[!ab]x", "cx", true));
        assert!(m("[a-c]*", "cat", true));
        assert!(m("[]]", "]", true));
        assert!(m("[x", "[x", true));
        assert!(m("**a", "ba", false));
    }

    #[test]
    fn unknown_keywords_are_ignored() {
        let c = cfg("Host a\n ForwardAgent yes\n SendEnv LANG LC_*\n Bogus thing\n User u\n");
        assert_eq!(resolve(&c, "a", None).user.as_deref(), Some("u"));
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn bad_lines_are_skipped_with_warnings() {
        let c = cfg("\
Host a
  Port
  Port abc
  Port 0
  User two words
  User \"unterminated
  IdentitiesOnly maybe
  StrictHostKeyChecking sometimes
  ConnectTimeout soon
  ProxyJump fe80::1
  UserKnownHostsFile none /x
  Port 2022
  User fine
");
        let h = resolve(&c, "a", None);
        assert_eq!(h.port, Some(2022));
        assert_eq!(h.user.as_deref(), Some("fine"));
        assert_eq!(h.identities_only, None);
        assert_eq!(h.proxy_jump, None);
        assert!(h.user_known_hosts_files.is_empty());
        let w = c.warnings();
        assert_eq!(w.len(), 10, "{w:#?}");
        assert!(w[0].starts_with("<string> line 2:"), "{w:?}");
        assert!(w[4].contains("invalid quotes"), "{w:?}");
    }

    #[test]
    fn broken_block_header_does_not_leak_into_previous_block() {
        let c = cfg("Host a\n User a\nHost\n Port 9\nMatch\n Port 8\nMatch all host a\n Port 7\nHost a\n Port 6\n");
        assert_eq!(resolve(&c, "a", None).port, Some(6));
        assert_eq!(c.warnings().len(), 3, "{:?}", c.warnings());
    }

    #[test]
    fn time_values() {
        assert_eq!(parse_time("90"), Some(90));
        assert_eq!(parse_time("1m30s"), Some(90));
        assert_eq!(parse_time("2h"), Some(7200));
        assert_eq!(parse_time("1W1d"), Some(691_200));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("m"), None);
        assert_eq!(parse_time("5x"), None);
        assert_eq!(parse_time("99999999999999999999"), None);
        let c = cfg("ServerAliveInterval 1m\nConnectTimeout 10s\n");
        let h = resolve(&c, "x", None);
        assert_eq!(h.server_alive_interval, Some(60));
        assert_eq!(h.connect_timeout, Some(10));
    }

    #[test]
    fn strict_host_key_checking_and_flags() {
        let s = |v: &str| {
            resolve(&cfg(&format!("StrictHostKeyChecking {v}")), "x", None).strict_host_key_checking
        };
        assert_eq!(s("yes"), Some(StrictHostKeyChecking::Yes));
        assert_eq!(s("on"), Some(StrictHostKeyChecking::Yes));
        assert_eq!(s("True"), Some(StrictHostKeyChecking::Yes));
        assert_eq!(s("no"), Some(StrictHostKeyChecking::No));
        assert_eq!(s("off"), Some(StrictHostKeyChecking::No));
        assert_eq!(s("ask"), Some(StrictHostKeyChecking::Ask));
        assert_eq!(s("Accept-New"), Some(StrictHostKeyChecking::AcceptNew));
        assert_eq!(s("perhaps"), None);
        let h = resolve(
            &cfg("HashKnownHosts no\nHashKnownHosts yes\nIdentitiesOnly false\n"),
            "x",
            None,
        );
        assert_eq!(h.hash_known_hosts, Some(false));
        assert_eq!(h.identities_only, Some(false));
    }

    #[test]
    fn known_hosts_files_first_line_wins() {
        let c = cfg("\
Host a
  UserKnownHostsFile ~/k1 /k/%h-%p
  GlobalKnownHostsFile /etc/g1 /etc/g2
Host *
  UserKnownHostsFile ~/k3
Host none
  UserKnownHostsFile none
");
        let h = resolve(&c, "a", None);
        // Matches `ssh -G`: a second line does not add to the list.
        assert_eq!(h.user_known_hosts_files, paths(&["/home/me/k1", "/k/a-22"]));
        assert_eq!(h.global_known_hosts_files, paths(&["/etc/g1", "/etc/g2"]));
        assert_eq!(
            resolve(&c, "b", None).user_known_hosts_files,
            paths(&["/home/me/k3"])
        );
        assert_eq!(
            resolve(&c, "none", None).user_known_hosts_files,
            paths(&["/home/me/k3"])
        );
        let n = cfg("Host n\n UserKnownHostsFile none\nHost *\n UserKnownHostsFile ~/k3\n");
        assert_eq!(
            resolve(&n, "n", None).user_known_hosts_files,
            paths(&["none"])
        );
    }

    #[test]
    fn tokens_in_paths() {
        let c = cfg("\
Host Alias
  HostName Real.%h.example
  User remote
  Port 2200
  IdentityFile ~/.ssh/%h_%p_%r
  IdentityFile %d/%u/%n/%%/%z/%
  IdentityFile ~me/x
  IdentityFile ~other/x
  IdentityAgent ~/agent-%i.sock
  UserKnownHostsFile %d/kh/%k
");
        let h = resolve(&c, "Alias", None);
        assert_eq!(h.hostname.as_deref(), Some("Real.Alias.example"));
        assert_eq!(
            h.identity_files,
            paths(&[
                "/home/me/.ssh/real.alias.example_2200_remote",
                "/home/me/me/Alias/%/%z/%",
                "/home/me/x",
                "~other/x",
            ])
        );
        assert_eq!(
            h.identity_agent.as_deref(),
            Some("/home/me/agent-1000.sock")
        );
        assert_eq!(h.user_known_hosts_files, paths(&["/home/me/kh/Alias"]));
    }

    #[test]
    fn remote_user_defaults_to_local_user_and_port_to_22_in_tokens() {
        let c = cfg("IdentityFile /k/%r@%h:%p\nHostKeyAlias hk\nUserKnownHostsFile /kh/%k\n");
        let h = resolve(&c, "Box", None);
        assert_eq!(h.identity_files, paths(&["/k/me@box:22"]));
        assert_eq!(h.user_known_hosts_files, paths(&["/kh/hk"]));
        assert_eq!(h.user, None);
        assert_eq!(h.port, None);
    }

    #[test]
    fn connection_hash_and_local_host_tokens() {
        let c = cfg("IdentityFile /c/%C\nIdentityFile /l/%l/%L\n");
        let h = resolve(&c, "h", None);
        use sha1::{Digest, Sha1};
        let want: String = Sha1::digest(b"box.example.orgh22me")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            h.identity_files,
            vec![
                PathBuf::from(format!("/c/{want}")),
                PathBuf::from("/l/box.example.org/box"),
            ]
        );
    }

    #[test]
    fn identity_agent_forms_and_env_vars() {
        let a = |v: &str, vars: &[(&str, &str)]| {
            resolve_env(&cfg(&format!("IdentityAgent {v}")), "x", vars).identity_agent
        };
        assert_eq!(a("none", &[]).as_deref(), Some("none"));
        assert_eq!(a("SSH_AUTH_SOCK", &[]).as_deref(), Some("SSH_AUTH_SOCK"));
        assert_eq!(a("$MY_SOCK", &[("MY_SOCK", "/s")]).as_deref(), Some("/s"));
        assert_eq!(a("$MY_SOCK", &[]).as_deref(), Some("none"));
        assert_eq!(
            a("${XDG}/gnupg/S.agent", &[("XDG", "/run/user/1")]).as_deref(),
            Some("/run/user/1/gnupg/S.agent")
        );
        assert_eq!(a("${UNSET}/s", &[]).as_deref(), Some("${UNSET}/s"));
        assert_eq!(a("${OPEN", &[]).as_deref(), Some("${OPEN"));
    }

    #[test]
    fn match_host_sees_hostname_so_far() {
        let c = cfg("\
Host a1
  HostName Real.One
Match host real.one
  User m1
Match originalhost A2
  User m2
Match host *.two !originalhost x.two
  Port 2022
Match host %h-literal
  Port 1
Host *
  User dflt
");
        let h = resolve(&c, "a1", None);
        assert_eq!(h.user.as_deref(), Some("m1"));
        // originalhost/host compare case-insensitively (checked with `ssh -G`).
        assert_eq!(resolve(&c, "a2", None).user.as_deref(), Some("m2"));
        assert_eq!(resolve(&c, "A2", None).user.as_deref(), Some("m2"));
        let y = resolve(&c, "y.two", None);
        assert_eq!((y.user.as_deref(), y.port), (Some("dflt"), Some(2022)));
        assert_eq!(resolve(&c, "x.two", None).port, None);
    }

    #[test]
    fn match_hostname_with_percent_h() {
        let c = cfg("Host a\n HostName %h.lan\nMatch host a.lan\n User viahost\n");
        assert_eq!(resolve(&c, "a", None).user.as_deref(), Some("viahost"));
    }

    #[test]
    fn match_user_and_localuser() {
        let c = cfg("\
Host cfguser
  User cfg
Match user cfg,!root
  Port 8
Match user url*
  Port 9
Match user me
  Port 10
Match localuser me
  ConnectTimeout 3
Match !localuser me
  ConnectTimeout 4
");
        assert_eq!(resolve(&c, "cfguser", None).port, Some(8));
        assert_eq!(resolve(&c, "x", Some("urluser")).port, Some(9));
        // No user anywhere: the local user is the remote user.
        let h = resolve(&c, "x", None);
        assert_eq!((h.port, h.connect_timeout), (Some(10), Some(3)));
        let other = c.resolve_inner("x", Some("root"), None, "bob", &local(), &|_| None);
        assert_eq!((other.port, other.connect_timeout), (None, Some(4)));
    }

    /// Single pass on purpose: OpenSSH's second pass would give `notfinal` and port 3 here.
    #[test]
    fn match_all_final_canonical_and_negation() {
        let c = cfg("\
Match canonical
  User canonical
Match !final
  User notfinal
Match final host x
  User final
Match !all
  Port 1
Match final all
  Port 2
Match all
  Port 3
");
        let h = resolve(&c, "x", None);
        assert_eq!(h.user.as_deref(), Some("final"));
        assert_eq!(h.port, Some(2));
        let c = cfg("Match !canonical\n User nc\n");
        assert_eq!(resolve(&c, "x", None).user.as_deref(), Some("nc"));
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn match_exec_never_matches_and_warns() {
        let c = cfg("\
Match exec \"true\"
  User ex
Match !exec \"false\" host x
  Port 9
Match host x
  User plain
");
        let h = resolve(&c, "x", None);
        assert_eq!(h.user.as_deref(), Some("plain"));
        assert_eq!(h.port, None);
        let w = c.warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w.iter().all(|w| w.contains("exec")), "{w:?}");
    }

    #[test]
    fn bad_match_lines_warn() {
        let c = cfg("Match host\n User a\nMatch tagged x\n User b\nMatch all host x\n User c\n");
        assert_eq!(resolve(&c, "x", None).user, None);
        let w = c.warnings();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("missing Match criteria"), "{w:?}");
        assert!(w[1].contains("unsupported Match attribute"), "{w:?}");
        assert!(w[2].contains("'all'"), "{w:?}");
    }

    #[test]
    fn permissions_rule_is_openssh_s() {
        let p = Path::new("/home/me/.ssh/config");
        assert_eq!(permissions_problem(p, 1000, 0o100600, 1000), None);
        assert_eq!(permissions_problem(p, 1000, 0o100644, 1000), None);
        assert_eq!(permissions_problem(p, 0, 0o100644, 1000), None);
        let w = permissions_problem(p, 1000, 0o100666, 1000).expect("world-writable");
        assert!(
            w.starts_with("Bad owner or permissions on /home/me/.ssh/config"),
            "{w}"
        );
        assert!(w.contains("0666"), "{w}");
        assert!(permissions_problem(p, 1000, 0o100620, 1000).is_some());
        assert!(permissions_problem(p, 1001, 0o100600, 1000).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn writable_user_config_and_includes_are_ignored_with_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let user = write(
            dir,
            "config",
            &format!(
                "Include {}/inc.conf\nHost a\n User from_user\n",
                dir.display()
            ),
        );
        let inc = write(dir, "inc.conf", "Host b\n User from_include\n");
        let sys = write(dir, "system", "Host *\n User from_system\n");
        let load = || SshConfig::load_files(Some(&user), Some(&sys), dir);
        let c = load();
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        assert_eq!(resolve(&c, "b", None).user.as_deref(), Some("from_include"));

        fs::set_permissions(&inc, fs::Permissions::from_mode(0o666)).unwrap();
        let c = load();
        assert_eq!(resolve(&c, "a", None).user.as_deref(), Some("from_user"));
        assert_eq!(resolve(&c, "b", None).user.as_deref(), Some("from_system"));
        assert!(
            c.warnings()[0].starts_with("Bad owner or permissions on"),
            "{:?}",
            c.warnings()
        );

        fs::set_permissions(&inc, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(&user, fs::Permissions::from_mode(0o662)).unwrap();
        let c = load();
        assert_eq!(resolve(&c, "a", None).user.as_deref(), Some("from_system"));
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains(&user.display().to_string()), "{w:?}");

        // The system file itself is not subject to the rule, as in OpenSSH.
        fs::set_permissions(&user, fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(&sys, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(load().warnings().is_empty());
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn include_glob_in_lexical_order_and_relative_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        write(
            base,
            "conf.d/20-b.conf",
            "Host *\n User from_b\n IdentityFile /k/b\n",
        );
        write(base, "conf.d/10-a.conf", "Host *\n IdentityFile /k/a\n");
        write(base, "conf.d/.hidden.conf", "Host *\n User hidden\n");
        write(base, "conf.d/notes.txt", "User txt\n");
        fs::create_dir_all(base.join("conf.d/sub.conf")).unwrap();
        let c = SshConfig::parse_str(
            "Include conf.d/*.conf missing.conf nothing/*.conf\nHost *\n User last\n",
            base,
            Path::new(HOME),
        );
        let h = resolve(&c, "x", None);
        assert_eq!(h.user.as_deref(), Some("from_b"));
        assert_eq!(h.identity_files, paths(&["/k/a", "/k/b"]));
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    }

    #[test]
    fn include_inside_host_is_conditional_and_block_state_is_restored() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(dir, "inc/a.conf", "User from_a\nHost other\n  Port 1111\n");
        write(dir, "inc/b.conf", "Port 2222\n");
        let text = format!(
            "Host h1\n  Include {0}/inc/*.conf\n  HostName after-include\nHost h2\n  Include {0}/inc/b.conf\nHost *\n  IdentityFile /z\n",
            dir.display()
        );
        let c = SshConfig::parse_str(&text, dir, Path::new(HOME));
        // Expectations taken from `ssh -G` on the same files.
        let h1 = resolve(&c, "h1", None);
        assert_eq!(h1.user.as_deref(), Some("from_a"));
        assert_eq!(h1.hostname.as_deref(), Some("after-include"));
        assert_eq!(h1.port, Some(2222));
        let h2 = resolve(&c, "h2", None);
        assert_eq!((h2.user, h2.port), (None, Some(2222)));
        // `Host other` lives in a file included from a block that did not match.
        let other = resolve(&c, "other", None);
        assert_eq!((other.port, other.identity_files), (None, paths(&["/z"])));
    }

    #[test]
    fn include_recursion_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(
            dir,
            "self.conf",
            "IdentityFile /k/self\nInclude self.conf\n",
        );
        let c = SshConfig::parse_str("Include self.conf\nUser u\n", dir, Path::new(HOME));
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("too many recursive"), "{w:?}");
        let h = resolve(&c, "x", None);
        assert_eq!(h.user.as_deref(), Some("u"));
        assert_eq!(h.identity_files, paths(&["/k/self"]));

        // Fan-out: every file includes all files; the total budget stops it quickly.
        write(dir, "fan/a", "Include fan/*\n");
        write(dir, "fan/b", "Include fan/*\n");
        let c = SshConfig::parse_str("Include fan/*\nUser u\n", dir, Path::new(HOME));
        assert_eq!(resolve(&c, "x", None).user.as_deref(), Some("u"));
        assert!(c.warnings().iter().any(|w| w.contains("included files")));
    }

    #[test]
    fn include_depth_sixteen_is_allowed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for i in 1..=16 {
            write(dir, &format!("d{i}"), &format!("Include d{}\n", i + 1));
        }
        write(dir, "d17", "User deep\n");
        let c = SshConfig::parse_str("Include d1\n", dir, Path::new(HOME));
        // Top level is depth 0, d16 is depth 16 and may not include further (OpenSSH: 16 max).
        assert_eq!(resolve(&c, "x", None).user, None);
        assert_eq!(c.warnings().len(), 1);
        fs::write(dir.join("d16"), "User d16\n").unwrap();
        let c = SshConfig::parse_str("Include d1\n", dir, Path::new(HOME));
        assert_eq!(resolve(&c, "x", None).user.as_deref(), Some("d16"));
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn load_files_user_then_system_and_include_bases() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        write(&home, ".ssh/extra.conf", "Host a\n Port 1234\n");
        let user = write(
            &home,
            ".ssh/config",
            "Include extra.conf\nHost a\n User from_user\n",
        );
        let system = write(
            tmp.path(),
            "ssh_config",
            "Host *\n User from_system\n Port 22\n IdentityFile ~/sys\n Include ~/nope\n",
        );
        let c = SshConfig::load_files(Some(&user), Some(&system), &home);
        let h = resolve(&c, "a", None);
        assert_eq!(h.user.as_deref(), Some("from_user"));
        assert_eq!(h.port, Some(1234));
        assert_eq!(h.identity_files, vec![home.join("sys")]);
        assert_eq!(resolve(&c, "b", None).user.as_deref(), Some("from_system"));
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("bad include path"), "{w:?}");
    }

    #[test]
    fn load_files_missing_and_unreadable() {
        let tmp = tempfile::tempdir().unwrap();
        let c = SshConfig::load_files(Some(&tmp.path().join("missing")), None, tmp.path());
        assert!(c.warnings().is_empty());
        assert_eq!(resolve(&c, "x", None), HostConfig::default());

        let bytes = tmp.path().join("bytes");
        fs::write(&bytes, [b'U', b's', b'e', b'r', b' ', 0xc3, b'\n']).unwrap();
        let c = SshConfig::load_files(Some(&bytes), None, tmp.path());
        // Invalid UTF-8 is read lossily rather than rejected.
        assert_eq!(resolve(&c, "x", None).user.as_deref(), Some("\u{fffd}"));
        assert!(c.warnings().is_empty());

        let c = SshConfig::load_files(Some(tmp.path()), None, tmp.path());
        assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
        assert!(c.warnings()[0].contains("directory"));

        #[cfg(unix)]
        {
            let c = SshConfig::load_files(Some(Path::new("/dev/zero")), None, tmp.path());
            assert!(c.warnings()[0].contains("not a regular file"));
        }

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let locked = write(tmp.path(), "locked", "User x\n");
            fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
            // root reads it anyway; only check the warning where the read really fails.
            if fs::read(&locked).is_err() {
                let c = SshConfig::load_files(Some(&locked), None, tmp.path());
                assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
            }
        }
    }

    #[test]
    fn proxy_jump_in_config() {
        let c = cfg("Host a\n ProxyJump user@jump:2222,other\nHost b\n ProxyJump none\nHost *\n ProxyJump late\n");
        assert_eq!(
            resolve(&c, "a", None).proxy_jump.as_deref(),
            Some("user@jump:2222,other")
        );
        assert_eq!(resolve(&c, "b", None).proxy_jump.as_deref(), Some("none"));
    }

    #[test]
    fn proxy_jump_parsing() {
        let hop = |user: Option<&str>, host: &str, port: Option<u16>| JumpHost {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        };
        assert_eq!(parse_proxy_jump("none").unwrap(), vec![]);
        assert_eq!(
            parse_proxy_jump("user@jump:2222,other").unwrap(),
            vec![
                hop(Some("user"), "jump", Some(2222)),
                hop(None, "other", None)
            ]
        );
        assert_eq!(
            parse_proxy_jump("[::1]:2222").unwrap(),
            vec![hop(None, "::1", Some(2222))]
        );
        assert_eq!(
            parse_proxy_jump("u@[fe80::1%eth0]").unwrap(),
            vec![hop(Some("u"), "fe80::1%eth0", None)]
        );
        assert_eq!(
            parse_proxy_jump("ssh://a%40b@h:22/,SSH://[::1]").unwrap(),
            vec![hop(Some("a@b"), "h", Some(22)), hop(None, "::1", None)]
        );
        assert_eq!(
            parse_proxy_jump("a@b@c:22").unwrap(),
            vec![hop(Some("a@b"), "c", Some(22))]
        );
        for bad in [
            "",
            "a,,b",
            "::1",
            "fe80::1",
            "[::1",
            "[::1]x",
            "h:0",
            "h:70000",
            "h:",
            "@h",
            "a b",
            "ssh://h/path",
            "[]:22",
        ] {
            assert!(parse_proxy_jump(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn no_panics_on_arbitrary_input() {
        let alphabet: Vec<char> =
            " \t=#\"'\\!*?[]%~${},@:/\nHhMmUuIiPpNnAaSsTtEeLlOoCcRrXx0129\u{e9}\u{feff}"
                .chars()
                .collect();
        let keywords = [
            // No `Include`: random absolute globs would read the real filesystem.
            "Host ",
            "Match ",
            "HostName ",
            "User ",
            "Port ",
            "IdentityFile ",
            "IdentityAgent ",
            "UserKnownHostsFile ",
            "ProxyJump ",
            "ConnectTimeout ",
            "Match host ",
            "Match user ",
            "Match all ",
            "Match !",
            "IdentitiesOnly ",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..400 {
            let mut text = String::new();
            for _ in 0..(next() % 12) {
                text.push_str(keywords[(next() % keywords.len() as u64) as usize]);
                for _ in 0..(next() % 16) {
                    text.push(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
                text.push('\n');
            }
            let c = cfg(&text);
            for alias in ["", "x", "%h", "[::1]", "\u{e9}"] {
                let _ = resolve(&c, alias, Some("%r"));
            }
            let _ = parse_proxy_jump(&text);
        }
    }
}
