// The trainer's thread pool (see parallel.h).
#include "trainer/impl/parallel.h"

#include <immintrin.h>

namespace lpsim::trainer::impl {
namespace {

// About 50-100 us of pause instructions: longer than the serial steps
// between most jobs of a training step, short against a time slice.
constexpr int kSpins = 2000;

std::uint64_t generation_of(std::uint64_t ticket) { return ticket >> 32; }
constexpr std::uint64_t kNoTask = 0xffffffffu;  // a task index no job has

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks(std::uint64_t generation) {
  for (;;) {
    std::uint64_t t = ticket_.load();
    std::int64_t i;
    do {  // claim task i of this generation, or stop
      i = static_cast<std::int64_t>(t & kNoTask);
      if (generation_of(t) != generation || i >= n_.load()) return;
    } while (!ticket_.compare_exchange_weak(t, t + 1));
    try {
      (*fn_)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (finished_.fetch_add(1) + 1 == n_.load() && caller_waiting_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_all();
    }
  }
}

void ThreadPool::worker_loop() {
  std::uint64_t seen = 0;
  for (;;) {
    std::uint64_t g = generation_of(ticket_.load());
    for (int spin = 0; g == seen && !stop_.load(); ++spin) {
      if (spin < kSpins) {
        _mm_pause();
      } else {
        std::unique_lock<std::mutex> lock(mutex_);
        ++sleepers_;  // before the check: parallel_for reads it after publishing
        wake_.wait(lock, [&] { return stop_.load() || generation_of(ticket_.load()) != seen; });
        --sleepers_;
      }
      g = generation_of(ticket_.load());
    }
    if (stop_.load()) return;
    seen = g;
    run_tasks(g);
  }
}

void ThreadPool::parallel_for(std::int64_t n, const std::function<void(std::int64_t)>& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1 || static_cast<std::uint64_t>(n) >= kNoTask) {
    for (std::int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  // The previous job is finished, but a thread may still hold its last
  // ticket: close it (no task kNoTask) before n_ changes, so that claim fails.
  const std::uint64_t generation = generation_of(ticket_.load()) + 1;
  ticket_.store(((generation - 1) << 32) | kNoTask);
  fn_ = &fn;
  n_.store(n);
  finished_.store(0);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = nullptr;
  }
  ticket_.store(generation << 32);
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
  }
  run_tasks(generation);
  for (int spin = 0; finished_.load() != n; ++spin) {
    if (spin < kSpins) {
      _mm_pause();
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    caller_waiting_ = true;
    done_.wait(lock, [&] { return finished_.load() == n; });
    caller_waiting_ = false;
  }
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace lpsim::trainer::impl
