#pragma once

#include <condition_variable>
#include <mutex>

#include <absl/time/time.h>

namespace usersvc::server {

/// Counts calls between their arrival and their last completion, so shutdown can wait until none
/// is left before it shuts the completion queues down. Also says whether the server is draining.
///
/// std::mutex rather than absl::Mutex here and elsewhere in the service: Debian's abseil is not
/// built with ThreadSanitizer, which therefore cannot see what an absl::Mutex orders.
class CallTracker {
 public:
  void StartDraining() {
    std::lock_guard lock(mutex_);
    draining_ = true;
  }
  /// Counts an arriving call; true if the server is draining and the call must be refused.
  [[nodiscard]] bool Begin() {
    std::lock_guard lock(mutex_);
    ++in_flight_;
    return draining_;
  }
  void End() {
    std::lock_guard lock(mutex_);
    if (--in_flight_ == 0 && draining_) idle_.notify_all();
  }
  int in_flight() const {
    std::lock_guard lock(mutex_);
    return in_flight_;
  }
  /// True once no call is in flight; false if `deadline` came first. Call after StartDraining.
  bool WaitForIdle(absl::Time deadline) const {
    std::unique_lock lock(mutex_);
    return idle_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return in_flight_ == 0; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable idle_;
  bool draining_ = false;  // guarded by mutex_
  int in_flight_ = 0;      // guarded by mutex_
};

}  // namespace usersvc::server
