//! The event stream.
