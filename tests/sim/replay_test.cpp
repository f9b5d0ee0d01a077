// Replay: trace -> unique steps -> cached op costs x counts.
#include "sim/replay.h"
#include "sim/energy_model.h"

#include <catch2/catch.hpp>

#include "core/error.h"
#include "models/graph_io.h"
#include "models/zoo.h"
#include "sim/pe.h"
#include "traces/bitops.h"
#include "traces/synth.h"
#include "traces/temp_dir.h"

namespace lpsim {
namespace {

// LeNet-5 on Fashion-MNIST, batch 256: 60000 / 256 = 234.375, so every
// epoch ends with a short batch of 96.
Trace small_trace(const std::string& schedule, std::int64_t epochs = 2) {
  SynthOptions o;
  o.model = "lenet5";
  o.epochs = epochs;
  o.batch = 256;
  o.schedule = schedule;
  return synthesize(o);
}

// An input layer of `dims` (C, H, W); `grad`: the gradient w.r.t. it is
// computed, so its consumer gets a backward-data GEMM.
int add_input(Graph& g, std::vector<std::int64_t> dims, bool grad = false) {
  Layer in = make_layer("input", LayerKind::Input);
  in.out_shape.dims = std::move(dims);
  in.input_grad = grad;
  return g.add(in);
}

// A 3x3 'same' convolution of `filters` output channels.
Layer conv3x3(const std::string& name, std::int64_t filters) {
  Layer c = make_layer(name, LayerKind::Conv2d);
  c.out_features = filters;
  c.kernel_h = c.kernel_w = 3;
  c.padding = 1;
  return c;
}

}  // namespace

TEST_CASE("replay BitOPs and MACs equal count_bitops with the GEMM convention") {
  // Both sum macs x lhs bits x rhs bits over every GEMM op of every iteration.
  const Trace t = small_trace("cyclic:3-8/8,cycles=4");
  const Graph g = trace_graph(t);
  const ArchConfig arch = default_arch();
  CostCache cache;
  const SimReport r = simulate_trace(t, g, arch, energy_table_for(arch), {&cache, Timing::SystemC});
  const BitopsReport b = count_bitops(t, g, CountConvention::Gemm);
  CHECK(r.total.bitops == b.total_bitops);
  CHECK(r.total.macs == b.total_macs);
  for (int p = 0; p < kNumPhases; ++p) {
    CHECK(r.by_phase[std::size_t(p)].bitops == b.bitops_by_phase[std::size_t(p)]);
    CHECK(r.by_phase[std::size_t(p)].macs == b.macs_by_phase[std::size_t(p)]);
  }
  REQUIRE(r.epochs.size() == b.bitops_by_epoch.size());
  for (std::size_t e = 0; e < r.epochs.size(); ++e)
    CHECK(r.epochs[e].totals.bitops == b.bitops_by_epoch[e]);
  CHECK(r.iterations == b.total_iterations);
  CHECK(r.images == b.total_images);
}

TEST_CASE("simulating a trace twice hits the cache and gives identical results") {
  const Trace t = small_trace("cyclic:3-8/8,cycles=4");
  const Graph g = trace_graph(t);
  const ArchConfig arch = default_arch();
  const EnergyTable table = energy_table_for(arch);
  CostCache cache;
  const SimReport a = simulate_trace(t, g, arch, table, {&cache, Timing::SystemC});
  const SimReport b = simulate_trace(t, g, arch, table, {&cache, Timing::SystemC});
  // One SystemC job per unique training step (batch size and precisions).
  CHECK(a.cache.simulated > 0);
  CHECK(a.cache.simulated == a.cache.unique_steps);
  CHECK(b.cache.simulated == 0);
  CHECK(b.cache.hits > 0);
  CHECK(b.cache.unique_ops == a.cache.unique_ops);
  auto ja = to_json(a), jb = to_json(b);
  ja.erase("cache");
  jb.erase("cache");
  CHECK(ja.dump() == jb.dump());
  CHECK(cache.size() == std::size_t(a.cache.unique_ops));
}

TEST_CASE("the SystemC and the analytic replay count the same work, their cycles differ") {
  // The events (and so BitOPs and every energy component but leakage) come
  // from the mapper; the cycles from the kernel (ops overlapping, latency
  // pipelined) or from the closed form (each op alone).
  const Trace t = small_trace("cyclic:4-8/8,cycles=2", 1);
  const Graph g = trace_graph(t);
  const ArchConfig arch = default_arch();
  const EnergyTable table = energy_table_for(arch);
  CostCache c1, c2;
  const SimReport a = simulate_trace(t, g, arch, table, {&c1, Timing::SystemC});
  const SimReport b = simulate_trace(t, g, arch, table, {&c2, Timing::Analytic});
  CHECK(a.total.bitops == b.total.bitops);
  CHECK(a.total.macs == b.total.macs);
  CHECK(a.total.dram_read_bits == b.total.dram_read_bits);
  CHECK(a.total.sram_write_bits == b.total.sram_write_bits);
  CHECK(a.total.mac_array_busy_cycles == b.total.mac_array_busy_cycles);
  for (std::size_t c = 0; c < a.components.size(); ++c)  // static energy follows cycles
    if (!is_static_component(a.components[c]))
      CHECK(a.total.energy_pj_by_component[c] == Approx(b.total.energy_pj_by_component[c]));
  CHECK(a.total.cycles != b.total.cycles);
  CHECK(a.total.cycles == Approx(b.total.cycles).epsilon(0.10));
  CHECK(to_json(a)["timing"] == "systemc");
  CHECK(to_json(b)["timing"] == "analytic");
}

TEST_CASE("a design point change is a different cache entry") {
  const Trace t = small_trace("static:8/8", 1);
  const Graph g = trace_graph(t);
  CostCache cache;
  ArchConfig a1 = default_arch();
  ArchConfig a2 = default_arch({"dram.bandwidth_gbps=8"});
  const SimReport r1 = simulate_trace(t, g, a1, energy_table_for(a1), {&cache, Timing::SystemC});
  const SimReport r2 = simulate_trace(t, g, a2, energy_table_for(a2), {&cache, Timing::SystemC});
  CHECK(r2.cache.simulated == r2.cache.unique_steps);  // nothing reused from a1's entries
  CHECK(r2.total.cycles > r1.total.cycles);  // a quarter of the bandwidth
  CHECK(r2.total.macs == r1.total.macs);
}

TEST_CASE("the short last batch of an epoch is simulated at its own size") {
  // 60000 images per epoch: 234 batches of 256 and one of 96.
  const Trace t = small_trace("static:8/8", 2);
  const Graph g = trace_graph(t);
  const ArchConfig arch = default_arch();
  CostCache cache;
  const SimReport r = simulate_trace(t, g, arch, energy_table_for(arch), {&cache, Timing::SystemC});
  REQUIRE(r.epochs.size() == 2);
  CHECK(r.epochs[0].images == 60000);
  CHECK(r.epochs[0].iterations == 235);
  CHECK(r.images == 120000);
  // Two step shapes: the full batch and the short one.
  CHECK(r.cache.unique_steps == 2);
  // MACs scale with images: (234 * 256 + 96) x per-image training MACs.
  const double per_image = double(network_stats(g).training_macs);
  CHECK(r.epochs[1].totals.macs == per_image * 60000);
}

TEST_CASE("a per-layer segment overrides its layer's precision") {
  Trace t = small_trace("static:8/8", 1);
  const Graph g = trace_graph(t);
  std::string conv;
  for (int i = 0; i < g.size() && conv.empty(); ++i)
    if (g.layer(i).kind == LayerKind::Conv2d && i > 1) conv = g.layer(i).name;
  REQUIRE(!conv.empty());
  Segment s;
  s.begin = 0;
  s.end = t.header.total_iterations;
  s.layer = conv;
  s.precision = PrecisionSet::fw_bw(Format::integer(4), Format::integer(8));
  t.segments.push_back(s);
  const ArchConfig arch = default_arch();
  CostCache cache;
  const SimReport r = simulate_trace(t, g, arch, energy_table_for(arch), {&cache, Timing::SystemC});
  const BitopsReport b = count_bitops(t, g, CountConvention::Gemm);
  CHECK(r.total.bitops == b.total_bitops);
  const Trace plain = small_trace("static:8/8", 1);
  CHECK(r.total.bitops < count_bitops(plain, g, CountConvention::Gemm).total_bitops);
}

TEST_CASE("a segment naming a layer the model lacks is an input error that names it") {
  Trace t = small_trace("static:8/8", 1);
  Segment s;
  s.begin = 0;
  s.end = 1;
  s.layer = "no_such_layer";
  s.precision = PrecisionSet::fw_bw(Format::integer(4), Format::integer(8));
  t.segments.push_back(s);
  const ArchConfig arch = default_arch();
  CHECK_THROWS_WITH(simulate_trace(t, trace_graph(t), arch, energy_table_for(arch)),
                    Catch::Contains("no_such_layer"));
}

TEST_CASE("the JSON report has the totals, breakdowns, layers, epochs and cache counts") {
  const Trace t = small_trace("cyclic:3-8/8,cycles=2", 1);
  const Graph g = trace_graph(t);
  const ArchConfig arch = default_arch();
  CostCache cache;
  const SimReport r = simulate_trace(t, g, arch, energy_table_for(arch), {&cache, Timing::SystemC});
  const auto j = to_json(r);
  for (const char* key : {"total_gbitops", "energy_j", "latency_s", "cycles", "breakdown",
                          "layers", "epochs", "cache"})
    CHECK(j.contains(key));
  CHECK(j["latency_s"].get<double>() == Approx(r.total.cycles / (arch.clock_ghz * 1e9)));
  double sum = 0;
  for (const auto& [name, e] : j["breakdown"]["component"].items()) sum += e.get<double>();
  CHECK(sum == Approx(j["energy_j"].get<double>()).epsilon(1e-12));
  CHECK(j["breakdown"]["phase"].contains("bwd_weight"));
  CHECK(j["layers"].size() == std::size_t(g.size()));
  CHECK(j["cache"]["unique_ops"].get<std::int64_t>() > 0);
  CHECK(j["bound"]["compute_share"].get<double>() + j["bound"]["memory_share"].get<double>() ==
        Approx(1.0));
}

TEST_CASE("simulate_step reports per-layer cycles and a utilization no higher than 1") {
  // utilization = MACs / (PEs x peak MACs per PE per cycle x cycles).
  const Graph g = make_model("resnet20");
  const ArchConfig arch = default_arch();
  const auto ps = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  const SimReport r = simulate_step(g, arch, energy_table_for(arch), ps, 128, true);
  double cycles = 0;
  bool some_gemm = false;
  for (const auto& l : r.layers) {
    cycles += l.totals.cycles;
    CHECK(l.totals.utilization() <= 1.0);
    if (l.totals.macs > 0) {
      some_gemm = true;
      CHECK(l.totals.utilization() > 0);
    }
  }
  CHECK(some_gemm);
  CHECK(cycles == Approx(r.total.cycles).epsilon(1e-12));
  CHECK(r.by_phase[std::size_t(Phase::BwdData)].cycles == 0);  // forward only
}

TEST_CASE("a convolution moves its raw tensors through DRAM, not its im2col matrices") {
  // 4 images of 16 x 32 x 32, a 3x3 'same' conv to 16 channels; ideal memory
  // (one tile per op). im2col would be 9x the input; windows are formed on
  // chip, and backward-data sums its transposed convolution on chip.
  Graph g("one_conv");
  const int conv = g.add(conv3x3("conv", 16), {add_input(g, {16, 32, 32}, true)});
  g.infer_shapes();
  const ArchConfig arch = default_arch({"ideal_memory=true"});
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  const SimReport r = simulate_step(g, arch, energy_table_for(arch), p, 4, false);
  const double map = 4.0 * 16 * 32 * 32, weights = 16.0 * 16 * 9;
  const auto& ph = r.layers[std::size_t(conv)].by_phase;
  const auto bits = [&](Role role) { return double(p[role].bits); };
  const auto& fwd = ph[std::size_t(Phase::Fwd)];
  CHECK(fwd.dram_read_bits == map * bits(Role::A) + weights * bits(Role::W));
  CHECK(fwd.dram_write_bits == map * bits(Role::A));
  const auto& data = ph[std::size_t(Phase::BwdData)];
  CHECK(data.dram_read_bits == map * bits(Role::E) + weights * bits(Role::W));
  CHECK(data.dram_write_bits == map * bits(Role::E));  // the input gradient, not 9x it
  const auto& wgt = ph[std::size_t(Phase::BwdWeight)];
  CHECK(wgt.dram_read_bits == map * bits(Role::A) + map * bits(Role::E));
  CHECK(wgt.dram_write_bits == weights * bits(Role::G));
}

TEST_CASE("a batch norm takes the conv's output fused, from the buffer, or from DRAM") {
  // conv -> bn: the forward bn reads the conv's output (A) and its 2 x C
  // affine parameters (W); docs/simulator.md, "Fusion" and "Residency".
  // Fused: the A read streams from the conv's output path (no DRAM, no
  // buffer). Unfused but resident (the tensor fills at most half of its
  // buffer): read from the buffer. Neither (a 4 KiB buffer, the tensor
  // 4 KiB): from DRAM. Every write stays (backward may read it).
  Graph g("conv_bn");
  const int conv = g.add(conv3x3("conv", 8), {add_input(g, {8, 16, 16})});
  const int bn = g.add(make_layer("bn", LayerKind::BatchNorm), {conv});
  g.infer_shapes();
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  const double out = 2.0 * 8 * 16 * 16, params = 2.0 * 8;
  REQUIRE(out * p[Role::A].bits == 4096 * 8.0);
  auto fwd = [&](std::vector<std::string> set) {
    const ArchConfig arch = default_arch(set);
    return simulate_step(g, arch, energy_table_for(arch), p, 2, false)
        .layers[std::size_t(bn)]
        .by_phase[std::size_t(Phase::Fwd)];
  };
  const Totals fused = fwd({"fusion=true"});
  const Totals resident = fwd({"fusion=false"});
  const Totals dram = fwd({"fusion=false", "buffers.0.capacity_bytes=4096"});
  const double a_bits = out * p[Role::A].bits, w_bits = params * p[Role::W].bits;
  CHECK(fused.dram_read_bits == w_bits);
  CHECK(resident.dram_read_bits == w_bits);
  CHECK(dram.dram_read_bits == a_bits + w_bits);
  // The unified buffer (index 0, holding A): the resident read comes from it.
  CHECK(resident.sram_read_bits[0] == fused.sram_read_bits[0] + a_bits);
  for (const Totals* t : {&resident, &dram}) CHECK(t->dram_write_bits == fused.dram_write_bits);
  CHECK(fused.vector_ops == dram.vector_ops);
}

TEST_CASE("a layer's own W and A bits set its GEMMs' formats in a one-step simulation") {
  // Bit Fusion bricks (Sharma et al. ISCA 2018): floor(8/4) x floor(8/4) = 4
  // fused 4x4 MACs per unit per cycle, against one 8x8, summed along k: on
  // bit_fusion's 64 rows the 3x3x64 = 576-deep window takes ceil(576 / 256) =
  // 3 folds at 4 bits against ceil(576 / 64) = 9 at 8 bits, so a forward conv
  // whose layer says 4-bit weights and activations runs its array 3x shorter
  // on ideal memory (fill and drain aside), at a quarter of the BitOPs.
  Graph g("two_convs");
  const int c8 = g.add(conv3x3("conv8", 64), {add_input(g, {64, 32, 32})});
  Layer c = conv3x3("conv4", 64);
  c.w_bits = c.a_bits = 4;
  const int c4 = g.add(c, {c8});
  g.infer_shapes();
  const ArchConfig arch = load_arch(resolve_arch_path("bit_fusion"), {"ideal_memory=true"});
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  const auto layers = layer_precision_of(g, p);
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].first == c4);
  CHECK(layers[0].second[Role::W] == Format::integer(4));
  CHECK(layers[0].second[Role::E] == Format::integer(8));
  const SimReport r = simulate_step(g, arch, energy_table_for(arch), p, 16, true, {}, layers);
  const Totals& t8 = r.layers[std::size_t(c8)].totals;
  const Totals& t4 = r.layers[std::size_t(c4)].totals;
  CHECK(t4.bitops * 4 == t8.bitops);
  CHECK(t8.mac_array_busy_cycles / t4.mac_array_busy_cycles == Approx(9.0 / 3).epsilon(0.05));
}

