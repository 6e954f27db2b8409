//! ssh_config text (~/.ssh/config, /etc/ssh/ssh_config and their Includes): parsing and
//! resolving any text for a few aliases never panics, and ProxyJump values obtained from it
//! parse without panicking either.
#![no_main]

use std::path::Path;

use bindings::ssh::config::{parse_proxy_jump, SshConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // `Include` reads the real filesystem (absolute globs such as `/*/*/*`): slow and not
    // deterministic. Every other keyword, `Match` included, is exercised.
    if text.to_ascii_lowercase().contains("include") {
        return;
    }
    let home = Path::new("/nonexistent-fuzz-home");
    let config = SshConfig::parse_str(&text, &home.join(".ssh"), home);
    let _ = config.warnings();
    for (alias, user, port) in [
        ("example.com", None, None),
        ("db", Some("alice"), Some(2222)),
        ("127.0.0.1", None, Some(22)),
        ("", None, None),
    ] {
        let host = config.resolve_with_port(alias, user, port, "root");
        if let Some(jump) = &host.proxy_jump {
            let _ = parse_proxy_jump(jump);
        }
    }
    // The ProxyJump grammar on its own, fed the raw text too.
    let _ = parse_proxy_jump(&text);
});
