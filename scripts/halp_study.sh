#!/usr/bin/env bash
# SGD, full-precision SVRG and HALP on LeNet-5 / Fashion-MNIST with the
# built-in trainer (docs/validation.md, section 7): test accuracy per epoch,
# passes over the data, training BitOPs (the run's own trace, Gemm
# convention) and wall time, one run after the other with --threads 1.
#   LPSIM=build/tools/lpsim OUT=halp-study EPOCHS=10 TRAIN_LIMIT=20000 scripts/halp_study.sh
# TRAIN_LIMIT=0 uses all 60,000 training images (about 3x longer).
# Each run's JSON summary and trace stay in $OUT; the table goes to stdout
# and to $OUT/table.md.
set -euo pipefail
LPSIM=${LPSIM:-build/tools/lpsim}
OUT=${OUT:-halp-study}
EPOCHS=${EPOCHS:-10}
TRAIN_LIMIT=${TRAIN_LIMIT:-20000}
SEED=${SEED:-1}
THREADS=${THREADS:-1}
LR_VR=${LR_VR:-0.1}      # svrg / halp / plain SGD: torchhalp's CIFAR-10 rate, constant
DATA_DIR=${DATA_DIR:-/usr/share/datasets/fashion-mnist}
mkdir -p "$OUT"
common="--model lenet5 --dataset fashion-mnist --epochs $EPOCHS --seed $SEED --threads $THREADS"
common+=" --data-dir $DATA_DIR --train-limit $TRAIN_LIMIT"
# T = two epochs: torchhalp's main.py default when --T is not given.
n=$(( TRAIN_LIMIT > 0 ? TRAIN_LIMIT : 60000 ))
T2=$(( 2 * ((n + 127) / 128) ))
# name | options
runs=(
  "sgd_fp32|--optimizer sgd --schedule static:fp32"
  "sgd_8_8|--optimizer sgd --schedule static:8/8"
  "sgd_plain_fp32|--optimizer sgd --schedule static:fp32 --momentum 0 --lr $LR_VR --lr-schedule constant"
  "svrg_fp32|--optimizer svrg --schedule static:fp32 --lr $LR_VR --lr-schedule constant"
  "halp_8_8_b8|--optimizer halp --schedule static:8/8 --halp-bits 8 --lr $LR_VR --lr-schedule constant"
  "halp_fp32_b8|--optimizer halp --schedule static:fp32 --halp-bits 8 --lr $LR_VR --lr-schedule constant"
  "svrg_fp32_T2ep|--optimizer svrg --schedule static:fp32 --halp-epoch-length $T2 --lr $LR_VR --lr-schedule constant"
  "halp_8_8_b8_T2ep|--optimizer halp --schedule static:8/8 --halp-bits 8 --halp-epoch-length $T2 --lr $LR_VR --lr-schedule constant"
)
for r in "${runs[@]}"; do
  name=${r%%|*}
  opts=${r#*|}
  if [[ -s $OUT/$name.json ]]; then echo "$name: kept $OUT/$name.json" >&2; continue; fi
  echo "$name: $LPSIM train $common $opts" >&2
  # shellcheck disable=SC2086
  "$LPSIM" train $common $opts -o "$OUT/$name.lpt" --json > "$OUT/$name.json.tmp"
  mv "$OUT/$name.json.tmp" "$OUT/$name.json"
done
# Energy and latency of each run's trace on the GPU-like design point (the
# shipped one that runs both FP32 and 8-bit GEMMs: docs/architecture.md).
ARCH=${ARCH:-gpu_tensor_core}
for r in "${runs[@]}"; do
  name=${r%%|*}
  "$LPSIM" simulate "$OUT/$name.lpt" --arch "$ARCH" -q > "$OUT/$name.sim"
done
python3 - "$OUT" "$ARCH" "${runs[@]}" <<'EOF' | tee "$OUT/table.md"
import json, sys
out, arch, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for r in runs:
    name, opts = r.split("|", 1)
    j = json.load(open(f"{out}/{name}.json"))
    j["energy_j"], j["latency_s"] = map(float, open(f"{out}/{name}.sim").read().split())
    rows.append((name, opts, j))
base = {n: j for n, _, j in rows}
svrg = base.get("svrg_fp32")
epochs = max(len(j["epochs"]) for _, _, j in rows)
print("| run | options | " + " | ".join(f"ep {e + 1}" for e in range(epochs)) +
      f" | best % | passes over the data | GBitOPs | vs SVRG | {arch} latency s | vs SVRG"
      " | energy J | wall s |")
print("|---|---|" + "---|" * epochs + "---|---|---|---|---|---|---|---|")
for name, opts, j in rows:
    acc = [100 * e["test_accuracy"] for e in j["epochs"]]
    ratio = f"{j['total_gbitops'] / svrg['total_gbitops']:.3f}" if svrg else ""
    lat = f"{j['latency_s'] / svrg['latency_s']:.3f}" if svrg else ""
    print(f"| {name} | `{opts}` | " + " | ".join(f"{a:.2f}" for a in acc) +
          f" | {max(acc):.2f} | {j['data_passes']} | {j['total_gbitops']:.4g} | {ratio} | "
          f"{j['latency_s']:.4g} | {lat} | {j['energy_j']:.4g} | {j['wall_s']:.0f} |")
EOF
