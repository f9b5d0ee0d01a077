// Tests for core/precision.h: format names, parsing and range errors.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "core/precision.h"

using namespace lpsim;

TEST_CASE("integer widths parse with or without the int prefix and keep their bit count") {
  CHECK(parse_format("8", "t").bits == 8);
  CHECK(parse_format("int4", "t").bits == 4);
  CHECK_FALSE(parse_format("3", "t").is_float());
}

TEST_CASE("float formats count sign, exponent and mantissa bits") {
  CHECK(parse_format("fp32", "t").bits == 32);   // IEEE 754 binary32: 1 + 8 + 23
  CHECK(parse_format("fp16", "t").bits == 16);   // binary16: 1 + 5 + 10
  CHECK(parse_format("bf16", "t").bits == 16);   // 1 + 8 + 7
  CHECK(parse_format("fp8-e4m3", "t").bits == 8);
  CHECK(parse_format("fp8-e5m2", "t").exp_bits == 5);
  CHECK(parse_format("e6m9", "t").bits == 16);
}

TEST_CASE("a format's name parses back to the same format") {
  for (const char* s : {"1", "8", "64", "fp32", "fp16", "bf16", "fp8-e4m3", "fp8-e5m2", "e3m4"}) {
    Format f = parse_format(s, "t");
    CHECK(parse_format(f.name(), "t") == f);
  }
}

TEST_CASE("0-bit, 65-bit and non-numeric formats are rejected naming the place and range") {
  CHECK_THROWS_WITH(parse_format("0", "x.yaml: pe.width"),
                    Catch::Contains("x.yaml: pe.width") && Catch::Contains("1..64"));
  CHECK_THROWS_AS(parse_format("65", "t"), InputError);
  CHECK_THROWS_AS(parse_format("eight", "t"), InputError);
  CHECK_THROWS_AS(parse_format("", "t"), InputError);
  CHECK_THROWS_AS(parse_format("-8", "t"), InputError);
}

TEST_CASE("CPT's FW/BW notation puts W and A at FW and E and G at BW") {
  auto p = PrecisionSet::fw_bw(Format::integer(3), Format::integer(8));
  CHECK(p[Role::W].bits == 3);
  CHECK(p[Role::A].bits == 3);
  CHECK(p[Role::E].bits == 8);
  CHECK(p[Role::G].bits == 8);
  CHECK(p.label() == "3/8");
}
