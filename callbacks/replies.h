#pragma once

#include <string>
#include <utility>

#include "callbacks/exchange.h"
#include "storage/pool.h"

namespace usersvc::callbacks {

/// A call the server stopped before its work could run (a drain past its deadline): retryable.
inline absl::Status ShuttingDown() { return absl::UnavailableError("server is shutting down"); }

/// A query continuation that maps the first row into `out`, or answers NOT_FOUND with
/// `not_found` when there is no row; errors pass through.
template <typename Message>
storage::QueryCallback ReplyWithRow(Message* out,
                                    void (*map)(const storage::Result&, int, Message*),
                                    Finish finish, const char* not_found) {
  return [out, map, finish = std::move(finish), not_found](storage::Result result) mutable {
    if (!result.ok()) return std::move(finish)(result.status());
    if (result.empty()) return std::move(finish)(absl::NotFoundError(not_found));
    map(result, 0, out);
    std::move(finish)(absl::OkStatus());
  };
}

/// A query continuation for changes that answer nothing but success or the error.
inline storage::QueryCallback ReplyEmpty(Finish finish) {
  return [finish = std::move(finish)](storage::Result result) mutable {
    std::move(finish)(result.status());
  };
}

}  // namespace usersvc::callbacks
