//! Ignition v3 (spec 3.2.0, as podman machine writes it) for Fedora CoreOS / machine-os
//! images: the user with the machine's key, root with the same key, podman.socket for the user
//! and root, the rootful switch, timezone, host proxy variables and CA certificates, the pinned
//! SSH host key, and the unit that writes `Ready` to the virtio-serial port.

use base64::Engine;
use serde_json::{json, Value};

/// What goes into a machine's first-boot configuration (Ignition or cloud-init).
#[derive(Debug, Clone, Default)]
pub struct ProvisionSpec {
    pub name: String,
    pub user: String,
    pub uid: u32,
    pub rootful: bool,
    /// The machine's public key (OpenSSH one-line form).
    pub authorized_key: String,
    /// The guest's SSH host key pair, generated on the host so it can be pinned.
    pub host_key_private: String,
    pub host_key_public: String,
    /// IANA zone name, or empty to leave the image's.
    pub timezone: String,
    /// `HTTP_PROXY`-style variables to set in the guest.
    pub proxy_env: Vec<(String, String)>,
    /// PEM CA certificates to trust in the guest.
    pub ca_certs: Vec<(String, String)>,
    /// (tag, target, type, read-only) of the `--volume` shares.
    pub mounts: Vec<(String, String, String, bool)>,
}

pub const VERSION: &str = "3.2.0";

fn data_url(content: &[u8]) -> String {
    format!(
        "data:;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(content)
    )
}

fn file(path: &str, mode: u32, content: &[u8], owner: Option<&str>) -> Value {
    let mut f = json!({
        "path": path,
        "mode": mode,
        "overwrite": true,
        "contents": { "source": data_url(content) },
    });
    if let Some(o) = owner {
        f["user"] = json!({ "name": o });
        f["group"] = json!({ "name": o });
    }
    f
}

/// Host variables forwarded to the guest, as podman does (`config.ProxyEnv`); `localhost`
/// means the host, which the guest reaches as the user-mode network's gateway.
pub fn host_proxy_env(env: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    ] {
        if let Some(v) = env(k).filter(|v| !v.is_empty()) {
            let v = v
                .replace("127.0.0.1", "10.0.2.2")
                .replace("localhost", "10.0.2.2");
            out.push((k.to_string(), v));
        }
    }
    out
}

/// The guest path of the rootless or rootful API socket.
pub fn socket_path(uid: u32, rootful: bool) -> String {
    if rootful {
        "/run/podman/podman.sock".into()
    } else {
        format!("/run/user/{uid}/podman/podman.sock")
    }
}

/// The ready unit: waits for the port's device node rather than naming `vport1p1`, whose
/// number depends on device order.
pub const READY_UNIT: &str = "[Unit]\n\
Description=Tell the host the machine is ready\n\
After=sshd.socket sshd.service ssh.service podman.socket\n\
OnFailure=emergency.target\n\
OnFailureJobMode=isolate\n\
[Service]\n\
Type=oneshot\n\
RemainAfterExit=yes\n\
ExecStart=/bin/sh -c 'p=/dev/virtio-ports/org.fedoraproject.port.0; for i in $(seq 60); do [ -e $p ] && break; sleep 0.5; done; timeout 20 sh -c \"echo Ready >$p\"'\n\
[Install]\n\
RequiredBy=default.target\n";