TEST_CASE("AlexNet conv1-5 on the Eyeriss point take 0.8-1.25x the chip's measured time, at its measured power") {
  // Chen et al., JSSC 2017, Table V: AlexNet conv1-5 at batch 4, 16-bit,
  // 200 MHz: 16.5 + 39.2 + 21.8 + 16.0 + 10.0 = 103.5 ms. The goal
  // (docs/validation.md, section 6) is 0.8-1.25x of it, and never below the
  // ideal MAC bound: 2.663 G MACs / (168 PEs x 200 MHz).
  test::TempDir dir;
  const std::string csv = dir.write(
      "alexnet_conv.csv",
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides, Groups,\n"
      "conv1, 227, 227, 11, 11, 3, 96, 4, 1,\nconv2, 31, 31, 5, 5, 96, 256, 1, 2,\n"
      "conv3, 15, 15, 3, 3, 256, 384, 1, 1,\nconv4, 15, 15, 3, 3, 384, 384, 1, 2,\n"
      "conv5, 15, 15, 3, 3, 384, 256, 1, 2,\n");
  const Graph g = read_topology_csv(csv);
  const ArchConfig arch = load_arch(resolve_arch_path("eyeriss_isca16"));
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(16), Format::integer(16));
  const SimReport r = simulate_step(g, arch, energy_table_for(arch), p, 4, true);
  const double macs = 4.0 * (55 * 55 * 96 * 363.0 + 27 * 27 * 256 * 1200.0 +
                             13 * 13 * 384 * 2304.0 + 13 * 13 * 384 * 1728.0 +
                             13 * 13 * 256 * 1728.0);
  CHECK(r.total.macs == macs);
  CHECK(r.latency_s() >= macs / (168 * 200e6));
  CHECK(r.latency_s() >= 0.8 * 103.5e-3);
  CHECK(r.latency_s() <= 1.25 * 103.5e-3);
  // Its measured power, DRAM not included, is 235-332 mW over these layers
  // (Table V; REFERENCES.md). lpsim's on-chip power counts the PEs' scratch
  // pads (pe.rf_accesses_per_mac: 4); every layer must land in that band.
  int convs = 0;
  for (const auto& layer : r.layers) {
    if (layer.totals.macs == 0) continue;  // the topology's input layer
    ++convs;
    const double dram_j = energy_j_by_component(r, layer.totals).at("dram");
    const double watts = (layer.totals.energy_pj() * 1e-12 - dram_j) / latency_s(r, layer.totals);
    CHECK(watts >= 0.235);
    CHECK(watts <= 0.332);
  }
  CHECK(convs == 5);
  // Its DRAM traffic: 15.4 MB in all (Table V); the goal is within 2x. The
  // floor is each tensor moved once uncompressed (the chip run-length codes
  // its activations, lpsim does not): inputs as the topology gives them,
  // padded, 3.82 MB (conv1 4 x 3 x 227^2, conv2 4 x 96 x 31^2, conv3-5
  // 4 x {256, 384, 384} x 15^2), weights 2.33 M = 4.66 MB, outputs 5.2 MB
  // (4 x {96 x 55^2, 256 x 27^2, 384 x 13^2, 384 x 13^2, 256 x 13^2}), 2 bytes
  // each.
  const double dram_bytes = (r.total.dram_read_bits + r.total.dram_write_bits) / 8;
  CHECK(dram_bytes <= 2 * 15.4e6);
  const double inputs = 4.0 * (3 * 227 * 227 + 96 * 31 * 31 + (256 + 384 + 384) * 15 * 15);
  const double weights = 96 * 363.0 + 256 * 1200.0 + 384 * 2304.0 + 384 * 1728.0 + 256 * 1728.0;
  const double outputs = 4.0 * (96 * 55 * 55 + 256 * 27 * 27 + (384 + 384 + 256) * 13 * 13);
  CHECK(dram_bytes >= 2 * (inputs + weights + outputs));
}

