#pragma once

#include "callbacks/handlers/services.h"
#include "callbacks/handlers/stream.h"
#include "user/v1/user.pb.h"

namespace usersvc::callbacks {

/// Messages an event stream may have waiting for its client: a burst of the feed's reads (up to
/// EventFeed::kBatch at once) fits twice over; a client that falls further behind is ended with
/// RESOURCE_EXHAUSTED and resumes with the last id it got.
inline constexpr size_t kMaxQueuedEvents = 512;

/// WatchUserEvents: the events after `after_id` read from the outbox, paced by the client (a
/// batch at a time, the next once the last has gone out), then the feed's as they commit (see
/// callbacks/domain/event_feed.h). Ends UNAVAILABLE when the server drains.
void WatchUserEvents(Services& services,
                     StreamExchange<user::v1::WatchUserEventsRequest, user::v1::UserEvent> call);

}  // namespace usersvc::callbacks
