//! `podman system hyperv-prep` (podman 6): the one elevated step that lets a normal user
//! manage Hyper-V machines afterwards. It registers podman's hvsock services in HKLM (one
//! `Network`, one `Events`, `--mounts` `Fileserver` entries, kept when machines are removed)
//! and adds the user to the Hyper-V Administrators group (S-1-5-32-578); `--status` shows
//! both without elevation, `--reset` undoes both (asking first unless `--force`).
//!
//! Like every Hyper-V call, the scripts are fixed text whose inputs come from the
//! environment (see `powershell.rs`).

use std::io::Write;

use serde_json::Value;

use super::hyperv::HyperV;
use super::powershell::Script;
use crate::{Error, Result};

/// podman's flags (`cmd/podman/system/hyperv_prep_windows.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepOptions {
    pub status: bool,
    pub reset: bool,
    pub force: bool,
    /// `Fileserver` entries to create (one per volume of a machine).
    pub mounts: u32,
}

impl Default for PrepOptions {
    fn default() -> Self {
        PrepOptions {
            status: false,
            reset: false,
            force: false,
            mounts: 2,
        }
    }
}

pub const PURPOSES: [&str; 3] = ["Network", "Events", "Fileserver"];

pub const NOT_ADMIN: &str =
    "this command requires administrator privileges, please run in an elevated terminal";

/// podman's hvsock registry entries: `[{key, purpose, port}]`.
pub const LIST_ENTRIES: &str = r#"$base = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices'
$out = @()
foreach ($k in Get-ChildItem -Path $base) {
  $v = Get-ItemProperty -Path $k.PSPath
  if ($v.ToolName -eq 'podman') {
    $out += @{ key = $k.PSChildName; purpose = [string]$v.Purpose; port = [Convert]::ToUInt32($k.PSChildName.Substring(0, 8), 16) }
  }
}
ConvertTo-Json -Compress -InputObject @($out)"#;

/// Creates entries of a purpose until there are `COUNT`; prints the new ports.
pub const ENSURE_ENTRIES: &str = r#"$base = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices'
$purpose = $env:PODMAN_PS_PURPOSE
$have = @(Get-ChildItem -Path $base | Where-Object { $v = Get-ItemProperty -Path $_.PSPath; $v.ToolName -eq 'podman' -and $v.Purpose -eq $purpose }).Count
for ($i = $have; $i -lt [int]$env:PODMAN_PS_COUNT; $i++) {
  do {
    $port = Get-Random -Minimum 1024 -Maximum 2147483647
    $name = ('{0:X8}-FACB-11E6-BD58-64006A7986D3' -f $port)
  } while (Test-Path -LiteralPath (Join-Path $base $name))
  $key = New-Item -Path $base -Name $name
  New-ItemProperty -LiteralPath $key.PSPath -Name ElementName -Value ('podman ' + $purpose) -PropertyType String | Out-Null
  New-ItemProperty -LiteralPath $key.PSPath -Name Purpose -Value $purpose -PropertyType String | Out-Null
  New-ItemProperty -LiteralPath $key.PSPath -Name ToolName -Value 'podman' -PropertyType String | Out-Null
  New-ItemProperty -LiteralPath $key.PSPath -Name KeepAfterMachineRemove -Value 1 -PropertyType DWord | Out-Null
  $port
}"#;

/// Removes every podman entry; prints the removed key names.
pub const REMOVE_ENTRIES: &str = r#"$base = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices'
foreach ($k in Get-ChildItem -Path $base) {
  $v = Get-ItemProperty -Path $k.PSPath
  if ($v.ToolName -eq 'podman') { Remove-Item -LiteralPath $k.PSPath -Recurse; $k.PSChildName }
}"#;

