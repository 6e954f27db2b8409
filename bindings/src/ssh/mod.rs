//! SSH: ssh_config resolution, known_hosts verification, authentication and the russh session
//! that carries `direct-streamlocal@openssh.com` channels to the engine's socket.

pub mod auth;
pub mod config;
pub mod known_hosts;
pub mod session;
pub mod tcp;
