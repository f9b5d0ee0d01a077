#!/usr/bin/env python3
# Usage: python3 scripts/bitfusion_compare.py --bitfusion PATH [--lpsim build/tools/lpsim]
#                                              [-o /tmp/bitfusion_compare.md]
#
# Checks lpsim against Bit Fusion's own simulator (Sharma et al., ISCA 2018;
# github.com/hsharma35/bitfusion) on its eight benchmarks, and lpsim's
# Bit Fusion-over-Eyeriss speed-up and energy ratio against the paper's
# (3.9x and 5.1x, geometric means).
#
# PATH is a work tree of the Bit Fusion repository (from a bare mirror:
# `git --git-dir=MIRROR archive HEAD | tar -x -C PATH`). Nothing is imported
# from it: the script reads its configuration (bf_e_conf.ini), its per-layer
# results (results/bitfusion-eyeriss-sim-sweep.csv, the rows of the
# bf_e_conf.ini configuration), its energy inputs (bitfusion/sram/cacti_sweep.csv,
# results/systolic_array_synth.csv, the DRAM cost in stats.py) and its Eyeriss
# baseline (results/eyeriss_results.csv), and prices them the way
# bitfusion/src/simulator/stats.py and bitfusion-generate-graphs.ipynb do.
#
# lpsim runs `simulate --topology models/topologies/bitfusion/X.csv --phase fwd
# --batch 16 --json` on bitfusion_isca18 and on eyeriss_isca16; lpsim honours
# the per-layer W Bits / A Bits (sim/replay.h, layer_precision_of), and the
# script stops if lpsim's MACs by width are not the rows' widths (below 2 bits
# rounded up to Bit Fusion's 2-bit bricks).
#
# Eyeriss runs the networks Bit Fusion's Eyeriss results ran (AlexNet and
# ResNet-18 at their own width: X_1x.csv) in 16 bits (W / A Bits removed), in
# two settings: eyeriss_isca16 as shipped (the chip: 12x14 PEs, 108 KB,
# 200 MHz, 65 nm, 0.72 GB/s), and at Bit Fusion's comparison conditions
# (nn_dataflow's Eyeriss model that Bit Fusion's baseline used: 16x16 PEs and
# 128 KB, at Bit Fusion's 500 MHz and 45 nm, DRAM bandwidth unbounded, and no
# array fill between processing passes: its time for RNN and LSTM is their
# MACs / 256 PEs, within 1.3%; its events priced as the notebook prices them,
# see EYERISS_AS_BITFUSION).
#
# Standard library only (Debian's python3).

import argparse
import configparser
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOPOLOGIES = os.path.join(ROOT, "models", "topologies", "bitfusion")

# (Bit Fusion's network name, topology file stem, Eyeriss-side stem, towers merged)
BENCHMARKS = [
    ("AlexNet", "alexnet", "alexnet_1x", True),
    ("SVHN", "svhn", "svhn", False),
    ("CIFAR10", "cifar10", "cifar10", False),
    ("LeNet-5", "lenet5", "lenet5", False),
    ("VGG-7", "vgg7", "vgg7", True),
    ("RESNET-18", "resnet18", "resnet18_1x", False),
    ("RNN", "rnn", "rnn", False),
    ("LSTM", "lstm", "lstm", False),
]
BATCH = 16  # benchmarks.py: batch_size = 16 in every benchmark

# Bit Fusion's comparison conditions for the Eyeriss side (see the header).
EYERISS_AS_BITFUSION = [
    "array.rows=16", "array.cols=16",          # nn_dataflow test_eyeriss_isca16: PhyDim2(16, 16)
    "buffers.0.capacity_kb=128",               # ... size_gbuf = 128 kB
    "clock_ghz=0.5",                           # the notebook divides Eyeriss cycles by 500e3
    "node_nm=45",                              # "same technology node" (the paper)
    # Bit Fusion's eyeriss_results.csv come from nn_dataflow with unbounded DRAM bandwidth
    # (its time for RNN, 1,048,576 cycles, is exactly 268,435,456 MACs / 256 PEs): so a
    # bandwidth that never binds, no DRAM latency, and bitfusion_isca18's DRAM energy.
    "dram.bandwidth_gbps=100000", "dram.latency_ns=0",
    # Priced as bitfusion-generate-graphs.ipynb get_eyeriss_energy prices nn_dataflow's
    # counts: every normalised unit (MAC 1, register file 1, ...) at 16 x 0.2 pJ, so a
    # 16-bit MAC and each of its 4 register-file accesses (eyeriss_isca16's
    # pe.rf_accesses_per_mac) at 3.2 pJ, and DRAM at 200 units x 0.15 ("technology")
    # = 96 pJ per 16-bit word = 6 pJ/bit. The global buffer keeps lpsim's SRAM energy
    # (the notebook's 6 units = 1.2 pJ/bit; 1-3% of its Eyeriss energy).
    "pe.energy_pj_per_mac=3.2", "dram.pj_per_bit=6",
    # nn_dataflow charges no array fill between processing passes (RNN and LSTM run at
    # MACs / 256 to within 1.3%); the Eyeriss PEs' filter scratch pads hold the next
    # filters, so the weights load under the stream as in Bit Fusion's per-unit banks.
    "array.pipelined_folds=true",
]

