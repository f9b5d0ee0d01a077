#!/usr/bin/python3
"""LRBench-style learning-rate study with the built-in trainer (docs/validation.md, section 7).

Two studies, each a table on stdout (Markdown):

  policies  LeNet-5 / Fashion-MNIST in FP32 under each of LRBench's 15 functions
            (one hand-picked parameter set each), several seeds, with LRBench's
            metrics: utility (test accuracy), robustness (its sd over seeds, and
            LRBench's train-loss minus test-loss), confidence (mean top softmax
            probability of the correct test images, its sd, CDAC) and cost
            (wall seconds, epochs to a target accuracy).
  cpt       cyclic:3-8/8 precision (CPT) with a constant LR, the default cosine
            LR, and cyclic LRs aligned to the precision cycle.

Usage: python3 scripts/lr_study.py --lpsim build/tools/lpsim [--study policies|cpt|all]
       [--seeds 1,2,3] [--cpt-seeds 1,2,3,4,5] [--epochs 4] [--train-limit 16384] [--test-limit 10000]
       [--raw results.jsonl] [--from-raw results.jsonl]
Debian python3 only; runs one training at a time with --threads 1.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time


def policies(total, cycle_half):
    """LRBench's 15 functions (trainer/lr_policy.h), parameters scaled to a run of `total` iterations."""
    k0, lo, hi = 0.05, 0.01, 0.1
    g = 0.995  # gamma^512 = 0.077
    return [
        ("FIX", f"fix:k0={k0}"),
        ("STEP", f"step:k0={k0},gamma=0.5,l={total // 4}"),
        ("NSTEP", f"nstep:k0={k0},gamma=0.1,l={total // 2}+{3 * total // 4}"),
        ("EXP", f"exp:k0={k0},gamma={g}"),
        ("INV", f"inv:k0={k0},gamma=0.01,p=0.75"),
        ("POLY", f"poly:k0={k0},p=2"),
        ("TRI", f"tri:k0={lo},k1={hi},l={cycle_half}"),
        ("TRI2", f"tri2:k0={lo},k1={hi},l={cycle_half}"),
        ("TRIEXP", f"triexp:k0={lo},k1={hi},gamma={g},l={cycle_half}"),
        ("SIN", f"sin:k0={lo},k1={hi},l={cycle_half}"),
        ("SIN2", f"sin2:k0={lo},k1={hi},l={cycle_half}"),
        ("SINEXP", f"sinexp:k0={lo},k1={hi},gamma={g},l={cycle_half}"),
        ("COS", f"cos:k0={lo},k1={hi},l={cycle_half}"),
        ("COS2", f"cos2:k0={lo},k1={hi},l={cycle_half}"),
        ("COSEXP", f"cosexp:k0={lo},k1={hi},gamma={g},l={cycle_half}"),
    ]


def cpt_configs(total):
    """cyclic:3-8/8 (32 periods of T_n = floor(T / 32)) with four LR policies."""
    t_n = total // 32
    half = max(1, t_n // 2)
    return [
        ("cosine from 0.05 (default)", "0.05"),
        ("constant 0.05", "fix:k0=0.05"),
        (f"TRI 0.01-0.1, l = T_n/2 = {half}", f"tri:k0=0.01,k1=0.1,l={half}"),
        (f"TRIEXP 0.01-0.1, gamma 0.995, l = {half}", f"triexp:k0=0.01,k1=0.1,gamma=0.995,l={half}"),
    ]


def train(args, lr, schedule, seed, tmp):
    out = os.path.join(tmp, "run.lpt")
    cmd = [args.lpsim, "train", "--model", "lenet5", "--dataset", "fashion-mnist",
           "--epochs", str(args.epochs), "--batch", str(args.batch), "--schedule", schedule,
           "--seed", str(seed), "--threads", "1", "--lr", lr,
           "--train-limit", str(args.train_limit), "--test-limit", str(args.test_limit),
           "--json", "-q", "-o", out, "--checkpoint", os.path.join(tmp, "run.ckpt")]
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    if p.returncode != 0:
        return {"lr": lr, "schedule": schedule, "seed": seed, "error": p.stderr.strip(),
                "wall_s": wall, "command": " ".join(cmd)}
    j = json.loads(p.stdout)
    j.update({"lr": lr, "seed": seed, "process_wall_s": wall})
    return j


def mean_sd(xs):
    if not xs:
        return float("nan"), float("nan")
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b) (continued fraction, Numerical Recipes 6.4)."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log(1 - x))
    if x > (a + 1) / (a + b + 2):
        return 1.0 - betainc(b, a, 1 - x)
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
    f = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
            c = 1.0 + num / c
            if abs(c) < 1e-300:
                c = 1e-300
            f *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return front * f / a


def welch(xs, ys):
    """Welch's t-test: t, degrees of freedom, two-sided p (Student's t via I_x(df/2, 1/2))."""
    vx, vy = statistics.variance(xs) / len(xs), statistics.variance(ys) / len(ys)
    if vx + vy == 0:
        return float("nan"), float("nan"), float("nan")
    t = (statistics.fmean(xs) - statistics.fmean(ys)) / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx ** 2 / (len(xs) - 1) + vy ** 2 / (len(ys) - 1))
    return t, df, betainc(df / 2, 0.5, df / (df + t * t))


def epochs_to(run, target):
    for e in run["epochs"]:
        if e["test_accuracy"] >= target:
            return e["epoch"] + 1
    return None


