//! The Windows named pipes a machine's API is published on, as podman names them:
//! `\\.\pipe\podman-<name>` always, `\\.\pipe\docker_engine` too when no one else (Docker
//! Desktop) holds it. The pipes are served by the API server crate (integration point:
//! [`host_api_pipes`] gives the names, the server listens on each and relays to the guest
//! socket over SSH); this module only decides names and probes whether one is taken.

/// The pipe Docker clients use by default on Windows.
pub const DOCKER_ENGINE_PIPE: &str = r"\\.\pipe\docker_engine";

/// podman's `env.WithPodmanPrefix`: `podman-` unless the name already starts with `podman`
/// (so the default machine's pipe is `podman-machine-default`, not `podman-podman-…`).
pub fn with_podman_prefix(name: &str) -> String {
    if name.starts_with("podman") {
        name.to_string()
    } else {
        format!("podman-{name}")
    }
}

pub fn machine_pipe(name: &str) -> String {
    format!(r"\\.\pipe\{}", with_podman_prefix(name))
}

/// The pipes to serve for machine `name`, given whether `docker_engine` is free.
pub fn api_pipes(name: &str, docker_engine_free: bool) -> Vec<String> {
    let mut v = vec![machine_pipe(name)];
    if docker_engine_free {
        v.push(DOCKER_ENGINE_PIPE.to_string());
    }
    v
}

/// `npipe:////./pipe/<x>` form used in `DOCKER_HOST` and connection URLs.
pub fn npipe_url(pipe: &str) -> String {
    format!("npipe://{}", pipe.replace('\\', "/"))
}

/// The pipes to serve on this host right now.
pub fn host_api_pipes(name: &str) -> Vec<String> {
    api_pipes(name, !pipe_exists(DOCKER_ENGINE_PIPE))
}

/// Whether a server currently owns the pipe. `WaitNamedPipeW` answers without taking one of
/// the server's instances (opening it would).
#[cfg(windows)]
pub fn pipe_exists(pipe: &str) -> bool {
    use windows_sys::Win32::Foundation::{GetLastError, ERROR_FILE_NOT_FOUND};
    use windows_sys::Win32::System::Pipes::WaitNamedPipeW;
    let w: Vec<u16> = pipe.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: `w` is a NUL-terminated UTF-16 string that outlives the call.
    let ok = unsafe { WaitNamedPipeW(w.as_ptr(), 1) };
    if ok != 0 {
        return true;
    }
    // SAFETY: reads the calling thread's last-error value.
    let err = unsafe { GetLastError() };
    // Busy (all instances in use, ERROR_SEM_TIMEOUT) still means someone serves it.
    err != ERROR_FILE_NOT_FOUND
}

#[cfg(not(windows))]
pub fn pipe_exists(_pipe: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under Windows (or Wine): a pipe nobody serves is free, one we serve is taken, and the
    /// probe does not use up the server's only instance.
    #[cfg(windows)]
    #[test]
    fn probe_sees_a_served_pipe() {
        use windows_sys::Win32::Foundation::{CloseHandle, INVALID_HANDLE_VALUE};
        use windows_sys::Win32::System::Pipes::CreateNamedPipeW;
        let name = format!(r"\\.\pipe\podman-remote-test-{}", std::process::id());
        assert!(!pipe_exists(&name));
        let w: Vec<u16> = name.encode_utf16().chain(std::iter::once(0)).collect();
        // SAFETY: NUL-terminated name; PIPE_ACCESS_DUPLEX (3), byte mode, one instance.
        let h = unsafe { CreateNamedPipeW(w.as_ptr(), 3, 0, 1, 4096, 4096, 0, std::ptr::null()) };
        assert_ne!(h, INVALID_HANDLE_VALUE);
        assert!(pipe_exists(&name));
        assert!(pipe_exists(&name), "the first probe consumed the instance");
        // SAFETY: closing the handle we created.
        unsafe { CloseHandle(h) };
        assert!(!pipe_exists(&name));
    }

    #[test]
    fn pipe_names_and_urls() {
        assert_eq!(
            api_pipes("podman-machine-default", true),
            [
                r"\\.\pipe\podman-machine-default",
                r"\\.\pipe\docker_engine"
            ]
        );
        assert_eq!(api_pipes("m", false), [r"\\.\pipe\podman-m"]);
        assert_eq!(npipe_url(&machine_pipe("m")), "npipe:////./pipe/podman-m");
    }
}
