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

/// The body of GET /metrics on 127.0.0.1:`port` (HTTP/1.0, read to the end).
std::string Scrape(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string response;
  char chunk[8192];
  for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) > 0;) response.append(chunk, n);
  close(fd);
  REQUIRE(response.rfind("HTTP/1.1 200", 0) == 0);
  return response.substr(response.find("\r\n\r\n") + 4);
}

/// The value of the series `name{labels}` (labels as Prometheus prints them, sorted), or -1.
double Value(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

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
  CHECK(Value(metrics, "grpc_server_started_total{" + get_user + "}") == 4);
  CHECK(Value(metrics, R"(grpc_server_handled_total{grpc_code="OK",)" + get_user + "}") == 3);
  CHECK(Value(metrics, R"(grpc_server_handled_total{grpc_code="NotFound",)" + get_user + "}") == 1);
  CHECK(Value(metrics, R"(grpc_server_handled_total{grpc_code="Internal",)" + get_user + "}") == 0);
  CHECK(Value(metrics, "grpc_server_handling_seconds_count{" + get_user + "}") == 4);
  CHECK(Value(metrics, "grpc_server_handling_seconds_bucket{" + get_user + R"(,le="+Inf"})") == 4);
  const std::string create =
      R"(grpc_method="CreateUser",grpc_service="user.v1.UserService",grpc_type="unary")";
  CHECK(Value(metrics, R"(grpc_server_handled_total{grpc_code="OK",)" + create + "}") == 1);

  CHECK(Value(metrics, R"(usersvc_db_connections{pool="primary"})") > 0);
  CHECK(Value(metrics, R"(usersvc_db_connections_open{pool="primary"})") ==
        Value(metrics, R"(usersvc_db_connections{pool="primary"})"));
  CHECK(Value(metrics, R"(usersvc_db_connections_busy{pool="primary"})") >= 0);
  CHECK(Value(metrics, R"(usersvc_db_queries_queued{pool="primary"})") == 0);
  // CreateUser and the lookups went through the pool (the health probe adds more).
  CHECK(Value(metrics, R"(usersvc_db_query_seconds_count{pool="primary"})") >= 5);
  CHECK(Value(metrics, R"(usersvc_db_queue_wait_seconds_count{pool="primary"})") >= 5);
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