namespace {
// A graph read from a SCALE-Sim topology CSV of `rows` (no Groups column).
Graph topology_graph(const std::string& rows) {
  test::TempDir dir;
  return read_topology_csv(dir.write(
      "layers.csv",
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\n" + rows));
}
}  // namespace

TEST_CASE("pe.psum_bits sets the width partial sums keep, unset, it is the table's accumulator") {
  // 16 x 16-bit integer MACs: the energy table's accumulator is 16 + 16 + 8 =
  // 40 bits (docs/energy.md), so psum_bits 40 must give the same report as
  // leaving it unset; 16 (the Eyeriss chip's psum width) moves fewer bits.
  const Graph g = topology_graph("conv3, 15, 15, 3, 3, 256, 384, 1,\n");
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(16), Format::integer(16));
  auto run = [&](int psum_bits) {
    ArchConfig arch = load_arch(resolve_arch_path("eyeriss_isca16"));
    arch.pe.psum_bits = psum_bits;
    return simulate_step(g, arch, energy_table_for(arch), p, 4, true).total;
  };
  const Totals table = run(0), forty = run(40), sixteen = run(16);
  CHECK(forty.cycles == table.cycles);
  CHECK(forty.dram_read_bits == table.dram_read_bits);
  CHECK(forty.sram_write_bits == table.sram_write_bits);
  CHECK(sixteen.macs == table.macs);
  CHECK(sixteen.dram_read_bits + sixteen.dram_write_bits <
        table.dram_read_bits + table.dram_write_bits);
}

TEST_CASE("dram.outputs: psum moves each output tile both ways as padded partial sums") {
  // Bit Fusion's simulator (optimizer.py get_stats_fast) charges a conv's
  // outputs as writes['out'] = reads['out'] = ow x oh x ceil(oc / M) x M x b
  // x oprec, oprec = 32, M = 32 columns. Its LeNet-5 conv0 at batch 16, 2-bit:
  // 28 x 28 outputs of 6 channels (padded to 32) at 32 bits, each way. The
  // `final` default writes the 6 real channels once, at the 2-bit output.
  const Graph g = topology_graph("conv0, 32, 32, 5, 5, 1, 6, 1,\n");
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(2), Format::integer(2));
  auto run = [&](const char* outputs) {
    const ArchConfig arch =
        load_arch(resolve_arch_path("bitfusion_isca18"), {std::string("dram.outputs=") + outputs});
    return simulate_step(g, arch, energy_table_for(arch), p, 16, true).total;
  };
  const Totals psum = run("psum"), final_out = run("final");
  const double padded = 28.0 * 28 * 32 * 16 * 32;  // ow oh ceil(oc/M)M b oprec
  CHECK(psum.dram_write_bits == padded);
  CHECK(psum.dram_read_bits == final_out.dram_read_bits + padded);
  CHECK(final_out.dram_write_bits == 28.0 * 28 * 6 * 16 * 2);
  CHECK(psum.macs == final_out.macs);
}

