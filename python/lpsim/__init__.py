"""lpsim from Python: what does training this network, with this precision
schedule, cost on this accelerator? (docs/python.md)

    import lpsim
    t = lpsim.synth("resnet74", "cifar100", epochs=160, schedule="cyclic:3-8/8")
    print(lpsim.simulate(t, arch="tpu_int8").energy_j)

Bad input raises lpsim.InputError (a ValueError) with the one-line message the
command line prints (file, field, allowed range).

Without the compiled module _lpsim (not built), `import lpsim` still works
and so does the pure-Python recorder `lpsim.torch`; the functions that need
the module raise ImportError saying how to build it.
"""

try:
    from ._lpsim import Arch, CostCache, Graph, InputError, Trace
    from . import _lpsim
except ImportError as _error:  # not built: the pure-Python parts (lpsim.torch) still work
    from ._unbuilt import Arch, CostCache, Graph, InputError, Trace, Unbuilt
    _lpsim = Unbuilt(_error)
from .results import (BitopsResult, CompareResult, CompareRow, EpochResult, ExploreResult,
                      LayerResult, SimResult, Totals)

InputError.__module__ = "lpsim"  # tracebacks say lpsim.InputError

__all__ = ["Arch", "BitopsResult", "CompareResult", "CompareRow", "CostCache", "EpochResult",
           "ExploreResult", "Graph", "InputError", "LayerResult", "SimResult", "Totals", "Trace", "archs",
           "bitops", "compare", "explore", "load_arch", "load_graph", "load_topology", "load_trace",
           "model", "models", "simulate", "simulate_topology", "synth"]

# `lpsim compare`'s defaults for synthesized runs: study/compare.h kSynthSchedules
# and default_compare_archs (kept here too, so `import lpsim` works unbuilt).
DEFAULT_SCHEDULES = ("static:8/8", "static:4/4", "progressive:3-8/8", "cyclic:3-8/8")
DEFAULT_ARCHS = ("tpu_int8", "bit_fusion")


def load_trace(path):
    """Reads a trace file (.lpt, or gzipped .lpt.gz) -> Trace."""
    return _lpsim.read_trace(str(path))


def synth(model, dataset="", *, epochs=1, batch=128, schedule="static:8/8", iterations=0):
    """Synthesizes a training trace (no data), as ``lpsim synth``: zoo model x
    dataset ("" = the model's own) x batch x epochs x schedule. ``iterations``
    > 0 runs that many iterations instead of epochs x ceil(samples/batch)."""
    return _lpsim.synthesize(model, dataset or "", epochs, batch, iterations, schedule)


def bitops(trace, count="gemm"):
    """Training BitOPs and MACs of a trace, as ``lpsim bitops``; ``count`` is
    "gemm" (what the simulator charges) or "cpt" (the CPT paper's profiler)."""
    return BitopsResult(_lpsim.count_bitops(_as_trace(trace), count), _source(trace), count)


def archs():
    """Names of the shipped design points (sim/arch/*.yaml)."""
    return list(_lpsim.shipped_archs())


def load_arch(arch=None, set=()):
    """A design point: a shipped name ("tpu_int8"), a YAML path, or None for the
    built-in default point, with ``set`` overrides ("array.rows=32", ...)."""
    return _lpsim.load_arch(None if arch is None else str(arch), _overrides(set))


def simulate(trace, arch=None, set=(), timing="systemc", cache=None):
    """Replays a trace (a Trace or a trace path) on a design point, as
    ``lpsim simulate TRACE --arch ARCH --set K=V... --timing T`` -> SimResult.

    ``arch``: a shipped name, a YAML path, an Arch, or None (the built-in
    default point). ``timing``: "systemc" or "analytic". ``cache``: a CostCache
    to share simulated costs across calls (a sweep); by default each call has
    its own, so the result equals the command line's, cache counts included."""
    return SimResult(_lpsim.simulate_trace(_as_trace(trace), _arch(arch, set), timing, cache))


def load_graph(path):
    """Reads an lpsim graph file (JSON or YAML, docs/models.md) -> Graph."""
    return _lpsim.read_graph_file(str(path))


def load_topology(path):
    """Reads a SCALE-Sim topology CSV (optional W Bits / A Bits / Groups) -> Graph."""
    return _lpsim.read_topology_csv(str(path))


def model(name, dataset=""):
    """The zoo network ``name`` built for ``dataset`` ("" = its own) -> Graph."""
    return _lpsim.make_model(name, dataset or "")


