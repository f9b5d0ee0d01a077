#!/usr/bin/python3
"""PyTorch reference for lpsim's trainer (Debian python3-torch 1.13).

  check: runs `lpsim train --dump-batch` for one LeNet-5 batch at several
         precisions, repeats the quantizers and the training step in PyTorch
         and compares: quantizer outputs bit for bit; each GEMM layer's forward
         and backward from the same quantized operands within float tolerance;
         the whole step end to end (FP32 within float tolerance; quantized:
         how many elements differ, since a last-bit GEMM difference may move a
         value across a rounding boundary of the next quantizer).
         The same for resnet8-w8 (batch norm, residual adds, global average
         pool; FP32, 8/8 range, fp8): there every layer is also recomputed
         from lpsim's own inputs and output gradient against float64, the
         FP32 step is compared with PyTorch in float32 and float64, and the
         quantized steps with PyTorch against itself with mkldnn off (another
         summation order), which shows how far last-bit differences carry.
         --model lenet5 | resnet8-w8 | all (default).
  speed: one epoch of LeNet-5 with 8-bit W/A/E/G quantization, lpsim against
         PyTorch with the same model and fake quantization, same threads.

Usage: scripts/torch_reference.py check --lpsim build/tools/lpsim [--model resnet8-w8]
       scripts/torch_reference.py speed --lpsim build/tools/lpsim --threads 2
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


# ------------------------------------------------------------------ resnet8-w8
# The residual CNN runs through a small graph interpreter: the layer list
# mirrors models/zoo.cpp cifar_resnet (basic blocks), is checked against the
# manifest's layers and parameters, and runs in the manifest's (topological)
# order.

BN_EPS = 1e-5


def cifar_resnet_graph(n=1, base=8, in_ch=1, hw=28, classes=10):
    """zoo.cpp's cifar_resnet with basic blocks: ([(name, kind, inputs, attrs)],
    {name: per-sample output shape})."""
    g = []
    shape = {}

    def add(name, kind, ins, out_shape, **attrs):
        g.append((name, kind, ins, attrs))
        shape[name] = out_shape
        return name

    def conv_bn(p, x, cout, k, stride, pad, relu):
        c, h, w = shape[x]
        oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        y = add(p + ".conv", "conv", [x], (cout, oh, ow), wshape=(cout, c, k, k), stride=stride, pad=pad)
        y = add(p + ".bn", "bn", [y], (cout, oh, ow))
        return add(p + ".relu", "relu", [y], (cout, oh, ow)) if relu else y

    add("input", "input", [], (in_ch, hw, hw))
    x = conv_bn("stem", "input", base, 3, 1, 1, True)
    for s, w in enumerate((base, 2 * base, 4 * base)):
        for i in range(n):
            p = f"stage{s + 1}.block{i}"
            stride = 2 if s > 0 and i == 0 else 1
            y = conv_bn(p + ".a", x, w, 3, stride, 1, True)
            y = conv_bn(p + ".b", y, w, 3, 1, 1, False)
            sc = x
            if stride != 1 or shape[x][0] != w:
                sc = conv_bn(p + ".proj", x, w, 1, stride, 0, False)
            x = add(p + ".add", "add", [y, sc], shape[y])
            x = add(p + ".relu", "relu", [x], shape[y])
    x = add("pool", "gap", [x], (shape[x][0], 1, 1))
    x = add("flatten", "flatten", [x], (shape[x][0],))
    x = add("fc", "linear", [x], (classes,), wshape=(classes, shape[x][0]), bias=True)
    add("loss", "softmax", [x], (classes,))
    return g, shape


def graph_param_shapes(graph, shape):
    out = {}
    for name, kind, _, at in graph:
        if kind in ("conv", "linear"):
            out[name + ".weight"] = at["wshape"]
            if at.get("bias"):
                out[name + ".bias"] = (at["wshape"][0],)
        elif kind == "bn":  # gamma, beta
            out[name + ".weight"] = out[name + ".bias"] = (shape[name][0],)
    return out


def graph_step(graph, order, params, x, labels, qa, qw, qe, keep):
    """One training step of `graph` with fake quantization: A and W through the
    STE at every conv/linear input and weight, E at every conv/linear output
    (qe None: no E quantization); BN in training mode (batch statistics, biased
    variance, eps 1e-5), not quantized. Fills `keep` with every layer's output
    (gradients retained) and each GEMM layer's quantized input (.qin), weights
    (.wq) and error (.eq). Returns the mean cross-entropy loss."""
    by_name = {l[0]: l for l in graph}
    out = {}
    loss = None
    for name in order:
        _, kind, ins, at = by_name[name]
        h = [out[i] for i in ins]
        if kind == "input":
            y = x
        elif kind in ("conv", "linear"):
            w = STE.apply(params[name + ".weight"], qw)
            a = STE.apply(h[0], qa)
            keep[name + ".qin"], keep[name + ".wq"] = a.detach(), w.detach()
            if kind == "conv":
                y = F.conv2d(a, w, None, stride=at["stride"], padding=at["pad"])
            else:
                y = F.linear(a, w, params.get(name + ".bias"))
            if qe is not None:
                def record(g, name=name):
                    keep[name + ".eq"] = qe(g)
                    return keep[name + ".eq"]
                y = ErrorQuant.apply(y, record)
        elif kind == "bn":
            y = F.batch_norm(h[0], None, None, params[name + ".weight"], params[name + ".bias"],
                             training=True, eps=BN_EPS)
        elif kind == "relu":
            y = F.relu(h[0])
        elif kind == "add":
            y = h[0] + h[1]
        elif kind == "gap":
            y = h[0].mean((2, 3), keepdim=True)
        elif kind == "flatten":
            y = h[0].flatten(1)
        elif kind == "softmax":
            loss = F.cross_entropy(h[0], labels)
            y = F.softmax(h[0].detach(), 1)
        else:
            raise ValueError(kind)
        if y.requires_grad:
            y.retain_grad()
        out[name] = keep[name] = y
    return loss


def err_stats(pairs):
    """[(name, ours, ref)] -> (max |diff|, largest max |diff| / max |ref| of a tensor, that tensor)."""
    worst_abs, worst_rel, worst = 0.0, 0.0, "-"
    for name, ours, ref in pairs:
        if not ours.numel():
            continue
        d = float((ours.double() - ref.double()).abs().max())
        s = float(ref.double().abs().max())
        rel = d / s if s > 0 else (0.0 if d == 0 else math.inf)
        worst_abs = max(worst_abs, d)
        if rel > worst_rel or worst == "-":
            worst_rel, worst = rel, name
    return worst_abs, worst_rel, worst


def check_resnet(lpsim, data_dir, model, schedule, quant, batch, work):
    """resnet8-w8: the checks of check_one, for a graph with BN and residual adds."""
    d = os.path.join(work, model + "_" + schedule.replace(":", "_").replace("/", "_") + "_" + quant)
    subprocess.run([*lpsim.split(), "train", "--model", model, "--schedule", schedule,
                    "--quantizer", quant, "--rounding", "nearest", "--batch", str(batch),
                    "--data-dir", data_dir, "--dump-batch", d, "--quiet"], check=True)
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    graph, shape = cifar_resnet_graph(n=1, base=8)
    pshapes = graph_param_shapes(graph, shape)
    order = [l["name"] for l in m["layers"]]
    by_name = {l[0]: l for l in graph}
    if sorted(order) != sorted(by_name) or sorted(m["params"]) != sorted(pshapes):
        raise SystemExit(f"{model}: the manifest's layers or parameters differ from the reference graph")
    b = m["batch"]
    gemms = [n for n in order if by_name[n][1] in ("conv", "linear")]
    bns = [n for n in order if by_name[n][1] == "bn"]
    consumers = {n: [l[0] for l in graph if n in l[2]] for n in order}
    qa = quantizer(m["A"], quant)
    qw = quantizer(m["W"], quant, per_row=True)
    qe = quantizer(m["E"], quant)
    qg = quantizer(m["G"], quant)
    fp32 = all(m[k] == "fp32" for k in "WAEG")
    lines, fails = [], []

    def T(name, sh=None):  # a dumped tensor, [batch, *sh] when sh is given
        return load(d, name, None if sh is None else (b, *sh))

    def report(what, pairs, rtol=None, atol=None, exact=False):
        """One line for a class of tensors; a failure when any is out of tolerance."""
        e_abs, e_rel, worst = err_stats(pairs)
        if exact:
            ok = all(torch.equal(o, r) for _, o, r in pairs)
        else:
            ok = all(torch.allclose(o.double(), r.double(), rtol=rtol, atol=atol) for _, o, r in pairs)
        lines.append(f"  {what} ({len(pairs)}): " + ("bit-identical" if e_abs == 0 else
                     f"max |diff| {e_abs:.3g}, max |diff|/max |ref| {e_rel:.3g} ({worst})")
                     + ("" if ok else "  FAIL"))
        if not ok:
            fails.append(what)

    # 1. Quantizers on lpsim's own pre-quantization tensors: bit for bit.
    n_q, diffs = 0, []
    for layer in gemms:
        _, _, (src,), at = by_name[layer]
        cases = [("A", T(layer + ".qin"), qa(T(src + ".out"))),
                 ("W", T(layer + ".wq"), qw(T(layer + ".weight.init").reshape(at["wshape"][0], -1)).reshape(-1)),
                 ("E", T(layer + ".eq"), qe(T(layer + ".out_grad"))),
                 ("G", T(layer + ".weight.grad"), qg(T(layer + ".g_pre_w")))]
        if at.get("bias"):
            cases.append(("G bias", T(layer + ".bias.grad"), qg(T(layer + ".g_pre_b"))))
        for role, ours, ref in cases:
            n_q += 1
            if not torch.equal(ours, ref):
                diffs.append(f"{layer} {role} ({int((ours != ref).sum())} of {ours.numel()} differ)")
    lines.append(f"  quantizers (A, W, E, G of {len(gemms)} GEMM layers, fc bias G): "
                 f"{n_q - len(diffs)} of {n_q} bit-identical" + (": " + ", ".join(diffs) if diffs else "")
                 + ("  FAIL" if diffs else ""))
    if diffs:
        fails.append("quantizers")

    # 2. Every layer from lpsim's own inputs and output gradient, against float64
    #    (the quantized operands are exact in float64): forward and backward.
    #    A layer's input gradient is checked where the error reaching its input
    #    comes from layers whose share is known here (GEMM, BN, ReLU, add, pool).
    fwd, wgrad, bgrad = [], [], []
    share = {}  # source layer -> [its consumers' input gradients]
    for layer in gemms:
        _, kind, (src,), at = by_name[layer]
        a = T(layer + ".qin", shape[src]).double().requires_grad_(True)
        w = T(layer + ".wq").reshape(at["wshape"]).double().requires_grad_(True)
        bias = T(layer + ".bias.init").double().requires_grad_(True) if at.get("bias") else None
        if kind == "conv":
            y = F.conv2d(a, w, None, stride=at["stride"], padding=at["pad"])
        else:
            y = F.linear(a.reshape(b, -1), w, bias)
        fwd.append((layer, T(layer + ".out"), y.detach().reshape(-1)))
        y.backward(T(layer + ".eq", shape[layer]).double())
        wgrad.append((layer, T(layer + ".g_pre_w"), w.grad.reshape(-1)))
        if bias is not None:
            bgrad.append((layer, T(layer + ".g_pre_b"), bias.grad))
        if src != "input":
            share.setdefault(src, []).append(a.grad.reshape(-1))
    report("per-layer GEMM forward, vs float64", fwd, 1e-5, 1e-5)
    report("per-layer GEMM weight gradient before G, vs float64", wgrad, 1e-4, 1e-6)
    report("per-layer fc bias gradient before G, vs float64", bgrad, 1e-4, 1e-6)
    bn_out, bn_g, bn_b = [], [], []
    for layer in bns:
        _, _, (src,), _ = by_name[layer]
        xin = T(src + ".out", shape[src]).double().requires_grad_(True)
        gamma = T(layer + ".weight.init").double().requires_grad_(True)
        beta = T(layer + ".bias.init").double().requires_grad_(True)
        y = F.batch_norm(xin, None, None, gamma, beta, training=True, eps=BN_EPS)
        y.backward(T(layer + ".out_grad", shape[layer]).double())
        bn_out.append((layer, T(layer + ".out"), y.detach().reshape(-1)))
        bn_g.append((layer, T(layer + ".weight.grad"), gamma.grad))
        bn_b.append((layer, T(layer + ".bias.grad"), beta.grad))
        share.setdefault(src, []).append(xin.grad.reshape(-1))
    report("per-layer BN output, vs float64", bn_out, 1e-5, 1e-5)
    report("per-layer BN gamma gradient, vs float64", bn_g, 1e-4, 1e-7)
    report("per-layer BN beta gradient, vs float64", bn_b, 1e-4, 1e-7)
    other_fwd, other_exact = [], []
    for layer in order:
        _, kind, ins, _ = by_name[layer]
        if kind in ("relu", "add", "flatten"):
            xs = [T(i + ".out") for i in ins]
            ref = F.relu(xs[0]) if kind == "relu" else xs[0] + xs[1] if kind == "add" else xs[0]
            other_exact.append((layer, T(layer + ".out"), ref))
            g = T(layer + ".out_grad")
            for i in ins:
                share.setdefault(i, []).append((g * (xs[0] > 0)).double() if kind == "relu" else g.double())
        elif kind == "gap":
            xin = T(ins[0] + ".out", shape[ins[0]]).double()
            other_fwd.append((layer, T(layer + ".out"), xin.mean((2, 3)).reshape(-1)))
            g = T(layer + ".out_grad", shape[layer]).double()
            share.setdefault(ins[0], []).append((g.expand(-1, -1, *shape[ins[0]][1:]) / math.prod(
                shape[ins[0]][1:])).reshape(-1))
        elif kind == "softmax":
            logits = T(ins[0] + ".out", shape[ins[0]]).double()
            p = F.softmax(logits, 1)
            other_fwd.append((layer, T(layer + ".out"), p.reshape(-1)))
            onehot = F.one_hot(T("labels").long(), p.shape[1]).double()
            share.setdefault(ins[0], []).append(((p - onehot) / b).reshape(-1))
            loss64 = float(F.cross_entropy(logits, T("labels").long()))
    report("per-layer ReLU, add, flatten outputs", other_exact, exact=True)
    report("per-layer pool, softmax outputs, vs float64", other_fwd, 1e-5, 1e-7)
    lines.append(f"  per-layer loss from lpsim's logits: ours {m['loss']:.9g}, float64 {loss64:.9g}"
                 + ("" if abs(m["loss"] - loss64) <= 1e-6 else "  FAIL"))
    if abs(m["loss"] - loss64) > 1e-6:
        fails.append("loss from logits")
    igrad = [(src, T(src + ".out_grad"), sum(parts)) for src, parts in share.items()
             if len(parts) == len(consumers[src])]
    report(f"per-layer input gradients (the error reaching each of {len(igrad)} layers), vs float64",
           igrad, 1e-4, 1e-9)

    # 3. The whole step end to end from the same initial parameters and batch.
    x = T("input", shape["input"])
    labels = T("labels").long()

    def step(dtype):
        params = {k: T(k + ".init").reshape(s).to(dtype).requires_grad_(True) for k, s in pshapes.items()}
        keep = {}
        loss = graph_step(graph, order, params, x.to(dtype), labels, qa, qw, None if m["E"] == "fp32" else qe,
                          keep)
        loss.backward()
        return loss, params, keep

    loss, params, keep = step(torch.float32)
    lay = [n for n in order if n != "input"]
    with_grad = [n for n in lay if keep[n].grad is not None]
    classes = {
        "conv weight": [k for k in pshapes if k.endswith(".conv.weight")],
        "BN gamma": [k for k in pshapes if k.endswith(".bn.weight")],
        "BN beta": [k for k in pshapes if k.endswith(".bn.bias")],
        "fc weight, bias": ["fc.weight", "fc.bias"],
    }
    if fp32:
        loss64, params64, keep64 = step(torch.float64)
        ok = abs(m["loss"] - float(loss)) <= 1e-5
        lines.append(f"  loss: ours {m['loss']:.9g}, PyTorch float32 {float(loss):.9g}, float64 "
                     f"{float(loss64):.9g}" + ("" if ok else "  FAIL"))
        if not ok:
            fails.append("loss")
        groups = [("layer outputs", [(n, T(n + ".out"), keep[n].detach().reshape(-1),
                                      keep64[n].detach().reshape(-1)) for n in lay], 1e-4, 1e-5),
                  ("layer output gradients", [(n, T(n + ".out_grad"), keep[n].grad.reshape(-1),
                                               keep64[n].grad.reshape(-1)) for n in with_grad], 1e-3, 1e-8)]
        for c, ks in classes.items():
            groups.append((f"{c} gradients", [(k, T(k + ".grad"), params[k].grad.reshape(-1),
                                               params64[k].grad.reshape(-1)) for k in ks], 1e-3, 1e-6))
        for what, quads, rtol, atol in groups:
            ok = all(torch.allclose(o.double(), r, rtol=rtol, atol=atol) for _, o, p32, r in quads) and \
                all(torch.allclose(o, p32, rtol=rtol, atol=atol) for _, o, p32, _ in quads)
            a32, r32, w32 = err_stats([(n, o, p) for n, o, p, _ in quads])
            a64, r64, w64 = err_stats([(n, o, p) for n, o, _, p in quads])
            t64, s64, _ = err_stats([(n, p, q) for n, _, p, q in quads])
            lines.append(f"  end to end {what} ({len(quads)}): vs PyTorch float32 max |diff| {a32:.3g}, "
                         f"rel {r32:.3g} ({w32}); vs float64 {a64:.3g}, rel {r64:.3g} ({w64}); "
                         f"[PyTorch float32 vs float64: {t64:.3g}, rel {s64:.3g}]" + ("" if ok else "  FAIL"))
            if not ok:
                fails.append(f"end to end {what}")
    else:
        # PyTorch against itself with another convolution algorithm (mkldnn off:
        # another summation order): how far last-bit differences carry here.
        with torch.backends.mkldnn.flags(enabled=False):
            loss_b, params_b, keep_b = step(torch.float32)
        ok = abs(m["loss"] - float(loss)) <= 1e-2
        lines.append(f"  loss: ours {m['loss']:.7f}, PyTorch {float(loss):.7f} "
                     f"[PyTorch, mkldnn off: {float(loss_b):.7f}]" + ("" if ok else "  FAIL"))
        if not ok:
            fails.append("loss")

        def count(what, pairs_of, must_equal=False):
            pairs = pairs_of(keep, params)
            n_all = sum(o.numel() for _, o, _ in pairs)
            n_diff = sum(int((o != r).sum()) for _, o, r in pairs)
            n_far = sum(int(((o - r).abs() > 1e-5 * r.abs().max()).sum()) for _, o, r in pairs)
            e_abs, e_rel, worst = err_stats(pairs)
            base = pairs_of(keep_b, params_b)
            b_abs, b_rel, _ = err_stats([(n, o, r) for (n, _, o), (_, _, r) in zip(base, pairs)])
            ok = not must_equal or n_diff == 0
            lines.append(f"  end to end {what}: " + (f"{n_all} of {n_all} bit-identical" if n_diff == 0 else
                         f"{n_all - n_diff} of {n_all} bit-identical, {100.0 * n_far / n_all:.2f}% differ by "
                         f"> 1e-5 max |ref|, max |diff| {e_abs:.3g}, max |diff|/max |ref| {e_rel:.3g} ({worst})")
                         + f" [PyTorch mkldnn on vs off: max |diff| {b_abs:.3g}, rel {b_rel:.3g}]"
                         + ("" if ok else "  FAIL"))
            if not ok:
                fails.append(f"end to end {what}")

        count("quantized weights W", lambda k, p: [(n, T(n + ".wq"), k[n + ".wq"].reshape(-1)) for n in gemms],
              must_equal=True)
        count("stem.conv quantized input A", lambda k, p: [(gemms[0], T(gemms[0] + ".qin"),
                                                           k[gemms[0] + ".qin"].reshape(-1))], must_equal=True)
        count("other quantized inputs A",
              lambda k, p: [(n, T(n + ".qin"), k[n + ".qin"].reshape(-1)) for n in gemms[1:]])
        count("layer outputs", lambda k, p: [(n, T(n + ".out"), k[n].detach().reshape(-1)) for n in lay])
        count("logits", lambda k, p: [("fc", T("fc.out"), k["fc"].detach().reshape(-1))])
        count("quantized errors E", lambda k, p: [(n, T(n + ".eq"), k[n + ".eq"].reshape(-1)) for n in gemms])
        count("conv/fc gradients after G",
              lambda k, p: [(n, T(n + ".grad"), qg(p[n].grad.reshape(-1)))
                            for n in classes["conv weight"] + classes["fc weight, bias"]])
        count("BN gamma/beta gradients", lambda k, p: [(n, T(n + ".grad"), p[n].grad.reshape(-1))
                                                       for n in classes["BN gamma"] + classes["BN beta"]])
    print(f"{model} {schedule} ({quant}, nearest, batch {b}): {'OK' if not fails else 'FAIL ' + ', '.join(fails)}")
    print("\n".join(lines))
    return not fails


def cmd_check(args):
    work = args.work or tempfile.mkdtemp(prefix="lpsim_torch_ref_")
    ok = True
    if args.model in ("all", "lenet5"):
        for schedule, quant in [("static:fp32", "range"), ("static:8/8", "range"), ("static:4/4", "range"),
                                ("static:8/8", "dfx"), ("static:fp8-e4m3/fp8-e5m2", "range")]:
            ok &= check_one(args.lpsim, args.data_dir, schedule, quant, args.batch or 64, work)
    if args.model in ("all", "resnet8-w8"):
        for schedule, quant in [("static:fp32", "range"), ("static:8/8", "range"),
                                ("static:fp8-e4m3/fp8-e5m2", "range")]:
            ok &= check_resnet(args.lpsim, args.data_dir, "resnet8-w8", schedule, quant,
                                    args.batch or 32, work)
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
    p.add_argument("--model", choices=["all", "lenet5", "resnet8-w8"], default="all",
                   help="check: which model(s) (default both; batch 64 for lenet5, 32 for resnet8-w8)")
    args = p.parse_args()
    if args.mode == "check":
        return cmd_check(args)
    args.batch = args.batch or 128
    return cmd_speed(args)


if __name__ == "__main__":
    sys.exit(main())
