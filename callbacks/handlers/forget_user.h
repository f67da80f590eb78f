#pragma once

#include <string>
#include <utility>

#include <absl/status/status.h>

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"

namespace usersvc::callbacks {

/// `finish`, once the lookup cache has forgotten the user: a change to a user is answered only
/// after, so the caller's next GetUser reads the change. Whatever the outcome: one that is not
/// known (UNKNOWN, a lost connection) may have committed, and one that failed costs a lookup.
inline Finish ForgettingUser(Services& services, std::string user_id, Finish finish) {
  return Finish([&cache = services.user_cache, user_id = std::move(user_id),
                 finish = std::move(finish)](absl::Status status) mutable {
    cache.Forget(user_id);
    std::move(finish)(std::move(status));
  });
}

}  // namespace usersvc::callbacks
