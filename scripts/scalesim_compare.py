#!/usr/bin/env python3
# Usage: python3 scripts/scalesim_compare.py --scalesim PATH [--lpsim build/tools/lpsim] [--modes ideal,bandwidth] [-o docs-fragment.md] [--csv rows.csv]
#
# Validates lpsim's per-layer cycle counts against SCALE-Sim v2 itself (its
# Python simulator run for real, not the closed form of its paper), so that a
# change to lpsim's fold arithmetic or memory model shows up as a number next
# to the peer tool's.
#
# - ideal: SCALE-Sim in InterfaceBandwidth CALC mode (stall-free by
#   construction) with 1 GiB SRAMs; lpsim with --set ideal_memory=true or, on
#   a binary without that key, the explicit keys that make memory free
#   (unbounded DRAM and ports, zero latency, 1 GiB buffers and accumulators).
#   Same layers, two arrays, three dataflows: only fold arithmetic differs.
# - bandwidth: SCALE-Sim in USER mode at a DRAM bandwidth in words/cycle with
#   SCALE-Sim-sized SRAMs; lpsim on a matching arch YAML (INT8 PE, 1 GHz so
#   GB/s = words/cycle, buffers mirroring the ifmap and filter SRAMs,
#   accumulators for the ofmap SRAM, unbounded SRAM ports as SCALE-Sim has,
#   0 ns DRAM latency). Compares total and stall cycles and DRAM words read.
#   USER mode is slow (a Python loop per requested word), so it runs the
#   layers flagged below only.
# Both tools are timed (wall clock): SCALE-Sim one process per layer, lpsim
# one process per array/dataflow over all layers.
#
# SCALE-Sim is an external program: nothing is imported from it; the script
# runs `python3 -m scalesim.scale` in its checkout with Debian's /usr/bin/python3
# (apt-get install python3-numpy python3-pandas python3-tqdm python3-absl).
# Standard library only. A full sweep is about 25 minutes of SCALE-Sim on one
# core (AlexNet FC6 nearly half of it, up to 6 GB of memory); --cache DIR makes
# re-runs against a changed lpsim take a second, --layers picks a subset.

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# SCALE-Sim topology rows: name, IFMAP H, IFMAP W (padding included), filter H,
# filter W, channels, filters, stride; then whether bandwidth mode runs it.
# SCALE-Sim reads a name containing "DP" as a depthwise conv: avoid that.
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
    ("alexnet_fc6", 1, 1, 1, 1, 9216, 4096, 1, False),  # GEMM M=1, N=4096, K=9216
    ("gemm_512", 512, 1, 1, 1, 512, 512, 1, False),  # GEMM M=N=K=512
]
ARRAYS = (32, 128)
DATAFLOWS = ("os", "ws", "is")
BANDWIDTHS = (10, 50)  # words/cycle; SCALE-Sim's shipped configs use 10
IDEAL_SRAM_KB = 1 << 20  # 1 GiB per SRAM: every layer is one tile
# Bandwidth-mode SRAMs (ifmap, filter, ofmap kB): SCALE-Sim's configs/scale.cfg
# for 32x32; configs/google.cfg (256x256) scaled by array area for 128x128.
BW_SRAM_KB = {32: (64, 64, 64), 128: (1536, 1536, 512)}
MAX_PORT_BITS = 1 << 32  # lpsim's limit for read/write_bits_per_cycle
IDEAL_FALLBACK_SETS = ["dram.latency_ns=0", "dram.bandwidth_gbps=100000"] + [
    "%s.%s" % (where, kv) for where in ("buffers.0", "buffers.1", "accumulators")
    for kv in ("capacity_kb=%d" % IDEAL_SRAM_KB, "read_bits_per_cycle=%d" % MAX_PORT_BITS,
               "write_bits_per_cycle=%d" % MAX_PORT_BITS)]


def die(message):
    print("scalesim_compare: " + message, file=sys.stderr)
    sys.exit(1)


