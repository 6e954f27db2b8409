//! One file per command group.

pub mod attach;
pub mod connection;
pub mod containers;
pub mod cp;
pub mod create;
pub mod images;
pub mod lifecycle;
pub mod logs;
pub mod stats;
pub mod system;
