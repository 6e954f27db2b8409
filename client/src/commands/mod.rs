//! One file per command group.

pub mod connection;
pub mod containers;
pub mod images;
pub mod system;
