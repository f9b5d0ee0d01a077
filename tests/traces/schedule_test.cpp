// Tests for traces/schedule.h: every schedule's formula, CPT's shares, bad specs.
#include "traces/schedule.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <numbers>

#include "core/error.h"
#include "temp_dir.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace {

PrecisionSet at(const Schedule& s, std::int64_t t, std::int64_t total, std::int64_t ipe = 1) {
  ScheduleContext ctx;
  ctx.iteration = t;
  ctx.total_iterations = total;
  ctx.iterations_per_epoch = ipe;
  return s.at(ctx);
}

int fw_bits(const Schedule& s, std::int64_t t, std::int64_t total) {
  return at(s, t, total)[Role::W].bits;
}

Format i(int bits) { return Format::integer(bits); }

}  // namespace

TEST_CASE("CPT 3-8 over 64,000 iterations and 32 cycles spends the paper's share at each width") {
  // REFERENCES.md (CPT public code, rint, 32 periods, 64,000 iterations):
  // 3: 20.5%, 4: 16.45%, 5: 13.05%, 6: 13.1%, 7: 16.45%, 8: 20.45%.
  const std::map<int, double> expected_pct{{3, 20.5}, {4, 16.45}, {5, 13.05},
                                           {6, 13.1}, {7, 16.45}, {8, 20.45}};
  std::map<int, std::int64_t> count;
  for (std::int64_t t = 0; t < 64000; ++t) ++count[cpt_cyclic_bits(3, 8, t, 64000, 32)];
  REQUIRE(count.size() == expected_pct.size());
  for (const auto& [bits, pct] : expected_pct)
    CHECK(100.0 * static_cast<double>(count[bits]) / 64000.0 == Approx(pct).margin(0.05));
}

TEST_CASE("the cyclic schedule follows CPT's half-cosine sawtooth within each period") {
  auto s = parse_schedule("cyclic:3-8/8");
  const std::int64_t total = 64000, period = 64000 / 32;
  // b = rint(3 + 2.5 (1 - cos(pi z))), z = (t mod 2000) / 2000.
  CHECK(fw_bits(*s, 0, total) == 3);
  CHECK(fw_bits(*s, 500, total) == 4);     // z = 1/4: 3 + 2.5 (1 - 0.7071) = 3.73
  CHECK(fw_bits(*s, 1500, total) == 7);    // z = 3/4: 3 + 2.5 (1 + 0.7071) = 7.27
  CHECK(fw_bits(*s, 1999, total) == 8);    // z ~ 1: 8.0
  CHECK(fw_bits(*s, period, total) == 3);  // the next period starts low again
  CHECK(fw_bits(*s, 5 * period + 500, total) == 4);
  // W and A follow the cycle; E and G stay at BW; optimizer state FP32.
  auto p = at(*s, 1500, total);
  CHECK(p[Role::A] == i(7));
  CHECK(p[Role::E] == i(8));
  CHECK(p[Role::G] == i(8));
  CHECK(p[Role::Opt] == Format::fp32());
}

TEST_CASE("the cyclic schedule takes its number of cycles from the cycles option") {
  auto s = parse_schedule("cyclic:3-8/8,cycles=4");
  // period 1000 of 4000: z = 1/4 at t = 250 -> 3.73 -> 4; t = 1000 restarts at 3.
  CHECK(fw_bits(*s, 250, 4000) == 4);
  CHECK(fw_bits(*s, 999, 4000) == 8);
  CHECK(fw_bits(*s, 1000, 4000) == 3);
  CHECK(s->spec() == "cyclic:3-8/8,cycles=4");
}

TEST_CASE("CPT's rounding is half to even, as numpy's rint") {
  // At z = 1/2 a one-bit range gives b_min + 0.5 exactly in double precision
  // (1 - cos(pi/2) rounds to 1 - 2^-53, and b_min + 0.4999... rounds to .5):
  // 3.5 -> 4 and 4.5 -> 4.
  CHECK(cpt_cyclic_bits(3, 4, 1000, 64000, 32) == 4);
  CHECK(cpt_cyclic_bits(4, 5, 1000, 64000, 32) == 4);
}

