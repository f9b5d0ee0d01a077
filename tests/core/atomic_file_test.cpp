// Tests for core/atomic_file.h, the output-path policy: files whole or not at
// all, devices and FIFOs as streams, links followed, bad paths refused.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

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

namespace {

// A character device made in `dir` with mknod (needs CAP_MKNOD): (1, 3) is
// the kernel's null device, (1, 7) its full device (every write: ENOSPC).
// Tests never write to the system's own /dev nodes.
bool make_char_device(const fs::path& p, unsigned minor) {
  return ::mknod(p.c_str(), S_IFCHR | 0666, ::makedev(1, minor)) == 0;
}

bool is_char_device(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

// Sets LPSIM_FAULT_WRITE for one scope.
struct FaultScope {
  explicit FaultScope(const char* mode) { ::setenv("LPSIM_FAULT_WRITE", mode, 1); }
  ~FaultScope() { ::unsetenv("LPSIM_FAULT_WRITE"); }
  FaultScope(const FaultScope&) = delete;
  FaultScope& operator=(const FaultScope&) = delete;
};

}  // namespace

TEST_CASE("a symlink is written through to its target and stays a link") {
  fs::path d = fresh_dir("lpsim_atomic_link");
  fs::create_directories(d / "real");
  fs::create_symlink("real/out.txt", d / "link.txt");  // dangling at first
  write_file_atomic((d / "link.txt").string(), std::string("one"));
  CHECK(fs::is_symlink(d / "link.txt"));
  CHECK(slurp(d / "real" / "out.txt") == "one");
  write_file_atomic((d / "link.txt").string(), std::string("two"));
  CHECK(fs::is_symlink(d / "link.txt"));
  CHECK(slurp(d / "real" / "out.txt") == "two");
  CHECK(std::distance(fs::directory_iterator(d / "real"), fs::directory_iterator()) == 1);
}

TEST_CASE("a character device is written as a stream and never replaced") {
  fs::path d = fresh_dir("lpsim_atomic_dev");
  if (!make_char_device(d / "null", 3) || !make_char_device(d / "full", 7)) {
    WARN("mknod not permitted here (not root): device cases skipped");
    return;
  }
  CHECK(resolve_output((d / "null").string()).kind == OutputKind::kStream);
  write_file_atomic((d / "null").string(), std::string("discarded"));
  CHECK(is_char_device(d / "null"));
  // The full device: ENOSPC on the first write, reported, the node intact.
  CHECK_THROWS_WITH(write_file_atomic((d / "full").string(), std::string("x")),
                    Catch::Contains((d / "full").string()) &&
                        Catch::Contains(std::strerror(ENOSPC)));
  CHECK(is_char_device(d / "full"));
  // Through a symlink, still the device.
  fs::create_symlink(d / "full", d / "full_link");
  CHECK_THROWS_AS(write_file_atomic((d / "full_link").string(), std::string("x")), InputError);
  CHECK(is_char_device(d / "full"));
  CHECK(fs::is_symlink(d / "full_link"));
}

TEST_CASE("a FIFO is written as a stream: the reader gets every byte and the FIFO stays") {
  fs::path d = fresh_dir("lpsim_atomic_fifo");
  REQUIRE(::mkfifo((d / "pipe").c_str(), 0644) == 0);
  std::string got;
  std::thread reader([&] {
    std::ifstream in(d / "pipe", std::ios::binary);
    got.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  });
  const std::string bytes(300000, 'q');  // more than a pipe buffer
  write_file_atomic((d / "pipe").string(), bytes);
  reader.join();
  CHECK(got == bytes);
  struct stat st {};
  REQUIRE(::lstat((d / "pipe").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("links into /proc and - are streams, only - is standard output by name") {
  CHECK(resolve_output("-").kind == OutputKind::kStdout);
  CHECK(writes_stdout("-"));
  CHECK(resolve_output("/dev/stdout").kind == OutputKind::kStream);
  CHECK(resolve_output("/proc/self/fd/2").kind == OutputKind::kStream);
  fs::path d = fresh_dir("lpsim_atomic_stdout");
  CHECK(resolve_output((d / "new.txt").string()).kind == OutputKind::kAtomicFile);
  CHECK_FALSE(writes_stdout((d / "new.txt").string()));
}

TEST_CASE("a directory, a missing directory and an empty path are refused in one line") {
  fs::path d = fresh_dir("lpsim_atomic_refuse");
  CHECK_THROWS_WITH(resolve_output(d.string()), Catch::Contains("is a directory"));
  CHECK_THROWS_WITH(resolve_output((d / "no" / "x.txt").string()),
                    Catch::Contains("does not exist") && Catch::Contains((d / "no").string()));
  CHECK_THROWS_AS(resolve_output(""), InputError);
  fs::create_symlink("loop", d / "loop");
  CHECK_THROWS_WITH(resolve_output((d / "loop").string()), Catch::Contains("symbolic links"));
}

TEST_CASE("ENOSPC or EIO while writing leaves the old file whole and no temporary") {
  fs::path d = fresh_dir("lpsim_atomic_fault");
  fs::path f = d / "out.txt";
  write_file_atomic(f.string(), std::string("old"));
  for (const char* mode : {"enospc", "eio"}) {
    INFO(mode);
    const FaultScope fault(mode);
    const char* reason = std::strcmp(mode, "eio") == 0 ? std::strerror(EIO) : std::strerror(ENOSPC);
    CHECK_THROWS_WITH(write_file_atomic(f.string(), std::string(100000, 'n')),
                      Catch::Contains(f.string()) && Catch::Contains(reason));
    CHECK(slurp(f) == "old");
    CHECK(std::distance(fs::directory_iterator(d), fs::directory_iterator()) == 1);
  }
}
