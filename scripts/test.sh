#!/usr/bin/env bash
# The whole test suite, as CI runs it: build the binaries the end-to-end tests drive,
# compile-check Windows, run every unit and e2e test, and close with one summary line
# ("tests: N passed, M failed") counted over all test binaries.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

# The e2e tests run target/debug/podman-remote, which `cargo test` does not build for
# another package; Windows code sits behind cfg and must keep compiling.
cargo build --workspace --bins || exit 125
cargo check --workspace --target x86_64-pc-windows-gnu || exit 125

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --no-fail-fast -- --test-threads=4 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

read -r passed failed < <(awk '/^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i) ~ /^passed;?$/) p += $(i-1)
            if ($(i) ~ /^failed;?$/) f += $(i-1)
        }
    } END { print p + 0, f + 0 }' "$log")
echo
echo "tests: $passed passed, $failed failed"
exit "$status"
