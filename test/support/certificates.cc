#include "test/support/certificates.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace usersvc::test {

Certificates::Certificates() {
  char pattern[] = "/tmp/usersvc-tls-XXXXXX";
  REQUIRE(mkdtemp(pattern) != nullptr);
  dir_ = pattern;
  chmod(dir_.c_str(), 0755);
  std::ofstream(Path("server.ext")) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=usersvc-test-ca -keyout {0}/ca.key -out {0}/ca.crt");
  Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=someone-else -keyout {0}/other-ca.key -out {0}/other-ca.crt");
  Issue("server", "localhost", "-extfile {0}/server.ext");
  Issue("client", "usersvc-test-client", "");
  // A workload's certificate as SPIFFE issues them: the identity is the URI SAN.
  std::ofstream(Path("spiffe.ext"))
      << "subjectAltName=URI:spiffe://shop.test/ns/orders/sa/orders\n";
  Issue("spiffe-client", "orders-workload", "-extfile {0}/spiffe.ext");
  for (const auto& file : std::filesystem::directory_iterator(dir_)) {
    chmod(file.path().c_str(), 0644);  // throwaway keys: the test's cluster must read them
  }
}

Certificates::~Certificates() { std::filesystem::remove_all(dir_); }

std::string Certificates::Read(const std::string& name) const {
  std::ifstream in(Path(name));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void Certificates::Run(const std::string& arguments) const {
  const std::string command =
      "openssl " + fmt::format(fmt::runtime(arguments), dir_) + " >/dev/null 2>&1";
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

void Certificates::Issue(const std::string& name, const std::string& common_name,
                         const std::string& extensions) const {
  Run("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + common_name +
      " -keyout {0}/" + name + ".key -out {0}/" + name + ".csr");
  Run("x509 -req -days 1 -in {0}/" + name + ".csr -CA {0}/ca.crt -CAkey {0}/ca.key " +
      "-CAcreateserial -out {0}/" + name + ".crt " + extensions);
}

}  // namespace usersvc::test
