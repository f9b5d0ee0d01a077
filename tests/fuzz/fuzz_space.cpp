// libFuzzer target: `lpsim explore` design-space files (load_space), then the
// points a sweep would visit (select_points) and the design points they name.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_common.h"
#include "study/explore_space.h"

namespace {

namespace ex = lpsim::explore;

// The space file lives in a private folder beside `base.yaml` (the shipped
// tpu_int8 point), so seeds reach the axes with `base: base.yaml` (resolved
// relative to the space file) as well as with a shipped name (`base: tpu_int8`).
std::string make_space_dir() {
  const std::string dir = lpsim::fuzz::scratch_path("_space");
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) __builtin_trap();
  std::ifstream in(std::string(LPSIM_ARCH_DIR) + "/tpu_int8.yaml", std::ios::binary);
  const std::string base(std::istreambuf_iterator<char>(in), {});
  if (base.empty()) __builtin_trap();
  lpsim::fuzz::write_bytes(dir + "/base.yaml", reinterpret_cast<const std::uint8_t*>(base.data()),
                           base.size());
  return dir;
}

// What select_points promises: ids ascending, distinct, inside the space.
void check_ids(const std::vector<std::int64_t>& ids, std::int64_t size) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= size) __builtin_trap();
    if (i > 0 && ids[i] <= ids[i - 1]) __builtin_trap();
  }
}

// Overrides and (where valid together) the design point of `id`; its
// coordinates must number it back.
void visit(const ex::DesignSpace& space, std::int64_t id) {
  if (space.id_of(space.coordinates(id)) != id) __builtin_trap();
  if (space.overrides(id).size() != space.axes.size()) __builtin_trap();
  // Values valid one by one can be invalid together: an InputError naming
  // the point, which explore reports as such.
  lpsim::fuzz::expect_input_error_only([&] { (void)space.arch(id); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = make_space_dir() + "/space.yaml";
  lpsim::fuzz::write_bytes(path, data, size);
  lpsim::fuzz::expect_input_error_only([&] {
    // Every axis value is validated on the base design point (~1 ms each
    // under ASan, 20 times that on a loaded machine); 128 values in all keep
    // one input well inside -timeout, as -max_len bounds the input's size.
    // The same code runs per value.
    const ex::DesignSpace space = ex::load_space(path, 128);
    const std::int64_t n = space.size();  // load_space has checked it
    if (n < 1) __builtin_trap();
    if (n <= 4096) check_ids(ex::select_points(space, ex::Sampling::All, 0, 1), n);
    for (const std::int64_t samples : {1, 5}) {
      const auto random = ex::select_points(space, ex::Sampling::Random, samples, 1);
      check_ids(random, n);
      if (std::int64_t(random.size()) != std::min(samples, n)) __builtin_trap();
      const auto lhs = ex::select_points(space, ex::Sampling::LatinHypercube, samples, 7);
      check_ids(lhs, n);
      if (lhs.empty() || std::int64_t(lhs.size()) > samples) __builtin_trap();
    }
    visit(space, 0);
    visit(space, n - 1);
    visit(space, n / 2);
  });
  return 0;
}
