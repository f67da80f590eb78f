// The benchmark's tools, briefly: usersvc-loadgen against the real server reports no errors.
#include <cstdio>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

std::string RunLoadgen(const std::string& args) {
  const std::string command = std::string(USERSVC_LOADGEN) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  CHECK(pclose(pipe) == 0);
  return output;
}

TEST_CASE("bench smoke: the load generator drives GetUser and HealthCheck with zero errors") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string get_user =
      RunLoadgen("--call GetUser --data '{\"user_id\":\"" + who.user.id() +
                 "\"}' -c 32 --connections 2 -z 2s -O json " + server.address());
  INFO(get_user);
  CHECK(get_user.find("\"errorDistribution\":{}") != std::string::npos);
  CHECK(get_user.find("\"statusCodeDistribution\":{\"OK\":") != std::string::npos);

  const std::string health =
      RunLoadgen("--call user.v1.UserService/HealthCheck -n 500 -c 16 " + server.address());
  INFO(health);
  CHECK(health.find("[OK]\t500 responses") != std::string::npos);
  CHECK(health.find("Error distribution") == std::string::npos);
}

TEST_CASE("bench smoke: the load generator's HTTP/2 engine counts answers and gRPC errors") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string found =
      RunLoadgen("--engine h2 --call GetUser --data '{\"user_id\":\"" + who.user.id() +
                 "\"}' -n 300 -c 32 --connections 2 " + server.address());
  INFO(found);
  CHECK(found.find("[OK]\t300 responses") != std::string::npos);
  // The status comes from the trailers (or a trailers-only answer), as a gRPC client reads it.
  const std::string missing = RunLoadgen(
      "--engine h2 --call GetUser --data '{\"user_id\":\"00000000-0000-4000-8000-000000000000\"}' "
      "-n 20 -c 4 " +
      server.address());
  INFO(missing);
  CHECK(missing.find("[NotFound]\t20 responses") != std::string::npos);
}

}  // namespace
}  // namespace usersvc::test