TEST_CASE("the progressive schedule ramps FW bits in whole steps over the ramp, then holds") {
  auto s = parse_schedule("progressive:3-8/8");
  // b(t) = 3 + floor(5 t / R), R = 0.5 * 1000 = 500; then 8.
  CHECK(fw_bits(*s, 0, 1000) == 3);
  CHECK(fw_bits(*s, 99, 1000) == 3);
  CHECK(fw_bits(*s, 100, 1000) == 4);
  CHECK(fw_bits(*s, 250, 1000) == 5);
  CHECK(fw_bits(*s, 499, 1000) == 7);
  CHECK(fw_bits(*s, 500, 1000) == 8);
  CHECK(fw_bits(*s, 999, 1000) == 8);
  CHECK(at(*s, 100, 1000)[Role::E] == i(8));

  auto whole = parse_schedule("progressive:4-6/fp16,ramp=1");
  // R = 1000: 4 + floor(2 t / 1000).
  CHECK(fw_bits(*whole, 499, 1000) == 4);
  CHECK(fw_bits(*whole, 500, 1000) == 5);
  CHECK(fw_bits(*whole, 999, 1000) == 5);
  CHECK(at(*whole, 0, 1000)[Role::G] == Format::floating(5, 10));
}

TEST_CASE("the two-phase schedule switches at the given fraction of training") {
  auto s = parse_schedule("two-phase:16/16->32/32");
  CHECK(at(*s, 499, 1000) == PrecisionSet::fw_bw(i(16), i(16)));
  CHECK(at(*s, 500, 1000) == PrecisionSet::fw_bw(i(32), i(32)));
  auto early = parse_schedule("two-phase:fp16->fp32,at=0.25");
  CHECK(at(*early, 249, 1000) ==
        PrecisionSet::fw_bw(Format::floating(5, 10), Format::floating(5, 10)));
  CHECK(at(*early, 250, 1000) == PrecisionSet::fw_bw(Format::fp32(), Format::fp32()));
}

TEST_CASE("the static schedule holds one precision, integer or floating point") {
  CHECK(at(*parse_schedule("static:8/8"), 7, 10) == PrecisionSet::fw_bw(i(8), i(8)));
  CHECK(at(*parse_schedule("static:4/fp8-e5m2"), 7, 10) ==
        PrecisionSet::fw_bw(i(4), Format::floating(5, 2)));
  CHECK(at(*parse_schedule("static:fp32"), 0, 10) == PrecisionSet{});
  CHECK(at(*parse_schedule("static:fp16/fp32"), 0, 10)[Role::W] == Format::floating(5, 10));
  CHECK(at(*parse_schedule("static:int8/bf16"), 0, 10)[Role::E] == Format::floating(8, 7));
}

TEST_CASE("the muppet schedule needs training state and starts at its first level") {
  auto s = parse_schedule("muppet:8,12,14,16");
  CHECK(s->needs_training_state());
  auto p = at(*s, 0, 100);
  CHECK(p[Role::W] == i(8));
  CHECK(p[Role::A] == i(8));
  CHECK(p[Role::G] == i(8));
  CHECK(p[Role::E] == Format::fp32());  // MuPPET's public code leaves errors unquantized
  auto levels = s->levels();
  REQUIRE(levels.size() == 5);
  CHECK(levels[3][Role::W] == i(16));
  CHECK(levels[4] == PrecisionSet{});  // FP32 after the last fixed-point level
  CHECK_FALSE(parse_schedule("static:8/8")->needs_training_state());
}

