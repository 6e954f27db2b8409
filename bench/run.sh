#!/usr/bin/env bash
# Every benchmark of the project in one go, written up in bench/RESULTS.md (medians, ratios,
# the date and the machine). Run from the repository root:  bench/run.sh [RUNS]
#
#  * measured here, against the private test world (engine + loopback sshd, started by the
#    e2e crate's `world` helper as the other scripts do):
#      - `--version` start-up: ours vs `podman --version`;
#      - binary size: our release build vs /usr/bin/podman;
#      - command latency vs podman's own remote client (`podman --remote --url ssh://…`) on
#        the same engine, sshd and key, one new SSH connection per command:
#          warm = hyperfine with warm-up runs (binaries and libraries in the page cache),
#          cold = each run preceded by evicting both clients' binaries from the page cache
#          (posix_fadvise DONTNEED on those files only, nothing machine-wide);
#  * the other scripts, run as they are: bench/ps.sh, bench/image-transfer.sh (200 MB load
#    and save vs OpenSSH `cat`), bench/server.sh (server latency, 1,000 connections, RSS);
#  * bench/machine.sh (machine start overhead) when it exists.
#
# RUNS (default 20) is the hyperfine run count of the measurements made here; the other
# scripts keep their own defaults. Raw logs (hyperfine JSON, each script's output) stay in the
# /tmp/podman-remote-bench.* directory printed at the start.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
results=bench/RESULTS.md
logs=$(mktemp -d /tmp/podman-remote-bench.XXXXXX)

started=$(date -u '+%Y-%m-%d %H:%M UTC')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo "bench: logs in $logs; load average at start $load_start"

cargo build -q --release -p podman-remote
cargo build -q -p podman-e2e --bin world

# ---- measured here --------------------------------------------------------------------------
target/debug/world bash -c '
  set -euo pipefail
  runs='"$runs"'
  logs='"$logs"'
  ours="$PWD/target/release/podman-remote"
  podman=/usr/bin/podman
  for h in ours podman; do
    mkdir -p "$logs/$h/.ssh" "$logs/$h/.config/containers"
    cp "$E2E_KNOWN_HOSTS" "$logs/$h/.ssh/known_hosts"
    touch "$logs/$h/.config/containers/containers.conf"
  done
  R="HOME=$logs/ours $ours --url $E2E_URL --identity $E2E_IDENTITY"
  G="HOME=$logs/podman CONTAINERS_CONF=$logs/podman/.config/containers/containers.conf $podman --remote --url $E2E_URL --identity $E2E_IDENTITY"
  # Something to list and inspect.
  for i in 1 2 3; do "$ours" --url "$E2E_URL" --identity "$E2E_IDENTITY" run -d --name "bench-run-$i" "$E2E_IMAGE" sleep 600 >/dev/null; done
  trap "\"$ours\" --url \"$E2E_UNIX_URL\" rm -f -t 0 bench-run-1 bench-run-2 bench-run-3 >/dev/null 2>&1 || true" EXIT

  hyperfine --style basic -N --warmup 5 --runs $((runs * 2)) --export-json "$logs/version.json" \
    -n "ours" "$ours --version" -n "podman" "$podman --version"

  evict="python3 -c \"import os, sys; [os.posix_fadvise(os.open(p, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED) for p in sys.argv[1:]]\" $ours $podman"
  cmds=("version" "ps -a" "images" "container inspect bench-run-1")
  for mode in warm cold; do
    args=()
    for c in "${cmds[@]}"; do
      args+=(-n "ours $c" "$R $c" -n "podman $c" "$G $c")
    done
    if [ "$mode" = warm ]; then
      hyperfine --style basic --warmup 3 --runs "$runs" --export-json "$logs/$mode.json" "${args[@]}"
    else
      hyperfine --style basic --warmup 0 --runs "$runs" --prepare "$evict" --export-json "$logs/$mode.json" "${args[@]}"
    fi
  done
' 2>&1 | tee "$logs/here.log"

