#!/usr/bin/env python3
"""Summarise scripts/trainer_accuracy.sh results: mean and spread of the final
test accuracy over seeds, beside the training GBitOPs of each schedule.
Usage: scripts/trainer_accuracy_table.py OUT_DIR  (prints a Markdown table)"""
import glob
import json
import os
import re
import statistics
import sys


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "trainer-accuracy"
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        try:
            with open(path) as f:
                j = json.load(f)
        except (OSError, json.JSONDecodeError):
            print(f"skipping {path}: not a finished run", file=sys.stderr)
            continue
        key = j["schedule"] + (" + range test" if "range_test" in j else "")
        runs.setdefault(key, []).append(j)
    fp32 = runs.get("static:fp32")
    fp32_mean = statistics.mean(r["test_accuracy"] for r in fp32) if fp32 else None
    print("| schedule | seeds | epochs | test accuracy % (mean ± sd) | min..max % | vs FP32 pp "
          "| training GBitOPs (mean) | vs static 8/8 | wall s/epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    base = runs.get("static:8/8")
    base_bits = statistics.mean(r["total_gbitops"] for r in base) if base else None
    for key, rs in runs.items():
        acc = [100 * r["test_accuracy"] for r in rs]
        bits = statistics.mean(r["total_gbitops"] for r in rs)
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        delta = f"{statistics.mean(acc) - 100 * fp32_mean:+.2f}" if fp32_mean else "-"
        rel = f"{100 * (bits / base_bits - 1):+.1f}%" if base_bits else "-"
        wall = statistics.mean(r["wall_s"] / len(r["epochs"]) for r in rs)
        print(f"| {key} | {len(rs)} | {len(rs[0]['epochs'])} | {statistics.mean(acc):.2f} ± {sd:.2f} "
              f"| {min(acc):.2f}..{max(acc):.2f} | {delta} | {bits:.4g} | {rel} | {wall:.1f} |")
    for key, rs in runs.items():
        for r in rs:
            if "range_test" in r:
                rt = r["range_test"]
                curve = ", ".join(f"{c['bits']}b {100 * c['train_accuracy']:.1f}%" for c in rt["curve"])
                print(f"\nrange test, seed {r['seed']}: {curve} -> B_min {rt['b_min']} ({rt['schedule']})")
            for ev in r.get("events", []):
                if ev.startswith("muppet") and "switch" in ev:
                    print(f"\nseed {r['seed']}: {ev}")


if __name__ == "__main__":
    main()
