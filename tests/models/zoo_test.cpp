// Tests for models/zoo.h: forward MACs and parameters against published
// figures, dataset facts, and errors for unknown names.
#include "models/zoo.h"

#include <catch2/catch.hpp>

#include "core/error.h"
#include "models/training_step.h"

using namespace lpsim;

namespace {

NetworkStats stats(const std::string& model, const std::string& dataset = "") {
  return network_stats(make_model(model, dataset));
}

// MACs of a k x k convolution with `cin` -> `cout` channels on an `hw` x `hw` output.
constexpr std::int64_t conv_macs(std::int64_t cin, std::int64_t cout, std::int64_t k,
                                 std::int64_t hw) {
  return cin * cout * k * k * hw * hw;
}

// CIFAR ResNet 6n+2 (He et al. 2016, Sec. 4.2) with 1x1 stride-2 projections
// where the shape changes, counted layer by layer.
constexpr std::int64_t cifar_resnet_macs(std::int64_t n, std::int64_t classes) {
  return conv_macs(3, 16, 3, 32)                                              // stem
         + 2 * n * conv_macs(16, 16, 3, 32)                                   // stage 1
         + conv_macs(16, 32, 3, 16) + (2 * n - 1) * conv_macs(32, 32, 3, 16)  // stage 2
         + conv_macs(32, 64, 3, 8) + (2 * n - 1) * conv_macs(64, 64, 3, 8)    // stage 3
         + conv_macs(16, 32, 1, 16) + conv_macs(32, 64, 1, 8)                 // projections
         + 64 * classes;                                                      // classifier
}

}  // namespace

TEST_CASE("ResNet-20 on CIFAR-10 has about 41 MMACs and 0.27M parameters") {
  const auto s = stats("resnet20", "cifar10");
  CHECK(s.forward_macs == cifar_resnet_macs(3, 10));
  // Commonly cited 41 MMACs (e.g. ptflops / akamaster's pytorch_resnet_cifar10
  // table: 40.8M with option-A shortcuts); our projections add 0.26M.
  CHECK(s.forward_macs == Approx(41e6).epsilon(0.02));
  // He et al. 2016, Table 6: ResNet-20 has 0.27M parameters.
  CHECK(s.parameters == Approx(0.27e6).epsilon(0.02));
}

TEST_CASE("ResNet-110 on CIFAR-10 has about 253 MMACs and 1.7M parameters") {
  const auto s = stats("resnet110", "cifar10");
  CHECK(s.forward_macs == cifar_resnet_macs(18, 10));
  // Commonly cited 253 MMACs for CIFAR ResNet-110 (e.g. ptflops, FLOP-pruning papers
  // such as Li et al. 2017 "Pruning filters": 2.53e8 FLOPs counted as multiply-adds).
  CHECK(s.forward_macs == Approx(253e6).epsilon(0.01));
  // He et al. 2016, Table 6: ResNet-110 has 1.7M parameters.
  CHECK(s.parameters == Approx(1.7e6).epsilon(0.03));
}

TEST_CASE(
    "the basic-block ResNets follow 6n+2 and the bottleneck ResNet-164 is about a third cheaper") {
  CHECK(stats("resnet38").forward_macs == cifar_resnet_macs(6, 100));
  CHECK(stats("resnet74").forward_macs == cifar_resnet_macs(12, 100));
  CHECK(stats("resnet164").forward_macs == cifar_resnet_macs(27, 100));
  // REFERENCES.md (CPT): the bottleneck ResNet-164 is ~34% lower than the basic one;
  // He et al. 2016b, Table 2: the bottleneck ResNet-164 has 1.7M parameters.
  const auto basic = stats("resnet164", "cifar10");
  const auto bottleneck = stats("resnet164-bottleneck", "cifar10");
  CHECK(1.0 - static_cast<double>(bottleneck.forward_macs) / basic.forward_macs ==
        Approx(0.34).margin(0.02));
  CHECK(bottleneck.parameters == Approx(1.7e6).epsilon(0.03));
}

TEST_CASE("CPT's ResNet-152 is the basic-block CIFAR ResNet with n = 25") {
  // github RICE-EIC/CPT, cpt_cifar/models.py: cifar100_resnet_152 = ResNet(BasicBlock, [25, 25, 25]).
  CHECK(stats("resnet152").forward_macs == cifar_resnet_macs(25, 100));
}