# ---- the other scripts ----------------------------------------------------------------------
others=(ps image-transfer server machine)
for b in "${others[@]}"; do
    if [ ! -x "bench/$b.sh" ] && [ ! -f "bench/$b.sh" ]; then
        echo "bench: bench/$b.sh not present, skipped"
        echo "absent" >"$logs/$b.status"
        continue
    fi
    echo "bench: bench/$b.sh"
    set +e
    # A machine boot under TCG varies by tens of seconds: several rounds, medians.
    ROUNDS="${MACHINE_ROUNDS:-3}" bash "bench/$b.sh" >"$logs/$b.log" 2>&1
    echo "$?" >"$logs/$b.status"
    set -e
    tail -n 12 "$logs/$b.log"
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$logs" "$results" "$started" "$cpu" "$load_start" "$load_end" "$mem" <<'PY'
import json, os, re, subprocess, sys

logs, results, started, cpu, load_start, load_end, mem = sys.argv[1:8]
rows = []  # (benchmark, ours, reference, ratio)

def med(path):
    return {r["command"]: r["median"] for r in json.load(open(os.path.join(logs, path)))["results"]}

def ms(s):
    return f"{s * 1000:.1f} ms"

v = med("version.json")
rows.append(("`--version` start-up (median)", ms(v["ours"]), f"{ms(v['podman'])} (`podman --version`)",
              f"{v['ours'] / v['podman']:.2f}x"))

ours_bin = "target/release/podman-remote"
theirs_bin = "/usr/bin/podman"
def size(p):
    n = os.path.getsize(p)
    kind = subprocess.run(["file", "-b", p], capture_output=True, text=True).stdout
    stripped = "stripped" if ", stripped" in kind else "not stripped"
    static = "static" if "statically linked" in kind or "static-pie" in kind else "dynamic"
    return n, f"{n / 1048576:.1f} MiB ({static}, {stripped})"
a, sa = size(ours_bin)
b, sb = size(theirs_bin)
rows.append(("binary size", sa, f"{sb} (/usr/bin/podman)", f"{a / b:.2f}x"))

for mode in ("warm", "cold"):
    m = med(f"{mode}.json")
    for name in [k[len("ours "):] for k in m if k.startswith("ours ")]:
        o, p = m[f"ours {name}"], m[f"podman {name}"]
        rows.append((f"`{name}` over SSH, {mode} (median)", ms(o), f"{ms(p)} (`podman --remote`)",
                     f"{o / p:.2f}x"))

def status(b):
    return open(os.path.join(logs, f"{b}.status")).read().strip()

def log(b):
    p = os.path.join(logs, f"{b}.log")
    return open(p).read() if os.path.exists(p) else ""

def grab(b, pattern):
    m = re.search(pattern, log(b))
    return m.groups() if m else None

# bench/ps.sh
g = grab("ps", r"median ps -a over ssh: ours ([\d.]+) ms, podman ([\d.]+) ms, ratio ([\d.]+)x")
if g:
    rows.append(("`ps -a` over SSH (bench/ps.sh, 40 runs)", f"{g[0]} ms", f"{g[1]} ms (`podman --remote`)", f"{g[2]}x"))
else:
    rows.append(("bench/ps.sh", "FAILED", f"exit {status('ps')}, see its log", "-"))

# bench/image-transfer.sh
speeds = dict(re.findall(r"^(\w+ [\w-]+)\s+[\d.]+ s\s+([\d.]+) MB/s$", log("image-transfer"), re.M))
if speeds:
    for op, ssh in (("load", "upload openssh"), ("save", "download openssh")):
        o = float(speeds[f"{op} ours"])
        for ref, label in ((ssh, "OpenSSH `cat`"), (f"{op} podman", "`podman --remote`"),
                           (f"{op} engine-socket", "engine socket, no SSH")):
            r = float(speeds[ref])
            rows.append((f"200 MB `{op}` throughput vs {label} (bench/image-transfer.sh)",
                         f"{o:.1f} MB/s", f"{r:.1f} MB/s", f"{o / r:.2f}x"))
else:
    rows.append(("bench/image-transfer.sh", "FAILED", f"exit {status('image-transfer')}, see its log", "-"))

