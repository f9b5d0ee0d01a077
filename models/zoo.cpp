// The model zoo: the seed papers' networks with their exact configurations
// (docs/models.md lists each with its forward MACs and parameters).
#include "models/zoo.h"

#include <array>
#include <functional>

#include "core/error.h"
#include "models/impl/builder.h"

namespace lpsim {

namespace {

using impl::Builder;

// Datasets. Language-model datasets: one sample is a sequence of T tokens
// (T = the input shape), samples = floor((tokens - 1) / T) because each target
// is the next token; "classes" is the vocabulary size.
const std::vector<DatasetInfo>& datasets() {
  static const std::vector<DatasetInfo> kDatasets = {
      // Krizhevsky 2009: 50,000 training and 10,000 test images, 32x32 RGB.
      {"cifar10", 50000, 10000, {3, 32, 32}, 10},
      {"cifar100", 50000, 10000, {3, 32, 32}, 100},
      // ILSVRC-2012: 1,281,167 training images, 50,000 validation images (used as test).
      {"imagenet", 1281167, 50000, {3, 224, 224}, 1000},
      // Xiao et al. 2017: 60,000 training and 10,000 test images, 28x28 grey.
      {"fashion-mnist", 60000, 10000, {1, 28, 28}, 10},
      // Mikolov's PTB: 929,589 / 82,430 tokens (train / test), 10,000 words;
      // T = 35 as Zaremba et al. 2014.
      {"ptb", (929589 - 1) / 35, (82430 - 1) / 35, {35}, 10000},
      // Merity et al. 2016: 103,227,021 / 245,569 tokens, 267,735 words; T = 512.
      {"wikitext103", (103227021 - 1) / 512, (245569 - 1) / 512, {512}, 267735},
  };
  return kDatasets;
}

std::string joined_dataset_names() {
  std::string out;
  for (const auto& d : datasets()) out += (out.empty() ? "" : ", ") + d.name;
  return out;
}

// ---------------------------------------------------------------- CIFAR ResNets
// He et al. 2016 (CVPR), Sec. 4.2: 3x3 conv 16, then three stages of n blocks
// at 16/32/64 channels (32x32, 16x16, 8x8), global average pool, classifier.
// Shortcuts are identities except where the shape changes: there a 1x1
// stride-2 conv + batch norm (He et al.'s option B) instead of option A's
// zero padding. Basic block: 3x3-3x3, depth 6n+2. Bottleneck block
// (He et al. 2016b, ECCV): 1x1 w - 3x3 w - 1x1 4w, depth 9n+2. `base` is the
// first stage's width (He et al.: 16); the trainer's resnet8-w8 halves it.
Graph cifar_resnet(const std::string& name, const DatasetInfo& data, int n, bool bottleneck,
                   std::int64_t base = 16) {
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.conv_bn("stem", x, base, 3, 1, 1, "relu");
  std::int64_t in_channels = base;
  const std::int64_t widths[3] = {base, 2 * base, 4 * base};
  for (int s = 0; s < 3; ++s) {
    const std::int64_t w = widths[s];
    const std::int64_t out_channels = bottleneck ? 4 * w : w;
    for (int i = 0; i < n; ++i) {
      const std::string p = "stage" + std::to_string(s + 1) + ".block" + std::to_string(i);
      const std::int64_t stride = (s > 0 && i == 0) ? 2 : 1;
      int y = x;
      if (bottleneck) {
        y = b.conv_bn(p + ".a", y, w, 1, 1, 0, "relu");
        y = b.conv_bn(p + ".b", y, w, 3, stride, 1, "relu");
        y = b.conv_bn(p + ".c", y, out_channels, 1, 1, 0, "");
      } else {
        y = b.conv_bn(p + ".a", y, w, 3, stride, 1, "relu");
        y = b.conv_bn(p + ".b", y, w, 3, 1, 1, "");
      }
      int shortcut = x;
      if (stride != 1 || in_channels != out_channels) {
        shortcut = b.conv_bn(p + ".proj", x, out_channels, 1, stride, 0, "");
      }
      x = b.add(p + ".add", {y, shortcut});
      x = b.act(p + ".relu", x);
      in_channels = out_channels;
    }
  }
  x = b.global_avg_pool("pool", x);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// ------------------------------------------------------------------ MobileNetV2
// Sandler et al. 2018, Table 2: conv 3x3 32 s2; bottlenecks (t, c, n, s) =
// (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1);
// conv 1x1 1280; global average pool; classifier. ReLU6; residual add only
// where stride 1 and input channels = output channels; no expansion conv when
// t = 1 (as torchvision). CIFAR variant (32x32, as kuangliu/pytorch-cifar):
// the first conv and the 24-channel stage use stride 1.
struct MobileNetStage {
  std::int64_t t, c, n, s;  // expansion, output channels, blocks, first block's stride
};
std::array<MobileNetStage, 7> mobilenet_v2_stages(bool cifar) {
  return {{{1, 16, 1, 1},
           {6, 24, 2, cifar ? 1 : 2},
           {6, 32, 3, 2},
           {6, 64, 4, 2},
           {6, 96, 3, 1},
           {6, 160, 3, 2},
           {6, 320, 1, 1}}};
}

Graph mobilenet_v2(const std::string& name, const DatasetInfo& data) {
  const bool cifar = data.input_shape[1] == 32;
  const auto stages = mobilenet_v2_stages(cifar);
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.conv_bn("stem", x, 32, 3, cifar ? 1 : 2, 1, "relu6");
  std::int64_t in_channels = 32;
  for (std::size_t s = 0; s < stages.size(); ++s) {
    for (std::int64_t i = 0; i < stages[s].n; ++i) {
      const std::string p = "stage" + std::to_string(s + 1) + ".block" + std::to_string(i);
      const std::int64_t stride = i == 0 ? stages[s].s : 1;
      const std::int64_t hidden = in_channels * stages[s].t;
      int y = x;
      if (stages[s].t != 1) y = b.conv_bn(p + ".expand", y, hidden, 1, 1, 0, "relu6");
      y = b.conv_bn(p + ".dw", y, hidden, 3, stride, 1, "relu6", hidden);
      y = b.conv_bn(p + ".project", y, stages[s].c, 1, 1, 0, "");
      if (stride == 1 && in_channels == stages[s].c) y = b.add(p + ".add", {y, x});
      x = y;
      in_channels = stages[s].c;
    }
  }
  x = b.conv_bn("head", x, 1280, 1, 1, 0, "relu6");
  x = b.global_avg_pool("pool", x);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// CPT's CIFAR MobileNetV2 (Fu et al. 2021; github RICE-EIC/CPT, cpt_cifar/models.py,
// classes Block and MobileNetV2, taken from kuangliu/pytorch-cifar): the stages
// above with the CIFAR strides, but every block has its 1x1 expansion conv (also
// at t = 1: 32 -> 32), a stride-1 block whose channels change adds a 1x1 conv +
// BN shortcut (Block.shortcut / bn4), and the activation is ReLU. conv 1x1 1280
// + BN + ReLU, 4x4 average pool (global at 32x32), classifier.
Graph mobilenet_v2_cpt(const std::string& name, const DatasetInfo& data) {
  const auto stages = mobilenet_v2_stages(true);
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.conv_bn("stem", x, 32, 3, 1, 1, "relu");
  std::int64_t in_channels = 32;
  for (std::size_t s = 0; s < stages.size(); ++s) {
    for (std::int64_t i = 0; i < stages[s].n; ++i) {
      const std::string p = "stage" + std::to_string(s + 1) + ".block" + std::to_string(i);
      const std::int64_t stride = i == 0 ? stages[s].s : 1;
      const std::int64_t hidden = in_channels * stages[s].t;
      int y = b.conv_bn(p + ".expand", x, hidden, 1, 1, 0, "relu");
      y = b.conv_bn(p + ".dw", y, hidden, 3, stride, 1, "relu", hidden);
      y = b.conv_bn(p + ".project", y, stages[s].c, 1, 1, 0, "");
      if (stride == 1) {
        const int shortcut = in_channels == stages[s].c
                                 ? x
                                 : b.conv_bn(p + ".shortcut", x, stages[s].c, 1, 1, 0, "");
        y = b.add(p + ".add", {y, shortcut});
      }
      x = y;
      in_channels = stages[s].c;
    }
  }
  x = b.conv_bn("head", x, 1280, 1, 1, 0, "relu");
  x = b.global_avg_pool("pool", x);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// ---------------------------------------------------------------------- AlexNet
// torchvision's AlexNet (the one-GPU variant of Krizhevsky 2014, "One weird
// trick"): 64-192-384-256-256 conv channels, 4096-4096 classifier, biases;
// at 224x224 the adaptive 6x6 average pool is the identity and is left out.
Graph alexnet(const std::string& name, const DatasetInfo& data) {
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.act("conv1.relu", b.conv("conv1", x, 64, 11, 4, 2, 1, true));
  x = b.max_pool("pool1", x, 3, 2);
  x = b.act("conv2.relu", b.conv("conv2", x, 192, 5, 1, 2, 1, true));
  x = b.max_pool("pool2", x, 3, 2);
  x = b.act("conv3.relu", b.conv("conv3", x, 384, 3, 1, 1, 1, true));
  x = b.act("conv4.relu", b.conv("conv4", x, 256, 3, 1, 1, 1, true));
  x = b.act("conv5.relu", b.conv("conv5", x, 256, 3, 1, 1, 1, true));
  x = b.max_pool("pool5", x, 3, 2);
  x = b.flatten("flatten", x);
  x = b.act("fc6.relu", b.linear("fc6", x, 4096));
  x = b.act("fc7.relu", b.linear("fc7", x, 4096));
  x = b.linear("fc8", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// -------------------------------------------------------------------- ResNet-18
// He et al. 2016, Table 1: 7x7 64 s2, 3x3 max pool s2, four stages of two
// basic blocks (64/128/256/512), projection shortcuts (1x1 conv + BN) where the
// shape changes, global average pool, fc 1000 (with bias, as torchvision).
Graph resnet18(const std::string& name, const DatasetInfo& data) {
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.conv_bn("stem", x, 64, 7, 2, 3, "relu");
  x = b.max_pool("stem.pool", x, 3, 2, 1);
  std::int64_t in_channels = 64;
  const std::int64_t widths[4] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    for (int i = 0; i < 2; ++i) {
      const std::string p = "stage" + std::to_string(s + 1) + ".block" + std::to_string(i);
      const std::int64_t stride = (s > 0 && i == 0) ? 2 : 1;
      int y = b.conv_bn(p + ".a", x, widths[s], 3, stride, 1, "relu");
      y = b.conv_bn(p + ".b", y, widths[s], 3, 1, 1, "");
      int shortcut = x;
      if (stride != 1 || in_channels != widths[s]) {
        shortcut = b.conv_bn(p + ".proj", x, widths[s], 1, stride, 0, "");
      }
      x = b.act(p + ".relu", b.add(p + ".add", {y, shortcut}));
      in_channels = widths[s];
    }
  }
  x = b.global_avg_pool("pool", x);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// ----------------------------------------------------------- Fashion-MNIST nets
// LeNet-5 layout (LeCun et al. 1998) with ReLU and max pooling instead of
// tanh and subsampling, and padding 2 on the first conv so 28x28 inputs give
// LeNet's 28x28 C1 maps: conv5x5 6 - pool 2 - conv5x5 16 - pool 2 - fc 120 -
// fc 84 - fc classes, all with biases.
Graph lenet5(const std::string& name, const DatasetInfo& data) {
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.act("conv1.relu", b.conv("conv1", x, 6, 5, 1, 2, 1, true));
  x = b.max_pool("pool1", x, 2, 2);
  x = b.act("conv2.relu", b.conv("conv2", x, 16, 5, 1, 0, 1, true));
  x = b.max_pool("pool2", x, 2, 2);
  x = b.flatten("flatten", x);
  x = b.act("fc1.relu", b.linear("fc1", x, 120));
  x = b.act("fc2.relu", b.linear("fc2", x, 84));
  x = b.linear("fc3", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// A two-hidden-layer perceptron: 784 - 256 - 128 - classes, ReLU, biases.
Graph mlp(const std::string& name, const DatasetInfo& data) {
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.flatten("flatten", x);
  x = b.act("fc1.relu", b.linear("fc1", x, 256));
  x = b.act("fc2.relu", b.linear("fc2", x, 128));
  x = b.linear("fc3", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// ------------------------------------------------------------- language models
// Zaremba et al. 2014, "medium": embedding 650, two LSTM layers of 650, a
// linear decoder to the vocabulary (untied), T = the dataset's sequence length.
// Dropout costs nothing here and is left out.
Graph lstm_lm(const std::string& name, const DatasetInfo& data) {
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.embedding("embed", x, data.classes, 650);
  x = b.lstm("lstm1", x, 650);
  x = b.lstm("lstm2", x, 650);
  x = b.linear("decoder", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// A decoder-only Transformer LM with Vaswani et al. 2017's base sizes: 6 blocks,
// d_model 512, 8 heads, d_ff 2048, ReLU, post-layer-norm residual blocks,
// separate Q/K/V/output projections with biases; token embedding and output
// layer untied, full softmax over the vocabulary. Sinusoidal positions (no
// parameters; their T x d adds are not modelled). The causal mask does not
// change the matmul sizes: QK^T and AV are computed in full.
Graph transformer_lm(const std::string& name, const DatasetInfo& data) {
  constexpr std::int64_t kDModel = 512, kHeads = 8, kDff = 2048, kBlocks = 6;
  Builder b(name);
  int x = b.input("input", data.input_shape);
  x = b.embedding("embed", x, data.classes, kDModel);
  for (std::int64_t i = 0; i < kBlocks; ++i) {
    const std::string p = "block" + std::to_string(i);
    const int q = b.linear(p + ".q", x, kDModel);
    const int k = b.linear(p + ".k", x, kDModel);
    const int v = b.linear(p + ".v", x, kDModel);
    int y = b.attention(p + ".attn", q, k, v, kHeads);
    y = b.linear(p + ".out", y, kDModel);
    x = b.layer_norm(p + ".ln1", b.add(p + ".add1", {x, y}));
    y = b.act(p + ".ff.relu", b.linear(p + ".ff1", x, kDff));
    y = b.linear(p + ".ff2", y, kDModel);
    x = b.layer_norm(p + ".ln2", b.add(p + ".add2", {x, y}));
  }
  x = b.linear("decoder", x, data.classes);
  b.softmax("loss", x);
  return b.finish();
}

// ------------------------------------------------------------------- registry
struct ZooModel {
  ZooEntry entry;
  std::vector<std::vector<std::int64_t>> input_shapes;  // empty: any token sequence [T]
  std::function<Graph(const std::string&, const DatasetInfo&)> build;
};

const std::vector<std::int64_t> kCifar = {3, 32, 32};
const std::vector<std::int64_t> kImageNet = {3, 224, 224};
const std::vector<std::int64_t> kMnist = {1, 28, 28};

std::function<Graph(const std::string&, const DatasetInfo&)> resnet(int n, bool bottleneck,
                                                                   std::int64_t base = 16) {
  return [n, bottleneck, base](const std::string& name, const DatasetInfo& d) {
    return cifar_resnet(name, d, n, bottleneck, base);
  };
}

const std::vector<ZooModel>& models() {
  static const std::vector<ZooModel> kModels = {
      {{"resnet20", "cifar10", "CIFAR ResNet-20, basic blocks, n=3 (He et al. 2016)"},
       {kCifar},
       resnet(3, false)},
      {{"resnet38", "cifar100", "CIFAR ResNet-38, basic blocks, n=6 (as CPT, Fu et al. 2021)"},
       {kCifar},
       resnet(6, false)},
      {{"resnet74", "cifar100", "CIFAR ResNet-74, basic blocks, n=12 (as CPT, Fu et al. 2021)"},
       {kCifar},
       resnet(12, false)},
      {{"resnet110", "cifar10", "CIFAR ResNet-110, basic blocks, n=18 (He et al. 2016)"},
       {kCifar},
       resnet(18, false)},
      {{"resnet152", "cifar100", "CIFAR ResNet-152, basic blocks, n=25 (as CPT, Fu et al. 2021)"},
       {kCifar},
       resnet(25, false)},
      {{"resnet164", "cifar100",
        "CIFAR ResNet-164, basic blocks, n=27 (6n+2, as CPT's code names it)"},
       {kCifar},
       resnet(27, false)},
      {{"resnet164-bottleneck", "cifar100",
        "CIFAR ResNet-164, bottleneck blocks, n=18 (9n+2, He et al. 2016b)"},
       {kCifar},
       resnet(18, true)},
      {{"mobilenetv2", "cifar10",
        "MobileNetV2 (Sandler et al. 2018); CIFAR: stride 1 in the first conv and 24-ch stage"},
       {kCifar, kImageNet},
       mobilenet_v2},
      {{"mobilenetv2-cpt", "cifar100",
        "MobileNetV2 as CPT's CIFAR code builds it: expansion conv in every block, 1x1 conv "
        "shortcuts where a stride-1 block changes width"},
       {kCifar},
       mobilenet_v2_cpt},
      {{"alexnet", "imagenet", "AlexNet as torchvision (Krizhevsky 2014 one-GPU variant)"},
       {kImageNet},
       alexnet},
      {{"resnet18", "imagenet", "ResNet-18 (He et al. 2016, Table 1)"}, {kImageNet}, resnet18},
      {{"lenet5", "fashion-mnist", "LeNet-5 layout, ReLU + max pool, 6-16-120-84 (LeCun 1998)"},
       {kMnist},
       lenet5},
      {{"mlp", "fashion-mnist", "MLP 784-256-128-classes, ReLU"}, {kMnist}, mlp},
      {{"resnet8-w8", "fashion-mnist",
        "CIFAR-style ResNet-8 (n=1) at half width, 8-16-32 channels, BN (for the trainer)"},
       {kMnist, kCifar},
       resnet(1, false, 8)},
      {{"lstm-ptb", "ptb", "2-layer LSTM LM, 650 embedding/hidden (Zaremba et al. 2014 medium)"},
       {},
       lstm_lm},
      {{"transformer-wikitext103", "wikitext103",
        "Transformer LM, 6 blocks, d=512, 8 heads, d_ff=2048 (Vaswani et al. 2017 base)"},
       {},
       transformer_lm},
  };
  return kModels;
}

std::string shape_text(const std::vector<std::int64_t>& dims) { return to_string(Shape{dims}); }

}  // namespace

const std::vector<ZooEntry>& zoo() {
  static const std::vector<ZooEntry> kEntries = [] {
    std::vector<ZooEntry> out;
    for (const auto& m : models()) out.push_back(m.entry);
    return out;
  }();
  return kEntries;
}

const DatasetInfo& dataset_info(const std::string& name) {
  for (const auto& d : datasets()) {
    if (d.name == name) return d;
  }
  throw InputError("unknown dataset '" + name + "'; known: " + joined_dataset_names());
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> out;
  for (const auto& d : datasets()) out.push_back(d.name);
  return out;
}

bool model_accepts(const std::string& model, const std::string& dataset) {
  for (const auto& m : models()) {
    if (m.entry.name != model) continue;
    const DatasetInfo& d = dataset_info(dataset);
    if (m.input_shapes.empty()) return d.input_shape.size() == 1;
    for (const auto& s : m.input_shapes) {
      if (s == d.input_shape) return true;
    }
    return false;
  }
  return false;
}

Graph make_model(const std::string& name, const std::string& dataset) {
  const ZooModel* model = nullptr;
  for (const auto& m : models()) {
    if (m.entry.name == name) model = &m;
  }
  if (!model) {
    std::string known;
    for (const auto& m : models()) known += (known.empty() ? "" : ", ") + m.entry.name;
    throw InputError("unknown model '" + name + "'; known: " + known);
  }
  const std::string data_name = dataset.empty() ? model->entry.dataset : dataset;
  const DatasetInfo& data = dataset_info(data_name);
  if (!model_accepts(name, data_name)) {
    std::string fits;
    for (const auto& d : datasets()) {
      if (model_accepts(name, d.name)) fits += (fits.empty() ? "" : ", ") + d.name;
    }
    throw InputError("model '" + name + "' does not take dataset '" + data_name + "' (input " +
                     shape_text(data.input_shape) + "); datasets that fit: " + fits);
  }
  return model->build(name, data);
}

}  // namespace lpsim
