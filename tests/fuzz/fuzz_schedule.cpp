// libFuzzer target: schedule strings (parse_schedule), then the schedule asked
// for a precision at a few points of a few run lengths. "file:" specs are left
// to fuzz_schedule_file (a fuzzed path could name a FIFO or /dev/stdin).
#include <cstdint>

#include "fuzz_common.h"
#include "traces/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string spec(reinterpret_cast<const char*>(data), size);
  if (spec.find("file:") != std::string::npos) return 0;
  lpsim::fuzz::expect_input_error_only([&] {
    auto s = lpsim::parse_schedule(spec);
    for (std::int64_t total : {std::int64_t{1}, std::int64_t{7}, std::int64_t{391 * 160},
                               std::int64_t{1} << 40}) {
      for (std::int64_t it : {std::int64_t{0}, total / 2, total - 1}) {
        lpsim::ScheduleContext ctx{it, total, total > 391 ? 391 : 1};
        (void)s->at(ctx);
      }
    }
    (void)lpsim::parse_schedule(s->spec());  // the canonical spec parses back
  });
  return 0;
}
