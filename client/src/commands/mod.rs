//! One file per command group.

pub mod argcheck;
pub mod attach;
pub mod build;
pub mod completion;
pub mod connection;
pub mod containers;
pub mod cp;
pub mod create;
pub mod events;
pub mod hyperv_prep;
pub mod image_mgmt;
pub mod images;
pub mod kube;
pub mod lifecycle;
pub mod logs;
pub mod machine;
pub mod networks;
pub mod pods;
pub mod registry;
pub mod secrets;
pub mod service;
pub mod stats;
pub mod sysadmin;
pub mod system;
pub mod transfer;
pub mod volumes;
