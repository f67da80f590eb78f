#pragma once

#include <string>

#include <absl/functional/any_invocable.h>
#include <absl/synchronization/mutex.h>
#include <absl/time/time.h>

namespace usersvc::callbacks {

/// What the service knows of its own health: the last database probe and whether it is draining.
/// Thread-safe. `on_serving_change` runs (on the recording thread) whenever "should serve" flips,
/// so the server can mirror it into grpc.health.v1.
class HealthMonitor {
 public:
  struct DatabaseProbe {
    bool probed = false;
    bool ok = false;
    std::string message;
    absl::Duration latency;
  };

  explicit HealthMonitor(absl::AnyInvocable<void(bool serving)> on_serving_change)
      : on_serving_change_(std::move(on_serving_change)) {}

  void RecordProbe(bool ok, std::string message, absl::Duration latency);
  void SetDraining();

  DatabaseProbe database() const;
  bool draining() const;
  /// True while the database answers and the server is not draining.
  bool serving() const;

 private:
  void Publish(bool was_serving);

  mutable absl::Mutex mutex_;
  DatabaseProbe database_ ABSL_GUARDED_BY(mutex_);
  bool draining_ ABSL_GUARDED_BY(mutex_) = false;
  absl::AnyInvocable<void(bool serving)> on_serving_change_;
};

}  // namespace usersvc::callbacks
