// Tests for models/training_step.h: GEMM dimensions per phase, the skipped
// first backward-data, element-wise ops and the update.
#include "models/training_step.h"

#include <catch2/catch.hpp>
#include <map>

#include "core/error.h"
#include "models/zoo.h"

using namespace lpsim;

namespace {

std::int64_t phase_macs(const std::vector<Op>& ops, Phase phase) {
  std::int64_t total = 0;
  for (const Op& op : ops) {
    if (op.phase == phase) total += op.macs();
  }
  return total;
}

// input [3,8,8] -> conv 3x3 pad 1, 4 channels, bias -> bn -> relu -> conv 3x3 stride 2
// groups 2, 6 channels -> global avg pool -> flatten -> fc 5 -> softmax
Graph tiny_cnn() {
  Graph g("tiny");
  Layer in = make_layer("input", LayerKind::Input);
  in.out_shape.dims = {3, 8, 8};
  int x = g.add(in);
  Layer c1 = make_layer("conv1", LayerKind::Conv2d);
  c1.out_features = 4;
  c1.kernel_h = c1.kernel_w = 3;
  c1.padding = 1;
  c1.bias = true;
  x = g.add(c1, {x});
  x = g.add(make_layer("bn1", LayerKind::BatchNorm), {x});
  x = g.add(make_layer("relu1", LayerKind::Activation), {x});
  Layer c2 = make_layer("conv2", LayerKind::Conv2d);
  c2.out_features = 6;
  c2.kernel_h = c2.kernel_w = 3;
  c2.stride = 2;
  c2.padding = 1;
  c2.groups = 2;
  x = g.add(c2, {x});
  Layer pool = make_layer("pool", LayerKind::Pool);
  pool.pool_global = true;
  pool.pool_max = false;
  x = g.add(pool, {x});
  x = g.add(make_layer("flatten", LayerKind::Flatten), {x});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 5;
  fc.bias = true;
  x = g.add(fc, {x});
  g.add(make_layer("loss", LayerKind::Softmax), {x});
  g.infer_shapes();
  return g;
}

// conv1: 8x8 output, 4 filters of 3x3x3; conv2: 4x4 output, 6 filters of 3x3x(4/2); fc 6x5.
constexpr std::int64_t kConv1Macs = 8 * 8 * 4 * 3 * 3 * 3;
constexpr std::int64_t kConv2Macs = 4 * 4 * 6 * 3 * 3 * (4 / 2);
constexpr std::int64_t kFcMacs = 6 * 5;

const Op* find_op(const std::vector<Op>& ops, const Graph& g, const std::string& layer, Phase phase,
                  const std::string& label) {
  for (const Op& op : ops) {
    if (g.layer(op.layer).name == layer && op.phase == phase && op.label == label) return &op;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a tiny CNN's forward MACs equal the convolution formula H_out W_out C_out K K C_in/g") {
  const Graph g = tiny_cnn();
  CHECK(network_stats(g).forward_macs == kConv1Macs + kConv2Macs + kFcMacs);
  CHECK(phase_macs(expand_forward(g, 3), Phase::Fwd) == 3 * (kConv1Macs + kConv2Macs + kFcMacs));
}

TEST_CASE("convolutions lower to the im2col GEMM of each phase") {
  const Graph g = tiny_cnn();
  const std::int64_t b = 2;
  const auto ops = expand_training_step(g, b);
  const Op* fwd = find_op(ops, g, "conv2", Phase::Fwd, "conv");
  const Op* bwd_data = find_op(ops, g, "conv2", Phase::BwdData, "conv");
  const Op* bwd_weight = find_op(ops, g, "conv2", Phase::BwdWeight, "conv");
  REQUIRE(fwd);
  REQUIRE(bwd_data);
  REQUIRE(bwd_weight);
  // m = B*OH*OW, n = Cout/g, k = Cin/g*KH*KW, repeat = g.
  CHECK(fwd->m == b * 4 * 4);
  CHECK(fwd->n == 6 / 2);
  CHECK(fwd->k == 4 / 2 * 3 * 3);
  CHECK(fwd->repeat == 2);
  CHECK((fwd->lhs_role == Role::A && fwd->rhs_role == Role::W && fwd->out_role == Role::A));
  CHECK((bwd_data->m == b * 16 && bwd_data->n == 2 * 9 && bwd_data->k == 3));
  CHECK((bwd_data->lhs_role == Role::E && bwd_data->rhs_role == Role::W &&
         bwd_data->out_role == Role::E));
  CHECK((bwd_weight->m == 2 * 9 && bwd_weight->n == 3 && bwd_weight->k == b * 16));
  CHECK((bwd_weight->lhs_role == Role::A && bwd_weight->rhs_role == Role::E &&
         bwd_weight->out_role == Role::G));
}

TEST_CASE("each backward phase repeats the forward MACs except the first layer's backward-data") {
  const Graph g = tiny_cnn();
  const std::int64_t b = 4;
  const auto ops = expand_training_step(g, b);
  const std::int64_t fwd = b * (kConv1Macs + kConv2Macs + kFcMacs);
  CHECK(phase_macs(ops, Phase::Fwd) == fwd);
  CHECK(phase_macs(ops, Phase::BwdWeight) == fwd);
  CHECK(phase_macs(ops, Phase::BwdData) == fwd - b * kConv1Macs);
  CHECK(phase_macs(ops, Phase::Update) == 0);
  CHECK(find_op(ops, g, "conv1", Phase::BwdData, "conv") == nullptr);
}

TEST_CASE("zoo CNNs train at three times their forward MACs less the first convolution") {
  for (const char* name : {"resnet20", "mobilenetv2", "alexnet"}) {
    const Graph g = make_model(name);
    const auto s = network_stats(g);
    const auto ops = expand_training_step(g, 1);
    std::int64_t first_conv = 0;
    for (const Op& op : ops) {
      if (op.kind == OpKind::Gemm && op.phase == Phase::Fwd) {
        first_conv = op.macs();
        break;
      }
    }
    INFO(name);
    CHECK(phase_macs(ops, Phase::BwdWeight) == s.forward_macs);
    CHECK(s.training_macs == 3 * s.forward_macs - first_conv);
  }
}

TEST_CASE("linear layers use M = batch x tokens") {
  const Graph g = make_model("lstm-ptb");
  const auto ops = expand_training_step(g, 20);
  const Op* dec = find_op(ops, g, "decoder", Phase::Fwd, "linear");
  REQUIRE(dec);
  CHECK((dec->m == 20 * 35 && dec->n == 10000 && dec->k == 650));
}

TEST_CASE("an LSTM batches its input GEMM over time and runs its recurrent GEMM per step") {
  const Graph g = make_model("lstm-ptb");
  const auto ops = expand_training_step(g, 20);
  const Op* ih = find_op(ops, g, "lstm2", Phase::Fwd, "lstm_ih");
  const Op* hh = find_op(ops, g, "lstm2", Phase::Fwd, "lstm_hh");
  REQUIRE(ih);
  REQUIRE(hh);
  CHECK((ih->m == 20 * 35 && ih->n == 4 * 650 && ih->k == 650 && ih->repeat == 1));
  CHECK((hh->m == 20 && hh->n == 4 * 650 && hh->k == 650 && hh->repeat == 35));
  // The embedding learns, so the first LSTM's input gradient is computed: every
  // phase has the forward MACs.
  const std::int64_t fwd = phase_macs(ops, Phase::Fwd);
  CHECK(phase_macs(ops, Phase::BwdData) == fwd);
  CHECK(phase_macs(ops, Phase::BwdWeight) == fwd);
  // The embedding's weight gradient is a scatter, not a GEMM.
  const Op* emb = find_op(ops, g, "embed", Phase::BwdWeight, "embedding_grad");
  REQUIRE(emb);
  CHECK(emb->kind == OpKind::Elementwise);
  CHECK(emb->elements == 20 * 35 * 650);
}

TEST_CASE("attention matmuls repeat over batch x heads and cost twice in backward-data") {
  const Graph g = make_model("transformer-wikitext103");
  const std::int64_t b = 2;
  const auto ops = expand_training_step(g, b);
  const Op* qk = find_op(ops, g, "block0.attn", Phase::Fwd, "attn_qk");
  const Op* av = find_op(ops, g, "block0.attn", Phase::Fwd, "attn_av");
  REQUIRE(qk);
  REQUIRE(av);
  CHECK((qk->m == 512 && qk->n == 512 && qk->k == 512 / 8 && qk->repeat == b * 8));
  CHECK((av->m == 512 && av->n == 512 / 8 && av->k == 512 && av->repeat == b * 8));
  CHECK((qk->lhs_role == Role::A && qk->rhs_role == Role::A));
  std::int64_t fwd = 0, bwd = 0;
  for (const Op& op : ops) {
    if (g.layer(op.layer).name != "block0.attn") continue;
    if (op.phase == Phase::Fwd) fwd += op.macs();
    if (op.phase == Phase::BwdData) bwd += op.macs();
  }
  // dP, dV, dQ, dK: four products the size of QK^T and AV.
  CHECK(bwd == 2 * fwd);
}

TEST_CASE("batch norm, ReLU, pooling and the loss get element-wise ops with their tensors") {
  const Graph g = tiny_cnn();
  const std::int64_t b = 2;
  const auto ops = expand_training_step(g, b);
  const std::int64_t n = b * 4 * 8 * 8;  // bn1 / relu1 outputs
  const Op* bn = find_op(ops, g, "bn1", Phase::Fwd, "bn");
  REQUIRE(bn);
  CHECK(bn->elements == n);
  CHECK(bn->reads == std::vector<TensorAccess>{{Role::A, n}, {Role::W, 2 * 4}});
  CHECK(bn->writes == std::vector<TensorAccess>{{Role::A, n}});
  const Op* relu_bwd = find_op(ops, g, "relu1", Phase::BwdData, "relu");
  REQUIRE(relu_bwd);
  // ReLU backward reads the error and the activation (its mask) and writes the error.
  CHECK(relu_bwd->reads == std::vector<TensorAccess>{{Role::E, n}, {Role::A, n}});
  CHECK(relu_bwd->writes == std::vector<TensorAccess>{{Role::E, n}});
  const Op* bn_grad = find_op(ops, g, "bn1", Phase::BwdWeight, "bn_grad");
  REQUIRE(bn_grad);
  CHECK(bn_grad->writes == std::vector<TensorAccess>{{Role::G, 2 * 4}});
  const Op* pool = find_op(ops, g, "pool", Phase::Fwd, "pool");
  REQUIRE(pool);
  // Global average over 4x4: 15 adds and one multiply per output.
  CHECK((pool->elements == b * 6 && pool->ops_per_element == 4 * 4));
  const Op* loss = find_op(ops, g, "loss", Phase::BwdData, "softmax");
  REQUIRE(loss);
  CHECK(loss->writes == std::vector<TensorAccess>{{Role::E, b * 5}});
}

TEST_CASE("residual fan-out sums the errors of both branches") {
  const Graph g = make_model("resnet20");
  const auto ops = expand_training_step(g, 1);
  // The stem's ReLU feeds the first block's conv and its identity shortcut.
  const Op* sum = find_op(ops, g, "stem.relu", Phase::BwdData, "grad_sum");
  REQUIRE(sum);
  CHECK((sum->elements == 16 * 32 * 32 && sum->ops_per_element == 1));
  CHECK(sum->reads.size() == 2);
}

TEST_CASE("one SGD-with-momentum op per layer with parameters updates W and the momentum") {
  const Graph g = tiny_cnn();
  const auto ops = expand_training_step(g, 8);
  std::map<std::string, const Op*> updates;
  for (const Op& op : ops) {
    if (op.phase == Phase::Update) updates[g.layer(op.layer).name] = &op;
  }
  CHECK(updates.size() == 4);  // conv1, bn1, conv2, fc
  const Op* u = updates.at("conv1");
  const std::int64_t p = 4 * 3 * 3 * 3 + 4;  // does not depend on the batch
  CHECK((u->kind == OpKind::Elementwise && u->label == "sgd" && u->elements == p));
  CHECK(u->reads == std::vector<TensorAccess>{{Role::W, p}, {Role::G, p}, {Role::Opt, p}});
  CHECK(u->writes == std::vector<TensorAccess>{{Role::W, p}, {Role::Opt, p}});
  // The updates come last.
  CHECK(ops.back().phase == Phase::Update);
}

TEST_CASE("ops come in order: forward, then backward last layer first, then updates") {
  const Graph g = tiny_cnn();
  const auto ops = expand_training_step(g, 1);
  int last_phase_group = 0;
  int last_bwd_layer = g.size();
  for (const Op& op : ops) {
    const int group = op.phase == Phase::Fwd ? 0 : op.phase == Phase::Update ? 2 : 1;
    CHECK(group >= last_phase_group);
    last_phase_group = group;
    if (group == 1) {
      CHECK(op.layer <= last_bwd_layer);
      last_bwd_layer = op.layer;
    }
  }
}

TEST_CASE("a batch below 1 is rejected") {
  const Graph g = tiny_cnn();
  CHECK_THROWS_AS(expand_training_step(g, 0), InputError);
  CHECK_THROWS_AS(expand_forward(g, -3), InputError);
}

TEST_CASE("phases have stable names") {
  CHECK(phase_name(Phase::Fwd) == "fwd");
  CHECK(phase_name(Phase::BwdData) == "bwd_data");
  CHECK(phase_name(Phase::BwdWeight) == "bwd_weight");
  CHECK(phase_name(Phase::Update) == "update");
}

// The first convolution of a graph: the layer that takes the Input layer.
int g_first_conv(const Graph& g) {
  for (int i = 0; i < g.size(); ++i)
    if (g.layer(i).kind == LayerKind::Conv2d &&
        g.layer(g.inputs(i).at(0)).kind == LayerKind::Input)
      return i;
  return -1;
}

TEST_CASE("conv GEMMs carry their im2col geometry: fwd and bwd_weight the lhs, bwd_data the output") {
  const auto ops = expand_training_step(tiny_cnn(), 2);
  int convs = 0;
  for (const Op& op : ops) {
    if (op.label != "conv") continue;
    ++convs;
    const Im2col want = op.phase == Phase::Fwd         ? Im2col::Lhs
                        : op.phase == Phase::BwdWeight ? Im2col::LhsTransposed
                                                       : Im2col::Out;
    CHECK(op.im2col == want);
    // conv2: 8x8 input of 4 channels in 2 groups -> 4x4 output, 3x3 stride 2.
    if (op.layer == 4) {
      CHECK(op.conv == ConvWindow{8, 8, 4, 4, 3, 3, 2, 2});
    }
    // Only the first convolution reads the network's input.
    CHECK(op.conv.from_input == (g_first_conv(tiny_cnn()) == op.layer));
  }
  CHECK(convs == 5);  // 2 fwd + 2 bwd_weight + 1 bwd_data (none for the first layer)
}

TEST_CASE("a block of output pixels touches its input rows with the kernel's halo") {
  // 32x32 input and output (3x3, stride 1, 'same'), 16 channels: window = 16 x 9.
  const ConvWindow c{32, 32, 32, 32, 3, 3, 1, 16};
  const double window = 16 * 9;
  // Whole images: the raw maps, 32 x 32 x 16 each (the im2col block is 9x that).
  CHECK(c.input_elements(2 * 32 * 32, window) == 2.0 * 32 * 32 * 16);
  // Two output rows: input rows 2 - 1 + 3 = 4 of 32 columns.
  CHECK(c.input_elements(2 * 32, window) == 4.0 * 32 * 16);
  // Five pixels of one row: 3 input rows x (5 - 1 + 3) columns.
  CHECK(c.input_elements(5, window) == 3.0 * 7 * 16);
  // A third of the window (48 of 144 entries) touches a third of the channels.
  CHECK(c.input_elements(2 * 32 * 32, window / 3) == 2.0 * 32 * 32 * 16 / 3);
  // Never more than the im2col block: a 1x1 pixel block of a strided 1x1 conv.
  const ConvWindow s{32, 32, 16, 16, 1, 1, 2, 8};
  CHECK(s.input_elements(1, 8) == 8.0);
}
