// A small fixed pool of worker threads. Work is split into tasks whose
// boundaries never depend on the thread count, so results do not either.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lpsim::trainer::impl {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // threads >= 1; the caller counts as one
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  // Runs fn(0) .. fn(n - 1), each exactly once, on the pool; returns when all
  // are done. The first exception thrown by a task is rethrown here.
  void parallel_for(std::int64_t n, const std::function<void(std::int64_t)>& fn);

 private:
  void worker_loop();
  void run_tasks(std::uint64_t generation);

  std::vector<std::thread> workers_;
  // A job's tasks are claimed from `ticket_`: its generation in the high 32
  // bits, the next task in the low 32, so a claim of a finished job fails.
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<std::int64_t> n_{0}, finished_{0};
  const std::function<void(std::int64_t)>* fn_ = nullptr;
  // Idle threads spin a little (the next job usually follows within
  // microseconds), then sleep on a condition variable.
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_waiting_{false}, stop_{false};
  std::exception_ptr error_;
};

}  // namespace lpsim::trainer::impl
