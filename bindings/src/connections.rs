//! The registry of named connections, kept in the very files real podman uses so that podman
//! 4.x, podman 5.x and podman-remote all see the same connections:
//!
//! * podman 5's `podman-connections.json` is the primary store (read-write);
//! * podman 4's user `containers.conf` (`[engine] active_service`,
//!   `[engine.service_destinations.NAME]`) is read as a second source and every change we make is
//!   mirrored into it, so a podman 4.x client keeps seeing the connections we add.
//!
//! Reads merge both files (the JSON file wins on a name clash); the default is the JSON file's
//! `Connection.Default`, falling back to `active_service`, exactly like podman 5.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value as JsonValue};
use toml_edit::{DocumentMut, InlineTable, Item, Table, TableLike, Value as TomlValue};

use crate::error::{Error, Result};
use crate::url::ConnectionUrl;

const CONNECTIONS_FILE: &str = "podman-connections.json";
const CONTAINERS_CONF: &str = "containers.conf";
/// Printed in hints; the CLI is always invoked under this name.
const CLI_NAME: &str = "podman-remote";

/// Where and how to reach one engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Destination {
    pub uri: String,
    pub identity: Option<String>,
    pub is_machine: bool,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub tls_ca: Option<String>,
}

impl Destination {
    pub fn new(uri: impl Into<String>) -> Destination {
        Destination {
            uri: uri.into(),
            ..Destination::default()
        }
    }
}

/// One entry of the merged registry.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub name: String,
    pub destination: Destination,
    pub default: bool,
    /// True when the entry comes from `podman-connections.json`; false for entries that only
    /// exist in containers.conf (podman 5 shows those as read-only).
    pub read_write: bool,
}

impl Connection {
    /// The object podman 5 prints for this connection in `system connection list --format json`
    /// (its `config.Connection` with the destination embedded, hence the flat keys).
    pub fn podman_json(&self) -> JsonValue {
        let d = &self.destination;
        let mut m = Map::new();
        m.insert("Name".into(), self.name.clone().into());
        m.insert("URI".into(), d.uri.clone().into());
        for (key, value) in [
            ("Identity", &d.identity),
            ("TLSCert", &d.tls_cert),
            ("TLSKey", &d.tls_key),
            ("TLSCA", &d.tls_ca),
        ] {
            if let Some(v) = non_empty(value) {
                m.insert(key.into(), v.into());
            }
        }
        if d.is_machine {
            m.insert("IsMachine".into(), true.into());
        }
        m.insert("Default".into(), self.default.into());
        m.insert("ReadWrite".into(), self.read_write.into());
        JsonValue::Object(m)
    }
}

/// The two files of the registry. Cheap to build; every call re-reads the files, since other
/// podman processes may change them at any time.
#[derive(Debug, Clone)]
pub struct Registry {
    json: PathBuf,
    conf: PathBuf,
    /// Set when the paths could not be worked out (no home directory): every operation reports
    /// it instead of silently using a wrong location.
    unresolved: Option<String>,
}

impl Registry {
    /// The files podman itself would use for the current user.
    pub fn from_env() -> Registry {
        Registry::from_env_with(&|key| std::env::var(key).ok())
    }

    /// Like [`Registry::from_env`] with the environment supplied by the caller.
    pub fn from_env_with(env: &dyn Fn(&str) -> Option<String>) -> Registry {
        let (json, conf) = registry_paths(env, is_root());
        match (json, conf) {
            (Some(json), Some(conf)) => Registry::with_paths(json, conf),
            (json, conf) => Registry {
                json: json.unwrap_or_default(),
                conf: conf.unwrap_or_default(),
                unresolved: Some(
                    "cannot locate the connection files: no home directory (set HOME, \
                     XDG_CONFIG_HOME or PODMAN_CONNECTIONS_CONF)"
                        .into(),
                ),
            },
        }
    }

    pub fn with_paths(json: PathBuf, conf: PathBuf) -> Registry {
        Registry {
            json,
            conf,
            unresolved: None,
        }
    }

    pub fn json_path(&self) -> &Path {
        &self.json
    }

    pub fn conf_path(&self) -> &Path {
        &self.conf
    }

    /// Every connection of both files, sorted by name.
    pub fn list(&self) -> Result<Vec<Connection>> {
        self.check()?;
        Ok(self.load()?.view(&self.conf)?.into_list())
    }

    pub fn get(&self, name: &str) -> Result<Option<Connection>> {
        self.check()?;
        Ok(self.load()?.view(&self.conf)?.connections.remove(name))
    }

    /// The default connection; `None` when no default is set or it names a connection that no
    /// longer exists (podman then falls back to the local socket).
    pub fn default_connection(&self) -> Result<Option<Connection>> {
        self.check()?;
        let mut view = self.load()?.view(&self.conf)?;
        Ok(view
            .default
            .take()
            .and_then(|name| view.connections.remove(&name)))
    }

    /// Adds `name` or replaces its destination (podman 4.3.1 and 5.x both replace silently).
    /// The first connection becomes the default, as does any added with `make_default`.
    pub fn add(&self, name: &str, dest: Destination, make_default: bool) -> Result<()> {
        validate_name(name)?;
        if dest.uri.is_empty() {
            return Err(Error::Connection(format!(
                "connection {name:?}: the URI must not be empty"
            )));
        }
        self.edit(|files, view| {
            // "First" means nothing usable is the default yet, counting containers.conf too, so
            // adding a connection never steals the default from an existing podman 4 setup.
            let becomes_default = make_default || view.default_connection().is_none();
            files
                .json
                .connection
                .connections
                .insert(name.to_owned(), FileDestination::from(&dest));
            files.conf_set_destination(name, &dest)?;
            if becomes_default {
                files.json.connection.default = name.to_owned();
                files.conf_set_active(Some(name))?;
            }
            Ok(())
        })
    }

