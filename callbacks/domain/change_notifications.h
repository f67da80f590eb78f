#pragma once

#include <string_view>

#include "callbacks/domain/event_feed.h"
#include "callbacks/domain/user_cache.h"

namespace usersvc::callbacks {

/// The channel migrations 0012 and 0013 notify on, which the events pool LISTENs to.
inline constexpr std::string_view kChangesChannel = "usersvc_changes";

/// Routes one notification of that channel: "" (events were committed) to the feed, "users:" and
/// a comma-separated list of ids (or "*": too many to list) to the cache. Anything else is
/// logged and read as "every user may have changed", so that a payload from a newer release
/// can never leave the cache stale.
void DispatchChange(std::string_view payload, EventFeed& feed, UserCache& cache);

}  // namespace usersvc::callbacks