def simulate_topology(topology, arch=None, set=(), phase="train", precision="8/8", batch=1,
                      timing="systemc", cache=None):
    """One step of a layer list, as ``lpsim simulate --topology``: ``topology``
    is a topology CSV path or a Graph (load_topology, load_graph, model).
    ``phase``: "train" (the whole step) or "fwd"; ``precision``: FW/BW, e.g.
    "4/8" (per-layer W/A bits of the graph override it) -> SimResult."""
    graph = topology if isinstance(topology, Graph) else load_topology(topology)
    return SimResult(_lpsim.simulate_graph(graph, _arch(arch, set), phase, precision, batch,
                                           timing, cache))


def models():
    """The zoo, as ``lpsim models --json``: one dict per network with name,
    dataset, description, forward_macs and parameters (per sample)."""
    out = []
    for entry in _lpsim.zoo():
        stats = _lpsim.make_model(entry["name"], entry["dataset"]).stats()
        out.append({"name": entry["name"], "dataset": entry["dataset"],
                    "forward_macs": stats["forward_macs"], "parameters": stats["parameters"],
                    "description": entry["description"]})
    return out


def compare(model="resnet74", dataset="", *, epochs=160, batch=128, iterations=0,
            schedules=DEFAULT_SCHEDULES, archs=DEFAULT_ARCHS, set=(), count="gemm",
            timing="systemc", bitops_only=False, train=False, train_epochs=2, train_limit=0,
            test_limit=0, seed=1, threads=2,
            data_dir="/usr/share/datasets/fashion-mnist"):
    """Precision schedules side by side for one model, as ``lpsim compare
    --model M`` does (the library study/compare.h): GBitOPs, energy and latency
    on each design point, each with its change against the first schedule on
    the same point. Synthesized traces (``dataset`` "" = the model's own), or
    with ``train=True`` trained for real by the built-in trainer (``lpsim
    compare --train``: ``train_epochs``, ``train_limit``, ``test_limit``,
    ``seed``, ``threads``, ``data_dir``; rows then have ``test_accuracy``). A
    design point that cannot run a trace's formats gets a row with
    ``unsupported`` set and no figures. -> CompareResult."""
    schedules = [schedules] if isinstance(schedules, str) else list(schedules)
    points = [] if bitops_only else [
        a if isinstance(a, Arch) else load_arch(a, set)
        for a in ([archs] if isinstance(archs, (str, Arch)) else archs)]
    rows = []
    for row, sim in _lpsim.compare(model, dataset or "", bool(train), schedules, points,
                                   int(epochs), int(batch), int(iterations), count, timing,
                                   bool(bitops_only), int(train_epochs), int(train_limit),
                                   int(test_limit), int(seed), int(threads), str(data_dir)):
        change = row.get("change", {})
        rows.append(CompareRow(
            model=row["model"], dataset=row["dataset"], schedule=row["schedule"],
            arch=row.get("arch", ""), total_gbitops=row["total_gbitops"],
            total_macs=row["total_macs"], energy_j=row.get("energy_j"),
            energy_static_j=row.get("energy_static_j"), latency_s=row.get("latency_s"),
            gbitops_change=change.get("gbitops"), energy_change=change.get("energy"),
            latency_change=change.get("latency"), baseline=change.get("baseline", ""),
            unsupported=row.get("unsupported", ""), test_accuracy=row.get("test_accuracy"),
            sim=None if sim is None else SimResult(sim)))
    return CompareResult(rows)


def explore(space, traces, output, *, jobs=1, samples=0, sampling="random", seed=1,
            resume=False, report=None, timing="systemc"):
    """Evaluates the design points of a design-space file on training traces,
    as ``lpsim explore SPACE --trace T... -o OUTPUT``: one CSV row per (point,
    trace) written to ``output``, Pareto-optimal rows marked -> ExploreResult.
    ``samples`` > 0 draws that many points (``sampling`` "random" or "lhs",
    ``seed``); ``jobs`` worker processes; ``report`` a directory for the Pareto
    plot (docs/explore.md)."""
    if isinstance(traces, (str, bytes)) or hasattr(traces, "__fspath__"):
        traces = [traces]
    summary = _lpsim.explore(str(space), [str(t) for t in traces], str(output), int(jobs),
                             int(samples), sampling, int(seed), bool(resume),
                             "" if report is None else str(report), timing)
    return ExploreResult(summary, str(output))


def _overrides(set):
    if isinstance(set, str):
        return [set]
    return [str(s) for s in set]


def _arch(arch, set):
    if isinstance(arch, Arch):
        if set:
            raise InputError("set: give overrides with a name or a path, not with an Arch "
                             "(load_arch(name, set=...) applies them)")
        return arch
    return load_arch(arch, set)


def _as_trace(trace):
    return trace if isinstance(trace, Trace) else load_trace(trace)


def _source(trace):
    return trace.source if isinstance(trace, Trace) else str(trace)
