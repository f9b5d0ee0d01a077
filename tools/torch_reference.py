#!/usr/bin/python3
"""PyTorch reference for lpsim's trainer (Debian python3-torch 1.13).

  check: runs `lpsim train --dump-batch` for one LeNet-5 batch at several
         precisions, repeats the quantizers and the training step in PyTorch
         and compares: quantizer outputs bit for bit; each GEMM layer's forward
         and backward from the same quantized operands within float tolerance;
         the whole step end to end (FP32 within float tolerance; quantized:
         how many elements differ, since a last-bit GEMM difference may move a
         value across a rounding boundary of the next quantizer).
  speed: one epoch of LeNet-5 with 8-bit W/A/E/G quantization, lpsim against
         PyTorch with the same model and fake quantization, same threads.

Usage: tools/torch_reference.py check --lpsim build/tools/lpsim
       tools/torch_reference.py speed --lpsim build/tools/lpsim --threads 2
Exit status 1 when a check fails."""
import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
# LeNet-5 of lpsim's zoo: which layer feeds each GEMM layer.
GEMM_INPUT = {"conv1": "input", "conv2": "pool1", "fc1": "flatten", "fc2": "fc1.relu",
              "fc3": "fc2.relu"}

# ------------------------------------------------------------------ quantizers
# The same float32 operations in the same order as trainer/impl/quantize.cpp.


def finite_range(x):
    f = x[torch.isfinite(x)]
    return (f.min(), f.max()) if f.numel() else (None, None)


def q_range(x, bits, stochastic=False, noise=None):
    """CPT range-based linear, one range per tensor."""
    lo, hi = finite_range(x)
    if lo is None or not bool(hi > lo) or bits >= 24:
        return x.clone()
    levels = float(2 ** bits - 1)
    s = (hi - lo) / torch.tensor(levels, dtype=torch.float32)
    v = (x - lo) / s
    if stochastic:
        v = torch.floor((v + noise).clamp(0.0, levels))
    else:
        v = torch.round(v.clamp(0.0, levels))
    return torch.where(torch.isnan(x), x, v * s + lo)


def q_range_rows(w, bits):
    """Per output channel (row of [Cout, K]), nearest."""
    rows = w.reshape(w.shape[0], -1)
    out = torch.stack([q_range(r, bits) for r in rows])
    return out.reshape(w.shape)


def q_dfx(x, bits):
    """MuPPET dynamic fixed point, nearest."""
    lo, hi = finite_range(x)
    if lo is None or bits >= 24:
        return x.clone()
    max_v = 2.0 ** (bits - 1) - 0.5
    min_v = -(2.0 ** (bits - 1)) - 0.5
    r_max = abs(max_v / float(hi)) if float(hi) != 0 else math.inf
    r_min = abs(min_v / float(lo)) if float(lo) != 0 else math.inf
    r = min(r_max, r_min)
    if math.isinf(r):
        return x.clone()
    sf = max(-120, min(120, math.floor(math.log2(r))))
    v = (x * 2.0 ** sf).clamp(-(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1)
    return torch.round(v) * 2.0 ** -sf


def q_minifloat(x, e_bits, m_bits):
    bias = 2 ** (e_bits - 1) - 1
    emin = 1 - bias
    if e_bits == 4 and m_bits == 3:
        emax = 2 ** e_bits - 1 - bias
        max_v = (2 - 2.0 ** (1 - m_bits)) * 2.0 ** emax
    else:
        emax = 2 ** e_bits - 2 - bias
        max_v = (2 - 2.0 ** -m_bits) * 2.0 ** emax
    _, ex = torch.frexp(x)
    e = (ex - 1).clamp(emin, emax)
    q = torch.pow(torch.tensor(2.0, dtype=torch.float64), (e - m_bits).double()).float()
    y = (torch.round(x / q) * q).clamp(-max_v, max_v)
    return torch.where(torch.isnan(x), x, y)


def parse_format(name):
    if name == "fp32":
        return ("fp32",)
    if name.startswith("fp8-e") or name.startswith("e"):
        core = name[4:] if name.startswith("fp8-") else name
        e, m = core[1:].split("m")
        return ("float", int(e), int(m))
    if name == "fp16":
        return ("float", 5, 10)
    if name == "bf16":
        return ("float", 8, 7)
    return ("int", int(name))


def quantizer(fmt, method, per_row=False):
    """A nearest-rounding quantizer for a format name as the manifest spells it."""
    f = parse_format(fmt)
    if f[0] == "fp32":
        return lambda x: x.clone()
    if f[0] == "float":
        return lambda x: q_minifloat(x, f[1], f[2])
    if method == "dfx":
        return lambda x: q_dfx(x, f[1])
    if per_row:
        return lambda x: q_range_rows(x, f[1])
    return lambda x: q_range(x, f[1])


# ------------------------------------------------------------------ the model


class STE(torch.autograd.Function):
    """Forward: quantize; backward: the gradient passes straight through."""

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx, g):
        return g, None


