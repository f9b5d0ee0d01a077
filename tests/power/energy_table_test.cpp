// Tests for power/energy_table.h: the Horowitz 45 nm points and the laws between
// them. Expected numbers come from Horowitz ISSCC'14 (REFERENCES.md) and the
// formulas of docs/energy.md, written out here.
#include "power/energy_table.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "core/error.h"

using namespace lpsim;

namespace {

const Format kInt4 = Format::integer(4);
const Format kInt8 = Format::integer(8);
const Format kFp16 = Format::floating(5, 10);
const Format kBf16 = Format::floating(8, 7);
const Format kFp8e4m3 = Format::floating(4, 3);
const Format kFp32 = Format::fp32();
constexpr double kKiB = 1024;

}  // namespace

TEST_CASE("the built-in table reproduces every Horowitz 45 nm energy point exactly") {
  const EnergyTable t = horowitz45();
  CHECK(t.node_nm == 45);
  CHECK(t.voltage_v == 0.9);
  CHECK(t.int_add_pj(8) == 0.03);
  CHECK(t.int_add_pj(16) == 0.05);
  CHECK(t.int_add_pj(32) == 0.1);
  CHECK(t.int_mul_pj(8, 8) == 0.2);
  CHECK(t.int_mul_pj(32, 32) == 3.1);
  CHECK(t.fp_add_pj(kFp16) == 0.4);
  CHECK(t.fp_add_pj(kFp32) == 0.9);
  CHECK(t.fp_mul_pj(kFp16, kFp16) == 1.1);
  CHECK(t.fp_mul_pj(kFp32, kFp32) == 3.7);
  // 64-bit reads: 10, 20, 100 pJ -> per bit
  CHECK(t.sram_pj_per_bit(8 * 1024) == 10.0 / 64);
  CHECK(t.sram_pj_per_bit(32 * 1024) == 20.0 / 64);
  CHECK(t.sram_pj_per_bit(1024 * 1024) == 100.0 / 64);
  // 64-bit DRAM read 1.3-2.6 nJ, low end
  CHECK(t.dram_pj_per_bit() == 1300.0 / 64);
}

TEST_CASE("integer add is piecewise linear in bits through the 8, 16 and 32-bit points") {
  const EnergyTable t = horowitz45();
  CHECK(t.int_add_pj(12) == Approx(0.03 + (0.05 - 0.03) * 4 / 8));
  CHECK(t.int_add_pj(24) == Approx(0.05 + (0.1 - 0.05) * 8 / 16));
  CHECK(t.int_add_pj(4) == Approx(0.03 * 4 / 8));                   // proportional below 8 bits
  CHECK(t.int_add_pj(64) == Approx(0.1 + 32 * (0.1 - 0.05) / 16));  // last segment extended
  for (int b = 1; b < 80; ++b) CHECK(t.int_add_pj(b) < t.int_add_pj(b + 1));
}

TEST_CASE("an 8-bit integer MAC costs the 0.2 pJ multiply plus a 24-bit accumulator add") {
  const EnergyTable t = horowitz45();
  // accumulator 8 + 8 + 8 guard bits = 24 bits, on the 16..32-bit add segment
  const double add24 = 0.05 + (0.1 - 0.05) * (24 - 16) / 16.0;
  CHECK(t.accumulator_format(kInt8, kInt8).bits == 24);
  CHECK(t.accumulator_add_pj(kInt8, kInt8) == Approx(add24));
  CHECK(t.mac_pj(kInt8, kInt8) == Approx(0.2 + add24));
  CHECK(t.mac_pj(kInt8, kInt8) == t.int_mul_pj(8, 8) + t.accumulator_add_pj(kInt8, kInt8));
}

TEST_CASE("integer multiply follows a power law in a_bits x b_bits through 8x8 and 32x32") {
  const EnergyTable t = horowitz45();
  const double k = std::log(3.1 / 0.2) / std::log(32.0 * 32 / 64);  // log(15.5) / log(16)
  CHECK(k == Approx(std::log(15.5) / std::log(16.0)));
  const double e4 = 0.2 * std::pow(16.0 / 64, k);
  CHECK(t.int_mul_pj(4, 4) == Approx(e4));
  // 4-bit is cheaper than 8-bit by the law's factor (a*b falls 4x): 4^k, nearly quadratic
  CHECK(t.int_mul_pj(8, 8) / t.int_mul_pj(4, 4) == Approx(std::pow(4.0, k)));
  CHECK(t.int_mul_pj(16, 16) == Approx(0.2 * std::pow(256.0 / 64, k)));
}