/// Build the Ignition config.
pub fn generate(s: &ProvisionSpec) -> Value {
    let home = if s.user == "root" {
        "/root".to_string()
    } else {
        format!("/home/{}", s.user)
    };
    let mut users = vec![];
    let mut u = json!({
        "name": s.user,
        "sshAuthorizedKeys": [s.authorized_key],
    });
    if s.user != "core" && s.user != "root" {
        u["uid"] = json!(s.uid);
        u["groups"] = json!(["wheel", "sudo", "adm", "systemd-journal"]);
    }
    users.push(u);
    users.push(json!({ "name": "root", "sshAuthorizedKeys": [s.authorized_key] }));
    if s.user != "core" {
        users.push(json!({ "name": "core", "shouldExist": false }));
    }

    let owner = Some(s.user.as_str());
    let dirs: Vec<Value> = [
        ".config",
        ".config/containers",
        ".config/systemd",
        ".config/systemd/user",
    ]
    .iter()
    .map(|d| {
        json!({
            "path": format!("{home}/{d}"),
            "mode": 0o755,
            "user": { "name": s.user },
            "group": { "name": s.user },
        })
    })
    .collect();

    let mut files = vec![
        file(
            &format!("/var/lib/systemd/linger/{}", s.user),
            0o644,
            b"",
            None,
        ),
        file(
            &format!("{home}/.config/containers/containers.conf"),
            0o644,
            b"[containers]\nnetns=\"bridge\"\npids_limit=0\n",
            owner,
        ),
        file(
            "/etc/subuid",
            0o644,
            format!("{}:100000:1000000\n", s.user).as_bytes(),
            None,
        ),
        file(
            "/etc/subgid",
            0o644,
            format!("{}:100000:1000000\n", s.user).as_bytes(),
            None,
        ),
        file("/etc/containers/podman-machine", 0o644, b"qemu\n", None),
        file(
            "/etc/tmpfiles.d/podman-docker.conf",
            0o644,
            format!(
                "L+ /run/docker.sock - - - - {}\n",
                socket_path(s.uid, s.rootful)
            )
            .as_bytes(),
            None,
        ),
        file(
            "/etc/ssh/ssh_host_ed25519_key",
            0o600,
            s.host_key_private.as_bytes(),
            None,
        ),
        file(
            "/etc/ssh/ssh_host_ed25519_key.pub",
            0o644,
            s.host_key_public.as_bytes(),
            None,
        ),
    ];
    if !s.proxy_env.is_empty() {
        let env_lines: String = s
            .proxy_env
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        let systemd: String = std::iter::once("[Manager]\n".to_string())
            .chain(
                s.proxy_env
                    .iter()
                    .map(|(k, v)| format!("DefaultEnvironment=\"{k}={v}\"\n")),
            )
            .collect();
        let profile: String = s
            .proxy_env
            .iter()
            .map(|(k, v)| format!("export {k}=\"{v}\"\n"))
            .collect();
        files.push(file(
            "/etc/environment.d/default-env.conf",
            0o644,
            env_lines.as_bytes(),
            None,
        ));
        files.push(file(
            "/etc/systemd/system.conf.d/default-env.conf",
            0o644,
            systemd.as_bytes(),
            None,
        ));
        files.push(file(
            "/etc/profile.d/default-env.sh",
            0o644,
            profile.as_bytes(),
            None,
        ));
    }
    for (name, pem) in &s.ca_certs {
        // Fedora's trust anchors and Debian's local CA dir: one of them is read by the image.
        files.push(file(
            &format!("/etc/pki/ca-trust/source/anchors/{name}"),
            0o644,
            pem.as_bytes(),
            None,
        ));
        files.push(file(
            &format!("/usr/local/share/ca-certificates/{name}"),
            0o644,
            pem.as_bytes(),
            None,
        ));
    }

    let mut links = vec![
        json!({
            "path": format!("{home}/.config/systemd/user/sockets.target.wants/podman.socket"),
            "target": "/usr/lib/systemd/user/podman.socket",
            "hard": false,
            "user": { "name": s.user },
            "group": { "name": s.user },
        }),
        json!({
            "path": "/usr/local/bin/docker",
            "target": "/usr/bin/podman",
            "hard": false,
        }),
    ];
    // The default engine's service starts with the boot, not at the first request: its
    // first start of a boot (storage refresh, rootless user namespace) then overlaps the
    // rest of the boot instead of delaying the first command after `machine start`.
    if !s.rootful {
        links.push(json!({
            "path": format!("{home}/.config/systemd/user/default.target.wants/podman.service"),
            "target": "/usr/lib/systemd/user/podman.service",
            "hard": false,
            "user": { "name": s.user },
            "group": { "name": s.user },
        }));
    }
    if !s.timezone.is_empty() {
        links.push(json!({
            "path": "/etc/localtime",
            "target": format!("../usr/share/zoneinfo/{}", s.timezone),
            "hard": false,
            "overwrite": true,
        }));
    }

    let mut units = vec![
        json!({ "name": "podman.socket", "enabled": true }),
        json!({ "name": "zincati.service", "enabled": false }),
        json!({ "name": "ready.service", "enabled": true, "contents": READY_UNIT }),
    ];
    if s.rootful {
        units.push(json!({ "name": "podman.service", "enabled": true }));
    }
    for (tag, target, kind, ro) in &s.mounts {
        let (unit, contents) = mount_unit(tag, target, kind, *ro);
        units.push(json!({ "name": unit, "enabled": true, "contents": contents }));
    }

    json!({
        "ignition": { "version": VERSION },
        "passwd": { "users": users },
        "storage": { "directories": dirs, "files": files, "links": links },
        "systemd": { "units": units },
    })
}

