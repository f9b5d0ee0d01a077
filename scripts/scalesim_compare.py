#!/usr/bin/env python3
# Usage: python3 scripts/scalesim_compare.py --scalesim PATH [--lpsim build/tools/lpsim] [--modes ideal,bandwidth] [-o docs-fragment.md] [--csv rows.csv]
#
# Validates lpsim's per-layer cycle counts against SCALE-Sim v2 itself (its
# Python simulator run for real, not the closed form of its paper), so that a
# change to lpsim's fold arithmetic or memory model shows up as a number next
# to the peer tool's.
#
# - ideal: SCALE-Sim in InterfaceBandwidth CALC mode (it reports zero stalls)
#   with 1 GiB SRAMs; lpsim with --set ideal_memory=true, or, on a binary
#   without that key, the explicit keys that make memory free (unbounded DRAM
#   and ports, zero latency, 1 GiB buffers and accumulators). Same layers, two
#   array sizes, three dataflows: differences are fold arithmetic only.
# - bandwidth: SCALE-Sim in USER mode at a given DRAM bandwidth (words/cycle)
#   with SCALE-Sim-sized SRAMs; lpsim on a matching arch YAML (INT8 PE, 1 GHz
#   so GB/s = words/cycle, buffers mirroring the ifmap and filter SRAMs,
#   accumulators for the ofmap SRAM, 0 ns DRAM latency). Compares total and
#   stall cycles and the DRAM words read.
# Both tools are timed (wall clock): SCALE-Sim one process per layer, lpsim
# one process per array/dataflow over all layers.
#
# SCALE-Sim is an external program: this script imports nothing from it and
# runs `python3 -m scalesim.scale` in its checkout (Debian's /usr/bin/python3
# with python3-numpy, -pandas, -tqdm, -absl by default; see --python).
# Python standard library only.

import argparse
import csv
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

# SCALE-Sim topology rows: name, IFMAP H, IFMAP W (padding included), filter H,
# filter W, channels, filters, stride, and whether the (slow) USER-mode sweep
# runs it. SCALE-Sim reads a name containing "DP" as a depthwise conv: avoid it.
LAYERS = [
    ("alexnet_conv1", 227, 227, 11, 11, 3, 96, 4, False),
    ("alexnet_conv2", 31, 31, 5, 5, 96, 256, 1, False),
    ("alexnet_conv3", 15, 15, 3, 3, 256, 384, 1, False),
    ("resnet18_conv2_x", 58, 58, 3, 3, 64, 64, 1, False),
    ("resnet18_conv5_x", 9, 9, 3, 3, 512, 512, 1, False),
    ("cifar_resnet_stage1", 34, 34, 3, 3, 16, 16, 1, True),
    ("small_3x3_c3", 10, 10, 3, 3, 3, 8, 1, True),
    ("small_1x1_64_32", 8, 8, 1, 1, 64, 32, 1, True),
    ("small_1x1_128_128", 14, 14, 1, 1, 128, 128, 1, True),
    ("small_1x1_512_128", 7, 7, 1, 1, 512, 128, 1, True),
    ("alexnet_fc6", 1, 1, 1, 1, 9216, 4096, 1, False),  # GEMM 1 x 4096 x 9216
    ("gemm_512", 512, 1, 1, 1, 512, 512, 1, False),  # GEMM 512 x 512 x 512
]
ARRAYS = (32, 128)
DATAFLOWS = ("os", "ws", "is")
BANDWIDTHS = (10, 50)  # words/cycle; SCALE-Sim's shipped configs use 10
IDEAL_SRAM_KB = 1 << 20  # 1 GiB per SRAM: every layer is one tile
# Bandwidth mode SRAMs (ifmap, filter, ofmap kB): SCALE-Sim's configs/scale.cfg
# for 32x32, configs/google.cfg (256x256) scaled by array area for 128x128.
BW_SRAM_KB = {32: (64, 64, 64), 128: (1536, 1536, 512)}
MAX_PORT_BITS = 1 << 32  # lpsim's limit; SCALE-Sim never limits SRAM ports
IDEAL_FALLBACK_SETS = [
    "dram.latency_ns=0", "dram.bandwidth_gbps=100000",
    "accumulators.capacity_kb=%d" % IDEAL_SRAM_KB,
    "accumulators.read_bits_per_cycle=%d" % MAX_PORT_BITS,
    "accumulators.write_bits_per_cycle=%d" % MAX_PORT_BITS,
] + ["buffers.%d.%s" % (b, kv) for b in (0, 1) for kv in (
    "capacity_kb=%d" % IDEAL_SRAM_KB, "read_bits_per_cycle=%d" % MAX_PORT_BITS,
    "write_bits_per_cycle=%d" % MAX_PORT_BITS)]
