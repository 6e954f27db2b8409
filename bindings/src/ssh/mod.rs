//! SSH: ssh_config resolution, known_hosts verification, authentication and the russh session
//! that carries `direct-streamlocal@openssh.com` channels to the engine's socket.

pub mod config;
pub mod known_hosts;
