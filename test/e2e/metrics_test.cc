// /metrics after traffic: the standard gRPC server series and the pool's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

TEST_CASE("After traffic /metrics counts calls by method and code, latencies and the pool") {
  const int metrics_port = FreePort();
  ServerProcess::Options options;
  options.args = {"--metrics_listen=127.0.0.1:" + std::to_string(metrics_port)};
  ServerProcess server(options);
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::GetUserRequest get;
  get.set_user_id(who.user.id());
  user::v1::GetUserResponse got;
  for (int i = 0; i < 3; ++i) REQUIRE(Call(*stub, &Stub::GetUser, get, &got).ok());
  get.set_user_id("00000000-0000-4000-8000-00000000abcd");
  CHECK(Call(*stub, &Stub::GetUser, get, &got).error_code() == grpc::StatusCode::NOT_FOUND);

  const std::string metrics = Scrape(metrics_port);
  INFO(metrics.substr(0, 4000));
  const std::string get_user =
      R"(grpc_method="GetUser",grpc_service="user.v1.UserService",grpc_type="unary")";
  CHECK(SeriesValue(metrics, "grpc_server_started_total{" + get_user + "}") == 4);
  CHECK(SeriesValue(metrics, R"(grpc_server_handled_total{grpc_code="OK",)" + get_user + "}") == 3);
  CHECK(SeriesValue(metrics,
                    R"(grpc_server_handled_total{grpc_code="NotFound",)" + get_user + "}") == 1);
  CHECK(SeriesValue(metrics,
                    R"(grpc_server_handled_total{grpc_code="Internal",)" + get_user + "}") == 0);
  CHECK(SeriesValue(metrics, "grpc_server_handling_seconds_count{" + get_user + "}") == 4);
  CHECK(SeriesValue(metrics,
                    "grpc_server_handling_seconds_bucket{" + get_user + R"(,le="+Inf"})") == 4);
  const std::string create =
      R"(grpc_method="CreateUser",grpc_service="user.v1.UserService",grpc_type="unary")";
  CHECK(SeriesValue(metrics, R"(grpc_server_handled_total{grpc_code="OK",)" + create + "}") == 1);

  CHECK(SeriesValue(metrics, R"(usersvc_db_connections{pool="primary"})") > 0);
  CHECK(SeriesValue(metrics, R"(usersvc_db_connections_open{pool="primary"})") ==
        SeriesValue(metrics, R"(usersvc_db_connections{pool="primary"})"));
  CHECK(SeriesValue(metrics, R"(usersvc_db_connections_busy{pool="primary"})") >= 0);
  CHECK(SeriesValue(metrics, R"(usersvc_db_queries_queued{pool="primary"})") == 0);
  // CreateUser and the lookups went through the pool (the health probe adds more).
  CHECK(SeriesValue(metrics, R"(usersvc_db_query_seconds_count{pool="primary"})") >= 5);
  CHECK(SeriesValue(metrics, R"(usersvc_db_queue_wait_seconds_count{pool="primary"})") >= 5);
}

TEST_CASE("A --metrics_listen address that cannot be bound stops the service at start") {
  ServerProcess::Options options;
  options.args = {"--metrics_listen=192.0.2.1:1"};  // TEST-NET: not an address of this machine
  options.wait_until_listening = false;
  ServerProcess server(options);
  CHECK(server.WaitForExit(10) == 2);
  CHECK(server.Log().find("metrics_listen") != std::string::npos);
}

}  // namespace
}  // namespace usersvc::test
