#!/usr/bin/env bash
# Accuracy of the built-in trainer under the seed papers' schedules:
# MODEL (LeNet-5) on Fashion-MNIST, SEEDS x EPOCHS, one JSON per run, then a
# table (scripts/trainer_accuracy_table.py). Runs JOBS trainings at once, THREADS
# threads each; EXTRA is added to every command (e.g. "--loss-scale dynamic");
# RANGE_TEST=0 leaves out the range-test runs.
#   LPSIM=build/tools/lpsim OUT=acc SEEDS="1 2 3" EPOCHS=10 JOBS=2 scripts/trainer_accuracy.sh
#   MODEL=resnet8-w8 SCHEDULES="static:fp32 static:8/8 cyclic:3-8/8" SEEDS=1 RANGE_TEST=0 \
#     OUT=acc-resnet scripts/trainer_accuracy.sh
set -euo pipefail
LPSIM=${LPSIM:-build/tools/lpsim}
OUT=${OUT:-trainer-accuracy}
SEEDS=${SEEDS:-"1 2 3"}
EPOCHS=${EPOCHS:-10}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
MODEL=${MODEL:-lenet5}
EXTRA=${EXTRA:-}
RANGE_TEST=${RANGE_TEST:-1}
DATA_DIR=${DATA_DIR:-/usr/share/datasets/fashion-mnist}
SCHEDULES=${SCHEDULES:-"static:fp32 static:8/8 static:4/4 progressive:3-8/8 cyclic:3-8/8 muppet:8,12,14,16"}
mkdir -p "$OUT"
jobs_file=$(mktemp)
for schedule in $SCHEDULES; do
  for seed in $SEEDS; do
    name=$(echo "$schedule" | tr ':/,' '___')_s$seed
    echo "$LPSIM train --model $MODEL --dataset fashion-mnist --epochs $EPOCHS --seed $seed" \
         "--schedule $schedule --data-dir $DATA_DIR --threads $THREADS $EXTRA" \
         "-o $OUT/$name.lpt --json > $OUT/$name.json 2> $OUT/$name.err" >> "$jobs_file"
  done
done
# The CPT range test, once per seed, in front of the cyclic schedule.
for seed in $SEEDS; do
  [[ $RANGE_TEST == 1 ]] || break
  name=cyclic_range_test_s$seed
  echo "$LPSIM train --model $MODEL --dataset fashion-mnist --epochs $EPOCHS --seed $seed" \
       "--schedule cyclic:3-8/8 --range-test --data-dir $DATA_DIR --threads $THREADS $EXTRA" \
       "-o $OUT/$name.lpt --json > $OUT/$name.json 2> $OUT/$name.err" >> "$jobs_file"
done
xargs -P "$JOBS" -I{} sh -c '{}' < "$jobs_file"
rm -f "$jobs_file"
echo "results in $OUT/"
