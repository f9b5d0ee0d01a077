// Tests for traces/intervals.h: where the walk cuts a trace, from the trace
// format's own formulas (docs/trace-format.md).
#include "traces/intervals.h"

#include <catch2/catch.hpp>

#include "core/error.h"
#include "models/zoo.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace {

PrecisionSet fw_bw(int fw, int bw) {
  return PrecisionSet::fw_bw(Format::integer(fw), Format::integer(bw));
}

Segment segment(std::int64_t begin, std::int64_t end, PrecisionSet p, std::string layer = "") {
  Segment s;
  s.begin = begin;
  s.end = end;
  s.layer = std::move(layer);
  s.precision = p;
  return s;
}

// 10 samples in batches of 4: ipe = ceil(10 / 4) = 3 iterations per epoch of
// 4, 4 and 10 - (3 - 1) x 4 = 2 images. 3 epochs, stopped after 8 iterations
// (inside the last epoch: 8 is in (3 - 1) x 3 + 1 .. 3 x 3).
Trace short_run() {
  Trace t;
  t.header.producer = "test";
  t.header.model = "resnet20";
  t.header.dataset = "cifar10";
  t.header.samples_per_epoch = 10;
  t.header.batch = 4;
  t.header.epochs = 3;
  t.header.total_iterations = 8;
  t.header.schedule = "test";
  t.segments = {segment(0, 2, fw_bw(3, 8)), segment(2, 5, fw_bw(8, 8)), segment(5, 8, fw_bw(4, 8)),
                segment(1, 4, PrecisionSet{}, "fc")};
  return t;
}

struct Expected {
  std::int64_t begin, end, epoch, batch;
  int fw;
  bool fc_override;
};

}  // namespace

TEST_CASE("the walk cuts at segment ends, epoch starts and each epoch's short last batch") {
  const Trace t = short_run();
  const Graph g = make_model("resnet20", "cifar10");
  const int fc = g.find("fc");
  REQUIRE(fc >= 0);
  const TraceIntervals walk(t, g, "test");
  // Segment ends 0, 1, 2, 4, 5, 8; epoch starts 0, 3, 6; last iterations of
  // an epoch (t mod 3 = 2) 2, 5 (8 is the run's end, not an iteration).
  CHECK(walk.cuts() == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 8});
  const std::vector<Expected> expected = {
      {0, 1, 0, 4, 3, false},  // before the fc segment
      {1, 2, 0, 4, 3, true},   //
      {2, 3, 0, 2, 8, true},   // epoch 0's last batch: 2 images
      {3, 4, 1, 4, 8, true},   // epoch 1 begins; fc's segment ends at 4
      {4, 5, 1, 4, 8, false},  //
      {5, 6, 1, 2, 4, false},  // epoch 1's last batch
      {6, 8, 2, 4, 4, false},  // the run stops before epoch 2's last batch
  };
  std::size_t i = 0;
  std::int64_t images = 0;
  walk.for_each([&](const TraceInterval& iv) {
    REQUIRE(i < expected.size());
    const Expected& e = expected[i++];
    INFO("interval [" << iv.begin << ", " << iv.end << ")");
    CHECK(iv.begin == e.begin);
    CHECK(iv.end == e.end);
    CHECK(iv.epoch == e.epoch);
    CHECK(iv.batch == e.batch);
    CHECK(iv.images == e.batch * (e.end - e.begin));
    CHECK(*iv.precision == fw_bw(e.fw, 8));
    if (e.fc_override) {
      REQUIRE(iv.overrides.size() == 1);
      CHECK(iv.overrides[0].first == fc);
      CHECK(iv.overrides[0].second == PrecisionSet{});
    } else {
      CHECK(iv.overrides.empty());
    }
    images += iv.images;
  });
  CHECK(i == expected.size());
  // Two whole epochs of 10 images, then two full batches.
  CHECK(images == 2 * 10 + 2 * 4);
  CHECK(images == t.header.images_in(0, t.header.total_iterations));
}

TEST_CASE("the walk refuses a per-layer segment naming a layer the network lacks") {
  Trace t = short_run();
  t.segments.back().layer = "conv9";
  t.source = "run.lpt";
  CHECK_THROWS_WITH(TraceIntervals(t, make_model("resnet20", "cifar10"), "test"),
                    "run.lpt: segment [1, 4) names layer 'conv9': the model 'resnet20' has no "
                    "such layer");
}

TEST_CASE("the walk checks the trace first, naming the caller") {
  Trace t = short_run();
  t.segments[1].begin = 3;  // a gap at iteration 2
  CHECK_THROWS_WITH(TraceIntervals(t, make_model("resnet20", "cifar10"), "walk"),
                    Contains("walk: segments[1]") && Contains("gap"));
}
