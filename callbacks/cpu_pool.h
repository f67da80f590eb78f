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
/// runs on a completion-queue or database thread.
class CpuPool {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  CpuPool(int threads, size_t max_queued);
  ~CpuPool();
  CpuPool(const CpuPool&) = delete;
  CpuPool& operator=(const CpuPool&) = delete;

  /// Queues `task`; false (and `task` dropped unrun) when the queue is full or stopped.
  [[nodiscard]] bool Submit(Task task);
  /// Runs what is queued, then joins the threads.
  void Stop();

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace usersvc::callbacks