TEST_CASE("every spec reads back from its canonical spelling as the same schedule") {
  const std::vector<std::pair<std::string, std::string>> specs{
      {"static:8/8", "static:8/8"},
      {"static:fp32", "static:fp32"},
      {"static:int8", "static:8/8"},
      {"static:fp16/fp32", "static:fp16/fp32"},
      {"progressive:3-8/8", "progressive:3-8/8"},
      {"progressive:3-8/8,ramp=0.25", "progressive:3-8/8,ramp=0.25"},
      {"cyclic:3-8/8,cycles=32", "cyclic:3-8/8"},
      {"cyclic:2-6/fp16,cycles=8", "cyclic:2-6/fp16,cycles=8"},
      {"two-phase:16/16->32/32,at=0.5", "two-phase:16/16->32/32"},
      {"two-phase:fp16/fp16->fp32,at=0.75", "two-phase:fp16->fp32,at=0.75"},
      {"muppet:8,12,14,16", "muppet:8,12,14,16"},
  };
  for (const auto& [spec, canonical] : specs) {
    INFO(spec);
    auto s = parse_schedule(spec);
    CHECK(s->spec() == canonical);
    auto again = parse_schedule(s->spec());
    CHECK(again->spec() == canonical);
    for (std::int64_t t : {0, 137, 500, 777, 999})
      CHECK(again->at({t, 1000, 10}) == s->at({t, 1000, 10}));
  }
}

