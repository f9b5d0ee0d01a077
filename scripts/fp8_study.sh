#!/usr/bin/env bash
# FP8 study (docs/validation.md, "FP8 errors: global, adaptive and the FP8
# recipe"): LeNet-5 / Fashion-MNIST with W, A in fp8 e4m3 and E, G in fp8
# e4m3 or e5m2, under
#   global   --loss-scale dynamic (one scale, from 2^16, skip and halve on overflow)
#   adaptive --loss-scale adaptive (per-layer scales over a global S = 1)
#   recipe   --master-weights bf16 --master-rounding stochastic --loss-scale enhanced
# One JSON per run in OUT, then a Markdown table (OUT/table.md): test
# accuracy, skipped steps, steps with an overflow, and the fraction of
# non-zero errors the E quantizers flushed to zero (first and last epoch).
#   LPSIM=build/tools/lpsim OUT=fp8-study EPOCHS=5 TRAIN_LIMIT=20000 JOBS=1 scripts/fp8_study.sh
set -euo pipefail
LPSIM=${LPSIM:-build/tools/lpsim}
OUT=${OUT:-fp8-study}
EPOCHS=${EPOCHS:-5}
TRAIN_LIMIT=${TRAIN_LIMIT:-20000}
SEED=${SEED:-1}
JOBS=${JOBS:-1}
THREADS=${THREADS:-1}
DATA_DIR=${DATA_DIR:-/usr/share/datasets/fashion-mnist}
mkdir -p "$OUT"
jobs_file=$(mktemp)
for e in e4m3 e5m2; do
  schedule="static:fp8-e4m3/fp8-$e"
  while read -r name extra; do
    echo "$LPSIM train --model lenet5 --dataset fashion-mnist --epochs $EPOCHS --seed $SEED" \
         "--train-limit $TRAIN_LIMIT --schedule $schedule --data-dir $DATA_DIR" \
         "--threads $THREADS $extra -o $OUT/${e}_$name.lpt --json" \
         "> $OUT/${e}_$name.json 2> $OUT/${e}_$name.err" >> "$jobs_file"
  done <<'CONFIGS'
global --loss-scale dynamic
adaptive --loss-scale adaptive
recipe --master-weights bf16 --master-rounding stochastic --loss-scale enhanced
CONFIGS
done
xargs -P "$JOBS" -I{} sh -c '{}' < "$jobs_file"
rm -f "$jobs_file"
python3 - "$OUT" <<'PY'
import json, re, sys, pathlib
out = pathlib.Path(sys.argv[1])
rows = ["| E / G | scaling | test accuracy % | skipped steps | steps with an overflow | E underflow, first / last epoch | wall s |",
        "|---|---|---|---|---|---|---|"]
pat = re.compile(r"fp errors: epoch (\d+) E underflow ([0-9.]+)% .* (\d+) of (\d+) steps overflowed")
for e in ("e4m3", "e5m2"):
    for name in ("global", "adaptive", "recipe"):
        j = json.loads((out / f"{e}_{name}.json").read_text())
        skipped = sum(ep.get("skipped_steps", 0) for ep in j["epochs"])
        under, over = [], 0
        for ev in j["events"]:
            m = pat.search(ev)
            if m:
                under.append(float(m.group(2)))
                over += int(m.group(3))
        rows.append(f"| {e} | {name} | {100 * j['test_accuracy']:.2f} | {skipped} | {over} | "
                    f"{under[0]:.2f}% / {under[-1]:.2f}% | {j['wall_s']:.0f} |")
(out / "table.md").write_text("\n".join(rows) + "\n")
print("\n".join(rows))
PY