/// The user and whether the Hyper-V Administrators group lists them (the token's groups
/// only change at the next sign-in, the group's members at once).
pub const GROUP_MEMBER: &str = r#"$me = [Security.Principal.WindowsIdentity]::GetCurrent().Name
$m = @(Get-LocalGroupMember -SID 'S-1-5-32-578' | ForEach-Object { $_.Name }) -contains $me
@{ user = $me; member = $m } | ConvertTo-Json -Compress"#;

pub const ADD_TO_GROUP: &str = r#"Add-LocalGroupMember -SID 'S-1-5-32-578' -Member ([Security.Principal.WindowsIdentity]::GetCurrent().Name)"#;

pub const REMOVE_FROM_GROUP: &str = r#"Remove-LocalGroupMember -SID 'S-1-5-32-578' -Member ([Security.Principal.WindowsIdentity]::GetCurrent().Name)"#;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub purpose: String,
    pub port: u32,
}

impl Entry {
    fn line(&self) -> String {
        format!("  - {} (port {}): {}\n", self.purpose, self.port, self.key)
    }
}

fn json(out: &str, what: &str) -> Result<Value> {
    serde_json::from_str(out.trim())
        .map_err(|e| Error::Provider(format!("unexpected answer {what} ({e}): {out}")))
}

pub fn entries(h: &HyperV) -> Result<Vec<Entry>> {
    let out = h.run(
        &Script::new(LIST_ENTRIES),
        "listing the hvsock registry entries",
    )?;
    let v = json(&out, "listing the hvsock registry entries")?;
    let mut list: Vec<Entry> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some(Entry {
                key: e["key"].as_str()?.to_string(),
                purpose: e["purpose"].as_str().unwrap_or("").to_string(),
                port: u32::try_from(e["port"].as_u64()?).ok()?,
            })
        })
        .collect();
    list.sort_by_key(|e| {
        (
            PURPOSES.iter().position(|p| *p == e.purpose).unwrap_or(9),
            e.port,
        )
    });
    Ok(list)
}

fn membership(h: &HyperV) -> Result<(String, bool)> {
    let out = h.run(
        &Script::new(GROUP_MEMBER),
        "checking the Hyper-V Administrators group",
    )?;
    let v = json(&out, "checking the Hyper-V Administrators group")?;
    Ok((
        v["user"].as_str().unwrap_or("").to_string(),
        v["member"].as_bool().unwrap_or(false),
    ))
}

fn io(e: std::io::Error) -> Error {
    Error::Io {
        context: "writing hyperv-prep's report".into(),
        source: e,
    }
}

/// Runs `hyperv-prep`, writing podman's messages to `out`; `confirm` asks a yes/no question
/// (only `--reset` without `--force` asks).
pub fn hyperv_prep(
    h: &HyperV,
    o: &PrepOptions,
    confirm: &mut dyn FnMut(&str) -> bool,
    out: &mut dyn Write,
) -> Result<()> {
    if o.status {
        return status(h, out);
    }
    if !h.privileges()?.admin {
        return Err(Error::Provider(NOT_ADMIN.into()));
    }
    if o.reset {
        return reset(h, o.force, confirm, out);
    }
    let mut created = Vec::new();
    for (purpose, count) in [("Network", 1), ("Events", 1), ("Fileserver", o.mounts)] {
        let ports = h.run(
            &Script::new(ENSURE_ENTRIES)
                .param("PURPOSE", purpose)
                .param("COUNT", count.to_string()),
            &format!("registering the {purpose} hvsock services"),
        )?;
        for p in ports.lines().map(str::trim).filter(|l| !l.is_empty()) {
            created.push(format!("{purpose} (port {p})"));
        }
    }
    if created.is_empty() {
        writeln!(out, "All required registry entries already exist").map_err(io)?;
    } else {
        writeln!(out, "Successfully created registry entries for:").map_err(io)?;
        for c in &created {
            writeln!(out, "  - {c}").map_err(io)?;
        }
        writeln!(
            out,
            "These entries will persist even when all machines are removed."
        )
        .map_err(io)?;
    }
    let (user, member) = membership(h)?;
    if member {
        writeln!(
            out,
            "User is already a member of the Hyper-V Administrators group"
        )
        .map_err(io)?;
        return Ok(());
    }
    h.run(
        &Script::new(ADD_TO_GROUP),
        "adding the user to the Hyper-V Administrators group",
    )?;
    writeln!(
        out,
        "\nAdded user {user} to the Hyper-V Administrators group\nNote: You may need to log \
         out and log back in for the new group membership to take effect."
    )
    .map_err(io)
}

