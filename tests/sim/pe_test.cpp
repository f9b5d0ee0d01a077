// PE models: throughput and energy per MAC at pairs of operand formats, each
// expected value from the formula or published figure it models.
#include "sim/pe.h"

#include <catch2/catch.hpp>

#include "core/error.h"
#include "power/energy_table.h"
#include "sim/arch.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace {

Format i(int bits) { return Format::integer(bits); }
const Format kFp16 = Format::floating(5, 10);
const Format kBf16 = Format::floating(8, 7);
const Format kFp32 = Format::fp32();

PeConfig fixed_pe(std::vector<Format> native) {
  PeConfig c;
  c.type = "fixed";
  c.native_formats = std::move(native);
  return c;
}

PeConfig typed_pe(const std::string& type) {
  PeConfig c;
  c.type = type;
  return c;
}

}  // namespace

// ---- bit-serial (Stripes, Judd et al. MICRO 2016) ---------------------------

TEST_CASE("a bit-serial PE runs 4-bit activations twice as fast as 8-bit ones", "[pe]") {
  const EnergyTable table = horowitz45();
  const auto pe = make_pe(typed_pe("bit_serial"), table);
  // Stripes: one serial bit per cycle, so macs_per_cycle = 1 / bits(A).
  CHECK(pe->at(i(8), i(8)).macs_per_cycle == Approx(1.0 / 8));
  CHECK(pe->at(i(4), i(8)).macs_per_cycle == Approx(1.0 / 4));
  CHECK(pe->at(i(4), i(8)).macs_per_cycle / pe->at(i(8), i(8)).macs_per_cycle == Approx(2.0));
  // The parallel operand's width does not change the time.
  CHECK(pe->at(i(4), i(16)).macs_per_cycle == Approx(1.0 / 4));
  CHECK(pe->at(i(4), i(2)).macs_per_cycle == Approx(1.0 / 4));
}

TEST_CASE("a bit-serial PE streams the operand that serial_operand names", "[pe]") {
  PeConfig c = typed_pe("bit_serial");
  c.serial_operand = Role::W;
  const auto pe = make_pe(c, horowitz45());
  // Serial W is the rhs operand: 8-bit activations x 2-bit weights = 1/2 MAC per cycle.
  const PeThroughput t = pe->at(i(8), i(2));
  CHECK(t.macs_per_cycle == Approx(1.0 / 2));
  // The parallel (lhs) operand ran padded to the 16-bit datapath.
  CHECK(t.run_a == i(16));
  CHECK(t.run_b == i(2));
}

TEST_CASE("bit-serial energy per MAC is serial bits times a datapath-wide add plus one accumulate",
          "[pe]") {
  const EnergyTable table = horowitz45();
  PeConfig c = typed_pe("bit_serial");
  c.serial_max_bits = 16;
  const auto pe = make_pe(c, table);
  for (int s : {2, 4, 8, 16}) {
    // E = s x int_add(P) + acc_add(s, P), P = serial_max_bits (docs/architecture.md)
    const double expected = s * table.int_add_pj(16) + table.accumulator_add_pj(i(s), i(16));
    CHECK(pe->at(i(s), i(8)).energy_pj_per_mac == Approx(expected));
  }
  // Halving the serial bits roughly halves the shift-add part.
  CHECK(pe->at(i(4), i(8)).energy_pj_per_mac < pe->at(i(8), i(8)).energy_pj_per_mac);
}

TEST_CASE("a bit-serial PE rejects floats and operands wider than serial_max_bits", "[pe]") {
  PeConfig c = typed_pe("bit_serial");
  c.serial_max_bits = 8;
  const auto pe = make_pe(c, horowitz45());
  CHECK_THROWS_AS(pe->at(i(9), i(8)), InputError);
  CHECK_THROWS_WITH(pe->at(kFp16, i(8)),
                    Contains("bit_serial") && Contains("fp16 x 8") && Contains("1..8"));
}

// ---- Bit Fusion (Sharma et al. ISCA 2018) ------------------------------------

TEST_CASE("bit-fusion runs four 4x4 MACs and sixteen 2x2 MACs per cycle where it runs one 8x8",
          "[pe]") {
  const auto pe = make_pe(typed_pe("bit_fusion"), horowitz45());
  // floor(8 / max(a, 2)) * floor(8 / max(w, 2)), REFERENCES.md
  const double one = pe->at(i(8), i(8)).macs_per_cycle;
  CHECK(one == Approx(1.0));
  CHECK(pe->at(i(8), i(4)).macs_per_cycle == Approx(2 * one));   // 1 x 2
  CHECK(pe->at(i(4), i(4)).macs_per_cycle == Approx(4 * one));   // 2 x 2
  CHECK(pe->at(i(8), i(2)).macs_per_cycle == Approx(4 * one));   // 1 x 4
  CHECK(pe->at(i(2), i(2)).macs_per_cycle == Approx(16 * one));  // 4 x 4
  // 1-bit operands still take a whole 2-bit brick: floor(8 / max(1, 2)) = 4.
  CHECK(pe->at(i(1), i(1)).macs_per_cycle == Approx(16 * one));
}

