"""Records a PyTorch training run as an lpsim trace (docs/python.md, "Recording
a PyTorch run"; docs/trace-format.md). Pure Python: needs torch, not lpsim's
compiled module.

    rec = lpsim.torch.Recorder(model, example_input, "run.lpt", samples_per_epoch=60000)
    for x, y in loader:
        with rec.step(w=8, a=8, e=8, g=8):
            ...                      # the user's own forward, backward, optimizer step
    rec.close()                      # writes the trace whole

The network is captured once, at construction: torch.fx symbolic tracing and
shape propagation, or -- where fx cannot trace the model (data-dependent
control flow) -- one forward pass watched by forward hooks on the leaf modules
and a TorchFunctionMode for the functions between them. Each captured op
becomes an lpsim graph layer (docs/models.md); an op lpsim has no layer for is
an InputError naming it. The trace's header embeds that graph, so lpsim's own
training-step expansion (models/training_step.cpp) supplies the backward and
update ops when the trace is replayed. A step costs O(1) (O(layers with their
own precision) with per-layer precisions): consecutive steps at the same
precisions extend one segment.
"""

import gzip
import json
import math
import operator
import os
import tempfile
import warnings

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from torch.fx.passes.shape_prop import ShapeProp

from . import InputError

__all__ = ["Recorder", "capture", "canonical_format"]

PRODUCER = "lpsim.torch 0.1.0"
_ROLES = ("W", "A", "E", "G", "Opt")
_METRICS = ("train_loss", "train_accuracy", "test_accuracy", "wall_s")
_NAMED_FLOATS = {"fp32": (8, 23), "fp16": (5, 10), "bf16": (8, 7), "fp8-e4m3": (4, 3),
                 "fp8-e5m2": (5, 2)}
_FLOAT_NAMES = {v: k for k, v in _NAMED_FLOATS.items()}


def canonical_format(value, where):
    """A number format as core/precision.h spells it canonically: integer bits
    1..64 (an int, "8" or "int8") -> "8"; fp32, fp16, bf16, fp8-e4m3, fp8-e5m2,
    e<E>m<M> (E 2..11, M 0..52) -> the named spelling where there is one."""
    text = value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"{where} = {value!r}: expected integer bits 1..64 or a format name "
                         f"(fp32, fp16, bf16, fp8-e4m3, fp8-e5m2, e<E>m<M>)")
    if isinstance(value, str):
        if value in _NAMED_FLOATS:
            return value
        if value.startswith("e") and "m" in value:
            e, _, m = value[1:].partition("m")
            if e.isdigit() and m.isdigit():
                if not (2 <= int(e) <= 11 and 0 <= int(m) <= 52):
                    raise InputError(f"{where} = '{value}': exponent bits must be 2..11 and "
                                     f"mantissa bits 0..52")
                return _FLOAT_NAMES.get((int(e), int(m)), f"e{int(e)}m{int(m)}")
        text = value[3:] if value.startswith("int") else value
        if not text.isdigit():
            raise InputError(f"{where} = '{value}': not a number format: expected integer bits "
                             f"1..64 or one of fp32, fp16, bf16, fp8-e4m3, fp8-e5m2, e<E>m<M>")
    bits = int(text)
    if not 1 <= bits <= 64:
        raise InputError(f"{where} = {value!r}: {bits} bits is out of range: must be 1..64")
    return str(bits)


# ----------------------------------------------------------------- capture
# One op seen in the forward pass, by fx or by the hooks: what it is
# (`module`, or a canonical function name `fn`), its tensor inputs (producer op
# indices, None for a constant tensor), its other arguments, per-sample shapes.
class _Op:
    __slots__ = ("name", "where", "module", "fn", "inputs", "args", "kwargs", "in_shapes",
                 "out_shape", "raw_shape")

    def __init__(self, name, where, module=None, fn=None, inputs=(), args=(), kwargs=None,
                 in_shapes=(), out_shape=None):
        self.name, self.where, self.module, self.fn = name, where, module, fn
        self.inputs, self.args, self.kwargs = list(inputs), tuple(args), dict(kwargs or {})
        self.in_shapes, self.out_shape, self.raw_shape = list(in_shapes), out_shape, None


class _Tensor:  # stands for a tensor argument in _Op.args (its index in _Op.inputs)
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


# Functions (by identity) and tensor methods (by name, in-place "_" dropped)
# onto one canonical name per handler below.
_FUNCTIONS = {
    F.relu: "relu", torch.relu: "relu", F.relu6: "relu6", torch.sigmoid: "sigmoid",
    F.leaky_relu: "leaky_relu", F.hardsigmoid: "hardsigmoid", F.hardswish: "hardswish",
    F.gelu: "gelu", F.silu: "silu",
    F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh",
    operator.add: "add", operator.iadd: "add", torch.add: "add",
    operator.mul: "mul", operator.imul: "mul", torch.mul: "mul",
    torch.flatten: "flatten", torch.reshape: "reshape",
    F.max_pool2d: "max_pool2d", F.avg_pool2d: "avg_pool2d",
    F.adaptive_avg_pool2d: "adaptive_avg_pool2d", F.adaptive_max_pool2d: "adaptive_max_pool2d",
    torch.cat: "cat", F.dropout: "dropout", torch.softmax: "softmax", F.softmax: "softmax",
    F.log_softmax: "log_softmax", torch.log_softmax: "log_softmax",
}
_METHODS = {"iadd": "add", "radd": "add", "imul": "mul", "rmul": "mul", "view": "reshape", "contiguous": "identity",
            "clone": "identity", "detach": "identity", "to": "identity", "float": "identity",
            "get": "identity"}
_ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh",
                "leaky_relu": "leaky_relu", "hardsigmoid": "hard_sigmoid",
                "hardswish": "hard_swish"}
_SUPPORTED = ("Conv2d, Linear, BatchNorm1d/2d, LayerNorm, ReLU, ReLU6, Sigmoid, Tanh, "
              "LeakyReLU, Hardsigmoid, Hardswish, GELU, SiLU, "
              "x * y of two activations or of an activation and a number, "
              "MaxPool2d, AvgPool2d, AdaptiveAvg/MaxPool2d, Flatten, Dropout, Identity, "
              "Embedding, Softmax/LogSoftmax at the output; +, cat along channels, "
              "flatten/view/reshape to a vector")


def _method_name(name):
    """"__iadd__" -> "add", "relu_" -> "relu", "view" -> "reshape"."""
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
    name = name.rstrip("_")  # the in-place form costs as the other
    return _METHODS.get(name, name)


def _is_leaf(module):
    """Modules captured whole: those lpsim maps (subclasses too, e.g. a CPT
    QConv2d), those carrying a precision (num_bits), and torch.nn's own
    childless ones (fx's rule: nn.GELU is refused by its module's name). A
    user's other modules are looked into."""
    return (isinstance(module, _MODULE_TYPES) or hasattr(module, "num_bits")
            or (type(module).__module__.startswith("torch.nn.")
                and next(module.children(), None) is None))


def _per_sample(shape, batch, where):
    shape = list(shape)
    if not shape or shape[0] != batch:
        raise InputError(f"{where}: shape {shape} has no leading batch dimension {batch}: "
                         f"lpsim graphs are per sample")
    return shape[1:]


def _set_shape(op, shape, batch):
    """Per-sample shape; a tensor without the batch dimension (a loss, a
    condition) is an error only if the output depends on it (_graph)."""
    shape = list(shape)
    op.out_shape = shape[1:] if shape and shape[0] == batch else None
    op.raw_shape = shape


class _Unique:
    def __init__(self):
        self.used = {}

    def __call__(self, name):
        n = self.used.get(name, 0)
        self.used[name] = n + 1
        return name if n == 0 else f"{name}_{n}"


def _input_ops(example, batch):
    ops = []
    for i, x in enumerate(example):
        name = "input" if len(example) == 1 else f"input_{i}"
        ops.append(_Op(name, f"input {i}", fn="input",
                       out_shape=_per_sample(x.shape, batch, f"example input {i}")))
    return ops


def _capture_fx(model, example, batch):
    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return _is_leaf(m) or super().is_leaf_module(m, qualname)

    graph = Tracer().trace(model)
    gm = torch.fx.GraphModule(model, graph)
    ShapeProp(gm).propagate(*example)
    ops, index, output, names = _input_ops(example, batch), {}, None, _Unique()
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != len(example):
        raise InputError(f"example_input: {len(example)} tensors for a forward() of "
                         f"{len(placeholders)} inputs")
    for i, n in enumerate(placeholders):
        index[n] = i
    for n in graph.nodes:
        if n.op == "output":
            output = n.args[0]
            continue
        if n.op == "placeholder":
            continue
        meta = n.meta.get("tensor_meta")
        if not hasattr(meta, "shape"):
            continue  # not a tensor (x.size(0), a tuple): only an argument of other nodes
        inputs, args, kwargs = [], [], {}

        def arg(a):
            if isinstance(a, torch.fx.Node):
                if a not in index:
                    return a  # a value, e.g. x.size(0): the shapes say what it was
                inputs.append(index[a])  # None: a parameter or buffer (get_attr)
                return _Tensor(len(inputs) - 1)
            if isinstance(a, (list, tuple)):
                return type(a)(arg(x) for x in a)
            return a
        args = [arg(a) for a in n.args]
        kwargs = {k: arg(v) for k, v in n.kwargs.items()}
        if n.op == "call_module":
            module = gm.get_submodule(n.target)
            op = _Op(names(n.target), f"module '{n.target}' ({type(module).__name__})",
                     module=module)
        elif n.op == "call_function":
            fn = _FUNCTIONS.get(n.target, getattr(n.target, "__name__", str(n.target)))
            op = _Op(names(n.name), f"node '{n.name}' ({fn})", fn=fn)
        elif n.op == "call_method":
            fn = _method_name(n.target)
            op = _Op(names(n.name), f"node '{n.name}' (Tensor.{n.target})", fn=fn)
        else:  # get_attr: a parameter or buffer used as a tensor
            index[n] = None
            continue
        op.inputs, op.args, op.kwargs = inputs, tuple(args), kwargs
        op.in_shapes = [None if i is None else ops[i].out_shape for i in inputs]
        _set_shape(op, meta.shape, batch)
        index[n] = len(ops)
        ops.append(op)
    if not isinstance(output, torch.fx.Node) or index.get(output) is None:
        raise InputError(f"{type(model).__name__}.forward returns {type(output).__name__}: "
                         f"the recorder needs one tensor output")
    return ops, index[output]