def summarize(name, spec, runs, target):
    ok = [r for r in runs if "error" not in r]
    row = {"name": name, "spec": spec, "seeds": len(runs), "failed": len(runs) - len(ok)}
    if not ok:
        row["error"] = runs[0]["error"]
        return row
    acc = [100 * r["test_accuracy"] for r in ok]
    row["acc_runs"] = acc
    row["acc"] = mean_sd(acc)
    row["acc_range"] = (min(acc), max(acc))
    # LRBench compute_metrics.py add_robustness: last epoch's training loss minus test loss.
    row["robustness"] = mean_sd([r["epochs"][-1]["train_loss"] - r["final_test"]["loss"] for r in ok])
    row["conf"] = mean_sd([r["final_test"]["confidence_mean"] for r in ok])
    row["conf_sd"] = statistics.fmean(r["final_test"]["confidence_sd"] for r in ok)
    row["cdac"] = statistics.fmean(r["final_test"]["cdac"] for r in ok)
    row["wall"] = statistics.fmean(r["wall_s"] for r in ok)
    reach = [epochs_to(r, target) for r in ok]
    row["reached"] = sum(x is not None for x in reach)
    row["to_target"] = statistics.fmean(x for x in reach if x is not None) if row["reached"] else None
    return row


def table(rows, target, first):
    head = (f"| {first} | seeds | test acc % (mean ± sd) | min..max % | vs first row: Welch t, p | robustness: train − test loss "
            f"| confidence (mean ± sd over seeds) | conf. sd | CDAC | wall s | epochs to {100 * target:g}% |")
    lines = [head, "|" + "---|" * 11]
    base = rows[0].get("acc_runs", [])
    for r in rows:
        if "acc" not in r:
            lines.append(f"| {r['name']} `{r['spec']}` | {r['seeds']} | failed: {r['error']} | | | | | | | | |")
            continue
        vs = ""
        if r is not rows[0] and len(base) > 1 and len(r["acc_runs"]) > 1:
            t, df, p = welch(r["acc_runs"], base)
            vs = f"{t:+.2f}, {p:.3f}" if math.isfinite(t) else ""
        to = (f"{r['to_target']:.2f} ({r['reached']}/{r['seeds'] - r['failed']} reached)"
              if r["to_target"] is not None else "not reached")
        lines.append(
            f"| {r['name']} `{r['spec']}` | {r['seeds'] - r['failed']}"
            f"{' (' + str(r['failed']) + ' failed)' if r['failed'] else ''} "
            f"| {r['acc'][0]:.2f} ± {r['acc'][1]:.2f} | {r['acc_range'][0]:.2f}..{r['acc_range'][1]:.2f} | {vs} "
            f"| {r['robustness'][0]:+.4f} ± {r['robustness'][1]:.4f} "
            f"| {r['conf'][0]:.4f} ± {r['conf'][1]:.4f} | {r['conf_sd']:.4f} | {r['cdac']:.4f} "
            f"| {r['wall']:.1f} | {to} |")
    return "\n".join(lines)


def run_study(args, configs, schedule, raw, tmp):
    rows = []
    for name, spec in configs:
        runs = []
        for seed in args.seeds:
            if args.from_raw is not None:
                found = [r for r in args.from_raw
                         if r["lr"] == spec and r["schedule"] == schedule and r["seed"] == seed]
                runs += found[:1]
                continue
            r = train(args, spec, schedule, seed, tmp)
            r["study_name"] = name
            runs.append(r)
            if raw:
                raw.write(json.dumps(r) + "\n")
                raw.flush()
            status = r.get("error") or f"{100 * r['test_accuracy']:.2f}%"
            print(f"  {name} seed {seed}: {status} ({r.get('process_wall_s', r.get('wall_s')):.1f} s)",
                  file=sys.stderr, flush=True)
        if runs:
            rows.append(summarize(name, spec, runs, args.target))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lpsim", default="build/tools/lpsim")
    ap.add_argument("--study", choices=["policies", "cpt", "all"], default="all")
    ap.add_argument("--seeds", default="1,2,3", help="seeds of the policies study")
    ap.add_argument("--cpt-seeds", default="1,2,3,4,5", help="seeds of the cpt study")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--train-limit", type=int, default=16384)
    ap.add_argument("--test-limit", type=int, default=10000)
    ap.add_argument("--target", type=float, default=0.85, help="test accuracy for the cost column")
    ap.add_argument("--raw", help="also write every run's JSON summary, one per line")
    ap.add_argument("--from-raw", help="tabulate the runs of an earlier --raw file instead of training")
    args = ap.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    cpt_seeds = [int(s) for s in args.cpt_seeds.split(",")]
    ipe = math.ceil(args.train_limit / args.batch)
    total = ipe * args.epochs
    t_n = max(1, total // 32)
    print(f"LeNet-5, Fashion-MNIST: first {args.train_limit} training / {args.test_limit} test images, "
          f"batch {args.batch} ({ipe} iterations an epoch), {args.epochs} epochs = T = {total} iterations, "
          f"seeds {args.seeds} (cpt: {cpt_seeds}), --threads 1", flush=True)
    if args.from_raw:
        with open(args.from_raw) as f:
            args.from_raw = [json.loads(line) for line in f]
    raw = open(args.raw, "w") if args.raw else None
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        if args.study in ("policies", "all"):
            rows = run_study(args, policies(total, 2 * t_n), "static:fp32", raw, tmp)
            print(f"\n### LRBench's functions, static:fp32\n\n{table(rows, args.target, 'policy')}\n",
                  flush=True)
        if args.study in ("cpt", "all"):
            args.seeds = cpt_seeds
            rows = run_study(args, cpt_configs(total), "cyclic:3-8/8", raw, tmp)
            print(f"\n### cyclic:3-8/8 (T_n = {t_n} iterations) with and without a cyclic LR\n\n"
                  f"{table(rows, args.target, 'LR')}\n", flush=True)
    if raw:
        raw.close()
    print(f"total wall {time.monotonic() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
