//! exec sessions, attach resize and TTY sizes.

use hyper::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::Result;
use crate::http::{decode, empty, json_body, seg, ApiClient, Query};

/// What `POST containers/{name}/exec` takes (Docker's ExecOptions keys, as podman sends them).
#[derive(Debug, Default, Clone)]
pub struct ExecConfig {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: String,
    pub working_dir: String,
    pub privileged: bool,
    pub tty: bool,
    /// `-i`: the session reads our stdin.
    pub attach_stdin: bool,
    pub detach_keys: Option<String>,
}

impl ExecConfig {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "User": self.user,
            "Privileged": self.privileged,
            "Tty": self.tty,
            "AttachStdin": self.attach_stdin,
            "AttachStdout": true,
            "AttachStderr": true,
            "Detach": false,
            "Env": self.env,
            "WorkingDir": self.working_dir,
            "Cmd": self.cmd,
        });
        if let Some(k) = &self.detach_keys {
            v["DetachKeys"] = json!(k);
        }
        v
    }
}

/// The parts of `GET exec/{id}/json` the client needs.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct ExecInspect {
    #[serde(rename = "ExitCode", default)]
    pub exit_code: i32,
    #[serde(rename = "Running", default)]
    pub running: bool,
    #[serde(rename = "ProcessConfig", default)]
    pub process_config: Option<ExecProcessConfig>,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct ExecProcessConfig {
    #[serde(default)]
    pub tty: bool,
}

#[derive(Deserialize)]
struct IdResponse {
    #[serde(rename = "Id", alias = "ID")]
    id: String,
}

impl ApiClient {
    /// Create an exec session in a running container; returns the session ID.
    pub async fn exec_create(&self, container: &str, config: &ExecConfig) -> Result<String> {
        let r: IdResponse = self
            .post_json(
                &format!("/containers/{}/exec", seg(container)),
                &Query::new(),
                Some(&config.to_json()),
            )
            .await?;
        Ok(r.id)
    }

    pub async fn exec_inspect(&self, session: &str) -> Result<ExecInspect> {
        self.get_json(&format!("/exec/{}/json", seg(session)), &Query::new())
            .await
    }

    /// Start a session without attaching to it (`exec -d`).
    pub async fn exec_start_detached(&self, session: &str) -> Result<()> {
        self.request_bytes(
            Method::POST,
            &format!("/exec/{}/start", seg(session)),
            &Query::new(),
            json_body(&json!({"Detach": true})),
        )
        .await?;
        Ok(())
    }

    /// Start a session and take over its streams (HTTP upgrade). Without a TTY the output is
    /// multiplexed. `size` (height, width) is the terminal size the session starts with.
    pub async fn exec_start_attached(
        &self,
        session: &str,
        tty: bool,
        size: Option<(u16, u16)>,
    ) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
        let mut body = json!({"Detach": false, "Tty": tty});
        if let Some((h, w)) = size {
            body["h"] = json!(h);
            body["w"] = json!(w);
        }
        self.upgrade(
            Method::POST,
            &format!("/exec/{}/start", seg(session)),
            &Query::new(),
            json_body(&body),
        )
        .await
    }

    /// Forget a finished session. Engines before 5.0 have no such endpoint (they keep
    /// sessions until the container is cleaned up), so it is only called on newer ones.
    pub async fn exec_remove(&self, session: &str) -> Result<()> {
        self.request_bytes(
            Method::POST,
            &format!("/exec/{}/remove", seg(session)),
            &Query::new(),
            json_body(&json!({"Force": false})),
        )
        .await?;
        Ok(())
    }

    /// Set the TTY size of an exec session (height, width in characters).
    pub async fn exec_resize(&self, session: &str, height: u16, width: u16) -> Result<()> {
        self.resize_path(&format!("/exec/{}/resize", seg(session)), height, width)
            .await
    }

    /// Set the TTY size of a container (height, width in characters).
    pub async fn container_resize(&self, container: &str, height: u16, width: u16) -> Result<()> {
        self.resize_path(
            &format!("/containers/{}/resize", seg(container)),
            height,
            width,
        )
        .await
    }

    async fn resize_path(&self, path: &str, height: u16, width: u16) -> Result<()> {
        let q = Query::new()
            .add("h", height)
            .add("w", width)
            .add("running", true);
        self.request_bytes(Method::POST, path, &q, empty()).await?;
        Ok(())
    }
}

/// Whether an exec session's output is raw (TTY) or multiplexed, from its inspect data.
pub fn decode_exec_inspect(bytes: &[u8]) -> Result<ExecInspect> {
    decode("exec inspect", bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_config_has_podmans_keys() {
        let c = ExecConfig {
            cmd: vec!["sh".into(), "-c".into(), "true".into()],
            env: vec!["A=1".into()],
            user: "nobody".into(),
            working_dir: "/tmp".into(),
            privileged: false,
            tty: true,
            attach_stdin: true,
            detach_keys: Some("ctrl-a".into()),
        };
        let v = c.to_json();
        assert_eq!(v["Cmd"], json!(["sh", "-c", "true"]));
        assert_eq!(v["Env"], json!(["A=1"]));
        assert_eq!(v["User"], "nobody");
        assert_eq!(v["WorkingDir"], "/tmp");
        assert_eq!(v["Tty"], true);
        assert_eq!(v["AttachStdin"], true);
        assert_eq!(v["AttachStdout"], true);
        assert_eq!(v["DetachKeys"], "ctrl-a");
        let none = ExecConfig::default().to_json();
        assert!(none.get("DetachKeys").is_none());
    }

    #[test]
    fn exec_inspect_reads_exit_code_and_tty() {
        let i = decode_exec_inspect(
            br#"{"ExitCode":3,"Running":false,"ProcessConfig":{"tty":true,"user":""}}"#,
        )
        .unwrap();
        assert_eq!(i.exit_code, 3);
        assert!(i.process_config.unwrap().tty);
    }
}