def _capture_hooks(model, example, batch):
    from torch.overrides import TorchFunctionMode

    ops, producer, keep = _input_ops(example, batch), {}, []
    for i, x in enumerate(example):
        producer[id(x)] = i
        keep.append(x)
    names, depth = _Unique(), [0]
    qualnames = {m: q for q, m in model.named_modules()}

    def record(op, tensors, args, kwargs, out):
        if not isinstance(out, torch.Tensor):
            return
        op.inputs = [producer.get(id(t)) for t in tensors]
        op.in_shapes = [None if i is None else ops[i].out_shape for i in op.inputs]
        op.args, op.kwargs = args, kwargs
        _set_shape(op, out.shape, batch)
        producer[id(out)] = len(ops)
        keep.append(out)  # ids stay unique while the capture runs
        ops.append(op)

    def split(args, kwargs):
        tensors = []

        def arg(a):
            if isinstance(a, torch.Tensor):
                tensors.append(a)
                return _Tensor(len(tensors) - 1)
            if isinstance(a, (list, tuple)):
                return type(a)(arg(x) for x in a)
            return a
        return tensors, tuple(arg(a) for a in args), {k: arg(v) for k, v in kwargs.items()}

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if depth[0] == 0:
                if func in _FUNCTIONS:
                    fn = _FUNCTIONS[func]
                else:
                    fn = _method_name(getattr(func, "__name__", str(func)))
                tensors, a, k = split(args, kwargs)
                name = names(fn)
                record(_Op(name, f"function '{name}' ({fn})", fn=fn), tensors, a, k, out)
            return out

    def pre(module, inputs):
        depth[0] += 1

    def post(module, inputs, out):
        depth[0] -= 1
        if depth[0] == 0:
            q = qualnames[module]
            tensors, a, _ = split(inputs, {})
            record(_Op(names(q), f"module '{q}' ({type(module).__name__})", module=module),
                   tensors, a, {}, out)

    handles = []
    for m in model.modules():
        if m is not model and _is_leaf(m):
            handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    try:
        with Mode():
            out = model(*example)
    finally:
        for h in handles:
            h.remove()
    if not isinstance(out, torch.Tensor) or id(out) not in producer:
        raise InputError(f"{type(model).__name__}.forward returns {type(out).__name__}: "
                         f"the recorder needs one tensor output")
    return ops, producer[id(out)]


# ----------------------------------------------------------------- mapping
def _pair(v, what, op):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise InputError(f"{op.where}: {what} {v}: expected one value or a pair")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _field(pair):
    """One value where height and width agree, else [h, w] (docs/models.md)."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def _window(op, kind, kernel, stride, padding, dilation=1):
    """conv2d / pool fields, after checking that lpsim's window formula
    floor((H + 2p - d (K - 1) - 1) / s) + 1, per axis, gives the shape
    PyTorch gave."""
    kh, kw = _pair(kernel, "kernel", op)
    sh, sw = _pair(stride, "stride", op)
    dh, dw = _pair(dilation, "dilation", op)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif kh % 2 == 1 and kw % 2 == 1 and (sh, sw) == (1, 1):  # 'same', odd kernel
            padding = (dh * (kh - 1) // 2, dw * (kw - 1) // 2)
        else:
            raise InputError(f"{op.where}: padding '{padding}' is not one symmetric padding")
    ph, pw = _pair(padding, "padding", op)
    if len(op.in_shapes) != 1 or op.in_shapes[0] is None or len(op.in_shapes[0]) != 3:
        raise InputError(f"{op.where}: expects one [C,H,W] activation input")
    c, h, w = op.in_shapes[0]
    want = [(h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1]
    if list(op.out_shape[1:]) != want:
        raise InputError(f"{op.where}: PyTorch gives {op.out_shape[1:]} (ceil_mode?) where "
                         f"lpsim's window formula floor((H + 2p - d(K-1) - 1) / s) + 1 gives "
                         f"{want}")
    fields = {"kernel": _field((kh, kw)), "stride": _field((sh, sw)), "padding": _field((ph, pw))}
    if (dh, dw) != (1, 1):
        fields["dilation"] = _field((dh, dw))
    return fields


def _pool(op, mode, kernel, stride=None, padding=0, dilation=1):
    fields = _window(op, "pool", kernel, kernel if stride in (None, ()) else stride, padding,
                     dilation)
    return {"kind": "pool", "mode": mode, "global": False, **fields}


def _adaptive(op, mode, size):
    size = _pair(size, "output_size", op)
    c, h, w = op.in_shapes[0]
    if size == (1, 1):
        return {"kind": "pool", "mode": mode, "global": True}
    if size == (h, w):
        return "identity"
    if h % size[0] == 0 and w % size[1] == 0 and h // size[0] == w // size[1]:
        k = h // size[0]
        return {"kind": "pool", "mode": mode, "global": False, "kernel": k, "stride": k,
                "padding": 0}
    raise InputError(f"{op.where}: adaptive pooling {h}x{w} -> {size[0]}x{size[1]} is not one "
                     f"square window")


def _bind(op, names, defaults):
    """The function's arguments by name (positional, then keywords)."""
    values = dict(defaults)
    values.update(zip(names, op.args))
    values.update(op.kwargs)
    return values


