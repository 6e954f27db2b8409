#!/bin/sh
# Installs podman-remote on Linux or macOS from a release archive (local file or URL),
# after checking it against SHA256SUMS. Nothing is changed unless every step before the
# final renames succeeded. Run with --help for the options.
set -eu

PROG=install.sh
MANIFEST_REL=share/podman-remote/install-manifest

usage() {
    cat <<'EOF'
Usage: install.sh [options]
       install.sh --uninstall [--prefix DIR | --system]

Install podman-remote from a release archive, verified against its SHA256SUMS.

Source (one of):
  --archive FILE     a local podman-remote-<version>-<os>-<arch>.tar.gz
  --url URL          a release directory (containing SHA256SUMS and the archives)
                     or the URL of one archive; http(s):// or file://
  (default: the archive for this machine next to this script)

Checksum:
  --sums FILE|URL    the SHA256SUMS to check against (default: the one next to
                     the archive)
  --sha256 HEX       the expected checksum, instead of a SHA256SUMS file

Where:
  --prefix DIR       install into DIR/bin, DIR/share (default: ~/.local)
  --system           install into /usr/local (needs root)

What:
  --link-podman      also make `podman` run podman-remote
  --link-docker      also make `docker` run podman-remote
  --no-completions   skip the bash, zsh and fish completions
  --no-man           skip the man pages
  --force            replace files that another installation put there
  --uninstall        remove what a previous install.sh run installed
  -h, --help         show this help
EOF
}

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

say() {
    printf '%s: %s\n' "$PROG" "$*" >&2
}

ARCHIVE="" URL="" SUMS="" SHA256="" PREFIX="" SYSTEM=0
LINK_PODMAN=0 LINK_DOCKER=0 COMPLETIONS=1 MAN=1 FORCE=0 UNINSTALL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --archive) [ $# -ge 2 ] || die "--archive needs a file"; ARCHIVE=$2; shift ;;
        --archive=*) ARCHIVE=${1#*=} ;;
        --url) [ $# -ge 2 ] || die "--url needs a URL"; URL=$2; shift ;;
        --url=*) URL=${1#*=} ;;
        --sums) [ $# -ge 2 ] || die "--sums needs a file or URL"; SUMS=$2; shift ;;
        --sums=*) SUMS=${1#*=} ;;
        --sha256) [ $# -ge 2 ] || die "--sha256 needs a checksum"; SHA256=$2; shift ;;
        --sha256=*) SHA256=${1#*=} ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift ;;
        --prefix=*) PREFIX=${1#*=} ;;
        --system) SYSTEM=1 ;;
        --link-podman) LINK_PODMAN=1 ;;
        --link-docker) LINK_DOCKER=1 ;;
        --no-completions) COMPLETIONS=0 ;;
        --no-man) MAN=0 ;;
        --force) FORCE=1 ;;
        --uninstall) UNINSTALL=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
done

if [ -n "$PREFIX" ] && [ "$SYSTEM" = 1 ]; then
    die "give either --prefix or --system, not both"
fi
if [ "$SYSTEM" = 1 ]; then
    PREFIX=/usr/local
elif [ -z "$PREFIX" ]; then
    [ -n "${HOME:-}" ] || die "HOME is not set: give --prefix DIR"
    PREFIX=$HOME/.local
