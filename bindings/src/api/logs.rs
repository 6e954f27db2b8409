//! Container logs and stats streams.
