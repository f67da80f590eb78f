#include "callbacks/domain/change_notifications.h"

#include <absl/strings/str_split.h>

#include "base/log.h"

namespace usersvc::callbacks {

void DispatchChange(std::string_view payload, EventFeed& feed, UserCache& cache) {
  if (payload.empty()) return feed.OnNotification();
  constexpr std::string_view kUsers = "users:";
  if (payload.substr(0, kUsers.size()) != kUsers) {
    Log(LogLevel::kWarning, "unknown change notification: every cached user forgotten",
        {{"payload", std::string(payload.substr(0, 64))}});
    return cache.ForgetAll();
  }
  const std::string_view ids = payload.substr(kUsers.size());
  if (ids == "*") return cache.ForgetAll();
  for (absl::string_view id : absl::StrSplit(absl::string_view(ids.data(), ids.size()), ',')) {
    cache.Forget(std::string_view(id.data(), id.size()));
  }
}

}  // namespace usersvc::callbacks
