// Pieces shared by the schedule parsers: splitting a spec string into kind,
// body and options, and one-line errors that name the spec and its form.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/precision.h"
#include "traces/schedule.h"

namespace lpsim::schedule_impl {

// "cyclic:3-8/8,cycles=16" -> kind "cyclic", body "3-8/8", options {cycles: 16}.
struct SpecParts {
  std::string spec;  // the whole string, for error messages
  std::string kind;
  std::string body;
  std::vector<std::pair<std::string, std::string>> options;
};

// Throws InputError "schedule '<spec>': <what>; expected <form>".
[[noreturn]] void spec_error(std::string_view spec, std::string_view what, std::string_view form);

// Integer bits in kMinBits..kMaxBits.
int parse_bits(std::string_view text, std::string_view spec, std::string_view form);
// Any number format (core/precision.h), errors naming the spec.
Format parse_spec_format(std::string_view text, std::string_view spec);
// "FW/BW" or a single format meaning FW = BW.
PrecisionSet parse_fw_bw(std::string_view text, std::string_view spec, std::string_view form);
// "MIN-MAX/BW": a range of integer FW bits (1 <= MIN <= MAX <= 64) and the BW format.
struct BitRange {
  int min_bits = 0;
  int max_bits = 0;
  Format bw;
};
BitRange parse_bit_range(std::string_view text, std::string_view spec, std::string_view form);
// An integer option >= 1.
int parse_positive_int(std::string_view key, std::string_view text, std::string_view spec,
                       std::string_view form);
// "FW/BW" canonical spelling: a single name when both are the same float format.
std::string fw_bw_name(const Format& fw, const Format& bw);
// A fraction of training in (0, 1].
double parse_fraction(std::string_view key, std::string_view text, std::string_view spec,
                      std::string_view form);
// Shortest decimal that reads back to the same double.
std::string format_double(double v);

// One factory per kind (traces/impl/<kind>_schedule.cpp). Each rejects
// options it does not know.
std::unique_ptr<Schedule> make_static(const SpecParts& parts);
std::unique_ptr<Schedule> make_progressive(const SpecParts& parts);
std::unique_ptr<Schedule> make_cyclic(const SpecParts& parts);
std::unique_ptr<Schedule> make_two_phase(const SpecParts& parts);
std::unique_ptr<Schedule> make_file(const SpecParts& parts);
std::unique_ptr<Schedule> make_muppet(const SpecParts& parts);

}  // namespace lpsim::schedule_impl
