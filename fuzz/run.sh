#!/usr/bin/env bash
# Runs every fuzz target for a bounded number of inputs from the committed seed corpus, as CI
# does: `fuzz/run.sh [TARGET...]`. FUZZ_RUNS (default 10000) sets the inputs per target.
#
# The toolchain is stable; cargo-fuzz needs nightly-only flags (-Zsanitizer, sancov), which
# RUSTC_BOOTSTRAP=1 unlocks on stable. New inputs libFuzzer finds go to a scratch corpus, so
# the committed seeds stay small; a crash leaves its reproducer in fuzz/artifacts/TARGET/.
# Reproduce one with `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…`.
#
# Prints one line per target (runs, seconds, verdict) and closes with
# "fuzz: N passed, M failed"; the exit status is non-zero when a target failed.
set -uo pipefail
cd "$(dirname "$0")"
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
export RUSTC_BOOTSTRAP=1

runs=${FUZZ_RUNS:-10000}
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | tail -n +2)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is not installed (scripts/install-deps.sh installs it: cargo install cargo-fuzz --locked)" >&2
    echo "fuzz: 0 passed, ${#targets[@]} failed"
    exit 1
fi

# One build for all targets (release, debug assertions, AddressSanitizer).
if ! cargo fuzz build >build.log 2>&1; then
    tail -n 40 build.log >&2
    echo "fuzz: build failed (full log: fuzz/build.log)" >&2
    echo "fuzz: 0 passed, ${#targets[@]} failed"
    exit 1
fi
rm -f build.log

work=$(mktemp -d)
# Files the targets write (connection files, known_hosts) go to tmpfs when there is one.
FUZZ_SCRATCH=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
export FUZZ_SCRATCH
trap 'rm -rf "$work" "$FUZZ_SCRATCH"' EXIT
passed=0
failed=0
for target in "${targets[@]}"; do
    mkdir -p "$work/$target" "artifacts/$target"
    log="$work/$target.log"
    start=$EPOCHREALTIME
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway allocation is a bug;
    # -max_len keeps inputs the size of real files, the seeds included.
    cargo fuzz run "$target" "$work/$target" "corpus/$target" -- \
        -runs="$runs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1
    status=$?
    secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'fuzz %-15s ok      %8s runs  %6s s\n' "$target" "${done_runs:-?}" "$secs"
    else
        failed=$((failed + 1))
        printf 'fuzz %-15s FAILED  %8s runs  %6s s (exit %s)\n' "$target" "${done_runs:-?}" "$secs" "$status"
        grep -E "panicked|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY|Test unit written" "$log" | head -n 10 | sed 's/^/    /'
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