LPSIM_COMMON = ["simulate", "--phase", "fwd", "--batch", "1", "--precision", "8/8", "--json"]


def die(message):
    print("scalesim_compare: " + message, file=sys.stderr)
    sys.exit(1)


def gemm_dims(layer):
    """lpsim's lowering (models/training_step.h): M = ofmap pixels, N = filters, K = window."""
    _, h, w, fh, fw, c, nf, s, _ = layer
    return ((h - fh) // s + 1) * ((w - fw) // s + 1), nf, fh * fw * c


def scalesim_demand_rows(layer, array, dataflow):
    """Rows of SCALE-Sim's demand matrices for an ideal run (compute/systolic_compute_*.py): per fold
    T + R + C - 2 for os, T + 2R + C - 2 for ws and is; it reports one cycle less."""
    m, n, k = gemm_dims(layer)
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]
    folds = -(-sr // array) * -(-sc // array)
    return folds * (t + (2 if dataflow == "os" else 3) * array - 2)


def topology_csv(layers):
    rows = ["Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,Strides,"]
    rows += [",".join(str(v) for v in layer[:8]) + "," for layer in layers]  # SCALE-Sim drops the last field
    return "\n".join(rows) + "\n"


def scalesim_config(array, dataflow, sram_kb, bandwidth):
    """A SCALE-Sim config file; bandwidth None = CALC mode (stall-free, SCALE-Sim's own estimate)."""
    ifmap_kb, filter_kb, ofmap_kb = sram_kb
    return "\n".join([
        "[general]", "run_name = lpsim_compare", "",
        "[architecture_presets]",
        "ArrayHeight: %d" % array, "ArrayWidth: %d" % array,
        "IfmapSramSzkB: %d" % ifmap_kb, "FilterSramSzkB: %d" % filter_kb, "OfmapSramSzkB: %d" % ofmap_kb,
        "IfmapOffset: 0", "FilterOffset: 10000000", "OfmapOffset: 20000000",
        "Dataflow: %s" % dataflow, "Bandwidth: %d" % (bandwidth or 10), "MemoryBanks: 1", "",
        "[run_presets]", "InterfaceBandwidth: %s" % ("USER" if bandwidth else "CALC"), ""])


def lpsim_arch_yaml(array, dataflow, bandwidth):
    ifmap_kb, filter_kb, ofmap_kb = BW_SRAM_KB[array]
    port = "read_bits_per_cycle: %d, write_bits_per_cycle: %d" % (MAX_PORT_BITS, MAX_PORT_BITS)
    return "\n".join([
        "# SCALE-Sim-like design point: 1 word = 1 byte, 1 GHz, so GB/s = words/cycle.",
        "name: scalesim_like_%dx%d_%s_bw%d" % (array, array, dataflow, bandwidth),
        "clock_ghz: 1.0",
        "pe: {type: fixed, native_formats: [8]}",
        "array: {rows: %d, cols: %d}" % (array, array),
        "dataflow: %s" % dataflow,
        "buffers:",
        "  - {name: ifmap_sram, capacity_kb: %d, %s, holds: [A, E]}" % (ifmap_kb, port),
        "  - {name: filter_sram, capacity_kb: %d, %s, holds: [W, G, Opt]}" % (filter_kb, port),
        "accumulators: {name: ofmap_sram, capacity_kb: %d, %s}" % (ofmap_kb, port),
        "dram: {bandwidth_gbps: %d, latency_ns: 0}" % bandwidth,
        "double_buffering: true", ""])


class ScaleSim:
    """Runs SCALE-Sim on one topology row at a time, optionally caching results by input hash."""

    def __init__(self, root, python, workdir, cache):
        self.root, self.python, self.workdir, self.cache = root, python, workdir, cache
        if not os.path.isfile(os.path.join(root, "scalesim", "scale.py")):
            die("--scalesim %s: not a SCALE-Sim v2 checkout (no scalesim/scale.py)" % root)
        if not os.access(python, os.X_OK):
            die("--python %s: not an executable" % python)
        digest = hashlib.sha256()
        for folder, _, files in sorted(os.walk(os.path.join(root, "scalesim"))):
            for name in sorted(f for f in files if f.endswith(".py")):
                with open(os.path.join(folder, name), "rb") as f:
                    digest.update(f.read())
        self.source_hash = digest.hexdigest()
        self.count = 0

    def run(self, config, layer):
        topo = topology_csv([layer])
        key = hashlib.sha256((self.source_hash + config + topo).encode()).hexdigest()[:24]
        cached = self.cache and os.path.join(self.cache, key + ".json")
        if cached and os.path.exists(cached):
            with open(cached) as f:
                return dict(json.load(f), cached=True)
        self.count += 1
        run_dir = os.path.join(self.workdir, "scalesim_%04d" % self.count)
        os.makedirs(run_dir)
        for name, text in (("config.cfg", config), ("topology.csv", topo)):
            with open(os.path.join(run_dir, name), "w") as f:
                f.write(text)
        cmd = [self.python, "-m", "scalesim.scale", "-c", os.path.join(run_dir, "config.cfg"),
               "-t", os.path.join(run_dir, "topology.csv"), "-p", os.path.join(run_dir, "out")]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=self.root))
        wall = time.perf_counter() - start
        report = os.path.join(run_dir, "out", "lpsim_compare", "COMPUTE_REPORT.csv")
        if proc.returncode != 0 or not os.path.exists(report):
            tail = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            die("SCALE-Sim failed on %s (%s, exit %d): %s" % (layer[0], run_dir, proc.returncode, tail))
        compute = read_report(report)
        access = read_report(report.replace("COMPUTE_REPORT", "DETAILED_ACCESS_REPORT"))
        result = {"cycles": int(float(compute["Total Cycles"])), "stalls": int(float(compute["Stall Cycles"])),
                  "dram_reads": int(float(access["DRAM IFMAP Reads"]) + float(access["DRAM Filter Reads"])),
                  "wall_s": wall}
        if cached:
            os.makedirs(self.cache, exist_ok=True)
            with open(cached, "w") as f:
                json.dump(result, f)
        return dict(result, cached=False)


