#pragma once

#include <string>

#include <absl/time/time.h>

#include "callbacks/cpu_pool.h"
#include "callbacks/health_monitor.h"
#include "storage/pool.h"

namespace usersvc::callbacks {

/// What handlers share: the database pool, the password-hashing threads and the health state.
struct Services {
  storage::Pool& pool;
  CpuPool& cpu;
  HealthMonitor& health;
  std::string version;
  absl::Time started_at;
};

}  // namespace usersvc::callbacks
