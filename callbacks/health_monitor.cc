#include "callbacks/health_monitor.h"

namespace usersvc::callbacks {

template <typename Change>
void HealthMonitor::Update(Change change) {
  std::lock_guard lock(mutex_);
  const bool was_serving = ServingLocked();
  change();
  const bool now_serving = ServingLocked();
  if (now_serving != was_serving && on_serving_change_) on_serving_change_(now_serving);
}

void HealthMonitor::RecordProbe(bool ok, std::string message, absl::Duration latency) {
  Update([&] { database_ = {true, ok, std::move(message), latency}; });
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
