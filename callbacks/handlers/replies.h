#pragma once

#include <string>
#include <utility>

#include "callbacks/handlers/exchange.h"
#include "storage/query.h"

namespace usersvc::callbacks {

/// A call the server stopped before its work could run (a drain past its deadline): retryable.
inline absl::Status ShuttingDown() { return absl::UnavailableError("server is shutting down"); }

/// A query continuation that maps the first row into `out` with `map`, or answers NOT_FOUND with
/// `not_found` when there is no row; errors pass through.
template <typename Row, typename Message>
auto ReplyWithRow(Message* out, void (*map)(const Row&, Message*), Finish finish,
                  const char* not_found) {
  return [out, map, finish = std::move(finish), not_found](storage::Rows<Row> rows) mutable {
    if (!rows.ok()) return std::move(finish)(rows.status());
    if (rows.empty()) return std::move(finish)(absl::NotFoundError(not_found));
    map(rows[0], out);
    std::move(finish)(absl::OkStatus());
  };
}

/// A query continuation for changes that answer nothing but success or the error.
inline auto ReplyEmpty(Finish finish) {
  return
      [finish = std::move(finish)](const auto& rows) mutable { std::move(finish)(rows.status()); };
}

}  // namespace usersvc::callbacks
