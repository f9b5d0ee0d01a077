#!/bin/sh
# Whole-process LeNet-5 epochs on Fashion-MNIST, FP32 vs static 8/8 vs
# static 4/4 (VNNI where the CPU has it, and forced onto the AVX2 kernels as
# on a CPU without VNNI), in one run, with 2 threads (docs/trainer.md, "Speed").
# Usage: scripts/bench_trainer_epoch.sh [lpsim binary]
# Prints: schedule, GEMM kernel, wall seconds, user CPU seconds, and the
# ratio to the FP32 epoch of the same run. Needs GNU time (/usr/bin/time).
set -eu
LPSIM=${1:-build/tools/lpsim}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
run() {  # schedule kernel
  /usr/bin/time -f "%e %U" -o "$OUT/time" "$LPSIM" train --model lenet5 --dataset fashion-mnist \
    --epochs 1 --threads 2 --schedule "$1" --gemm-kernel "$2" -q -o "$OUT/run.lpt"
  cat "$OUT/time"
}
printf '%-12s %-10s %8s %8s %8s\n' schedule kernel wall_s user_s vs_fp32
base=
for spec in static:fp32/auto static:8/8/auto static:8/8/reference static:4/4/auto static:8/8/avx2 static:4/4/avx2; do
  schedule=${spec%/*}
  kernel=${spec##*/}
  set -- $(run "$schedule" "$kernel")
  [ -z "$base" ] && base=$1
  printf '%-12s %-10s %8s %8s %8.2f\n' "$schedule" "$kernel" "$1" "$2" \
    "$(echo "$1 / $base" | bc -l)"
done
