#include "callbacks/domain/crypto.h"

#include <catch2/catch.hpp>

namespace usersvc::callbacks {
namespace {

TEST_CASE("argon2id hashes verify the right password only") {
  REQUIRE(InitCrypto());
  auto hash = HashPassword("correct horse battery");
  REQUIRE(hash.has_value());
  CHECK(hash->rfind("$argon2id$", 0) == 0);
  CHECK(hash->find("correct horse") == std::string::npos);
  CHECK(VerifyPassword(*hash, "correct horse battery"));
  CHECK_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  CHECK_FALSE(VerifyPassword("not a hash", "correct horse battery"));
}

TEST_CASE("argon2id hashes use the documented cost and a fresh salt each time") {
  REQUIRE(InitCrypto());
  auto first = HashPassword("same password");
  auto second = HashPassword("same password");
  REQUIRE((first && second));
  CHECK(*first != *second);
  CHECK(first->find("m=19456,t=2,p=1") != std::string::npos);
}

TEST_CASE("argument fingerprints tell argument lists apart") {
  REQUIRE(InitCrypto());
  const std::string ab_c = ArgumentFingerprint({"ab", "c"});
  CHECK(ab_c.rfind("\\x", 0) == 0);
  CHECK(ab_c == ArgumentFingerprint({"ab", "c"}));
  CHECK(ab_c != ArgumentFingerprint({"a", "bc"}));
  CHECK(ab_c != ArgumentFingerprint({"ab", "c", ""}));
}

}  // namespace
}  // namespace usersvc::callbacks
