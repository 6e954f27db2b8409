#!/usr/bin/env bash
# Times `ps -a` over a fresh SSH connection: our podman-remote against podman's own remote
# client (`podman --remote`), same engine, same sshd, same key, in one hyperfine run.
# Prints both medians and the ratio ours/podman (the goal is <= 0.35).
#
# Needs the private test world (engine + loopback sshd), started by the `world` helper of
# the e2e crate; run from the repository root:  bench/ps.sh [RUNS]
set -euo pipefail
runs="${1:-40}"
cargo build -q --release -p podman-remote
cargo build -q -p podman-e2e --bin world
exec target/debug/world bash -c '
  set -euo pipefail
  ours="$PWD/target/release/podman-remote"
  out=$(mktemp -d)
  # Each client gets a private HOME with the host key already known, so neither pays for
  # writing known_hosts inside the timed loop.
  for h in ours podman; do
    mkdir -p "$out/$h/.ssh"
    cp "$E2E_KNOWN_HOSTS" "$out/$h/.ssh/known_hosts"
  done
  # Containers to list, so the engine has real work to report.
  for i in 1 2 3; do "$ours" --url "$E2E_URL" --identity "$E2E_IDENTITY" run -d "$E2E_IMAGE" sleep 600 >/dev/null; done
  hyperfine --style basic --warmup 3 --runs '"$runs"' --export-json "$out/ps.json" \
    -n podman-remote-rs "HOME=$out/ours $ours --url $E2E_URL --identity $E2E_IDENTITY ps -a" \
    -n "podman --remote (Go, $(podman --version | cut -d" " -f3))" "HOME=$out/podman podman --remote --url $E2E_URL --identity $E2E_IDENTITY ps -a"
  python3 - "$out/ps.json" <<PY
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, theirs = r[0]["median"], r[1]["median"]
print(f"median ps -a over ssh: ours {ours*1000:.1f} ms, podman {theirs*1000:.1f} ms, ratio {ours/theirs:.2f}x")
PY
  "$ours" --url "$E2E_URL" --identity "$E2E_IDENTITY" rm -f -a >/dev/null
'
