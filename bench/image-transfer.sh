#!/usr/bin/env bash
# `load` and `save` of a 200 MB image over SSH: our podman-remote, podman's own remote client
# (`podman --remote`) and OpenSSH moving the same bytes (`cat file | ssh ... cat >/dev/null`
# for the upload, `ssh ... cat file` for the download), in one hyperfine run.
# Prints MB/s of each and the ratios ours/OpenSSH and ours/podman (goal: >= 0.9x OpenSSH).
#
# Also the engine alone: curl on the engine's unix socket (no SSH), same endpoints, which
# bounds what any client can reach. podman 4.3's engine writes the whole archive of a save to
# a temporary file before sending its first byte (1.4-3.9 s for 200 MB here), so a save is
# engine-bound: the engine alone delivers less than OpenSSH moves, and "ours/engine alone"
# is the ratio that tells the client's own cost. (Once the first byte arrives, ours streams
# at OpenSSH's rate or faster, 87-141 MB/s measured.)
#
# Needs the private test world (engine + loopback sshd), started by the `world` helper of
# the e2e crate; run from the repository root:  bench/image-transfer.sh [RUNS]
set -euo pipefail
runs="${1:-3}"
cargo build -q --release -p podman-remote
cargo build -q -p podman-e2e --bin world
exec target/debug/world bash -c '
  set -euo pipefail
  ours="$PWD/target/release/podman-remote"
  out=$(mktemp -d)
  trap "rm -rf $out" EXIT
  for h in ours podman; do
    mkdir -p "$out/$h/.ssh" "$out/$h/.config/containers"
    cp "$E2E_KNOWN_HOSTS" "$out/$h/.ssh/known_hosts"
    touch "$out/$h/.config/containers/containers.conf"
  done
  port=$(echo "$E2E_URL" | sed -E "s#^ssh://[^@]*@[^:]*:([0-9]+)/.*#\1#")
  sshc="ssh -p $port -i $E2E_IDENTITY -o UserKnownHostsFile=$E2E_KNOWN_HOSTS -o BatchMode=yes root@127.0.0.1"
  # A 200 MB incompressible image.
  mkdir "$out/rootfs"
  head -c 209715200 /dev/urandom > "$out/rootfs/f"
  tar -C "$out/rootfs" -cf "$out/rootfs.tar" f
  rm -rf "$out/rootfs"
  "$ours" --url "$E2E_URL" --identity "$E2E_IDENTITY" import "$out/rootfs.tar" bench-big >/dev/null
  "$ours" --url "$E2E_URL" --identity "$E2E_IDENTITY" save -o "$out/big.tar" localhost/bench-big
  bytes=$(stat -c %s "$out/big.tar")
  # The same bytes on the server for the OpenSSH download.
  $sshc "cat > /tmp/bench-big.tar" < "$out/big.tar"
  R="HOME=$out/ours $ours --url $E2E_URL --identity $E2E_IDENTITY"
  G="HOME=$out/podman CONTAINERS_CONF=$out/podman/.config/containers/containers.conf podman --remote --url $E2E_URL --identity $E2E_IDENTITY"
  sock="${E2E_UNIX_URL#unix://}"
  api="http://d/v4.3.1/libpod"
  hyperfine --style basic --warmup 1 --runs '"$runs"' --export-json "$out/t.json" \
    -n "load ours" "$R load -i $out/big.tar" \
    -n "load podman" "$G load -i $out/big.tar" \
    -n "upload openssh" "cat $out/big.tar | $sshc \"cat >/dev/null\"" \
    -n "load engine-socket" "curl -sf --unix-socket $sock -H Content-Type:application/x-tar --data-binary @$out/big.tar $api/images/load -o /dev/null" \
    -n "save ours" "$R save -o $out/s1.tar localhost/bench-big" \
    -n "save podman" "$G save -o $out/s2.tar localhost/bench-big" \
    -n "download openssh" "$sshc \"cat /tmp/bench-big.tar\" > $out/s3.tar" \
    -n "save engine-socket" "curl -sf --unix-socket $sock -o $out/s4.tar \"$api/images/export?references=localhost/bench-big&format=docker-archive\""
  python3 - "$out/t.json" "$bytes" <<PY
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
mb = int(sys.argv[2]) / 1e6
for k, v in r.items():
    print(f"{k:18s} {v:7.2f} s  {mb / v:7.1f} MB/s")
for op, ssh in (("load", "upload openssh"), ("save", "download openssh")):
    o, p, s, e = r[f"{op} ours"], r[f"{op} podman"], r[ssh], r[f"{op} engine-socket"]
    print(f"{op}: ours/OpenSSH {s / o:.2f}x throughput, ours/podman {p / o:.2f}x throughput, "
          f"ours/engine alone {e / o:.2f}x throughput")
PY
  $sshc "rm -f /tmp/bench-big.tar"
  "$ours" --url "$E2E_URL" --identity "$E2E_IDENTITY" rmi localhost/bench-big >/dev/null
'
