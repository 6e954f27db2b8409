#!/usr/bin/env bash
# Installs what building podman-remote and running its tests need on Debian 12, as root:
# Debian packages and the Rust cross targets. Used by .ci/run and by the README.
set -euo pipefail

# Never stop at a debconf prompt: there is no terminal to answer in CI.
export DEBIAN_FRONTEND=noninteractive

apt-get update

# --no-install-recommends keeps the machine minimal, so every package the
# tests rely on is named here, with the reason:
#
#   podman          the engine behind the e2e tests (`podman system service`
#                   on a private socket) and the reference 4.3.1 remote client.
#   runc            the OCI runtime the e2e engine is configured with (crun,
#                   podman's first choice, fails on this machine's hybrid
#                   cgroup layout). Named so apt satisfies podman's
#                   "crun | runc" dependency with runc alone.
#   conmon          container monitor (a podman dependency anyway).
#   netavark        network backend the engine is configured with. Named
#                   because otherwise apt satisfies containers-common's
#                   "containernetworking-plugins | netavark" with CNI.
#   aardvark-dns    netavark's DNS server, used by user-created networks.
#   iptables        netavark programs the bridge's NAT/port rules by running
#                   `iptables`; Debian's netavark does not depend on it.
#   catatonit       podman builds the pod infra ("pause") image locally from
#                   it, so pods work without a registry; also `run --init`.
#   openssh-server  /usr/sbin/sshd, started privately by the e2e tests.
#   openssh-client  ssh, ssh-keygen, ssh-agent, ssh-add for the e2e tests.
#   busybox-static  the e2e test image is a rootfs made of this static binary
#                   (no container registry is reachable).
#   keyutils        keyctl, to put a key passphrase into the kernel keyring (the
#                   OS keyring podman-remote reads on Linux) in an e2e test.
#   docker-registry the private container registry (distribution v2) the registry
#                   e2e tests start (tests/src/registry.rs) for pull/push/login/search.
#   apache2-utils   htpasswd, to make that registry's bcrypt password file.
#   openssl         the CA and TLS server certificate of that registry.
#   hyperfine       benchmarks (bench/).
#   musl-tools      musl-gcc, for the static x86_64-unknown-linux-musl build.
#   gcc-mingw-w64-x86-64  linker for the x86_64-pc-windows-gnu compile check.
#   ca-certificates rustup's HTTPS downloads below.
#   qemu-system-x86 the VM `machine` runs (TCG in the tests), with qemu-utils (qemu-img)
#                   pinned to the same Debian 12 version: some machines carry a newer
#                   backported qemu-utils that Breaks Debian 12's qemu-system-common.
#   ovmf            UEFI firmware for the machine image (q35 + pflash).
#   debootstrap, dosfstools, mtools, systemd-boot-efi, xz-utils, zstd, fdisk (sfdisk)
#                   the test VM image build (tests/vm-image), all without loop devices.
#   ignition        ignition-validate, which every generated Ignition config must pass.
#   iproute2        `ip netns` + veth: the server tests' "remote host" namespace.
#   wine, wine64    runs the Windows build's `--version`/`machine list` in the tests.
#   gcc-aarch64-linux-gnu  C compiler for the aarch64 static (musl) release build.
#   file            the installer test checks that the release binary is static.
#   git             the engine clones git build contexts with it (`build git://...`), and
#                   the build e2e test serves one with `git daemon`.
#   python3         `python3 -m http.server` serves URL build contexts and archives for
#                   `build URL`, `import URL` and `load -i URL` in the e2e tests.
#   curl            bench/image-transfer.sh times the engine alone on its unix socket.
#   unzip, curl     the installer test unpacks the Windows .zip for Wine and installs
#                   with install.sh from a (file://) release URL, which it fetches with curl.
#   tmux            a real terminal for the interactive tests (`run -it` under SIGINT,
#                   interactive `machine ssh`).
#
# Deliberately not installed: uidmap, slirp4netns, fuse-overlayfs, buildah,
# dbus-user-session (rootless podman only; the tests run rootful with the
# vfs storage driver), crun, containernetworking-plugins, criu.
# qemu-utils pinned to qemu-system-x86's version (see above), in the same transaction.
qemu_version=$(apt-cache policy qemu-system-x86 | awk '/Candidate:/ {print $2}')
apt-get install -y --no-install-recommends --allow-downgrades \
    podman runc conmon netavark aardvark-dns iptables catatonit \
    openssh-server openssh-client busybox-static keyutils \
    docker-registry apache2-utils openssl \
    hyperfine musl-tools gcc-mingw-w64-x86-64 ca-certificates \
    qemu-system-x86 ovmf debootstrap dosfstools mtools systemd-boot-efi xz-utils zstd fdisk \
    ignition iproute2 wine wine64 gcc-aarch64-linux-gnu file git python3 curl unzip tmux \
    "qemu-utils=$qemu_version"

# The Docker CLI, which the server tests (tests/tests/server.rs) point at our API socket.
# Debian 12 ships it only inside docker.io, whose daemon we never use: RUNLEVEL=1 keeps
# invoke-rc.d from starting it. Skipped when a docker CLI is already installed.
if ! command -v docker >/dev/null; then
    RUNLEVEL=1 apt-get install -y --no-install-recommends docker.io
fi

# The toolchain is rustup's; a non-login CI shell may not have it on PATH.
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-pc-windows-gnu

# cargo-fuzz drives the fuzz targets (fuzz/run.sh, run by scripts/test.sh); building it from
# crates.io takes under a minute. `cargo install` skips it when this version is already there.
cargo install cargo-fuzz --locked --version 0.13.2
