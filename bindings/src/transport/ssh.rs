//! HTTP connections as `direct-streamlocal@openssh.com` channels of one SSH session.

use super::{BoxFuture, BoxIo, Transport};
use crate::error::Result;
use crate::ssh::session::SshSession;

pub struct SshTransport {
    session: SshSession,
    socket: String,
}

impl SshTransport {
    pub fn new(session: SshSession, socket: String) -> Self {
        SshTransport { session, socket }
    }

    pub fn session(&self) -> &SshSession {
        &self.session
    }
}

impl Transport for SshTransport {
    fn connect(&self) -> BoxFuture<'_, Result<BoxIo>> {
        Box::pin(async move {
            let s = self.session.open_streamlocal(&self.socket).await?;
            Ok(Box::new(s) as BoxIo)
        })
    }

    fn describe(&self) -> String {
        format!("ssh://{}{}", self.session.target(), self.socket)
    }
}
