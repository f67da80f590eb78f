#pragma once

#include <absl/synchronization/mutex.h>
#include <absl/time/time.h>

namespace usersvc::server {

/// Counts calls between their arrival and their last completion, so shutdown can wait until none
/// is left before it shuts the completion queues down. Also says whether new calls are accepted.
class CallTracker {
 public:
  bool accepting() const {
    absl::MutexLock lock(&mutex_);
    return accepting_;
  }
  void StopAccepting() {
    absl::MutexLock lock(&mutex_);
    accepting_ = false;
  }
  void Begin() {
    absl::MutexLock lock(&mutex_);
    ++in_flight_;
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
  bool accepting_ ABSL_GUARDED_BY(mutex_) = true;
  int in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace usersvc::server