TEST_CASE("malformed schedule specs are one-line errors naming the spec and the allowed form") {
  struct Bad {
    const char* spec;
    const char* says;
  };
  const std::vector<Bad> bad{
      {"cyclic:9-3/8", "minimum 9 bits is above maximum 3 bits"},
      {"static:0/8", "must be 1..64"},
      {"static:65/8", "must be 1..64"},
      {"cyclic:3-8", "has no /BW part"},
      {"progressive:3-8", "has no /BW part"},
      {"cyclic:3-99/8", "out of range 1..64"},
      {"cosine:3-8/8", "unknown kind 'cosine'"},
      {"8/8", "no kind given"},
      {"cyclic:3-8/8,cycles=0", "cycles = 0 is outside 1..1000000000"},
      {"cyclic:3-8/8,cycles=-2", "is outside 1..1000000000"},
      {"cyclic:3-8/8,cycles=lots", "is not an integer"},
      {"cyclic:3-8/8,period=4", "unknown option 'period'"},
      {"cyclic:3-8/8,cycles=4,cycles=8", "repeated option 'cycles'"},
      {"cyclic:3-8/8,cycles", "is not KEY=VALUE"},
      {"progressive:3-8/8,ramp=0", "ramp = 0 is outside (0, 1]"},
      {"progressive:3-8/8,ramp=1.5", "ramp = 1.5 is outside (0, 1]"},
      {"two-phase:16/16->32/32,at=0", "at = 0 is outside (0, 1]"},
      {"two-phase:16/16-32/32", "no '->'"},
      {"two-phase:16/16->", "missing the precision"},
      {"static:8/8,ramp=0.5", "unknown option 'ramp'"},
      {"static:", "missing the precision"},
      {"static:8/8/8", "is not FW/BW"},
      {"static:fp9", "is not a number format"},
      {"muppet:8,8,12", "does not increase"},
      {"muppet:16,12", "does not increase"},
      {"muppet:", "no levels given"},
      {"muppet:8,0", "out of range 1..64"},
      {"file:", "no path given"},
      {"file:/nonexistent/lpsim/schedule.yaml", "cannot read"},
  };
  for (const Bad& b : bad) {
    INFO(b.spec);
    try {
      parse_schedule(b.spec);
      FAIL("no error for " << b.spec);
    } catch (const InputError& e) {
      std::string msg = e.what();
      CHECK_THAT(msg, Contains(std::string("schedule '") + b.spec + "'"));
      CHECK_THAT(msg, Contains(b.says));
      CHECK(msg.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("a range error names the allowed form of the spec") {
  CHECK_THROWS_WITH(parse_schedule("cyclic:9-3/8"),
                    Contains("schedule 'cyclic:9-3/8'") &&
                        Contains("cyclic:MIN-MAX/BW[,cycles=N] with 1 <= MIN <= MAX <= 64"));
}

TEST_CASE("a file schedule switches precision at the epochs it lists") {
  test::TempDir dir;
  auto path = dir.write("sched.yaml",
                        "segments:\n"
                        "  - {from_epoch: 0, fw: 8, bw: 8}\n"
                        "  - {from_epoch: 2, fw: 4, bw: fp16}\n"
                        "  - {from_epoch: 5, W: 6, A: 7, E: 8, G: 16, Opt: bf16}\n"
                        "layers:\n"
                        "  conv1: {fw: fp32, bw: fp32}\n");
  auto s = parse_schedule("file:" + path);
  CHECK(s->spec() == "file:" + path);
  // 10 iterations per epoch.
  CHECK(at(*s, 19, 100, 10) == PrecisionSet::fw_bw(i(8), i(8)));
  CHECK(at(*s, 20, 100, 10) == PrecisionSet::fw_bw(i(4), Format::floating(5, 10)));
  auto late = at(*s, 50, 100, 10);
  CHECK(late[Role::W] == i(6));
  CHECK(late[Role::A] == i(7));
  CHECK(late[Role::G] == i(16));
  CHECK(late[Role::Opt] == Format::floating(8, 7));
  auto layers = s->layer_overrides();
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].layer == "conv1");
  CHECK(layers[0].precision == PrecisionSet{});
}

TEST_CASE("a JSON file schedule may switch at fractions or iterations") {
  test::TempDir dir;
  auto frac =
      parse_schedule("file:" + dir.write("f.json", R"([{"from_fraction": 0, "fw": 8, "bw": 8},
                                        {"from_fraction": 0.5, "fw": 6, "bw": 8}])"));
  CHECK(fw_bits(*frac, 499, 1000) == 8);
  CHECK(fw_bits(*frac, 500, 1000) == 6);
  auto iters = parse_schedule(
      "file:" + dir.write("i.json", R"({"segments": [{"from_iteration": 0, "fw": 3, "bw": 8},
                                                     {"from_iteration": 7, "fw": 5, "bw": 8}]})"));
  CHECK(fw_bits(*iters, 6, 1000) == 3);
  CHECK(fw_bits(*iters, 7, 1000) == 5);
}

TEST_CASE("a malformed file schedule names the file and the entry") {
  test::TempDir dir;
  struct Bad {
    const char* text;
    const char* says;
  };
  const std::vector<Bad> bad{
      {"- {from_epoch: 1, fw: 8, bw: 8}\n",
       "segments[0].from_epoch: 1: the first entry must start at 0"},
      {"- {from_epoch: 0, fw: 8, bw: 8}\n- {from_epoch: 0, fw: 4, bw: 8}\n",
       "segments[1].from_epoch: 0 does not come after"},
      {"- {from_epoch: 0, fw: 8, bw: 8}\n- {from_fraction: 0.5, fw: 4, bw: 8}\n",
       "every entry must use the same start key"},
      {"- {from_epoch: 0, fw: 8}\n", "segments[0]: missing bw"},
      {"- {from_epoch: 0, fw: 0, bw: 8}\n", "segments[0].fw: 0 bits is out of range"},
      {"- {from_epoch: 0, fw: 8, bw: 8, lr: 3}\n", "segments[0].lr: unknown key"},
      {"- {fw: 8, bw: 8}\n", "missing its start"},
      {"- {from_fraction: 0, fw: 8, bw: 8}\n- {from_fraction: 1.5, fw: 4, bw: 8}\n",
       "1.5 is outside [0, 1)"},
      {"- {from_epoch: x, fw: 8, bw: 8}\n", "'x' is not an integer"},
      {"segments: []\n", "must be a non-empty list"},
      {"segment: []\n", "segment: unknown key"},
      {"- [unclosed\n", "sched.yaml:"},
      {"- {from_epoch: 0, fw: 8, bw: 8, W: 8}\n", "give either fw and bw, or W, A, E and G"},
  };
  for (const Bad& b : bad) {
    INFO(b.text);
    auto path = dir.write("sched.yaml", b.text);
    CHECK_THROWS_AS(parse_schedule("file:" + path), InputError);
    CHECK_THROWS_WITH(parse_schedule("file:" + path), Contains(path) && Contains(b.says));
  }
}