/// The systemd mount unit (name, contents) for one `--volume` share (9p or virtiofs tag).
pub fn mount_unit(tag: &str, target: &str, kind: &str, ro: bool) -> (String, String) {
    let unit = format!("{}.mount", systemd_escape_path(target));
    let opts = if ro { "ro" } else { "rw" };
    let (ty, options) = if kind == "9p" {
        (
            "9p",
            format!("{opts},trans=virtio,version=9p2000.L,msize=131072"),
        )
    } else {
        ("virtiofs", opts.to_string())
    };
    let contents = format!(
        "[Unit]\nDescription=podman machine volume {target}\n[Mount]\nWhat={tag}\nWhere={target}\nType={ty}\nOptions={options}\n[Install]\nWantedBy=multi-user.target\n"
    );
    (unit, contents)
}

/// `systemd-escape --path`: `/a/b-c` → `a-b\x2dc`.
pub fn systemd_escape_path(p: &str) -> String {
    let t = p.trim_matches('/');
    if t.is_empty() {
        return "-".into();
    }
    let mut out = String::new();
    for (i, c) in t.chars().enumerate() {
        match c {
            '/' => out.push('-'),
            c if c.is_ascii_alphanumeric() || c == '_' || (c == '.' && i > 0) || c == ':' => {
                out.push(c)
            }
            c => {
                let mut b = [0u8; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ProvisionSpec {
        ProvisionSpec {
            name: "m".into(),
            user: "core".into(),
            uid: 1000,
            rootful: false,
            authorized_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx machine".into(),
            host_key_private:
                "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n".into(),
            host_key_public: "ssh-ed25519 AAAA host".into(),
            timezone: "Europe/Paris".into(),
            proxy_env: vec![("HTTPS_PROXY".into(), "http://10.0.2.2:3128".into())],
            ca_certs: vec![(
                "podman-machine-ca.crt".into(),
                "-----BEGIN CERTIFICATE-----\n".into(),
            )],
            mounts: vec![(
                "abc".into(),
                "/home/me/src".into(),
                "virtiofs".into(),
                false,
            )],
        }
    }

    fn validate(v: &Value) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.ign");
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        let out = std::process::Command::new("ignition-validate")
            .arg(&p)
            .output()
            .expect("ignition-validate (Debian package `ignition`) must be installed");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    #[test]
    fn generated_configs_pass_ignition_validate() {
        for (user, rootful, tz, proxy) in [
            ("core", false, "Europe/Paris", true),
            ("alice", true, "", false),
        ] {
            let mut s = spec();
            s.user = user.into();
            s.rootful = rootful;
            s.timezone = tz.into();
            if !proxy {
                s.proxy_env.clear();
                s.ca_certs.clear();
                s.mounts.clear();
            }
            let v = generate(&s);
            let (ok, out) = validate(&v);
            assert!(ok, "ignition-validate rejected the {user} config: {out}");
            // A broken config must be refused, or the check above proves nothing.
            let mut bad = v.clone();
            bad["ignition"]["version"] = json!("9.9.9");
            assert!(!validate(&bad).0);
        }
    }

    #[test]
    fn content_follows_podman() {
        let v = generate(&spec());
        let users = v["passwd"]["users"].as_array().unwrap();
        assert_eq!(users[0]["name"], "core");
        assert_eq!(users[0]["sshAuthorizedKeys"][0], spec().authorized_key);
        assert_eq!(users[1]["name"], "root");
        let files = v["storage"]["files"].as_array().unwrap();
        let get = |p: &str| {
            files
                .iter()
                .find(|f| f["path"] == p)
                .unwrap_or_else(|| panic!("{p} missing"))
                .clone()
        };
        let decode = |f: &Value| {
            let src = f["contents"]["source"].as_str().unwrap();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(src.strip_prefix("data:;base64,").unwrap())
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(get("/etc/ssh/ssh_host_ed25519_key")["mode"], 0o600);
        assert_eq!(
            decode(&get("/etc/tmpfiles.d/podman-docker.conf")),
            "L+ /run/docker.sock - - - - /run/user/1000/podman/podman.sock\n"
        );
        assert!(decode(&get("/etc/environment.d/default-env.conf"))
            .contains("HTTPS_PROXY=http://10.0.2.2:3128"));
        let links = v["storage"]["links"].as_array().unwrap();
        assert!(links.iter().any(|l| l["path"] == "/etc/localtime"
            && l["target"] == "../usr/share/zoneinfo/Europe/Paris"));
        let units = v["systemd"]["units"].as_array().unwrap();
        assert!(units
            .iter()
            .any(|u| u["name"] == "ready.service" && u["enabled"] == true));
        assert!(units.iter().any(|u| u["name"] == "home-me-src.mount"));
    }

    #[test]
    fn the_default_engine_starts_with_the_boot() {
        let user_link = "/home/core/.config/systemd/user/default.target.wants/podman.service";
        let v = generate(&spec());
        let links = v["storage"]["links"].as_array().unwrap();
        assert!(links.iter().any(|l| l["path"] == user_link
            && l["target"] == "/usr/lib/systemd/user/podman.service"
            && l["user"]["name"] == "core"));
        let units = v["systemd"]["units"].as_array().unwrap();
        assert!(!units.iter().any(|u| u["name"] == "podman.service"));

        let mut s = spec();
        s.rootful = true;
        let v = generate(&s);
        let links = v["storage"]["links"].as_array().unwrap();
        assert!(!links.iter().any(|l| l["path"] == user_link));
        let units = v["systemd"]["units"].as_array().unwrap();
        assert!(units
            .iter()
            .any(|u| u["name"] == "podman.service" && u["enabled"] == true));
    }

    #[test]
    fn rootful_points_docker_sock_at_root_socket() {
        let mut s = spec();
        s.rootful = true;
        let v = generate(&s);
        let f = v["storage"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/etc/tmpfiles.d/podman-docker.conf")
            .unwrap()
            .clone();
        let src = f["contents"]["source"].as_str().unwrap();
        let text = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(src.strip_prefix("data:;base64,").unwrap())
                .unwrap(),
        )
        .unwrap();
        assert!(text.ends_with("/run/podman/podman.sock\n"));
    }

    #[test]
    fn escape_paths_like_systemd() {
        assert_eq!(systemd_escape_path("/home/me/my-src"), "home-me-my\\x2dsrc");
        assert_eq!(systemd_escape_path("/"), "-");
        assert_eq!(systemd_escape_path("/a b"), "a\\x20b");
    }

    #[test]
    fn proxy_env_rewrites_localhost_to_the_host() {
        let env = |k: &str| match k {
            "HTTP_PROXY" => Some("http://localhost:3128".to_string()),
            "no_proxy" => Some("127.0.0.1,.corp".to_string()),
            _ => None,
        };
        assert_eq!(
            host_proxy_env(&env),
            [
                ("HTTP_PROXY".to_string(), "http://10.0.2.2:3128".to_string()),
                ("no_proxy".to_string(), "10.0.2.2,.corp".to_string())
            ]
        );
    }
}
