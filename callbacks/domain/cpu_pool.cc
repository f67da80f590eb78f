#include "callbacks/domain/cpu_pool.h"

#include <string>

#include "storage/thread_name.h"

namespace usersvc::callbacks {

CpuPool::CpuPool(int threads, size_t max_queued) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      NameThisThread("cpu-" + std::to_string(i));
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
