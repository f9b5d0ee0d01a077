#!/usr/bin/env bash
# CPT's accuracy claim on a residual CNN with batch norm: resnet8-w8 on
# Fashion-MNIST, static 8/8 against cyclic 3-8/8 (CPT: B_max 8, B_min 3,
# 8-bit errors, 32 periods over the run), SEEDS seeds each, EPOCHS epochs, one
# thread a run, JOBS runs at once. Both schedules use --bn-recalibrate (batch
# norm statistics re-estimated at the test precision before each test pass;
# training itself unchanged, docs/trainer.md). Prints per-seed results, then
# mean +- sd (sample sd, n - 1) of the final test accuracy, the per-seed
# difference cyclic - static, and the training BitOPs ratio
# (docs/validation.md section 5 has the table and the command). EPOCHS
# defaults to what fitted in ~45 minutes on the shared 2-core machine (one
# epoch is ~2 min wall alone, ~5 min with two jobs and other work); raise it
# on an idle machine.
#   OUT=cpt-seeds scripts/cpt_seeds.sh
#   EPOCHS=10 OUT=cpt-seeds-10 scripts/cpt_seeds.sh
#   EPOCHS=8 SEEDS="1 2 3 4 5 6" OUT=cpt-8 scripts/cpt_seeds.sh   # docs/validation.md's table
#   SUMMARY_ONLY=1 OUT=cpt-seeds scripts/cpt_seeds.sh   # re-print from the JSON files
set -euo pipefail
LPSIM=${LPSIM:-build/tools/lpsim}
OUT=${OUT:-cpt-seeds}
SEEDS=${SEEDS:-"1 2 3"}
EPOCHS=${EPOCHS:-2}
JOBS=${JOBS:-2}
BN_RECALIBRATE=${BN_RECALIBRATE:-20}
DATA_DIR=${DATA_DIR:-/usr/share/datasets/fashion-mnist}
SCHEDULES="static:8/8 cyclic:3-8/8"

if [[ ${SUMMARY_ONLY:-0} != 1 ]]; then
  mkdir -p "$OUT"
  jobs_file=$(mktemp)
  trap 'rm -f "$jobs_file"' EXIT
  for seed in $SEEDS; do
    for schedule in $SCHEDULES; do
      name=$(echo "$schedule" | tr ':/,' '___')_s$seed
      echo "$LPSIM train --model resnet8-w8 --dataset fashion-mnist --epochs $EPOCHS" \
           "--seed $seed --schedule $schedule --bn-recalibrate $BN_RECALIBRATE" \
           "--data-dir $DATA_DIR --threads 1 -o $OUT/$name.lpt --json" \
           "> $OUT/$name.json 2> $OUT/$name.err" >> "$jobs_file"
    done
  done
  start=$(date +%s)
  xargs -P "$JOBS" -I{} sh -c '{}' < "$jobs_file"
  echo "wall: $(( $(date +%s) - start )) s for $(wc -l < "$jobs_file") runs, $JOBS at a time"
fi

python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
runs = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    try:
        with open(path) as f:
            j = json.load(f)
    except (OSError, json.JSONDecodeError):
        sys.exit(f"{path}: not a finished run (see {path[:-5]}.err)")
    runs.setdefault(j["schedule"], {})[j["seed"]] = j
static, cyclic = runs.get("static:8/8", {}), runs.get("cyclic:3-8/8", {})
if not static or not cyclic:
    sys.exit(f"{out}: needs runs of static:8/8 and cyclic:3-8/8")

def msd(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)

print("| schedule | seeds | epochs | test accuracy % per seed | mean ± sd % | training GBitOPs | s/epoch |")
print("|---|---|---|---|---|---|---|")
for name, rs in (("static:8/8", static), ("cyclic:3-8/8", cyclic)):
    acc = [100 * rs[s]["test_accuracy"] for s in sorted(rs)]
    m, sd = msd(acc)
    bits = statistics.mean(r["total_gbitops"] for r in rs.values())
    wall = statistics.mean(r["wall_s"] / len(r["epochs"]) for r in rs.values())
    epochs = len(next(iter(rs.values()))["epochs"])
    per_seed = ", ".join(f"{a:.2f}" for a in acc)
    print(f"| {name} | {len(acc)} | {epochs} | {per_seed} | {m:.2f} ± {sd:.2f} | {bits:.4g} | {wall:.0f} |")
seeds = sorted(set(static) & set(cyclic))
diff = [100 * (cyclic[s]["test_accuracy"] - static[s]["test_accuracy"]) for s in seeds]
m, sd = msd(diff)
ratio = statistics.mean(cyclic[s]["total_gbitops"] / static[s]["total_gbitops"] for s in seeds)
print(f"\ncyclic - static, same seed ({len(seeds)} pairs): {m:+.2f} ± {sd:.2f} pp "
      f"(per seed: {', '.join(f'{d:+.2f}' for d in diff)})")
print(f"training BitOPs cyclic / static: {ratio:.4f} ({100 * (ratio - 1):+.1f}%)")
PY