def gemm_dims(layer):
    """lpsim's lowering (models/training_step.h): M = ofmap pixels, N = filters, K = window."""
    _, h, w, fh, fw, c, nf, s, _ = layer
    return ((h - fh) // s + 1) * ((w - fw) // s + 1), nf, fh * fw * c


def scalesim_demand_rows(layer, array, dataflow):
    """Rows of SCALE-Sim's demand matrices (compute/systolic_compute_*.py): per fold T + R + C - 2
    for os, T + 2R + C - 2 for ws and is. Stall-free, it reports one cycle less."""
    m, n, k = gemm_dims(layer)
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]
    return -(-sr // array) * -(-sc // array) * (t + (2 if dataflow == "os" else 3) * array - 2)


def topology_csv(layers):
    header = "Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,Strides,"
    # Every row ends in a comma: SCALE-Sim drops a row's last field.
    return "\n".join([header] + [",".join(map(str, l[:8])) + "," for l in layers]) + "\n"


def scalesim_config(array, dataflow, bandwidth):
    """bandwidth None: CALC mode (SCALE-Sim estimates the bandwidth for stall-free runs)."""
    sram = (IDEAL_SRAM_KB,) * 3 if bandwidth is None else BW_SRAM_KB[array]
    return "\n".join([
        "[general]", "run_name = lpsim_compare", "", "[architecture_presets]",
        "ArrayHeight: %d" % array, "ArrayWidth: %d" % array,
        "IfmapSramSzkB: %d" % sram[0], "FilterSramSzkB: %d" % sram[1], "OfmapSramSzkB: %d" % sram[2],
        "IfmapOffset: 0", "FilterOffset: 10000000", "OfmapOffset: 20000000",
        "Dataflow: " + dataflow, "Bandwidth: %d" % (bandwidth or 10), "MemoryBanks: 1", "",
        "[run_presets]", "InterfaceBandwidth: " + ("CALC" if bandwidth is None else "USER"), ""])


def lpsim_arch_yaml(array, dataflow, bandwidth):
    ifmap_kb, filter_kb, ofmap_kb = BW_SRAM_KB[array]
    port = "read_bits_per_cycle: %d, write_bits_per_cycle: %d" % (MAX_PORT_BITS, MAX_PORT_BITS)
    return "\n".join([
        "# SCALE-Sim-like design point: 1 word = 1 byte at 1 GHz, so GB/s = words/cycle.",
        "name: scalesim_like_%d_%s_bw%d" % (array, dataflow, bandwidth), "clock_ghz: 1.0",
        "pe: {type: fixed, native_formats: [8]}",
        "array: {rows: %d, cols: %d}" % (array, array), "dataflow: " + dataflow, "buffers:",
        "  - {name: ifmap_sram, capacity_kb: %d, %s, holds: [A, E]}" % (ifmap_kb, port),
        "  - {name: filter_sram, capacity_kb: %d, %s, holds: [W, G, Opt]}" % (filter_kb, port),
        "accumulators: {name: ofmap_sram, capacity_kb: %d, %s}" % (ofmap_kb, port),
        "dram: {bandwidth_gbps: %d, latency_ns: 0}" % bandwidth, "double_buffering: true", ""])


def read_report(path):
    with open(path) as f:
        rows = list(csv.DictReader(f, skipinitialspace=True))
    if len(rows) != 1:
        die("%s: expected one layer row, found %d" % (path, len(rows)))
    return {k: float(v) for k, v in rows[0].items() if k and v}


class ScaleSim:
    """Runs SCALE-Sim on one topology row at a time; with a cache folder, keeps results keyed by
    SCALE-Sim's sources, the config and the row."""

    def __init__(self, root, python, workdir, cache):
        self.root, self.python, self.workdir, self.cache, self.runs = root, python, workdir, cache, 0
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

    def run(self, config, layer):
        topo = topology_csv([layer])
        key = hashlib.sha256((self.source_hash + config + topo).encode()).hexdigest()[:24]
        cached = self.cache and os.path.join(self.cache, key + ".json")
        if cached and os.path.exists(cached):
            with open(cached) as f:
                return dict(json.load(f), cached=True)
        self.runs += 1
        run_dir = os.path.join(self.workdir, "scalesim_%04d_%s" % (self.runs, layer[0]))
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
        if proc.returncode != 0 or not os.path.exists(report):  # it also exits 0 on some errors
            tail = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            die("SCALE-Sim failed on %s (exit %d, files in %s): %s" % (layer[0], proc.returncode, run_dir, tail))
        compute = read_report(report)
        access = read_report(report.replace("COMPUTE_REPORT", "DETAILED_ACCESS_REPORT"))
        result = {"cycles": int(compute["Total Cycles"]), "stalls": int(compute["Stall Cycles"]),
                  "dram_reads": int(access["DRAM IFMAP Reads"] + access["DRAM Filter Reads"]), "wall_s": wall}
        if cached:
            os.makedirs(self.cache, exist_ok=True)
            with open(cached, "w") as f:
                json.dump(result, f)
        return dict(result, cached=False)


def run_lpsim(lpsim, topo_path, arch, sets):
    """One lpsim process over all layers: ({name: layer JSON}, wall seconds, exit code, last stderr line)."""
    cmd = [lpsim, "simulate", "--topology", topo_path, "--phase", "fwd", "--batch", "1",
           "--precision", "8/8", "--arch", arch, "--json"]
    for s in sets:
        cmd += ["--set", s]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return None, wall, proc.returncode, (proc.stderr.strip() or "no output").splitlines()[-1]
    return {l["name"]: l for l in json.loads(proc.stdout)["layers"]}, wall, 0, ""


def lpsim_stalls(layer):
    """Sum over causes of stall_cycles where lpsim reports it, else memory_bound_cycles."""
    stalls = layer.get("stall_cycles")
    if isinstance(stalls, dict):
        return sum(v for v in stalls.values() if isinstance(v, (int, float))), "stall_cycles (sum of causes)"
    return layer["memory_bound_cycles"], "memory_bound_cycles"


def main():
    ap = argparse.ArgumentParser(description="Compare lpsim's per-layer cycles with SCALE-Sim v2's.")
    ap.add_argument("--scalesim", required=True, help="SCALE-Sim v2 checkout (holds scalesim/scale.py)")
    ap.add_argument("--lpsim", default="build/tools/lpsim")
    ap.add_argument("--modes", default="ideal,bandwidth", help="ideal, bandwidth or both (default)")
    ap.add_argument("--python", default="/usr/bin/python3", help="SCALE-Sim's interpreter (numpy, pandas, tqdm)")
    ap.add_argument("--layers", help="comma-separated layer names (default: all)")
    ap.add_argument("--jobs", type=int, default=1, help="SCALE-Sim processes at once (default 1)")
    ap.add_argument("--cache", help="folder keeping SCALE-Sim results between runs")
    ap.add_argument("-o", "--output", help="Markdown report (default: stdout)")
    ap.add_argument("--csv", help="raw rows as CSV")
    args = ap.parse_args()

    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - {"ideal", "bandwidth"}:
        die("--modes %s: use ideal, bandwidth or ideal,bandwidth" % args.modes)
    names = args.layers.split(",") if args.layers else [l[0] for l in LAYERS]
    unknown = set(names) - {l[0] for l in LAYERS}
    if unknown:
        die("--layers: unknown %s; known: %s" % (", ".join(sorted(unknown)), ", ".join(l[0] for l in LAYERS)))
    if not (os.path.isfile(args.lpsim) and os.access(args.lpsim, os.X_OK)):
        die("--lpsim %s: not an executable" % args.lpsim)
    workdir = tempfile.mkdtemp(prefix="scalesim_compare_")
    scalesim = ScaleSim(os.path.abspath(args.scalesim), args.python, workdir, args.cache)
    layers = {"ideal": [l for l in LAYERS if l[0] in names]}
    layers["bandwidth"] = [l for l in layers["ideal"] if l[8]]
    if not layers["bandwidth"] and "bandwidth" in modes and len(modes) > 1:
        print("scalesim_compare: no layer of --layers runs in bandwidth mode; skipping it", file=sys.stderr)
        modes.remove("bandwidth")
    topo = {}
    for mode in modes:
        if not layers[mode]:
            die("--layers: none of them runs in %s mode (those that do: %s)" % (
                mode, ", ".join(l[0] for l in LAYERS if l[8])))
        topo[mode] = os.path.join(workdir, "layers_%s.csv" % mode)
        with open(topo[mode], "w") as f:
            f.write(topology_csv(layers[mode]))

    # lpsim's ideal memory: the ideal_memory key, or explicit keys when lpsim rejects it as bad input (exit 2).
    _, _, rc, err = run_lpsim(args.lpsim, topo[modes[0]], "tpu_int8", ["ideal_memory=true"])
    if rc not in (0, 2):
        die("lpsim failed (exit %d): %s" % (rc, err))
    ideal_sets = ["ideal_memory=true"] if rc == 0 else IDEAL_FALLBACK_SETS
    ideal_how = "--set " + " --set ".join(ideal_sets)
    print("lpsim ideal memory: %s%s" % (ideal_how, "" if rc == 0 else " (no ideal_memory key: %s)" % err),
          file=sys.stderr)

    # One run per (mode, array, dataflow, bandwidth): SCALE-Sim's config, lpsim's layers and ideal layers.
    runs = []
    for mode in modes:
        for a in ARRAYS:
            for d in DATAFLOWS:
                sets = ["array.rows=%d" % a, "array.cols=%d" % a, "dataflow=" + d]
                ideal, ideal_wall, rc, err = run_lpsim(args.lpsim, topo[mode], "tpu_int8", ideal_sets + sets)
                for bw in [None] if mode == "ideal" else BANDWIDTHS:
                    lp, wall = ideal, ideal_wall
                    if bw and not rc:
                        arch = os.path.join(workdir, "arch_%d_%s_bw%d.yaml" % (a, d, bw))
                        with open(arch, "w") as f:
                            f.write(lpsim_arch_yaml(a, d, bw))
                        lp, wall, rc, err = run_lpsim(args.lpsim, topo[mode], arch, [])
                    if rc:
                        die("lpsim failed on %dx%d %s (exit %d): %s" % (a, a, d, rc, err))
                    runs.append({"mode": mode, "array": a, "dataflow": d, "bw": bw, "lpsim": lp, "ideal": ideal,
                                 "lpsim_wall": wall, "config": scalesim_config(a, d, bw)})

    jobs = [(run, layer) for run in runs for layer in layers[run["mode"]]]
    done, failed = [], threading.Event()

    def scalesim_job(job):
        run, layer = job
        if failed.is_set():
            return None
        try:
            result = scalesim.run(run["config"], layer)
        except SystemExit:
            failed.set()
            raise
        done.append(1)
        print("[%d/%d] SCALE-Sim %s %dx%d %s%s %s: %d cycles, %.1f s%s" % (
            len(done), len(jobs), run["mode"], run["array"], run["array"], run["dataflow"],
            " bw %d" % run["bw"] if run["bw"] else "", layer[0], result["cycles"], result["wall_s"],
            " (cached)" if result["cached"] else ""), file=sys.stderr)
        return result

    pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        results = list(pool.map(scalesim_job, jobs))
    finally:  # on a failure, start no further SCALE-Sim run
        pool.shutdown(wait=False, cancel_futures=True)

    rows = []
    for (run, layer), ss in zip(jobs, results):
        lp = run["lpsim"][layer[0]]
        m, n, k = gemm_dims(layer)
        stalls, stall_field = lpsim_stalls(lp)
        rows.append({
            "mode": run["mode"], "array": "%dx%d" % (run["array"], run["array"]), "dataflow": run["dataflow"],
            "bandwidth": run["bw"] or "", "layer": layer[0], "M": m, "N": n, "K": k,
            "scalesim_cycles": ss["cycles"], "lpsim_cycles": int(lp["cycles"]),
            "diff_pct": round(100.0 * (lp["cycles"] - ss["cycles"]) / ss["cycles"], 3),
            "scalesim_demand_rows": scalesim_demand_rows(layer, run["array"], run["dataflow"]),
            "scalesim_stalls": ss["stalls"], "lpsim_stalls": int(stalls), "lpsim_stall_field": stall_field,
            "lpsim_ideal_cycles": int(run["ideal"][layer[0]]["cycles"]),
            "scalesim_dram_read_words": ss["dram_reads"], "lpsim_dram_read_words": int(lp["dram_read_bits"] // 8),
            "scalesim_wall_s": round(ss["wall_s"], 3), "scalesim_cached": ss["cached"],
            "lpsim_wall_s": round(run["lpsim_wall"] / len(layers[run["mode"]]), 6),
        })
    md = render(rows, modes, layers, ideal_how)
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
    shutil.rmtree(workdir)


def table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in body]) + "\n\n"


