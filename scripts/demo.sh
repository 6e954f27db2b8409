#!/usr/bin/env bash
# The main job end to end: build podman-remote, start a private podman engine behind a
# loopback OpenSSH sshd (the e2e world: nothing of the machine's own podman or ~/.ssh is
# touched), add it as a named connection, and run a container on it over SSH.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$(command -v cargo)" ] || . "$HOME/.cargo/env"
cargo build -q -p podman-remote -p podman-e2e --bins
exec target/debug/world bash -c '
  set -euo pipefail
  home=$(mktemp -d); trap "rm -rf $home" EXIT
  mkdir -m 700 "$home/.ssh"; cp "$E2E_KNOWN_HOSTS" "$home/.ssh/known_hosts"
  pr() { HOME=$home XDG_CONFIG_HOME=$home/.config CONTAINERS_CONF=$home/containers.conf target/debug/podman-remote "$@"; }
  set -x
  pr system connection add --identity "$E2E_IDENTITY" demo "$E2E_URL"
  pr system connection list
  pr run --rm "$E2E_IMAGE" echo "hello from a container, over SSH"
  pr ps -a
  pr version
'
