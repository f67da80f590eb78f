#include "test/support/django_passwords.h"

#include <cstdio>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace usersvc::test {

std::string DjangoPassword(const std::string& hasher, const std::string& password) {
  // Quoted for the shell popen runs: the tests' passwords hold no quote of their own.
  REQUIRE(password.find('\'') == std::string::npos);
  // Debian's python3 (which has python3-django), not whichever python3 comes first on PATH.
  const std::string command =
      fmt::format("/usr/bin/python3 '{}/test/support/make_django_password.py' '{}' '{}'",
                  USERSVC_SOURCE_DIR, hasher, password);
  FILE* output = popen(command.c_str(), "r");
  REQUIRE(output != nullptr);
  std::string encoded;
  char buffer[256];
  while (fgets(buffer, sizeof buffer, output) != nullptr) encoded += buffer;
  const int status = pclose(output);
  INFO(command);
  REQUIRE(status == 0);
  while (!encoded.empty() && encoded.back() == '\n') encoded.pop_back();
  REQUIRE(!encoded.empty());
  return encoded;
}

}  // namespace usersvc::test