    /// Removes `name` from both files, clearing the default if it pointed there and dropping
    /// the name from every farm. Like podman, no other connection becomes the default.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.edit(|files, view| {
            if !view.connections.contains_key(name) {
                return Err(not_found(name));
            }
            let json = &mut files.json;
            json.connection.connections.remove(name);
            if json.connection.default == name {
                json.connection.default.clear();
            }
            json.farm.rename_member(name, None);
            files.conf_remove_destination(name)?;
            if files.conf_active()?.as_deref() == Some(name) {
                files.conf_set_active(None)?;
            }
            files.conf_rename_farm_member(name, None)
        })
    }

    /// Removes every connection of both files; farms are kept but emptied (podman 5 does the
    /// same for `system connection rm --all`).
    pub fn remove_all(&self) -> Result<()> {
        self.edit(|files, _| {
            let json = &mut files.json;
            json.connection.connections.clear();
            json.connection.default.clear();
            for members in json.farm.list.values_mut() {
                members.clear();
            }
            files.conf_clear()
        })
    }

    /// Makes `name` the default for podman 5 (JSON `Default`) and podman 4 (`active_service`).
    pub fn set_default(&self, name: &str) -> Result<()> {
        self.edit(|files, view| {
            let Some(conn) = view.connections.get(name) else {
                return Err(not_found(name));
            };
            files.json.connection.default = name.to_owned();
            // podman 4 fails outright when active_service names no destination, so a connection
            // only podman 5 knew about is mirrored along with the new default.
            if conn.read_write {
                files.conf_set_destination(name, &conn.destination)?;
            }
            files.conf_set_active(Some(name))
        })
    }

    /// Renames a connection in both files, moving the default and farm memberships with it.
    /// Unlike podman 4.3.1 (which silently overwrites), an existing `new` is an error.
    pub fn rename(&self, old: &str, new: &str) -> Result<()> {
        validate_name(new)?;
        self.edit(|files, view| {
            if !view.connections.contains_key(old) {
                return Err(not_found(old));
            }
            if old == new {
                return Ok(());
            }
            if view.connections.contains_key(new) {
                return Err(Error::Connection(format!(
                    "connection {new:?} already exists"
                )));
            }
            let json = &mut files.json;
            if let Some(dest) = json.connection.connections.remove(old) {
                json.connection.connections.insert(new.to_owned(), dest);
            }
            if json.connection.default == old {
                json.connection.default = new.to_owned();
            }
            json.farm.rename_member(old, Some(new));
            files.conf_rename_destination(old, new)?;
            if files.conf_active()?.as_deref() == Some(old) {
                files.conf_set_active(Some(new))?;
            }
            files.conf_rename_farm_member(old, Some(new))
        })
    }

    fn check(&self) -> Result<()> {
        match &self.unresolved {
            Some(problem) => Err(Error::Connection(problem.clone())),
            None => Ok(()),
        }
    }

    fn load(&self) -> Result<Files> {
        let json_text = read_optional(&self.json)?;
        let json = parse_json(&self.json, json_text.as_deref())?;
        let conf_text = read_optional(&self.conf)?;
        let conf = parse_toml(&self.conf, conf_text.as_deref())?;
        Ok(Files {
            json_before: encode_json(&self.json, &json)?,
            json,
            conf_before: conf_text.unwrap_or_default(),
            conf,
            conf_path: self.conf.clone(),
        })
    }

    /// One locked read-modify-write of both files. The JSON file is written first: it is the
    /// store podman 5 trusts, containers.conf only mirrors it.
    fn edit(&self, op: impl FnOnce(&mut Files, &View) -> Result<()>) -> Result<()> {
        self.check()?;
        let mut lock_path = self.json.clone().into_os_string();
        lock_path.push(".lock");
        with_lock(Path::new(&lock_path), || {
            let mut files = self.load()?;
            let view = files.view(&self.conf)?;
            op(&mut files, &view)?;
            let private = files.hold_a_password();
            let json = encode_json(&self.json, &files.json)?;
            if json != files.json_before || (private && !is_private(&self.json)) {
                write_atomic(&self.json, &json, private)?;
            }
            let conf = files.conf.to_string();
            if conf != files.conf_before || (private && !is_private(&self.conf)) {
                write_atomic(&self.conf, &conf, private)?;
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Choosing what to talk to

/// Which rule of podman's precedence produced a [`Selection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionSource {
    /// `--connection NAME`
    ConnectionFlag,
    /// `--url URI`
    UrlFlag,
    /// `CONTAINER_CONNECTION`
    ConnectionEnv,
    /// `CONTAINER_HOST`
    HostEnv,
    /// The registry's default connection.
    DefaultConnection,
    /// Nothing configured: the local API socket.
    LocalSocket,
}

/// The engine to talk to, as chosen by [`select`].
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The connection's name when the choice came from the registry.
    pub name: Option<String>,
    pub uri: String,
    pub identity: Option<String>,
    pub is_machine: bool,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub tls_ca: Option<String>,
    pub source: SelectionSource,
}

/// The inputs of [`select`]: the global CLI flags and the environment.
pub struct SelectInput<'a> {
    pub connection: Option<&'a str>,
    pub url: Option<&'a str>,
    pub identity: Option<&'a str>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// podman's precedence for choosing what to talk to (P5 cmd/podman/root.go): --connection, --url,
/// CONTAINER_CONNECTION, CONTAINER_HOST (+CONTAINER_SSHKEY identity), default connection, local
/// default socket.
///
/// `--connection` takes the connection's identity and ignores `--identity`; for every other
/// source an explicit `--identity` wins. Last, like podman's bindings, `CONTAINER_SSHKEY` fills an
/// identity that is still missing. The registry is read only when a rule needs it, so `--url`
/// works even with a broken connections file.
pub fn select(registry: &Registry, input: &SelectInput) -> Result<Selection> {
    // podman treats an empty variable like an unset one.
    let env = |key: &str| (input.env)(key).filter(|v| !v.is_empty());
    let flag_identity = input.identity.filter(|s| !s.is_empty()).map(str::to_owned);

    let mut selection = if let Some(name) = input.connection {
        let conn = registry.get(name)?.ok_or_else(|| not_found(name))?;
        from_connection(conn, None, SelectionSource::ConnectionFlag)
    } else if let Some(url) = input.url.filter(|u| !u.is_empty()) {
        plain(url, flag_identity, SelectionSource::UrlFlag)
    } else if let Some(name) = env("CONTAINER_CONNECTION") {
        let conn = registry.get(&name)?.ok_or_else(|| {
            Error::Connection(format!(
                "CONTAINER_CONNECTION: connection {name:?} not found; run `{CLI_NAME} system \
                 connection list` to see the configured connections"
            ))
        })?;
        from_connection(conn, flag_identity, SelectionSource::ConnectionEnv)
    } else if let Some(host) = env("CONTAINER_HOST") {
        plain(&host, flag_identity, SelectionSource::HostEnv)
    } else if let Some(conn) = registry.default_connection()? {
        from_connection(conn, flag_identity, SelectionSource::DefaultConnection)
    } else {
        let uri = local_uri(&env, is_root(), effective_uid());
        plain(&uri, flag_identity, SelectionSource::LocalSocket)
    };
    if selection.identity.is_none() {
        selection.identity = env("CONTAINER_SSHKEY");
    }
    Ok(selection)
}

fn from_connection(
    conn: Connection,
    identity_override: Option<String>,
    source: SelectionSource,
) -> Selection {
    let d = conn.destination;
    Selection {
        name: Some(conn.name),
        uri: d.uri,
        identity: identity_override.or(d.identity.filter(|s| !s.is_empty())),
        is_machine: d.is_machine,
        tls_cert: d.tls_cert.filter(|s| !s.is_empty()),
        tls_key: d.tls_key.filter(|s| !s.is_empty()),
        tls_ca: d.tls_ca.filter(|s| !s.is_empty()),
        source,
    }
}

fn plain(uri: &str, identity: Option<String>, source: SelectionSource) -> Selection {
    Selection {
        name: None,
        uri: uri.to_owned(),
        identity,
        is_machine: false,
        tls_cert: None,
        tls_key: None,
        tls_ca: None,
        source,
    }
}

/// The local default API socket: root → unix:///run/podman/podman.sock, else
/// unix://$XDG_RUNTIME_DIR/podman/podman.sock (fallback /run/user/$UID).
pub fn default_local_uri() -> String {
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    local_uri(&env, is_root(), effective_uid())
}

fn local_uri(env: &dyn Fn(&str) -> Option<String>, root: bool, uid: u32) -> String {
    if root || cfg!(not(unix)) {
        // podman on Windows has no rootless notion and reports the root address.
        let path = if cfg!(target_os = "freebsd") {
            "/var/run/podman/podman.sock"
        } else {
            "/run/podman/podman.sock"
        };
        return format!("unix://{path}");
    }
    let runtime_dir = env("XDG_RUNTIME_DIR").unwrap_or_else(|| format!("/run/user/{uid}"));
    format!(
        "unix://{}/podman/podman.sock",
        runtime_dir.trim_end_matches('/')
    )
}

#[cfg(unix)]
fn is_root() -> bool {
    effective_uid() == 0
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

#[cfg(unix)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn effective_uid() -> u32 {
    0
}

// ---------------------------------------------------------------------------------------------
// Paths

/// (podman-connections.json, containers.conf) for this environment; `None` when no home
/// directory can be found.
fn registry_paths(
    env: &dyn Fn(&str) -> Option<String>,
    root: bool,
) -> (Option<PathBuf>, Option<PathBuf>) {
    let env = |key: &str| env(key).filter(|v| !v.is_empty());
    let user_dir = user_config_dir(&env);
    // podman 5 keeps the JSON file next to the *user* containers.conf even for root, and
    // ignores CONTAINERS_CONF when locating it.
    let json = env("PODMAN_CONNECTIONS_CONF")
        .map(PathBuf::from)
        .or_else(|| user_dir.as_ref().map(|d| d.join(CONNECTIONS_FILE)));
    // podman 4 edits $CONTAINERS_CONF, else the user file, except that root on Linux/FreeBSD
    // edits the system override file (observed with podman 4.3.1 as root).
    let conf = env("CONTAINERS_CONF")
        .map(PathBuf::from)
        .or_else(|| match root_conf_path() {
            Some(path) if root => Some(path),
            _ => user_dir.as_ref().map(|d| d.join(CONTAINERS_CONF)),
        });
    (json, conf)
}

#[cfg(target_os = "linux")]
fn root_conf_path() -> Option<PathBuf> {
    Some(PathBuf::from("/etc/containers/containers.conf"))
}

#[cfg(target_os = "freebsd")]
fn root_conf_path() -> Option<PathBuf> {
    Some(PathBuf::from("/usr/local/etc/containers/containers.conf"))
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn root_conf_path() -> Option<PathBuf> {
    None
}

/// The directory of the user containers.conf (`containers` under the config dir).
#[cfg(windows)]
fn user_config_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = env("APPDATA")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.config_dir().to_path_buf()))?;
    Some(base.join("containers"))
}

/// The directory of the user containers.conf (`containers` under the config dir). podman uses
/// `~/.config` on macOS too, not `~/Library/Application Support`.
#[cfg(not(windows))]
fn user_config_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(xdg) = env("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(xdg).join("containers"));
    }
    let home = env("HOME")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()))?;
    Some(home.join(".config").join("containers"))
}

// ---------------------------------------------------------------------------------------------
// The merged view

struct View {
    connections: BTreeMap<String, Connection>,
    default: Option<String>,
}

impl View {
    fn default_connection(&self) -> Option<&Connection> {
        self.default
            .as_ref()
            .and_then(|name| self.connections.get(name))
    }

    fn into_list(self) -> Vec<Connection> {
        // BTreeMap iteration is already sorted by name.
        self.connections.into_values().collect()
    }
}

/// Both files as loaded for one operation.
struct Files {
    json: ConnectionsFile,
    /// The canonical encoding of the file as read, to skip writes that change nothing.
    json_before: String,
    conf: DocumentMut,
    conf_before: String,
    conf_path: PathBuf,
}

impl Files {
    /// Whether some destination's URI carries a password (`ssh://user:password@host`): the
    /// files are then kept owner-only, whatever mode they had.
    fn hold_a_password(&self) -> bool {
        let has_password = |uri: &str| matches!(ConnectionUrl::parse(uri), Ok(ConnectionUrl::Ssh(s)) if s.password.is_some());
        let in_json = self
            .json
            .connection
            .connections
            .values()
            .any(|d| has_password(&d.uri));
        in_json
            || ConfView::parse(&self.conf)
                .map(|c| c.destinations.values().any(|d| has_password(&d.uri)))
                .unwrap_or(false)
    }

