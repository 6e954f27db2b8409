//! A private Wine prefix to run the Windows build in: its own wineserver (so its named pipes
//! are visible to the programs of this prefix only), stopped when dropped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::run::run;

/// The first start creates the prefix, which takes a while on a loaded machine.
pub const WINE_TIMEOUT: Duration = Duration::from_secs(600);

// Rust's std (1.78+) draws randomness from bcryptprimitives.dll's ProcessPrng, which every
// Windows 10+ has but Debian 12's Wine 8.0 lacks ("Library bcryptprimitives.dll not found",
// status c0000135). The prefix gets that one function, on top of advapi32's RtlGenRandom;
// the exe under test is left exactly as built.
const PROCESS_PRNG_SHIM: &str = r#"
#include <windows.h>
#include <ntsecapi.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
"#;

pub struct WinePrefix {
    /// The prefix's parent, also the HOME of the Wine processes.
    pub dir: PathBuf,
    pub prefix: PathBuf,
}

impl WinePrefix {
    /// Creates `dir/wineprefix` (`dir` must exist and be private to the caller).
    #[track_caller]
    pub fn new(dir: &Path) -> WinePrefix {
        let prefix = dir.join("wineprefix");
        fs::create_dir(&prefix).unwrap();
        let p = WinePrefix {
            dir: dir.to_path_buf(),
            prefix,
        };
        let mut c = Command::new("wineboot");
        c.arg("--init");
        p.env(&mut c);
        run(&mut c, None, WINE_TIMEOUT);
        let system32 = p.prefix.join("drive_c/windows/system32");
        assert!(
            system32.is_dir(),
            "wineboot did not create {}",
            system32.display()
        );
        let shim = dir.join("bcryptprimitives.c");
        fs::write(&shim, PROCESS_PRNG_SHIM).unwrap();
        let mut c = Command::new("x86_64-w64-mingw32-gcc");
        c.args(["-shared", "-O2", "-o"])
            .arg(system32.join("bcryptprimitives.dll"))
            .arg(&shim)
            .arg("-ladvapi32");
        run(&mut c, None, Duration::from_secs(120)).assert_success();
        p
    }

    fn env(&self, c: &mut Command) {
        c.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &self.dir)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
    }

    /// `wine EXE ARGS` in this prefix, with a clean environment.
    pub fn cmd(&self, exe: &Path, args: &[&str]) -> Command {
        let mut c = Command::new("wine");
        self.env(&mut c);
        c.arg(exe).args(args);
        c
    }
}

impl Drop for WinePrefix {
    fn drop(&mut self) {
        // Ends this prefix's wineserver and every Windows process of it (ours only).
        let mut c = Command::new("wineserver");
        c.arg("-k");
        self.env(&mut c);
        let _ = c.status();
    }
}

/// `Z:\…`: how a Windows program under Wine names a Unix path.
pub fn wine_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}
