#!/usr/bin/env python3
"""Regenerates the table of docs/validation.md section 4: ResNet-74 / CIFAR-100,
160 epochs, under static 8/8, progressive 3-8/8 and cyclic 3-8/8, on each
shipped design point, from `lpsim synth` and `lpsim simulate --json`.

Usage: python3 scripts/schedule_table.py [--lpsim build/tools/lpsim]
           [--arch NAME ...] [--timing systemc|analytic] [-o table.md]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

SCHEDULES = ["static:8/8", "progressive:3-8/8", "cyclic:3-8/8"]
ARCHS = ["tpu_int8", "stripes_bit_serial", "bit_fusion", "multi_pass_16_32", "gpu_tensor_core"]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"schedule_table: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def pct(x, base):
    return f"{100 * (x / base - 1):+.1f}%" if base else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lpsim", default="build/tools/lpsim")
    ap.add_argument("--arch", action="append", help="design points (default: the five shipped)")
    ap.add_argument("--timing", default="systemc", choices=["systemc", "analytic"])
    ap.add_argument("-o", "--output", help="Markdown file (default: stdout)")
    a = ap.parse_args()
    if not os.access(a.lpsim, os.X_OK):
        sys.exit(f"schedule_table: {a.lpsim}: not an executable lpsim")
    archs = a.arch or ARCHS
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in SCHEDULES:
            trace = os.path.join(tmp, s.replace(":", "_").replace("/", "_") + ".lpt")
            run([a.lpsim, "synth", "--model", "resnet74", "--dataset", "cifar100", "--epochs",
                 "160", "--batch", "128", "--schedule", s, "-q", "-o", trace])
            for arch in archs:
                j = json.loads(run([a.lpsim, "simulate", trace, "--arch", arch, "--json",
                                    "--timing", a.timing]))
                rows.append((arch, s, j))
    head = ("| design point | schedule | energy kJ | vs static | dynamic kJ | vs static | "
            "latency h | vs static | MAC util | compute-bound | DRAM GB/iter | mac | "
            "sram (all) | dram | vector | static |")
    out = [head, "|" + "---|" * 16]
    base = {}
    order = {arch: i for i, arch in enumerate(archs)}
    rows.sort(key=lambda r: (order[r[0]], SCHEDULES.index(r[1])))
    for arch, s, j in rows:
        comp = j["breakdown"]["component"]
        e = j["energy_j"]
        leak = j["energy_static_j"]
        dyn = j["energy_dynamic_j"]
        lat = j["latency_s"] / 3600
        sram = sum(v for k, v in comp.items() if k.startswith("sram:"))  # dynamic SRAM
        dram_gb = (j["dram_read_bits"] + j["dram_write_bits"]) / 8e9 / j["iterations"]
        if s == SCHEDULES[0]:
            base[arch] = (e, dyn, lat)
        b = base[arch]
        first = s == SCHEDULES[0]
        share = lambda x: f"{100 * x / e:.1f}%" if e else "-"
        out.append(
            f"| `{arch}` | {s.split(':')[0]} {s.split(':')[1]} | {e / 1e3:.2f} | "
            f"{'' if first else pct(e, b[0])} | {dyn / 1e3:.2f} | {'' if first else pct(dyn, b[1])} | "
            f"{lat:.3f} | {'' if first else pct(lat, b[2])} | {100 * j['utilization']:.1f}% | "
            f"{100 * j['bound']['compute_share']:.0f}% | {dram_gb:.2f} | {share(comp['mac'])} | "
            f"{share(sram)} | {share(comp['dram'])} | {100 * comp['vector'] / e:.2f}% | "
            f"{100 * leak / e:.2f}% |")
    text = "\n".join(out) + "\n"
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
