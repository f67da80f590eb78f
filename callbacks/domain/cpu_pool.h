#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <absl/functional/any_invocable.h>

namespace usersvc::callbacks {

/// A fixed set of threads with a bounded queue for CPU-heavy work (argon2id), so that it never
/// runs on a completion-queue or database thread. The threads may run at a lower priority (a
/// nice value `nice` above the process's, at most 19): hashing is throughput work, and on a
/// machine it keeps busy the threads that answer calls and stream events would otherwise wait
/// for the CPU behind it.
class CpuPool {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  CpuPool(int threads, size_t max_queued, int nice = 0);
  ~CpuPool();
  CpuPool(const CpuPool&) = delete;
  CpuPool& operator=(const CpuPool&) = delete;

  /// Queues `task`; false (and both dropped unrun) when the queue is full or stopped. If the pool
  /// stops before `task` starts, `abandoned` runs instead (on the stopping thread), so that the
  /// caller still answers its call.
  [[nodiscard]] bool Submit(Task task, Task abandoned);
  /// Takes no more tasks, abandons those not started (their `abandoned` runs), waits for the
  /// running ones and joins the threads. At shutdown nothing may finish a call after the server
  /// shut its queues down, so nothing is left to run later.
  void Stop();

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  struct Queued {
    Task task;
    Task abandoned;
  };
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace usersvc::callbacks