TEST_CASE("an asymmetric a x b multiply costs what its bit product says, in either order") {
  const EnergyTable t = horowitz45();
  const double k = std::log(15.5) / std::log(16.0);
  CHECK(t.int_mul_pj(8, 4) == t.int_mul_pj(4, 8));
  CHECK(t.int_mul_pj(8, 4) == Approx(0.2 * std::pow(32.0 / 64, k)));
  CHECK(t.int_mul_pj(4, 4) < t.int_mul_pj(8, 4));
  CHECK(t.int_mul_pj(8, 4) < t.int_mul_pj(8, 8));
  // the accumulator of a 8x4 MAC is 8 + 4 + 8 = 20 bits
  CHECK(t.accumulator_format(kInt8, kInt4).bits == 20);
}

TEST_CASE("float multiply follows a power law in the significand product through fp16 and fp32") {
  const EnergyTable t = horowitz45();
  // significands (mantissa + hidden bit): fp16 11, fp32 24, bf16 8, fp8-e4m3 4
  const double k = std::log(3.7 / 1.1) / std::log(24.0 * 24 / (11.0 * 11));
  CHECK(t.fp_mul_pj(kBf16, kBf16) == Approx(1.1 * std::pow(64.0 / 121, k)));
  CHECK(t.fp_mul_pj(kFp8e4m3, kFp8e4m3) == Approx(1.1 * std::pow(16.0 / 121, k)));
  CHECK(t.fp_mul_pj(kFp16, kFp32) == Approx(1.1 * std::pow(11.0 * 24 / 121, k)));
  CHECK(t.fp_mul_pj(kFp8e4m3, kFp8e4m3) < t.fp_mul_pj(kBf16, kBf16));
  CHECK(t.fp_mul_pj(kBf16, kBf16) < t.fp_mul_pj(kFp16, kFp16));
}

TEST_CASE("float add follows a power law in significand bits through fp16 and fp32") {
  const EnergyTable t = horowitz45();
  const double k = std::log(0.9 / 0.4) / std::log(24.0 / 11);
  CHECK(t.fp_add_pj(kBf16) == Approx(0.4 * std::pow(8.0 / 11, k)));
  CHECK(t.fp_add_pj(kFp8e4m3) == Approx(0.4 * std::pow(4.0 / 11, k)));
}

TEST_CASE("a float MAC accumulates in fp32 unless the table names another accumulator") {
  EnergyTable t = horowitz45();
  CHECK(t.mac_pj(kFp16, kFp16) == Approx(1.1 + 0.9));  // fp16 mult + fp32 add
  CHECK(t.mac_pj(kFp32, kFp32) == Approx(3.7 + 0.9));
  t.float_accumulator = kFp16;
  CHECK(t.mac_pj(kFp16, kFp16) == Approx(1.1 + 0.4));  // fp16 mult + fp16 add
  // an operand wider than the accumulator widens it
  CHECK(t.accumulator_format(kFp32, kFp32) == kFp32);
}

TEST_CASE("a set integer accumulator width replaces a_bits + b_bits + 8") {
  EnergyTable t = horowitz45();
  t.int_accumulator_bits = 32;
  CHECK(t.mac_pj(kInt8, kInt8) == Approx(0.2 + 0.1));
}

TEST_CASE("a mixed integer x float MAC runs in the float operand's format") {
  const EnergyTable t = horowitz45();
  CHECK(t.mac_pj(kInt8, kFp16) == t.mac_pj(kFp16, kFp16));
  CHECK(t.mac_pj(kFp32, kInt4) == t.mac_pj(kFp32, kFp32));
}

TEST_CASE("SRAM energy per bit grows with the square root of capacity between 8 and 32 KB") {
  const EnergyTable t = horowitz45();
  CHECK(t.sram_pj_per_bit(16 * 1024) == Approx(10.0 * std::sqrt(2.0) / 64));
  // 32 KB .. 1 MB: log-log line through 20 and 100 pJ, exponent log(5)/log(32)
  const double k = std::log(5.0) / std::log(32.0);
  CHECK(t.sram_pj_per_bit(256 * 1024) == Approx(20.0 * std::pow(8.0, k) / 64));
  // outside the points: square root of capacity
  CHECK(t.sram_pj_per_bit(2 * 1024) == Approx(10.0 * std::sqrt(0.25) / 64));
  CHECK(t.sram_pj_per_bit(4 * 1024 * 1024) == Approx(100.0 * 2 / 64));
}