PAPER_SPEEDUP, PAPER_ENERGY = 3.9, 5.1  # Sharma et al. 2018, abstract


def fail(msg):
    sys.exit("bitfusion_compare: " + msg)


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def pct(a, ref):
    return "—" if not ref else f"{100.0 * (a - ref) / ref:+.1f}%"


def read_topology(path):
    """Rows of a topology CSV as dicts keyed by the header's names."""
    with open(path, newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f) if any(c.strip() for c in r)]
    header = [h for h in rows[0] if h]
    return header, [dict(zip(header, r)) for r in rows[1:]]


def write_topology(path, header, rows):
    with open(path, "w") as f:
        f.write(", ".join(header) + ",\n")
        for r in rows:
            f.write(", ".join(r[h] for h in header) + ",\n")


# ---- Bit Fusion's side --------------------------------------------------------


class BitFusion:
    def __init__(self, tree):
        self.tree = tree
        conf = configparser.ConfigParser()
        if not conf.read(self.path("bf_e_conf.ini")):
            fail(f"{self.path('bf_e_conf.ini')}: not found (is --bitfusion a work tree?)")
        acc = conf["accelerator"]
        self.n, self.m = acc.getint("a"), acc.getint("c")
        self.pmax, self.pmin = acc.getint("high_prec"), acc.getint("low_prec")
        self.sram = {k: acc.getint(k + "_SRAM") for k in ("Wgt", "Act", "Out")}
        self.if_width = conf["system"].getint("if_width")
        self.frequency = acc.getint("frequency")
        self.energy = self.energy_costs()
        self.rows = self.results()

    def path(self, *p):
        return os.path.join(self.tree, *p)

    def results(self):
        """The sweep rows of the bf_e_conf.ini configuration."""
        want = {"N": self.n, "M": self.m, "Max Precision (bits)": self.pmax,
                "Min Precision (bits)": self.pmin, "Bandwidth (bits/cycle)": self.if_width,
                # sweep.py stores the SRAM sizes in bytes under "(bits)" headers
                "WBUF Size (bits)": self.sram["Wgt"], "OBUF Size (bits)": self.sram["Out"],
                "IBUF Size (bits)": self.sram["Act"], "Batch size": BATCH}
        path = self.path("results", "bitfusion-eyeriss-sim-sweep.csv")
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f)
                    if all(float(r[k]) == v for k, v in want.items())]
        if not rows:
            fail(f"{path}: no rows for the bf_e_conf.ini configuration {want}")
        return rows

    def energy_costs(self):
        """simulator.py get_energy_cost: nJ per cycle (core) and per bit (SRAMs, DRAM)."""
        synth = self.path("results", "systolic_array_synth.csv")
        with open(synth, newline="") as f:
            rows = [r for r in csv.DictReader(f)
                    if int(r["Max Precision (bits)"]) == self.pmax
                    and int(r["Min Precision (bits)"]) == self.pmin]
        exact = [r for r in rows if int(r["N"]) == self.n and int(r["M"]) == self.m]
        if exact:
            core = float(exact[0]["Dynamic Power (nW)"]) / float(exact[0]["Frequency"])
        else:  # simulator.py: the 4x4 array scaled by N*M/16
            r = [r for r in rows if int(r["N"]) == 4 and int(r["M"]) == 4][0]
            core = float(r["Dynamic Power (nW)"]) * self.n * self.m / 16 / float(r["Frequency"])
        cacti = self.path("bitfusion", "sram", "cacti_sweep.csv")
        with open(cacti, newline="") as f:
            table = list(csv.DictReader(f))

        def sram(size_bytes, banks, word_bits, rw_port):
            bank_bytes = size_bytes / banks
            for r in table:
                if (float(r["size (bytes)"]) == bank_bytes
                        and float(r["block size (bytes)"]) == word_bits / 8
                        and int(r["read-write port"]) == rw_port):
                    return (float(r["read_energy_nJ"]) / word_bits,
                            float(r["write_energy_nJ"]) / word_bits)
            fail(f"{cacti}: no CACTI row for a {bank_bytes:g}-byte bank of {word_bits}-bit words")

        word = self.pmax * self.pmax // self.pmin
        stats = open(self.path("bitfusion", "src", "simulator", "stats.py")).read()
        dram = re.search(r"def get_energy\(self, energy_cost, dram_cost=([0-9.e-]+)\)", stats)
        if not dram:
            fail("stats.py: get_energy's dram_cost default not found")
        return {"core": core,
                "wbuf": sram(self.sram["Wgt"], self.n * self.m, word, 0),
                "ibuf": sram(self.sram["Act"], self.n, word, 0),
                "obuf": sram(self.sram["Out"], self.m, 32, 1),
                "dram": float(dram.group(1))}

    def layers(self, network, merge_towers):
        """Per layer (in file order): cycles, memory wait, energy (J) and its split, DRAM bits."""
        out = {}
        e = self.energy
        for r in self.rows:
            if r["Network"] != network:
                continue
            name = r["Layer"].split("/")[-2]  # "module2/conv2_1_a/Convolution" -> conv2_1_a
            if merge_towers and name[-2:] in ("_a", "_b"):
                name = name[:-2]
            f = lambda k: float(r[k])
            core = (f("Cycles") - f("Memory wait cycles")) * e["core"]
            sram = (f("WBUF Read") * e["wbuf"][0] + f("WBUF Write") * e["wbuf"][1]
                    + f("IBUF Read") * e["ibuf"][0] + f("IBUF Write") * e["ibuf"][1]
                    + f("OBUF Read") * e["obuf"][0] + f("OBUF Write") * e["obuf"][1])
            dram_bits = f("DRAM Read") + f("DRAM Write")
            add = {"cycles": f("Cycles"), "wait": f("Memory wait cycles"),
                   "core_j": core * 1e-9, "sram_j": sram * 1e-9,
                   "dram_j": dram_bits * e["dram"] * 1e-9, "dram_bits": dram_bits}
            acc = out.setdefault(name, dict.fromkeys(add, 0.0))
            for k, v in add.items():
                acc[k] += v
        for v in out.values():
            v["energy_j"] = v["core_j"] + v["sram_j"] + v["dram_j"]
        return out

    def eyeriss(self, network):
        """Bit Fusion's Eyeriss baseline (nn_dataflow output), priced as the notebook does."""
        path = self.path("results", "eyeriss_results.csv")
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["Benchmark"] == network]
        g = lambda k: sum(float(r[k]) for r in rows)
        # bitfusion-generate-graphs.ipynb get_eyeriss_energy: normalised costs (MAC = 1) x
        # 16 x 0.2 pJ, DRAM scaled by 0.15 "due to technology"; the "time(ms)" column holds
        # cycles (the notebook divides it by 500e3 and by the batch of 16).
        energy_nj = (g("ALU") + 0.15 * g("DRAM") + g("Buffer") + g("Array") + g("RF")) * 16 * 0.2e-3
        return {"cycles": g("time(ms)"), "energy_j": energy_nj * 1e-9}


