#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <absl/functional/any_invocable.h>
#include <absl/time/time.h>

namespace usersvc::callbacks {

/// What the service knows of its own health: the database probes, whether any pool connection is
/// ready, and whether it is draining. It serves while a connection is ready, the last probe
/// answered (or only one probe in a row failed: a single slow or lost probe under load does not
/// flip a replica) and it is not draining; losing the last connection flips it at once, without
/// waiting for the next probe. Thread-safe. `on_serving_change` runs (on the recording thread,
/// under the monitor's lock, so it must not call back into the monitor) whenever "should serve"
/// flips; watchers (grpc.health.v1 Watch streams) hear of every change the same way.
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

  /// Called with (serving, draining) at once and again on every change, under the monitor's lock
  /// (so in order; it must not call back into the monitor), for as long as `alive` has not
  /// expired.
  using WatchCallback = absl::AnyInvocable<void(bool serving, bool draining)>;
  void Watch(std::weak_ptr<void> alive, WatchCallback on_change);

  void RecordProbe(bool ok, std::string message, absl::Duration latency);
  /// From the primary pool: its first connection became ready (true) or its last one was lost.
  void RecordConnections(bool any_ready);
  void SetDraining();

  /// Probes failing in a row before the database counts as down.
  static constexpr int kFailedProbesToFlip = 2;

  DatabaseProbe database() const;
  bool draining() const;
  /// True while the database answers and the server is not draining.
  bool serving() const;

 private:
  /// Applies `change` and reports a flip of "should serve", all under the lock, so that two
  /// threads recording at once cannot report their flips out of order.
  template <typename Change>
  void Update(Change change);
  bool ServingLocked() const { return probes_say_up_ && connections_ready_ && !draining_; }

  struct Watcher {
    std::weak_ptr<void> alive;
    WatchCallback on_change;
  };
  /// Drops the watchers whose `alive` expired.
  void PruneLocked();

  mutable std::mutex mutex_;
  std::vector<Watcher> watchers_;   // guarded by mutex_
  DatabaseProbe database_;          // guarded by mutex_
  int failed_probes_ = 0;           // in a row; guarded by mutex_
  bool probes_say_up_ = false;      // guarded by mutex_
  bool connections_ready_ = false;  // guarded by mutex_
  bool draining_ = false;           // guarded by mutex_
  absl::AnyInvocable<void(bool serving)> on_serving_change_;
};

}  // namespace usersvc::callbacks