    fn view(&self, conf_path: &Path) -> Result<View> {
        let conf = ConfView::parse(&self.conf).map_err(|p| conf_error(conf_path, p))?;
        let json = &self.json.connection;
        let default = non_empty_str(&json.default).or(conf.active);
        let mut connections = BTreeMap::new();
        for (name, dest) in &json.connections {
            connections.insert(
                name.clone(),
                Connection {
                    name: name.clone(),
                    destination: dest.into(),
                    default: default.as_deref() == Some(name.as_str()),
                    read_write: true,
                },
            );
        }
        for (name, destination) in conf.destinations {
            if connections.contains_key(&name) {
                continue;
            }
            let is_default = default.as_deref() == Some(name.as_str());
            connections.insert(
                name.clone(),
                Connection {
                    name,
                    destination,
                    default: is_default,
                    read_write: false,
                },
            );
        }
        Ok(View {
            connections,
            default,
        })
    }

    fn conf_err(&self, problem: String) -> Error {
        conf_error(&self.conf_path, problem)
    }

    fn conf_active(&self) -> Result<Option<String>> {
        Ok(ConfView::parse(&self.conf)
            .map_err(|p| self.conf_err(p))?
            .active)
    }

    /// The `[engine]` table, created when missing.
    fn conf_engine(&mut self) -> Result<TableMut<'_>> {
        let root = TableMut::Std(self.conf.as_table_mut());
        match root.child("engine", ChildKind::Header) {
            Ok(Some(engine)) => Ok(engine),
            Ok(None) => Err(conf_error(&self.conf_path, "[engine] is missing".into())),
            Err(p) => Err(conf_error(&self.conf_path, p)),
        }
    }

    fn conf_set_destination(&mut self, name: &str, dest: &Destination) -> Result<()> {
        let path = self.conf_path.clone();
        let engine = self.conf_engine()?;
        let table = engine
            .child("service_destinations", ChildKind::Implicit)
            .and_then(|sd| match sd {
                Some(sd) => sd.child(name, ChildKind::Header),
                None => Ok(None),
            })
            .map_err(|p| conf_error(&path, p))?;
        let Some(mut table) = table else {
            return Err(conf_error(
                &path,
                "cannot create the destination table".into(),
            ));
        };
        // Same keys and order as podman's Destination; empty optional values are omitted.
        table.set("uri", TomlValue::from(dest.uri.as_str()));
        for (key, value) in [
            ("identity", &dest.identity),
            ("tls_cert", &dest.tls_cert),
            ("tls_key", &dest.tls_key),
            ("tls_ca", &dest.tls_ca),
        ] {
            match non_empty(value) {
                Some(v) => table.set(key, TomlValue::from(v)),
                None => table.remove(key),
            }
        }
        if dest.is_machine {
            table.set("is_machine", TomlValue::from(true));
        } else {
            table.remove("is_machine");
        }
        Ok(())
    }

    /// The `[engine.service_destinations]` table if it exists.
    fn conf_destinations(&mut self) -> Result<Option<TableMut<'_>>> {
        let path = self.conf_path.clone();
        let root = TableMut::Std(self.conf.as_table_mut());
        let engine = root
            .child("engine", ChildKind::Lookup)
            .map_err(|p| conf_error(&path, p))?;
        match engine {
            Some(engine) => engine
                .child("service_destinations", ChildKind::Lookup)
                .map_err(|p| conf_error(&path, p)),
            None => Ok(None),
        }
    }

    fn conf_remove_destination(&mut self, name: &str) -> Result<()> {
        if let Some(mut sd) = self.conf_destinations()? {
            sd.remove(name);
        }
        Ok(())
    }

    fn conf_rename_destination(&mut self, old: &str, new: &str) -> Result<()> {
        if let Some(mut sd) = self.conf_destinations()? {
            sd.rename(old, new);
        }
        Ok(())
    }

    fn conf_set_active(&mut self, name: Option<&str>) -> Result<()> {
        match name {
            Some(name) => self
                .conf_engine()?
                .set("active_service", TomlValue::from(name)),
            None => {
                let path = self.conf_path.clone();
                let root = TableMut::Std(self.conf.as_table_mut());
                if let Some(mut engine) = root
                    .child("engine", ChildKind::Lookup)
                    .map_err(|p| conf_error(&path, p))?
                {
                    engine.remove("active_service");
                }
            }
        }
        Ok(())
    }

    fn conf_clear(&mut self) -> Result<()> {
        if let Some(mut sd) = self.conf_destinations()? {
            sd.clear();
        }
        self.conf_set_active(None)?;
        self.conf_edit_farms(|members| members.clear());
        Ok(())
    }

    /// podman 4.9 keeps farms in containers.conf (`[farms.list] NAME = ["conn", …]`).
    fn conf_rename_farm_member(&mut self, old: &str, new: Option<&str>) -> Result<()> {
        self.conf_edit_farms(|members| match new {
            Some(new) => {
                for i in 0..members.len() {
                    if members.get(i).and_then(TomlValue::as_str) == Some(old) {
                        let decor = members.get(i).map(|v| v.decor().clone());
                        members.replace(i, new);
                        if let (Some(decor), Some(v)) = (decor, members.get_mut(i)) {
                            *v.decor_mut() = decor;
                        }
                    }
                }
            }
            None => {
                // The first element carries no leading space; keep it that way after removal.
                let first_prefix = members.get(0).and_then(|v| v.decor().prefix().cloned());
                members.retain(|v| v.as_str() != Some(old));
                if let (Some(prefix), Some(first)) = (first_prefix, members.get_mut(0)) {
                    first.decor_mut().set_prefix(prefix);
                }
            }
        });
        Ok(())
    }

    fn conf_edit_farms(&mut self, mut edit: impl FnMut(&mut toml_edit::Array)) {
        let Some(list) = self
            .conf
            .get_mut("farms")
            .and_then(Item::as_table_like_mut)
            .and_then(|farms| farms.get_mut("list"))
            .and_then(Item::as_table_like_mut)
        else {
            return;
        };
        for (_, members) in list.iter_mut() {
            if let Some(members) = members.as_array_mut() {
                edit(members);
            }
        }
    }
}

fn not_found(name: &str) -> Error {
    Error::Connection(format!(
        "connection {name:?} not found; run `{CLI_NAME} system connection list` to see the \
         configured connections"
    ))
}

fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::Connection(
            "a connection name must not be empty".into(),
        ));
    }
    Ok(())
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

