#!/usr/bin/env bash
# Machine start overhead, in one run: time from `podman-remote machine start` to the first
# successful `podman-remote ps`, against a bare QEMU boot of the same image (same firmware,
# disk size, CPUs, memory, accelerator and Ignition config, fresh disk each) to an SSH login.
# Goal: ours - bare <= 1 s. Both boots are first boots (Ignition applied), so they do the same
# guest work. Under TCG on a loaded machine two boots of the same image differ by tens of
# seconds, far more than the overhead, so each round also measures the overhead on the same
# boot: an OpenSSH client polls the machine's port while `machine start` runs, and the
# overhead is the time from its first login to our first successful `ps`. Use ROUNDS>1 and
# read the medians.
#
# Usage (root, builds the test image if needed): bench/machine.sh
# Env: ROUNDS (default 1), CPUS (2), MEMORY (1536), PODMAN_REMOTE (default target/release, else
# target/debug podman-remote).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-1}"
CPUS="${CPUS:-2}"
MEMORY="${MEMORY:-1536}"
PR="${PODMAN_REMOTE:-}"
if [ -z "$PR" ]; then
    for c in target/release/podman-remote target/debug/podman-remote; do
        [ -x "$c" ] && { PR="$PWD/$c"; break; }
    done
fi
[ -x "$PR" ] || { echo "build podman-remote first (cargo build --release -p podman-remote)" >&2; exit 1; }
IMG="$(tests/vm-image/build.sh | tail -1)"

work="$(mktemp -d /tmp/pmbench.XXXXXX)"
export HOME="$work" XDG_CONFIG_HOME="$work/.config" XDG_DATA_HOME="$work/.local/share" \
    XDG_RUNTIME_DIR="$work/run" PODMAN_REMOTE_MACHINE_BOOT_TIMEOUT=900 \
    CONTAINERS_CONF="$work/.config/containers/containers.conf"
unset SSL_CERT_FILE
mkdir -p "$XDG_RUNTIME_DIR"
bare_pid=""
cleanup() {
    [ -n "$bare_pid" ] && kill -9 "$bare_pid" 2>/dev/null || true
    for p in "$XDG_RUNTIME_DIR"/podman/*_vm.pid "$XDG_RUNTIME_DIR"/podman/*_watch.pid; do
        [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

ours=()
bare=()
same=()
for round in $(seq "$ROUNDS"); do
    name="bench$round"
    "$PR" machine init --image "$IMG" --cpus "$CPUS" --memory "$MEMORY" --disk-size 6 "$name" >/dev/null
    cfg="$XDG_CONFIG_HOME/containers/podman/machine/qemu"
    data="$XDG_DATA_HOME/containers/podman/machine/qemu"

    # Bare QEMU: the same argv podman-remote would use, on a fresh copy of the image, booted
    # with the same Ignition file; timed to the first SSH login.
    bdisk="$work/bare.qcow2"
    cp --sparse=always "$data/$name-amd64.qcow2" "$bdisk"
    cp "$data/${name}_efivars.fd" "$work/bare_vars.fd"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    accel=tcg
    [ "${PODMAN_REMOTE_MACHINE_ACCEL:-auto}" = kvm ] && accel=kvm
    t0=$(now)
    qemu-system-x86_64 -machine q35 -accel "$accel" -cpu max -m "$MEMORY" -smp "$CPUS" \
        -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
        -drive "if=pflash,format=raw,unit=1,file=$work/bare_vars.fd" \
        -drive "if=virtio,format=qcow2,file=$bdisk" \
        -fw_cfg "name=opt/com.coreos/config,file=$cfg/$name.ign" \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
        -device virtio-serial -display none -vga none -serial none \
        -pidfile "$work/bare.pid" -daemonize
    bare_pid=$(cat "$work/bare.pid")
    # The pinned host key, for the bare VM's port.
    sed "s/\]:[0-9]* /]:$port /" "$cfg/$name.known_hosts" >"$work/bare_known_hosts"
    until ssh -q -i "$data/${name}_ed25519" -p "$port" -o IdentitiesOnly=yes -o BatchMode=yes \
        -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$work/bare_known_hosts" \
        -o ConnectTimeout=5 core@127.0.0.1 true 2>/dev/null; do
        sleep 0.2
    done
    t1=$(now)
    kill -9 "$bare_pid"; bare_pid=""
    rm -f "$bdisk" "$work/bare_vars.fd"
    bare+=("$(elapsed "$t0" "$t1")")

    # The same boot's SSH readiness, seen by OpenSSH polling as for the bare boot.
    port=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["SSH"]["Port"])' "$cfg/$name.json")
    rm -f "$work/ssh_up"
    (
        until ssh -q -i "$data/${name}_ed25519" -p "$port" -o IdentitiesOnly=yes \
            -o BatchMode=yes -o StrictHostKeyChecking=yes \
            -o "UserKnownHostsFile=$cfg/$name.known_hosts" -o ConnectTimeout=5 \
            core@127.0.0.1 true 2>/dev/null; do
            sleep 0.2
        done
        now >"$work/ssh_up"
    ) &
    poller=$!
    t0=$(now)
    "$PR" machine start "$name" >/dev/null
    until "$PR" ps >/dev/null 2>&1; do sleep 0.1; done
    t1=$(now)
    wait "$poller"
    ours+=("$(elapsed "$t0" "$t1")")
    same+=("$(elapsed "$(cat "$work/ssh_up")" "$t1")")
    "$PR" machine rm -f "$name" >/dev/null
    printf 'round %d: bare QEMU to SSH %6.1f s, machine start to first ps %6.1f s (%+.1f s); same boot: SSH ready to first ps %+.1f s\n' \
        "$round" "${bare[-1]}" "${ours[-1]}" "$(elapsed "${bare[-1]}" "${ours[-1]}")" "${same[-1]}"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mb=$(median "${bare[@]}"); mo=$(median "${ours[@]}"); ms=$(median "${same[@]}")
printf 'median over %d: bare %.1f s, ours %.1f s, overhead %+.1f s across boots; same boot: %+.1f s (goal <= 1 s)\n' \
    "$ROUNDS" "$mb" "$mo" "$(elapsed "$mb" "$mo")" "$ms"
