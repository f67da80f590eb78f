#pragma once

#include <string>

#include <absl/time/time.h>

#include "callbacks/domain/cpu_pool.h"
#include "callbacks/domain/health_monitor.h"
#include "callbacks/domain/page_tokens.h"
#include "callbacks/domain/user_lookups.h"
#include "storage/store.h"

namespace usersvc::callbacks {

/// What handlers share: the database pools, the password-hashing threads, the health state and
/// the page-token key.
struct Services {
  /// The primary: every change, and every read that is part of one.
  storage::Store& pool;
  /// The read-only RPCs (GetUser, GetUserByEmail, ListUsers, SearchUsers, GetAddress,
  /// ListAddresses, GetUserPreferences): a replica's pool with --database_read_url, else `pool`.
  storage::Store& read_pool;
  CpuPool& cpu;
  HealthMonitor& health;
  const PageTokens& page_tokens;
  UserLookups& lookups;
  std::string version;
  absl::Time started_at;
};

}  // namespace usersvc::callbacks