def read_report(path):
    with open(path) as f:
        rows = list(csv.DictReader(f, skipinitialspace=True))
    if len(rows) != 1:
        die("%s: expected one layer row, found %d" % (path, len(rows)))
    return rows[0]


def run_lpsim(lpsim, topo_path, arch, sets):
    """One lpsim process over all layers: (per-layer JSON by name, wall seconds, exit code, stderr)."""
    cmd = [lpsim] + LPSIM_COMMON + ["--topology", topo_path, "--arch", arch]
    for s in sets:
        cmd += ["--set", s]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return None, wall, proc.returncode, proc.stderr.strip()
    return {l["name"]: l for l in json.loads(proc.stdout)["layers"]}, wall, 0, ""


def lpsim_layers(lpsim, topo_path, arch, sets):
    layers, wall, rc, err = run_lpsim(lpsim, topo_path, arch, sets)
    if rc:
        die("lpsim failed (exit %d): %s" % (rc, err.splitlines()[-1] if err else "no output"))
    return layers, wall


def lpsim_stalls(layer):
    """The new stall_cycles object (causes -> cycles) when present, else memory_bound_cycles."""
    stalls = layer.get("stall_cycles")
    if isinstance(stalls, dict):
        return sum(v for v in stalls.values() if isinstance(v, (int, float))), "stall_cycles"
    if isinstance(stalls, (int, float)):
        return stalls, "stall_cycles"
    return layer["memory_bound_cycles"], "memory_bound_cycles"


