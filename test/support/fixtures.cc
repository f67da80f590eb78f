#include "test/support/fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "test/support/server_process.h"

namespace usersvc::test {

TestUser CreateTestUser(user::v1::UserService::Stub& stub) {
  const std::string suffix = UniqueSuffix();
  user::v1::CreateUserRequest request;
  request.set_email("user." + suffix + "@example.com");
  request.set_username("user_" + suffix);
  request.set_password("password " + suffix);
  user::v1::CreateUserResponse response;
  grpc::Status status = stub.CreateUser(ContextWithDeadline(10).get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return {response.user(), request.password()};
}

std::vector<std::string> EventPayloads(BlockingDb& db, const std::string& user_id,
                                       const std::string& event_type) {
  std::vector<std::string> payloads;
  for (auto& row : db.Query("SELECT payload::text FROM user_events"
                            " WHERE user_id = $1::uuid AND event_type = $2 ORDER BY id",
                            {user_id, event_type})) {
    payloads.push_back(row[0]);
  }
  return payloads;
}

std::string LatestToken(BlockingDb& db, const std::string& user_id, const std::string& event_type) {
  return db.Scalar(
      "SELECT payload->>'token' FROM user_events WHERE user_id = $1::uuid AND event_type = $2"
      " ORDER BY id DESC LIMIT 1",
      {user_id, event_type});
}

// The body of GET /metrics on 127.0.0.1:`port` (HTTP/1.0, read to the end).
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

// The value of the series `name{labels}` (labels as Prometheus prints them, sorted), or -1.
double SeriesValue(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

}  // namespace usersvc::test