# bench/server.sh
g = grab("server", r"through the server ([\d.]+) ms, engine socket ([\d.]+) ms \(([\d.]+)x.*cold ssh ([\d.]+) ms")
if g:
    rows.append(("`ps -a` through the API server vs engine socket (bench/server.sh)", f"{g[0]} ms",
                 f"{g[1]} ms (unix socket, no SSH)", f"{g[2]}x"))
    rows.append(("`ps -a` through the API server vs a cold SSH connection", f"{g[0]} ms",
                 f"{g[3]} ms (ours, new SSH connection)", f"{float(g[0]) / float(g[3]):.2f}x"))
g = grab("server", r"added median latency: ([\d.-]+) ms one at a time .*?, ([\d.-]+) ms with all 1,000")
if g:
    rows.append(("server: added median `_ping` latency, 1,000 open connections", f"{g[0]} ms sequential, {g[1]} ms burst",
                 "engine socket directly", "-"))
g = grab("server", r"server RSS with 1,000 open connections: ([\d.]+) MiB, after the bursts ([\d.]+) MiB, peak ([\d.]+) MiB")
if g:
    rows.append(("server RSS, 1,000 open connections", f"{g[0]} MiB (peak {g[2]} MiB)", "goal <= 32 MiB", "-"))
if not grab("server", r"(through the server)"):
    rows.append(("bench/server.sh", "FAILED", f"exit {status('server')}, see its log", "-"))

# bench/machine.sh: its median line in the table, its whole output quoted below.
machine = status("machine")
g = grab("machine", r"median over (\d+): bare ([\d.]+) s, ours ([\d.]+) s, overhead ([-+\d.]+) s "
         r"across boots; same boot: ([-+\d.]+) s")
if g:
    rows.append((f"machine start to first ps, overhead after SSH is ready on the same boot "
                 f"(median of {g[0]})", f"{g[4]} s", "goal <= +1 s", "-"))
    rows.append((f"machine start to first ps vs a bare QEMU boot to SSH (median of {g[0]}, "
                 "different boots)", f"{g[2]} s", f"{g[1]} s", f"{float(g[2]) / float(g[1]):.2f}"))
elif machine != "absent":
    rows.append(("bench/machine.sh", "FAILED", f"exit {machine}, see its log", "-"))

out = []
out.append("# Benchmark results\n")
out.append(f"Written by `bench/run.sh` on {started}.\n")
out.append(f"- Machine: {os.cpu_count()} CPUs (`nproc`), {cpu}, {mem} RAM, "
           f"kernel {os.uname().release}")
out.append(f"- Load average at start: {load_start}; at the end: {load_end}")
out.append("- **This machine was shared with other work (builds, engines, VMs of parallel "
           "sessions) during the run**: absolute times are inflated and noisy; the ratios, "
           "measured back to back on the same engine, sshd and key, are the figures to read.")
out.append("- Engine: podman 4.3.1 behind OpenSSH sshd on loopback (the e2e test world); "
           "reference client: the same machine's `podman --remote` (Go).\n")
out.append("Ratios: ours / reference for times and sizes (below 1 is better for us), "
           "ours / reference for throughput (above 1 is better for us).\n")
out.append("| Benchmark | ours | reference | ratio |")
out.append("|---|---|---|---|")
for r in rows:
    out.append("| " + " | ".join(r) + " |")
out.append("")
out.append("Cold = both binaries evicted from the page cache before every run (posix_fadvise "
           "DONTNEED on those two files); warm = after warm-up runs. Every command opens a new "
           "SSH connection (no API server running).\n")
out.append("## Machine start overhead (bench/machine.sh)\n")
if machine == "absent":
    out.append("_Slot reserved: `bench/machine.sh` (from the machine work) was not in this tree "
               "when this ran; `bench/run.sh` runs it and quotes it here once it exists._\n")
else:
    out.append(f"Exit status {machine}. Its output:\n")
    out.append("```")
    out.append(log("machine").rstrip()[-3000:])
    out.append("```\n")
out.append("## Summaries printed by each script\n")
for b in ("ps", "image-transfer", "server"):
    out.append(f"### bench/{b}.sh (exit {status(b)})\n")
    out.append("```")
    lines = [l for l in log(b).splitlines()
             if l.strip() and l != "Summary" and not l.startswith(("Benchmark ", "  "))]
    out.append("\n".join(lines[-25:]))
    out.append("```\n")
open(results, "w").write("\n".join(out))
print(f"bench: wrote {results}")
PY
