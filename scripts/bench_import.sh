#!/usr/bin/env bash
# Wall time of `lpsim import` on torchvision's ResNet-50 (issue 14's goal:
# < 1 s), the process included: once exported without weights (as the tests
# do, a 58 kB file) and once with its 25.6 M random weights (a 98 MB file the
# reader parses whole, then only looks at the weights' shapes). Exports with
# Debian's python3-torch / python3-torchvision into a temporary folder; prints
# each repetition, the median and best, and the machine's load.
#   scripts/bench_import.sh [REPETITIONS (default 7)] [LPSIM (default build/tools/lpsim)]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-7}
lpsim=${2:-build/tools/lpsim}
py=/usr/bin/python3
[[ -x $py ]] || py=python3
[[ -x $lpsim ]] || { echo "bench_import: $lpsim missing: bash tools/build.sh" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$py" - "$dir" <<'PY'
import sys, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
m = torchvision.models.resnet50(weights=None).train()
x = torch.randn(1, 3, 224, 224)
for name, params in (("resnet50", False), ("resnet50_weights", True)):
    torch.onnx.export(m, x, f"{sys.argv[1]}/{name}.onnx", export_params=params,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      input_names=["input"], opset_version=13)
PY
echo "load before: $(uptime)"
echo "cores: $(nproc); lpsim: $lpsim"
for name in resnet50 resnet50_weights; do
  file=$dir/$name.onnx
  echo "== lpsim import $name.onnx ($(du -h "$file" | cut -f1)) -o $name.yaml"
  times=()
  for ((i = 0; i < reps; i++)); do
    start=$(date +%s.%N)
    "$lpsim" import "$file" -o "$dir/$name.yaml" -q
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }')
    times+=("$t")
    printf '  run %d: %.3f s\n' $((i + 1)) "$t"
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  printf '  median %.3f s, best %.3f s\n' "$(echo "$sorted" | sed -n "$(((reps + 1) / 2))p")" \
    "$(echo "$sorted" | head -1)"
done
"$lpsim" models "$dir/resnet50.yaml"
echo "load after: $(uptime)"
