//! `system df` and `system prune` against podman's own client. This file has its own world
//! (one test), so totals are not disturbed by other tests sharing the engine.
#![cfg(target_os = "linux")]

use std::time::Duration;

use e2e::*;

const T: Duration = Duration::from_secs(120);

fn ours(w: &World, home: &Home, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = home.podman_remote();
    c.args(["--url", &w.ssh_url(), "--identity"])
        .arg(&w.key)
        .args(args);
    run(&mut c, stdin, T)
}

fn theirs(w: &World, home: &Home, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = w.real_podman(home);
    c.args(["--url", &w.ssh_url(), "--identity"])
        .arg(&w.key)
        .args(args);
    run(&mut c, stdin, T)
}

/// Hide relative times ("3 seconds", "Less than a second") and 64/12-hex IDs, then compare
/// words, since a time of another length shifts the column padding.
fn masked(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut words: Vec<String> = Vec::new();
        for w in line.split_whitespace() {
            let is_id =
                (w.len() == 12 || w.len() == 64) && w.chars().all(|c| c.is_ascii_hexdigit());
            match w {
                _ if is_id => words.push("<id>".into()),
                "second" | "seconds" | "minute" | "minutes" => {
                    while words.last().is_some_and(|p| {
                        p.chars().all(|c| c.is_ascii_digit())
                            || ["Less", "than", "a", "About"].contains(&p.as_str())
                    }) {
                        words.pop();
                    }
                    words.push("<t>".into());
                }
                _ => words.push(w.to_string()),
            }
        }
        out.push(words.join(" "));
    }
    out.join("\n")
}

#[test]
fn df_and_prune_match_podman() {
    let w = world();
    let home = w.home();
    home.trust_world(w);
    w.engine(&["run", "-d", "--name", "sys-run", &w.image, "sleep", "300"]);
    w.engine(&[
        "create",
        "--name",
        "sys-vol",
        "-v",
        "sysvol:/data",
        &w.image,
        "true",
    ]);

    for args in [
        &["system", "df"][..],
        &["system", "df", "-v"],
        &[
            "system",
            "df",
            "--format",
            "{{.Type}}|{{.Total}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}",
        ],
        &["system", "df", "--format", "table {{.Type}} {{.Total}}"],
    ] {
        let (o, t) = (ours(w, &home, args, None), theirs(w, &home, args, None));
        o.assert_success();
        assert_eq!(
            masked(&o.stdout),
            masked(&t.stdout),
            "{args:?}\nours: {o}\npodman: {t}"
        );
    }
    // JSON: podman 4.3.1 printed the word "json" per row; ours prints newer podman's document.
    let json = ours(w, &home, &["system", "df", "--format", "json"], None);
    json.assert_success();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let rows = v.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["Type"], "Containers");
    assert_eq!(rows[1]["Total"], 2);
    assert_eq!(rows[1]["Active"], 1);
    let bad = ours(w, &home, &["system", "df", "-v", "--format", "x"], None);
    assert_eq!(bad.status, 125, "{bad}");
    bad.assert_stderr_contains("cannot combine --format and --verbose flags");

    // Saying no removes nothing, with podman's warning text.
    for volumes in [false, true] {
        let mut args = vec!["system", "prune"];
        if volumes {
            args.extend(["-a", "--volumes"]);
        }
        let (o, t) = (
            ours(w, &home, &args, Some(b"n\n")),
            theirs(w, &home, &args, Some(b"n\n")),
        );
        assert_eq!(
            (o.status, &o.stdout),
            (t.status, &t.stdout),
            "ours: {o}\npodman: {t}"
        );
    }
    let still = w.engine(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(still.stdout.contains("sys-vol"), "{still}");

    // -f with a label filter: only the labelled, stopped container goes; same report shape
    // as podman's for its own labelled container.
    w.engine(&[
        "create",
        "--name",
        "sys-a",
        "--label",
        "sysprune=a",
        &w.image,
        "true",
    ]);
    w.engine(&[
        "create",
        "--name",
        "sys-b",
        "--label",
        "sysprune=b",
        &w.image,
        "true",
    ]);
    let o = ours(
        w,
        &home,
        &["system", "prune", "-f", "--filter", "label=sysprune=a"],
        None,
    );
    let t = theirs(
        w,
        &home,
        &["system", "prune", "-f", "--filter", "label=sysprune=b"],
        None,
    );
    o.assert_success();
    assert_eq!(
        masked(&o.stdout),
        masked(&t.stdout),
        "ours: {o}\npodman: {t}"
    );
    assert!(o.stdout.starts_with("Deleted Containers\n"), "{o}");
    assert!(o.stdout.ends_with("Total reclaimed space: 0B\n"), "{o}");
    let left = w.engine(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(
        !left.stdout.contains("sys-a") && !left.stdout.contains("sys-b"),
        "{left}"
    );
    assert!(
        left.stdout.contains("sys-run") && left.stdout.contains("sys-vol"),
        "{left}"
    );

    w.engine(&["rm", "-f", "sys-run", "sys-vol"]);
}
