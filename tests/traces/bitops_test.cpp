// Tests for traces/bitops.h: a hand-counted two-layer network, and CPT's Table 2.
#include "traces/bitops.h"

#include <catch2/catch.hpp>

#include "core/error.h"
#include "models/graph_io.h"
#include "models/zoo.h"
#include "traces/synth.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace {

// input 3x8x8 -> conv 3x3 pad 1 to 4 channels -> batch norm -> ReLU -> flatten -> linear 10.
Graph two_layer_graph() {
  Graph g("two-layer");
  Layer in = make_layer("x", LayerKind::Input);
  in.out_shape.dims = {3, 8, 8};
  int x = g.add(in);
  Layer conv = make_layer("conv", LayerKind::Conv2d);
  conv.out_features = 4;
  conv.kernel_h = conv.kernel_w = 3;
  conv.padding = 1;
  x = g.add(conv, {x});
  x = g.add(make_layer("bn", LayerKind::BatchNorm), {x});
  x = g.add(make_layer("relu", LayerKind::Activation), {x});
  x = g.add(make_layer("flat", LayerKind::Flatten), {x});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 10;
  g.add(fc, {x});
  g.infer_shapes();
  return g;
}

Segment seg(std::int64_t b, std::int64_t e, PrecisionSet p, std::string layer = "") {
  Segment s;
  s.begin = b;
  s.end = e;
  s.precision = p;
  s.layer = std::move(layer);
  return s;
}

PrecisionSet fwbw(int fw, int bw) {
  return PrecisionSet::fw_bw(Format::integer(fw), Format::integer(bw));
}

// 10 samples in batches of 4 (4, 4, 2), 2 epochs: 6 iterations. The fc layer
// runs FP32 over iterations [1, 4).
Trace hand_trace() {
  Trace t;
  t.header.producer = "test";
  t.header.model = "two-layer";
  t.header.dataset = "none";
  t.header.samples_per_epoch = 10;
  t.header.batch = 4;
  t.header.epochs = 2;
  t.header.total_iterations = 6;
  t.header.schedule = "test";
  t.segments = {seg(0, 2, fwbw(3, 8)), seg(2, 5, fwbw(8, 8)), seg(5, 6, fwbw(4, 8)),
                seg(1, 4, PrecisionSet{}, "fc")};
  return t;
}

// Runs of iterations with one precision per layer: (images, conv fw/bw, fc fw/bw).
struct Run {
  std::int64_t images;
  int conv_fw, conv_bw, fc_fw, fc_bw;
  int epoch;
};
// Images per iteration: 4, 4, 2 | 4, 4, 2.
const std::vector<Run> kRuns{
    {4, 3, 8, 3, 8, 0},    // iteration 0
    {4, 3, 8, 32, 32, 0},  // iteration 1: fc FP32
    {2, 8, 8, 32, 32, 0},  // iteration 2
    {4, 8, 8, 32, 32, 1},  // iteration 3
    {4, 8, 8, 8, 8, 1},    // iteration 4
    {2, 4, 8, 4, 8, 1},    // iteration 5
};

// Per image: conv MACs = 8*8 outputs x 4 channels x 3*3*3 = 6912; fc = 256 x 10 = 2560.
constexpr double kConv = 8 * 8 * 4 * 27, kFc = 4 * 8 * 8 * 10;
constexpr double kBn = 2 * 4 * 8 * 8;  // CPT convention: 2 ops per batch-norm output

}  // namespace