def _map_module(op):
    m = op.module
    if isinstance(m, nn.Conv2d):
        return {"kind": "conv2d", "out_channels": m.out_channels,
                **_window(op, "conv2d", m.kernel_size, m.stride, m.padding, m.dilation),
                "groups": m.groups, "bias": m.bias is not None}
    if isinstance(m, nn.Linear):
        return {"kind": "linear", "out_features": m.out_features, "bias": m.bias is not None}
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return {"kind": "batchnorm"}
    if isinstance(m, nn.LayerNorm):
        if len(m.normalized_shape) != 1:
            raise InputError(f"{op.where}: normalizes over {tuple(m.normalized_shape)}; lpsim's "
                             f"layernorm normalizes over the last dimension only")
        return {"kind": "layernorm"}
    for cls, fn in ((nn.ReLU, "relu"), (nn.ReLU6, "relu6"), (nn.Sigmoid, "sigmoid"),
                    (nn.Tanh, "tanh"), (nn.LeakyReLU, "leaky_relu"),
                    (nn.Hardsigmoid, "hard_sigmoid"), (nn.Hardswish, "hard_swish")):
        if isinstance(m, cls):
            return {"kind": "activation", "function": fn}
    if isinstance(m, nn.GELU):
        return _GELU_TANH if m.approximate == "tanh" else _GELU
    if isinstance(m, nn.SiLU):
        return _SILU
    if isinstance(m, nn.MaxPool2d):
        return _pool(op, "max", m.kernel_size, m.stride, m.padding, m.dilation)
    if isinstance(m, nn.AvgPool2d):
        return _pool(op, "avg", m.kernel_size, m.stride, m.padding)
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return _adaptive(op, "avg", m.output_size)
    if isinstance(m, nn.AdaptiveMaxPool2d):
        return _adaptive(op, "max", m.output_size)
    if isinstance(m, nn.Flatten):
        return _reshape(op)
    if isinstance(m, (nn.Dropout, nn.Dropout2d, nn.Identity)):
        return "identity"
    if isinstance(m, (nn.Softmax, nn.LogSoftmax)):
        return "loss"
    if isinstance(m, nn.Embedding):
        return {"kind": "embedding", "vocab": m.num_embeddings, "dim": m.embedding_dim}
    raise InputError(f"{op.where}: lpsim has no layer kind for it; the recorder maps "
                     f"{_SUPPORTED}")


# Activations without a layer kind of their own, as chains of the graph's
# layers, each part reading the op's input ("x") or the part before ("prev"):
# the arithmetic PyTorch's ONNX export writes for them, so a recorded and an
# imported network cost the same (docs/python.md).
def _scalar(function):
    return {"kind": "elementwise", "function": function, "operand": []}


_MUL = {"kind": "elementwise", "function": "mul"}
# GELU(x) = x * 0.5 * (1 + erf(x / sqrt 2))
_GELU = [(_scalar("div"), ["x"]), ({"kind": "activation", "function": "erf"}, ["prev"]),
         (_scalar("add"), ["prev"]), (_MUL, ["x", "prev"]), (_scalar("mul"), ["prev"])]
# GELU(x) ~ 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), x^3 as x * x * x
_GELU_TANH = [(_MUL, ["x", "x"]), (_MUL, ["x", "prev"]), (_scalar("mul"), ["prev"]),
              ({"kind": "add"}, ["x", "prev"]), (_scalar("mul"), ["prev"]),
              ({"kind": "activation", "function": "tanh"}, ["prev"]), (_scalar("add"), ["prev"]),
              (_MUL, ["x", "prev"]), (_scalar("mul"), ["prev"])]
# SiLU(x) = x * sigmoid(x)
_SILU = [({"kind": "activation", "function": "sigmoid"}, ["x"]), (_MUL, ["x", "prev"])]


def _reshape(op):
    if op.out_shape == op.in_shapes[0]:
        return "identity"
    if len(op.out_shape) == 1:
        return {"kind": "flatten"}
    raise InputError(f"{op.where}: reshapes {op.in_shapes[0]} to {op.out_shape}; lpsim's only "
                     f"reshape is flatten to a vector")


