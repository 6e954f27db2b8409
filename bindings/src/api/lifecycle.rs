//! Container state changes and inspection beyond create/start/attach/wait/remove.
