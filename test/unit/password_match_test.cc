// Stored hashes of every scheme the service reads, checked as sign-in and ChangePassword check
// them: its own argon2id, and the hashes Django's own make_password writes.
#include <string>

#include <sodium.h>
#include <catch2/catch.hpp>

#include "callbacks/domain/crypto.h"
#include "callbacks/domain/django_hashes.h"
#include "test/support/django_passwords.h"

namespace usersvc::callbacks {
namespace {

constexpr char kPassword[] = "s3cret pässword";

TEST_CASE("Django's pbkdf2_sha256, pbkdf2_sha1, argon2 and bcrypt_sha256 hashes verify") {
  REQUIRE(InitCrypto());
  for (const std::string hasher : {"pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256"}) {
    const std::string stored = test::DjangoPassword(hasher, kPassword);
    INFO(stored.substr(0, stored.find('$')));
    CHECK(stored.starts_with(hasher + "$"));
    CHECK(IsDjangoHash(stored));
    const PasswordMatch right = MatchPassword(stored, kPassword);
    CHECK(right.matches);
    CHECK(right.needs_rehash);  // to argon2id, on the first success
    CHECK_FALSE(MatchPassword(stored, "s3cret pässworD").matches);
    CHECK_FALSE(MatchPassword(stored, "").matches);
    // Any byte of the digest changed: not a match.
    std::string tampered = stored;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
    CHECK_FALSE(MatchPassword(tampered, kPassword).matches);
  }
}

TEST_CASE("Django's unusable passwords, unknown schemes and runaway costs never verify") {
  REQUIRE(InitCrypto());
  const std::string unusable = test::DjangoPassword("unusable", kPassword);
  CHECK(unusable.starts_with("!"));
  CHECK_FALSE(IsDjangoHash(unusable));
  CHECK_FALSE(MatchPassword(unusable, kPassword).matches);
  CHECK_FALSE(MatchPassword("", kPassword).matches);
  CHECK_FALSE(MatchPassword("md5$salt$0123456789abcdef0123456789abcdef", kPassword).matches);
  // Right digests are beside the point past these costs: the check is refused, not run.
  CHECK_FALSE(VerifyDjangoHash("pbkdf2_sha256$4000000000$salt$AAAA", kPassword));
  CHECK_FALSE(VerifyDjangoHash(
      "argon2$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", kPassword));
  CHECK_FALSE(VerifyDjangoHash("bcrypt_sha256$$2b$31$" + std::string(53, 'a'), kPassword));
  // Malformed ones.
  CHECK_FALSE(VerifyDjangoHash("pbkdf2_sha256$", kPassword));
  CHECK_FALSE(VerifyDjangoHash("pbkdf2_sha256$x$salt$AAAA", kPassword));
  CHECK_FALSE(VerifyDjangoHash("argon2$argon2x$v=19$m=8,t=1,p=1$c2FsdA$AAAA", kPassword));
  CHECK_FALSE(VerifyDjangoHash("bcrypt_sha256$", kPassword));
}

TEST_CASE("The service's own argon2id needs a re-hash only below today's cost") {
  REQUIRE(InitCrypto());
  const std::string current = HashPassword(kPassword).value();
  CHECK(MatchPassword(current, kPassword).matches);
  CHECK_FALSE(MatchPassword(current, kPassword).needs_rehash);
  CHECK_FALSE(MatchPassword(current, "another one").matches);
  // An argon2id of a lower cost than the service's, as an older release might have stored.
  char cheaper[crypto_pwhash_STRBYTES];
  REQUIRE(crypto_pwhash_str_alg(cheaper, kPassword, sizeof kPassword - 1, 1, 8u * 1024 * 1024,
                                crypto_pwhash_ALG_ARGON2ID13) == 0);
  const PasswordMatch older = MatchPassword(cheaper, kPassword);
  CHECK(older.matches);
  CHECK(older.needs_rehash);
}

}  // namespace
}  // namespace usersvc::callbacks
