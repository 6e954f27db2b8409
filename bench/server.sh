#!/usr/bin/env bash
# The SSH-tunnelled API server (`podman-remote system service`), against the private test
# world (engine + loopback sshd):
#
#  1. `ps -a` (hyperfine): our client through a running server (it finds the server of its
#     connection by itself) vs the same client on the engine's own unix socket (goal: at most
#     1.3x) vs a cold SSH connection per command (PODMAN_REMOTE_NO_SERVER=1);
#  2. `server_load` (server/examples/server_load.rs): 1,000 keep-alive connections held open
#     on the engine's socket, then on the server's: median `GET /_ping` latency one request
#     at a time and all at once, and the server's RSS meanwhile (goals: at most 1 ms median
#     added, at most 32 MiB RSS).
#
# Run from the repository root:  bench/server.sh [RUNS]
set -euo pipefail
runs="${1:-40}"
cargo build -q --release -p podman-remote
cargo build -q --release --example server_load -p podman-server
cargo build -q -p podman-e2e --bin world
# 1,000 connections through sshd and the engine need more than the usual 1,024 files.
ulimit -n "$(ulimit -Hn)"
exec target/debug/world bash -c '
  set -euo pipefail
  ours="$PWD/target/release/podman-remote"
  load="$PWD/target/release/examples/server_load"
  engine_sock="${E2E_UNIX_URL#unix://}"
  out=$(mktemp -d)
  mkdir -p "$out/home/.ssh" "$out/run"
  chmod 700 "$out/run"
  cp "$E2E_KNOWN_HOSTS" "$out/home/.ssh/known_hosts"
  export HOME="$out/home" XDG_RUNTIME_DIR="$out/run"
  conn=(--url "$E2E_URL" --identity "$E2E_IDENTITY")
  for i in 1 2 3; do "$ours" "${conn[@]}" run -d "$E2E_IMAGE" sleep 600 >/dev/null; done

  sock_uri=$("$ours" "${conn[@]}" system service --detach --time 0 --no-publish)
  sock="${sock_uri#unix://}"
  pid=$(cat "${sock%.sock}.pid")
  trap "kill $pid 2>/dev/null || true; \"$ours\" --url \"$E2E_UNIX_URL\" rm -f -a -t 0 >/dev/null" EXIT

  hyperfine --style basic --warmup 3 --runs '"$runs"' --export-json "$out/ps.json" \
    -n "through the server" "$ours ${conn[*]} ps -a" \
    -n "engine socket directly" "$ours --url $E2E_UNIX_URL ps -a" \
    -n "cold ssh" "PODMAN_REMOTE_NO_SERVER=1 $ours ${conn[*]} ps -a"
  python3 - "$out/ps.json" <<PY
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
srv, direct, cold = r["through the server"], r["engine socket directly"], r["cold ssh"]
print(f"ps -a medians: through the server {srv*1000:.1f} ms, engine socket {direct*1000:.1f} ms "
      f"({srv/direct:.2f}x, goal <= 1.3x), cold ssh {cold*1000:.1f} ms ({cold/srv:.1f}x slower than the server)")
PY

  echo "1,000 connections on the engine socket directly:"
  "$load" "$engine_sock" 1000 5 | tee "$out/direct.json"
  echo "1,000 connections through the server (pid $pid):"
  "$load" "$sock" 1000 5 "$pid" | tee "$out/server.json"
  python3 - "$out/direct.json" "$out/server.json" <<PY
import json, sys
d, s = (json.load(open(p)) for p in sys.argv[1:3])
add = s["sequential_ms"]["p50"] - d["sequential_ms"]["p50"]
burst = s["burst_ms"]["p50"] - d["burst_ms"]["p50"]
print(f"added median latency: {add:.3f} ms one at a time (goal <= 1 ms), {burst:.3f} ms with all 1,000 at once")
rss, after, hwm = (s[k] / 1024 for k in ("rss_kib_idle_connections", "rss_kib_after_burst", "hwm_kib"))
print(f"server RSS with 1,000 open connections: {rss:.1f} MiB, "
      f"after the bursts {after:.1f} MiB, peak {hwm:.1f} MiB (goal <= 32 MiB)")
PY
  "$ours" "${conn[@]}" system service --status
'
