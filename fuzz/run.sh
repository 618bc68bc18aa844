#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and fails if any finds a crash.
#
#   fuzz/run.sh [seconds-per-target [target...]]      (default: 60 s, every target)
#
# cargo-fuzz drives libFuzzer with AddressSanitizer, which needs nightly compiler flags
# (-Zsanitizer); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them. Set FUZZ_SANITIZER=none
# to build without ASan (faster; coverage guidance is the same), FUZZ_DEV=1 to build unoptimised.
#
# The seed corpus in fuzz/corpus/<target>/ is read, never written: inputs libFuzzer finds go to
# fuzz/scratch/<target>/ (ignored by git). To keep good finds, minimise them into the seed corpus:
#   RUSTC_BOOTSTRAP=1 cargo fuzz cmin <target> corpus/<target>  (after copying scratch files in)
# A crash leaves its input in fuzz/artifacts/<target>/; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-address}"
# 16 codegen units: the whole postbase library is instrumented, and one unit makes that build
# several times slower for little gain in a run of a minute.
build_flags=(--sanitizer "$sanitizer" --codegen-units 16)
# FUZZ_DEV=1 builds unoptimised: about half the build time, for CI's one-minute runs.
if [ -n "${FUZZ_DEV:-}" ]; then
    build_flags+=(--dev)
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo fuzz build "${build_flags[@]}"

failed=()
targets=("$@")
if ((${#targets[@]} == 0)); then
    # Not `< <(cargo fuzz list)`: a failing list would be hidden and zero targets would "pass".
    listed=$(cargo fuzz list)
    mapfile -t targets <<<"$listed"
fi
if ((${#targets[@]} == 0)) || [ -z "${targets[0]}" ]; then
    echo "fuzz: no targets to run: that is a failure, not a pass" >&2
    exit 1
fi
for target in "${targets[@]}"; do
    echo "==== fuzz $target for ${seconds}s"
    mkdir -p "scratch/$target"
    log="scratch/$target.log"
    if cargo fuzz run "${build_flags[@]}" "$target" "scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        echo "$target: ok, ${execs:-?} executions, ${cov:-cov: ?}, 0 crashes"
    else
        tail -n 40 "$log"
        echo "$target: FAILED (input saved under fuzz/artifacts/$target/)"
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "fuzz: crashes in: ${failed[*]}"
    exit 1
fi
echo "fuzz: all targets ran ${seconds}s each without a crash"
