#include "callbacks/domain/cpu_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/log.h"
#include "storage/thread_name.h"

namespace usersvc::callbacks {
namespace {

/// Raises this thread's nice value by `nice` over the one it started with (the process's), at
/// most to 19. Linux keeps a nice value per thread: PRIO_PROCESS with a thread id is this one.
void NiceThisThread(int nice) {
  if (nice == 0) return;
  const auto self = static_cast<id_t>(gettid());
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, self);  // -1 is a nice value as well as an error
  if (errno == 0 && setpriority(PRIO_PROCESS, self, std::min(19, own + nice)) == 0) return;
  // Lowering one's own priority is always allowed; should it fail, hashing runs as before.
  Log(LogLevel::kWarning, "could not lower the CPU pool's priority",
      {{"nice", nice}, {"error", std::strerror(errno)}});
}

}  // namespace

CpuPool::CpuPool(int threads, size_t max_queued, int nice) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i, nice] {
      NameThisThread("cpu-" + std::to_string(i));
      NiceThisThread(nice);
      Work();
    });
  }
}

CpuPool::~CpuPool() { Stop(); }

bool CpuPool::Submit(Task task, Task abandoned) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back({std::move(task), std::move(abandoned)});
  }
  wake_.notify_one();
  return true;
}

void CpuPool::Stop() {
  std::deque<Queued> abandoned;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abandoned.swap(queue_);
  }
  wake_.notify_all();
  for (Queued& queued : abandoned) std::move(queued.abandoned)();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void CpuPool::Work() {
  while (true) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front().task);
      queue_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace usersvc::callbacks
