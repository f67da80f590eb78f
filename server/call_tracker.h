#pragma once

#include <absl/synchronization/mutex.h>
#include <absl/time/time.h>

namespace usersvc::server {

/// Counts calls between their arrival and their last completion, so shutdown can wait until none
/// is left before it shuts the completion queues down. Also says whether the server is draining.
class CallTracker {
 public:
  void StartDraining() {
    absl::MutexLock lock(&mutex_);
    draining_ = true;
  }
  /// Counts an arriving call; true if the server is draining and the call must be refused.
  [[nodiscard]] bool Begin() {
    absl::MutexLock lock(&mutex_);
    ++in_flight_;
    return draining_;
  }
  void End() {
    absl::MutexLock lock(&mutex_);
    --in_flight_;
  }
  int in_flight() const {
    absl::MutexLock lock(&mutex_);
    return in_flight_;
  }
  /// True once no call is in flight; false if `deadline` came first.
  bool WaitForIdle(absl::Time deadline) const {
    absl::MutexLock lock(&mutex_);
    auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return in_flight_ == 0; };
    return mutex_.AwaitWithDeadline(absl::Condition(&idle), deadline);
  }

 private:
  mutable absl::Mutex mutex_;
  bool draining_ ABSL_GUARDED_BY(mutex_) = false;
  int in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace usersvc::server
