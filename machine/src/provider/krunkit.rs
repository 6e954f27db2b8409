//! libkrun through krunkit (podman's `libkrun` provider, Apple silicon): the vfkit command
//! line and REST API with krunkit's binary, `--nested`, and a TCP REST endpoint. Everything
//! else is shared with [`super::vfkit`].

use std::sync::Arc;

use super::runner::Runner;
use super::vfkit::{Apple, Kind};

pub fn provider(runner: Arc<dyn Runner>) -> Apple {
    Apple::new(Kind::Krunkit, runner)
}

#[cfg(test)]
mod tests {
    use super::super::vfkit::{argv, tests::spec, Kind};
    use super::super::vfkit_rest::Endpoint;
    use super::*;
    use crate::provider::{Provider, VmType};

    #[test]
    fn krunkit_command_line_adds_nested_and_tcp_rest() {
        let mut s = spec(Kind::Krunkit, false);
        s.rest = Endpoint::Tcp {
            host: "localhost".into(),
            port: 40123,
        };
        let a = argv(&s).unwrap();
        let tail: Vec<&str> = a.iter().rev().take(3).rev().map(String::as_str).collect();
        assert_eq!(tail, ["--restful-uri", "tcp://localhost:40123", "--nested"]);
        assert_eq!(a[..2], ["--cpus", "4"]);
        assert!(a.contains(&"virtio-vsock,port=1025,socketURL=/r/m.sock,listen".to_string()));
    }

    #[test]
    fn libkrun_provider_identity() {
        let p = provider(crate::provider::runner::system());
        assert_eq!(p.vm_type(), VmType::Libkrun);
        assert_eq!(p.oci_disk_type(), "applehv");
        assert!(p.exclusive());
    }
}
