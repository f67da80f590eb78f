#include "callbacks/domain/health_monitor.h"

namespace usersvc::callbacks {

template <typename Change>
void HealthMonitor::Update(Change change) {
  std::lock_guard lock(mutex_);
  const bool was_serving = ServingLocked();
  const bool was_draining = draining_;
  change();
  const bool now_serving = ServingLocked();
  if (now_serving != was_serving && on_serving_change_) on_serving_change_(now_serving);
  if (now_serving == was_serving && draining_ == was_draining) return;
  PruneLocked();
  for (Watcher& watcher : watchers_) watcher.on_change(now_serving, draining_);
}

void HealthMonitor::PruneLocked() {
  std::erase_if(watchers_, [](const Watcher& watcher) { return watcher.alive.expired(); });
}

void HealthMonitor::Watch(std::weak_ptr<void> alive, WatchCallback on_change) {
  std::lock_guard lock(mutex_);
  PruneLocked();  // so watchers that come and go without a change in between stay bounded
  on_change(ServingLocked(), draining_);
  watchers_.push_back({std::move(alive), std::move(on_change)});
}

void HealthMonitor::RecordProbe(bool ok, std::string message, absl::Duration latency) {
  Update([&] {
    database_ = {true, ok, std::move(message), latency};
    failed_probes_ = ok ? 0 : failed_probes_ + 1;
    if (ok) probes_say_up_ = true;
    if (failed_probes_ >= kFailedProbesToFlip) probes_say_up_ = false;
  });
}

void HealthMonitor::RecordConnections(bool any_ready) {
  Update([&] { connections_ready_ = any_ready; });
}

void HealthMonitor::SetDraining() {
  Update([&] { draining_ = true; });
}

HealthMonitor::DatabaseProbe HealthMonitor::database() const {
  std::lock_guard lock(mutex_);
  return database_;
}

bool HealthMonitor::draining() const {
  std::lock_guard lock(mutex_);
  return draining_;
}

bool HealthMonitor::serving() const {
  std::lock_guard lock(mutex_);
  return ServingLocked();
}

}  // namespace usersvc::callbacks
