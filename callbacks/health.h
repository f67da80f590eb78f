#pragma once

#include "callbacks/exchange.h"
#include "callbacks/services.h"
#include "user/v1/user.pb.h"

namespace usersvc::callbacks {

/// Probes slower than this make the database DEGRADED rather than HEALTHY.
inline constexpr absl::Duration kSlowProbe = absl::Milliseconds(250);

/// Runs one database probe (SELECT 1 through the pool) and records it in services.health. The
/// server calls this periodically, so HealthCheck itself never queries the database.
void ProbeDatabase(Services& services);

/// HealthCheck: the service's status, version, uptime and the "database" component.
void HealthCheck(Services& services,
                 Exchange<user::v1::HealthCheckRequest, user::v1::HealthCheckResponse> call);

}  // namespace usersvc::callbacks
