#include "callbacks/handlers/health.h"

#include <optional>
#include <string_view>

#include <absl/strings/str_cat.h>
#include <absl/time/clock.h>

#include "base/log.h"
#include "storage/queries/upkeep.h"

namespace usersvc::callbacks {
namespace {

constexpr std::string_view kServiceName = "user.v1.UserService";
constexpr std::string_view kLivenessName = "liveness";

void SetDuration(absl::Duration duration, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(duration);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

using grpc::health::v1::HealthCheckResponse;

/// The grpc.health.v1 status of `service` when the service should (not) serve; UNKNOWN for a
/// name this server does not know.
HealthCheckResponse::ServingStatus StandardStatus(std::string_view service, bool serving) {
  if (service == kLivenessName) return HealthCheckResponse::SERVING;
  if (service.empty() || service == kServiceName) {
    return serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  }
  return HealthCheckResponse::UNKNOWN;
}

}  // namespace

void ProbeDatabase(Services& services) {
  const absl::Time started = absl::Now();
  // Ahead of every queued query, and never shed: a probe refused for the load would report a
  // healthy database as down. One that waited out its deadline behind queries already pipelined
  // on a busy connection says the database is slow, not gone: a link that went silent or a
  // server that stopped answering is found by the pool itself, which then drops its
  // connections (and health follows at once).
  services.pool.RunFirst(
      storage::queries::kProbe, {}, started + absl::Seconds(2),
      [&services, started](storage::Rows<storage::ProbeRow> result) {
        // The pool's own expiry carries no SQLSTATE; PostgreSQL cancelling SELECT 1 at its
        // statement_timeout (57014) means it could not run it: that is down.
        const bool slow = result.status().code() == absl::StatusCode::kDeadlineExceeded &&
                          result.error() == storage::SqlError::kNone &&
                          services.pool.ready_connections() > 0;
        services.health.RecordProbe(result.ok() || slow,
                                    result.ok() ? "ok"
                                    : slow      ? "probe timed out"
                                                : std::string(result.status().message()),
                                    absl::Now() - started);
      });
}

void PurgeExpired(Services& services) {
  auto purge = [&services](const storage::Query<storage::NoParams, storage::NoRow>& query,
                           const char* what) {
    services.pool.Run(query, {}, absl::Now() + absl::Seconds(10),
                      [what](storage::Rows<storage::NoRow> result) {
                        if (result.ok() && result.affected() > 0) {
                          Log(LogLevel::kInfo, "expired rows purged",
                              {{"table", what}, {"rows", result.affected()}});
                        }
                      });
  };
  purge(storage::queries::kPurgeExpiredTokens, "user_tokens");
  purge(storage::queries::kPurgeOldRequestOutcomes, "request_outcomes");
  purge(storage::queries::kPurgeOldResetRequests, "password_reset_requests");
  purge(storage::queries::kPurgeOldSignInAttempts, "sign_in_attempts");
}

void HealthCheck(Services& services,
                 Exchange<user::v1::HealthCheckRequest, user::v1::HealthCheckResponse> call) {
  using user::v1::HealthStatus;
  const HealthMonitor::DatabaseProbe probe = services.health.database();
  const int ready = services.pool.ready_connections();

  user::v1::ComponentHealth& database = (*call.response->mutable_components())["database"];
  if (!probe.probed) {
    database.set_status(user::v1::HEALTH_STATUS_UNHEALTHY);
    database.set_message("not probed yet");
  } else {
    SetDuration(probe.latency, database.mutable_latency());
    if (ready == 0) {  // known at once, without waiting for the next probe
      database.set_status(user::v1::HEALTH_STATUS_UNHEALTHY);
      database.set_message("no database connection is ready");
    } else if (!probe.ok) {
      database.set_status(user::v1::HEALTH_STATUS_UNHEALTHY);
      database.set_message(probe.message);
    } else if (probe.latency > kSlowProbe || ready < services.pool.connections()) {
      database.set_status(user::v1::HEALTH_STATUS_DEGRADED);
      database.set_message(absl::StrCat(ready, " of ", services.pool.connections(),
                                        " connections ready; probe took ",
                                        absl::FormatDuration(probe.latency)));
    } else {
      database.set_status(user::v1::HEALTH_STATUS_HEALTHY);
      database.set_message("ok");
    }
  }

  HealthStatus overall = database.status();
  if (services.health.draining()) overall = user::v1::HEALTH_STATUS_UNHEALTHY;
  call.response->set_status(overall);
  call.response->set_version(services.version);
  SetDuration(absl::Now() - services.started_at, call.response->mutable_uptime());
  std::move(call.finish)(absl::OkStatus());
}

void CheckStandardHealth(
    Services& services,
    Exchange<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse> call) {
  const auto status = StandardStatus(call.request->service(), services.health.serving());
  if (status == HealthCheckResponse::UNKNOWN) {
    return std::move(call.finish)(absl::NotFoundError("unknown service"));
  }
  call.response->set_status(status);
  std::move(call.finish)(absl::OkStatus());
}

void WatchStandardHealth(
    Services& services,
    StreamExchange<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>
        call) {
  // The monitor keeps only a weak reference: the stream ends by itself when the client goes.
  std::weak_ptr<StreamWriter<HealthCheckResponse>> stream = call.writer;
  services.health.Watch(
      call.writer, [stream, service = call.request->service(), sent = std::optional<int>()](
                       bool serving, bool draining) mutable {
        std::shared_ptr<StreamWriter<HealthCheckResponse>> writer = stream.lock();
        if (writer == nullptr) return;
        HealthCheckResponse::ServingStatus status = StandardStatus(service, serving);
        if (status == HealthCheckResponse::UNKNOWN) status = HealthCheckResponse::SERVICE_UNKNOWN;
        if (sent != status) {
          HealthCheckResponse message;
          message.set_status(status);
          writer->Write(std::move(message));
          sent = status;
        }
        if (draining) writer->Finish(absl::UnavailableError("server is shutting down"));
      });
}

}  // namespace usersvc::callbacks