TEST_CASE(
    "BitOPs of a two-layer network match a count by hand, phase by phase and epoch by epoch") {
  const Graph g = two_layer_graph();
  const BitopsReport r = count_bitops(hand_trace(), g, CountConvention::Gemm);
  double fwd = 0, bwd_data = 0, bwd_weight = 0;
  std::vector<double> epoch(2, 0.0);
  for (const Run& x : kRuns) {
    // fwd: A x W; bwd_data: E x W, not for the first layer; bwd_weight: A x E.
    const double f = x.images * (kConv * x.conv_fw * x.conv_fw + kFc * x.fc_fw * x.fc_fw);
    const double d = x.images * (kFc * x.fc_bw * x.fc_fw);
    const double w = x.images * (kConv * x.conv_fw * x.conv_bw + kFc * x.fc_fw * x.fc_bw);
    fwd += f;
    bwd_data += d;
    bwd_weight += w;
    epoch[static_cast<std::size_t>(x.epoch)] += f + d + w;
  }
  CHECK(r.bitops_by_phase[static_cast<int>(Phase::Fwd)] == fwd);
  CHECK(r.bitops_by_phase[static_cast<int>(Phase::BwdData)] == bwd_data);
  CHECK(r.bitops_by_phase[static_cast<int>(Phase::BwdWeight)] == bwd_weight);
  CHECK(r.bitops_by_phase[static_cast<int>(Phase::Update)] == 0);
  CHECK(r.total_bitops == fwd + bwd_data + bwd_weight);
  REQUIRE(r.bitops_by_epoch.size() == 2);
  CHECK(r.bitops_by_epoch[0] == epoch[0]);
  CHECK(r.bitops_by_epoch[1] == epoch[1]);
  CHECK(r.macs_by_phase[static_cast<int>(Phase::Fwd)] == 20 * (kConv + kFc));
  CHECK(r.macs_by_phase[static_cast<int>(Phase::BwdData)] == 20 * kFc);
  CHECK(r.total_macs == 20 * (2 * kConv + 3 * kFc));
  CHECK(r.macs_by_epoch[0] == 10 * (2 * kConv + 3 * kFc));
  CHECK(r.total_images == 20);
  CHECK(r.total_iterations == 6);
  // Shares by the all-layer precision: 3/8 for 2 iterations, 8/8 for 3, 4/8 for 1.
  CHECK(r.iterations_by_precision ==
        std::map<std::string, std::int64_t>{{"3/8", 2}, {"8/8", 3}, {"4/8", 1}});
}

TEST_CASE("the CPT convention charges forward MACs plus 2 per batch-norm output once per pass") {
  const Graph g = two_layer_graph();
  const BitopsReport r = count_bitops(hand_trace(), g, CountConvention::Cpt);
  double fwd = 0, bwd_data = 0, bwd_weight = 0;
  for (const Run& x : kRuns) {
    // Batch norm belongs to the conv's side of the network: it runs at the all-layer precision.
    const double conv_side = kConv + kBn;
    fwd += x.images * (conv_side * x.conv_fw * x.conv_fw + kFc * x.fc_fw * x.fc_fw);
    bwd_data += x.images * (conv_side * x.conv_bw * x.conv_fw + kFc * x.fc_bw * x.fc_fw);
    bwd_weight += x.images * (conv_side * x.conv_bw * x.conv_fw + kFc * x.fc_bw * x.fc_fw);
  }
  CHECK(r.bitops_by_phase[static_cast<int>(Phase::Fwd)] == fwd);
  CHECK(r.bitops_by_phase[static_cast<int>(Phase::BwdData)] == bwd_data);
  CHECK(r.bitops_by_phase[static_cast<int>(Phase::BwdWeight)] == bwd_weight);
  CHECK(r.total_macs == 3 * 20 * (kConv + kBn + kFc));
  // The per-image base agrees with network_stats.
  const NetworkStats st = network_stats(g);
  CHECK(static_cast<double>(st.forward_macs + 2 * st.batchnorm_outputs) == kConv + kBn + kFc);
}

TEST_CASE("a per-layer segment naming an unknown layer is an input error") {
  Trace t = hand_trace();
  t.segments.back().layer = "conv9";
  CHECK_THROWS_WITH(count_bitops(t, two_layer_graph(), CountConvention::Gemm),
                    Contains("layer 'conv9'"));
}

TEST_CASE("the counting convention is parsed by name") {
  CHECK(parse_count_convention("gemm") == CountConvention::Gemm);
  CHECK(parse_count_convention("cpt") == CountConvention::Cpt);
  CHECK(to_string(CountConvention::Cpt) == "cpt");
  CHECK_THROWS_WITH(parse_count_convention("flops"), Contains("must be gemm or cpt"));
}

TEST_CASE("a trace's graph comes from the zoo or from the trace itself") {
  Trace t = synthesize({"resnet20", "cifar10", 1, 128, 0, "static:8/8"});
  CHECK(trace_graph(t).size() == make_model("resnet20", "cifar10").size());
  t.header.model = "";
  t.header.graph_json = graph_to_json(two_layer_graph());
  const Graph g = trace_graph(t);
  CHECK(g.size() == two_layer_graph().size());
  CHECK(network_stats(g).forward_macs == kConv + kFc);
}

