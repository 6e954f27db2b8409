//! exec sessions, attach resize and TTY sizes.
