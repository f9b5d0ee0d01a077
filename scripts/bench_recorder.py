#!/usr/bin/env python3
"""What lpsim.torch.Recorder adds to a PyTorch training step (docs/python.md,
"Recording a PyTorch run"): LeNet-5 (the zoo's lenet5, layer for layer) on
random 1x28x28 data, batch 128, SGD with momentum, torch on 2 threads.
Steps with and without the recorder alternate, which one goes first
alternating too (so drift in the machine's load and any first-or-second
effect fall on both alike); each step is timed alone and the medians are
compared. Then the recorder's own cost is timed apart, on 100,000 empty steps.
The recorded steps follow cyclic:3-8/8 (a new segment every few steps).

    PYTHONPATH=build/python python3 scripts/bench_recorder.py [--steps 200] [--batch 128]
"""

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
# OpenMP threads that spin while waiting fight other processes for a shared
# machine's cores: there a LeNet-5 step swings between 7 and 900 ms and the
# comparison drowns. Passive waiting keeps it steady (set before torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import lpsim.torch  # noqa: E402

# The zoo's lenet5 in PyTorch, defined once: where the tests check it against the zoo.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "python"))
from test_recorder import LeNet5  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200, help="timed steps of each kind")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))

    def body():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        rec = lpsim.torch.Recorder(model, x, os.path.join(d, "bench.lpt"))
        capture_s = time.perf_counter() - t0
        warmup = 20
        total = warmup + args.steps
        period = max(1, total // 32)  # cyclic:3-8/8 over the recorded steps, 32 periods
        bits = [round(3 + 2.5 * (1 - math.cos(math.pi * (t % period) / period)))
                for t in range(total)]
        plain, recorded = [], []
        for t in range(total):
            for kind in ((0, 1) if t % 2 else (1, 0)):  # which goes first alternates too
                t0 = time.perf_counter()
                if kind:
                    with rec.step(w=bits[t], a=bits[t], e=8, g=8):
                        body()
                else:
                    body()
                if t >= warmup:
                    (recorded if kind else plain).append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rec.close()
        close_s = time.perf_counter() - t0
        with open(os.path.join(d, "bench.lpt")) as f:
            segs = sum('"seg"' in line for line in f)
        # The recorder's own cost, free of the training step's noise: empty
        # steps under the same schedule.
        empty = lpsim.torch.Recorder(model, x, os.path.join(d, "empty.lpt"))
        n = 100_000
        period = n // 32
        widths = [round(3 + 2.5 * (1 - math.cos(math.pi * (t % period) / period)))
                  for t in range(n)]
        t0 = time.perf_counter()
        for b in widths:
            with empty.step(w=b, a=b, e=8, g=8):
                pass
        own_s = (time.perf_counter() - t0) / n
    a, b = statistics.median(plain), statistics.median(recorded)
    # Each pair ran back to back under the same load: the median of the pairs'
    # differences is steadier than the difference of the medians.
    paired = statistics.median(r - p for p, r in zip(plain, recorded))
    print(f"LeNet-5, batch {args.batch}, {args.threads} threads, {args.steps} steps each "
          f"(after {warmup} warm-up), torch {torch.__version__}, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, load {os.getloadavg()[0]:.1f}")
    print(f"median step without the recorder: {a * 1e3:.3f} ms")
    print(f"median step with the recorder:    {b * 1e3:.3f} ms  ({100 * (b - a) / a:+.2f}%)")
    print(f"median of the paired differences: {paired * 1e3:+.3f} ms  "
          f"({100 * paired / a:+.2f}% of the median step)")
    print(f"the recorder's own cost per step (empty steps, {n:,}): {own_s * 1e6:.2f} us = "
          f"{100 * own_s / a:.4f}% of the median step without it")
    print(f"graph capture (once): {capture_s * 1e3:.1f} ms; close (write {segs} segments): "
          f"{close_s * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
