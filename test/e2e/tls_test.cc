// TLS and mutual TLS on the listening port, with certificates made by openssl for each run.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "test/support/certificates.h"
#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const Certificates& certs,
                                                         bool with_client_certificate,
                                                         const std::string& ca = "ca.crt") {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = certs.Read(ca);
  if (with_client_certificate) {
    options.pem_private_key = certs.Read("client.key");
    options.pem_cert_chain = certs.Read("client.crt");
  }
  return grpc::SslCredentials(options);
}

/// A health call over a fresh channel with `credentials`: the status code it ends with.
grpc::StatusCode HealthCheckOver(const ServerProcess& server,
                                 std::shared_ptr<grpc::ChannelCredentials> credentials) {
  auto channel = grpc::CreateChannel("ipv4:" + server.address(), credentials);
  auto stub = user::v1::UserService::NewStub(channel);
  user::v1::HealthCheckResponse response;
  return stub->HealthCheck(ContextWithDeadline(3).get(), {}, &response).error_code();
}

TEST_CASE("With --tls_cert and --tls_key the service speaks TLS only") {
  Certificates certs;
  ServerProcess::Options options;
  options.args = {"--tls_cert=" + certs.Path("server.crt"),
                  "--tls_key=" + certs.Path("server.key")};
  options.credentials = TlsCredentials(certs, /*with_client_certificate=*/false);
  ServerProcess server(options);

  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  CHECK(who.user.id().size() == 36);
  CHECK(HealthCheckOver(server, grpc::InsecureChannelCredentials()) ==
        grpc::StatusCode::UNAVAILABLE);
  // A client that trusts another CA refuses the server's certificate.
  CHECK(HealthCheckOver(server, TlsCredentials(certs, false, "other-ca.crt")) ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("With --tls_client_ca only clients with a certificate from that CA get in") {
  Certificates certs;
  ServerProcess::Options options;
  options.args = {"--tls_cert=" + certs.Path("server.crt"), "--tls_key=" + certs.Path("server.key"),
                  "--tls_client_ca=" + certs.Path("ca.crt")};
  options.credentials = TlsCredentials(certs, /*with_client_certificate=*/true);
  ServerProcess server(options);

  CHECK(HealthCheckOver(server, TlsCredentials(certs, true)) == grpc::StatusCode::OK);
  CHECK(HealthCheckOver(server, TlsCredentials(certs, false)) == grpc::StatusCode::UNAVAILABLE);
  CHECK(HealthCheckOver(server, grpc::InsecureChannelCredentials()) ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("A missing certificate file or half a TLS configuration stops the service at start") {
  Certificates certs;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--tls_cert=" + certs.Path("missing.crt"),
                                 "--tls_key=" + certs.Path("server.key")},
        std::vector<std::string>{"--tls_cert=" + certs.Path("server.crt")},
        std::vector<std::string>{"--tls_client_ca=" + certs.Path("ca.crt")}}) {
    ServerProcess::Options options;
    options.args = args;
    options.wait_until_serving = false;
    options.wait_until_listening = false;
    ServerProcess server(options);
    CHECK(server.WaitForExit(10) == 2);
    CHECK(server.Log().find("tls_") != std::string::npos);
  }
}

}  // namespace
}  // namespace usersvc::test
