//! Pods, kube, generate, events and system df/prune end to end.
#![cfg(target_os = "linux")]

use std::time::Duration;

use e2e::*;

#[test]
#[ignore]
fn hold_world() {
    let w = world();
    let env: Vec<String> = w
        .engine_podman()
        .get_envs()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k.to_string_lossy(),
                v.map(|v| v.to_string_lossy().to_string())
                    .unwrap_or_default()
            )
        })
        .collect();
    std::fs::write(
        "/tmp/podsx/world",
        format!(
            "SOCK={}\nENV={}\nIMAGE={}\n",
            w.socket.display(),
            env.join(" "),
            w.image
        ),
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(3000));
}
