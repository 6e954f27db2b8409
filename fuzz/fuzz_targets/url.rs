//! Connection URLs (`--url`, CONTAINER_HOST, connection files): never a panic, and a password
//! given in the URL never shows up in the parsed value's Display/Debug or in the error message.
#![no_main]

use bindings::url::{mask_password, ConnectionUrl};
use libfuzzer_sys::fuzz_target;

/// The password part as podman's rules find it, when it is distinctive enough to be searched
/// for: alphanumeric (no escaping can change it), 4+ characters, and nowhere else in the URL.
fn distinctive_password(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("ssh://")?;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    let usable = password.len() >= 4
        && password.chars().all(|c| c.is_ascii_alphanumeric())
        && url.matches(password).count() == 1;
    usable.then_some(password)
}

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let masked = mask_password(url);
    let secret = distinctive_password(url);
    if let Some(p) = secret {
        assert!(!masked.contains(p), "mask_password leaked the password");
    }
    match ConnectionUrl::parse(url) {
        Ok(parsed) => {
            let shown = parsed.to_string();
            let debug = format!("{parsed:?}");
            let _ = parsed.scheme();
            if let (Some(p), ConnectionUrl::Ssh(ssh)) = (secret, &parsed) {
                assert_eq!(ssh.password.as_deref(), Some(p));
                assert!(!shown.contains(p), "Display leaked the password: {shown}");
                assert!(!debug.contains(p), "Debug leaked the password: {debug}");
            }
        }
        Err(e) => {
            let message = e.to_string();
            if let Some(p) = secret {
                assert!(
                    !message.contains(p),
                    "the error message leaked the password: {message}"
                );
            }
        }
    }
});
