#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/Package.swift and runs each for a set time, one after
# the other, seeded from Tests/Fixtures and from the regression corpus Tests/Fixtures/bad/fuzz.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]      (default: 600 seconds, every target)
#
# Targets: safetensors monitor-record csv idx gzip spec metrics-log tfevents (with or without "fuzz-").
# Environment: FUZZ_BUILD (build folder, default Fuzz/.build), FUZZ_FLAGS (extra libFuzzer flags),
# FUZZ_NO_BUILD=1 (run the targets already built there).
# Prints executions per second, corpus size and coverage per target; a crash, hang or
# out-of-memory input is saved under $FUZZ_BUILD/artifacts/TARGET/ and the script exits 1.
# Copy such an input into Tests/Fixtures/bad/fuzz/TARGET/ as a regression case once fixed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${FUZZ_BUILD:-$here/.build}"
mkdir -p "$build"
build="$(cd "$build" && pwd)"
seconds="${1:-600}"
shift || true
all=(safetensors monitor-record csv idx gzip spec metrics-log tfevents)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
echo "== building (debug, -sanitize=fuzzer,address) into $build" >&2
swift build --package-path "$here" --scratch-path "$build" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -g \
    -Xcc -fsanitize=fuzzer-no-link,address >&2
fi
bin="$(swift build --package-path "$here" --scratch-path "$build" --show-bin-path)"

# seeds TARGET DIR: copies the seed files for TARGET into DIR.
seeds() {
    local target="$1" dir="$2" f
    local fixtures="$root/Tests/Fixtures"
    case "$target" in
    safetensors) cp "$fixtures"/*.safetensors "$fixtures"/bad/safetensors_*.safetensors "$dir" ;;
    monitor-record) cp "$here"/seeds/monitor_record*.safetensors "$dir" ;;
    csv)  # The first byte selects the loader's options (see FuzzCSV.swift); 0 = the defaults.
        for f in "$fixtures"/specs/*.csv "$fixtures"/bad/data/*.csv "$fixtures"/data/*.csv.gz; do
            { printf '\0'; cat "$f"; } > "$dir/$(basename "$f")"
            { printf '\x11'; cat "$f"; } > "$dir/classes-$(basename "$f")"
        done ;;
    idx) cp "$fixtures"/data/*idx* "$fixtures"/bad/data/idx_* "$dir" ;;
    gzip) cp "$fixtures"/gzip/*.gz "$fixtures"/bad/data/gzip_* "$dir" ;;
    spec) cp "$fixtures"/specs/*.y*ml "$fixtures"/specs/*.json "$fixtures"/bad/spec/* "$dir" ;;
    metrics-log) cp "$here"/seeds/metrics.jsonl "$dir" ;;
    tfevents) cp "$here"/seeds/tfevents_*.tfevents "$dir" ;;  # made by seeds/make_tfevents.py
    *) echo "unknown target '$target' (expected one of: ${all[*]})" >&2; exit 64 ;;
    esac
    if [ -d "$fixtures/bad/fuzz/$target" ]; then
        cp "$fixtures/bad/fuzz/$target"/* "$dir" 2>/dev/null || true
    fi
}

export SWIFT_BACKTRACE=enable=no   # libFuzzer reports the crash; the backtracer would stall
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=0}"
status=0
summary=()
for target in "${targets[@]}"; do
    target="${target#fuzz-}"
    corpus="$build/corpus/$target"
    artifacts="$build/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    seeds "$target" "$corpus"
    log="$build/fuzz-$target.log"
    echo "== fuzz-$target for ${seconds}s (log: $log)" >&2
    set +e
    (cd "$root" && "$bin/fuzz-$target" "$corpus" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-}) > "$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    size=$(find "$corpus" -type f | wc -l)
    line=$(printf '%-16s %5ss  %10s execs  %7s exec/s  corpus %6s  cov %6s  %s' "$target" "$seconds" \
        "${runs:-?}" "${rate:-?}" "$size" "${cov:-?}" "$([ $rc -eq 0 ] && echo ok || echo "FINDING (exit $rc)")")
    echo "$line"
    summary+=("$line")
    if [ $rc -ne 0 ]; then
        status=1
        grep -m1 -E 'ERROR|Fatal error|deadly signal|timeout|out-of-memory' "$log" >&2 || true
        ls "$artifacts" >&2
    fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