class ErrorQuant(torch.autograd.Function):
    """Forward: identity; backward: quantize the error."""

    @staticmethod
    def forward(ctx, x, fn):
        ctx.fn = fn
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return ctx.fn(g), None


def lenet5_step(params, x, labels, qa, qw, qe, keep):
    """LeNet-5 of lpsim's zoo with fake quantization; fills `keep` with outputs."""

    def gemm(name, inp, layer):
        w = STE.apply(params[name + ".weight"], qw)
        a = STE.apply(inp, qa)
        y = layer(a, w, params[name + ".bias"])
        y = ErrorQuant.apply(y, qe) if qe is not None else y
        if y.requires_grad:
            y.retain_grad()
        keep[name] = y
        return y

    h = gemm("conv1", x, lambda a, w, b: F.conv2d(a, w, b, padding=2))
    h = F.max_pool2d(F.relu(h), 2, 2)
    h = gemm("conv2", h, lambda a, w, b: F.conv2d(a, w, b))
    h = F.max_pool2d(F.relu(h), 2, 2).flatten(1)
    h = F.relu(gemm("fc1", h, F.linear))
    h = F.relu(gemm("fc2", h, F.linear))
    logits = gemm("fc3", h, F.linear)
    return F.cross_entropy(logits, labels)


SHAPES = {"conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5),
          "conv2.bias": (16,), "fc1.weight": (120, 400), "fc1.bias": (120,),
          "fc2.weight": (84, 120), "fc2.bias": (84,), "fc3.weight": (10, 84), "fc3.bias": (10,)}
OUT_SHAPES = {"conv1": (6, 28, 28), "pool1": (6, 14, 14), "conv2": (16, 10, 10),
              "flatten": (400,), "fc1": (120,), "fc1.relu": (120,), "fc2": (84,),
              "fc2.relu": (84,), "fc3": (10,), "input": (1, 28, 28)}


def load(d, name, shape=None):
    t = torch.from_numpy(np.fromfile(os.path.join(d, name), dtype="<f4").copy())
    return t.reshape(shape) if shape is not None else t


# ------------------------------------------------------------------ check


