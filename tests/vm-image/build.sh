#!/usr/bin/env bash
# Builds the bootable test machine image for `podman-remote machine` (Debian bookworm, UEFI +
# systemd-boot, podman/crun/netavark, a preloaded localhost/busybox image) from Debian packages
# only and without loop devices or mounts: debootstrap, mkfs.ext4 -d, sfdisk, mtools, qemu-img.
#
# The guest applies the subset of Ignition v3 that podman machine generates (users and their SSH
# keys, files, links, systemd units) from QEMU fw_cfg `opt/com.coreos/config`, so `machine init`
# provisions it as it would a machine-os image. A NoCloud `cidata` seed is left to Debian's
# cloud-init, which runs only when such a seed is attached (ds-identify), so Ignition boots do not
# pay for it.
#
# Usage (root): tests/vm-image/build.sh            prints the path of the cached qcow2
# Env: CACHE_DIR (default /var/cache/podman-remote-tests), MIRROR, FORCE=1 to rebuild.
# The result is keyed by a hash of this script, so editing the recipe rebuilds it.
set -euo pipefail

script="$(readlink -f "$0")"
CACHE_DIR="${CACHE_DIR:-/var/cache/podman-remote-tests}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
key="$(sha256sum "$script" | cut -c1-16)"
out="$CACHE_DIR/machine-debian-$key.qcow2"

if [ -s "$out" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "$out"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "build.sh: must run as root (debootstrap, chroot); try: sudo $0" >&2
    exit 125
fi
for tool in debootstrap mkfs.ext4 mkfs.fat mcopy mmd sfdisk qemu-img podman busybox; do
    command -v "$tool" >/dev/null || {
        echo "build.sh: $tool is missing; install with scripts/install-deps.sh" >&2
        exit 125
    }
done
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -f "$SDBOOT" ] || { echo "build.sh: $SDBOOT missing; apt-get install systemd-boot-efi" >&2; exit 125; }

