"""Typed results of lpsim's Python API (docs/python.md).

Each result keeps the library's own dictionary (for a simulation: sim/replay.h
``to_json``, the object ``lpsim simulate --json`` prints) and reads its typed
attributes from it, so ``to_dict()`` and the attributes never disagree.
"""

import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional


def _pandas():
    try:
        import pandas
    except ImportError as e:
        raise ImportError(
            "to_dataframe() needs pandas: apt-get install python3-pandas "
            "(or pip install pandas in a venv)") from e
    return pandas


@dataclass(frozen=True)
class Totals:
    """Additive figures of a set of ops: the run, a phase, an engine, a layer."""
    cycles: float
    latency_s: float
    energy_j: float
    energy_static_j: Optional[float]  # leakage x time (absent in a layer's phases)
    energy_dynamic_j: Optional[float]
    gbitops: Optional[float]
    macs: float
    vector_ops: float
    utilization: Optional[float]
    dram_read_bits: float
    dram_write_bits: float
    busy_cycles: Dict[str, float]
    stall_cycles: Dict[str, float]

    @classmethod
    def _from(cls, d):
        return cls(cycles=d["cycles"], latency_s=d["latency_s"], energy_j=d["energy_j"],
                   energy_static_j=d.get("energy_static_j"),
                   energy_dynamic_j=d.get("energy_dynamic_j"), gbitops=d.get("gbitops"),
                   macs=d["macs"], vector_ops=d["vector_ops"],
                   utilization=d.get("utilization"), dram_read_bits=d["dram_read_bits"],
                   dram_write_bits=d["dram_write_bits"], busy_cycles=dict(d["busy_cycles"]),
                   stall_cycles=dict(d["stall_cycles"]))


@dataclass(frozen=True)
class LayerResult:
    name: str
    kind: str
    totals: Totals
    phases: Dict[str, Totals]  # the layer's ops per phase ("fwd", "bwd_data", ...)


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    iterations: int
    images: int
    cycles: float
    latency_s: float
    energy_j: float
    gbitops: float


class SimResult:
    """What ``simulate`` / ``simulate_topology`` return: energy, time and
    their breakdowns on one design point (docs/simulator.md)."""

    def __init__(self, d):
        self._d = d
        self.arch: str = d["arch"]
        self.timing: str = d["timing"]
        self.clock_ghz: float = d["clock_ghz"]
        self.energy_j: float = d["energy_j"]
        self.energy_static_j: float = d["energy_static_j"]
        self.energy_dynamic_j: float = d["energy_dynamic_j"]
        self.latency_s: float = d["latency_s"]
        self.cycles: float = d["cycles"]
        self.total_gbitops: float = d["total_gbitops"]
        self.macs: float = d["macs"]
        self.utilization: float = d["utilization"]
        self.iterations: int = d["iterations"]
        self.images: int = d["images"]
        self.totals: Totals = Totals._from(d)
        b = d["breakdown"]
        self.components: Dict[str, float] = dict(b["component"])  # energy (J) per component
        self.phases: Dict[str, Totals] = {k: Totals._from(v) for k, v in b["phase"].items()}
        self.engines: Dict[str, Totals] = {k: Totals._from(v) for k, v in b["engine"].items()}
        self.layers: List[LayerResult] = [
            LayerResult(l["name"], l["kind"], Totals._from(l),
                        {p: Totals._from(v) for p, v in l["phases"].items()})
            for l in d["layers"]]
        self.epochs: List[EpochResult] = [
            EpochResult(e["epoch"], e["iterations"], e["images"], e["cycles"], e["latency_s"],
                        e["energy_j"], e["gbitops"]) for e in d["epochs"]]
        self.macs_by_width: Dict[str, float] = dict(d["macs_by_width"])
        self.cache: Dict[str, int] = dict(d["cache"])

    def to_dict(self):
        """The report as ``lpsim simulate --json`` prints it (a deep copy)."""
        return copy.deepcopy(self._d)

    def to_dataframe(self, table="layers"):
        """One pandas DataFrame: ``table`` is "layers" (default), "phases",
        "engines", "epochs" or "components"."""
        pd = _pandas()
        flat = ("cycles", "latency_s", "energy_j", "energy_static_j", "energy_dynamic_j",
                "gbitops", "macs", "vector_ops", "utilization", "dram_read_bits",
                "dram_write_bits")
        if table == "layers":
            rows = [dict(name=l.name, kind=l.kind, **{k: getattr(l.totals, k) for k in flat})
                    for l in self.layers]
        elif table in ("phases", "engines"):
            rows = [dict(name=n, **{k: getattr(t, k) for k in flat})
                    for n, t in getattr(self, table).items()]
        elif table == "epochs":
            rows = [e.__dict__ for e in self.epochs]
        elif table == "components":
            rows = [{"component": c, "energy_j": e} for c, e in self.components.items()]
        else:
            raise ValueError(f"table = {table!r}: must be layers, phases, engines, epochs "
                             "or components")
        return pd.DataFrame(rows)

    def __repr__(self):
        return (f"<lpsim.SimResult {self.arch}: {self.total_gbitops:.4g} GBitOPs, "
                f"{self.energy_j:.4g} J, {self.latency_s:.4g} s>")