TEST_CASE("ResNet-18 conv3_1_b on Bit Fusion loads its weights once and splits k in two, as its optimizer does") {
  // Bit Fusion's own sweep (github hsharma35/bitfusion,
  // results/bitfusion-eyeriss-sim-sweep.csv, the bf_e_conf.ini row of
  // RESNET-18 module3/conv3_1_b/Convolution at 192 bits per cycle): 3,613,708
  // cycles, WBUF writes 2,359,296 bits (3 x 3 x 256 x 256 weights at 4 bits,
  // loaded once) and DRAM writes 205,520,896 bits (28 x 28 x 256 outputs x 16
  // images at 32 bits, twice: its optimizer splits the input channels in two
  // and round-trips the partial sums). The 3 x 3 x 256 x 32 weights of one
  // column group (295 kbit) overflow half the 64 KB weight buffer, so with k
  // innermost they were re-fetched for every block of pixels (+32.6%).
  test::TempDir dir;
  const Graph g = read_topology_csv(dir.write(
      "resnet18_conv3.csv",
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides, W Bits, A Bits,\n"
      "conv3_1_a, 56, 56, 1, 1, 128, 256, 2, 4, 4,\nconv3_1_b, 30, 30, 3, 3, 256, 256, 1, 4, 4,\n"));
  const ArchConfig arch = load_arch(resolve_arch_path("bitfusion_isca18"));
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  const SimReport r =
      simulate_step(g, arch, energy_table_for(arch), p, 16, true, {}, layer_precision_of(g, p));
  const Totals& t = r.layers.back().totals;
  CHECK(t.macs == 16.0 * 28 * 28 * 256 * 2304);
  CHECK(t.dram_write_bits == 205520896.0);
  CHECK(t.sram_write_bits[1] == 2359296.0);  // buffer 1: weight_buffer
  CHECK(double(t.cycles) <= 1.15 * 3613708);
  CHECK(double(t.cycles) >= 0.85 * 3613708);
}

