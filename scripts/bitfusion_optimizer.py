#!/usr/bin/env python3
# Usage: /usr/bin/python3 scripts/bitfusion_optimizer.py --bitfusion PATH
#            K O S IC OC B IPREC WPREC
#
# Runs Bit Fusion's own tiling optimizer (Sharma et al., ISCA 2018; github
# hsharma35/bitfusion, bitfusion/src/optimizer/optimizer.py) on one
# convolution, on its evaluated configuration (bf_e_conf.ini: 16 x 32 fusion
# units, 64/32/16 KB weight/input/output buffers, 192 bits per cycle to DRAM),
# and prints the tiling and loop order it picks over all 120 loop orders, its
# cycles and DRAM bits. K: kernel size, O: output map side, S: stride, IC / OC:
# channels, B: batch, IPREC / WPREC: activation / weight bits.
#
# docs/validation.md section 6 uses it to say why lpsim differs from Bit
# Fusion's results on some layers (e.g. ResNet-18 conv3_1_b: 3 28 1 256 256 16
# 4 4; AlexNet conv3_a: 3 13 1 512 384 16 4 4): its output reproduces the
# rows of results/bitfusion-eyeriss-sim-sweep.csv.
#
# The simulator is Python 2. Nothing is copied into lpsim: this script copies
# PATH's bitfusion/ package to a temporary directory, converts that copy with
# the standard library's lib2to3, and imports it from there. Needs numpy
# (Debian's python3-numpy), which the optimizer's imports pull in.

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import types


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bitfusion", required=True, help="work tree of hsharma35/bitfusion")
    for name in ("K", "O", "S", "IC", "OC", "B", "IPREC", "WPREC"):
        ap.add_argument(name, type=int)
    a = ap.parse_args()
    src = os.path.join(a.bitfusion, "bitfusion")
    if not os.path.isfile(os.path.join(src, "src", "optimizer", "optimizer.py")):
        sys.exit(f"bitfusion_optimizer.py: {a.bitfusion}: no bitfusion/src/optimizer/optimizer.py "
                 "(expected a work tree of github.com/hsharma35/bitfusion)")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(src, os.path.join(tmp, "bitfusion"))
        p = subprocess.run([sys.executable, "-W", "ignore", "-m", "lib2to3", "-w", "-n",
                            os.path.join(tmp, "bitfusion")], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"bitfusion_optimizer.py: lib2to3 failed: {p.stderr.strip()[-500:]}")
        sys.path.insert(0, tmp)
        import bitfusion.src.optimizer.optimizer as opt
        from bitfusion.src.simulator.accelerator import Accelerator

        # bf_e_conf.ini, as bitfusion's simulator.py builds its accelerator
        # (sram sizes in bytes; N = a = 16 rows, M = c = 32 columns).
        acc = Accelerator(N=16, M=32, pmax=8, pmin=2,
                          sram={"wgt": 65536, "act": 32768, "out": 16384},
                          mem_if_width=192, frequency=500e6)
        opt.acc_obj = acc
        # Energy only breaks ties between equal cycle counts. stats.py's
        # get_energy adds DRAM bits at its default 15e-3 per bit whatever the
        # costs object says; the SRAM and core prices here are left at zero
        # (the script reports no energy), so ties go to fewer DRAM bits.
        zero = types.SimpleNamespace(core_dynamic_energy=0, wbuf_read_energy=0,
                                     wbuf_write_energy=0, ibuf_read_energy=0,
                                     ibuf_write_energy=0, obuf_read_energy=0,
                                     obuf_write_energy=0)
        params = (acc, a.K, a.O, a.S, a.IC, a.OC, a.B, a.IPREC, a.WPREC, False, zero)
        # As optimize_for_order: fewest cycles, then least energy, over the orders.
        best = None
        for order in itertools.permutations(["B/b", "OW/ow", "OH/oh", "IC/ic", "OC/oc"]):
            tiling, order_type, cycles, energy = opt._optimize_for_order(params, order)
            if tiling is not None and (best is None or (cycles, energy) < best[2:]):
                best = (tiling, order_type, cycles, energy)
        if best is None:
            sys.exit("bitfusion_optimizer.py: no tiling fits the buffers")
        tiling, order, cycles, _ = best
        stats = opt.get_stats_fast(params, tiling, order)
        print(f"cycles {cycles:,}  memory stall {stats.mem_stall_cycles:,}")
        print(f"loop order (outermost first) {' '.join(order)}")
        print("tiling (tiles, size) " + ", ".join(f"{k} {v}" for k, v in sorted(tiling.items())))
        print(f"DRAM read {stats.reads['dram']:,} bits, write {stats.writes['dram']:,} bits; "
              f"WBUF write {stats.writes['wgt']:,}, IBUF write {stats.writes['act']:,} bits")


if __name__ == "__main__":
    main()
