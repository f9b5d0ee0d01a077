// Tests for traces/synth.h: the schedule evaluated at every iteration, run-length encoded.
#include "traces/synth.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "core/error.h"
#include "temp_dir.h"
#include "traces/schedule.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace {

SynthOptions options(std::string model, std::string dataset, std::int64_t epochs,
                     std::string schedule) {
  SynthOptions o;
  o.model = std::move(model);
  o.dataset = std::move(dataset);
  o.epochs = epochs;
  o.batch = 128;
  o.schedule = std::move(schedule);
  return o;
}

}  // namespace

TEST_CASE("the synthesizer fills the header from the model, the dataset and the options") {
  Trace t = synthesize(options("resnet74", "cifar100", 160, "static:8/8"));
  const TraceHeader& h = t.header;
  CHECK(h.format_version == kTraceFormatVersion);
  CHECK(h.producer == "lpsim-synth 0.1.0");
  CHECK(h.model == "resnet74");
  CHECK(h.dataset == "cifar100");
  CHECK(h.samples_per_epoch == 50000);  // CIFAR-100 training set
  CHECK(h.batch == 128);
  CHECK(h.epochs == 160);
  CHECK(h.iterations_per_epoch() == 391);  // ceil(50000 / 128)
  CHECK(h.total_iterations == 160 * 391);
  CHECK(h.schedule == "static:8/8");
  REQUIRE(t.segments.size() == 1);
  CHECK(t.segments[0].begin == 0);
  CHECK(t.segments[0].end == 160 * 391);
  CHECK(t.metrics.empty());
  // The model's own dataset when none is given.
  CHECK(synthesize(options("resnet20", "", 1, "static:8/8")).header.dataset == "cifar10");
}

TEST_CASE("a total iteration count overrides epochs, which become its ceiling in epochs") {
  SynthOptions o = options("resnet74", "cifar100", 1, "cyclic:3-8/8");
  o.iterations = 64000;  // CPT's CIFAR runs
  Trace t = synthesize(o);
  CHECK(t.header.total_iterations == 64000);
  CHECK(t.header.epochs == (64000 + 390) / 391);
  CHECK(t.segments.back().end == 64000);
}

TEST_CASE("synthesized segments are the schedule at every iteration, run-length encoded") {
  Trace t = synthesize(options("resnet20", "cifar10", 3, "cyclic:3-8/8,cycles=5"));
  auto s = parse_schedule("cyclic:3-8/8,cycles=5");
  ScheduleContext ctx;
  ctx.total_iterations = t.header.total_iterations;
  ctx.iterations_per_epoch = t.header.iterations_per_epoch();
  std::int64_t expected_begin = 0;
  for (std::size_t i = 0; i < t.segments.size(); ++i) {
    const Segment& seg = t.segments[i];
    CHECK(seg.begin == expected_begin);
    CHECK(seg.layer.empty());
    for (std::int64_t it = seg.begin; it < seg.end; ++it) {
      ctx.iteration = it;
      if (s->at(ctx) != seg.precision) FAIL("iteration " << it << " differs from its segment");
    }
    if (i > 0) CHECK(t.segments[i - 1].precision != seg.precision);  // maximal runs
    expected_begin = seg.end;
  }
  CHECK(expected_begin == t.header.total_iterations);
  // Period int(1173 / 5) = 234 (CPT's code): 5 periods of 6 runs (3..8 bits),
  // and the 3 iterations left over start a sixth period at 3 bits.
  CHECK(t.header.total_iterations == 3 * 391);
  CHECK(t.segments.size() == 5 * 6 + 1);
  CHECK(t.segments.back().end - t.segments.back().begin == 3 * 391 - 5 * 234);
}

TEST_CASE("the synthesizer reproduces the hand-computed sample trace") {
  // tests/data/traces/resnet20_cyclic.lpt was computed outside lpsim from
  // CPT's formula (rint, period = int(782 / 4)).
  Trace sample = read_trace(LPSIM_TEST_DATA "/traces/resnet20_cyclic.lpt");
  Trace t = synthesize(options("resnet20", "cifar10", 2, sample.header.schedule));
  REQUIRE(t.segments.size() == sample.segments.size());
  for (std::size_t i = 0; i < t.segments.size(); ++i) {
    CHECK(t.segments[i].begin == sample.segments[i].begin);
    CHECK(t.segments[i].end == sample.segments[i].end);
    CHECK(t.segments[i].precision == sample.segments[i].precision);
  }
}

TEST_CASE("a file schedule's per-layer precisions become per-layer segments") {
  test::TempDir dir;
  auto path = dir.write("s.yaml",
                        "segments:\n  - {from_epoch: 0, fw: 4, bw: 8}\n"
                        "layers:\n  fc: {fw: 8, bw: 8}\n");
  Trace t = synthesize(options("resnet20", "cifar10", 2, "file:" + path));
  REQUIRE(t.segments.size() == 2);
  CHECK(t.segments[1].layer == "fc");
  CHECK(t.segments[1].begin == 0);
  CHECK(t.segments[1].end == t.header.total_iterations);
  CHECK(t.segments[1].precision == PrecisionSet::fw_bw(Format::integer(8), Format::integer(8)));
  auto bad = dir.write("b.yaml",
                       "segments:\n  - {from_epoch: 0, fw: 4, bw: 8}\n"
                       "layers:\n  nosuch: {fw: 8, bw: 8}\n");
  CHECK_THROWS_WITH(synthesize(options("resnet20", "cifar10", 2, "file:" + bad)),
                    Contains("layer 'nosuch' is not a layer of resnet20"));
}

TEST_CASE("the synthesizer rejects what it cannot produce") {
  CHECK_THROWS_WITH(synthesize(options("resnet75", "cifar100", 1, "static:8/8")),
                    Contains("unknown model 'resnet75'"));
  CHECK_THROWS_AS(synthesize(options("resnet74", "nosuchdata", 1, "static:8/8")), InputError);
  CHECK_THROWS_WITH(synthesize(options("resnet74", "", 1, "muppet:8,12,14,16")),
                    Contains("only the trainer can produce its trace"));
  CHECK_THROWS_WITH(synthesize(options("resnet74", "", 1, "cyclic:9-3/8")),
                    Contains("schedule 'cyclic:9-3/8'"));
  CHECK_THROWS_WITH(synthesize(options("resnet74", "", 0, "static:8/8")),
                    Contains("epochs = 0: must be >= 1"));
  SynthOptions o = options("resnet74", "", 1, "static:8/8");
  o.batch = 0;
  CHECK_THROWS_WITH(synthesize(o), Contains("batch = 0: must be >= 1"));
  o.batch = 128;
  o.iterations = -5;
  CHECK_THROWS_WITH(synthesize(o), Contains("iterations = -5"));
}

TEST_CASE("a 160-epoch per-iteration cyclic ResNet-164 trace is far under 2 MB") {
  test::TempDir dir;
  Trace t = synthesize(options("resnet164", "cifar100", 160, "cyclic:3-8/8"));
  for (const char* name : {"r164.lpt", "r164.lpt.gz"}) {
    write_trace(dir.file(name), t);
    CHECK(std::filesystem::file_size(dir.file(name)) < 2u * 1024 * 1024);
  }
}