def check_one(lpsim, data_dir, schedule, quant, batch, work):
    d = os.path.join(work, schedule.replace(":", "_").replace("/", "_") + "_" + quant)
    subprocess.run([*lpsim.split(), "train", "--model", "lenet5", "--schedule", schedule,
                    "--quantizer", quant, "--rounding", "nearest", "--batch", str(batch),
                    "--data-dir", data_dir, "--dump-batch", d, "--quiet"], check=True)
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    b = m["batch"]
    fails = []
    report = []
    qa = quantizer(m["A"], quant)
    qw = quantizer(m["W"], quant, per_row=True)
    qe = quantizer(m["E"], quant)
    qg = quantizer(m["G"], quant)

    def bitwise(what, ours, ref):
        same = torch.equal(ours, ref)
        n_diff = int((ours != ref).sum())
        report.append(f"  quantizer {what}: {'bit-identical' if same else f'{n_diff} of {ours.numel()} differ'}")
        if not same:
            fails.append(what)

    def close(what, ours, ref, rtol, atol):
        err = float((ours - ref).abs().max())
        scale = float(ref.abs().max())
        ok = torch.allclose(ours, ref, rtol=rtol, atol=atol)
        report.append(f"  {what}: max |diff| {err:.3g} (max |ref| {scale:.3g}){'' if ok else '  FAIL'}")
        if not ok:
            fails.append(what)

    # 1. Quantizers on our own pre-quantization tensors: bit for bit.
    for layer, src in GEMM_INPUT.items():
        a_pre = load(d, src + ".out")
        bitwise(f"{layer} A", load(d, layer + ".qin"), qa(a_pre))
        w_init = load(d, layer + ".weight.init")
        cout = SHAPES[layer + ".weight"][0]
        bitwise(f"{layer} W", load(d, layer + ".wq"), qw(w_init.reshape(cout, -1)).reshape(-1))
        bitwise(f"{layer} E", load(d, layer + ".eq"), qe(load(d, layer + ".out_grad")))
        bitwise(f"{layer} G", load(d, layer + ".weight.grad"), qg(load(d, layer + ".g_pre_w")))
    # 2. Each GEMM layer from the same quantized operands: forward and both backward GEMMs.
    for layer, src in GEMM_INPUT.items():
        wshape = SHAPES[layer + ".weight"]
        a = load(d, layer + ".qin", (b, *OUT_SHAPES[src])).requires_grad_(True)
        w = load(d, layer + ".wq", wshape).requires_grad_(True)
        bias = load(d, layer + ".bias.init")
        if layer.startswith("conv"):
            y = F.conv2d(a, w, bias, padding=2 if layer == "conv1" else 0)
        else:
            y = F.linear(a.reshape(b, -1), w, bias)
        close(f"{layer} forward", load(d, layer + ".out"), y.detach().reshape(-1), 1e-5, 1e-5)
        y.backward(load(d, layer + ".eq", y.shape))
        close(f"{layer} weight gradient", load(d, layer + ".g_pre_w"), w.grad.reshape(-1), 1e-4, 1e-5)
        if src != "input":
            # the error reaching the layer below (through the STE) before any other layer
            close(f"{layer} input gradient", load(d, src + ".out_grad"), a.grad.reshape(-1), 1e-4, 1e-6)
    # 3. The whole step end to end from the same initial weights and batch.
    params = {k: load(d, k + ".init", s).requires_grad_(True) for k, s in SHAPES.items()}
    x = load(d, "input", (b, 1, 28, 28))
    labels = load(d, "labels").long()
    keep = {}
    loss = lenet5_step(params, x, labels, qa, qw, None if m["E"] == "fp32" else qe, keep)
    loss.backward()
    fp32 = all(m[r] == "fp32" for r in "WAEG")
    report.append(f"  loss: ours {m['loss']:.7f}, PyTorch {float(loss):.7f}")
    if fp32:
        if abs(m["loss"] - float(loss)) > 1e-5:
            fails.append("loss")
        close("end to end logits", load(d, "fc3.out"), keep["fc3"].detach().reshape(-1), 1e-4, 1e-5)
        for k in SHAPES:
            close(f"end to end {k} gradient", load(d, k + ".grad"), params[k].grad.reshape(-1), 1e-3, 1e-6)
    else:
        for k in ("conv1.weight", "fc3.weight"):
            ours = load(d, k + ".grad")
            ref = qg(params[k].grad.reshape(-1))
            n = int((ours != ref).sum())
            report.append(f"  end to end {k} gradient: {ours.numel() - n} of {ours.numel()} "
                          f"bit-identical, max |diff| {float((ours - ref).abs().max()):.3g}")
        ours = load(d, "fc3.out")
        ref = keep["fc3"].detach().reshape(-1)
        report.append(f"  end to end logits: max |diff| {float((ours - ref).abs().max()):.3g}")
        if abs(m["loss"] - float(loss)) > 1e-2:
            fails.append("loss")
    print(f"{schedule} ({quant}, nearest, batch {b}): {'OK' if not fails else 'FAIL ' + ', '.join(fails)}")
    print("\n".join(report))
    return not fails


def cmd_check(args):
    work = args.work or tempfile.mkdtemp(prefix="lpsim_torch_ref_")
    ok = True
    for schedule, quant in [("static:fp32", "range"), ("static:8/8", "range"), ("static:4/4", "range"),
                            ("static:8/8", "dfx"), ("static:fp8-e4m3/fp8-e5m2", "range")]:
        ok &= check_one(args.lpsim, args.data_dir, schedule, quant, args.batch, work)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


# ------------------------------------------------------------------ speed


def read_idx(path):
    raw = gzip.open(path).read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def q_range_sr(x, bits):
    return q_range(x, bits, stochastic=True, noise=torch.rand_like(x))


def q_range_fast(x, bits, noise=None):
    """q_range for the speed comparison: the same math as tensor ops only (training
    tensors hold no NaN/Inf, so the finite-value filter is skipped)."""
    lo, hi = x.min(), x.max()
    levels = float(2 ** bits - 1)
    s = torch.clamp((hi - lo) / levels, min=1e-30)
    v = ((x - lo) / s)
    v = torch.floor((v + noise).clamp(0.0, levels)) if noise is not None else torch.round(v.clamp(0.0, levels))
    return v * s + lo


