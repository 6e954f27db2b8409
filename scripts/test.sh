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

# Every fuzz target for a bounded number of inputs from its seed corpus (fuzz/run.sh); each
# target counts as one test in the summary.
fuzz_log=$(mktemp)
fuzz/run.sh 2>&1 | tee "$fuzz_log"
fuzz_status=${PIPESTATUS[0]}
[ "$fuzz_status" -eq 0 ] || status=$fuzz_status
read -r fuzz_passed fuzz_failed < <(awk '/^fuzz: [0-9]+ passed, [0-9]+ failed$/ { p = $2; f = $4 }
    END { print p + 0, f + 0 }' "$fuzz_log")
rm -f "$fuzz_log"
# A run that died before its summary still counts as a failure.
if [ "$fuzz_status" -ne 0 ] && [ "$fuzz_failed" -eq 0 ]; then
    fuzz_failed=1
fi

read -r passed failed < <(awk '/^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i) ~ /^passed;?$/) p += $(i-1)
            if ($(i) ~ /^failed;?$/) f += $(i-1)
        }
    } END { print p + 0, f + 0 }' "$log")
passed=$((passed + fuzz_passed))
failed=$((failed + fuzz_failed))
echo
echo "tests: $passed passed, $failed failed"
exit "$status"
