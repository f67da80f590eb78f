#include "callbacks/health_monitor.h"

namespace usersvc::callbacks {

void HealthMonitor::RecordProbe(bool ok, std::string message, absl::Duration latency) {
  const bool was_serving = serving();
  {
    absl::MutexLock lock(&mutex_);
    database_ = {true, ok, std::move(message), latency};
  }
  Publish(was_serving);
}

void HealthMonitor::SetDraining() {
  const bool was_serving = serving();
  {
    absl::MutexLock lock(&mutex_);
    draining_ = true;
  }
  Publish(was_serving);
}

HealthMonitor::DatabaseProbe HealthMonitor::database() const {
  absl::MutexLock lock(&mutex_);
  return database_;
}

bool HealthMonitor::draining() const {
  absl::MutexLock lock(&mutex_);
  return draining_;
}

bool HealthMonitor::serving() const {
  absl::MutexLock lock(&mutex_);
  return database_.ok && !draining_;
}

void HealthMonitor::Publish(bool was_serving) {
  const bool now_serving = serving();
  if (now_serving != was_serving && on_serving_change_) on_serving_change_(now_serving);
}

}  // namespace usersvc::callbacks