fi
case "$PREFIX" in
    /*) ;;
    *) PREFIX=$(pwd)/$PREFIX ;;
esac
PREFIX=${PREFIX%/}
MANIFEST=$PREFIX/$MANIFEST_REL

# ---------------------------------------------------------------- uninstall

# Removes the now empty directories above $1, up to (not including) the prefix.
prune_dirs() {
    d=$(dirname "$1")
    while [ "$d" != "$PREFIX" ] && [ "${d#"$PREFIX"/}" != "$d" ]; do
        rmdir "$d" 2>/dev/null || break
        d=$(dirname "$d")
    done
}

if [ "$UNINSTALL" = 1 ]; then
    [ -f "$MANIFEST" ] || die "no podman-remote installed by install.sh in $PREFIX ($MANIFEST not found); give the --prefix used to install"
    while IFS= read -r rel; do
        [ -n "$rel" ] || continue
        case "$rel" in
            /*|*..*) die "refusing a suspicious manifest entry: $rel" ;;
        esac
        if [ -e "$PREFIX/$rel" ] || [ -L "$PREFIX/$rel" ]; then
            rm -f "$PREFIX/$rel"
        fi
        prune_dirs "$PREFIX/$rel"
    done <"$MANIFEST"
    rm -f "$MANIFEST"
    prune_dirs "$MANIFEST"
    say "removed podman-remote from $PREFIX"
    exit 0
fi

# ---------------------------------------------------------------- platform

case "$(uname -s)" in
    Linux) OS=linux ;;
    Darwin) OS=macos ;;
    *) die "unsupported system $(uname -s): podman-remote releases exist for Linux, macOS and Windows (install.ps1)" ;;
esac
case "$(uname -m)" in
    x86_64|amd64) ARCH=x86_64 ;;
    aarch64|arm64) ARCH=aarch64 ;;
    *) die "unsupported architecture $(uname -m): releases exist for x86_64 and aarch64" ;;
esac
SUFFIX="-$OS-$ARCH.tar.gz"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    elif command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha256 -r "$1" | cut -d' ' -f1
    else
        die "need sha256sum, shasum or openssl to verify the download"
    fi
}

fetch() { # URL DEST
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --proto '=https,file,http' -o "$2" "$1" || die "downloading $1 failed"
    elif command -v wget >/dev/null 2>&1; then
        case "$1" in
            file://*) cp "${1#file://}" "$2" || die "reading $1 failed" ;;
            *) wget -q -O "$2" "$1" || die "downloading $1 failed" ;;
        esac
    else
        die "need curl or wget to download $1"
    fi
}

# Everything temporary lives here and goes away however the script ends.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/podman-remote-install.XXXXXX") || die "cannot create a temporary directory"
STAGE=""
cleanup() {
    rm -rf "$WORK"
    if [ -n "$STAGE" ]; then
        rm -rf "$STAGE"
    fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# ---------------------------------------------------------------- source

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
if [ -n "$URL" ] && [ -n "$ARCHIVE" ]; then
    die "give either --archive or --url, not both"
fi
if [ -n "$URL" ]; then
    case "$URL" in
        *.tar.gz)
            NAME=${URL##*/}
            BASE=${URL%/*}
            ;;
        *)
            BASE=${URL%/}
            NAME=""
            ;;
    esac
    if [ -z "$SHA256" ] && [ -z "$SUMS" ]; then
        SUMS=$BASE/SHA256SUMS
    fi
    if [ -z "$NAME" ]; then
        # The release directory's SHA256SUMS names the archive for this machine.
        [ -n "$SUMS" ] || die "with --sha256, give --url the archive's own URL"
        fetch "$SUMS" "$WORK/SHA256SUMS"
        SUMS=$WORK/SHA256SUMS
        NAME=$(awk -v s="$SUFFIX" '{ n = $2; sub(/^\*/, "", n) } length(n) > length(s) && substr(n, length(n) - length(s) + 1) == s && n ~ /^podman-remote-/ { print n }' "$SUMS" | sort | tail -n 1)
        [ -n "$NAME" ] || die "the release at $BASE has no archive for $OS-$ARCH (no *$SUFFIX in its SHA256SUMS)"
    fi
    say "downloading $BASE/$NAME"
    fetch "$BASE/$NAME" "$WORK/$NAME"
    ARCHIVE=$WORK/$NAME
elif [ -z "$ARCHIVE" ]; then
    for f in "$SCRIPT_DIR"/podman-remote-*"$SUFFIX"; do
        [ -f "$f" ] && ARCHIVE=$f
    done
    [ -n "$ARCHIVE" ] || die "no archive given and no podman-remote-*$SUFFIX next to $PROG: use --archive FILE or --url URL"
fi
[ -f "$ARCHIVE" ] || die "archive $ARCHIVE not found"
NAME=$(basename "$ARCHIVE")
case "$NAME" in
    podman-remote-*"$SUFFIX") ;;
    *) die "$NAME is not a podman-remote release archive for this machine (expected podman-remote-<version>$SUFFIX)" ;;
esac
TOP=${NAME%.tar.gz}

# ---------------------------------------------------------------- verify

if [ -z "$SHA256" ]; then
    if [ -z "$SUMS" ]; then
        SUMS=$(dirname "$ARCHIVE")/SHA256SUMS
        [ -f "$SUMS" ] || die "no SHA256SUMS next to $ARCHIVE: give --sums FILE or --sha256 HEX (refusing to install an unverified archive)"
    fi
    case "$SUMS" in
        *://*)
            fetch "$SUMS" "$WORK/SHA256SUMS.remote"
            SUMS=$WORK/SHA256SUMS.remote
            ;;
    esac
    [ -f "$SUMS" ] || die "checksum file $SUMS not found"
    SHA256=$(awk -v n="$NAME" '$2 == n || $2 == "*" n { print $1; exit }' "$SUMS")
    [ -n "$SHA256" ] || die "$SUMS has no checksum for $NAME (refusing to install an unverified archive)"
fi
ACTUAL=$(sha256_of "$ARCHIVE")
EXPECTED=$(printf '%s' "$SHA256" | tr 'A-F' 'a-f')
if [ "$ACTUAL" != "$EXPECTED" ]; then
    die "checksum mismatch for $NAME: expected $EXPECTED, got $ACTUAL. The archive is corrupt or was tampered with; nothing was installed. Download it again."
fi
say "verified $NAME (sha256 $ACTUAL)"

# ---------------------------------------------------------------- stage

# Unpack next to the destination so that the final moves are renames on one filesystem.
# Creating the prefix is the first change made; it is undone if anything fails.
CREATED_PREFIX=""
if [ ! -d "$PREFIX" ]; then
    mkdir -p "$PREFIX" || die "cannot create $PREFIX"
    CREATED_PREFIX=$PREFIX