TEST_CASE("bit-fusion counts 3 bits as 4 and 5 to 7 bits as 8", "[pe]") {
  const auto pe = make_pe(typed_pe("bit_fusion"), horowitz45());
  // floor(8/3) = floor(8/4) = 2; floor(8/5) = floor(8/7) = floor(8/8) = 1
  CHECK(pe->at(i(3), i(3)).macs_per_cycle == Approx(pe->at(i(4), i(4)).macs_per_cycle));
  CHECK(pe->at(i(3), i(3)).run_a == i(4));
  for (int bits : {5, 6, 7}) {
    const PeThroughput t = pe->at(i(bits), i(bits));
    CHECK(t.macs_per_cycle == Approx(1.0));
    CHECK(t.run_a == i(8));
    CHECK(t.run_b == i(8));
  }
}

TEST_CASE("bit-fusion fuses operands wider than 8 bits over several cycles", "[pe]") {
  const auto pe = make_pe(typed_pe("bit_fusion"), horowitz45());
  // ceil(16/8) x ceil(16/8) = 4 cycles per 16x16 MAC; 16x8: 2 cycles.
  CHECK(pe->at(i(16), i(16)).macs_per_cycle == Approx(1.0 / 4));
  CHECK(pe->at(i(16), i(8)).macs_per_cycle == Approx(1.0 / 2));
  // 12 bits takes the same 2 passes as 16, and a 4-bit rhs still fuses 2 wide: 2 / 2.
  CHECK(pe->at(i(12), i(4)).macs_per_cycle == Approx(1.0));
  CHECK(pe->at(i(12), i(4)).run_a == i(16));
}

TEST_CASE("bit-fusion energy per MAC reproduces Sharma et al.'s 0.69, 0.17 and 0.043 pJ", "[pe]") {
  const auto pe = make_pe(typed_pe("bit_fusion"), horowitz45());
  // Published per-PE synthesis, 45 nm: 0.69 pJ per 8x8, 0.17 per 4x4, 0.043 per 2x2.
  // Brick-count law: 0.69 / 16 per brick, so 4x4 = 4 bricks = 0.1725 (1.5% off 0.17).
  CHECK(pe->at(i(8), i(8)).energy_pj_per_mac == Approx(0.69));
  CHECK(pe->at(i(4), i(4)).energy_pj_per_mac == Approx(0.17).epsilon(0.02));
  CHECK(pe->at(i(2), i(2)).energy_pj_per_mac == Approx(0.043).epsilon(0.01));
  // 16x16 in 4 temporal passes of 8x8.
  CHECK(pe->at(i(16), i(16)).energy_pj_per_mac == Approx(4 * 0.69));
  // Sharma et al.: fused 8/2 unit 1733 um^2, fixed 8/8 PE 688 um^2 -> 2.52x the table's 8x8 MAC.
  const EnergyTable table = horowitz45();
  CHECK(pe->area_um2() == Approx(1733.0 / 688 * table.mac_area_um2(i(8), i(8))));
}

TEST_CASE("bit-fusion energy_pj_per_mac overrides the 8x8 figure and keeps the brick law", "[pe]") {
  PeConfig c = typed_pe("bit_fusion");
  c.energy_pj_per_mac = 1.6;
  const auto pe = make_pe(c, horowitz45());
  CHECK(pe->at(i(8), i(8)).energy_pj_per_mac == Approx(1.6));
  CHECK(pe->at(i(4), i(4)).energy_pj_per_mac == Approx(1.6 / 4));
  CHECK(pe->at(i(2), i(8)).energy_pj_per_mac == Approx(1.6 / 4));
}

TEST_CASE("bit-fusion rejects float operands", "[pe]") {
  const auto pe = make_pe(typed_pe("bit_fusion"), horowitz45());
  CHECK_THROWS_WITH(pe->at(i(8), kFp32), Contains("bit_fusion") && Contains("8 x fp32"));
}

// ---- fixed-width -------------------------------------------------------------

