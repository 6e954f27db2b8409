//! Connection URLs in the forms podman accepts:
//! `ssh://[user[:password]@]host[:port][/socket/path]`, `unix:///path`, `tcp://host:port[/prefix]`.
//!
//! Parsed by hand rather than with a general URL crate because podman's rules are narrower and
//! the error has to name the exact part that is wrong (a generic parser says "invalid port" for
//! half a dozen different mistakes).

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};

#[derive(Clone, PartialEq, Eq)]
pub enum ConnectionUrl {
    Ssh(SshUrl),
    Unix {
        path: String,
    },
    Tcp {
        host: String,
        port: u16,
        prefix: String,
    },
    /// A Windows named pipe, `\\.\pipe\NAME` (`npipe:////./pipe/NAME`), as a podman
    /// machine's API is published on Windows.
    Npipe {
        pipe: String,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub struct SshUrl {
    pub user: Option<String>,
    pub password: Option<String>,
    /// Host name or address as typed (IPv6 without brackets); may be an ssh_config alias.
    pub host: String,
    pub port: Option<u16>,
    /// Path of the engine's socket on the remote side; `None` means "discover it".
    pub path: Option<String>,
}

// The password must never reach logs or error messages, so Debug is written by hand.
impl fmt::Debug for SshUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshUrl")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .finish()
    }
}

impl fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Renders the URL with any password masked: this is what appears in messages and listings.
impl fmt::Display for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionUrl::Ssh(s) => {
                write!(f, "ssh://")?;
                if let Some(u) = &s.user {
                    write!(f, "{u}")?;
                    if s.password.is_some() {
                        write!(f, ":***")?;
                    }
                    write!(f, "@")?;
                }
                write!(f, "{}", host_for_display(&s.host))?;
                if let Some(p) = s.port {
                    write!(f, ":{p}")?;
                }
                if let Some(path) = &s.path {
                    write!(f, "{path}")?;
                }
                Ok(())
            }
            ConnectionUrl::Unix { path } => write!(f, "unix://{path}"),
            ConnectionUrl::Npipe { pipe } => write!(f, "npipe://{}", pipe.replace('\\', "/")),
            ConnectionUrl::Tcp { host, port, prefix } => {
                write!(f, "tcp://{}:{port}{prefix}", host_for_display(host))
            }
        }
    }
}

fn host_for_display(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn bad(url: &str, reason: impl Into<String>) -> Error {
    Error::BadUrl {
        url: mask_password(url),
        reason: reason.into(),
    }
}

/// Hide the password of an ssh URL that failed to parse, so that error messages never echo it.
pub fn mask_password(url: &str) -> String {
    let Some(rest) = url.strip_prefix("ssh://") else {
        return url.to_string();
    };
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..auth_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!("ssh://{}:***{}", &rest[..colon], &rest[at..]),
        None => url.to_string(),
    }
}

impl ConnectionUrl {
    pub fn parse(url: &str) -> Result<ConnectionUrl> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(bad(
                url,
                "missing scheme: use ssh://[user@]host[:port][/socket], unix:///path, \
                 tcp://host:port or npipe:////./pipe/NAME",
            ));
        };
        match scheme {
            "ssh" => parse_ssh(url, rest).map(ConnectionUrl::Ssh),
            "unix" => parse_unix(url, rest),
            "tcp" => parse_tcp(url, rest),
            "npipe" => parse_npipe(url, rest),
            other => Err(bad(
                url,
                format!("{other:?} is not a supported schema (use ssh, unix, tcp or npipe)"),
            )),
        }
    }

    pub fn scheme(&self) -> &'static str {
        match self {
            ConnectionUrl::Ssh(_) => "ssh",
            ConnectionUrl::Unix { .. } => "unix",
            ConnectionUrl::Tcp { .. } => "tcp",
            ConnectionUrl::Npipe { .. } => "npipe",
        }
    }
}

/// `npipe:////./pipe/NAME` (podman's and Docker's spelling; any number of leading slashes
/// is taken, as Windows treats `/` and `\` alike) to `\\.\pipe\NAME`. Only local pipes:
/// a pipe on another host would carry the API over SMB, unauthenticated by us.
fn parse_npipe(url: &str, rest: &str) -> Result<ConnectionUrl> {
    if rest.contains('?') || rest.contains('#') {
        return Err(bad(url, "npipe URLs take no query or fragment"));
    }
    let p = rest.trim_start_matches(['/', '\\']).replace('/', "\\");
    let Some(name) = p.strip_prefix(".\\pipe\\") else {
        return Err(bad(
            url,
            "expected a local pipe, npipe:////./pipe/NAME (pipes on other hosts are not supported)",
        ));
    };
    if name.is_empty() || name.contains('\\') {
        return Err(bad(url, "the pipe name is empty or has a path in it"));
    }
    Ok(ConnectionUrl::Npipe {
        pipe: format!("\\\\.\\pipe\\{name}"),
    })
}

