"""The Python module against the command line: every bound function, the
dict/--json equality, determinism and the error contract (docs/python.md).

Run by ctest (tests/CMakeLists.txt) with Debian's python3,
PYTHONPATH=build/python, LPSIM_BINARY and LPSIM_SOURCE_DIR set. Standard
library only.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import lpsim

BINARY = os.environ["LPSIM_BINARY"]
SOURCE = os.environ["LPSIM_SOURCE_DIR"]
TRACE = os.path.join(SOURCE, "tests", "data", "traces", "resnet20_cyclic.lpt")
TOPOLOGY = os.path.join(SOURCE, "models", "topologies", "bitfusion", "lenet5.csv")


def cli(*args, expect=0):
    """Runs the lpsim binary; returns (stdout, stderr)."""
    p = subprocess.run([BINARY, *args], capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"lpsim {' '.join(args)}: exit {p.returncode}, want {expect}: "
                             f"{p.stderr.strip()}")
    return p.stdout, p.stderr


def cli_json(*args):
    return json.loads(cli(*args, "--json")[0])


def cli_error(*args):
    """The one line the command line prints for bad input, without "lpsim: "."""
    err = cli(*args, expect=2)[1].strip()
    assert err.startswith("lpsim: ") and "\n" not in err, err
    return err[len("lpsim: "):]


class SynthAndTraces(unittest.TestCase):
    def test_synth_runs_epochs_times_ceil_samples_over_batch_iterations(self):
        t = lpsim.synth("resnet20", "cifar10", epochs=2, batch=128, schedule="cyclic:3-8/8")
        self.assertIsInstance(t, lpsim.Trace)
        self.assertEqual((t.model, t.dataset, t.epochs, t.batch), ("resnet20", "cifar10", 2, 128))
        self.assertEqual(t.samples_per_epoch, 50000)
        self.assertEqual(t.iterations_per_epoch, math.ceil(50000 / 128))
        self.assertEqual(t.iterations, 2 * math.ceil(50000 / 128))
        self.assertEqual(t.schedule, "cyclic:3-8/8")
        # All-layer segments tile the run.
        whole = [s for s in t.segments if s[2] == ""]
        self.assertEqual(whole[0][0], 0)
        self.assertEqual(whole[-1][1], t.iterations)
        for a, b in zip(whole, whole[1:]):
            self.assertEqual(a[1], b[0])

    def test_synth_iterations_replaces_epochs(self):
        t = lpsim.synth("lenet5", iterations=10)
        self.assertEqual((t.dataset, t.iterations), ("fashion-mnist", 10))

    def test_a_saved_trace_is_the_bytes_lpsim_synth_writes(self):
        with tempfile.TemporaryDirectory() as d:
            mine, theirs = os.path.join(d, "py.lpt"), os.path.join(d, "cli.lpt")
            lpsim.synth("resnet20", "cifar10", epochs=1, schedule="progressive:3-8/8").save(mine)
            cli("synth", "--model", "resnet20", "--dataset", "cifar10", "--epochs", "1",
                "--schedule", "progressive:3-8/8", "-o", theirs, "-q")
            with open(mine, "rb") as a, open(theirs, "rb") as b:
                self.assertEqual(a.read(), b.read())
            back = lpsim.load_trace(mine)
            self.assertEqual(back.source, mine)
            self.assertEqual(back.segments, lpsim.load_trace(theirs).segments)

    def test_load_trace_reads_header_and_segments(self):
        t = lpsim.load_trace(TRACE)
        self.assertEqual((t.model, t.epochs, t.iterations), ("resnet20", 2, 782))
        self.assertEqual(t.segments[0], (0, 40, "", "3/8"))
        self.assertEqual(t.graph().name, lpsim.model("resnet20", "cifar10").name)


class Bitops(unittest.TestCase):
    def test_bitops_dict_equals_lpsim_bitops_json(self):
        for count in ("gemm", "cpt"):
            with self.subTest(count=count):
                r = lpsim.bitops(TRACE, count=count)
                self.assertEqual(r.to_dict(), cli_json("bitops", TRACE, "--count", count))
                self.assertEqual(r.total_gbitops, r.total_bitops / 1e9)
                self.assertAlmostEqual(sum(r.bitops_by_phase.values()) / r.total_bitops, 1, 12)
                self.assertEqual(sum(r.iterations_by_precision.values()), 782)

    def test_static_4_4_costs_a_quarter_of_8_8(self):
        b8 = lpsim.bitops(lpsim.synth("lenet5", iterations=3, schedule="static:8/8"))
        b4 = lpsim.bitops(lpsim.synth("lenet5", iterations=3, schedule="static:4/4"))
        self.assertEqual(b4.total_macs, b8.total_macs)
        self.assertAlmostEqual(b4.total_bitops / b8.total_bitops, 16 / 64, 12)


class Simulate(unittest.TestCase):
    def test_dict_equals_lpsim_simulate_json_for_a_trace_file(self):
        for timing in ("systemc", "analytic"):
            with self.subTest(timing=timing):
                r = lpsim.simulate(TRACE, arch="tpu_int8", set=["array.rows=64"], timing=timing)
                want = cli_json("simulate", TRACE, "--arch", "tpu_int8", "--set",
                                "array.rows=64", "--timing", timing)
                self.assertEqual(r.to_dict(), want)

    def test_dict_equals_the_cli_for_a_synthesized_trace_and_default_point(self):
        t = lpsim.synth("resnet20", "cifar10", epochs=1, schedule="cyclic:3-8/8")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.lpt")
            t.save(path)
            self.assertEqual(lpsim.simulate(t).to_dict(), cli_json("simulate", path))

    def test_an_arch_yaml_path_works_as_its_name_does(self):
        path = os.path.join(SOURCE, "sim", "arch", "bit_fusion.yaml")
        self.assertEqual(lpsim.simulate(TRACE, arch=path, timing="analytic").to_dict(),
                         lpsim.simulate(TRACE, arch="bit_fusion", timing="analytic").to_dict())

    def test_attributes_read_the_report(self):
        r = lpsim.simulate(TRACE, arch="tpu_int8")
        d = r.to_dict()
        self.assertIsInstance(r, lpsim.SimResult)
        for key in ("energy_j", "energy_static_j", "energy_dynamic_j", "latency_s", "cycles",
                    "total_gbitops", "macs"):
            self.assertEqual(getattr(r, key), d[key], key)
        self.assertAlmostEqual(r.energy_static_j + r.energy_dynamic_j, r.energy_j,
                               delta=1e-12 * r.energy_j)
        self.assertEqual(r.latency_s, r.cycles / (r.clock_ghz * 1e9))
        self.assertEqual(set(r.phases), {"fwd", "bwd_data", "bwd_weight", "update"})
        self.assertAlmostEqual(sum(p.energy_j for p in r.phases.values()), r.energy_j,
                               delta=1e-9 * r.energy_j)
        self.assertAlmostEqual(sum(r.components.values()), r.energy_j, delta=1e-9 * r.energy_j)
        self.assertEqual([l.name for l in r.layers], [l["name"] for l in d["layers"]])
        self.assertEqual(len(r.epochs), 2)
        self.assertEqual(sum(e.iterations for e in r.epochs), 782)
        self.assertEqual(r.layers[1].phases["fwd"].cycles, d["layers"][1]["phases"]["fwd"]["cycles"])

    def test_set_overrides_reach_the_design_point(self):
        a = lpsim.load_arch("tpu_int8", set=["array.rows=32", "array.cols=16"])
        self.assertEqual((a.name, a.rows, a.cols), ("tpu_int8", 32, 16))
        self.assertIn("rows: 32", a.to_yaml())
        self.assertIn("tpu_int8", lpsim.archs())
        small = lpsim.simulate(TRACE, arch="tpu_int8", set=["array.rows=16"], timing="analytic")
        large = lpsim.simulate(TRACE, arch="tpu_int8", set=["array.rows=256"], timing="analytic")
        self.assertEqual(small.macs, large.macs)  # the same work ...
        self.assertGreater(small.cycles, large.cycles)  # ... on fewer PEs takes longer
        via_arch = lpsim.simulate(TRACE, arch=lpsim.load_arch("tpu_int8", ["array.rows=16"]),
                                  timing="analytic")
        self.assertEqual(via_arch.to_dict(), small.to_dict())

    def test_same_inputs_give_the_same_dict_twice(self):
        t = lpsim.synth("resnet20", "cifar10", epochs=1, schedule="cyclic:3-8/8")
        self.assertEqual(lpsim.simulate(t, arch="bit_fusion").to_dict(),
                         lpsim.simulate(t, arch="bit_fusion").to_dict())
        # A shared cache changes only the cache counts, never a figure.
        cache = lpsim.CostCache()
        first = lpsim.simulate(t, arch="bit_fusion", cache=cache).to_dict()
        self.assertGreater(len(cache), 0)
        second = lpsim.simulate(t, arch="bit_fusion", cache=cache).to_dict()
        self.assertEqual(second["cache"]["simulated"], 0)
        first.pop("cache"), second.pop("cache")
        self.assertEqual(first, second)

    def test_to_dict_is_a_copy(self):
        r = lpsim.simulate(TRACE, timing="analytic")
        r.to_dict()["energy_j"] = -1
        self.assertEqual(r.to_dict()["energy_j"], r.energy_j)


class Topologies(unittest.TestCase):
    def test_topology_dict_equals_lpsim_simulate_topology_json(self):
        for phase, precision, batch in (("train", "8/8", 1), ("fwd", "4/8", 4)):
            with self.subTest(phase=phase):
                r = lpsim.simulate_topology(TOPOLOGY, arch="bit_fusion", phase=phase,
                                            precision=precision, batch=batch)
                want = cli_json("simulate", "--topology", TOPOLOGY, "--arch", "bit_fusion",
                                "--phase", phase, "--precision", precision, "--batch",
                                str(batch))
                self.assertEqual(r.to_dict(), want)
                self.assertNotIn("input", [l.kind for l in r.layers])

    def test_load_topology_and_graph_files(self):
        g = lpsim.load_topology(TOPOLOGY)
        self.assertEqual(g.name, "lenet5")
        convs = [l for l in g.layers if l["kind"] == "conv2d"]
        self.assertEqual(len(g), 2 * len(convs))  # each row: a conv and its .ifmap input
        self.assertEqual(lpsim.simulate_topology(g, arch="bit_fusion").to_dict(),
                         lpsim.simulate_topology(TOPOLOGY, arch="bit_fusion").to_dict())
        net = lpsim.model("lenet5")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "lenet5.json")
            with open(path, "w") as f:
                f.write(net.to_json())
            back = lpsim.load_graph(path)
        self.assertEqual([l["name"] for l in back.layers], [l["name"] for l in net.layers])
        self.assertEqual(back.stats(), net.stats())


class Models(unittest.TestCase):
    def test_models_equals_lpsim_models_json(self):
        self.assertEqual(lpsim.models(), cli_json("models"))

    def test_lenet5_forward_macs_from_its_layer_shapes(self):
        # LeNet-5 on 1x28x28 (docs/models.md): conv 5x5 6ch, pool, conv 5x5 16ch,
        # pool, 120-84-10; padding 2 on the first conv keeps 28x28.
        s = lpsim.model("lenet5").stats()
        want = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
        self.assertEqual(s["forward_macs"], want)


class Compare(unittest.TestCase):
    def test_compare_matches_lpsim_compare_json(self):
        schedules = ["static:8/8", "static:4/4", "cyclic:3-8/8"]
        c = lpsim.compare("resnet20", "cifar10", epochs=1, schedules=schedules,
                          archs=["tpu_int8", "bit_fusion"])
        want = cli_json("compare", "--model", "resnet20", "--dataset", "cifar10", "--epochs",
                        "1", "--schedules", ",".join(schedules), "--arch", "tpu_int8",
                        "--arch", "bit_fusion", "-q")
        self.assertEqual(len(c.rows), len(want))
        for mine, theirs in zip(c.rows, want):
            self.assertEqual((mine.schedule, mine.arch), (theirs["schedule"], theirs["arch"]))
            self.assertEqual(mine.total_gbitops, theirs["total_gbitops"])
            self.assertEqual(mine.energy_j, theirs["energy_j"])
            self.assertEqual(mine.latency_s, theirs["latency_s"])
            self.assertEqual(mine.baseline, theirs["change"]["baseline"])
            for key in ("gbitops", "energy", "latency"):
                self.assertAlmostEqual(getattr(mine, key + "_change"), theirs["change"][key],
                                       delta=1e-12)
        self.assertEqual(c.rows[0].energy_change, 0)
        self.assertIn("cyclic:3-8/8", str(c))
        self.assertEqual(len(c.to_dict()["rows"]), 6)

    def test_trained_compare_matches_lpsim_compare_train_json(self):
        args = dict(train_epochs=1, train_limit=256, test_limit=128, seed=2)
        c = lpsim.compare("mlp", train=True, schedules=["static:8/8", "static:4/4"],
                          archs="tpu_int8", timing="analytic", **args)
        want = cli_json("compare", "--train", "--model", "mlp", "--schedules",
                        "static:8/8,static:4/4", "--arch", "tpu_int8", "--timing", "analytic",
                        "--train-epochs", "1", "--train-limit", "256", "--test-limit", "128",
                        "--seed", "2", "-q")
        self.assertEqual(len(c.rows), 2)
        for mine, theirs in zip(c.rows, want):
            self.assertEqual(mine.dataset, "fashion-mnist")
            self.assertEqual(mine.test_accuracy, theirs["test_accuracy"])
            self.assertEqual(mine.total_gbitops, theirs["total_gbitops"])
            self.assertEqual(mine.energy_j, theirs["energy_j"])
            self.assertTrue(0 <= mine.test_accuracy <= 1)

    def test_a_point_that_cannot_run_the_trace_gets_a_row_without_figures(self):
        c = lpsim.compare("lenet5", iterations=2, schedules=["static:8/8", "static:fp32/fp32"],
                          archs="tpu_int8")
        self.assertIsNone(c.rows[0].unsupported or None)
        self.assertTrue(c.rows[1].unsupported)
        self.assertIsNone(c.rows[1].energy_j)
        self.assertIsNone(c.rows[1].energy_change)
        self.assertAlmostEqual(c.rows[1].gbitops_change, 32 * 32 / 64 - 1, 12)


class Explore(unittest.TestCase):
    SPACE = os.path.join(SOURCE, "tools", "spaces", "pe_types.yaml")

    def test_explore_writes_the_csv_lpsim_explore_writes_and_its_summary(self):
        with tempfile.TemporaryDirectory() as d:
            ours, theirs = os.path.join(d, "py.csv"), os.path.join(d, "cli.csv")
            r = lpsim.explore(self.SPACE, TRACE, ours, samples=5, seed=3, timing="analytic")
            summary = cli_json("explore", self.SPACE, "--trace", TRACE, "-o", theirs,
                               "--samples", "5", "--seed", "3", "--timing", "analytic",
                               "--jobs", "1")
            with open(ours, "rb") as a, open(theirs, "rb") as b:
                self.assertEqual(a.read(), b.read())
            mine = r.to_dict()
            for key in ("elapsed_s", "output"):  # wall time; the file names differ
                mine.pop(key, None)
                summary.pop(key, None)
            self.assertEqual(mine, summary)
            self.assertEqual(len(r.rows), 5)  # one trace: one row per point
            self.assertEqual(len(r.pareto), len(summary["pareto"]))
            self.assertIn("energy_j", r.rows[0])

    def test_a_bad_space_file_raises_the_cli_message(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r.csv")
            with self.assertRaises(lpsim.InputError) as e:
                lpsim.explore(TRACE, TRACE, out)
            self.assertEqual(str(e.exception),
                             cli_error("explore", TRACE, "--trace", TRACE, "-o", out))


class Errors(unittest.TestCase):
    def check_same_message(self, call, *cli_args):
        with self.assertRaises(lpsim.InputError) as e:
            call()
        self.assertIsInstance(e.exception, ValueError)
        self.assertEqual(str(e.exception), cli_error(*cli_args))
        self.assertNotIn("\n", str(e.exception))

    def test_a_missing_trace_file(self):
        self.check_same_message(lambda: lpsim.load_trace("/nonexistent/t.lpt"),
                                "bitops", "/nonexistent/t.lpt")

    def test_a_malformed_trace_file(self):
        bad = os.path.join(SOURCE, "tests", "data", "traces", "truncated.lpt")
        self.check_same_message(lambda: lpsim.simulate(bad), "simulate", bad)

    def test_a_bad_set_override(self):
        self.check_same_message(
            lambda: lpsim.simulate(TRACE, arch="tpu_int8", set=["array.rows=-4"]),
            "simulate", TRACE, "--arch", "tpu_int8", "--set", "array.rows=-4")

    def test_an_unknown_arch_and_unknown_model(self):
        self.check_same_message(lambda: lpsim.simulate(TRACE, arch="no_such_point"),
                                "simulate", TRACE, "--arch", "no_such_point")
        self.check_same_message(lambda: lpsim.synth("resnet9000"), "synth", "--model",
                                "resnet9000", "-o", os.devnull)

    def test_a_bad_schedule_timing_and_count(self):
        self.check_same_message(lambda: lpsim.synth("lenet5", schedule="cyclic:9-2/8"),
                                "synth", "--model", "lenet5", "--schedule", "cyclic:9-2/8",
                                "-o", os.devnull)
        # The binary's option parser words this one itself; here the library does.
        with self.assertRaisesRegex(lpsim.InputError, "^--timing = fast: must be one of "):
            lpsim.simulate(TRACE, timing="fast")
        self.check_same_message(lambda: lpsim.bitops(TRACE, count="nope"),
                                "bitops", TRACE, "--count", "nope")

    def test_bad_topology_arguments(self):
        with self.assertRaisesRegex(lpsim.InputError, "^batch = 0: must be >= 1$"):
            lpsim.simulate_topology(TOPOLOGY, batch=0)
        with self.assertRaisesRegex(lpsim.InputError, "^phase = 'bwd': must be train or fwd$"):
            lpsim.simulate_topology(TOPOLOGY, phase="bwd")


class DocsExample(unittest.TestCase):
    def test_the_worked_example_in_docs_python_md_runs_and_plots(self):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("matplotlib not installed (apt-get install python3-matplotlib)")
        with open(os.path.join(SOURCE, "docs", "python.md")) as f:
            text = f.read()
        start = text.index("# docs/python.md: energy and latency")
        code = text[start:text.index("```", start)]
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([sys.executable, "-c", code], cwd=d, capture_output=True,
                               text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(os.path.getsize(os.path.join(d, "array_sweep.png")) > 0)
        lines = p.stdout.splitlines()
        self.assertEqual([l.split()[0] for l in lines],
                         ["16x16", "32x32", "64x64", "128x128", "256x256"])
        # The 128x128 row is the shipped tpu_int8, as the docs say.
        t = lpsim.synth("resnet74", "cifar100", epochs=160, schedule="cyclic:3-8/8")
        self.assertEqual(lines[3].split()[1], f"{lpsim.simulate(t, arch='tpu_int8').energy_j:.4g}")


class DataFrames(unittest.TestCase):
    def test_to_dataframe_needs_pandas_and_says_so(self):
        r = lpsim.simulate(TRACE, timing="analytic")
        saved = sys.modules.get("pandas")
        sys.modules["pandas"] = None  # makes `import pandas` raise ImportError
        try:
            with self.assertRaisesRegex(ImportError, "python3-pandas"):
                r.to_dataframe()
        finally:
            if saved is None:
                del sys.modules["pandas"]
            else:
                sys.modules["pandas"] = saved

    def test_to_dataframe_has_a_row_per_layer_when_pandas_is_present(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            self.skipTest("pandas not installed (apt-get install python3-pandas)")
        r = lpsim.simulate(TRACE, timing="analytic")
        df = r.to_dataframe()
        self.assertEqual(list(df["name"]), [l.name for l in r.layers])
        self.assertEqual(list(df["energy_j"]), [l.totals.energy_j for l in r.layers])
        self.assertEqual(len(r.to_dataframe("epochs")), 2)
        self.assertEqual(len(lpsim.bitops(TRACE).to_dataframe()), 2)
        with self.assertRaises(ValueError):
            r.to_dataframe("nope")


class GraphFileModels(unittest.TestCase):
    """A graph file wherever a zoo name goes (issue 14), as on the command line."""

    NET = {"name": "tiny", "layers": [
        {"name": "x", "kind": "input", "shape": [3, 32, 32]},
        {"name": "c", "kind": "conv2d", "inputs": ["x"], "out_channels": 8, "kernel": 3, "padding": 1},
        {"name": "p", "kind": "pool", "inputs": ["c"], "mode": "avg", "global": True},
        {"name": "f", "kind": "flatten", "inputs": ["p"]},
        {"name": "fc", "kind": "linear", "inputs": ["f"], "out_features": 10},
        {"name": "loss", "kind": "softmax", "inputs": ["fc"]}]}

    def test_synth_and_model_take_a_graph_file_as_the_command_line_does(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tiny.json")
            with open(path, "w") as f:
                json.dump(self.NET, f)
            stats = lpsim.model(path).stats()
            want = cli_json("models", path)
            self.assertEqual(stats["forward_macs"], want["forward_macs"])
            self.assertEqual(stats["parameters"], want["parameters"])
            t = lpsim.synth(path, iterations=4)
            self.assertEqual(t.dataset, "cifar10")
            trace = os.path.join(d, "tiny.lpt")
            cli("synth", "--model", path, "--iterations", "4", "-q", "-o", trace)
            self.assertEqual(lpsim.bitops(t).total_bitops, lpsim.bitops(trace).total_bitops)


if __name__ == "__main__":
    unittest.main()
