// Inputs made to exhaust memory (docs/reliability.md, "Resource limits"): a
// gzip bomb and a 1 GiB single-line file are each refused in one line, exit
// 2, with the child's peak resident memory under 256 MB. Both are made at
// test time: the bomb by repeating one small gzip member, the long line as a
// sparse file.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/gzip_zeros.h"
#include "support/shell.h"

namespace fs = std::filesystem;
using lpsim::test::gzip_zeros;
using lpsim::test::run_measured;

namespace {

constexpr long kRssLimitKb = 256 * 1024;

fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_bounded_input_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

void expect_refused_in_bounded_memory(const std::vector<std::string>& args, const std::string& file,
                                      const std::string& cap) {
  std::vector<std::string> argv{LPSIM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_measured(argv);
  INFO("stderr: " << r.err);
  INFO("peak resident memory: " << r.max_rss_kb / 1024 << " MB");
  CHECK(r.code == 2);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_THAT(r.err, Catch::StartsWith("lpsim: ") && Catch::Contains(file) && Catch::Contains(cap) &&
                        !Catch::Contains("internal error"));
  CHECK(r.max_rss_kb > 0);
  CHECK(r.max_rss_kb < kRssLimitKb);
}

}  // namespace

TEST_CASE("a gzip bomb of 8 GiB of zeros is refused at the record cap in under 256 MB") {
  const fs::path bomb = scratch() / "bomb.lpt.gz";
  {
    // 512 members of 16 MiB each: one stream of 8 GiB, about 8 MB on disk
    // (the issue's 8.7 MB file).
    const std::string member = gzip_zeros(std::size_t{16} << 20);
    std::ofstream out(bomb, std::ios::binary);
    for (int i = 0; i < 512; ++i) out << member;
    REQUIRE(out.good());
  }
  REQUIRE(fs::file_size(bomb) < (std::uintmax_t{16} << 20));
  expect_refused_in_bounded_memory({"bitops", bomb.string()}, bomb.string(), "LPSIM_MAX_RECORD_MB");
}

TEST_CASE("a 1 GiB single-line file is refused at the record cap in under 256 MB, in each format") {
  const fs::path line = scratch() / "one_line";
  {
    std::ofstream out(line, std::ios::binary);
    out << R"({"lpsim_trace":1,"producer":")";
  }
  fs::resize_file(line, std::uintmax_t{1} << 30);  // sparse: no disk spent on the zeros
  const std::string p = line.string();
  expect_refused_in_bounded_memory({"bitops", p}, p, "LPSIM_MAX_RECORD_MB");
  expect_refused_in_bounded_memory({"energy-table", "--arch", p}, p, "LPSIM_MAX_RECORD_MB");
  expect_refused_in_bounded_memory({"simulate", "--topology", p, "--arch", "tpu_int8"}, p,
                                   "LPSIM_MAX_RECORD_MB");
  fs::remove(line);
}