fn parse_unix(url: &str, rest: &str) -> Result<ConnectionUrl> {
    if rest.is_empty() || rest == "/" {
        return Err(bad(url, "the socket path is empty"));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err(bad(url, "unix URLs take no query or fragment"));
    }
    // podman turns `unix://relative/elem` into `/relative/elem`; match it so users'
    // existing connection strings keep working.
    let path = if rest.starts_with('/') {
        rest.to_string()
    } else {
        format!("/{rest}")
    };
    Ok(ConnectionUrl::Unix { path })
}

/// Splits `host[:port]` where host may be a bracketed IPv6 literal.
fn split_host_port<'a>(url: &str, hostport: &'a str) -> Result<(String, Option<&'a str>)> {
    if let Some(after) = hostport.strip_prefix('[') {
        let Some(end) = after.find(']') else {
            return Err(bad(url, "unterminated '[' in the host"));
        };
        let host = &after[..end];
        let tail = &after[end + 1..];
        if host.is_empty() {
            return Err(bad(url, "the host is empty"));
        }
        match tail {
            "" => Ok((host.to_string(), None)),
            t if t.starts_with(':') => Ok((host.to_string(), Some(&t[1..]))),
            t => Err(bad(url, format!("unexpected {t:?} after the IPv6 address"))),
        }
    } else {
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err(bad(url, "the host is empty"));
        }
        if host.contains(':') {
            return Err(bad(
                url,
                "an IPv6 host must be written in brackets, e.g. [::1]:22",
            ));
        }
        if let Some(c) = host
            .chars()
            .find(|c| c.is_whitespace() || matches!(c, '?' | '#' | '@' | '[' | ']'))
        {
            return Err(bad(url, format!("the host {host:?} contains {c:?}")));
        }
        Ok((host.to_string(), port))
    }
}

fn parse_port(url: &str, p: &str) -> Result<u16> {
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        Ok(_) => Err(bad(url, format!("the port {p} is out of range 1-65535"))),
        Err(_) if p.is_empty() => Err(bad(url, "the port after ':' is empty")),
        Err(_) => Err(bad(url, format!("the port {p:?} is not a number"))),
    }
}

fn decode(url: &str, part: &str, what: &str) -> Result<String> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            bad(
                url,
                format!("the {what} is not valid UTF-8 after %-decoding"),
            )
        })
}

