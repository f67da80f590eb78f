// deploy/grpc-service-config.json as gRPC clients load it: gRPC itself must accept it (an invalid
// default service config turns the channel into one that fails every call).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

std::string ServiceConfig() {
  std::ifstream in(std::filesystem::path(USERSVC_SOURCE_DIR) / "deploy/grpc-service-config.json");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

grpc::Status GetUserThrough(const ServerProcess& server, const std::string& service_config,
                            const std::string& user_id) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(service_config);
  auto channel =
      grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), args);
  auto stub = user::v1::UserService::NewStub(channel);
  user::v1::GetUserRequest request;
  request.set_user_id(user_id);
  user::v1::GetUserResponse response;
  return stub->GetUser(ContextWithDeadline(10).get(), request, &response);
}

TEST_CASE("gRPC accepts deploy/grpc-service-config.json, and would refuse a broken one") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string config = ServiceConfig();
  const grpc::Status status = GetUserThrough(server, config, who.user.id());
  INFO(status.error_message());
  CHECK(status.ok());

  // The same file with a retry policy gRPC cannot read: every call on that channel fails.
  std::string broken = config;
  const auto at = broken.find("\"maxAttempts\": 3");
  REQUIRE(at != std::string::npos);
  broken.replace(at, 16, "\"maxAttempts\": \"three\"");
  CHECK_FALSE(GetUserThrough(server, broken, who.user.id()).ok());
}

}  // namespace
}  // namespace usersvc::test
