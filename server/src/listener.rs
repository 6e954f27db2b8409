//! The local end: a unix socket (mode 0600 in an owner-only directory) or, on Windows, a
//! named pipe whose DACL admits only the current user.

use std::fmt;
use std::path::PathBuf;

use bindings::transport::BoxIo;

use crate::error::{Error, Result};

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A unix socket path.
    Unix(PathBuf),
    /// A Windows named pipe, `\\.\pipe\NAME`.
    Pipe(String),
}

impl ListenAddr {
    /// Parses podman's listening URIs: `unix:///path` and `npipe:////./pipe/NAME`.
    pub fn parse(uri: &str) -> Result<ListenAddr> {
        if let Some(path) = uri.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(Error::Usage(format!(
                    "invalid URI {uri:?}: a unix socket URI needs an absolute path, e.g. \
                     unix:///run/user/1000/podman-remote/api.sock"
                )));
            }
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = uri.strip_prefix("npipe://") {
            // npipe:////./pipe/name -> \\.\pipe\name (Docker's and podman's spelling).
            let name = rest.trim_start_matches('/').replace('/', "\\");
            if !name.starts_with(".\\pipe\\") || name.len() <= ".\\pipe\\".len() {
                return Err(Error::Usage(format!(
                    "invalid URI {uri:?}: expected npipe:////./pipe/NAME"
                )));
            }
            return Ok(ListenAddr::Pipe(format!("\\\\{name}")));
        }
        Err(Error::Usage(format!(
            "invalid URI {uri:?}: the API server listens on unix:///PATH{}",
            if cfg!(windows) {
                " or npipe:////./pipe/NAME"
            } else {
                ""
            }
        )))
    }

    /// The address as a URI clients take (`DOCKER_HOST`, `--url`).
    pub fn uri(&self) -> String {
        match self {
            ListenAddr::Unix(p) => format!("unix://{}", p.display()),
            ListenAddr::Pipe(n) => format!("npipe://{}", n.replace('\\', "/")),
        }
    }

    /// True when something accepts connections at the address right now.
    pub async fn is_live(&self) -> bool {
        match self {
            #[cfg(unix)]
            ListenAddr::Unix(p) => tokio::net::UnixStream::connect(p).await.is_ok(),
            #[cfg(windows)]
            ListenAddr::Pipe(n) => tokio::net::windows::named_pipe::ClientOptions::new()
                .open(n)
                .is_ok(),
            _ => false,
        }
    }

    /// Connects to a server at the address (a client of ours).
    pub async fn connect(&self) -> std::io::Result<BoxIo> {
        match self {
            #[cfg(unix)]
            ListenAddr::Unix(p) => Ok(Box::new(tokio::net::UnixStream::connect(p).await?)),
            #[cfg(windows)]
            ListenAddr::Pipe(n) => Ok(Box::new(
                tokio::net::windows::named_pipe::ClientOptions::new().open(n)?,
            )),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!("{self} cannot be used on this platform"),
            )),
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

/// An open listener; dropping it removes the socket file.
pub(crate) struct Listener {
    addr: ListenAddr,
    #[cfg(unix)]
    unix: Option<tokio::net::UnixListener>,
    #[cfg(windows)]
    pipe: Option<win::PipeListener>,
}

impl Listener {
    pub(crate) async fn bind(addr: &ListenAddr) -> Result<Listener> {
        match addr {
            #[cfg(unix)]
            ListenAddr::Unix(path) => {
                let unix = bind_unix(addr, path).await?;
                Ok(Listener {
                    addr: addr.clone(),
                    unix: Some(unix),
                })
            }
            #[cfg(windows)]
            ListenAddr::Pipe(name) => {
                // The pipe's pid and state files go to the runtime directory.
                crate::paths::ensure_dir(&crate::paths::runtime_dir())?;
                Ok(Listener {
                    addr: addr.clone(),
                    pipe: Some(win::PipeListener::bind(addr, name)?),
                })
            }
            _ => Err(Error::Listen {
                addr: addr.to_string(),
                reason: "not supported on this platform".into(),
            }),
        }
    }