mkdir -p "$CACHE_DIR/debs"
# One build at a time: concurrent test binaries may all find the cache missing.
exec 9>"$CACHE_DIR/build.lock"
flock 9
if [ -s "$out" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "$out"
    exit 0
fi

work="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
cleanup() {
    # Never leave a chroot's bind mounts behind (none are made, but debootstrap may on failure).
    umount -R "$work/root/proc" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
root="$work/root"

pkgs=linux-image-cloud-amd64,initramfs-tools,zstd,systemd-sysv,udev,dbus,libpam-systemd,kmod
pkgs+=,iproute2,procps,openssh-server,ca-certificates,podman,crun,conmon,netavark,aardvark-dns
pkgs+=,iptables,catatonit,uidmap,slirp4netns,dbus-user-session,jq,sudo,systemd-timesyncd
# debootstrap does not resolve virtual packages: cloud-init's python3-cryptography needs cffi's.
pkgs+=,cloud-init,python3-cffi-backend
echo "build.sh: debootstrap (1-2 min)" >&2
debootstrap --variant=minbase --include="$pkgs" --cache-dir="$CACHE_DIR/debs" \
    bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -30 "$work/debootstrap.log" >&2
    echo "build.sh: debootstrap failed (is $MIRROR reachable?)" >&2
    exit 1
}

# --- configuration -----------------------------------------------------------------------------
cat >"$root/etc/fstab" <<'EOF'
LABEL=root / ext4 rw,x-systemd.growfs 0 1
EOF
mkdir -p "$root/etc/repart.d"
printf '[Partition]\nType=root\n' >"$root/etc/repart.d/50-root.conf"
echo machine >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 machine\n' >"$root/etc/hosts"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/50-dhcp.network" <<'EOF'
[Match]
Name=en* eth*
[Network]
DHCP=yes
EOF
rm -f "$root/etc/resolv.conf"
echo "nameserver 10.0.2.3" >"$root/etc/resolv.conf"

chroot "$root" useradd -m -u 1000 -s /bin/bash -G sudo core
echo "core ALL=(ALL) NOPASSWD: ALL" >"$root/etc/sudoers.d/core"
chmod 0440 "$root/etc/sudoers.d/core"
echo "core:100000:65536" >"$root/etc/subuid"
echo "core:100000:65536" >"$root/etc/subgid"
mkdir -p "$root/var/lib/systemd/linger"
touch "$root/var/lib/systemd/linger/core"
chroot "$root" passwd -l root >/dev/null

cat >"$root/etc/ssh/sshd_config.d/10-machine.conf" <<'EOF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
EOF
rm -f "$root"/etc/ssh/ssh_host_*

mkdir -p "$root/etc/containers"
# Root finds the preloaded image in a read-only additional store. Rootless users cannot run from
# it (its root-owned layers are unmapped in their user namespace, so the engine cannot create
# /run/.containerenv and the like in the container), so each user gets a copy in their own store
# owned by themselves (container uid 0), from /etc/skel for users made at provisioning. Their own
# storage.conf keeps rootless engines from reading the system one's additional store.
cat >"$root/etc/containers/storage.conf" <<'EOF'
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
[storage.options]
additionalimagestores = ["/usr/lib/containers/storage"]
EOF
for d in "$root/etc/skel" "$root/home/core"; do
    mkdir -p "$d/.config/containers"
    printf '[storage]\ndriver = "overlay"\n' >"$d/.config/containers/storage.conf"
done
chroot "$root" chown -R core:core /home/core/.config
printf '[network]\nnetwork_backend = "netavark"\n' >"$root/etc/containers/containers.conf"

# The provisioning agent: Ignition (fw_cfg) first, then a NoCloud seed, once per machine.
mkdir -p "$root/usr/local/lib/machine-provision"
# One jq run turns the Ignition JSON into shell calls: under TCG every process costs ~0.5 s.
cat >"$root/usr/local/lib/machine-provision/ign2sh.jq" <<'EOF'
def q: tostring | @sh;
def flag(f): if f == null then "" else (f | tostring) end;
((.passwd.users // [])[] | select(.shouldExist != false) |
  "ign_user \(.name|q) \(flag(.uid)|q) \(((.groups // []) | join(","))|q) \(((.sshAuthorizedKeys // []) | join("\n"))|q)"),
((.storage.directories // [])[] |
  "ign_dir \(.path|q) \((.mode // 493)|q) \((.user.name // "root")|q) \((.group.name // .user.name // "root")|q)"),
((.storage.files // [])[] |
  "ign_file \(.path|q) \((.mode // 420)|q) \((.user.name // "root")|q) \((.group.name // .user.name // "root")|q) \((.contents.source // "data:,")|q)"),
((.storage.links // [])[] |
  "ign_link \(.path|q) \(.target|q)"),
((.systemd.units // [])[] |
  "ign_unit \(.name|q) \(flag(.enabled)|q) \(flag(.mask)|q) \((if has("contents") then "1" else "0" end)|q) \((.contents // "")|q)")
EOF
cat >"$root/usr/local/sbin/machine-provision" <<'EOF'
#!/bin/bash
# Applies podman machine's Ignition subset (passwd.users, storage.directories/files/links,
# systemd.units; data: URLs) from fw_cfg. A NoCloud `cidata` seed is cloud-init's job when it is
# installed; without it, only the seed's SSH keys are applied here.
set -u
ign=/sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config/raw
log() { echo "machine-provision: $*" >&2; }
decode_url() {
    case "$1" in
    data:*\;base64,*) printf '%s' "${1#*;base64,}" | base64 -d ;;
    data:,*) local s="${1#data:,}"; printf '%b' "${s//%/\\x}" ;;
    *) log "unsupported source ${1:0:40}"; return 1 ;;
    esac
}
START_UNITS=()
ign_user() {
    local name=$1 uid=$2 groups=$3 keys=$4 home g
    if ! id "$name" >/dev/null 2>&1; then
        useradd -m -s /bin/bash ${uid:+-u "$uid"} "$name"
        echo "$name ALL=(ALL) NOPASSWD: ALL" >"/etc/sudoers.d/90-$name"
        chmod 0440 "/etc/sudoers.d/90-$name"
    fi
    for g in ${groups//,/ }; do
        getent group "$g" >/dev/null && usermod -aG "$g" "$name"
    done
    home=$(getent passwd "$name" | cut -d: -f6)
    install -d -m 0700 -o "$name" -g "$(id -g "$name")" "$home/.ssh"
    printf '%s\n' "$keys" >"$home/.ssh/authorized_keys"
    chown "$name:$(id -g "$name")" "$home/.ssh/authorized_keys"
    chmod 0600 "$home/.ssh/authorized_keys"
}
ign_dir() {
    mkdir -p "$1"
    chmod "$(printf '%o' "$2")" "$1"
    chown "$3:$4" "$1" 2>/dev/null || true
}
ign_file() {
    local path=$1
    mkdir -p "${path%/*}"
    decode_url "$5" >"$path.tmp" || { rm -f "$path.tmp"; return 0; }
    chmod "$(printf '%o' "$2")" "$path.tmp"
    chown "$3:$4" "$path.tmp" 2>/dev/null || true
    mv -f "$path.tmp" "$path"
}
ign_link() {
    mkdir -p "${1%/*}"
    ln -sfn "$2" "$1"
}
ign_unit() {
    [ "$4" = 1 ] && printf '%s' "$5" >"/etc/systemd/system/$1"
    case "$2" in
    true) START_UNITS+=("$1") ;;
    false) systemctl --no-reload disable "$1" 2>/dev/null || true ;;
    esac
    [ "$3" = true ] && systemctl --no-reload mask "$1"
    return 0
}
apply_ignition() {
    local script
    jq -e '.ignition.version | startswith("3.")' "$1" >/dev/null || { log "not Ignition v3"; return 1; }
    script=$(jq -r -f /usr/local/lib/machine-provision/ign2sh.jq "$1") || return 1
    eval "$script"
    # One reload: each reload reruns the generators, cloud-init's ds-identify among them, which
    # costs seconds under TCG.
    systemctl daemon-reload
    for u in "${START_UNITS[@]}"; do
        systemctl --no-reload enable "$u" 2>/dev/null || true
        # Ignition enables units before systemd's first transaction; here boot is under way.
        systemctl start --no-block "$u" || true
    done
    return 0
}
apply_nocloud() {
    local dev dir keys ud
    dev=$(blkid -L cidata 2>/dev/null || blkid -L CIDATA 2>/dev/null) || return 1
    dir=$(mktemp -d)
    mount -o ro "$dev" "$dir" || return 1
    ud=$(tail -n +2 "$dir/user-data")
    # podman-remote writes user-data as JSON after the #cloud-config line; YAML lists too.
    if jq -e . >/dev/null 2>&1 <<<"$ud"; then
        keys=$(jq -r '[.ssh_authorized_keys[]?, .users[]?.ssh_authorized_keys[]?] | unique | .[]' <<<"$ud")
        if jq -e '.ssh_keys.ed25519_private' >/dev/null 2>&1 <<<"$ud"; then
            (umask 077; jq -r '.ssh_keys.ed25519_private' <<<"$ud" >/etc/ssh/ssh_host_ed25519_key)
            jq -r '.ssh_keys.ed25519_public' <<<"$ud" >/etc/ssh/ssh_host_ed25519_key.pub
        fi
    else
        keys=$(sed -n 's/^ *- *\(ssh-[a-z0-9-]* .*\)$/\1/p' "$dir/user-data")
    fi
    [ -f "$dir/meta-data" ] && sed -n 's/^local-hostname: *//p' "$dir/meta-data" | head -1 >/etc/hostname
    umount "$dir"
    for h in /root /home/core; do
        install -d -m 0700 "$h/.ssh"
        printf '%s\n' "$keys" >"$h/.ssh/authorized_keys"
        chmod 0600 "$h/.ssh/authorized_keys"
    done
    chown -R core:core /home/core/.ssh
}
modprobe qemu_fw_cfg 2>/dev/null || true
if [ -r "$ign" ]; then
    tmp=$(mktemp)
    cat "$ign" >"$tmp"
    apply_ignition "$tmp" && log "applied Ignition config"
    rm -f "$tmp"
elif [ -x /usr/bin/cloud-init ] && { blkid -L cidata || blkid -L CIDATA; } >/dev/null 2>&1; then
    # cloud-init's ssh module installs the seed's host key; one made here would be thrown away.
    log "NoCloud seed left to cloud-init"
    mkdir -p /var/lib/machine && touch /var/lib/machine/provisioned
    exit 0
elif apply_nocloud; then
    log "applied NoCloud seed"
else
    log "no Ignition config and no cidata seed"
fi
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
mkdir -p /var/lib/machine && touch /var/lib/machine/provisioned
EOF
chmod 0755 "$root/usr/local/sbin/machine-provision"

cat >"$root/etc/systemd/system/machine-provision.service" <<'EOF'
[Unit]
Description=Apply the machine's Ignition config or NoCloud seed (first boot)
ConditionPathExists=!/var/lib/machine/provisioned
After=local-fs.target systemd-remount-fs.service
Before=ssh.service user@1000.service systemd-user-sessions.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/machine-provision
RemainAfterExit=yes
[Install]
WantedBy=multi-user.target
EOF
# Fallback ready signal for images provisioned without podman's ready unit (NoCloud).
cat >"$root/etc/systemd/system/machine-ready.service" <<'EOF'
[Unit]
Description=Tell the host the machine is ready (virtio-serial)
After=ssh.service podman.socket machine-provision.service cloud-init.service
# Ignition's own ready unit does it when the config brought one.
ConditionPathExists=!/etc/systemd/system/ready.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'p=/dev/virtio-ports/org.fedoraproject.port.0; for i in $(seq 60); do [ -e $p ] && break; sleep 0.5; done; timeout 20 sh -c "echo Ready >$p"'
[Install]
WantedBy=multi-user.target
EOF
chroot "$root" systemctl enable machine-provision.service machine-ready.service systemd-networkd.service \
    podman.socket ssh.service systemd-timesyncd.service >/dev/null 2>&1
chroot "$root" systemctl --global enable podman.socket >/dev/null 2>&1

# cloud-init: NoCloud only, and only when a seed is attached. ds-identify treats a list of one
# source (plus None) as "always that one", so a second local source keeps it searching; finding
# neither, it disables cloud-init for the boot (x86_64 default policy notfound=disabled).
# The module lists keep what podman-remote's user-data uses: under TCG each one costs.
cat >"$root/etc/cloud/cloud.cfg.d/90-machine.cfg" <<'EOF'
datasource_list: [NoCloud, ConfigDrive, None]
cloud_init_modules: [seed_random, bootcmd, write-files, set_hostname, update_hostname,
  update_etc_hosts, ca-certs, users-groups, ssh]
cloud_config_modules: [set-passwords, timezone, runcmd]
cloud_final_modules: [write-files-deferred, scripts-per-once, scripts-per-boot,
  scripts-per-instance, scripts-user, ssh-authkey-fingerprints, final-message]
EOF
chroot "$root" systemctl disable cloud-init-hotplugd.socket >/dev/null 2>&1 || true
# Debian enables podman-auto-update.service itself at boot, not only its timer (~10 s of CPU).
chroot "$root" systemctl disable podman.service podman-auto-update.timer podman-auto-update.service \
    podman-restart.service systemd-networkd-wait-online.service apt-daily.timer \
    apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
# Under TCG each of these early modprobes costs seconds; nothing here needs them at boot (the
# kernel still loads loop/dm on first use).
chroot "$root" systemctl mask modprobe@efi_pstore.service modprobe@dm_mod.service \
    modprobe@loop.service modprobe@drm.service >/dev/null 2>&1

cat >"$root/etc/initramfs-tools/modules" <<'EOF'
virtio_pci
virtio_blk
virtio_scsi
virtio_net
virtio_console
ext4
EOF
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
sed -i 's/^COMPRESS=.*/COMPRESS=zstd/' "$root/etc/initramfs-tools/initramfs.conf"
chroot "$root" update-initramfs -u -k all >/dev/null 2>&1

# --- preloaded image: busybox-static as localhost/busybox ----------------------------------------
bb="$work/busybox"
# The usual top-level directories, as in a distribution's base image.
mkdir -p "$bb/bin" "$bb/etc" "$bb/proc" "$bb/sys" "$bb/dev" "$bb/run" "$bb/var" "$bb/root"
install -d -m 1777 "$bb/tmp"
ln -s /proc/mounts "$bb/etc/mtab"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$bb/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$bb/etc/group"
touch "$bb/etc/hosts" "$bb/etc/resolv.conf" "$bb/etc/hostname"
cp /bin/busybox "$bb/bin/busybox"
for applet in $("$bb/bin/busybox" --list); do
    [ -e "$bb/bin/$applet" ] || ln -s busybox "$bb/bin/$applet"
done
tar -C "$bb" -cf "$work/busybox.tar" .
# podman refuses a runroot path longer than 50 characters.
runroot="$(mktemp -d /tmp/vmimg-rr.XXXXXX)"
podman --root "$root/usr/lib/containers/storage" --runroot "$runroot" \
    --storage-driver overlay import --change 'CMD ["/bin/sh"]' \
    "$work/busybox.tar" localhost/busybox:latest >/dev/null 2>&1
rm -rf "$runroot"
# The libpod database records build-host paths; the guest makes its own.
rm -rf "$root/usr/lib/containers/storage/libpod" "$root/usr/lib/containers/storage/db.sql"
chmod -R a+rX "$root/usr/lib/containers/storage"
chmod 0755 "$root/usr/lib/containers"
# Each user's own copy: rootless storage keeps container uid 0 as the user's uid, and every file
# of this image is uid 0, so the copy owned by the user is what the engine would have made.
# useradd -m gives later users /etc/skel's copy owned by them.
for d in "$root/etc/skel" "$root/home/core"; do
    mkdir -p "$d/.local/share/containers"
    cp -a "$root/usr/lib/containers/storage" "$d/.local/share/containers/storage"
done
chroot "$root" chown -R core:core /home/core/.local

# --- trim ----------------------------------------------------------------------------------------
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb

# --- disk: GPT [ESP | root], built from files --------------------------------------------------
kver=$(basename "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)" | sed 's/^vmlinuz-//')
esp="$work/esp.img"
mkfs.fat -C -n ESP "$esp" $((64 * 1024)) >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$esp" "$SDBOOT" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$root/boot/vmlinuz-$kver" ::/vmlinuz
mcopy -i "$esp" "$root/boot/initrd.img-$kver" ::/initrd.img
printf 'default debian.conf\ntimeout 0\n' >"$work/loader.conf"
cat >"$work/debian.conf" <<EOF
title Debian (podman machine)
linux /vmlinuz
initrd /initrd.img
options root=LABEL=root rw console=ttyS0,115200 quiet systemd.show_status=0
EOF
mcopy -i "$esp" "$work/loader.conf" ::/loader/loader.conf
mcopy -i "$esp" "$work/debian.conf" ::/loader/entries/debian.conf

used_mb=$(du -sm "$root" | cut -f1)
root_mb=$((used_mb * 13 / 10 + 300))
rootimg="$work/root.ext4"
mkfs.ext4 -q -L root -d "$root" "$rootimg" "${root_mb}M" >&2

disk="$work/disk.raw"
total_mb=$((1 + 64 + root_mb + 1))
truncate -s "${total_mb}M" "$disk"
sfdisk -q "$disk" <<EOF
label: gpt
start=1MiB, size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=65MiB, size=${root_mb}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root
EOF
dd if="$esp" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$rootimg" of="$disk" bs=1M seek=65 conv=notrunc,sparse status=none
qemu-img convert -O qcow2 "$disk" "$work/disk.qcow2"
mv -f "$work/disk.qcow2" "$out"
# Older builds of other recipes stay until removed by hand; the key keeps them apart.
echo "$out"