def groups(rows, *keys):
    """Rows grouped by the given columns, in order of first appearance."""
    out = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out.items()


def spread(sel):
    """Median and worst |diff| of a group of rows."""
    worst = max(sel, key=lambda r: abs(r["diff_pct"]))
    return ["%.2f%%" % statistics.median(abs(r["diff_pct"]) for r in sel),
            "%.2f%% (%s)" % (abs(worst["diff_pct"]), worst["layer"])]


def render(rows, modes, layers, ideal_how):
    out = io.StringIO()
    w = out.write
    w("## lpsim against SCALE-Sim v2, run for real\n\nGenerated by `scripts/scalesim_compare.py`. "
      "Layers are SCALE-Sim topology rows at batch 1 with INT8 operands; lpsim lowers each to a GEMM with "
      "M = ofmap pixels, N = filters, K = window. SCALE-Sim runs one row per process (with the header row). "
      "diff = (lpsim - SCALE-Sim) / SCALE-Sim.\n\n")
    w("Topology (bandwidth mode runs %s):\n\n```\n%s```\n\n" % (
        ", ".join(l[0] for l in layers["bandwidth"]), topology_csv(layers["ideal"])))
    for mode in modes:
        sel = [r for r in rows if r["mode"] == mode]
        w("### Mode: %s\n\n" % mode)
        for a in ARRAYS:
            w("SCALE-Sim config, %dx%d (ws and is differ only in `Dataflow`%s):\n\n```\n%s```\n\n" % (
                a, a, "" if mode == "ideal" else "; bandwidth %s only in `Bandwidth`" % BANDWIDTHS[-1],
                scalesim_config(a, "os", None if mode == "ideal" else BANDWIDTHS[0])))
        mnk = lambda r: "%dx%dx%d" % (r["M"], r["N"], r["K"])
        if mode == "ideal":
            w("lpsim: `lpsim simulate --topology layers.csv --phase fwd --batch 1 --precision 8/8 --arch tpu_int8 "
              "--set array.rows=R --set array.cols=R --set dataflow=D %s --json`.\n\n" % ideal_how)
            w(table(["array", "dataflow", "layer", "M x N x K", "SCALE-Sim cycles", "lpsim cycles", "diff %"],
                    [[r["array"], r["dataflow"], r["layer"], mnk(r), r["scalesim_cycles"], r["lpsim_cycles"],
                      "%+.2f" % r["diff_pct"]] for r in sel]))
            w("Per array and dataflow, over the layers:\n\n")
            w(table(["array", "dataflow", "median \\|diff\\|", "worst \\|diff\\|", "lpsim - SCALE-Sim, cycles"],
                    [list(key) + spread(g) + [", ".join(sorted({str(r["lpsim_cycles"] - r["scalesim_cycles"])
                                                              for r in g}, key=int))]
                     for key, g in groups(sel, "array", "dataflow")]))
            match = sum(r["scalesim_cycles"] == r["scalesim_demand_rows"] - 1 for r in sel)
            w("SCALE-Sim's cycles are its demand rows minus one, folds x (T + R + C - 2) - 1 for os and "
              "folds x (T + 2R + C - 2) - 1 for ws and is, in %d of %d rows.\n\n" % (match, len(sel)))
        else:
            w("lpsim: `lpsim simulate --topology layers.csv --phase fwd --batch 1 --precision 8/8 --arch A.yaml "
              "--json`, A.yaml for 32x32, os, %d words/cycle (the others change array, dataflow, SRAM sizes "
              "as SCALE-Sim's, `bandwidth_gbps`):\n\n```yaml\n%s```\n\n" % (
                  BANDWIDTHS[0], lpsim_arch_yaml(ARRAYS[0], "os", BANDWIDTHS[0])))
            w("Stalls: SCALE-Sim's `Stall Cycles` (its cycles are its ideal ones plus these); lpsim's "
              "`layers[].%s`, measured in one multi-layer step; lpsim's excess = its cycles here minus its "
              "ideal-memory cycles, the figure that matches SCALE-Sim's definition. DRAM reads in words: "
              "SCALE-Sim's IFMAP + Filter DRAM reads (DETAILED_ACCESS_REPORT.csv), lpsim's `dram_read_bits` / 8."
              "\n\n" % sel[0]["lpsim_stall_field"])
            w(table(["array", "dataflow", "bw", "layer", "M x N x K", "SCALE-Sim cycles", "lpsim cycles", "diff %",
                     "SCALE-Sim stalls", "lpsim stalls", "lpsim excess", "SCALE-Sim DRAM reads", "lpsim DRAM reads"],
                    [[r["array"], r["dataflow"], r["bandwidth"], r["layer"], mnk(r), r["scalesim_cycles"],
                      r["lpsim_cycles"], "%+.2f" % r["diff_pct"], r["scalesim_stalls"], r["lpsim_stalls"],
                      r["lpsim_cycles"] - r["lpsim_ideal_cycles"], r["scalesim_dram_read_words"],
                      r["lpsim_dram_read_words"]] for r in sel]))
            w("Per array, dataflow and bandwidth: |diff| of total cycles; stall cycles summed over the layers:\n\n")
            w(table(["array", "dataflow", "bw", "median \\|diff\\|", "worst \\|diff\\|", "SCALE-Sim stalls",
                     "lpsim stalls", "lpsim excess"],
                    [list(key) + spread(g) + [sum(r["scalesim_stalls"] for r in g), sum(r["lpsim_stalls"] for r in g),
                                              sum(r["lpsim_cycles"] - r["lpsim_ideal_cycles"] for r in g)]
                     for key, g in groups(sel, "array", "dataflow", "bandwidth")]))
    w("### Speed\n\nWall clock, summed over layers: SCALE-Sim one process per layer (interpreter start "
      "included), lpsim one process per array, dataflow and bandwidth over all layers (its share per layer).\n\n")
    speed = []
    for key, g in list(groups(rows, "mode", "array", "dataflow")) + [(("all", "", ""), rows)]:
        ss, lp = sum(r["scalesim_wall_s"] for r in g), sum(r["lpsim_wall_s"] for r in g)
        cached = " (cached)" if any(r["scalesim_cached"] for r in g) else ""
        speed.append(list(key) + [len(g), "%.1f%s" % (ss, cached), "%.3f" % lp, "%.0fx" % (ss / lp)])
    w(table(["mode", "array", "dataflow", "layer runs", "SCALE-Sim s", "lpsim s", "SCALE-Sim / lpsim"], speed))
    return out.getvalue()


if __name__ == "__main__":
    main()
