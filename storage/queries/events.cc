#include "storage/queries/events.h"

namespace usersvc::storage::queries {

// kChanges: the function takes the outbox lock and must see the primary's writers, so it never
// goes to a replica, and it is not retried on its own (a caller simply reads again).
const Query<EventFeedParams, EventFeedRow> kEventFeed{
    "event_feed",
    "SELECT horizon, pruned_through, id, event_type, user_id, payload::text,"
    " (payload - 'token')::text,"
    " (extract(epoch FROM created_at) * 1000000)::int8"
    " FROM usersvc_event_feed($1::int8, $2::int4)",
    Access::kChanges};

}  // namespace usersvc::storage::queries
