#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into ./build-fuzz and runs
# one or all of them for SECONDS each on their seed corpus:
#   bash scripts/fuzz.sh TARGET|all SECONDS
# A crash, an exception other than InputError, a leak, a hang (> 10 s on one
# input) or > 2 GB of memory fails the run; the reproducer is left in
# build-fuzz/findings/<target>/. New corpus entries go to build-fuzz/corpus/
# (the seeds under tests/fuzz/corpus/ stay as committed).
# LPSIM_FUZZ_DIR=dir builds and runs in another folder than build-fuzz (a
# second checkout of the fuzzers beside a long run); LPSIM_BUILD_JOBS=N sets
# the build's parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET|all SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET|all SECONDS}
jobs=${LPSIM_BUILD_JOBS:-2}
dir=${LPSIM_FUZZ_DIR:-build-fuzz}

targets=(fuzz_trace fuzz_trace_gz fuzz_arch fuzz_arch_set fuzz_energy_table fuzz_schedule
         fuzz_schedule_file fuzz_graph_json fuzz_graph_yaml fuzz_topology fuzz_idx fuzz_space
         fuzz_onnx)
if [[ $target != all ]]; then
  [[ $target == fuzz_* ]] || target=fuzz_$target
  printf '%s\n' "${targets[@]}" | grep -qx "$target" || {
    echo "scripts/fuzz.sh: unknown target $target (one of: ${targets[*]} all)" >&2
    exit 2
  }
  targets=("$target")
fi

if [[ ! -f $dir/build.ninja ]]; then
  CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLPSIM_FUZZ=ON -DLPSIM_BUILD_TESTS=OFF -DLPSIM_BUILD_BENCH=OFF \
    "-DCMAKE_CXX_FLAGS=-Wno-unknown-warning-option -Wno-c99-extensions" >/dev/null
fi
# fuzz_onnx exists only where libonnx-dev was found at configure time.
if ! grep -q 'fuzz_onnx' "$dir/build.ninja"; then
  kept=()
  for t in "${targets[@]}"; do [[ $t == fuzz_onnx ]] || kept+=("$t"); done
  ((${#kept[@]})) || { echo "scripts/fuzz.sh: fuzz_onnx needs libonnx-dev" >&2; exit 2; }
  targets=("${kept[@]}")
fi
cmake --build "$dir" -j "$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/sanitizers.supp:print_suppressions=0
status=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  corpus=$dir/corpus/$name
  findings=$dir/findings/$name
  mkdir -p "$corpus" "$findings"
  echo "== $t: ${seconds}s" >&2
  if ! nice -n 10 "$dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$findings/" "$corpus" "tests/fuzz/corpus/$name" \
      >"$dir/$name.log" 2>&1; then
    echo "scripts/fuzz.sh: $t found a problem; log $dir/$name.log, input in $findings/" >&2
    tail -n 40 "$dir/$name.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^Done' "$dir/$name.log" >&2 || true
  fi
done
exit $status