TEST_CASE("a fixed-width INT8 PE gains nothing at 4 bits", "[pe]") {
  const EnergyTable table = horowitz45();
  const auto pe = make_pe(fixed_pe({i(8)}), table);
  const PeThroughput t8 = pe->at(i(8), i(8));
  const PeThroughput t4 = pe->at(i(4), i(4));
  CHECK(t4.macs_per_cycle == t8.macs_per_cycle);
  CHECK(t4.energy_pj_per_mac == t8.energy_pj_per_mac);
  CHECK(t4.run_a == i(8));
  CHECK(t4.run_b == i(8));
  CHECK(t8.macs_per_cycle == 1.0);
}

TEST_CASE("an INT8 MAC costs the table's 8-bit multiply plus the accumulator add", "[pe]") {
  const EnergyTable table = horowitz45();
  const auto pe = make_pe(fixed_pe({i(8)}), table);
  // Horowitz 45 nm: 8-bit multiply 0.2 pJ; accumulator a + b + 8 = 24 bits wide.
  CHECK(pe->at(i(8), i(8)).energy_pj_per_mac == Approx(0.2 + table.accumulator_add_pj(i(8), i(8))));
  CHECK(pe->at(i(8), i(8)).energy_pj_per_mac ==
        Approx(table.int_mul_pj(8, 8) + table.int_add_pj(24)));
}

TEST_CASE("a fixed PE runs an op at the narrowest native format that holds both operands", "[pe]") {
  const EnergyTable table = horowitz45();
  const auto pe = make_pe(fixed_pe({kFp32, i(8), kFp16, i(16)}), table);
  CHECK(pe->at(i(4), i(8)).run_a == i(8));
  CHECK(pe->at(i(4), i(12)).run_a == i(16));
  CHECK(pe->at(i(4), i(12)).run_b == i(16));
  CHECK(pe->at(kFp16, kFp16).run_a == kFp16);
  // bf16 has fp32's exponent: only the fp32 path holds it.
  CHECK(pe->at(kBf16, kFp16).run_a == kFp32);
  // An integer beside a float runs on the float path.
  CHECK(pe->at(kFp16, i(8)).run_b == kFp16);
  // Energy at the run formats from the table.
  CHECK(pe->at(i(4), i(12)).energy_pj_per_mac == Approx(table.mac_pj(i(16), i(16))));
}

TEST_CASE("a fixed PE runs integers on a float path when no integer path fits", "[pe]") {
  const auto pe = make_pe(fixed_pe({i(8), kFp16}), horowitz45());
  // fp16's 11-bit significand holds every signed integer up to 12 bits (|x| <= 2^11).
  CHECK(pe->at(i(12), i(8)).run_a == kFp16);
  CHECK_THROWS_WITH(pe->at(i(13), i(8)),
                    Contains("13 x 8") && Contains("8, fp16") && Contains("fixed"));
}

TEST_CASE("a fixed PE names both formats and its native list when it cannot run an op", "[pe]") {
  const auto pe = make_pe(fixed_pe({i(8), i(16)}), horowitz45());
  CHECK_THROWS_AS(pe->at(kFp32, i(8)), InputError);
  CHECK_THROWS_WITH(pe->at(kFp32, i(8)), Contains("fp32 x 8") && Contains("8, 16"));
}

TEST_CASE("a tensor-core-like PE packs INT8 at 2x and INT4 at 4x its FP16 rate", "[pe]") {
  PeConfig c = fixed_pe({kFp16});
  // A100 whitepaper: FP16 312, INT8 624, INT4 1248 dense TOPS.
  c.packed_rates = {{i(8), 624.0 / 312}, {i(4), 1248.0 / 312}};
  const EnergyTable table = horowitz45();
  const auto pe = make_pe(c, table);
  CHECK(pe->at(kFp16, kFp16).macs_per_cycle == Approx(1.0));
  CHECK(pe->at(i(8), i(6)).macs_per_cycle == Approx(2.0));
  CHECK(pe->at(i(8), i(6)).run_a == i(8));
  CHECK(pe->at(i(4), i(3)).macs_per_cycle == Approx(4.0));
  CHECK(pe->at(i(4), i(3)).energy_pj_per_mac == Approx(table.mac_pj(i(4), i(4))));
  // 10 bits fits no integer path: it runs on FP16 at 1x.
  CHECK(pe->at(i(10), i(4)).run_a == kFp16);
  CHECK(pe->at(i(10), i(4)).macs_per_cycle == Approx(1.0));
}