class BitopsResult:
    """What ``bitops`` returns: training BitOPs and MACs (docs/bitops.md)."""

    def __init__(self, raw, trace_source, count):
        self.count: str = count
        self.trace: str = trace_source
        self.total_bitops: float = raw["total_bitops"]
        self.total_gbitops: float = raw["total_bitops"] / 1e9
        self.total_macs: float = raw["total_macs"]
        self.bitops_by_phase: Dict[str, float] = raw["bitops_by_phase"]
        self.macs_by_phase: Dict[str, float] = raw["macs_by_phase"]
        self.bitops_by_epoch: List[float] = raw["bitops_by_epoch"]
        self.macs_by_epoch: List[float] = raw["macs_by_epoch"]
        self.iterations_by_precision: Dict[str, int] = raw["iterations_by_precision"]
        self.iterations: int = raw["total_iterations"]
        self.images: int = raw["total_images"]

    def to_dict(self):
        """The keys ``lpsim bitops --json`` prints."""
        return {
            "count": self.count, "trace": self.trace,
            "total_gbitops": self.total_bitops / 1e9, "total_macs": self.total_macs,
            "iterations": self.iterations, "images": self.images,
            "phases": {p: {"gbitops": self.bitops_by_phase[p] / 1e9,
                           "macs": self.macs_by_phase[p]} for p in self.bitops_by_phase},
            "epochs": [{"epoch": e, "gbitops": b / 1e9, "macs": m} for e, (b, m) in
                       enumerate(zip(self.bitops_by_epoch, self.macs_by_epoch))],
            "precision_share": {k: n / self.iterations
                                for k, n in self.iterations_by_precision.items()},
        }

    def to_dataframe(self):
        """One row per epoch: epoch, gbitops, macs."""
        return _pandas().DataFrame(self.to_dict()["epochs"])

    def __repr__(self):
        return f"<lpsim.BitopsResult {self.total_gbitops:.4g} GBitOPs ({self.count})>"


@dataclass(frozen=True)
class CompareRow:
    """One (schedule, design point) of ``compare``; changes are fractions
    against the first schedule on the same design point (-0.37 = 37% less)."""
    model: str
    dataset: str
    schedule: str
    arch: str  # "" with bitops_only
    total_gbitops: float
    total_macs: float
    energy_j: Optional[float] = None
    energy_static_j: Optional[float] = None
    latency_s: Optional[float] = None
    gbitops_change: Optional[float] = None
    energy_change: Optional[float] = None
    latency_change: Optional[float] = None
    baseline: str = ""
    unsupported: str = ""  # why the design point cannot run this trace
    sim: Optional[SimResult] = field(default=None, repr=False, compare=False)


class CompareResult:
    """What ``compare`` returns: rows in schedule order, design points inside."""

    def __init__(self, rows):
        self.rows: List[CompareRow] = rows

    def to_dict(self):
        return {"rows": [{k: v for k, v in r.__dict__.items() if k != "sim"} for r in self.rows]}

    def to_dataframe(self):
        return _pandas().DataFrame(self.to_dict()["rows"])

    def __str__(self):
        def pct(f):
            return "-" if f is None else f"{100 * f:+.1f}%"

        def num(v, unit):
            return "-" if v is None else f"{v:.4g} {unit}"
        cells = [["model", "schedule", "design point", "GBitOPs", "vs base", "energy",
                  "vs base", "latency", "vs base"]]
        for r in self.rows:
            cells.append([f"{r.model}/{r.dataset}", r.schedule, r.arch or "-",
                          f"{r.total_gbitops:.4g}", pct(r.gbitops_change),
                          num(r.energy_j, "J"), pct(r.energy_change), num(r.latency_s, "s"),
                          pct(r.latency_change)])
        width = [max(len(row[c]) for row in cells) for c in range(len(cells[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, width)).rstrip()
                         for row in cells)

    def __repr__(self):
        return f"<lpsim.CompareResult {len(self.rows)} rows>"


class ExploreResult:
    """What ``explore`` returns: the summary ``lpsim explore --json`` prints
    (counts, the Pareto-optimal rows) and every row of the results CSV, as
    strings keyed by column (docs/explore.md)."""

    def __init__(self, summary, output):
        self.summary: Dict = summary
        self.output: str = output
        self.rows: List[Dict[str, str]] = []
        if output != "-":
            import csv
            with open(output, newline="", encoding="utf-8") as f:
                self.rows = list(csv.DictReader(f))

    @property
    def pareto(self):
        """The rows marked Pareto-optimal."""
        return [r for r in self.rows if r.get("pareto") in ("1", "true", "yes")]

    def to_dict(self):
        return copy.deepcopy(self.summary)

    def to_dataframe(self):
        """The results CSV as a DataFrame (pandas reads the numbers as numbers)."""
        return _pandas().read_csv(self.output)

    def __repr__(self):
        return f"<lpsim.ExploreResult {len(self.rows)} rows, {len(self.pareto)} Pareto-optimal>"