def pct(a, b):
    return 100.0 * (a - b) / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser(description="Compare lpsim's per-layer cycles with SCALE-Sim v2's.")
    ap.add_argument("--scalesim", required=True, help="SCALE-Sim v2 checkout (holds scalesim/scale.py)")
    ap.add_argument("--lpsim", default="build/tools/lpsim")
    ap.add_argument("--modes", default="ideal,bandwidth", help="comma-separated: ideal, bandwidth")
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable,
                    help="interpreter with numpy, pandas, tqdm for SCALE-Sim (default: /usr/bin/python3)")
    ap.add_argument("--layers", help="comma-separated layer names (default: all)")
    ap.add_argument("--jobs", type=int, default=1, help="SCALE-Sim processes at once (default 1)")
    ap.add_argument("--cache", help="folder to keep SCALE-Sim results in, keyed by its sources, config and layer")
    ap.add_argument("-o", "--output", help="Markdown report (default: stdout)")
    ap.add_argument("--csv", help="raw rows as CSV")
    args = ap.parse_args()

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"ideal", "bandwidth"}:
        die("--modes %s: use ideal, bandwidth or both" % args.modes)
    layers = LAYERS
    if args.layers:
        wanted = args.layers.split(",")
        unknown = set(wanted) - {l[0] for l in LAYERS}
        if unknown:
            die("--layers: unknown %s; known: %s" % (", ".join(sorted(unknown)), ", ".join(l[0] for l in LAYERS)))
        layers = [l for l in LAYERS if l[0] in wanted]
    if not (os.path.isfile(args.lpsim) and os.access(args.lpsim, os.X_OK)):
        die("--lpsim %s: not an executable" % args.lpsim)

    workdir = tempfile.mkdtemp(prefix="scalesim_compare_")
    scalesim = ScaleSim(os.path.abspath(args.scalesim), args.python, workdir, args.cache)
    bw_layers = [l for l in layers if l[8]]
    topo = {"ideal": layers, "bandwidth": bw_layers}
    topo_paths = {}
    for mode, ls in topo.items():
        topo_paths[mode] = os.path.join(workdir, "layers_%s.csv" % mode)
        with open(topo_paths[mode], "w") as f:
            f.write(topology_csv(ls))

    # lpsim: ideal_memory if this binary has it (exit 2 = bad input = unknown key), else explicit keys.
    combos = [(a, d) for a in ARRAYS for d in DATAFLOWS]
    probe, _, rc, err = run_lpsim(args.lpsim, topo_paths["ideal"], "tpu_int8", ["ideal_memory=true"])
    if rc not in (0, 2):
        die("lpsim failed (exit %d): %s" % (rc, err.splitlines()[-1] if err else "no output"))
    ideal_sets = ["ideal_memory=true"] if rc == 0 else IDEAL_FALLBACK_SETS
    ideal_how = ("--set ideal_memory=true" if rc == 0 else
                 "explicit keys (this lpsim has no ideal_memory key): --set " + " --set ".join(IDEAL_FALLBACK_SETS))
    print("lpsim ideal memory: " + ideal_how, file=sys.stderr)

    def array_sets(a, d):
        return ["array.rows=%d" % a, "array.cols=%d" % a, "dataflow=%s" % d]

    # Every run as (mode, array, dataflow, bandwidth) -> SCALE-Sim config and lpsim results.
    runs = []
    ideal_lp = {}  # (array, dataflow, topology) -> lpsim ideal layers; bandwidth mode reads it for lpsim's excess
    for mode in modes:
        for a, d in combos:
            for bw in ([None] if mode == "ideal" else BANDWIDTHS):
                sram = (IDEAL_SRAM_KB,) * 3 if bw is None else BW_SRAM_KB[a]
                runs.append({"mode": mode, "array": a, "dataflow": d, "bw": bw,
                             "config": scalesim_config(a, d, sram, bw)})
    for run in runs:
        a, d, mode = run["array"], run["dataflow"], run["mode"]
        if (a, d, mode) not in ideal_lp:
            ideal_lp[(a, d, mode)] = lpsim_layers(args.lpsim, topo_paths[mode], "tpu_int8",
                                                  ideal_sets + array_sets(a, d))
        if mode == "ideal":
            run["lpsim"], run["lpsim_wall"] = ideal_lp[(a, d, mode)]
        else:
            arch = os.path.join(workdir, "arch_%d_%s_bw%d.yaml" % (a, d, run["bw"]))
            with open(arch, "w") as f:
                f.write(lpsim_arch_yaml(a, d, run["bw"]))
            run["arch_path"] = arch
            run["lpsim"], run["lpsim_wall"] = lpsim_layers(args.lpsim, topo_paths[mode], arch, [])

    jobs = [(run, layer) for run in runs for layer in topo[run["mode"]]]
    done = [0]

    def scalesim_job(job):
        run, layer = job
        result = scalesim.run(run["config"], layer)
        done[0] += 1
        print("[%d/%d] SCALE-Sim %s %dx%d %s%s %s: %d cycles, %.1f s%s" % (
            done[0], len(jobs), run["mode"], run["array"], run["array"], run["dataflow"],
            " bw %d" % run["bw"] if run["bw"] else "", layer[0], result["cycles"], result["wall_s"],
            " (cached)" if result["cached"] else ""), file=sys.stderr)
        return result

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(scalesim_job, jobs))

    rows = []
    for (run, layer), ss in zip(jobs, results):
        lp = run["lpsim"][layer[0]]
        m, n, k = gemm_dims(layer)
        stalls, stall_field = lpsim_stalls(lp)
        rows.append({
            "mode": run["mode"], "array": "%dx%d" % (run["array"], run["array"]), "dataflow": run["dataflow"],
            "bandwidth_words_per_cycle": run["bw"] or "", "layer": layer[0], "M": m, "N": n, "K": k,
            "scalesim_cycles": ss["cycles"], "lpsim_cycles": int(lp["cycles"]),
            "diff_pct": round(pct(lp["cycles"], ss["cycles"]), 3),
            "scalesim_stalls": ss["stalls"], "lpsim_stalls": int(stalls), "lpsim_stall_field": stall_field,
            "scalesim_demand_rows": scalesim_demand_rows(layer, run["array"], run["dataflow"]),
            "lpsim_ideal_cycles": int(ideal_lp[(run["array"], run["dataflow"], run["mode"])][0][layer[0]]["cycles"]),
            "scalesim_dram_read_words": ss["dram_reads"], "lpsim_dram_read_words": int(lp["dram_read_bits"] // 8),
            "scalesim_wall_s": round(ss["wall_s"], 3), "scalesim_cached": ss["cached"],
            "lpsim_wall_s_per_layer": round(run["lpsim_wall"] / len(topo[run["mode"]]), 5),
        })

    md = render(rows, runs, topo, modes, ideal_how)
    if args.output:
        with open(args.output, "w") as f:
            f.write(md)
    else:
        sys.stdout.write(md)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in body]) + "\n"


