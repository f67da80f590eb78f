#include "callbacks/health.h"

#include <absl/strings/str_cat.h>
#include <absl/time/clock.h>

#include "storage/queries.h"

namespace usersvc::callbacks {
namespace {

void SetDuration(absl::Duration duration, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(duration);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

}  // namespace

void ProbeDatabase(Services& services) {
  const absl::Time started = absl::Now();
  services.pool.Execute(storage::queries::kProbe, {}, started + absl::Seconds(2),
                        [&services, started](storage::Result result) {
                          services.health.RecordProbe(
                              result.ok(),
                              result.ok() ? "ok" : std::string(result.status().message()),
                              absl::Now() - started);
                        });
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
    if (!probe.ok) {
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

}  // namespace usersvc::callbacks
