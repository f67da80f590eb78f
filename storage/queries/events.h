#pragma once

#include <cstdint>
#include <optional>

#include "storage/params.h"
#include "storage/query.h"
#include "storage/rows.h"

/// The outbox read as a feed (migration 0012): WatchUserEvents and the event feed behind it.
namespace usersvc::storage::queries {

struct EventFeedParams {
  std::optional<int64_t> after_id;  // nullopt: no events, only the horizon and the pruned mark
  int64_t limit = 0;
  auto Fields() const { return std::tie(after_id, limit); }
};

/// Up to `limit` committed events after `after_id`, in id order, never skipping one that commits
/// later (see usersvc_event_feed); always at least one row. On the primary only.
extern const Query<EventFeedParams, EventFeedRow> kEventFeed;

}  // namespace usersvc::storage::queries