    pub(crate) async fn accept(&mut self) -> std::io::Result<BoxIo> {
        #[cfg(unix)]
        if let Some(l) = &self.unix {
            let (s, _) = l.accept().await?;
            return Ok(Box::new(s));
        }
        #[cfg(windows)]
        if let Some(p) = &mut self.pipe {
            return p.accept().await;
        }
        std::future::pending().await
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let (ListenAddr::Unix(p), Some(_)) = (&self.addr, self.unix.take()) {
            let _ = std::fs::remove_file(p);
        }
        #[cfg(windows)]
        let _ = &self.addr;
    }
}

#[cfg(unix)]
async fn bind_unix(addr: &ListenAddr, path: &std::path::Path) -> Result<tokio::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let fail = |reason: String| Error::Listen {
        addr: addr.to_string(),
        reason,
    };
    // sockaddr_un holds 108 bytes on Linux, 104 on macOS, the final NUL included.
    let max = if cfg!(target_os = "linux") { 107 } else { 103 };
    if path.as_os_str().len() > max {
        return Err(fail(format!(
            "the path is {} bytes long; unix socket paths are limited to {max}",
            path.as_os_str().len()
        )));
    }
    if let Some(dir) = path.parent() {
        crate::paths::ensure_dir(dir)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_socket() => {
            if addr.is_live().await {
                let pid = std::fs::read_to_string(crate::paths::ServerFiles::for_addr(addr).pid)
                    .ok()
                    .map(|p| format!(" (pid {})", p.trim()))
                    .unwrap_or_default();
                return Err(Error::AlreadyRunning {
                    addr: addr.to_string(),
                    pid,
                });
            }
            // A socket nobody listens on is what a killed server leaves behind.
            std::fs::remove_file(path).map_err(|e| Error::file(path, e))?;
        }
        Ok(_) => {
            return Err(fail(
                "a file that is not a socket is in the way; remove it or choose another path"
                    .into(),
            ))
        }
        Err(_) => {}
    }
    let listener = tokio::net::UnixListener::bind(path).map_err(|e| fail(e.to_string()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::file(path, e))?;
    Ok(listener)
}

#[cfg(windows)]
mod win {
    //! A named pipe that only the current user can open: its DACL grants access to the
    //! user's SID alone (the default one lets Everyone read), and remote clients are refused.

    use std::ffi::c_void;
    use std::ptr;

    use bindings::transport::BoxIo;
    use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
    use windows_sys::Win32::Security::Authorization::{
        ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
        SDDL_REVISION_1,
    };
    use windows_sys::Win32::Security::{
        GetTokenInformation, TokenUser, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY,
        TOKEN_USER,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    use super::ListenAddr;
    use crate::error::{Error, Result};

    /// A security descriptor allocated by Windows, freed with `LocalFree`.
    struct Descriptor(PSECURITY_DESCRIPTOR);
    // SAFETY: the descriptor is immutable after creation and only read by CreateNamedPipe.
    unsafe impl Send for Descriptor {}
    // SAFETY: as above.
    unsafe impl Sync for Descriptor {}

    impl Drop for Descriptor {
        fn drop(&mut self) {
            // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW.
            unsafe { LocalFree(self.0 as _) };
        }
    }

    pub(super) struct PipeListener {
        name: String,
        sd: Descriptor,
        next: NamedPipeServer,
    }

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    fn current_user_sid() -> std::io::Result<String> {
        // SAFETY: standard token query; buffers are sized from the first call's answer and
        // every handle or allocation is released before returning.
        unsafe {
            let mut token: HANDLE = ptr::null_mut();
            if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut len = 0u32;
            GetTokenInformation(token, TokenUser, ptr::null_mut(), 0, &mut len);
            let mut buf = vec![0u8; len as usize];
            let ok = GetTokenInformation(
                token,
                TokenUser,
                buf.as_mut_ptr() as *mut c_void,
                len,
                &mut len,
            );
            CloseHandle(token);
            if ok == 0 {
                return Err(std::io::Error::last_os_error());
            }
            let user = &*(buf.as_ptr() as *const TOKEN_USER);
            let mut s: *mut u16 = ptr::null_mut();
            if ConvertSidToStringSidW(user.User.Sid, &mut s) == 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut n = 0;
            while *s.add(n) != 0 {
                n += 1;
            }
            let sid = String::from_utf16_lossy(std::slice::from_raw_parts(s, n));
            LocalFree(s as _);
            Ok(sid)
        }
    }

    fn owner_only_descriptor() -> std::io::Result<Descriptor> {
        let sddl = wide(&format!("D:P(A;;GA;;;{})", current_user_sid()?));
        let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
        // SAFETY: valid NUL-terminated SDDL string and out pointer.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut sd,
                ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Descriptor(sd))
    }

