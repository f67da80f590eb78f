#include "server/call_common.h"

#include <chrono>

#include <absl/time/clock.h>

#include "base/log.h"
#include "server/call_metadata.h"

namespace usersvc::server {

absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  // No deadline is reported as a time_point near its maximum.
  if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

void LogCall(const MethodInfo& method, const grpc::ServerContext& context,
             const absl::Status& status, absl::Time started, std::string_view request_id) {
  const bool server_fault =
      status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown;
  const LogLevel level = server_fault ? LogLevel::kWarning : LogLevel::kDebug;
  if (!LogEnabled(level)) return;
  Log(level, "call",
      {{"method", method.method_name},
       {"code", absl::StatusCodeToString(status.code())},
       {"duration_ms", absl::ToDoubleMilliseconds(absl::Now() - started)},
       {"peer", context.peer()},
       {"x-request-id", request_id},
       {"trace_id", TraceIdOf(context.client_metadata())}});
}

}  // namespace usersvc::server
