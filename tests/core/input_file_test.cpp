// Tests for core/input_file.h: input files read in bounded memory, under caps
// on the bytes of a file and of one line.
#include "core/input_file.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

using namespace lpsim;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("lpsim_input_file_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}

fs::path write(const std::string& name, const std::string& bytes) {
  const fs::path p = scratch(name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

// gzip -n of `bytes` (the gzip program; no timestamp).
fs::path write_gz(const std::string& name, const std::string& bytes) {
  const fs::path plain = write(name + ".plain", bytes);
  const fs::path gz = scratch(name);
  REQUIRE(std::system(("gzip -nc " + plain.string() + " > " + gz.string()).c_str()) == 0);
  return gz;
}

std::vector<std::string> lines_of(const fs::path& p, bool gunzip) {
  std::vector<std::string> out;
  for_each_line(p.string(), gunzip, [&](std::string_view line, std::int64_t no) {
    CHECK(no == static_cast<std::int64_t>(out.size()) + 1);
    out.emplace_back(line);
  });
  return out;
}

// Sets one environment variable for one scope.
struct EnvScope {
  EnvScope(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~EnvScope() { ::unsetenv(name_); }
  EnvScope(const EnvScope&) = delete;
  EnvScope& operator=(const EnvScope&) = delete;

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("lines come back the same from a plain file, a gzip file and concatenated members") {
  const std::string text = "first\n\nthird, longer than the others\nno newline at the end";
  const std::vector<std::string> want{"first", "", "third, longer than the others",
                                      "no newline at the end"};
  CHECK(lines_of(write("plain.txt", text), true) == want);
  const fs::path gz = write_gz("one.gz", text);
  CHECK(lines_of(gz, true) == want);
  // `cat a.gz b.gz` is one stream holding both.
  const fs::path a = write_gz("a.gz", "alpha\n"), b = write_gz("b.gz", "beta\n");
  const fs::path both = scratch("both.gz");
  REQUIRE(std::system(("cat " + a.string() + " " + b.string() + " > " + both.string()).c_str()) ==
          0);
  CHECK(lines_of(both, true) == std::vector<std::string>{"alpha", "beta"});
  // Without gunzip the bytes are taken as they are.
  CHECK(read_input_file(gz.string()) ==
        std::string(
            std::istreambuf_iterator<char>(*std::make_unique<std::ifstream>(gz, std::ios::binary)),
            std::istreambuf_iterator<char>()));
}

TEST_CASE("gzip data cut short or damaged is an input error naming the file") {
  const fs::path gz = write_gz("cut.gz", std::string(100000, 'z') + "\n");
  const auto size = fs::file_size(gz);
  fs::resize_file(gz, size / 2);
  CHECK_THROWS_WITH(read_input_file(gz.string(), true),
                    Catch::Contains(gz.string()) && Catch::Contains("truncated"));
}

TEST_CASE("a line longer than the record cap is refused with its line number and the cap") {
  const EnvScope cap("LPSIM_MAX_RECORD_MB", "1");
  const std::string ok(1 << 20, 'a');  // exactly the cap: accepted
  const fs::path fine = write("fine.txt", "x\n" + ok + "\n");
  CHECK(lines_of(fine, false).size() == 2);
  const fs::path p = write("long.txt", "x\n" + ok + "a\n");
  CHECK_THROWS_WITH(lines_of(p, false), Catch::Contains(p.string() + ":2") &&
                                            Catch::Contains("1 MiB") &&
                                            Catch::Contains("LPSIM_MAX_RECORD_MB"));
  // A file parsed whole is one record: the cap bounds all of it, lines or not.
  for (bool lines : {true, false})
    CHECK_THROWS_WITH(read_input_file(p.string(), false, lines),
                      Catch::Contains("read whole") && Catch::Contains("LPSIM_MAX_RECORD_MB"));
  CHECK(read_input_file(write("small.bin", ok).string(), false, false) == ok);
}

TEST_CASE("a file, or a gzip stream, over the input cap is refused with the cap") {
  const EnvScope cap("LPSIM_MAX_INPUT_MB", "1");
  std::string text;
  while (text.size() <= (1u << 20)) text += "a short line of text\n";
  const fs::path p = write("big.txt", text);
  CHECK_THROWS_WITH(lines_of(p, false),
                    Catch::Contains(p.string()) && Catch::Contains("LPSIM_MAX_INPUT_MB"));
  const fs::path gz = write_gz("big.gz", text);
  CHECK(fs::file_size(gz) < (1u << 20) / 8);  // small on disk, over the cap unpacked
  CHECK_THROWS_WITH(lines_of(gz, true), Catch::Contains("after gunzip"));
}

TEST_CASE("the caps' environment variables must be whole MiB in range") {
  CHECK(input_caps().max_bytes == kDefaultMaxInputBytes);
  CHECK(input_caps().max_record_bytes == kDefaultMaxRecordBytes);
  {
    const EnvScope cap("LPSIM_MAX_INPUT_MB", "1024");
    CHECK(input_caps().max_bytes == 1024 * kMiB);
  }
  for (const char* bad : {"", "0", "-5", "12abc", "99999999999999999999", "65537"}) {
    INFO(bad);
    const EnvScope cap("LPSIM_MAX_RECORD_MB", bad);
    CHECK_THROWS_WITH(input_caps(),
                      Catch::Contains("LPSIM_MAX_RECORD_MB") && Catch::Contains("1..65536"));
  }
}

TEST_CASE("a missing file or a directory is an input error naming it") {
  CHECK_THROWS_WITH(read_input_file(scratch("absent.txt").string()), Catch::Contains("absent.txt"));
  CHECK_THROWS_WITH(read_input_file(fs::temp_directory_path().string()),
                    Catch::Contains("is a directory"));
}