def render(rows, runs, topo, modes, ideal_how):
    out = io.StringIO()
    w = out.write
    w("## lpsim against SCALE-Sim v2 (run for real)\n\n")
    w("Generated by `scripts/scalesim_compare.py`. Layers are SCALE-Sim topology rows at batch 1, "
      "INT8 operands; lpsim lowers each to a GEMM with M = ofmap pixels, N = filters, K = window. "
      "diff = (lpsim - SCALE-Sim) / SCALE-Sim. SCALE-Sim runs one row per process with the header row.\n\n")
    w("Topology (all rows; bandwidth mode runs %s):\n\n```\n%s```\n\n" % (
        ", ".join(l[0] for l in topo["bandwidth"]) or "none", topology_csv(topo["ideal"])))
    for mode in modes:
        mode_rows = [r for r in rows if r["mode"] == mode]
        first = {}
        for run in runs:
            if run["mode"] == mode:
                first.setdefault(run["array"], run)
        w("### Mode: %s\n\n" % mode)
        for a, run in first.items():
            w("SCALE-Sim config, %dx%d (the ws and is files differ only in `Dataflow`%s):\n\n```\n%s```\n\n" % (
                a, a, "" if mode == "ideal" else "; bandwidth %s runs change `Bandwidth`" %
                " and ".join(str(b) for b in BANDWIDTHS), run["config"]))
        if mode == "ideal":
            w("lpsim: `lpsim simulate --topology layers.csv --phase fwd --batch 1 --precision 8/8 --arch tpu_int8 "
              "--set array.rows=R --set array.cols=R --set dataflow=D --json`, ideal memory by %s.\n\n" % ideal_how)
            w(table(["array", "dataflow", "layer", "M x N x K", "SCALE-Sim cycles", "lpsim cycles", "diff %"],
                    [[r["array"], r["dataflow"], r["layer"], "%dx%dx%d" % (r["M"], r["N"], r["K"]),
                      r["scalesim_cycles"], r["lpsim_cycles"], "%+.2f" % r["diff_pct"]] for r in mode_rows]))
            w("\nPer array and dataflow, |diff| over the layers:\n\n")
            summary = []
            for a in ARRAYS:
                for d in DATAFLOWS:
                    sel = [r for r in mode_rows if r["array"] == "%dx%d" % (a, a) and r["dataflow"] == d]
                    if sel:
                        worst = max(sel, key=lambda r: abs(r["diff_pct"]))
                        summary.append(["%dx%d" % (a, a), d, "%.2f%%" % statistics.median(abs(r["diff_pct"]) for r in sel),
                                        "%.2f%% (%s)" % (abs(worst["diff_pct"]), worst["layer"])])
            w(table(["array", "dataflow", "median |diff|", "worst |diff|"], summary))
            match = sum(r["scalesim_cycles"] == r["scalesim_demand_rows"] - 1 for r in mode_rows)
            w("\nSCALE-Sim's cycles equal its demand rows minus one, folds x (T + R + C - 2) - 1 for os and "
              "folds x (T + 2R + C - 2) - 1 for ws and is, in %d of %d rows.\n" % (match, len(mode_rows)))
        else:
            bw_run = next(r for r in runs if r["mode"] == mode)
            w("lpsim arch (the one for %dx%d %s, bandwidth %d; the others change array, dataflow, SRAM sizes "
              "and `bandwidth_gbps` alike):\n\n```yaml\n%s```\n\n" % (
                  bw_run["array"], bw_run["array"], bw_run["dataflow"], bw_run["bw"],
                  lpsim_arch_yaml(bw_run["array"], bw_run["dataflow"], bw_run["bw"])))
            field = mode_rows[0]["lpsim_stall_field"] if mode_rows else "memory_bound_cycles"
            w("Stalls: SCALE-Sim's `Stall Cycles` (COMPUTE_REPORT.csv); lpsim's `layers[].%s`, and lpsim's "
              "excess = its cycles here minus its ideal-memory cycles. DRAM reads: SCALE-Sim's IFMAP + Filter "
              "DRAM reads (DETAILED_ACCESS_REPORT.csv), lpsim's `dram_read_bits` / 8.\n\n" % field)
            w(table(["array", "dataflow", "bw", "layer", "M x N x K", "SCALE-Sim cycles", "lpsim cycles", "diff %",
                     "SCALE-Sim stalls", "lpsim stalls", "lpsim excess", "SCALE-Sim DRAM reads", "lpsim DRAM reads"],
                    [[r["array"], r["dataflow"], r["bandwidth_words_per_cycle"], r["layer"],
                      "%dx%dx%d" % (r["M"], r["N"], r["K"]), r["scalesim_cycles"], r["lpsim_cycles"],
                      "%+.2f" % r["diff_pct"], r["scalesim_stalls"], r["lpsim_stalls"],
                      r["lpsim_cycles"] - r["lpsim_ideal_cycles"], r["scalesim_dram_read_words"],
                      r["lpsim_dram_read_words"]] for r in mode_rows]))
            w("\nPer array, dataflow and bandwidth: |diff| of total cycles, and stall cycles summed over the layers:\n\n")
            summary = []
            for a in ARRAYS:
                for d in DATAFLOWS:
                    for bw in BANDWIDTHS:
                        sel = [r for r in mode_rows if r["array"] == "%dx%d" % (a, a) and r["dataflow"] == d
                               and r["bandwidth_words_per_cycle"] == bw]
                        if sel:
                            worst = max(sel, key=lambda r: abs(r["diff_pct"]))
                            summary.append(["%dx%d" % (a, a), d, bw,
                                            "%.1f%%" % statistics.median(abs(r["diff_pct"]) for r in sel),
                                            "%.1f%% (%s)" % (abs(worst["diff_pct"]), worst["layer"]),
                                            sum(r["scalesim_stalls"] for r in sel), sum(r["lpsim_stalls"] for r in sel),
                                            sum(r["lpsim_cycles"] - r["lpsim_ideal_cycles"] for r in sel)])
            w(table(["array", "dataflow", "bw", "median |diff|", "worst |diff|", "SCALE-Sim stalls",
                     "lpsim stalls", "lpsim excess"], summary))
        w("\n")
    w("### Speed\n\nWall clock: SCALE-Sim one process per layer (interpreter start included), summed; "
      "lpsim one process per array/dataflow over all layers.\n\n")
    speed = []
    for mode in modes:
        for a in ARRAYS:
            for d in DATAFLOWS:
                for bw in ([""] if mode == "ideal" else BANDWIDTHS):
                    sel = [r for r in rows if r["mode"] == mode and r["array"] == "%dx%d" % (a, a)
                           and r["dataflow"] == d and r["bandwidth_words_per_cycle"] == bw]
                    if sel:
                        ss = sum(r["scalesim_wall_s"] for r in sel)
                        lp = sum(r["lpsim_wall_s_per_layer"] for r in sel)
                        cached = " (cached)" if any(r["scalesim_cached"] for r in sel) else ""
                        speed.append([mode, "%dx%d" % (a, a), d, bw, len(sel), "%.1f%s" % (ss, cached),
                                      "%.3f" % lp, "%.0fx" % (ss / lp) if lp else "-"])
    total_ss = sum(r["scalesim_wall_s"] for r in rows)
    total_lp = sum(r["lpsim_wall_s_per_layer"] for r in rows)
    speed.append(["all", "", "", "", len(rows), "%.1f" % total_ss, "%.3f" % total_lp,
                  "%.0fx" % (total_ss / total_lp) if total_lp else "-"])
    w(table(["mode", "array", "dataflow", "bw", "layers", "SCALE-Sim s", "lpsim s", "SCALE-Sim / lpsim"], speed))
    return out.getvalue()


if __name__ == "__main__":
    main()