TEST_CASE(
    "a fixed PE's energy override applies at its widest native format and scales by the "
    "table's law",
    "[pe]") {
  const EnergyTable table = horowitz45();
  PeConfig c = fixed_pe({i(8), i(16)});
  c.energy_pj_per_mac = 2.0;
  const auto pe = make_pe(c, table);
  CHECK(pe->at(i(16), i(16)).energy_pj_per_mac == Approx(2.0));
  CHECK(pe->at(i(8), i(8)).energy_pj_per_mac ==
        Approx(2.0 * table.mac_pj(i(8), i(8)) / table.mac_pj(i(16), i(16))));
}

TEST_CASE("a PE's area comes from area_um2 or from the table's MAC area", "[pe]") {
  const EnergyTable table = horowitz45();
  CHECK(make_pe(fixed_pe({i(8), i(16)}), table)->area_um2() ==
        Approx(table.mac_area_um2(i(16), i(16))));
  PeConfig c = fixed_pe({i(8)});
  c.area_um2 = 688;  // Sharma et al. 2018: fixed 8/8 PE
  CHECK(make_pe(c, table)->area_um2() == Approx(688));
  // Stripes: a lane is 1.32 / 16 of a 16x16 MAC (16x the lanes in 1.32x the area).
  CHECK(make_pe(typed_pe("bit_serial"), table)->area_um2() ==
        Approx(1.32 * table.mac_area_um2(i(16), i(16)) / 16));
}

// ---- multi-pass (UMass seed) -------------------------------------------------

TEST_CASE("a 16-bit multi-pass MAC runs 32-bit work in four passes", "[pe]") {
  const auto pe = make_pe(typed_pe("multi_pass"), horowitz45());
  // ceil(32/16) x ceil(32/16) = 4 passes -> 1/4 MAC per cycle
  CHECK(pe->at(i(32), i(32)).macs_per_cycle == Approx(1.0 / 4));
  CHECK(pe->at(i(32), i(16)).macs_per_cycle == Approx(1.0 / 2));
  CHECK(pe->at(i(16), i(16)).macs_per_cycle == Approx(1.0));
  // Narrower operands pad to 16 bits: no gain.
  const PeThroughput t8 = pe->at(i(8), i(4));
  CHECK(t8.macs_per_cycle == Approx(1.0));
  CHECK(t8.run_a == i(16));
  CHECK(t8.run_b == i(16));
  CHECK(pe->at(i(32), i(20)).run_b == i(32));
}

TEST_CASE("multi-pass energy is passes times the 16-bit MAC plus the control overhead", "[pe]") {
  const EnergyTable table = horowitz45();
  PeConfig c = typed_pe("multi_pass");
  c.pass_energy_overhead = 0.10;
  const auto pe = make_pe(c, table);
  const double pass = table.mac_pj(i(16), i(16)) * 1.10;
  CHECK(pe->at(i(16), i(16)).energy_pj_per_mac == Approx(pass));
  CHECK(pe->at(i(8), i(8)).energy_pj_per_mac == Approx(pass));
  CHECK(pe->at(i(32), i(32)).energy_pj_per_mac == Approx(4 * pass));
  CHECK(pe->area_um2() == Approx(table.mac_area_um2(i(16), i(16)) * 1.10));
  CHECK_THROWS_WITH(pe->at(kFp32, kFp32), Contains("multi_pass") && Contains("fp32 x fp32"));
}

// ---- the registry ------------------------------------------------------------

TEST_CASE("make_pe names the four PE types when it meets an unknown one", "[pe]") {
  CHECK_THROWS_WITH(make_pe(typed_pe("systolic"), horowitz45()),
                    Contains("pe.type = systolic") && Contains("fixed") && Contains("bit_serial") &&
                        Contains("bit_fusion") && Contains("multi_pass"));
  CHECK(pe_type_names() ==
        std::vector<std::string>{"fixed", "bit_serial", "bit_fusion", "multi_pass"});
}

TEST_CASE("every shipped design point builds its PE and runs 8-bit and 4-bit operands", "[pe]") {
  const EnergyTable table = horowitz45();
  for (const auto& name : shipped_arch_names()) {
    INFO(name);
    const ArchConfig arch = load_arch(resolve_arch_path(name));
    const auto pe = make_pe(arch.pe, table);
    const PeThroughput t8 = pe->at(i(8), i(8));
    const PeThroughput t4 = pe->at(i(4), i(4));
    CHECK(t8.macs_per_cycle > 0);
    CHECK(t8.energy_pj_per_mac > 0);
    // Narrower operands never run slower.
    CHECK(t4.macs_per_cycle >= t8.macs_per_cycle);
    CHECK(pe->area_um2() > 0);
  }
}