namespace {

double gbitops(const std::string& model, const std::string& schedule, CountConvention c,
               std::int64_t iterations, std::int64_t epochs) {
  SynthOptions o;
  o.model = model;
  o.dataset = "cifar100";
  o.batch = 128;
  o.epochs = epochs;
  o.iterations = iterations;
  o.schedule = schedule;
  Trace t = synthesize(o);
  return count_bitops(t, trace_graph(t), c).total_bitops / 1e9;
}

}  // namespace

TEST_CASE("CPT's training GBitOPs are reproduced within 1% on all six of its CIFAR-100 networks") {
  // Counted as the paper did: 64,000 iterations of batch 128, CPT convention,
  // each network as CPT's code builds it (github RICE-EIC/CPT, cpt_cifar/models.py).
  // Figures (GBitOPs) from two sources:
  //  - Fu et al., ICLR 2021, Table 2 (CIFAR-100), as REFERENCES.md quotes it;
  //  - the CIFAR-100 figure of CPT's README (imgs/exp_cifar100.png, x axis
  //    "GBitOPs" x1e8), read off its pixels by scripts/cpt_figure_read.py
  //    (good to about 0.2%; docs/validation.md section 2).
  struct Row {
    const char* model;
    double static8, cpt38, static6, cpt36;
  };
  const Row rows[] = {
      {"resnet74", 2.67e8, 1.68e8, 1.50e8, 1.05e8},             // Table 2
      {"resnet164", 6.04e8, 3.8e8, 3.40e8, 2.37e8},             // Table 2
      {"resnet38", 1.322e8, 0.838e8, 0.744e8, 0.520e8},         // README figure
      {"resnet110", 4.015e8, 2.545e8, 2.258e8, 1.580e8},        // README figure
      {"resnet152", 5.588e8, 3.541e8, 3.145e8, 2.196e8},        // README figure
      {"mobilenetv2-cpt", 1.491e8, 0.945e8, 0.838e8, 0.586e8},  // README figure
  };
  for (const Row& row : rows) {
    INFO(row.model);
    auto g = [&](const char* s) { return gbitops(row.model, s, CountConvention::Cpt, 64000, 1); };
    const double s8 = g("static:8/8"), c38 = g("cyclic:3-8/8"), s6 = g("static:6/6"),
                 c36 = g("cyclic:3-6/6");
    CHECK(s8 == Approx(row.static8).epsilon(0.01));
    CHECK(c38 == Approx(row.cpt38).epsilon(0.01));
    CHECK(s6 == Approx(row.static6).epsilon(0.01));
    CHECK(c36 == Approx(row.cpt36).epsilon(0.01));
    CHECK(c38 / s8 == Approx(row.cpt38 / row.static8).epsilon(0.01));
    CHECK(c36 / s6 == Approx(row.cpt36 / row.static6).epsilon(0.01));
  }
}

TEST_CASE("plain GEMM MACs over 160 epochs land a few percent below CPT's figures") {
  // REFERENCES.md: counting plain MACs over 160 x 50,000 images lands about 3%
  // low (fewer images, no batch-norm term); within 5% of Table 2.
  CHECK(gbitops("resnet74", "static:8/8", CountConvention::Gemm, 0, 160) ==
        Approx(2.67e8).epsilon(0.05));
  CHECK(gbitops("resnet164", "static:8/8", CountConvention::Gemm, 0, 160) ==
        Approx(6.04e8).epsilon(0.05));
}

TEST_CASE("MobileNetV2 in the Sandler / torchvision layout is not the network CPT counted") {
  // CPT's code adds a 1x1 expansion in the t = 1 block and 1x1 conv + BN
  // shortcuts where a stride-1 block changes width (docs/models.md,
  // tests/models/zoo_test.cpp): without them the count misses the README
  // figure's 1.491e8 (static 8/8) by more than 3%, the finding.
  const double plain = gbitops("mobilenetv2", "static:8/8", CountConvention::Cpt, 64000, 1);
  CHECK(plain < 0.97 * 1.491e8);
  CHECK(plain > 0.95 * 1.491e8);
}
