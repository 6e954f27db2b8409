//! Image builds: the context streamed as the request body, the build output as it comes.

use hyper::Method;
use serde_json::Value;

use super::logs::BodyReader;
use super::registry::RegistryAuth;
use crate::error::{Error, Result};
use crate::http::{ApiClient, Body, Query};

/// One message of the build output stream.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildMessage {
    /// Text for the user (`{"stream": ...}`): steps, RUN output, the image ID.
    Stream(String),
    /// The build failed (`{"error": ..., "errorDetail": ...}`).
    Error(String),
    /// Anything else (`aux`, unknown keys of newer engines).
    Other(Value),
}

impl BuildMessage {
    pub fn from_value(v: Value) -> BuildMessage {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(s) = text("stream") {
            return BuildMessage::Stream(s);
        }
        if let Some(e) = text("error") {
            return BuildMessage::Error(e);
        }
        if let Some(e) = v
            .get("errorDetail")
            .and_then(|d| d.get("message"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            return BuildMessage::Error(e.to_string());
        }
        BuildMessage::Other(v)
    }
}

/// The response of `POST /build`: concatenated JSON documents, decoded as they arrive.
pub struct BuildStream {
    body: BodyReader,
    buf: Vec<u8>,
}

/// How a build output stream ended before a complete document.
pub const TRUNCATED: &str = "server probably quit: unexpected EOF";

impl BuildStream {
    /// The next message, `None` at a clean end of the stream.
    pub async fn next(&mut self) -> Result<Option<BuildMessage>> {
        loop {
            if let Some(v) = take_document(&mut self.buf)? {
                return Ok(Some(BuildMessage::from_value(v)));
            }
            match self.body.next_chunk().await? {
                Some(c) => self.buf.extend_from_slice(&c),
                None if self.buf.iter().all(u8::is_ascii_whitespace) => return Ok(None),
                None => return Err(Error::Http(TRUNCATED.into())),
            }
        }
    }
}

/// Remove and return the first complete JSON document of `buf`, if there is one.
fn take_document(buf: &mut Vec<u8>) -> Result<Option<Value>> {
    let start = buf
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(buf.len());
    buf.drain(..start);
    if buf.is_empty() {
        return Ok(None);
    }
    let mut it = serde_json::Deserializer::from_slice(buf).into_iter::<Value>();
    match it.next() {
        Some(Ok(v)) => {
            let used = it.byte_offset();
            buf.drain(..used);
            Ok(Some(v))
        }
        Some(Err(e)) if e.is_eof() => Ok(None),
        Some(Err(source)) => Err(Error::Decode {
            what: "the build output stream".into(),
            source,
        }),
        None => Ok(None),
    }
}

/// podman 4.3 keeps writing after a failed fetch of a URL context, so the error body holds
/// several JSON documents; the first one says what went wrong.
fn first_error(e: Error) -> Error {
    match e {
        Error::Api {
            status, message, ..
        } if message.starts_with('{') => {
            let first = serde_json::Deserializer::from_str(&message)
                .into_iter::<Value>()
                .next()
                .and_then(|v| v.ok());
            let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            match first {
                Some(v) => Error::Api {
                    status,
                    message: text(&v, "message").unwrap_or_else(|| message.clone()),
                    cause: text(&v, "cause").unwrap_or_default(),
                },
                None => Error::Api {
                    status,
                    message,
                    cause: String::new(),
                },
            }
        }
        other => other,
    }
}

impl ApiClient {
    /// `POST /libpod/build`: `body` is the context as a tar stream. Returns once the engine
    /// answers (it reads the whole context first), with the output stream to follow.
    /// `auth` carries the registry credentials the builder needs to pull base images.
    /// With a URL context (`remote` in `query`) the body is empty: the engine fetches it.
    pub async fn build(
        &self,
        query: &Query,
        auth: &RegistryAuth,
        body: Body,
    ) -> Result<BuildStream> {
        let mut headers = vec![("Content-Type", "application/x-tar".to_string())];
        headers.extend(auth.build_headers());
        let resp = self
            .request(Method::POST, "/build", query, body, &headers)
            .await
            .map_err(first_error)?;
        Ok(BuildStream {
            body: BodyReader::new(resp.into_body()),
            buf: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_across_chunks() {
        let mut buf = br#"{"stream":"STEP 1/2: FROM x\n"}
{"stream":"hel"#
            .to_vec();
        let first = take_document(&mut buf).expect("valid").expect("complete");
        assert_eq!(
            BuildMessage::from_value(first),
            BuildMessage::Stream("STEP 1/2: FROM x\n".into())
        );
        assert!(take_document(&mut buf).expect("valid").is_none());
        buf.extend_from_slice(br#"lo\n"}"#);
        let second = take_document(&mut buf).expect("valid").expect("complete");
        assert_eq!(
            BuildMessage::from_value(second),
            BuildMessage::Stream("hello\n".into())
        );
        assert!(take_document(&mut buf).expect("valid").is_none());
    }

    #[test]
    fn first_of_several_error_documents() {
        let e = first_error(Error::Api {
            status: 500,
            message: "{\"cause\":\"c\",\"message\":\"fetch failed: 404\",\"response\":500}\n{\"message\":\"later\"}".into(),
            cause: String::new(),
        });
        match e {
            Error::Api { message, cause, .. } => {
                assert_eq!(message, "fetch failed: 404");
                assert_eq!(cause, "c");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn error_messages() {
        let v: Value =
            serde_json::from_str(r#"{"errorDetail":{"message":"boom\n"},"error":"boom\n"}"#)
                .expect("json");
        assert_eq!(
            BuildMessage::from_value(v),
            BuildMessage::Error("boom\n".into())
        );
        let v: Value =
            serde_json::from_str(r#"{"errorDetail":{"message":"only detail"}}"#).expect("json");
        assert_eq!(
            BuildMessage::from_value(v),
            BuildMessage::Error("only detail".into())
        );
        let v: Value = serde_json::from_str(r#"{"aux":{"ID":"sha256:x"}}"#).expect("json");
        assert!(matches!(
            BuildMessage::from_value(v),
            BuildMessage::Other(_)
        ));
        let mut bad = b"{]".to_vec();
        assert!(take_document(&mut bad).is_err());
    }
}