fn non_empty_str(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

// ---------------------------------------------------------------------------------------------
// podman-connections.json

/// The file as podman 5 (containers/common `ConnectionsFile`) writes it. Keys we do not know are
/// kept in `unknown` so a newer podman's additions survive our rewrites.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ConnectionsFile {
    #[serde(rename = "Connection", default, deserialize_with = "null_as_default")]
    connection: ConnectionSection,
    #[serde(rename = "Farm", default, deserialize_with = "null_as_default")]
    farm: FarmSection,
    #[serde(flatten)]
    unknown: Map<String, JsonValue>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConnectionSection {
    #[serde(
        rename = "Default",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    default: String,
    /// A BTreeMap because Go's encoder writes map keys sorted.
    #[serde(
        rename = "Connections",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    connections: BTreeMap<String, FileDestination>,
    #[serde(flatten)]
    unknown: Map<String, JsonValue>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FarmSection {
    #[serde(
        rename = "Default",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    default: String,
    #[serde(
        rename = "List",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    list: BTreeMap<String, Vec<String>>,
    #[serde(flatten)]
    unknown: Map<String, JsonValue>,
}

impl FarmSection {
    /// Renames (or with `None` removes) a connection inside every farm.
    fn rename_member(&mut self, old: &str, new: Option<&str>) {
        for members in self.list.values_mut() {
            match new {
                Some(new) => members
                    .iter_mut()
                    .filter(|m| m.as_str() == old)
                    .for_each(|m| *m = new.to_owned()),
                None => members.retain(|m| m != old),
            }
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct FileDestination {
    #[serde(rename = "URI", default, deserialize_with = "null_as_default")]
    uri: String,
    #[serde(
        rename = "Identity",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    identity: String,
    #[serde(
        rename = "TLSCert",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    tls_cert: String,
    #[serde(
        rename = "TLSKey",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    tls_key: String,
    #[serde(
        rename = "TLSCA",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    tls_ca: String,
    #[serde(
        rename = "IsMachine",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    is_machine: bool,
    #[serde(flatten)]
    unknown: Map<String, JsonValue>,
}

impl From<&FileDestination> for Destination {
    fn from(d: &FileDestination) -> Destination {
        let opt = |s: &String| non_empty_str(s);
        Destination {
            uri: d.uri.clone(),
            identity: opt(&d.identity),
            is_machine: d.is_machine,
            tls_cert: opt(&d.tls_cert),
            tls_key: opt(&d.tls_key),
            tls_ca: opt(&d.tls_ca),
        }
    }
}

impl From<&Destination> for FileDestination {
    fn from(d: &Destination) -> FileDestination {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        FileDestination {
            uri: d.uri.clone(),
            identity: s(&d.identity),
            tls_cert: s(&d.tls_cert),
            tls_key: s(&d.tls_key),
            tls_ca: s(&d.tls_ca),
            is_machine: d.is_machine,
            unknown: Map::new(),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Go decodes `null` into the zero value; serde would reject it.
fn null_as_default<'de, D, T>(de: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

fn parse_json(path: &Path, text: Option<&str>) -> Result<ConnectionsFile> {
    match text {
        // An empty file holds nothing to lose; podman itself would choke on it.
        None => Ok(ConnectionsFile::default()),
        Some(t) if t.trim().is_empty() => Ok(ConnectionsFile::default()),
        Some(t) => serde_json::from_str(t).map_err(|e| {
            Error::Connection(format!(
                "{}: invalid connections file: {e}; fix or remove it",
                path.display()
            ))
        }),
    }
}

/// Byte-for-byte what Go's `json.NewEncoder(f).Encode(conf)` writes: one line, a trailing
/// newline, and `<`, `>`, `&`, U+2028, U+2029 escaped (Go's HTML-safe default).
fn encode_json(path: &Path, file: &ConnectionsFile) -> Result<String> {
    let raw = serde_json::to_string(file).map_err(|e| {
        Error::Connection(format!(
            "{}: cannot encode connections: {e}",
            path.display()
        ))
    })?;
    let mut out = String::with_capacity(raw.len() + 1);
    // These characters can only occur inside strings of serde_json's output, so escaping them
    // everywhere is exact.
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// containers.conf

/// What containers.conf says about connections.
struct ConfView {
    active: Option<String>,
    destinations: BTreeMap<String, Destination>,
}

impl ConfView {
    fn parse(doc: &DocumentMut) -> std::result::Result<ConfView, String> {
        let mut view = ConfView {
            active: None,
            destinations: BTreeMap::new(),
        };
        let Some(engine) = doc.get("engine").filter(|i| !i.is_none()) else {
            return Ok(view);
        };
        let engine = engine.as_table_like().ok_or("[engine] is not a table")?;
        view.active = toml_string(engine, "active_service", "engine")?.filter(|s| !s.is_empty());
        let Some(sd) = engine.get("service_destinations").filter(|i| !i.is_none()) else {
            return Ok(view);
        };
        let sd = sd
            .as_table_like()
            .ok_or("engine.service_destinations is not a table")?;
        for (name, item) in sd.iter().filter(|(_, i)| !i.is_none()) {
            let at = format!("engine.service_destinations.{}", toml_key(name));
            let t = item
                .as_table_like()
                .ok_or_else(|| format!("{at} is not a table"))?;
            let is_machine = match t.get("is_machine").filter(|i| !i.is_none()) {
                None => false,
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| format!("{at}.is_machine must be a boolean"))?,
            };
            view.destinations.insert(
                name.to_owned(),
                Destination {
                    uri: toml_string(t, "uri", &at)?.unwrap_or_default(),
                    identity: toml_string(t, "identity", &at)?.filter(|s| !s.is_empty()),
                    is_machine,
                    tls_cert: toml_string(t, "tls_cert", &at)?.filter(|s| !s.is_empty()),
                    tls_key: toml_string(t, "tls_key", &at)?.filter(|s| !s.is_empty()),
                    tls_ca: toml_string(t, "tls_ca", &at)?.filter(|s| !s.is_empty()),
                },
            );
        }
        Ok(view)
    }
}

fn toml_string(
    table: &dyn TableLike,
    key: &str,
    at: &str,
) -> std::result::Result<Option<String>, String> {
    match table.get(key).filter(|i| !i.is_none()) {
        None => Ok(None),
        Some(item) => item
            .as_str()
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| format!("{at}.{key} must be a string")),
    }
}

/// A key as it would be written in a TOML path (quoted when not bare).
fn toml_key(name: &str) -> String {
    toml_edit::Key::new(name).display_repr().into_owned()
}

fn parse_toml(path: &Path, text: Option<&str>) -> Result<DocumentMut> {
    let mut doc = text
        .unwrap_or_default()
        .parse::<DocumentMut>()
        .map_err(|e| conf_error(path, format!("invalid TOML: {e}")))?;
    // In a file of nothing but comments toml_edit files them as trailing text, so tables we add
    // would land above them; keep them as the file's header instead.
    if doc.as_table().is_empty() && doc.as_table().decor().prefix().is_none() {
        if let Some(mut text) = doc.trailing().as_str().map(str::to_owned) {
            if !text.is_empty() {
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                doc.decor_mut().set_prefix(text);
                doc.set_trailing("");
            }
        }
    }
    Ok(doc)
}

fn conf_error(path: &Path, problem: String) -> Error {
    Error::Connection(format!(
        "{}: {}; fix or remove it",
        path.display(),
        problem.trim_end()
    ))
}

/// How a missing child table is handled by [`TableMut::child`].
#[derive(Clone, Copy)]
enum ChildKind {
    /// Do not create.
    Lookup,
    /// Create a table with its own `[header]`.
    Header,
    /// Create a table that only exists through its sub-tables (no empty header line).
    Implicit,
}

/// A table that may be written as `[header]`, dotted keys or `{ inline }`: users edit
/// containers.conf by hand, so every form must be edited in place.
enum TableMut<'a> {
    Std(&'a mut Table),
    Inline(&'a mut InlineTable),
}

impl<'a> TableMut<'a> {
    /// The sub-table `key`; `Ok(None)` when absent and `kind` is `Lookup`, `Err` when `key` holds
    /// something that is not a table.
    fn child(
        self,
        key: &str,
        kind: ChildKind,
    ) -> std::result::Result<Option<TableMut<'a>>, String> {
        let create = !matches!(kind, ChildKind::Lookup);
        match self {
            TableMut::Std(t) => {
                if t.get(key).is_none_or(Item::is_none) {
                    if !create {
                        return Ok(None);
                    }
                    let mut new = Table::new();
                    if t.is_dotted() {
                        // Stay in the dotted style of the parent instead of adding a header.
                        new.set_dotted(true);
                    } else {
                        new.set_implicit(matches!(kind, ChildKind::Implicit));
                    }
                    t.insert(key, Item::Table(new));
                }
                match t.get_mut(key) {
                    Some(Item::Table(c)) => Ok(Some(TableMut::Std(c))),
                    Some(Item::Value(TomlValue::InlineTable(c))) => Ok(Some(TableMut::Inline(c))),
                    _ => Err(format!("{} is not a table", toml_key(key))),
                }
            }
            TableMut::Inline(t) => {
                if !t.contains_key(key) {
                    if !create {
                        return Ok(None);
                    }
                    t.insert(key, TomlValue::InlineTable(InlineTable::new()));
                }
                match t.get_mut(key) {
                    Some(TomlValue::InlineTable(c)) => Ok(Some(TableMut::Inline(c))),
                    _ => Err(format!("{} is not a table", toml_key(key))),
                }
            }
        }
    }

    /// Sets a value, keeping the spacing and trailing comment of the value it replaces.
    fn set(&mut self, key: &str, mut value: TomlValue) {
        match self {
            TableMut::Std(t) => match t.get_mut(key) {
                Some(Item::Value(old)) => {
                    *value.decor_mut() = old.decor().clone();
                    *old = value;
                }
                _ => {
                    t.insert(key, Item::Value(value));
                }
            },
            TableMut::Inline(t) => match t.get_mut(key) {
                Some(old) => {
                    *value.decor_mut() = old.decor().clone();
                    *old = value;
                }
                None => {
                    t.insert(key, value);
                }
            },
        }
    }

    fn remove(&mut self, key: &str) {
        match self {
            TableMut::Std(t) => {
                t.remove(key);
            }
            TableMut::Inline(t) => {
                t.remove(key);
            }
        }
    }

    /// Moves `old` to `new`; a `[header]` table keeps its place in the file.
    fn rename(&mut self, old: &str, new: &str) {
        match self {
            TableMut::Std(t) => {
                if let Some(item) = t.remove(old) {
                    t.insert(new, item);
                }
            }
            TableMut::Inline(t) => {
                if let Some(value) = t.remove(old) {
                    t.insert(new, value);
                }
            }
        }
    }

    fn clear(&mut self) {
        match self {
            TableMut::Std(t) => t.clear(),
            TableMut::Inline(t) => t.clear(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Files on disk

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::file(path, e)),
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o755);
    }
    builder.create(dir).map_err(|e| Error::file(dir, e))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether `path` is missing or readable by its owner only.
fn is_private(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).map_or(true, |m| m.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

/// Replaces `path` atomically (temp file in the same directory, fsync, rename) so a crash or a
/// concurrent reader never sees half a file. A symlinked file (dotfile managers) is written
/// through the link instead of replacing it. `private` (the contents hold a secret) drops
/// every permission of group and others.
fn write_atomic(path: &Path, contents: &str, private: bool) -> Result<()> {
    // Windows files carry no mode bits here; their ACLs come from the directory.
    #[cfg(not(unix))]
    let _ = private;
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    };
    let dir = parent_dir(&target);
    create_dir(&dir)?;
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| Error::file(&dir, e))?;
    tmp.write_all(contents.as_bytes())
        .map_err(|e| Error::file(tmp.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // podman writes 0644 (the files hold paths, no secrets); a mode the user chose for an
        // existing file is kept.
        let mut mode = fs::metadata(&target)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        if private {
            mode &= !0o077;
        }
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| Error::file(tmp.path(), e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::file(tmp.path(), e))?;
    tmp.persist(&target)
        .map_err(|e| Error::file(&target, e.error))?;
    #[cfg(unix)]
    {
        // Makes the rename itself durable; failure only weakens crash safety, so it is ignored.
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Runs `f` holding the registry's exclusive lock on `lock_path`, the same lock file podman 5
/// takes (a containers/storage lockfile: an fcntl `F_SETLKW` write lock over the whole file on
/// unix, `LockFileEx` on Windows), so our edits and podman's never interleave.
fn with_lock<R>(lock_path: &Path, f: impl FnOnce() -> Result<R>) -> Result<R> {
    // fcntl locks belong to the process, so threads of one process would not exclude each other.
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let _in_process = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());

    create_dir(&parent_dir(lock_path))?;
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o644);
    }
    let file = options
        .open(lock_path)
        .map_err(|e| Error::file(lock_path, e))?;
    lock_file(lock_path, file, f)
}

#[cfg(unix)]
fn lock_file<R>(lock_path: &Path, file: fs::File, f: impl FnOnce() -> Result<R>) -> Result<R> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: an all-zero flock is a valid value; the fields that matter are set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_start = 0;
    lock.l_len = 0;
    loop {
        // SAFETY: the fd is open for the duration of the call and `lock` outlives it.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLKW, &lock) };
        if rc == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::file(lock_path, err));
        }
    }
    let result = f();
    // Closing the descriptor releases the lock.
    drop(file);
    result
}

#[cfg(not(unix))]
fn lock_file<R>(lock_path: &Path, file: fs::File, f: impl FnOnce() -> Result<R>) -> Result<R> {
    let mut lock = fd_lock::RwLock::new(file);
    let _guard = lock.write().map_err(|e| Error::file(lock_path, e))?;
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    /// Written by the real podman 4.3.1 (`system connection add`, `rename`, `default`, with a
    /// machine entry added by hand and then rewritten by podman), verbatim.
    const PODMAN4_CONF: &str = r#"[containers]

[engine]
  active_service = "podman-machine-default"
  [engine.service_destinations]
    [engine.service_destinations.podman-machine-default]
      uri = "ssh://core@127.0.0.1:40403/run/user/1000/podman/podman.sock"
      identity = "/home/u/.ssh/podman-machine-default"
      is_machine = true
    [engine.service_destinations."sec.ond"]
      uri = "ssh://root@127.0.0.1:2222/run/podman/podman.sock"
      identity = "/tmp/p4exp/idkey"
    [engine.service_destinations.test2]
      uri = "unix:///tmp/p4exp/y.sock"

[machine]

[network]

[secrets]

[configmaps]"#;

    /// A podman 5 file with farms and keys a future podman might add.
    const PODMAN5_JSON: &str = concat!(
        r#"{"Connection":{"Default":"b","Connections":{"#,
        r#""a":{"URI":"ssh://core@127.0.0.1:2222/run/podman/podman.sock","Identity":"/k/a","IsMachine":true},"#,
        r#""b":{"URI":"unix:///run/b.sock","Future":[1,2]}},"Extra":"x"},"#,
        r#""Farm":{"Default":"f","List":{"f":["a","b"],"g":["b"]}},"Later":{"k":true}}"#,
        "\n"
    );

    struct Fixture {
        _dir: TempDir,
        reg: Registry,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = TempDir::new().expect("tempdir");
            let base = dir.path().join("config").join("containers");
            let reg = Registry::with_paths(
                base.join("podman-connections.json"),
                base.join("containers.conf"),
            );
            Fixture { _dir: dir, reg }
        }

        fn with(json: Option<&str>, conf: Option<&str>) -> Fixture {
            let f = Fixture::new();
            let dir = f.reg.json_path().parent().expect("parent");
            fs::create_dir_all(dir).expect("mkdir");
            if let Some(json) = json {
                fs::write(f.reg.json_path(), json).expect("write json");
            }
            if let Some(conf) = conf {
                fs::write(f.reg.conf_path(), conf).expect("write conf");
            }
            f
        }

        fn json(&self) -> String {
            fs::read_to_string(self.reg.json_path()).unwrap_or_default()
        }

        fn conf(&self) -> String {
            fs::read_to_string(self.reg.conf_path()).unwrap_or_default()
        }

        /// containers.conf as an independent TOML parser (the `toml` crate) sees it.
        fn conf_value(&self) -> toml::Table {
            self.conf().parse::<toml::Table>().expect("valid TOML")
        }

        fn names(&self) -> Vec<String> {
            self.reg
                .list()
                .expect("list")
                .into_iter()
                .map(|c| c.name)
                .collect()
        }

        fn default_name(&self) -> Option<String> {
            self.reg
                .default_connection()
                .expect("default")
                .map(|c| c.name)
        }
    }

    fn unix(path: &str) -> Destination {
        Destination::new(format!("unix://{path}"))
    }

    fn err_text<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.expect_err("expected an error").to_string()
    }

    #[test]
    fn first_add_writes_exactly_what_podman5_writes() {
        let f = Fixture::new();
        f.reg.add("a", unix("/run/a.sock"), false).expect("add");
        assert_eq!(
            f.json(),
            "{\"Connection\":{\"Default\":\"a\",\"Connections\":{\"a\":{\"URI\":\"unix:///run/a.sock\"}}},\"Farm\":{}}\n"
        );
    }

    #[test]
    fn full_destination_uses_go_field_order_omitempty_and_html_escaping() {
        let f = Fixture::new();
        let dest = Destination {
            uri: "tcp://h:8080".into(),
            identity: Some("/keys/<me>&you".into()),
            is_machine: true,
            tls_cert: Some("/c.pem".into()),
            tls_key: Some("/k.pem".into()),
            tls_ca: Some(String::new()),
        };
        f.reg.add("m", dest, false).expect("add");
        f.reg.add("z", unix("/z"), false).expect("add");
        f.reg.add("b", unix("/b"), false).expect("add");
        assert_eq!(
            f.json(),
            concat!(
                r#"{"Connection":{"Default":"m","Connections":{"#,
                r#""b":{"URI":"unix:///b"},"#,
                r#""m":{"URI":"tcp://h:8080","Identity":"/keys/\u003cme\u003e\u0026you","TLSCert":"/c.pem","TLSKey":"/k.pem","IsMachine":true},"#,
                r#""z":{"URI":"unix:///z"}}},"Farm":{}}"#,
                "\n"
            )
        );
        let m = f.reg.get("m").expect("get").expect("m exists");
        assert_eq!(m.destination.identity.as_deref(), Some("/keys/<me>&you"));
        assert_eq!(m.destination.tls_ca, None);
        let conf = f.conf_value();
        let t = &conf["engine"]["service_destinations"]["m"];
        assert_eq!(t["tls_cert"].as_str(), Some("/c.pem"));
        assert_eq!(t["tls_key"].as_str(), Some("/k.pem"));
        assert_eq!(t["is_machine"].as_bool(), Some(true));
        assert!(t.get("tls_ca").is_none());
    }

    #[test]
    fn podman5_file_is_read_and_unknown_keys_and_farms_survive_a_rewrite() {
        let f = Fixture::with(Some(PODMAN5_JSON), None);
        let list = f.reg.list().expect("list");
        assert_eq!(
            list,
            vec![
                Connection {
                    name: "a".into(),
                    destination: Destination {
                        uri: "ssh://core@127.0.0.1:2222/run/podman/podman.sock".into(),
                        identity: Some("/k/a".into()),
                        is_machine: true,
                        ..Destination::default()
                    },
                    default: false,
                    read_write: true,
                },
                Connection {
                    name: "b".into(),
                    destination: unix("/run/b.sock"),
                    default: true,
                    read_write: true,
                },
            ]
        );
        f.reg.add("c", unix("/c"), false).expect("add");
        assert_eq!(
            f.json(),
            concat!(
                r#"{"Connection":{"Default":"b","Connections":{"#,
                r#""a":{"URI":"ssh://core@127.0.0.1:2222/run/podman/podman.sock","Identity":"/k/a","IsMachine":true},"#,
                r#""b":{"URI":"unix:///run/b.sock","Future":[1,2]},"c":{"URI":"unix:///c"}},"Extra":"x"},"#,
                r#""Farm":{"Default":"f","List":{"f":["a","b"],"g":["b"]}},"Later":{"k":true}}"#,
                "\n"
            )
        );
    }

    #[test]
    fn round_trip_through_both_files() {
        let f = Fixture::new();
        let dest = Destination {
            uri: "ssh://root@example.com:22/run/podman/podman.sock".into(),
            identity: Some("/home/u/.ssh/id_ed25519".into()),
            ..Destination::default()
        };
        f.reg.add("remote", dest.clone(), false).expect("add");
        let got = f.reg.get("remote").expect("get").expect("present");
        assert_eq!(got.destination, dest);
        assert!(got.default && got.read_write);
        assert_eq!(f.reg.get("nope").expect("get"), None);

        // The mirror alone (as podman 4 sees it) carries the same connection.
        let conf_only = Registry::with_paths(
            f.reg.json_path().with_file_name("absent.json"),
            f.reg.conf_path().to_path_buf(),
        );
        let mirrored = conf_only.get("remote").expect("get").expect("mirrored");
        assert_eq!(mirrored.destination, dest);
        assert!(mirrored.default && !mirrored.read_write);
    }

    #[test]
    fn podman4_fixture_is_read_without_writing_anything() {
        let f = Fixture::with(None, Some(PODMAN4_CONF));
        let list = f.reg.list().expect("list");
        let summary: Vec<_> = list
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.destination.uri.as_str(),
                    c.destination.identity.as_deref(),
                    c.destination.is_machine,
                    c.default,
                    c.read_write,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "podman-machine-default",
                    "ssh://core@127.0.0.1:40403/run/user/1000/podman/podman.sock",
                    Some("/home/u/.ssh/podman-machine-default"),
                    true,
                    true,
                    false
                ),
                (
                    "sec.ond",
                    "ssh://root@127.0.0.1:2222/run/podman/podman.sock",
                    Some("/tmp/p4exp/idkey"),
                    false,
                    false,
                    false
                ),
                (
                    "test2",
                    "unix:///tmp/p4exp/y.sock",
                    None,
                    false,
                    false,
                    false
                ),
            ]
        );
        assert_eq!(f.default_name().as_deref(), Some("podman-machine-default"));
        assert!(!f.reg.json_path().exists());
        assert_eq!(f.conf(), PODMAN4_CONF);
    }

    #[test]
    fn mirror_keeps_comments_and_other_settings() {
        let original = "# my settings\n[containers]\n# keep this\nlog_size_max = 10000 # bytes\n\n[engine]\nevents_logger = \"file\" # why not\n\n[network]\ndns_bind_port = 53\n";
        let f = Fixture::with(None, Some(original));
        f.reg.add("a", unix("/run/a.sock"), false).expect("add");
        assert_eq!(
            f.conf(),
            "# my settings\n[containers]\n# keep this\nlog_size_max = 10000 # bytes\n\n[engine]\nevents_logger = \"file\" # why not\nactive_service = \"a\"\n\n[engine.service_destinations.a]\nuri = \"unix:///run/a.sock\"\n\n[network]\ndns_bind_port = 53\n"
        );
        // Replacing a value keeps its trailing comment.
        let with_comment = f.conf().replace(
            "uri = \"unix:///run/a.sock\"",
            "uri = \"unix:///run/a.sock\" # old one",
        );
        fs::write(f.reg.conf_path(), with_comment).expect("write");
        f.reg.add("a", unix("/run/new.sock"), false).expect("add");
        assert!(f
            .conf()
            .contains("uri = \"unix:///run/new.sock\" # old one\n"));
    }

    #[test]
    fn mirror_into_podman4_file_keeps_its_lines() {
        let f = Fixture::with(None, Some(PODMAN4_CONF));
        f.reg.add("new.one", unix("/n"), false).expect("add");
        let conf = f.conf();
        let head = PODMAN4_CONF
            .split("\n[machine]")
            .next()
            .expect("has machine table");
        assert!(conf.starts_with(head), "{conf}");
        assert!(conf.ends_with("[machine]\n\n[network]\n\n[secrets]\n\n[configmaps]\n"));
        let value = f.conf_value();
        let sd = &value["engine"]["service_destinations"];
        assert_eq!(sd["new.one"]["uri"].as_str(), Some("unix:///n"));
        assert_eq!(sd["sec.ond"]["identity"].as_str(), Some("/tmp/p4exp/idkey"));
        assert_eq!(
            value["engine"]["active_service"].as_str(),
            Some("podman-machine-default")
        );
    }

    #[test]
    fn first_connection_becomes_default_and_make_default_overrides() {
        let f = Fixture::new();
        f.reg.add("a", unix("/a"), false).expect("add a");
        f.reg.add("b", unix("/b"), false).expect("add b");
        assert_eq!(f.default_name().as_deref(), Some("a"));
        f.reg.add("c", unix("/c"), true).expect("add c");
        assert_eq!(f.default_name().as_deref(), Some("c"));
        assert_eq!(
            f.conf_value()["engine"]["active_service"].as_str(),
            Some("c")
        );
        let defaults: Vec<_> = f
            .reg
            .list()
            .expect("list")
            .into_iter()
            .filter(|c| c.default)
            .map(|c| c.name)
            .collect();
        assert_eq!(defaults, vec!["c".to_owned()]);
    }

    #[test]
    fn adding_does_not_steal_a_podman4_default() {
        let f = Fixture::with(None, Some(PODMAN4_CONF));
        f.reg.add("mine", unix("/m"), false).expect("add");
        assert_eq!(f.default_name().as_deref(), Some("podman-machine-default"));
        assert!(!f.json().contains("Default"));
    }

    #[test]
    fn a_stale_default_counts_as_none() {
        let f = Fixture::with(
            Some("{\"Connection\":{\"Default\":\"gone\"},\"Farm\":{}}\n"),
            None,
        );
        assert_eq!(f.default_name(), None);
        f.reg.add("a", unix("/a"), false).expect("add");
        assert_eq!(f.default_name().as_deref(), Some("a"));
    }

    #[test]
    fn adding_an_existing_name_replaces_it() {
        let f = Fixture::with(None, Some(PODMAN4_CONF));
        f.reg.add("test2", unix("/replaced"), false).expect("add");
        let c = f.reg.get("test2").expect("get").expect("present");
        assert_eq!(c.destination.uri, "unix:///replaced");
        assert!(c.read_write);
        assert_eq!(
            f.conf_value()["engine"]["service_destinations"]["test2"]["uri"].as_str(),
            Some("unix:///replaced")
        );
        assert_eq!(f.names().len(), 3);
    }

    #[test]
    fn json_wins_on_clash_and_default_falls_back_to_active_service() {
        let f = Fixture::with(
            Some("{\"Connection\":{\"Connections\":{\"test2\":{\"URI\":\"unix:///json\"}}},\"Farm\":{}}\n"),
            Some(PODMAN4_CONF),
        );
        let c = f.reg.get("test2").expect("get").expect("present");
        assert_eq!(c.destination.uri, "unix:///json");
        assert!(c.read_write);
        assert_eq!(f.default_name().as_deref(), Some("podman-machine-default"));
        assert_eq!(f.names().len(), 3);
    }

    #[test]
    fn remove_clears_default_and_fixes_farms_in_both_files() {
        let conf = "[engine]\nactive_service = \"a\"\n[engine.service_destinations.a]\nuri = \"unix:///a\"\n\n[farms]\ndefault = \"f\"\n[farms.list]\nf = [\"a\", \"b\"]\n";
        let f = Fixture::with(Some(PODMAN5_JSON), Some(conf));
        f.reg.set_default("a").expect("default a");
        f.reg.remove("a").expect("remove");
        assert_eq!(
            f.json(),
            concat!(
                r#"{"Connection":{"Connections":{"b":{"URI":"unix:///run/b.sock","Future":[1,2]}},"Extra":"x"},"#,
                r#""Farm":{"Default":"f","List":{"f":["b"],"g":["b"]}},"Later":{"k":true}}"#,
                "\n"
            )
        );
        assert_eq!(
            f.conf(),
            "[engine]\n\n[farms]\ndefault = \"f\"\n[farms.list]\nf = [\"b\"]\n"
        );
        assert_eq!(f.default_name(), None);
        assert_eq!(f.names(), vec!["b".to_owned()]);
    }

    #[test]
    fn removing_an_unknown_name_is_an_error_that_names_it() {
        let f = Fixture::new();
        f.reg.add("a", unix("/a"), false).expect("add");
        let before = f.json();
        let msg = err_text(f.reg.remove("nope"));
        assert!(msg.contains("connection \"nope\" not found"), "{msg}");
        assert!(
            msg.contains("podman-remote system connection list"),
            "{msg}"
        );
        assert_eq!(f.json(), before);
    }

    #[test]
    fn conf_only_connections_can_be_removed_renamed_and_made_default() {
        let f = Fixture::with(None, Some(PODMAN4_CONF));
        f.reg.remove("test2").expect("remove");
        assert!(
            !f.reg.json_path().exists(),
            "nothing to change in the JSON file"
        );
        assert!(!f.conf().contains("test2"));

        f.reg.rename("sec.ond", "second").expect("rename");
        let c = f.reg.get("second").expect("get").expect("renamed");
        assert!(!c.read_write);
        assert_eq!(c.destination.identity.as_deref(), Some("/tmp/p4exp/idkey"));
        assert!(f.conf().contains("[engine.service_destinations.second]"));

        f.reg.set_default("second").expect("default");
        assert_eq!(f.default_name().as_deref(), Some("second"));
        assert_eq!(
            f.conf_value()["engine"]["active_service"].as_str(),
            Some("second")
        );
        assert_eq!(
            f.json(),
            "{\"Connection\":{\"Default\":\"second\"},\"Farm\":{}}\n"
        );
    }

    #[test]
    fn set_default_mirrors_a_json_only_connection() {
        let f = Fixture::with(Some(PODMAN5_JSON), None);
        f.reg.set_default("a").expect("default");
        let conf = f.conf_value();
        assert_eq!(conf["engine"]["active_service"].as_str(), Some("a"));
        assert_eq!(
            conf["engine"]["service_destinations"]["a"]["identity"].as_str(),
            Some("/k/a")
        );
        assert!(f.json().starts_with("{\"Connection\":{\"Default\":\"a\","));
        let msg = err_text(f.reg.set_default("zzz"));
        assert!(msg.contains("\"zzz\" not found"), "{msg}");
    }

    #[test]
    fn rename_moves_default_and_farm_memberships() {
        let conf = "[farms.list]\nf = [\"b\", \"x\"] # keep\n";
        let f = Fixture::with(Some(PODMAN5_JSON), Some(conf));
        f.reg.rename("b", "bee").expect("rename");
        assert_eq!(
            f.json(),
            concat!(
                r#"{"Connection":{"Default":"bee","Connections":{"#,
                r#""a":{"URI":"ssh://core@127.0.0.1:2222/run/podman/podman.sock","Identity":"/k/a","IsMachine":true},"#,
                r#""bee":{"URI":"unix:///run/b.sock","Future":[1,2]}},"Extra":"x"},"#,
                r#""Farm":{"Default":"f","List":{"f":["a","bee"],"g":["bee"]}},"Later":{"k":true}}"#,
                "\n"
            )
        );
        assert_eq!(f.conf(), "[farms.list]\nf = [\"bee\", \"x\"] # keep\n");
        assert_eq!(f.default_name().as_deref(), Some("bee"));
    }

    #[test]
    fn rename_moves_a_mirrored_connection_and_active_service() {
        let f = Fixture::new();
        f.reg.add("a", unix("/a"), false).expect("add");
        f.reg.rename("a", "b").expect("rename");
        let conf = f.conf_value();
        assert_eq!(conf["engine"]["active_service"].as_str(), Some("b"));
        assert!(conf["engine"]["service_destinations"].get("a").is_none());
        assert_eq!(
            conf["engine"]["service_destinations"]["b"]["uri"].as_str(),
            Some("unix:///a")
        );
        assert_eq!(f.names(), vec!["b".to_owned()]);
    }

    #[test]
    fn rename_errors() {
        let f = Fixture::new();
        f.reg.add("a", unix("/a"), false).expect("add");
        f.reg.add("b", unix("/b"), false).expect("add");
        let msg = err_text(f.reg.rename("zzz", "c"));
        assert!(msg.contains("\"zzz\" not found"), "{msg}");
        let msg = err_text(f.reg.rename("a", "b"));
        assert!(msg.contains("\"b\" already exists"), "{msg}");
        assert!(f.reg.rename("a", "").is_err());
        f.reg.rename("a", "a").expect("same name is a no-op");
        assert_eq!(f.names(), vec!["a".to_owned(), "b".to_owned()]);
    }

    #[test]
    fn remove_all_empties_both_files_but_keeps_farms() {
        let f = Fixture::with(Some(PODMAN5_JSON), Some(PODMAN4_CONF));
        f.reg.remove_all().expect("remove all");
        assert_eq!(f.reg.list().expect("list"), vec![]);
        assert_eq!(
            f.json(),
            concat!(
                r#"{"Connection":{"Extra":"x"},"#,
                r#""Farm":{"Default":"f","List":{"f":[],"g":[]}},"Later":{"k":true}}"#,
                "\n"
            )
        );
        assert_eq!(
            f.conf(),
            "[containers]\n\n[engine]\n  [engine.service_destinations]\n\n[machine]\n\n[network]\n\n[secrets]\n\n[configmaps]\n"
        );
    }

    #[test]
    fn empty_names_and_uris_are_rejected() {
        let f = Fixture::new();
        assert!(f.reg.add("", unix("/a"), false).is_err());
        assert!(f.reg.add("a", Destination::default(), false).is_err());
        assert!(!f.reg.json_path().exists());
    }

    #[test]
    fn malformed_json_is_reported_and_never_overwritten() {
        let broken = "{\"Connection\":{\"Connections\":{\"a\":";
        let f = Fixture::with(Some(broken), None);
        let msg = err_text(f.reg.list());
        assert!(msg.contains("podman-connections.json"), "{msg}");
        assert!(msg.contains("EOF"), "{msg}");
        assert!(f.reg.add("b", unix("/b"), false).is_err());
        assert!(f.reg.remove_all().is_err());
        assert_eq!(f.json(), broken);
        assert!(!f.reg.conf_path().exists());
    }

    #[test]
    fn malformed_toml_is_reported_and_never_overwritten() {
        let broken = "[engine\nactive_service = \"a\"\n";
        let f = Fixture::with(None, Some(broken));
        let msg = err_text(f.reg.list());
        assert!(msg.contains("containers.conf"), "{msg}");
        assert!(msg.contains("TOML"), "{msg}");
        assert!(f.reg.add("b", unix("/b"), false).is_err());
        assert_eq!(f.conf(), broken);
        assert!(!f.reg.json_path().exists());
    }

    #[test]
    fn wrong_types_are_reported() {
        let f = Fixture::with(Some("{\"Connection\":\"oops\"}"), None);
        let msg = err_text(f.reg.list());
        assert!(msg.contains("podman-connections.json"), "{msg}");

        let f = Fixture::with(None, Some("[engine]\nactive_service = 3\n"));
        let msg = err_text(f.reg.default_connection());
        assert!(
            msg.contains("engine.active_service must be a string"),
            "{msg}"
        );

        let f = Fixture::with(None, Some("engine = 1\n"));
        assert!(err_text(f.reg.list()).contains("[engine] is not a table"));
        assert!(f.reg.add("a", unix("/a"), false).is_err());

        let f = Fixture::with(
            None,
            Some("[engine.service_destinations.\"a b\"]\nuri = \"unix:///a\"\nis_machine = \"yes\"\n"),
        );
        let msg = err_text(f.reg.list());
        assert!(
            msg.contains("engine.service_destinations.\"a b\".is_machine must be a boolean"),
            "{msg}"
        );
    }

    #[test]
    fn go_nulls_and_empty_files_are_accepted() {
        let f = Fixture::with(
            Some(
                "{\"Connection\":{\"Default\":null,\"Connections\":null},\"Farm\":{\"List\":null}}",
            ),
            Some(""),
        );
        assert_eq!(f.reg.list().expect("list"), vec![]);
        let f = Fixture::with(Some("  \n"), Some(""));
        f.reg.add("a", unix("/a"), false).expect("add");
        assert_eq!(f.names(), vec!["a".to_owned()]);
    }

    #[test]
    fn inline_and_dotted_engine_tables_are_edited_in_place() {
        let f = Fixture::with(None, Some("engine = { events_logger = \"file\" }\n"));
        f.reg.add("a", unix("/a"), false).expect("add");
        assert_eq!(
            f.conf(),
            "engine = { events_logger = \"file\" , service_destinations = { a = { uri = \"unix:///a\" } }, active_service = \"a\" }\n"
        );
        assert_eq!(f.default_name().as_deref(), Some("a"));

        let f = Fixture::with(None, Some("engine.events_logger = \"file\"\n"));
        f.reg.add("a", unix("/a"), false).expect("add");
        let value = f.conf_value();
        assert_eq!(value["engine"]["events_logger"].as_str(), Some("file"));
        assert_eq!(
            value["engine"]["service_destinations"]["a"]["uri"].as_str(),
            Some("unix:///a")
        );
        f.reg.remove("a").expect("remove");
        assert_eq!(f.names(), Vec::<String>::new());
    }

    #[cfg(unix)]
    #[test]
    fn files_get_podmans_modes_and_existing_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let f = Fixture::new();
        f.reg.add("a", unix("/a"), false).expect("add");
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(f.reg.json_path()), 0o644);
        assert_eq!(mode(f.reg.conf_path()), 0o644);
        let dir = f.reg.json_path().parent().expect("dir");
        assert_eq!(mode(dir), 0o755 & !current_umask());
        let mut lock = f.reg.json_path().as_os_str().to_owned();
        lock.push(".lock");
        assert!(Path::new(&lock).exists());

        fs::set_permissions(f.reg.conf_path(), fs::Permissions::from_mode(0o600)).expect("chmod");
        f.reg.add("b", unix("/b"), false).expect("add");
        assert_eq!(mode(f.reg.conf_path()), 0o600);
        // Only our two files and the lock are left behind: no stray temp files.
        assert_eq!(fs::read_dir(dir).expect("readdir").count(), 3);
    }

    #[cfg(unix)]
    fn current_umask() -> u32 {
        let dir = TempDir::new().expect("tempdir");
        let probe = dir.path().join("probe");
        let mut b = fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o777);
        b.create(&probe).expect("mkdir");
        use std::os::unix::fs::PermissionsExt;
        !fs::metadata(&probe).expect("stat").permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[cfg(unix)]
    #[test]
    fn files_holding_a_password_become_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let f = Fixture::new();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        f.reg.add("plain", unix("/a"), false).unwrap();
        assert_eq!(mode(f.reg.json_path()), 0o644);
        f.reg
            .add(
                "pw",
                Destination::new("ssh://u:s3cret@h/run/podman.sock"),
                false,
            )
            .unwrap();
        assert_eq!(mode(f.reg.json_path()), 0o600);
        assert_eq!(mode(f.reg.conf_path()), 0o600);
        // Removing the password does not widen them again: the user's mode now.
        f.reg.remove("pw").unwrap();
        assert_eq!(mode(f.reg.json_path()), 0o600);
    }

    #[test]
    fn a_symlinked_conf_is_written_through_the_link() {
        let f = Fixture::with(None, None);
        let real = f.reg.conf_path().with_file_name("real.conf");
        fs::write(&real, "# dotfile\n").expect("write");
        std::os::unix::fs::symlink(&real, f.reg.conf_path()).expect("symlink");
        f.reg.add("a", unix("/a"), false).expect("add");
        assert!(fs::symlink_metadata(f.reg.conf_path())
            .expect("lstat")
            .file_type()
            .is_symlink());
        assert!(fs::read_to_string(&real)
            .expect("read")
            .starts_with("# dotfile\n[engine]\n"));
    }

    #[test]
    fn a_comment_only_conf_keeps_its_comment_on_top() {
        let f = Fixture::with(None, Some("# no newline"));
        f.reg.add("a", unix("/a"), false).expect("add");
        assert!(
            f.conf().starts_with("# no newline\n[engine]\n"),
            "{}",
            f.conf()
        );
        f.conf_value();
    }

    #[test]
    fn concurrent_edits_lose_nothing() {
        let f = Fixture::new();
        std::thread::scope(|s| {
            for i in 0..8 {
                let reg = f.reg.clone();
                s.spawn(move || {
                    reg.add(&format!("c{i}"), unix(&format!("/{i}")), false)
                        .expect("add")
                });
            }
        });
        assert_eq!(f.names().len(), 8);
        let conf = f.conf_value();
        let sd = conf["engine"]["service_destinations"]
            .as_table()
            .expect("table");
        assert_eq!(sd.len(), 8);
    }

    #[test]
    fn podman_json_matches_podman5_list_output() {
        let c = Connection {
            name: "m".into(),
            destination: Destination {
                uri: "ssh://core@localhost:1/run/podman/podman.sock".into(),
                identity: Some("/k".into()),
                is_machine: true,
                tls_ca: Some(String::new()),
                ..Destination::default()
            },
            default: true,
            read_write: false,
        };
        assert_eq!(
            c.podman_json().to_string(),
            r#"{"Name":"m","URI":"ssh://core@localhost:1/run/podman/podman.sock","Identity":"/k","IsMachine":true,"Default":true,"ReadWrite":false}"#
        );
    }

    // ------------------------------------------------------------------ select

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    /// A registry with a default "def" (identity /k/def), a machine "mach" and "plain".
    fn select_fixture() -> Fixture {
        let f = Fixture::new();
        let with_key = |uri: &str, key: &str, machine: bool| Destination {
            uri: uri.into(),
            identity: Some(key.into()),
            is_machine: machine,
            ..Destination::default()
        };
        f.reg
            .add(
                "def",
                with_key("ssh://d/run/d.sock", "/k/def", false),
                false,
            )
            .expect("add");
        f.reg
            .add(
                "mach",
                with_key("ssh://m/run/m.sock", "/k/mach", true),
                false,
            )
            .expect("add");
        f.reg
            .add("plain", Destination::new("ssh://p/run/p.sock"), false)
            .expect("add");
        f
    }

    fn run_select(
        f: &Fixture,
        connection: Option<&str>,
        url: Option<&str>,
        identity: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Selection> {
        let env = env_of(env);
        select(
            &f.reg,
            &SelectInput {
                connection,
                url,
                identity,
                env: &env,
            },
        )
    }

    const ALL_ENV: &[(&str, &str)] = &[
        ("CONTAINER_CONNECTION", "plain"),
        ("CONTAINER_HOST", "ssh://envhost/run/e.sock"),
        ("CONTAINER_SSHKEY", "/k/env"),
    ];

    #[test]
    fn select_connection_flag_wins_and_replaces_identity() {
        let f = select_fixture();
        let s = run_select(
            &f,
            Some("mach"),
            Some("unix:///u"),
            Some("/k/flag"),
            ALL_ENV,
        )
        .expect("select");
        assert_eq!(s.source, SelectionSource::ConnectionFlag);
        assert_eq!(s.name.as_deref(), Some("mach"));
        assert_eq!(s.uri, "ssh://m/run/m.sock");
        assert_eq!(s.identity.as_deref(), Some("/k/mach"));
        assert!(s.is_machine);
    }

    #[test]
    fn select_unknown_connection_flag_is_a_clear_error() {
        let f = select_fixture();
        let msg = err_text(run_select(&f, Some("zzz"), Some("unix:///u"), None, &[]));
        assert!(msg.contains("connection \"zzz\" not found"), "{msg}");
        assert!(
            msg.contains("podman-remote system connection list"),
            "{msg}"
        );
    }

    #[test]
    fn select_url_flag_uses_identity_flag_then_sshkey() {
        let f = select_fixture();
        let s = run_select(
            &f,
            None,
            Some("ssh://u/run/u.sock"),
            Some("/k/flag"),
            ALL_ENV,
        )
        .expect("select");
        assert_eq!(s.source, SelectionSource::UrlFlag);
        assert_eq!((s.name, s.uri.as_str()), (None, "ssh://u/run/u.sock"));
        assert_eq!(s.identity.as_deref(), Some("/k/flag"));
        let s = run_select(&f, None, Some("ssh://u/run/u.sock"), None, ALL_ENV).expect("select");
        assert_eq!(s.identity.as_deref(), Some("/k/env"));
        let s = run_select(&f, None, Some("ssh://u/run/u.sock"), None, &[]).expect("select");
        assert_eq!(
            s.identity, None,
            "the default connection's key is not borrowed"
        );
    }

    #[test]
    fn select_url_flag_does_not_need_a_readable_registry() {
        let f = Fixture::with(Some("not json"), None);
        let s = run_select(&f, None, Some("tcp://h:1"), None, ALL_ENV).expect("select");
        assert_eq!(s.uri, "tcp://h:1");
        assert!(run_select(&f, None, None, None, &[]).is_err());
    }

    #[test]
    fn select_container_connection_env() {
        let f = select_fixture();
        let s = run_select(&f, None, None, None, ALL_ENV).expect("select");
        assert_eq!(s.source, SelectionSource::ConnectionEnv);
        assert_eq!(s.name.as_deref(), Some("plain"));
        assert_eq!(s.uri, "ssh://p/run/p.sock");
        // "plain" has no key: podman's bindings fall back to CONTAINER_SSHKEY.
        assert_eq!(s.identity.as_deref(), Some("/k/env"));
        let s = run_select(&f, None, None, Some("/k/flag"), ALL_ENV).expect("select");
        assert_eq!(s.identity.as_deref(), Some("/k/flag"));

        let msg = err_text(run_select(
            &f,
            None,
            None,
            None,
            &[
                ("CONTAINER_CONNECTION", "zzz"),
                ("CONTAINER_HOST", "unix:///h"),
            ],
        ));
        assert!(msg.contains("CONTAINER_CONNECTION"), "{msg}");
        assert!(msg.contains("\"zzz\" not found"), "{msg}");
    }

    #[test]
    fn select_container_host_env() {
        let f = select_fixture();
        let env = &ALL_ENV[1..];
        let s = run_select(&f, None, None, None, env).expect("select");
        assert_eq!(s.source, SelectionSource::HostEnv);
        assert_eq!(s.name, None);
        assert_eq!(s.uri, "ssh://envhost/run/e.sock");
        assert_eq!(s.identity.as_deref(), Some("/k/env"));
        let s = run_select(&f, None, None, Some("/k/flag"), env).expect("select");
        assert_eq!(s.identity.as_deref(), Some("/k/flag"));
        // Empty variables count as unset.
        let s = run_select(
            &f,
            None,
            None,
            None,
            &[
                ("CONTAINER_CONNECTION", ""),
                ("CONTAINER_HOST", "unix:///h"),
            ],
        )
        .expect("select");
        assert_eq!(s.source, SelectionSource::HostEnv);
    }

    #[test]
    fn select_default_connection() {
        let f = select_fixture();
        let s =
            run_select(&f, None, None, None, &[("CONTAINER_SSHKEY", "/k/env")]).expect("select");
        assert_eq!(s.source, SelectionSource::DefaultConnection);
        assert_eq!(s.name.as_deref(), Some("def"));
        assert_eq!(s.identity.as_deref(), Some("/k/def"));
        let s = run_select(&f, None, None, Some("/k/flag"), &[]).expect("select");
        assert_eq!(s.identity.as_deref(), Some("/k/flag"));
    }

    #[test]
    fn select_falls_back_to_the_local_socket() {
        let f = Fixture::new();
        let s = run_select(
            &f,
            None,
            None,
            None,
            &[("XDG_RUNTIME_DIR", "/run/user/1234")],
        )
        .expect("select");
        assert_eq!(s.source, SelectionSource::LocalSocket);
        assert_eq!(s.name, None);
        let expected = if is_root() {
            "unix:///run/podman/podman.sock"
        } else {
            "unix:///run/user/1234/podman/podman.sock"
        };
        assert_eq!(s.uri, expected);
    }

    #[test]
    fn local_uri_for_root_and_rootless() {
        let none = |_: &str| None;
        let xdg = env_of(&[("XDG_RUNTIME_DIR", "/run/user/1000/")]);
        if cfg!(unix) && !cfg!(target_os = "freebsd") {
            assert_eq!(local_uri(&none, true, 0), "unix:///run/podman/podman.sock");
        }
        if cfg!(unix) {
            assert_eq!(
                local_uri(&xdg, false, 1000),
                "unix:///run/user/1000/podman/podman.sock"
            );
            assert_eq!(
                local_uri(&none, false, 1001),
                "unix:///run/user/1001/podman/podman.sock"
            );
        }
        assert!(default_local_uri().starts_with("unix:///"));
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn paths_follow_podman() {
        let env = env_of(&[("HOME", "/home/u")]);
        let (json, conf) = registry_paths(&env, false);
        assert_eq!(
            json.as_deref(),
            Some(Path::new(
                "/home/u/.config/containers/podman-connections.json"
            ))
        );
        assert_eq!(
            conf.as_deref(),
            Some(Path::new("/home/u/.config/containers/containers.conf"))
        );

        let env = env_of(&[("HOME", "/root"), ("XDG_CONFIG_HOME", "/x")]);
        let (json, conf) = registry_paths(&env, true);
        assert_eq!(
            json.as_deref(),
            Some(Path::new("/x/containers/podman-connections.json"))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                conf.as_deref(),
                Some(Path::new("/etc/containers/containers.conf"))
            );
        }

        let env = env_of(&[
            ("HOME", "/home/u"),
            ("PODMAN_CONNECTIONS_CONF", "/p/c.json"),
            ("CONTAINERS_CONF", "/c/containers.conf"),
        ]);
        let (json, conf) = registry_paths(&env, true);
        assert_eq!(json.as_deref(), Some(Path::new("/p/c.json")));
        assert_eq!(conf.as_deref(), Some(Path::new("/c/containers.conf")));

        let reg = Registry::from_env_with(&env);
        assert_eq!(reg.json_path(), Path::new("/p/c.json"));
        assert_eq!(reg.conf_path(), Path::new("/c/containers.conf"));
    }
}