fn parse_ssh(url: &str, rest: &str) -> Result<SshUrl> {
    if rest.contains('?') || rest.contains('#') {
        return Err(bad(
            url,
            "ssh URLs take no query or fragment (the secure flag of old podman is not needed)",
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(ui) => {
            let (u, p) = match ui.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (ui, None),
            };
            if u.is_empty() {
                return Err(bad(url, "the user name before '@' is empty"));
            }
            let user = decode(url, u, "user")?;
            let password = p.map(|p| decode(url, p, "password")).transpose()?;
            (Some(user), password)
        }
    };
    if hostport.is_empty() {
        return Err(bad(url, "the host is empty"));
    }
    let (host, port) = split_host_port(url, hostport)?;
    let port = port.map(|p| parse_port(url, p)).transpose()?;
    let path = match path {
        "" | "/" => None,
        p => Some(decode(url, p, "socket path")?),
    };
    Ok(SshUrl {
        user,
        password,
        host,
        port,
        path,
    })
}

fn parse_tcp(url: &str, rest: &str) -> Result<ConnectionUrl> {
    let (hostport, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if hostport.contains('@') {
        return Err(bad(url, "tcp URLs take no user or password"));
    }
    if hostport.is_empty() {
        return Err(bad(url, "the host is empty"));
    }
    let (host, port) = split_host_port(url, hostport)?;
    let Some(port) = port else {
        return Err(bad(url, "a tcp URL needs a port, e.g. tcp://host:8080"));
    };
    let port = parse_port(url, port)?;
    let prefix = prefix.trim_end_matches('/').to_string();
    Ok(ConnectionUrl::Tcp { host, port, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh(url: &str) -> SshUrl {
        match ConnectionUrl::parse(url).unwrap() {
            ConnectionUrl::Ssh(s) => s,
            other => panic!("not ssh: {other}"),
        }
    }

    fn err(url: &str) -> String {
        ConnectionUrl::parse(url).unwrap_err().to_string()
    }

    #[test]
    fn ssh_full() {
        let s = ssh("ssh://core:se%40cret@example.com:2222/run/user/1000/podman/podman.sock");
        assert_eq!(s.user.as_deref(), Some("core"));
        assert_eq!(s.password.as_deref(), Some("se@cret"));
        assert_eq!(s.host, "example.com");
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.path.as_deref(), Some("/run/user/1000/podman/podman.sock"));
    }

    #[test]
    fn ssh_minimal_and_alias() {
        let s = ssh("ssh://myalias");
        assert_eq!(s.user, None);
        assert_eq!(s.host, "myalias");
        assert_eq!(s.port, None);
        assert_eq!(s.path, None);
        assert_eq!(ssh("ssh://h/").path, None);
    }

    #[test]
    fn ssh_ipv6() {
        let s = ssh("ssh://root@[::1]:22/run/podman/podman.sock");
        assert_eq!(s.host, "::1");
        assert_eq!(s.port, Some(22));
        assert_eq!(
            ConnectionUrl::Ssh(s).to_string(),
            "ssh://root@[::1]:22/run/podman/podman.sock"
        );
    }

    #[test]
    fn display_masks_password() {
        let u = ConnectionUrl::parse("ssh://me:hunter2@h:1/s").unwrap();
        assert_eq!(u.to_string(), "ssh://me:***@h:1/s");
        assert!(!format!("{u:?}").contains("hunter2"));
        let e = err("ssh://me:hunter2@h:99999/s");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn unix_forms() {
        assert_eq!(
            ConnectionUrl::parse("unix:///run/podman/podman.sock").unwrap(),
            ConnectionUrl::Unix {
                path: "/run/podman/podman.sock".into()
            }
        );
        assert_eq!(
            ConnectionUrl::parse("unix://run/x.sock").unwrap(),
            ConnectionUrl::Unix {
                path: "/run/x.sock".into()
            }
        );
        assert!(err("unix://").contains("socket path is empty"));
    }

    #[test]
    fn npipe_forms() {
        let want = ConnectionUrl::Npipe {
            pipe: r"\\.\pipe\podman-machine-default".into(),
        };
        assert_eq!(
            ConnectionUrl::parse("npipe:////./pipe/podman-machine-default").unwrap(),
            want
        );
        assert_eq!(
            ConnectionUrl::parse("npipe://./pipe/podman-machine-default").unwrap(),
            want
        );
        assert_eq!(
            ConnectionUrl::parse(r"npipe://\\.\pipe\podman-machine-default").unwrap(),
            want
        );
        assert_eq!(want.to_string(), "npipe:////./pipe/podman-machine-default");
        assert_eq!(want.scheme(), "npipe");
        assert!(err("npipe:////server/pipe/x").contains("local pipe"));
        assert!(err("npipe:////./pipe/").contains("empty"));
        assert!(err("npipe:////./pipe/a/b").contains("path in it"));
        assert!(err("npipe:////./pipe/x?y").contains("no query"));
    }

    #[test]
    fn tcp_forms() {
        assert_eq!(
            ConnectionUrl::parse("tcp://localhost:8080/api/").unwrap(),
            ConnectionUrl::Tcp {
                host: "localhost".into(),
                port: 8080,
                prefix: "/api".into()
            }
        );
        assert!(err("tcp://localhost").contains("needs a port"));
        assert!(err("tcp://u@h:1").contains("no user"));
    }

    #[test]
    fn errors_name_the_bad_part() {
        assert!(err("example.com").contains("missing scheme"));
        assert!(err("http://x").contains("\"http\" is not a supported schema"));
        assert!(err("ssh://h:abc").contains("port \"abc\" is not a number"));
        assert!(err("ssh://h:0").contains("out of range"));
        assert!(err("ssh://h:").contains("port after ':' is empty"));
        assert!(err("ssh://@h").contains("user name"));
        assert!(err("ssh://").contains("host is empty"));
        assert!(err("ssh://u@:22").contains("host is empty"));
        assert!(err("ssh://[::1").contains("unterminated"));
        assert!(err("ssh://::1:22").contains("brackets"));
        assert!(err("ssh://h/x?secure=true").contains("no query"));
    }
}
