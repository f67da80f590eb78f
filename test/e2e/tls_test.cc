// TLS and mutual TLS on the listening port, with certificates made by openssl for each run.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, both signed by
/// the CA, and a second CA that signed nothing of ours.
class Certificates {
 public:
  Certificates() {
    char pattern[] = "/tmp/usersvc-tls-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    std::ofstream(Path("server.ext")) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=usersvc-test-ca -keyout {0}/ca.key -out {0}/ca.crt");
    Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=someone-else -keyout {0}/other-ca.key -out {0}/other-ca.crt");
    Issue("server", "localhost", "-extfile {0}/server.ext");
    Issue("client", "usersvc-test-client", "");
  }
  ~Certificates() { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name));
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  }

 private:
  void Run(const std::string& arguments) const {
    const std::string command =
        "openssl " + fmt::format(fmt::runtime(arguments), dir_) + " >/dev/null 2>&1";
    INFO(command);
    REQUIRE(std::system(command.c_str()) == 0);
  }
  void Issue(const std::string& name, const std::string& common_name,
             const std::string& extensions) const {
    Run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + common_name +
        " -keyout {0}/" + name + ".key -out {0}/" + name + ".csr");
    Run("x509 -req -days 1 -in {0}/" + name + ".csr -CA {0}/ca.crt -CAkey {0}/ca.key " +
        "-CAcreateserial -out {0}/" + name + ".crt " + extensions);
  }

  std::string dir_;
};

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