TEST_CASE("pe.rf_accesses_per_mac prices each register-file access as one MAC") {
  // Chen et al., ISCA 2016 normalise a register-file access to one MAC;
  // Eyeriss's row-stationary PE makes 4 per MAC, so its PE energy per MAC is
  // 5x the MAC's at every width, and nothing else changes.
  ArchConfig arch = load_arch(resolve_arch_path("eyeriss_isca16"));
  const EnergyTable table = energy_table_for(arch);
  REQUIRE(arch.pe.rf_accesses_per_mac == 4);
  const auto with_rf = make_pe(arch.pe, table);
  arch.pe.rf_accesses_per_mac = 0;
  const auto mac_only = make_pe(arch.pe, table);
  for (int bits : {4, 8, 16}) {
    const Format f = Format::integer(bits);
    CHECK(with_rf->at(f, f).energy_pj_per_mac == Approx(5 * mac_only->at(f, f).energy_pj_per_mac));
    CHECK(with_rf->at(f, f).macs_per_cycle == mac_only->at(f, f).macs_per_cycle);
  }
  CHECK(with_rf->area_um2() == mac_only->area_um2());
}

TEST_CASE("a conv whose input the op before left in its buffer loads only its weights") {
  // relu -> conv, 2 images of 8 x 16 x 16 at 8 bits (4 KiB): with the 12 MiB
  // unified buffer the relu's output stays there for the conv (docs/simulator.md,
  // "Residency"); with a 4 KiB buffer it does not fit in half, and the conv
  // loads its raw input from DRAM.
  Graph g("relu_conv");
  const int relu = g.add(make_layer("relu", LayerKind::Activation), {add_input(g, {8, 16, 16})});
  const int conv = g.add(conv3x3("conv", 8), {relu});
  g.infer_shapes();
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  auto fwd = [&](std::vector<std::string> set) {
    const ArchConfig arch = default_arch(set);
    return simulate_step(g, arch, energy_table_for(arch), p, 2, true)
        .layers[std::size_t(conv)]
        .totals;
  };
  const double input_bits = 2.0 * 8 * 16 * 16 * 8, weight_bits = 8.0 * 8 * 9 * 8;
  CHECK(fwd({}).dram_read_bits == weight_bits);
  CHECK(fwd({"buffers.0.capacity_bytes=4096"}).dram_read_bits == input_bits + weight_bits);
}