# ---- lpsim's side -------------------------------------------------------------


def lpsim(binary, topology, arch, precision=None, sets=()):
    cmd = [binary, "simulate", "--topology", topology, "--phase", "fwd", "--batch", str(BATCH),
           "--arch", arch, "--json"]
    if precision:
        cmd += ["--precision", precision]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def out32_cycles(row, bf):
    """DRAM cycles of the traffic Bit Fusion's simulator charges for a layer's outputs:
    optimizer.py get_stats_fast reads and writes every output tile at oprec = 32 bits,
    output channels padded to the M = 32 columns, at mem_if_width bits per cycle."""
    g = lambda k: int(row[k])
    oh = (g("IFMAP Height") - g("Filter Height")) // g("Strides") + 1
    ow = (g("IFMAP Width") - g("Filter Width")) // g("Strides") + 1
    oc = math.ceil(g("Num Filter") / bf.m) * bf.m
    return math.ceil(2 * oh * ow * oc * BATCH * 32 / bf.if_width)


def dynamic_j(j):
    """lpsim's dynamic energy: Bit Fusion's stats.py has no leakage term, nor its Eyeriss."""
    return j.get("energy_dynamic_j", j["energy_j"])


def energy_split(j):
    """Shares of lpsim's dynamic energy: MAC array, SRAM, DRAM, vector unit."""
    comp = j.get("breakdown", {}).get("component", {})
    total = dynamic_j(j) or 1.0
    part = lambda pred: sum(v for k, v in comp.items() if pred(k)) / total
    return (part(lambda k: k == "mac"), part(lambda k: k.startswith("sram:")),
            part(lambda k: k == "dram"), part(lambda k: k == "vector"))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bitfusion", required=True, help="work tree of github.com/hsharma35/bitfusion")
    ap.add_argument("--lpsim", default=os.path.join(ROOT, "build", "tools", "lpsim"))
    ap.add_argument("-o", "--out", default="/tmp/bitfusion_compare.md")
    args = ap.parse_args()
    if not os.access(args.lpsim, os.X_OK):
        fail(f"{args.lpsim}: not an executable (build it: cmake --build build --target lpsim)")
    bf = BitFusion(args.bitfusion)

    md = ["# lpsim against Bit Fusion's simulator", ""]
    md += [f"Bit Fusion: `{args.bitfusion}`, bf_e_conf.ini ({bf.n}x{bf.m} fusion units, "
           f"{bf.frequency / 1e6:g} MHz, {bf.if_width} bits/cycle to DRAM, "
           f"W/I/O SRAM {bf.sram['Wgt'] // 1024}/{bf.sram['Act'] // 1024}/"
           f"{bf.sram['Out'] // 1024} KB); its energy per stats.py: core "
           f"{bf.energy['core'] * 1e3:.1f} pJ/cycle, DRAM {bf.energy['dram'] * 1e3:g} pJ/bit, "
           "no leakage (so lpsim's dynamic energy is the one to compare). lpsim: `simulate --topology models/topologies/bitfusion/X.csv "
           f"--phase fwd --batch {BATCH} --arch bitfusion_isca18` (SystemC timing). "
           "Cycles are per batch of 16.", ""]

    per_layer = ["## Per layer", "",
                 "| benchmark | layer | Bit Fusion cycles | lpsim cycles | diff % | W/A bits "
                 "| Bit Fusion memory wait | its 32-bit outputs, cycles | lpsim DRAM stall |",
                 "|---|---|---:|---:|---:|---|---:|---:|---:|"]
    totals = ["## Per network", "",
              "| benchmark | Bit Fusion cycles | lpsim cycles | diff % "
              "| Bit Fusion mJ | lpsim dynamic mJ | lpsim static mJ "
              "| Bit Fusion DRAM Mbit | lpsim DRAM Mbit | Bit Fusion core/SRAM/DRAM % "
              "| lpsim MAC/SRAM/DRAM/vector % |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for network, stem, eyeriss_stem, merge in BENCHMARKS:
            topo = os.path.join(TOPOLOGIES, stem + ".csv")
            header, rows = read_topology(topo)
            ref = bf.layers(network, merge)
            j = lpsim(args.lpsim, topo, "bitfusion_isca18")
            mine = {l["name"]: l for l in j["layers"]}
            # Were the per-layer widths honoured? lpsim reports MACs by operand widths.
            norm = lambda key: tuple(sorted(int(x) for x in key.split("x")))
            brick = lambda b: str(max(int(b), 2))  # bf_e_conf.ini: pmin = 2
            wanted = {norm(f"{brick(r['A Bits'])}x{brick(r['W Bits'])}") for r in rows}
            got = {norm(k) for k in j.get("macs_by_width", {})}
            if got != wanted:
                fail(f"{network}: lpsim ran widths {sorted(got)}, the rows ask {sorted(wanted)}")
            for r in rows:
                name = r["Layer name"]
                if name not in ref:
                    fail(f"{network}: layer {name} not in Bit Fusion's results "
                         f"(has {', '.join(ref)})")
                b, l = ref[name], mine[name]
                per_layer.append(
                    f"| {network} | {name} | {b['cycles']:,.0f} | {l['cycles']:,.0f} "
                    f"| {pct(l['cycles'], b['cycles'])} | {r['W Bits']}/{r['A Bits']} "
                    f"| {b['wait']:,.0f} | {out32_cycles(r, bf):,.0f} "
                    f"| {l.get('stall_cycles', {}).get('dram', 0):,.0f} |")
            missing = set(ref) - {r["Layer name"] for r in rows}
            if missing:
                fail(f"{network}: Bit Fusion layers without a topology row: {sorted(missing)}")
            bc = sum(v["cycles"] for v in ref.values())
            be = sum(v["energy_j"] for v in ref.values())
            bsplit = [sum(v[k] for v in ref.values()) / be for k in ("core_j", "sram_j", "dram_j")]
            bdram = sum(v["dram_bits"] for v in ref.values())
            ldram = j["dram_read_bits"] + j["dram_write_bits"]
            totals.append(
                f"| {network} | {bc:,.0f} | {j['cycles']:,.0f} | {pct(j['cycles'], bc)} "
                f"| {be * 1e3:.3f} "
                f"| {dynamic_j(j) * 1e3:.3f} | {(j['energy_j'] - dynamic_j(j)) * 1e3:.3f} "
                f"| {bdram / 1e6:,.1f} | {ldram / 1e6:,.1f} "
                f"| {'/'.join(f'{100 * x:.0f}' for x in bsplit)} "
                f"| {'/'.join(f'{100 * x:.0f}' for x in energy_split(j))} |")

            # Eyeriss: 16-bit, the per-layer widths removed (Eyeriss runs every layer in 16 bits).
            eh, erows = read_topology(os.path.join(TOPOLOGIES, eyeriss_stem + ".csv"))
            keep = [h for h in eh if h.lower() not in ("w bits", "a bits")]
            e16 = os.path.join(tmp, eyeriss_stem + "_16bit.csv")
            write_topology(e16, keep, erows)
            chip = lpsim(args.lpsim, e16, "eyeriss_isca16", "16/16")
            as_bf = lpsim(args.lpsim, e16, "eyeriss_isca16", "16/16", EYERISS_AS_BITFUSION)
            bfe = bf.eyeriss(network)
            ratios.append((network,
                           bfe["cycles"] / bc, bfe["energy_j"] / be,
                           chip["latency_s"] / j["latency_s"], dynamic_j(chip) / dynamic_j(j),
                           as_bf["latency_s"] / j["latency_s"], dynamic_j(as_bf) / dynamic_j(j)))

    md += totals + [""] + per_layer + [""]

    md += ["## Bit Fusion over Eyeriss", "",
           "Speed-up = Eyeriss time / Bit Fusion time for one batch of 16; energy ratio = "
           "Eyeriss energy / Bit Fusion energy, dynamic energy only on both sides (Bit Fusion's "
           "stats.py and its Eyeriss numbers have no leakage). *Bit Fusion's files*: its sweep results and its "
           "Eyeriss results (nn_dataflow, 16x16 PEs, 128 KB, unbounded DRAM bandwidth, 500 MHz), "
           "priced as its notebook does. *lpsim, chip*: bitfusion_isca18 against eyeriss_isca16 "
           "as shipped (12x14 PEs, 108 KB, 200 MHz, 65 nm, 0.72 GB/s). *lpsim, Bit Fusion's "
           "conditions*: eyeriss_isca16 with `--set " + " --set ".join(EYERISS_AS_BITFUSION)
           + "`. Eyeriss runs AlexNet and ResNet-18 at their own width in 16 bits, Bit Fusion "
           "their 2x-wide (WRPN) 4-bit versions, as Bit Fusion's own results do.", "",
           "| benchmark | speed-up, Bit Fusion's files | energy ratio, Bit Fusion's files "
           "| speed-up, lpsim chip | energy, lpsim chip | speed-up, lpsim at Bit Fusion's "
           "conditions | energy, lpsim at Bit Fusion's conditions |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for r in ratios:
        md.append(f"| {r[0]} | " + " | ".join(f"{x:.2f}x" for x in r[1:]) + " |")
    gm = [geomean([r[i] for r in ratios]) for i in range(1, 7)]
    md.append("| **geomean** | " + " | ".join(f"**{x:.2f}x**" for x in gm) + " |")
    md += ["", f"The paper (abstract): {PAPER_SPEEDUP}x speed-up and {PAPER_ENERGY}x energy "
           "reduction over Eyeriss (geometric means over the eight benchmarks).", ""]

    text = "\n".join(md)
    tmp_out = args.out + ".tmp"
    with open(tmp_out, "w") as f:
        f.write(text)
    os.replace(tmp_out, args.out)
    print(text)


if __name__ == "__main__":
    main()
