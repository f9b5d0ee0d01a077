#!/bin/sh
# Do two lpsim binaries train to the same bits? Runs a set of short trainings
# (LeNet-5, MLP, ResNet-8; FP32, 2..8-bit range and dfx, fp8, cyclic,
# progressive, MuPPET, nearest/stochastic, SVRG/HALP, 1 and 2 threads, every
# GEMM kernel) with both and compares the trace, the checkpoint and the JSON
# summary byte for byte, except the wall-clock fields (wall_s).
# Usage: scripts/check_trainer_bits.sh OLD NEW [DATA_DIR]
# ONLY=REGEX in the environment runs the runs whose names match only.
# Exit status 0 when every run matches; prints one line per run.
set -eu
OLD=$(readlink -f "$1")  # the runs happen in other folders
NEW=$(readlink -f "$2")
DATA=${3:-/usr/share/datasets/fashion-mnist}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# The checkpoint stores each epoch's wall_s as a double after the epoch number
# and three optional doubles (train loss, train and test accuracy); find those
# 8 bytes from the JSON's train loss and compare everything else.
cat > "$OUT/cmp_ckpt.py" <<'EOF'
import json, struct, sys
old, new, js = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read(), json.load(open(sys.argv[3]))
if len(old) != len(new):
    sys.exit('checkpoint sizes differ')
masked = set()
for e in js['epochs']:
    if e.get('train_loss') is None:
        continue
    # (svrg / halp store the trace's epoch, a pass count, so match from the loss)
    at = old.find(struct.pack('<qd', 1, e['train_loss']))
    if at < 0:
        sys.exit('epoch %d not found in checkpoint' % e['epoch'])
    wall = at + 3 * 16 + 8
    masked.update(range(wall, wall + 8))
bad = [i for i in range(len(old)) if old[i] != new[i] and i not in masked]
if bad:
    sys.exit('checkpoints differ at %d bytes, first at %d' % (len(bad), bad[0]))
EOF

mask() { sed 's/"wall_s": *[0-9.eE+-]*/"wall_s":X/g' "$1"; }

fails=0
n=0
check() {  # name, then lpsim train arguments
  name=$1
  shift
  if [ -n "${ONLY:-}" ] && ! echo "$name" | grep -Eq -- "$ONLY"; then return; fi
  n=$((n + 1))
  for b in old new; do
    mkdir -p "$OUT/$b"
    if [ $b = old ]; then bin=$OLD; else bin=$NEW; fi
    (cd "$OUT/$b" && "$bin" train --data-dir "$DATA" --test-limit 200 --json -q -o run.lpt "$@" \
      > run.json 2> run.err) || { echo "FAIL $name: $b exited $? ($(head -c 300 "$OUT/$b/run.err"))"; fails=$((fails + 1)); return; }
  done
  why=
  mask "$OUT/old/run.lpt" > "$OUT/a" && mask "$OUT/new/run.lpt" > "$OUT/b"
  cmp -s "$OUT/a" "$OUT/b" || why="$why trace"
  mask "$OUT/old/run.json" > "$OUT/a" && mask "$OUT/new/run.json" > "$OUT/b"
  cmp -s "$OUT/a" "$OUT/b" || why="$why json"
  python3 "$OUT/cmp_ckpt.py" "$OUT/old/run.lpt.ckpt" "$OUT/new/run.lpt.ckpt" "$OUT/old/run.json" \
    > "$OUT/c" 2>&1 || why="$why checkpoint($(cat "$OUT/c"))"
  if [ -n "$why" ]; then
    echo "FAIL $name:$why"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
  rm -rf "$OUT/old" "$OUT/new"
}

# 600 images at batch 128 leave a last batch of 88: tails of every chunking.
L="--train-limit 600 --epochs 1"
for t in 1 2; do
  check "lenet5 fp32 t$t" --model lenet5 $L --schedule static:fp32 --threads $t
  check "lenet5 8/8 auto t$t" --model lenet5 $L --schedule static:8/8 --threads $t
  check "lenet5 4/4 auto t$t" --model lenet5 $L --schedule static:4/4 --threads $t
done
for k in avx2 scalar reference vnni; do
  check "lenet5 8/8 $k t2" --model lenet5 $L --schedule static:8/8 --gemm-kernel $k --threads 2
  check "lenet5 4/4 $k t2" --model lenet5 $L --schedule static:4/4 --gemm-kernel $k --threads 2
done
check "lenet5 2/2 t2" --model lenet5 $L --schedule static:2/2 --threads 2
check "lenet5 3/3 avx2 t1" --model lenet5 $L --schedule static:3/3 --gemm-kernel avx2
check "lenet5 8/8 nearest t2" --model lenet5 $L --schedule static:8/8 --rounding nearest --threads 2
check "lenet5 4/4 stochastic t2" --model lenet5 $L --schedule static:4/4 --rounding stochastic --threads 2
check "lenet5 8/8 dfx t2" --model lenet5 $L --schedule static:8/8 --quantizer dfx --threads 2
check "lenet5 6/6 dfx nearest t1" --model lenet5 $L --schedule static:6/6 --quantizer dfx --rounding nearest
check "lenet5 12/12 t2" --model lenet5 $L --schedule static:12/12 --threads 2
L2="--train-limit 600 --epochs 2"
check "lenet5 cyclic:3-8/8 t2" --model lenet5 $L2 --schedule cyclic:3-8/8 --threads 2
check "lenet5 progressive:3-8/8 t1" --model lenet5 $L2 --schedule progressive:3-8/8
check "lenet5 muppet t2" --model lenet5 $L2 --schedule muppet:8,12,14,16 --threads 2
check "lenet5 fp8 dynamic t2" --model lenet5 $L --schedule static:fp8-e4m3/fp8-e5m2 --loss-scale dynamic --threads 2
check "lenet5 8/8 fp8-E adaptive t1" --model lenet5 $L --schedule static:8/8 --loss-scale adaptive --threads 1
check "lenet5 8/8 halp t2" --model lenet5 $L --schedule static:8/8 --optimizer halp --threads 2
check "lenet5 8/8 svrg t1" --model lenet5 $L --schedule static:8/8 --optimizer svrg
check "lenet5 8/8 batch 50 t2" --model lenet5 $L --schedule static:8/8 --batch 50 --threads 2
for t in 1 2; do
  check "mlp fp32 t$t" --model mlp $L --schedule static:fp32 --threads $t
  check "mlp 8/8 t$t" --model mlp $L --schedule static:8/8 --threads $t
  check "mlp 4/4 avx2 t$t" --model mlp $L --schedule static:4/4 --gemm-kernel avx2 --threads $t
  check "resnet8 fp32 t$t" --model resnet8-w8 $L --schedule static:fp32 --threads $t
  check "resnet8 8/8 t$t" --model resnet8-w8 $L --schedule static:8/8 --threads $t
done
check "mlp muppet t2" --model mlp $L2 --schedule muppet:8,12,14,16 --threads 2
check "resnet8 4/4 t2" --model resnet8-w8 $L --schedule static:4/4 --threads 2
check "resnet8 fp8 t2" --model resnet8-w8 $L --schedule static:fp8-e4m3/fp8-e5m2 --threads 2
check "resnet8 cyclic t2" --model resnet8-w8 $L2 --schedule cyclic:3-8/8 --threads 2 --bn-recalibrate 2
echo "$((n - fails)) of $n runs identical"
[ $fails -eq 0 ]