    fn create(name: &str, sd: &Descriptor, first: bool) -> std::io::Result<NamedPipeServer> {
        let mut attrs = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: sd.0,
            bInheritHandle: 0,
        };
        let mut opts = ServerOptions::new();
        opts.first_pipe_instance(first).reject_remote_clients(true);
        // SAFETY: attrs points to a valid SECURITY_ATTRIBUTES whose descriptor outlives the call.
        unsafe {
            opts.create_with_security_attributes_raw(name, &mut attrs as *mut _ as *mut c_void)
        }
    }

    impl PipeListener {
        pub(super) fn bind(addr: &ListenAddr, name: &str) -> Result<PipeListener> {
            let fail = |e: std::io::Error| Error::Listen {
                addr: addr.to_string(),
                reason: e.to_string(),
            };
            let sd = owner_only_descriptor().map_err(fail)?;
            let next = create(name, &sd, true).map_err(|e| {
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    Error::AlreadyRunning {
                        addr: addr.to_string(),
                        pid: String::new(),
                    }
                } else {
                    fail(e)
                }
            })?;
            Ok(PipeListener {
                name: name.to_string(),
                sd,
                next,
            })
        }

        pub(super) async fn accept(&mut self) -> std::io::Result<BoxIo> {
            self.next.connect().await?;
            let fresh = create(&self.name, &self.sd, false)?;
            let connected = std::mem::replace(&mut self.next, fresh);
            Ok(Box::new(connected))
        }
    }
}

/// A bindings transport to a running server's address, for clients that want to use the
/// server instead of their own SSH connection.
pub struct LocalTransport(pub ListenAddr);

impl bindings::transport::Transport for LocalTransport {
    fn connect(&self) -> bindings::transport::BoxFuture<'_, bindings::Result<BoxIo>> {
        Box::pin(async move {
            self.0
                .connect()
                .await
                .map_err(|e| bindings::Error::Connect {
                    target: self.describe(),
                    reason: e.to_string(),
                })
        })
    }

    fn describe(&self) -> String {
        self.0.uri()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listen_uris() {
        assert_eq!(
            ListenAddr::parse("unix:///run/x.sock").unwrap(),
            ListenAddr::Unix("/run/x.sock".into())
        );
        assert_eq!(
            ListenAddr::parse("npipe:////./pipe/podman-a").unwrap(),
            ListenAddr::Pipe(r"\\.\pipe\podman-a".into())
        );
        assert_eq!(
            ListenAddr::Pipe(r"\\.\pipe\podman-a".into()).uri(),
            "npipe:////./pipe/podman-a"
        );
        assert!(ListenAddr::parse("unix://relative").is_err());
        assert!(ListenAddr::parse("tcp://127.0.0.1:80").is_err());
        assert!(ListenAddr::parse("npipe:////./notapipe/x").is_err());
    }
}
