#pragma once

#include <string>

#include <absl/time/time.h>

#include "callbacks/domain/cpu_pool.h"
#include "callbacks/domain/event_feed.h"
#include "callbacks/domain/health_monitor.h"
#include "callbacks/domain/page_tokens.h"
#include "callbacks/domain/user_cache.h"
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
  /// GetUser's and GetUserByEmail's users (behind `lookups`): handlers that change a user Forget
  /// it before they answer, so the caller's next read sees the change.
  UserCache& user_cache;
  std::string version;
  absl::Time started_at;
  /// The outbox feed behind WatchUserEvents (the events pool's); null where nothing streams
  /// (the handlers' unit tests).
  EventFeed* events = nullptr;
  /// --watch_include_tokens: event streams may carry the payloads' raw tokens (to callers with
  /// user.events.tokens when callers are authenticated).
  bool watch_include_tokens = false;
};

}  // namespace usersvc::callbacks
