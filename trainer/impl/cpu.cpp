// The trainer's run-time CPU check (cpu.h).
#include "trainer/impl/cpu.h"

namespace lpsim::trainer::impl {

bool have_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }();
  return yes;
}

bool have_avx512vbmi() {
  static const bool yes = have_avx512() && __builtin_cpu_supports("avx512vbmi");
  return yes;
}

}  // namespace lpsim::trainer::impl