def _map_function(op):
    fn = op.fn
    if fn == "gelu":
        return _GELU_TANH if op.kwargs.get("approximate", "none") == "tanh" else _GELU
    if fn == "silu":
        return _SILU
    if fn in _ACTIVATIONS:
        return {"kind": "activation", "function": _ACTIVATIONS[fn]}
    if fn == "add":
        if len(op.inputs) < 2 or None in op.inputs or op.kwargs.get("alpha", 1) != 1:
            raise InputError(f"{op.where}: adds a constant or a parameter; lpsim's add layer "
                             f"sums two or more activations of one shape")
        return {"kind": "add"}
    if fn == "mul":
        # docs/models.md `elementwise`: two activations (numpy broadcasting, a
        # gate or squeeze-excitation scale), or one and a scalar constant.
        numbers = [a for a in op.args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        if len(op.inputs) == 2 and None not in op.inputs:
            return {"kind": "elementwise", "function": "mul"}
        if len(op.inputs) == 1 and op.inputs[0] is not None and len(numbers) == 1:
            return {"kind": "elementwise", "function": "mul", "operand": []}
        raise InputError(f"{op.where}: multiplies by a parameter or a constant tensor; the "
                         f"recorder maps x * y of two activations or of an activation and a "
                         f"number")
    if fn in ("flatten", "reshape"):
        return _reshape(op)
    if fn == "identity" or fn == "dropout":
        if op.out_shape != op.in_shapes[0]:
            raise InputError(f"{op.where}: changes the shape {op.in_shapes[0]} to "
                             f"{op.out_shape}; lpsim has no layer kind for it")
        return "identity"
    if fn in ("max_pool2d", "avg_pool2d"):
        a = _bind(op, ("input", "kernel_size", "stride", "padding", "dilation"),
                  {"stride": None, "padding": 0, "dilation": 1})
        return _pool(op, fn[:3], a["kernel_size"], a["stride"], a["padding"], a["dilation"])
    if fn in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        a = _bind(op, ("input", "output_size"), {})
        return _adaptive(op, fn[9:12], a["output_size"])
    if fn == "cat":
        a = _bind(op, ("tensors", "dim"), {"dim": 0})
        if a["dim"] not in (1, -len(op.out_shape)):  # 1 of a batch, counted either way
            raise InputError(f"{op.where}: concatenates along dimension {a['dim']}; lpsim's "
                             f"concat joins channels (dimension 1 of a batch)")
        return {"kind": "concat"}
    if fn in ("softmax", "log_softmax"):
        return "loss"
    raise InputError(f"{op.where}: lpsim has no layer kind for it; the recorder maps "
                     f"{_SUPPORTED}")


def _graph(ops, out, name, loss):
    """The lpsim graph (docs/models.md) of the ops the output depends on.
    Returns (graph dict, {layer name: module})."""
    live, todo = set(), [out]
    while todo:
        i = todo.pop()
        if i is not None and i not in live:
            live.add(i)
            todo += ops[i].inputs
    layer_of, layers, modules, has_loss = {}, [], {}, False
    for i, op in enumerate(ops):
        if i not in live:
            continue  # e.g. the condition of data-dependent control flow
        if op.out_shape is None:
            raise InputError(f"{op.where}: shape {op.raw_shape} has no leading batch "
                             f"dimension: lpsim graphs are per sample")
        if op.fn == "input":
            layers.append({"name": op.name, "kind": "input", "shape": op.out_shape})
            layer_of[i] = op.name
            continue
        mapped = _map_module(op) if op.module is not None else _map_function(op)
        tensors = [layer_of[j] for j in op.inputs if j is not None]
        if len(tensors) != len(op.inputs) or not tensors:
            raise InputError(f"{op.where}: reads a constant tensor or a parameter outside "
                             f"a module; lpsim layers read activations")
        if mapped == "identity":
            layer_of[i] = tensors[0]
            continue
        if mapped == "loss":
            if i != out:
                raise InputError(f"{op.where}: softmax is lpsim's loss layer: only the "
                                 f"network's output may be one")
            if loss is None:
                layer_of[i] = tensors[0]
                continue
            mapped, has_loss = {"kind": "softmax"}, True
        if isinstance(mapped, list):  # one op, a chain of layers (GELU, SiLU)
            prev = None
            for k, (part, reads) in enumerate(mapped):
                name_k = op.name if k == len(mapped) - 1 else f"{op.name}#{k}"
                ins = [tensors[0] if r == "x" else prev for r in reads]
                layers.append({"name": name_k, **_ordered(dict(part), ins)})
                prev = name_k
        else:
            layers.append({"name": op.name, **_ordered(mapped, tensors)})
        layer_of[i] = op.name
        if op.module is not None:
            modules[op.name] = op.module
    if loss == "cross_entropy" and not has_loss:
        taken = {l["name"] for l in layers}
        n = next(f"loss_{k}" if k else "loss" for k in range(len(layers) + 1)
                 if (f"loss_{k}" if k else "loss") not in taken)
        layers.append({"name": n, "kind": "softmax", "inputs": [layer_of[out]]})
    return {"format": "lpsim-graph", "version": 1, "name": name, "layers": layers}, modules


def _ordered(mapped, inputs):
    kind = mapped.pop("kind")
    return {"kind": kind, "inputs": inputs, **mapped}


_MODULE_TYPES = (nn.Conv2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.ReLU,
                 nn.ReLU6, nn.Sigmoid, nn.Tanh, nn.MaxPool2d, nn.AvgPool2d,
                 nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten, nn.Dropout,
                 nn.Dropout2d, nn.Identity, nn.Softmax, nn.LogSoftmax, nn.Embedding)


def capture(model, example_input, *, tracer="auto", loss="cross_entropy", name=None):
    """The lpsim graph of ``model`` on ``example_input`` (a tensor or a tuple
    of tensors, batch first) -> (graph dict, tracer used, fx's error or None,
    {layer name: module}). The model runs once, in eval mode with the random
    state saved (its BN statistics and RNG stream are left as they were)."""
    if tracer not in ("auto", "fx", "hooks"):
        raise InputError(f"tracer = {tracer!r}: must be 'auto', 'fx' or 'hooks'")
    if loss not in ("cross_entropy", None):
        raise InputError(f"loss = {loss!r}: must be 'cross_entropy' (a softmax + cross-entropy "
                         f"layer after the output) or None")
    example = tuple(example_input) if isinstance(example_input, (tuple, list)) else (
        example_input,)
    if not example or not all(isinstance(x, torch.Tensor) and x.dim() >= 1 for x in example):
        raise InputError("example_input: expected a tensor (or a tuple of tensors) with a "
                         "leading batch dimension")
    batch = example[0].shape[0]
    modes = {m: m.training for m in model.modules()}
    reason = None
    try:
        model.eval()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            if tracer != "hooks":
                try:
                    ops, out = _capture_fx(model, example, batch)
                except InputError:
                    raise
                except Exception as e:  # fx's TraceError, or a forward fx cannot run
                    if tracer == "fx":
                        raise InputError(f"torch.fx cannot trace {type(model).__name__}: "
                                         f"{_one_line(e)}") from e
                    reason = _one_line(e)
            if tracer == "hooks" or reason is not None:
                ops, out = _capture_hooks(model, example, batch)
    finally:
        for m, training in modes.items():
            m.training = training
    graph, modules = _graph(ops, out, name or type(model).__name__, loss)
    return graph, ("hooks" if tracer == "hooks" or reason else "fx"), reason, modules


def _one_line(e):
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# ----------------------------------------------------------------- recording
class _Step:
    """The context of one training step (Recorder.step); reused, so a step
    allocates nothing."""
    __slots__ = ("rec", "key", "layers")

    def __init__(self, rec):
        self.rec, self.key, self.layers = rec, None, None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        rec = self.rec
        rec._open = False
        if exc_type is None:
            rec._commit(self.key, self.layers)
        return False


class Recorder:
    """Records the precision of every step of a PyTorch training run and
    writes it as an lpsim trace (docs/python.md, docs/trace-format.md).

    ``model``: the torch.nn.Module being trained; ``example_input``: one batch
    of its input (a tensor, or a tuple for several inputs), used once to
    capture the graph; ``path``: the trace file (``.lpt``, gzipped if it ends
    in ``.gz``), written whole by ``close()``.

    Header fields (docs/trace-format.md): ``batch`` (default: the example's
    first dimension), ``samples_per_epoch`` (default: every recorded step's
    batch, as one epoch), ``epochs`` (default: the fewest that hold the
    steps, ceil(steps / ceil(samples_per_epoch / batch)); given, the steps
    must fit it), ``dataset`` (a name, default ""), ``schedule`` (a
    description of the precision schedule followed, default "recorded"),
    ``seed`` (the run's seed, default 0).

    ``loss``: "cross_entropy" (default) appends lpsim's softmax + cross-entropy
    layer after the output, as the zoo's networks end (an output that already
    is a Softmax / LogSoftmax becomes that layer); None leaves it out.
    ``tracer``: "auto" (torch.fx; forward hooks where fx fails, with a
    warning), "fx" or "hooks". ``name``: the graph's name (default: the
    model's class name)."""

    def __init__(self, model, example_input, path, *, batch=None, samples_per_epoch=None,
                 epochs=None, dataset="", schedule="recorded", seed=0, loss="cross_entropy",
                 tracer="auto", name=None):
        self.path = os.fspath(path)
        self.graph, self.tracer, self.fallback_reason, modules = capture(
            model, example_input, tracer=tracer, loss=loss, name=name)
        if self.fallback_reason is not None:
            warnings.warn(f"lpsim.torch: torch.fx cannot trace {type(model).__name__} "
                          f"({self.fallback_reason}); captured with forward hooks instead",
                          RuntimeWarning, stacklevel=2)
        example = example_input[0] if isinstance(example_input, (tuple, list)) else example_input
        self.batch = _positive("batch", example.shape[0] if batch is None else batch)
        self.samples_per_epoch = (None if samples_per_epoch is None
                                  else _positive("samples_per_epoch", samples_per_epoch))
        self.epochs = None if epochs is None else _positive("epochs", epochs)
        if self.epochs is not None and self.samples_per_epoch is None:
            raise InputError("epochs: give samples_per_epoch with it (iterations per epoch = "
                             "ceil(samples_per_epoch / batch))")
        self._max_iterations = (None if self.epochs is None else
                                self.epochs * -(-self.samples_per_epoch // self.batch))
        for key, value in (("dataset", dataset), ("schedule", schedule)):
            if not isinstance(value, str):
                raise InputError(f"{key} = {value!r}: must be a string")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 64:
            raise InputError(f"seed = {seed!r}: must be an integer 0..2^64-1")
        self.dataset, self.schedule, self.seed = dataset, schedule, seed
        self.layer_names = [l["name"] for l in self.graph["layers"]]
        self._known = set(self.layer_names)
        # Layers whose module carries its own precision (CPT-style num_bits).
        self._bits_modules = [(n, m) for n, m in modules.items() if hasattr(m, "num_bits")]
        self._step = _Step(self)
        self._canon = {}      # (w, a, e, g, opt) as given -> canonical tuple
        self.iterations = 0
        self._segments = []   # (begin, end, layer, key), closed
        self._key, self._begin = None, 0
        self._layer_open = {}  # layer -> (begin, key) of its open per-layer segment
        self._metrics = []
        self._open = False
        self._closed = False

    # -- precisions
    def _precision(self, w, a, e, g, opt, where):
        raw = (w, a, e, g, opt)
        try:
            return self._canon[raw]
        except KeyError:
            pass
        except TypeError:  # unhashable: checked below, which raises
            pass
        for role, v in zip(_ROLES, raw):
            if v is None:
                raise InputError(f"{where}: give {role.lower()}= (integer bits 1..64 or a "
                                 f"format name); every step needs w, a, e and g")
        key = tuple(canonical_format(v, f"{where}: {role.lower()}")
                    for role, v in zip(_ROLES, raw))
        self._canon[raw] = key
        return key

    def _layer_precision(self, name, value, base):
        where = f"step: layers['{name}']"
        if name not in self._known:
            raise InputError(f"{where}: the graph has no layer '{name}'; its layers: "
                             f"{', '.join(self.layer_names)}")
        if isinstance(value, dict):
            bad = [k for k in value
                   if not isinstance(k, str) or k.lower() not in ("w", "a", "e", "g", "opt")]
            if bad:
                raise InputError(f"{where}: unknown key {bad[0]!r}: expected w, a, e, g, opt")
            low = {k.lower(): v for k, v in value.items()}
            raw = tuple(low.get(r.lower(), b) for r, b in zip(_ROLES, base))
        elif isinstance(value, (tuple, list)) and len(value) in (4, 5):
            raw = tuple(value) + tuple(base[len(value):])
        else:
            raise InputError(f"{where} = {value!r}: expected (w, a, e, g[, opt]) or a dict of "
                             f"some of w, a, e, g, opt")
        return self._precision(*raw, where)

    def step(self, w=None, a=None, e=None, g=None, *, opt="fp32", layers=None):
        """The context of one training step at these precisions:

            with rec.step(w=8, a=8, e=8, g=8):
                loss = criterion(model(x), y); loss.backward(); optimizer.step()

        w, a, e, g (weights, activations, errors, weight gradients) and opt
        (optimizer state): integer bits 1..64 or a format name (fp32, fp16,
        bf16, fp8-e4m3, fp8-e5m2, e<E>m<M>), for every layer. ``layers``
        overrides them per layer: {layer name: (w, a, e, g[, opt]) or a dict
        of some of them}. A module with a ``num_bits`` attribute (CPT-style
        quantized layers) sets its layer's w and a, ``num_grad_bits`` its e
        and g, read as the step begins (``layers`` wins over them). The step
        is recorded when the block ends without an exception."""
        if self._closed:
            raise InputError(f"step: the recorder of {self.path} is closed")
        if self._open:
            raise InputError("step: a step is already open (steps do not nest)")
        if self._max_iterations is not None and self.iterations >= self._max_iterations:
            raise InputError(f"step: iteration {self.iterations} is past epochs = {self.epochs} "
                             f"of {self._max_iterations // self.epochs} iterations: must be "
                             f"below {self._max_iterations}")
        s = self._step
        s.key = key = self._precision(w, a, e, g, opt, "step")
        s.layers = None
        if layers or self._bits_modules:
            own = {}
            for name, m in self._bits_modules:
                nb = getattr(m, "num_bits", None)
                gb = getattr(m, "num_grad_bits", None)
                if nb is not None or gb is not None:
                    own[name] = self._layer_precision(
                        name, {"w": nb if nb is not None else key[0],
                               "a": nb if nb is not None else key[1],
                               "e": gb if gb is not None else key[2],
                               "g": gb if gb is not None else key[3]}, key)
            for name, value in (layers or {}).items():
                own[name] = self._layer_precision(name, value, key)
            s.layers = {n: k for n, k in own.items() if k != key}
        self._open = True
        return s

    def _commit(self, key, layers):
        t = self.iterations
        if key != self._key:
            if self._key is not None:
                self._segments.append((self._begin, t, "", self._key))
            self._key, self._begin = key, t
        if layers or self._layer_open:
            layers = layers or {}
            for name in list(self._layer_open):
                begin, k = self._layer_open[name]
                if layers.get(name) != k:
                    self._segments.append((begin, t, name, k))
                    del self._layer_open[name]
            for name, k in layers.items():
                if name not in self._layer_open:
                    self._layer_open[name] = (t, k)
        self.iterations = t + 1

    def log_epoch(self, epoch, *, train_loss=None, train_accuracy=None, test_accuracy=None,
                  wall_s=None):
        """A metrics record (docs/trace-format.md): ``epoch`` 0-based, strictly
        increasing; accuracies fractions in [0, 1]; ``wall_s`` seconds >= 0.
        NaN and infinity are written as null."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise InputError(f"log_epoch: epoch = {epoch!r}: must be an integer >= 0")
        if self._metrics and epoch <= self._metrics[-1]["epoch"]:
            raise InputError(f"log_epoch: epoch = {epoch} does not come after epoch "
                             f"{self._metrics[-1]['epoch']}")
        if self.epochs is not None and epoch >= self.epochs:
            raise InputError(f"log_epoch: epoch = {epoch}: must be in 0..{self.epochs - 1}")
        record = {"epoch": epoch}
        for key, v in zip(_METRICS, (train_loss, train_accuracy, test_accuracy, wall_s)):
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"log_epoch: {key} = {v!r}: must be a number")
            v = float(v)
            if math.isfinite(v):
                if key.endswith("accuracy") and not 0 <= v <= 1:
                    raise InputError(f"log_epoch: {key} = {v}: must be a fraction in [0, 1]")
                if key == "wall_s" and v < 0:
                    raise InputError(f"log_epoch: wall_s = {v}: must be >= 0")
            record[key] = v if math.isfinite(v) else None
        self._metrics.append(record)

    # -- writing
    def header(self):
        """The trace header the recorded steps give (docs/trace-format.md)."""
        steps = self.iterations
        if steps == 0:
            raise InputError(f"{self.path}: no steps recorded: nothing to write")
        samples = self.samples_per_epoch or steps * self.batch
        ipe = -(-samples // self.batch)
        epochs = self.epochs or -(-steps // ipe)
        if not (epochs - 1) * ipe < steps <= epochs * ipe:
            raise InputError(f"{self.path}: {steps} steps do not fit epochs = {epochs} of {ipe} "
                             f"iterations (ceil(samples_per_epoch / batch)): must be "
                             f"{(epochs - 1) * ipe + 1}..{epochs * ipe}")
        if self._metrics and self._metrics[-1]["epoch"] >= epochs:
            raise InputError(f"{self.path}: metrics for epoch {self._metrics[-1]['epoch']} of a "
                             f"run of {epochs} epochs")
        return {"lpsim_trace": 1, "producer": f"{PRODUCER} ({self.tracer})", "graph": self.graph,
                "dataset": self.dataset, "samples_per_epoch": samples, "batch": self.batch,
                "epochs": epochs, "total_iterations": steps, "schedule": self.schedule,
                "seed": self.seed}

    def lines(self):
        """The trace as text lines (no file written)."""
        t = self.iterations
        segments = list(self._segments)
        if self._key is not None:
            segments.append((self._begin, t, "", self._key))
        segments += [(b, t, n, k) for n, (b, k) in self._layer_open.items()]
        order = {n: i for i, n in enumerate(self.layer_names)}
        # All-layer segments in order, then each layer's own, in graph order.
        segments.sort(key=lambda s: (s[2] != "", order.get(s[2], -1), s[0]))
        out = [_dump(self.header())]
        for begin, end, layer, key in segments:
            record = {"seg": [begin, end], **dict(zip(_ROLES, key))}
            if layer:
                record["layer"] = layer
            out.append(_dump(record))
        out += [_dump(m) for m in self._metrics]
        out.append(_dump({"end": len(out)}))
        return out

    def close(self):
        """Writes the trace, whole or not at all (a temporary file in the same
        folder, fsync, rename); gzip for a path ending in .gz. A second call
        does nothing."""
        if self._closed:
            return
        if self._open:
            raise InputError("close: a step is still open")
        data = ("\n".join(self.lines()) + "\n").encode()
        if self.path.endswith(".gz"):
            data = gzip.compress(data, mtime=0)  # mtime 0: the same bytes every time
        _write_whole(self.path, data)
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self._closed = True  # a run that raised writes nothing
        return False


def _positive(key, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{key} = {value!r}: must be an integer >= 1")
    return value


def _dump(record):
    return json.dumps(record, separators=(",", ":"), allow_nan=False)


def _write_whole(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{path}: no such folder {folder}")
    fd, tmp = tempfile.mkstemp(prefix=".lpsim-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