fi
[ -w "$PREFIX" ] || die "$PREFIX is not writable (use --prefix DIR, or run --system as root)"
STAGE=$(mktemp -d "$PREFIX/.podman-remote-stage.XXXXXX") || die "cannot create a staging directory in $PREFIX"
fail() {
    # Undo the renames done so far, newest first, then report.
    if [ -f "$WORK/done" ]; then
        awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$WORK/done" | while IFS= read -r rel; do
            if [ -e "$WORK/old/$rel" ] || [ -L "$WORK/old/$rel" ]; then
                mv -f "$WORK/old/$rel" "$PREFIX/$rel"
            else
                rm -f "$PREFIX/$rel"
                prune_dirs "$PREFIX/$rel"
            fi
        done
    fi
    rm -rf "$STAGE"
    STAGE=""
    if [ -n "$CREATED_PREFIX" ]; then
        rmdir "$CREATED_PREFIX" 2>/dev/null || true
    fi
    die "$* (nothing was installed)"
}
if ! tar -xzf "$ARCHIVE" -C "$STAGE" 2>"$WORK/tar.err"; then
    fail "unpacking $NAME failed: $(grep -v "^ *$" "$WORK/tar.err" | head -n 3 | tr "\n" " ")"
fi
[ -f "$STAGE/$TOP/bin/podman-remote" ] || fail "$NAME does not contain $TOP/bin/podman-remote"
if ! "$STAGE/$TOP/bin/podman-remote" --version >"$WORK/version" 2>&1; then
    fail "the unpacked podman-remote does not run on this machine: $(head -n 1 "$WORK/version")"
fi

# The file list: relative paths of what goes into the prefix.
(cd "$STAGE/$TOP" && find bin share -type f 2>/dev/null | LC_ALL=C sort) >"$WORK/files.all"
: >"$WORK/files"
while IFS= read -r rel; do
    case "$rel" in
        share/bash-completion/*|share/zsh/*|share/fish/*) [ "$COMPLETIONS" = 1 ] || continue ;;
        share/man/*) [ "$MAN" = 1 ] || continue ;;
    esac
    printf '%s\n' "$rel" >>"$WORK/files"
done <"$WORK/files.all"
for name in podman docker; do
    eval "want=\$LINK_$(printf '%s' "$name" | tr 'a-z' 'A-Z')"
    if [ "$want" = 1 ]; then
        ln -s podman-remote "$STAGE/$TOP/bin/$name"
        printf '%s\n' "bin/$name" >>"$WORK/files"
    fi
done
printf '%s\n' "$MANIFEST_REL" >>"$WORK/files"

# Refuse to overwrite what we did not install, before changing anything.
touch "$WORK/previous"
if [ -f "$MANIFEST" ]; then
    cp "$MANIFEST" "$WORK/previous"
fi
while IFS= read -r rel; do
    dest=$PREFIX/$rel
    if { [ -e "$dest" ] || [ -L "$dest" ]; } && ! grep -qxF "$rel" "$WORK/previous" && [ "$FORCE" = 0 ]; then
        fail "$dest exists and was not installed by $PROG; remove it or use --force"
    fi
done <"$WORK/files"

# The manifest goes into the staged tree like any other file.
mkdir -p "$STAGE/$TOP/$(dirname "$MANIFEST_REL")"
cp "$WORK/files" "$STAGE/$TOP/$MANIFEST_REL"

# ---------------------------------------------------------------- install

# Each file is renamed into place; the file it replaces is kept aside until the end so that
# a failure puts everything back as it was.
mkdir -p "$WORK/old"
: >"$WORK/done"
while IFS= read -r rel; do
    dest=$PREFIX/$rel
    mkdir -p "$(dirname "$dest")" || fail "cannot create $(dirname "$dest")"
    if [ -e "$dest" ] || [ -L "$dest" ]; then
        mkdir -p "$(dirname "$WORK/old/$rel")"
        cp -P "$dest" "$WORK/old/$rel" || fail "cannot back up $dest"
    fi
    mv -f "$STAGE/$TOP/$rel" "$dest" || fail "cannot move $rel into $PREFIX"
    printf '%s\n' "$rel" >>"$WORK/done"
done <"$WORK/files"

# Files of an earlier version that this one no longer has.
while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    case "$rel" in /*|*..*) continue ;; esac
    if ! grep -qxF "$rel" "$WORK/files"; then
        rm -f "$PREFIX/$rel"
        prune_dirs "$PREFIX/$rel"
    fi
done <"$WORK/previous"

# Done: the staging directory goes before anything is printed (a closed stdout must not
# leave it behind).
rm -rf "$STAGE"
STAGE=""

say "installed $(head -n 1 "$WORK/version") into $PREFIX"
case ":${PATH:-}:" in
    *":$PREFIX/bin:"*) ;;
    *) say "add $PREFIX/bin to your PATH" ;;
esac
if [ "$SYSTEM" = 0 ] && grep -q '^share/zsh/' "$WORK/files"; then
    say "zsh: add $PREFIX/share/zsh/site-functions to fpath for completions"
fi