TEST_CASE("SRAM energy per bit never falls as capacity grows") {
  const EnergyTable t = horowitz45();
  double prev = 0;
  for (double bytes = 64; bytes <= 64 * kKiB * kKiB; bytes *= 1.25) {
    const double e = t.sram_pj_per_bit(static_cast<std::int64_t>(bytes));
    CHECK(e >= prev);
    prev = e;
  }
}

TEST_CASE("a MAC's area is its multiplier's plus its accumulator adder's") {
  const EnergyTable t = horowitz45();
  // Horowitz area slide: 8-bit mult 282 um^2; 24-bit add between 67 (16b) and 137 (32b)
  CHECK(t.mac_area_um2(kInt8, kInt8) == Approx(282 + 67 + (137 - 67) * 8 / 16.0));
  // fp16 mult 1640 + fp32 add 4184
  CHECK(t.mac_area_um2(kFp16, kFp16) == Approx(1640 + 4184));
  // 32x32 mult 3495 + 72-bit add on the extended 16..32 segment
  CHECK(t.mac_area_um2(Format::integer(32), Format::integer(32)) ==
        Approx(3495 + 137 + (72 - 32) * (137 - 67) / 16.0));
  // SRAM: bit cells of 0.346 um^2 (Intel 45 nm)
  CHECK(t.sram_area_um2(1024) == Approx(1024 * 8 * 0.346));
}

TEST_CASE("leakage density is McPAT's 45 nm in-order core leakage over its area") {
  const EnergyTable t = horowitz45();
  // 1.058 W over 7.65 mm^2 (docs/energy.md, Leakage)
  CHECK(t.leakage_mw_per_mm2() == Approx(1058.0 / 7.65).epsilon(1e-3));
  CHECK(t.logic_leakage_mw_per_mm2(false) == t.leakage_mw_per_mm2());
}

TEST_CASE("low-power logic leaks what the Eyeriss chip's static power says per mm^2") {
  // nn_dataflow's Eyeriss calibration: 30 mW static; Chen et al. JSSC 2017:
  // a 3.5 mm x 3.5 mm core (docs/energy.md, Leakage).
  CHECK(horowitz45().logic_leakage_mw_per_mm2(true) == Approx(30.0 / (3.5 * 3.5)).epsilon(1e-3));
}

TEST_CASE("SRAM leakage per KiB is CACTI's: high-performance cells and low-standby-power ones") {
  // hsharma35/bitfusion sram/cacti_sweep.csv (itrs-hp, 360 K): leak_power_mW
  // for 1, 16, 4, 0.125, 2, 0.5, 4 and 8 KiB; the table holds their mean per KiB.
  const double kib[] = {1, 16, 4, 0.125, 2, 0.5, 4, 8};
  const double mw[] = {1.78934, 27.127, 8.23828, 0.249588, 3.22997, 1.03183, 7.30186, 13.6943};
  double sum = 0;
  for (int i = 0; i < 8; ++i) sum += mw[i] / kib[i];
  const EnergyTable t = horowitz45();
  CHECK(t.sram_leakage_mw_per_kb(false) == Approx(sum / 8).epsilon(1e-3));
  // Accelergy's CACTI plug-in default (itrs-lstp, 300 K): about 3 uW for 64 KiB.
  CHECK(t.sram_leakage_mw_per_kb(true) == Approx(3e-3 / 64).epsilon(1e-3));
}

TEST_CASE("widths below one bit and missing entries are internal errors, not silent zeros") {
  const EnergyTable t = horowitz45();
  CHECK_THROWS_AS(t.int_add_pj(0), InternalError);
  CHECK_THROWS_AS(t.int_mul_pj(8, 0), InternalError);
  CHECK_THROWS_AS(t.sram_pj_per_bit(0), InternalError);
  CHECK_THROWS_AS(t.fp_add_pj(kInt8), InternalError);
  EnergyTable empty;
  CHECK_THROWS_AS(empty.mac_pj(kInt8, kInt8), InternalError);
}

TEST_CASE("the printed table lists every key with its value and source") {
  const EnergyTable t = horowitz45();
  const auto rows = energy_table_rows(t);
  CHECK(rows.size() == energy_table_keys().size() + 2);
  CHECK(rows[0].key == "node_nm");
  for (const auto& r : rows) {
    CHECK_FALSE(r.source.empty());
    CHECK_FALSE(r.unit.empty());
  }
  const std::string text = format_energy_table(t);
  for (const auto& k : energy_table_keys()) CHECK(text.find(k) != std::string::npos);
  CHECK(text.find("Horowitz ISSCC'14") != std::string::npos);
  CHECK(text.find("MAC int8") != std::string::npos);
}