fn status(h: &HyperV, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "Hyper-V vsock registry entries:").map_err(io)?;
    let list = entries(h)?;
    if list.is_empty() {
        writeln!(out, "  No vsock registry entries found.").map_err(io)?;
    }
    for e in &list {
        out.write_all(e.line().as_bytes()).map_err(io)?;
    }
    let (_, member) = membership(h)?;
    writeln!(
        out,
        "Hyper-V Administrators group membership:\n  Current user {}",
        if member {
            "is a member"
        } else {
            "is NOT a member"
        }
    )
    .map_err(io)
}

fn reset(
    h: &HyperV,
    force: bool,
    confirm: &mut dyn FnMut(&str) -> bool,
    out: &mut dyn Write,
) -> Result<()> {
    let list = entries(h)?;
    if list.is_empty() {
        writeln!(out, "No vsock registry entries found to remove.").map_err(io)?;
    } else {
        let mut go = force;
        if !force {
            writeln!(out, "Existing VSock registry entries for Podman:").map_err(io)?;
            for e in &list {
                out.write_all(e.line().as_bytes()).map_err(io)?;
            }
            go = confirm("Do you want to delete these entries from the Windows registry? [y/N] ");
        }
        if !go {
            return Ok(());
        }
        let removed = h.run(
            &Script::new(REMOVE_ENTRIES),
            "removing the hvsock registry entries",
        )?;
        let removed: Vec<&str> = removed.lines().map(str::trim).collect();
        writeln!(out, "Successfully removed registry entries for:").map_err(io)?;
        for e in list.iter().filter(|e| removed.contains(&e.key.as_str())) {
            writeln!(out, "  - {} (port {})", e.purpose, e.port).map_err(io)?;
        }
    }
    let (user, member) = membership(h)?;
    if !member {
        writeln!(
            out,
            "Current user isn't a member of the Hyper-V Administrators group, it won't be removed."
        )
        .map_err(io)?;
        return Ok(());
    }
    if !force
        && !confirm(
            "Do you want to remove the current user from the Hyper-V Administrators group? [y/N] ",
        )
    {
        return Ok(());
    }
    h.run(
        &Script::new(REMOVE_FROM_GROUP),
        "removing the user from the Hyper-V Administrators group",
    )?;
    writeln!(
        out,
        "Removed user {user} from the Hyper-V Administrators group"
    )
    .map_err(io)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use base64::Engine;

    use super::*;
    use crate::provider::hyperv::PRIVILEGES;
    use crate::provider::runner::{Child, Cmd, Output, Runner};

    /// Answers each fixed script by its text and records the scripts run, in order.
    struct Host {
        answers: Vec<(&'static str, String)>,
        ran: Mutex<Vec<(String, Cmd)>>,
    }

    fn decode(cmd: &Cmd) -> String {
        let argv = cmd.argv();
        let i = argv.iter().position(|a| a == "-EncodedCommand").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&argv[i + 1])
            .unwrap();
        let u: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&u).unwrap()
    }

    impl Runner for Host {
        fn run(&self, cmd: &Cmd) -> std::io::Result<Output> {
            assert_eq!(cmd.program, Path::new("powershell.exe"));
            let text = decode(cmd);
            let (body, answer) = self
                .answers
                .iter()
                .find(|(b, _)| text.ends_with(b))
                .unwrap_or_else(|| panic!("unexpected script:\n{text}"));
            self.ran
                .lock()
                .unwrap()
                .push((body.to_string(), cmd.clone()));
            Ok(Output::ok(0, answer))
        }
        fn spawn(&self, _: &Cmd, _: Option<&Path>) -> std::io::Result<Box<dyn Child>> {
            unreachable!("hyperv-prep starts no process")
        }
    }

    fn host(admin: bool, member: bool, entries: &str, created: &str) -> Arc<Host> {
        Arc::new(Host {
            answers: vec![
                (
                    PRIVILEGES,
                    format!(r#"{{"admin":{admin},"hyperv_admin":false,"module":true}}"#),
                ),
                (LIST_ENTRIES, entries.into()),
                (ENSURE_ENTRIES, created.into()),
                (
                    REMOVE_ENTRIES,
                    "0000ABCD-FACB-11E6-BD58-64006A7986D3\n".into(),
                ),
                (
                    GROUP_MEMBER,
                    format!(r#"{{"user":"PC\\ann","member":{member}}}"#),
                ),
                (ADD_TO_GROUP, String::new()),
                (REMOVE_FROM_GROUP, String::new()),
            ],
            ran: Mutex::new(Vec::new()),
        })
    }

    fn prep(h: &Arc<Host>, o: PrepOptions, yes: bool) -> (Result<()>, String, Vec<String>) {
        let hv = HyperV::with_powershell(h.clone(), "powershell.exe");
        let mut asked = Vec::new();
        let mut out = Vec::new();
        let r = hyperv_prep(
            &hv,
            &o,
            &mut |q| {
                asked.push(q.to_string());
                yes
            },
            &mut out,
        );
        (r, String::from_utf8(out).unwrap(), asked)
    }

    fn ran(h: &Host) -> Vec<String> {
        h.ran
            .lock()
            .unwrap()
            .iter()
            .map(|(b, _)| b.clone())
            .collect()
    }

    #[test]
    fn prepares_entries_and_group_with_podmans_counts() {
        let h = host(true, false, "[]", "1234\n");
        let o = PrepOptions {
            mounts: 3,
            ..PrepOptions::default()
        };
        let (r, out, asked) = prep(&h, o, false);
        r.unwrap();
        assert!(asked.is_empty());
        let calls = h.ran.lock().unwrap().clone();
        let ensure: Vec<(String, String)> = calls
            .iter()
            .filter(|(b, _)| b == ENSURE_ENTRIES)
            .map(|(_, c)| {
                (
                    c.env_value("PODMAN_PS_PURPOSE").unwrap(),
                    c.env_value("PODMAN_PS_COUNT").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ensure,
            [
                ("Network".to_string(), "1".to_string()),
                ("Events".into(), "1".into()),
                ("Fileserver".into(), "3".into())
            ]
        );
        assert_eq!(ran(&h).last().unwrap(), ADD_TO_GROUP);
        assert!(
            out.starts_with(
                "Successfully created registry entries for:\n  - Network (port 1234)\n"
            ),
            "{out}"
        );
        assert!(out.contains("These entries will persist even when all machines are removed.\n"));
        assert!(out.ends_with(
            "\nAdded user PC\\ann to the Hyper-V Administrators group\nNote: You may need to log out and log back in for the new group membership to take effect.\n"
        ), "{out}");
        // Every command line is the same fixed shape: values only in the environment.
        for (_, c) in &calls {
            let argv = c.argv();
            assert_eq!(argv[argv.len() - 2], "-EncodedCommand");
            assert!(!argv.iter().any(|a| a.contains("Fileserver")));
        }
    }

    #[test]
    fn nothing_to_do_says_so() {
        let h = host(true, true, "[]", "");
        let (r, out, _) = prep(&h, PrepOptions::default(), false);
        r.unwrap();
        assert_eq!(
            out,
            "All required registry entries already exist\nUser is already a member of the Hyper-V Administrators group\n"
        );
        assert!(!ran(&h).contains(&ADD_TO_GROUP.to_string()));
    }

    #[test]
    fn not_elevated_is_refused_before_touching_anything() {
        let h = host(false, false, "[]", "1\n");
        let (r, out, _) = prep(&h, PrepOptions::default(), false);
        assert_eq!(r.unwrap_err().to_string(), NOT_ADMIN);
        assert_eq!(out, "");
        assert_eq!(ran(&h), [PRIVILEGES]);
        // Reset needs elevation as well.
        let o = PrepOptions {
            reset: true,
            force: true,
            ..PrepOptions::default()
        };
        let (r, _, _) = prep(&h, o, true);
        assert_eq!(r.unwrap_err().to_string(), NOT_ADMIN);
    }

    const TWO: &str = r#"[{"key":"0000ABCD-FACB-11E6-BD58-64006A7986D3","purpose":"Events","port":43981},{"key":"00001234-FACB-11E6-BD58-64006A7986D3","purpose":"Network","port":4660}]"#;

    #[test]
    fn status_needs_no_elevation() {
        let h = host(false, false, TWO, "");
        let (r, out, _) = prep(
            &h,
            PrepOptions {
                status: true,
                ..PrepOptions::default()
            },
            false,
        );
        r.unwrap();
        assert_eq!(
            out,
            "Hyper-V vsock registry entries:\n  \
             - Network (port 4660): 00001234-FACB-11E6-BD58-64006A7986D3\n  \
             - Events (port 43981): 0000ABCD-FACB-11E6-BD58-64006A7986D3\n\
             Hyper-V Administrators group membership:\n  Current user is NOT a member\n"
        );
        assert_eq!(ran(&h), [LIST_ENTRIES, GROUP_MEMBER]);
        let h = host(false, true, "[]", "");
        let (_, out, _) = prep(
            &h,
            PrepOptions {
                status: true,
                ..PrepOptions::default()
            },
            false,
        );
        assert!(out.contains("  No vsock registry entries found.\n"));
        assert!(out.ends_with("  Current user is a member\n"));
        // --status with --reset only shows, as podman's does.
        let h = host(false, true, TWO, "");
        let (r, _, _) = prep(
            &h,
            PrepOptions {
                status: true,
                reset: true,
                force: true,
                ..PrepOptions::default()
            },
            true,
        );
        r.unwrap();
        assert_eq!(ran(&h), [LIST_ENTRIES, GROUP_MEMBER]);
    }

    #[test]
    fn reset_asks_unless_forced() {
        let reset = PrepOptions {
            reset: true,
            ..PrepOptions::default()
        };
        // Declined: the list is shown, nothing is removed.
        let h = host(true, true, TWO, "");
        let (r, out, asked) = prep(&h, reset, false);
        r.unwrap();
        assert_eq!(
            asked,
            ["Do you want to delete these entries from the Windows registry? [y/N] "]
        );
        assert!(out.starts_with("Existing VSock registry entries for Podman:\n"));
        assert_eq!(ran(&h), [PRIVILEGES, LIST_ENTRIES]);
        // Forced: both removals without a question.
        let h = host(true, true, TWO, "");
        let (r, out, asked) = prep(
            &h,
            PrepOptions {
                force: true,
                ..reset
            },
            false,
        );
        r.unwrap();
        assert!(asked.is_empty());
        assert_eq!(
            ran(&h),
            [
                PRIVILEGES,
                LIST_ENTRIES,
                REMOVE_ENTRIES,
                GROUP_MEMBER,
                REMOVE_FROM_GROUP
            ]
        );
        assert_eq!(
            out,
            "Successfully removed registry entries for:\n  - Events (port 43981)\n\
             Removed user PC\\ann from the Hyper-V Administrators group\n"
        );
        // A user outside the group is left alone.
        let h = host(true, false, "[]", "");
        let (_, out, _) = prep(&h, reset, true);
        assert_eq!(
            out,
            "No vsock registry entries found to remove.\nCurrent user isn't a member of the \
             Hyper-V Administrators group, it won't be removed.\n"
        );
    }
}
