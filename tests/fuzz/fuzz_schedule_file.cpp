// libFuzzer target: file: schedules (YAML or JSON schedule files).
#include <cstdint>

#include "fuzz_common.h"
#include "traces/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = lpsim::fuzz::scratch_path("_schedule.yaml");
  lpsim::fuzz::write_bytes(path, data, size);
  lpsim::fuzz::expect_input_error_only([&] {
    auto s = lpsim::parse_schedule("file:" + path);
    for (std::int64_t total : {std::int64_t{1}, std::int64_t{391 * 160}, std::int64_t{1} << 40})
      for (std::int64_t it : {std::int64_t{0}, total / 2, total - 1})
        (void)s->at(lpsim::ScheduleContext{it, total, total > 391 ? 391 : 1});
    (void)s->layer_overrides();
  });
  return 0;
}
