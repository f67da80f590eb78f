#include <catch2/catch.hpp>

#include "callbacks/handlers/health.h"
#include "test/unit/handler_fixture.h"

namespace usersvc::test {
namespace {

using grpc::health::v1::HealthCheckResponse;

user::v1::HealthCheckResponse Check(HandlerFixture& fixture) {
  user::v1::HealthCheckResponse response;
  REQUIRE(fixture.Call(&callbacks::HealthCheck, user::v1::HealthCheckRequest(), response).ok());
  return response;
}

HealthCheckResponse::ServingStatus Standard(HandlerFixture& fixture, const char* service) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  REQUIRE(fixture.Call(&callbacks::CheckStandardHealth, request, response).ok());
  return response.status();
}

TEST_CASE("health follows the database probe: unprobed, answered, failed") {
  HandlerFixture fixture;
  fixture.health.RecordConnections(true);
  fixture.services.version = "1.2.3";
  user::v1::HealthCheckResponse unprobed = Check(fixture);
  CHECK(unprobed.status() == user::v1::HEALTH_STATUS_UNHEALTHY);
  CHECK(unprobed.components().at("database").message() == "not probed yet");
  CHECK(unprobed.version() == "1.2.3");

  fixture.store.Script("probe", FakeStore::Rows({{"1"}}));
  callbacks::ProbeDatabase(fixture.services);
  CHECK(Check(fixture).status() == user::v1::HEALTH_STATUS_HEALTHY);
  CHECK(Standard(fixture, "") == HealthCheckResponse::SERVING);
  CHECK(Standard(fixture, "user.v1.UserService") == HealthCheckResponse::SERVING);

  // One failed probe in a row is forgiven (a single slow or lost probe under load does not flip
  // a replica); the component still says what happened.
  fixture.store.Script("probe", FakeStore::Failure(absl::UnavailableError("database unavailable")));
  callbacks::ProbeDatabase(fixture.services);
  const user::v1::HealthCheckResponse failed = Check(fixture);
  CHECK(failed.components().at("database").status() == user::v1::HEALTH_STATUS_UNHEALTHY);
  CHECK(failed.components().at("database").message() == "database unavailable");
  callbacks::ProbeDatabase(fixture.services);
  CHECK(Standard(fixture, "") == HealthCheckResponse::NOT_SERVING);
  CHECK(Standard(fixture, "liveness") == HealthCheckResponse::SERVING);

  grpc::health::v1::HealthCheckRequest unknown;
  unknown.set_service("no.such.Service");
  HealthCheckResponse response;
  CHECK(fixture.Call(&callbacks::CheckStandardHealth, unknown, response).code() ==
        absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace usersvc::test
