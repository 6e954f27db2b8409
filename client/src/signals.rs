//! Signal names and numbers as podman parses them (`kill -s`, `--stop-signal`): Linux
//! numbering, with or without the SIG prefix, RTMIN+n / RTMAX-n, or a number 1..64.

/// Linux signal names podman accepts (without the SIG prefix) and their numbers.
fn signal_number(name: &str) -> Option<i32> {
    const SIGRTMIN: i32 = 34;
    const SIGRTMAX: i32 = 64;
    let fixed = [
        ("ABRT", 6),
        ("ALRM", 14),
        ("BUS", 7),
        ("CHLD", 17),
        ("CLD", 17),
        ("CONT", 18),
        ("FPE", 8),
        ("HUP", 1),
        ("ILL", 4),
        ("INT", 2),
        ("IO", 29),
        ("IOT", 6),
        ("KILL", 9),
        ("PIPE", 13),
        ("POLL", 29),
        ("PROF", 27),
        ("PWR", 30),
        ("QUIT", 3),
        ("SEGV", 11),
        ("STKFLT", 16),
        ("STOP", 19),
        ("SYS", 31),
        ("TERM", 15),
        ("TRAP", 5),
        ("TSTP", 20),
        ("TTIN", 21),
        ("TTOU", 22),
        ("URG", 23),
        ("USR1", 10),
        ("USR2", 12),
        ("VTALRM", 26),
        ("WINCH", 28),
        ("XCPU", 24),
        ("XFSZ", 25),
    ];
    if let Some((_, n)) = fixed.iter().find(|(k, _)| *k == name) {
        return Some(*n);
    }
    if name == "RTMIN" {
        return Some(SIGRTMIN);
    }
    if name == "RTMAX" {
        return Some(SIGRTMAX);
    }
    if let Some(n) = name.strip_prefix("RTMIN+") {
        // Only the spellings podman lists: RTMIN+1 .. RTMIN+15.
        return n
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=15).contains(n) && !name[6..].starts_with(['0', '+']))
            .map(|n| SIGRTMIN + n);
    }
    if let Some(n) = name.strip_prefix("RTMAX-") {
        return n
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=14).contains(n) && !name[6..].starts_with(['0', '+']))
            .map(|n| SIGRTMAX - n);
    }
    None
}

/// podman's `ParseSignalNameOrNumber` plus its 1..64 range check.
pub fn parse_signal(raw: &str) -> Result<i32, String> {
    let base = raw.strip_prefix('-').unwrap_or(raw);
    let invalid = || format!("invalid signal: {base}");
    let n = if let Ok(n) = parse_go_atoi(base) {
        if n == 0 {
            return Err(invalid());
        }
        n
    } else {
        let upper = base.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        signal_number(name).ok_or_else(invalid)? as i64
    };
    if !(1..=64).contains(&n) {
        return Err("valid signals are 1 through 64".into());
    }
    Ok(n as i32)
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits.
fn parse_go_atoi(s: &str) -> Result<i64, ()> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    s.parse::<i64>().map_err(|_| ())
}
