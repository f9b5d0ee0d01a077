#!/usr/bin/env bash
# The speed target of `lpsim explore` (issue 6): 1,000 design points
# (tools/spaces/bench_1000.yaml) x 2 schedules (static 8/8, cyclic 3-8/8) for
# ResNet-74 / CIFAR-100 / 160 epochs, with 1 and with 2 worker processes.
# Prints wall and CPU seconds of each run, the 1 -> 2 jobs speed-up, and checks
# that both runs wrote the same file.
# TIMING=analytic times the closed-form timing instead of the SystemC one
# (docs/simulator.md); the default is explore's own default, systemc.
# Usage: [TIMING=systemc|analytic] scripts/bench_explore.sh [BUILD_DIR (default build)] [JOBS... (default 1 2)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
jobs=("$@")
((${#jobs[@]})) || jobs=(1 2)
lpsim=$build/tools/lpsim
[[ -x $lpsim ]] || { echo "bench_explore: $lpsim not built" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for s in static:8/8 cyclic:3-8/8; do
  "$lpsim" synth --model resnet74 --dataset cifar100 --epochs 160 --batch 128 --schedule "$s" \
    -q -o "$work/r74_${s%%:*}.lpt"
done
echo "timing: ${TIMING:-systemc}"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A wall
for j in "${jobs[@]}"; do
  /usr/bin/time -f "%e %U %S" -o "$work/time_$j" \
    "$lpsim" explore tools/spaces/bench_1000.yaml --trace "$work/r74_static.lpt" \
    --trace "$work/r74_cyclic.lpt" -o "$work/results_$j.csv" --jobs "$j" -q \
    --timing "${TIMING:-systemc}"
  read -r w u s <"$work/time_$j"
  wall[$j]=$w
  rows=$(($(wc -l <"$work/results_$j.csv") - 1))
  echo "jobs $j: $rows rows in ${w} s wall, $(awk "BEGIN{print $u + $s}") s CPU (user + sys, workers included)"
done
first=${jobs[0]}
for j in "${jobs[@]:1}"; do
  cmp -s "$work/results_$first.csv" "$work/results_$j.csv" ||
    { echo "bench_explore: --jobs $j wrote a different file than --jobs $first" >&2; exit 1; }
  echo "speed-up $first -> $j jobs: $(awk "BEGIN{printf \"%.2f\", ${wall[$first]} / ${wall[$j]}}")x (files identical)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
