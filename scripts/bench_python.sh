#!/usr/bin/env bash
# Wall time of the Python acceptance command (docs/python.md, "Speed"): a fresh
# python3 that imports lpsim, synthesizes ResNet-74 / CIFAR-100 (160 epochs,
# cyclic 3-8/8) and simulates it on tpu_int8. Prints each repetition, the
# median and best, and the machine's load (uptime) before and after, since a
# shared machine slows every figure.
#   scripts/bench_python.sh [REPETITIONS (default 7)] [PYTHON (default /usr/bin/python3)]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-7}
py=${2:-/usr/bin/python3}
[[ -x $py ]] || py=python3
if [[ ! -d build/python/lpsim ]]; then
  echo "bench_python: build/python/lpsim missing: cmake --build build --target lpsim_python" >&2
  exit 2
fi
cmd="import lpsim; t = lpsim.synth('resnet74', 'cifar100', epochs=160, schedule='cyclic:3-8/8'); print(lpsim.simulate(t, arch='tpu_int8').energy_j)"
echo "load before: $(uptime)"
echo "cores: $(nproc); python: $($py --version 2>&1)"
echo "command: PYTHONPATH=build/python $py -c \"$cmd\""
times=()
for ((i = 1; i <= reps; i++)); do
  start=$(date +%s.%N)
  out=$(PYTHONPATH=build/python "$py" -c "$cmd")
  end=$(date +%s.%N)
  t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  times+=("$t")
  printf 'run %d: %.3f s (energy_j = %s)\n' "$i" "$t" "$out"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -g)
median=$(echo "$sorted" | awk -v n="$reps" 'NR == int((n + 1) / 2) { print }')
best=$(echo "$sorted" | head -1)
printf 'median %.3f s, best %.3f s over %d runs\n' "$median" "$best" "$reps"
echo "load after: $(uptime)"
