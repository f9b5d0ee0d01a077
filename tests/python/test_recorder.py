"""lpsim.torch.Recorder (docs/python.md, "Recording a PyTorch run") against the
lpsim binary: a real PyTorch training loop recorded under CPT's cyclic
schedule costs what `lpsim synth` says the same run costs.

Run by ctest (tests/CMakeLists.txt) with Debian's python3 and python3-torch,
PYTHONPATH=build/python, LPSIM_BINARY and LPSIM_SOURCE_DIR set. Skipped (with
the reason) where torch is not installed.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    torch = None

import lpsim
if torch is not None:
    import lpsim.torch

BINARY = os.environ.get("LPSIM_BINARY", "lpsim")
SOURCE = os.environ.get("LPSIM_SOURCE_DIR", "")
needs_torch = unittest.skipUnless(torch is not None,
                                  "python3-torch is not installed (apt-get install python3-torch)")


def cli(*args, expect=0):
    p = subprocess.run([BINARY, *args], capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"lpsim {' '.join(args)}: exit {p.returncode}, want {expect}: "
                             f"{p.stderr.strip()}")
    return p.stdout


def cpt_cyclic_bits(lo, hi, t, total, cycles):
    """docs/schedules.md, cyclic: T_n = max(1, floor(T / N)),
    b(t) = rint(MIN + 0.5 (MAX - MIN) (1 - cos(pi (t mod T_n) / T_n))); Python's
    round() rounds half to even, as rint."""
    period = max(1, total // cycles)
    return round(lo + 0.5 * (hi - lo) * (1 - math.cos(math.pi * (t % period) / period)))


if torch is not None:
    class LeNet5(nn.Module):
        """The zoo's `lenet5` (models/zoo.cpp, docs/models.md), layer for layer."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.pool1 = nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.pool2 = nn.MaxPool2d(2)
            self.fc1 = nn.Linear(400, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool1(F.relu(self.conv1(x)))
            x = self.pool2(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    class BranchyLeNet5(LeNet5):
        """The same network with data-dependent control flow, which torch.fx
        cannot trace (the branch is always taken)."""

        def forward(self, x):
            x = self.pool1(F.relu(self.conv1(x)))
            if x.sum() > -math.inf:
                x = self.pool2(F.relu(self.conv2(x)))
            x = x.view(x.size(0), -1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


if torch is not None:
    class RoundTo(torch.autograd.Function):
        """Uniform quantization to `bits` with a straight-through gradient."""

        @staticmethod
        def forward(ctx, x, bits):
            scale = x.abs().max().clamp(min=1e-8) / (2 ** (bits - 1) - 1)
            return torch.round(x / scale) * scale

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    class QConv2d(nn.Conv2d):
        """A CPT-style quantized conv: its weights and input at `num_bits`."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.num_bits = 8

        def forward(self, x):
            if self.num_bits is None:
                return super().forward(x)
            return self._conv_forward(RoundTo.apply(x, self.num_bits),
                                      RoundTo.apply(self.weight, self.num_bits), self.bias)


def train(model, rec, precisions, batch, seed=1):
    """A real training loop on random 28x28 data, one recorded step per entry
    of `precisions` (a (w, a, e, g) tuple, or a dict of Recorder.step keywords)."""
    torch.manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for p in precisions:
        x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
        kw = p if isinstance(p, dict) else dict(zip("waeg", p))
        with rec.step(**kw):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()


def bitops(path):
    """`lpsim bitops --json` without the file's name."""
    out = json.loads(cli("bitops", path, "--json"))
    del out["trace"]
    return out


@needs_torch
class CyclicRunEqualsSynth(unittest.TestCase):
    def test_a_recorded_cyclic_run_has_the_bitops_of_lpsim_synth(self):
        # 24 iterations of batch 32, cyclic:3-8/8 with 2 periods of 12.
        steps, batch, spec = 24, 32, "cyclic:3-8/8,cycles=2"
        bits = [cpt_cyclic_bits(3, 8, t, steps, 2) for t in range(steps)]
        self.assertEqual((min(bits), max(bits)), (3, 8))
        with tempfile.TemporaryDirectory() as d:
            mine, theirs = os.path.join(d, "rec.lpt"), os.path.join(d, "synth.lpt")
            rec = lpsim.torch.Recorder(LeNet5(), torch.randn(batch, 1, 28, 28), mine,
                                       dataset="fashion-mnist", samples_per_epoch=60000,
                                       schedule=spec)
            self.assertEqual(rec.tracer, "fx")
            train(LeNet5(), rec, [(b, b, 8, 8) for b in bits], batch)
            rec.close()
            cli("synth", "--model", "lenet5", "--iterations", str(steps), "--batch", str(batch),
                "--schedule", spec, "-o", theirs, "-q")
            # Every figure: totals, phases, epochs, iterations, images, widths' shares.
            self.assertEqual(bitops(mine), bitops(theirs))
            # One segment per run of equal widths, as the synthesizer writes.
            changes = 1 + sum(x != y for x, y in zip(bits, bits[1:]))
            with open(mine) as f:
                self.assertEqual(sum('"seg"' in line for line in f), changes)
            self.assertEqual(lpsim.torch.canonical_format("int8", "w"), "8")


@needs_torch
class Segments(unittest.TestCase):
    def record(self, d, precisions, **kw):
        path = os.path.join(d, "r.lpt")
        rec = lpsim.torch.Recorder(LeNet5(), torch.randn(8, 1, 28, 28), path, **kw)
        train(LeNet5(), rec, precisions, 8)
        rec.close()
        with open(path) as f:
            return path, [json.loads(line) for line in f]

    def test_a_segment_is_written_only_when_the_precisions_change(self):
        with tempfile.TemporaryDirectory() as d:
            p = [(8, 8, 8, 8)] * 3 + [(4, 4, 8, 8)] * 2 + [(8, 8, 8, 8)]
            _, records = self.record(d, p)
            segs = [(r["seg"], r["W"]) for r in records if "seg" in r]
            self.assertEqual(segs, [([0, 3], "8"), ([3, 5], "4"), ([5, 6], "8")])
            head, end = records[0], records[-1]
            # Defaults: one epoch of every step's batch (docs/python.md).
            self.assertEqual((head["samples_per_epoch"], head["batch"], head["epochs"],
                              head["total_iterations"]), (6 * 8, 8, 1, 6))
            self.assertEqual(end, {"end": len(records) - 1})

    def test_per_layer_precisions_and_cpt_num_bits_give_per_layer_segments(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.lpt")
            model = LeNet5()
            model.conv1 = QConv2d(1, 6, 5, padding=2)
            model.conv1.num_bits = 4  # CPT-style: read as each step begins
            rec = lpsim.torch.Recorder(model, torch.randn(8, 1, 28, 28), path)
            # fx takes the subclass whole, as the conv it is.
            self.assertEqual(rec.tracer, "fx")
            self.assertEqual(rec.graph["layers"][1]["kind"], "conv2d")
            train(model, rec, [(8, 8, 8, 8)] * 2, 8)
            model.conv1.num_bits = None  # back to the step's precision
            train(model, rec, [dict(w=8, a=8, e=8, g=8, layers={"fc3": (16, 16, 16, 16)})], 8)
            rec.close()
            with open(path) as f:
                segs = [json.loads(line) for line in f if '"seg"' in line]
            self.assertEqual([(s["seg"], s.get("layer"), s["W"], s["E"]) for s in segs],
                             [([0, 3], None, "8", "8"), ([0, 2], "conv1", "4", "8"),
                              ([2, 3], "fc3", "16", "16")])
            cli("bitops", path)  # the binary accepts the layer names

    def test_same_steps_give_the_same_bytes(self):
        outs = []
        for _ in range(2):
            with tempfile.TemporaryDirectory() as d:
                path, _ = self.record(d, [(3, 3, 8, 8), (5, 5, 8, 8)], dataset="fashion-mnist",
                                      samples_per_epoch=60000, seed=7)
                with open(path, "rb") as f:
                    outs.append(f.read())
        self.assertEqual(outs[0], outs[1])


@needs_torch
class Replay(unittest.TestCase):
    def test_lpsim_simulate_replays_the_trace_with_metrics(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.lpt.gz")
            with lpsim.torch.Recorder(LeNet5(), torch.randn(16, 1, 28, 28), path,
                                      samples_per_epoch=40, epochs=2) as rec:
                train(LeNet5(), rec, [(8, 8, 8, 8)] * 3, 16)
                rec.log_epoch(0, train_loss=2.3, test_accuracy=0.1)
                train(LeNet5(), rec, [(4, 4, 8, 8)] * 2, 16)
            out = json.loads(cli("simulate", path, "--timing", "analytic", "--json"))
            # ipe = ceil(40 / 16) = 3: epoch 0 is 16 + 16 + 8 images, epoch 1 16 + 16.
            self.assertEqual((out["iterations"], out["images"]), (5, 40 + 32))
            self.assertGreater(out["energy_j"], 0)


@needs_torch
class HookFallback(unittest.TestCase):
    def test_a_model_fx_cannot_trace_is_captured_with_hooks_to_the_same_graph(self):
        with tempfile.TemporaryDirectory() as d:
            paths = [os.path.join(d, "fx.lpt"), os.path.join(d, "hooks.lpt")]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                hooked = lpsim.torch.Recorder(BranchyLeNet5(), torch.randn(8, 1, 28, 28),
                                              paths[1])
            self.assertEqual(hooked.tracer, "hooks")
            self.assertIn("control flow", hooked.fallback_reason)
            self.assertTrue(any("forward hooks" in str(w.message) for w in caught))
            traced = lpsim.torch.Recorder(LeNet5(), torch.randn(8, 1, 28, 28), paths[0])
            kinds = [[(l["kind"], l.get("inputs") is not None) for l in r.graph["layers"]]
                     for r in (traced, hooked)]
            self.assertEqual(kinds[0], kinds[1])
            for rec in (traced, hooked):
                train(LeNet5(), rec, [(6, 6, 8, 8)] * 2, 8)
                rec.close()
            self.assertEqual(bitops(paths[0]), bitops(paths[1]))

    def test_tracer_fx_refuses_the_model_instead(self):
        with self.assertRaisesRegex(lpsim.InputError, "torch.fx cannot trace BranchyLeNet5"):
            lpsim.torch.Recorder(BranchyLeNet5(), torch.randn(2, 1, 28, 28), "x.lpt",
                                 tracer="fx")


@needs_torch
class TorchvisionNetworks(unittest.TestCase):
    def test_torchvision_networks_capture_to_the_zoos_layers_with_either_tracer(self):
        """torchvision's ResNet-18, MobileNetV2 and AlexNet (weights=None) are
        the zoo's resnet18, mobilenetv2 and alexnet on imagenet (docs/models.md:
        1.8e9 MACs for ResNet-18, He et al. Table 1; 300M, 3.4M for MobileNetV2,
        Sandler et al. Table 4): the same forward and training MACs and
        parameters, whether fx or the hooks capture them."""
        try:
            import torchvision
            lpsim.archs()
        except ImportError as e:
            self.skipTest(f"needs torchvision and the compiled module: {e}")
        x = torch.randn(1, 3, 224, 224)
        with tempfile.TemporaryDirectory() as d:
            for tv, zoo in (("resnet18", "resnet18"), ("mobilenet_v2", "mobilenetv2"),
                            ("alexnet", "alexnet")):
                want = lpsim.model(zoo, "imagenet").stats()
                for tracer in ("fx", "hooks"):
                    graph, used, _, _ = lpsim.torch.capture(
                        getattr(torchvision.models, tv)(weights=None), x, tracer=tracer)
                    self.assertEqual(used, tracer)
                    path = os.path.join(d, f"{tv}.{tracer}.json")
                    with open(path, "w") as f:
                        json.dump(graph, f)
                    self.assertEqual(lpsim.load_graph(path).stats(), want, f"{tv} by {tracer}")


@needs_torch
class Errors(unittest.TestCase):
    def recorder(self, model, shape=(2, 1, 28, 28), **kw):
        return lpsim.torch.Recorder(model, torch.randn(*shape), os.path.join(self.d, "r.lpt"),
                                    **kw)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_leaky_relu_and_the_hard_activations_are_costed_as_lpsim_activations(self):
        # docs/models.md: leaky_relu, hard_sigmoid, hard_swish are activation
        # functions of the graph; a step's MACs are 3 x forward less the
        # first layer's backward-data: conv 4*26*26*9, linear 2704*10.
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.LeakyReLU(0.1), nn.Hardswish(),
                              nn.Hardsigmoid(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
        path = os.path.join(self.d, "r.lpt")
        rec = lpsim.torch.Recorder(model, torch.randn(2, 1, 28, 28), path)
        train(model, rec, [(8, 8, 8, 8)] * 3, batch=2)
        rec.close()
        with open(path, encoding="utf-8") as f:
            graph = json.loads(f.readline())["graph"]
        functions = [l.get("function") for l in graph["layers"] if l["kind"] == "activation"]
        self.assertEqual(functions, ["leaky_relu", "hard_swish", "hard_sigmoid"])
        conv, linear = 4 * 26 * 26 * 9, 2704 * 10
        self.assertEqual(bitops(path)["total_macs"], 3 * 2 * (3 * (conv + linear) - conv))

    def test_products_of_activations_and_by_numbers_are_elementwise_layers(self):
        class Gate(nn.Module):  # x * sigmoid(x) * 0.5: a gate, then a scalar
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 4, 3)
                self.fc = nn.Linear(4 * 26 * 26, 10)

            def forward(self, x):
                y = self.conv(x)
                y = y * torch.sigmoid(y)
                return self.fc((y * 0.5).flatten(1))
        path = os.path.join(self.d, "g.lpt")
        model = Gate()
        rec = lpsim.torch.Recorder(model, torch.randn(2, 1, 28, 28), path)
        train(model, rec, [(8, 8, 8, 8)] * 2, batch=2)
        rec.close()
        with open(path, encoding="utf-8") as f:
            layers = json.loads(f.readline())["graph"]["layers"]
        mul = [l for l in layers if l["kind"] == "elementwise"]
        self.assertEqual([l["function"] for l in mul], ["mul", "mul"])
        self.assertEqual(len(mul[0]["inputs"]), 2)  # the gate: two activations
        self.assertEqual((len(mul[1]["inputs"]), mul[1]["operand"]), (1, []))  # by 0.5
        conv, linear = 4 * 26 * 26 * 9, 2704 * 10  # elementwise layers add no MACs
        self.assertEqual(bitops(path)["total_macs"], 2 * 2 * (3 * (conv + linear) - conv))

    def test_dilated_and_per_axis_windows_keep_their_shapes_and_macs(self):
        # out = floor((H + 2p - d(K-1) - 1) / s) + 1 per axis: H 28, K 3, d 2,
        # s (2, 1), p (1, 0) -> 13 x 24; MACs per sample 8 * 13 * 24 * 1 * 9.
        model = nn.Sequential(nn.Conv2d(1, 8, 3, stride=(2, 1), padding=(1, 0), dilation=2),
                              nn.Flatten(), nn.Linear(8 * 13 * 24, 10))
        path = os.path.join(self.d, "d.lpt")
        rec = lpsim.torch.Recorder(model, torch.randn(2, 1, 28, 28), path)
        train(model, rec, [(8, 8, 8, 8)], batch=2)
        rec.close()
        with open(path, encoding="utf-8") as f:
            conv = json.loads(f.readline())["graph"]["layers"][1]
        self.assertEqual((conv["kernel"], conv["stride"], conv["padding"], conv["dilation"]),
                         (3, [2, 1], [1, 0], 2))
        c, fc = 8 * 13 * 24 * 9, 8 * 13 * 24 * 10
        self.assertEqual(bitops(path)["total_macs"], 2 * (3 * (c + fc) - c))

    def test_gelu_and_silu_cost_what_their_onnx_export_imports_to(self):
        # The reference: PyTorch's own ONNX export of the same network, read by
        # `lpsim import`; recorded and imported graphs must cost the same.
        for approximate in ("none", "tanh"):
            model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.GELU(approximate=approximate),
                                  nn.SiLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
            onnx_path = os.path.join(self.d, f"g_{approximate}.onnx")
            torch.onnx.export(model, torch.randn(1, 1, 28, 28), onnx_path, export_params=False,
                              opset_version=14)
            yaml_path = os.path.join(self.d, f"g_{approximate}.yaml")
            p = subprocess.run([BINARY, "import", onnx_path, "-o", yaml_path],
                               capture_output=True, text=True)
            if p.returncode != 0 and "without ONNX" in p.stderr:
                self.skipTest("lpsim was built without ONNX (libonnx-dev)")
            self.assertEqual(p.returncode, 0, p.stderr)
            recorded = os.path.join(self.d, f"r_{approximate}.lpt")
            rec = lpsim.torch.Recorder(model, torch.randn(2, 1, 28, 28), recorded)
            train(model, rec, [(8, 8, 8, 8)] * 3, batch=2)
            rec.close()
            synthesized = os.path.join(self.d, f"s_{approximate}.lpt")
            cli("synth", "--model", yaml_path, "--batch", "2", "--iterations", "3",
                "--schedule", "static:8/8", "-o", synthesized, "-q")
            a, b = (json.loads(cli("simulate", t, "--timing", "analytic", "--json"))
                    for t in (recorded, synthesized))
            for key in ("macs", "vector_ops", "total_gbitops"):
                self.assertEqual(a[key], b[key], f"{approximate}: {key}")

    def test_an_op_lpsim_cannot_cost_is_named(self):
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.PReLU())
        with self.assertRaisesRegex(lpsim.InputError, r"^module '1' \(PReLU\): lpsim has no "):
            self.recorder(model)
        with self.assertRaisesRegex(lpsim.InputError, r"module '1' \(MaxPool2d\): PyTorch "
                                                      r"gives \[14, 14\] \(ceil_mode\?\)"):
            self.recorder(nn.Sequential(nn.Conv2d(1, 4, 2), nn.MaxPool2d(2, ceil_mode=True)))

    def test_bad_precisions_and_layer_names(self):
        rec = self.recorder(LeNet5())
        with self.assertRaisesRegex(lpsim.InputError, r"^step: w = 0: 0 bits is out of range: "
                                                      r"must be 1\.\.64$"):
            rec.step(w=0, a=8, e=8, g=8)
        with self.assertRaisesRegex(lpsim.InputError, r"^step: give g="):
            rec.step(w=8, a=8, e=8)
        with self.assertRaisesRegex(lpsim.InputError, r"^step: layers\['fc9'\]: the graph has "
                                                      r"no layer 'fc9'"):
            rec.step(w=8, a=8, e=8, g=8, layers={"fc9": (4, 4, 8, 8)})

    def test_steps_that_do_not_fit_the_epochs_are_refused_and_nothing_is_written(self):
        rec = self.recorder(LeNet5(), samples_per_epoch=4, epochs=1)  # ipe = 2
        train(LeNet5(), rec, [(8, 8, 8, 8)] * 2, 2)
        with self.assertRaisesRegex(lpsim.InputError, "iteration 2 is past epochs = 1 of 2 "
                                                      "iterations: must be below 2"):
            rec.step(w=8, a=8, e=8, g=8)
        rec = self.recorder(LeNet5(), samples_per_epoch=4, epochs=3)
        train(LeNet5(), rec, [(8, 8, 8, 8)] * 2, 2)
        with self.assertRaisesRegex(lpsim.InputError, r"2 steps do not fit epochs = 3 of 2 "
                                                      r"iterations .*: must be 5\.\.6$"):
            rec.close()
        self.assertEqual(os.listdir(self.d), [])


@needs_torch
class DocsExample(unittest.TestCase):
    def test_the_worked_example_in_docs_python_md_runs(self):
        try:
            lpsim.archs()
        except ImportError as e:
            self.skipTest(f"the example costs the trace with the compiled module: {e}")
        with open(os.path.join(SOURCE, "docs", "python.md")) as f:
            text = f.read()
        start = text.index("# docs/python.md: record a PyTorch LeNet-5")
        code = text[start:text.index("```", start)]
        printed = text[text.index("```\n", text.index("It prints", start)) + 4:]
        printed = printed[:printed.index("```")]
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([sys.executable, "-c", code], cwd=d, capture_output=True,
                               text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(d, "lenet5.lpt")) as f:
                records = [json.loads(line) for line in f]
        self.assertEqual(p.stdout, printed)  # the docs show what it prints
        # 2 epochs x 600 images; per image 3 x 416,520 forward MACs less the first
        # conv's bwd_data, 28 x 28 x 6 x 25 (docs/models.md).
        self.assertIn(f"{1200 * (3 * 416520 - 28 * 28 * 6 * 25):,} MACs", p.stdout)
        self.assertEqual([r["epoch"] for r in records if "epoch" in r], [0, 1])


class WithoutTheCompiledModule(unittest.TestCase):
    def test_lpsim_torch_imports_from_the_sources_alone(self):
        # python/lpsim holds only the .py files: no _lpsim there.
        code = ("import lpsim, lpsim.torch\n"
                "try:\n    lpsim.synth('lenet5')\nexcept ImportError as e:\n"
                "    print('ImportError', e)\n")
        env = dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "python"))
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        if torch is None:
            self.assertIn("No module named 'torch'", p.stderr)
            return
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ImportError lpsim's compiled module _lpsim is not available", p.stdout)


if __name__ == "__main__":
    unittest.main()