namespace {

// CPT's CIFAR MobileNetV2 (github RICE-EIC/CPT, cpt_cifar/models.py, Block and
// MobileNetV2), counted block by block: every conv is followed by a batch norm
// (2 parameters a channel); the depthwise conv has groups = its channels.
struct Count {
  std::int64_t macs = 0, params = 0;
};
Count cpt_mobilenet_v2(std::int64_t classes) {
  Count n;
  auto conv = [&n](std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t hw,
                   std::int64_t groups) {
    n.macs += conv_macs(cin / groups, cout, k, hw);
    n.params += cin / groups * cout * k * k + 2 * cout;
  };
  // (expansion, out_planes, num_blocks, stride), CIFAR strides.
  const std::int64_t cfg[7][4] = {{1, 16, 1, 1},  {6, 24, 2, 1},  {6, 32, 3, 2},  {6, 64, 4, 2},
                                  {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
  std::int64_t hw = 32, in = 32;
  conv(3, 32, 3, hw, 1);
  for (const auto& stage : cfg) {
    for (std::int64_t i = 0; i < stage[2]; ++i) {
      const std::int64_t stride = i == 0 ? stage[3] : 1, planes = stage[0] * in;
      conv(in, planes, 1, hw, 1);
      hw /= stride;
      conv(planes, planes, 3, hw, planes);
      conv(planes, stage[1], 1, hw, 1);
      if (stride == 1 && in != stage[1]) conv(in, stage[1], 1, hw, 1);
      in = stage[1];
    }
  }
  conv(320, 1280, 1, hw, 1);
  n.macs += 1280 * classes;
  n.params += 1281 * classes;
  return n;
}

}  // namespace

TEST_CASE("CPT's CIFAR MobileNetV2 counts every block's expansion and its conv shortcuts") {
  for (const char* dataset : {"cifar10", "cifar100"}) {
    INFO(dataset);
    const auto s = stats("mobilenetv2-cpt", dataset);
    const Count expected = cpt_mobilenet_v2(dataset == std::string("cifar10") ? 10 : 100);
    CHECK(s.forward_macs == expected.macs);
    CHECK(s.parameters == expected.params);
    // Against the Sandler / torchvision layout of `mobilenetv2`: the t = 1 block's
    // 32 -> 32 expansion at 32x32, and 1x1 shortcuts 32->16 and 16->24 (32x32),
    // 64->96 (8x8), 160->320 (4x4).
    const auto plain = stats("mobilenetv2", dataset);
    CHECK(s.forward_macs - plain.forward_macs ==
          conv_macs(32, 32, 1, 32) + conv_macs(32, 16, 1, 32) + conv_macs(16, 24, 1, 32) +
              conv_macs(64, 96, 1, 8) + conv_macs(160, 320, 1, 4));
    CHECK(s.parameters - plain.parameters ==
          (32 * 32 + 64) + (32 * 16 + 32) + (16 * 24 + 48) + (64 * 96 + 192) + (160 * 320 + 640));
  }
  CHECK_THROWS_AS(make_model("mobilenetv2-cpt", "imagenet"), InputError);
}

TEST_CASE("ResNet-18 on ImageNet has about 1.8 GMACs and 11.7M parameters") {
  const auto s = stats("resnet18");
  // He et al. 2016, Table 1: 1.8e9 FLOPs (multiply-adds) for ResNet-18.
  CHECK(s.forward_macs == Approx(1.8e9).epsilon(0.02));
  // torchvision's resnet18: 11,689,512 parameters (same layers, fc with bias).
  CHECK(s.parameters == 11689512);
}

TEST_CASE("AlexNet on ImageNet has about 0.71 GMACs and 61.1M parameters") {
  const auto s = stats("alexnet");
  // Layer-by-layer: conv1 55x55, conv2 27x27, conv3-5 13x13, fc 9216-4096-4096-1000.
  const std::int64_t expected = conv_macs(3, 64, 11, 55) + conv_macs(64, 192, 5, 27) +
                                conv_macs(192, 384, 3, 13) + conv_macs(384, 256, 3, 13) +
                                conv_macs(256, 256, 3, 13) + 9216 * 4096 + 4096 * 4096 +
                                4096 * 1000;
  CHECK(s.forward_macs == expected);
  // ~714 MMACs as counted by common profilers (ptflops: 0.71 GMac for torchvision AlexNet).
  CHECK(s.forward_macs == Approx(714e6).epsilon(0.01));
  // torchvision's alexnet: 61,100,840 parameters.
  CHECK(s.parameters == 61100840);
}

TEST_CASE("MobileNetV2 has the paper's 300M MACs on ImageNet and fewer weights with a CIFAR head") {
  const auto imagenet = stats("mobilenetv2", "imagenet");
  // Sandler et al. 2018, Table 4: MobileNetV2 (1.0, 224) has 300M multiply-adds, 3.4M parameters;
  // torchvision's mobilenet_v2 has exactly 3,504,872 parameters.
  CHECK(imagenet.forward_macs == Approx(300e6).epsilon(0.01));
  CHECK(imagenet.parameters == 3504872);
  // The CIFAR variant has the same layers with a 1280 x 10 classifier.
  const auto cifar = stats("mobilenetv2", "cifar10");
  CHECK(cifar.parameters == 3504872 - 1281 * 1000 + 1281 * 10);
}

TEST_CASE("the Fashion-MNIST networks count their layers' MACs exactly") {
  // LeNet-5 with padding 2: conv1 28x28x6 of 5x5x1, conv2 10x10x16 of 5x5x6, fc 400-120-84-10.
  CHECK(stats("lenet5").forward_macs ==
        conv_macs(1, 6, 5, 28) + conv_macs(6, 16, 5, 10) + 400 * 120 + 120 * 84 + 84 * 10);
  CHECK(stats("lenet5").parameters ==
        (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10));
  CHECK(stats("mlp").forward_macs == 784 * 256 + 256 * 128 + 128 * 10);
  // ResNet-8 (n = 1) at widths 8-16-32 on 28x28: stem, one basic block per stage
  // (28x28, 14x14, 7x7), 1x1 projections where the width doubles, fc 32-10.
  CHECK(stats("resnet8-w8").forward_macs ==
        conv_macs(1, 8, 3, 28) + 2 * conv_macs(8, 8, 3, 28) +
            conv_macs(8, 16, 3, 14) + conv_macs(16, 16, 3, 14) + conv_macs(8, 16, 1, 14) +
            conv_macs(16, 32, 3, 7) + conv_macs(32, 32, 3, 7) + conv_macs(16, 32, 1, 7) + 32 * 10);
  // Convs without bias; each BN has a scale and a shift per channel.
  CHECK(stats("resnet8-w8").parameters ==
        (9 * 8 + 2 * 8) + 2 * (8 * 8 * 9 + 2 * 8) + (8 * 16 * 9 + 16 * 16 * 9 + 8 * 16 + 3 * 2 * 16) +
            (16 * 32 * 9 + 32 * 32 * 9 + 16 * 32 + 3 * 2 * 32) + (32 * 10 + 10));
}

TEST_CASE("the PTB LSTM has Zaremba's medium size: about 20M parameters") {
  const auto s = stats("lstm-ptb");
  // Embedding 10000x650, two LSTM layers 4H(F+H)+8H, decoder 650x10000 + bias.
  const std::int64_t lstm = 4 * 650 * (650 + 650) + 8 * 650;
  CHECK(s.parameters == 10000 * 650 + 2 * lstm + 650 * 10000 + 10000);
  // Per token: each LSTM layer 4H(F+H) MACs, decoder 650 x 10000; 35 tokens a sample.
  CHECK(s.forward_macs == 35 * (2 * 4 * 650 * 1300 + 650 * 10000));
}

TEST_CASE("the Transformer LM counts projections, attention matmuls and the output layer") {
  const auto s = stats("transformer-wikitext103");
  constexpr std::int64_t t = 512, d = 512, dff = 2048, vocab = 267735;
  // Per block: Q, K, V and output projections (4 T d^2), feed-forward (2 T d dff),
  // QK^T and AV (2 T^2 d); then the output layer T d V.
  const std::int64_t block = 4 * t * d * d + 2 * t * d * dff + 2 * t * t * d;
  CHECK(s.forward_macs == 6 * block + t * d * vocab);
}

TEST_CASE("datasets carry their published sizes") {
  CHECK(dataset_info("cifar100").train_samples == 50000);
  CHECK(dataset_info("cifar100").classes == 100);
  CHECK(dataset_info("imagenet").train_samples == 1281167);
  CHECK(dataset_info("fashion-mnist").input_shape == std::vector<std::int64_t>{1, 28, 28});
  // PTB: 929,589 training tokens in sequences of 35 (each target the next token).
  CHECK(dataset_info("ptb").train_samples == (929589 - 1) / 35);
  CHECK(dataset_info("wikitext103").classes == 267735);
}

TEST_CASE("every zoo entry builds on its default dataset with a softmax at the end") {
  for (const auto& e : zoo()) {
    const Graph g = make_model(e.name);
    CHECK(g.layer(g.size() - 1).kind == LayerKind::Softmax);
    CHECK(model_accepts(e.name, e.dataset));
  }
}

TEST_CASE("the class count comes from the dataset") {
  const Graph g = make_model("resnet20", "cifar100");
  CHECK(g.layer(g.size() - 1).out_shape == Shape{{100}});
}

TEST_CASE("unknown models and datasets and misfitting datasets are rejected with the known names") {
  CHECK_THROWS_WITH(make_model("resnet21"),
                    Catch::Contains("unknown model 'resnet21'") && Catch::Contains("resnet20"));
  CHECK_THROWS_WITH(make_model("resnet20", "mnist"),
                    Catch::Contains("unknown dataset 'mnist'") && Catch::Contains("cifar10"));
  CHECK_THROWS_WITH(
      make_model("resnet20", "imagenet"),
      Catch::Contains("does not take dataset 'imagenet'") && Catch::Contains("cifar10, cifar100"));
  CHECK_THROWS_AS(make_model("lenet5", "ptb"), InputError);
}
