#pragma once

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "callbacks/handlers/stream.h"
#include "grpc/health/v1/health.pb.h"
#include "user/v1/user.pb.h"

namespace usersvc::callbacks {

/// Probes slower than this make the database DEGRADED rather than HEALTHY.
inline constexpr absl::Duration kSlowProbe = absl::Milliseconds(250);

/// Runs one database probe (SELECT 1 through the pool) and records it in services.health. The
/// server calls this periodically, so HealthCheck itself never queries the database.
void ProbeDatabase(Services& services);

/// Deletes tokens that expired more than an hour ago and request outcomes older than a day, a
/// batch at a time, so that user_tokens and request_outcomes stay bounded. The server calls this
/// every minute; a failure waits for the next.
void PurgeExpired(Services& services);

/// HealthCheck: the service's status, version, uptime and the "database" component.
void HealthCheck(Services& services,
                 Exchange<user::v1::HealthCheckRequest, user::v1::HealthCheckResponse> call);

/// grpc.health.v1 Check. "" and "user.v1.UserService" are SERVING while the database answers
/// and the server is not draining; "liveness" is SERVING while the process runs (so that an
/// outage of PostgreSQL does not get every replica restarted); any other name is NOT_FOUND.
void CheckStandardHealth(
    Services& services,
    Exchange<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse> call);

/// grpc.health.v1 Watch: the status now, then each change. A name it does not know gets
/// SERVICE_UNKNOWN and the stream stays open, as the protocol says. When the server starts to
/// drain, every stream gets its last status (NOT_SERVING but for "liveness") and then ends with
/// UNAVAILABLE.
void WatchStandardHealth(
    Services& services,
    StreamExchange<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>
        call);

}  // namespace usersvc::callbacks
