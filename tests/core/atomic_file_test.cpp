// Tests for core/atomic_file.h: outputs are written whole or not at all.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

using namespace lpsim;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
fs::path fresh_dir(const char* name) {
  fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("an atomic write replaces the old file and leaves no temporary behind") {
  fs::path d = fresh_dir("lpsim_atomic_1");
  fs::path f = d / "out.txt";
  write_file_atomic(f.string(), std::string("old"));
  write_file_atomic(f.string(), std::string("new contents"));
  CHECK(slurp(f) == "new contents");
  CHECK(std::distance(fs::directory_iterator(d), fs::directory_iterator()) == 1);
}

TEST_CASE("a writer that throws leaves the old file intact and no temporary") {
  fs::path d = fresh_dir("lpsim_atomic_2");
  fs::path f = d / "out.txt";
  write_file_atomic(f.string(), std::string("old"));
  CHECK_THROWS(write_file_atomic(f.string(), [](std::ostream& os) {
    os << "half";
    throw InputError("stop mid-way");
  }));
  CHECK(slurp(f) == "old");
  CHECK(std::distance(fs::directory_iterator(d), fs::directory_iterator()) == 1);
}

TEST_CASE("writing into a missing directory or onto a directory is an input error naming it") {
  fs::path d = fresh_dir("lpsim_atomic_3");
  CHECK_THROWS_WITH(write_file_atomic((d / "no" / "such" / "x.txt").string(), std::string("x")),
                    Catch::Contains("no/such/x.txt"));
  CHECK_THROWS_AS(write_file_atomic(d.string(), std::string("x")), InputError);
}