TEST_CASE("backward reads the forward tensors it stashed from the buffer when they fit, newest first") {
  // fc1 -> relu1 -> fc2 -> relu2 -> fc3 on 4 vectors of 64 at 8 bits: each
  // hidden activation is 4 x 64 x 8 = 2048 bits (256 B). With the 12 MiB
  // unified buffer every forward output stays for backward
  // (docs/simulator.md, "Stashed activations"). With 1 KiB, the stash may use
  // half the buffer less the largest tensor: 512 - 256 = 256 B, so only fc3's
  // 40 B output fits, newest first, and relu2's output (fc3's input, and what
  // relu2's backward reads) goes back to DRAM: 2048 more bits for each.
  Graph g("mlp");
  int x = add_input(g, {64});
  for (const std::string n : {"1", "2"}) {
    Layer fc = make_layer("fc" + n, LayerKind::Linear);
    fc.out_features = 64;
    x = g.add(make_layer("relu" + n, LayerKind::Activation), {g.add(fc, {x})});
  }
  Layer fc3 = make_layer("fc3", LayerKind::Linear);
  fc3.out_features = 10;
  const int last = g.add(fc3, {x});
  g.infer_shapes();
  const int relu2 = x;
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  auto run = [&](std::vector<std::string> set) {
    const ArchConfig arch = default_arch(set);
    return simulate_step(g, arch, energy_table_for(arch), p, 4, false);
  };
  const SimReport big = run({}), small = run({"buffers.0.capacity_bytes=1024"});
  auto dram_read = [](const SimReport& r, int layer, Phase ph) {
    return r.layers[std::size_t(layer)].by_phase[std::size_t(ph)].dram_read_bits;
  };
  const double tensor = 4 * 64 * 8;
  CHECK(dram_read(small, last, Phase::BwdWeight) - dram_read(big, last, Phase::BwdWeight) ==
        tensor);
  CHECK(dram_read(small, relu2, Phase::BwdData) - dram_read(big, relu2, Phase::BwdData) == tensor);
  // The network's input is not a forward output: fc1's backward-weight reads
  // it from DRAM either way.
  const int fc1 = g.inputs(g.inputs(g.inputs(relu2).at(0)).at(0)).at(0);
  CHECK(dram_read(small, fc1, Phase::BwdWeight) == dram_read(big, fc1, Phase::BwdWeight));
  CHECK(small.total.macs == big.total.macs);
}

}  // namespace lpsim