def q_range_rows_fast(w, bits):
    """Per output channel with amin/amax over rows: no Python loop."""
    rows = w.reshape(w.shape[0], -1)
    lo = rows.amin(1, keepdim=True)
    hi = rows.amax(1, keepdim=True)
    levels = float(2 ** bits - 1)
    s = torch.clamp((hi - lo) / levels, min=1e-30)
    return (torch.round(((rows - lo) / s).clamp(0.0, levels)) * s + lo).reshape(w.shape)


def torch_epoch(data_dir, threads, batch, bits):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xs = torch.from_numpy(((read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz")) / 255.0 - MEAN) / STD)
                          .astype(np.float32)).unsqueeze(1)
    ys = torch.from_numpy(read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xt = torch.from_numpy(((read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz")) / 255.0 - MEAN) / STD)
                          .astype(np.float32)).unsqueeze(1)
    yt = torch.from_numpy(read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    params = {}
    for k, s in SHAPES.items():
        fan_in = math.prod(SHAPES[k.split(".")[0] + ".weight"][1:])
        params[k] = ((torch.rand(s) * 2 - 1) / math.sqrt(fan_in)).requires_grad_(True)
    opt = torch.optim.SGD(params.values(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    iters = (xs.shape[0] + batch - 1) // batch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: 0.5 * (1 + math.cos(math.pi * it / iters)))
    # Vectorised fake quantization (the check path above keeps the op-for-op
    # reference version): a fair speed comparison needs PyTorch at its best.
    qa = lambda x: q_range_fast(x, bits)
    qw = lambda w: q_range_rows_fast(w, bits)
    qe = lambda e: q_range_fast(e, bits, noise=torch.rand_like(e))
    t0 = time.perf_counter()
    perm = torch.randperm(xs.shape[0])
    for it in range(iters):
        idx = perm[it * batch:(it + 1) * batch]
        opt.zero_grad()
        loss = lenet5_step(params, xs[idx], ys[idx], qa, qw, qe, {})
        loss.backward()
        with torch.no_grad():
            for p in params.values():
                p.grad.copy_(q_range_fast(p.grad, bits, noise=torch.rand_like(p.grad)))
        opt.step()
        sched.step()
    correct = 0
    with torch.no_grad():
        keep = {}
        for s in range(0, xt.shape[0], batch):
            lenet5_step(params, xt[s:s + batch], yt[s:s + batch], qa, qw, None, keep)
            correct += int((keep["fc3"].argmax(1) == yt[s:s + batch]).sum())
    return time.perf_counter() - t0, correct / xt.shape[0]


def cmd_speed(args):
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([*args.lpsim.split(), "train", "--model", "lenet5", "--epochs", "1",
                              "--schedule", f"static:{args.bits}/{args.bits}", "--threads",
                              str(args.threads), "--batch", str(args.batch), "--data-dir",
                              args.data_dir, "-o", os.path.join(tmp, "s.lpt"), "--json"],
                             check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    ours_s = ours["epochs"][0]["wall_s"]
    torch_s, torch_acc = torch_epoch(args.data_dir, args.threads, args.batch, args.bits)
    print(f"one epoch of LeNet-5, Fashion-MNIST, batch {args.batch}, W/A/E/G at {args.bits} bits "
          f"(range quantization; W, A nearest; E, G stochastic), {args.threads} threads, "
          f"training + test pass:")
    print(f"  lpsim:   {ours_s:.2f} s  (test accuracy {ours['test_accuracy']:.4f})")
    print(f"  PyTorch {torch.__version__}: {torch_s:.2f} s  (test accuracy {torch_acc:.4f})")
    print(f"  ratio lpsim / PyTorch: {ours_s / torch_s:.3f}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["check", "speed"])
    p.add_argument("--lpsim", default="build/tools/lpsim", help="lpsim command (may hold spaces)")
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bits", type=int, default=8)
    p.add_argument("--work", default=None, help="check: keep the dumped tensors here")
    args = p.parse_args()
    if args.mode == "check":
        args.batch = args.batch or 64
        return cmd_check(args)
    args.batch = args.batch or 128
    return cmd_speed(args)


if __name__ == "__main__":
    sys.exit(main())
