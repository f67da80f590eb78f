// Bearer tokens as the service checks them: each way a token can be wrong is refused, with a
// reason that names nothing of the token.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/token_cache.h"
#include "bench/mint/jwt_minting.h"

namespace {

using usersvc::auth::JwtRules;
using usersvc::auth::KeySet;
using usersvc::auth::Scope;
using usersvc::auth::VerifyJwt;
using usersvc::testing::Base64Url;
using usersvc::testing::ClaimsFor;
using usersvc::testing::JwksOf;
using usersvc::testing::SigningKey;

const JwtRules kRules{usersvc::testing::kTestIssuer, usersvc::testing::kTestAudience};

std::shared_ptr<const KeySet> KeysOf(const std::vector<const SigningKey*>& keys) {
  auto set = KeySet::FromJwks(JwksOf(keys));
  REQUIRE(set.ok());
  return *set;
}

/// The refusal's reason, or "accepted".
std::string Verdict(const std::string& token, const KeySet& keys) {
  auto verified = VerifyJwt(token, keys, kRules, absl::Now());
  if (verified.ok()) return "accepted";
  CHECK(verified.status().code() == absl::StatusCode::kUnauthenticated);
  return std::string(verified.status().message());
}

std::string HmacToken(const nlohmann::json& claims, const std::string& secret) {
  const std::string signed_part =
      Base64Url(nlohmann::json{{"alg", "HS256"}, {"kid", "rsa"}}.dump()) + "." +
      Base64Url(claims.dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
       &length);
  return signed_part + "." + Base64Url(std::string(reinterpret_cast<char*>(mac), length));
}

}  // namespace

TEST_CASE("RS256 and ES256 tokens from the key set are accepted, with subject and scopes") {
  const SigningKey rsa(SigningKey::Type::kRsa2048, "rsa");
  const SigningKey ec(SigningKey::Type::kEcP256, "ec");
  auto keys = KeysOf({&rsa, &ec});
  for (const SigningKey* key : {&rsa, &ec}) {
    auto verified = VerifyJwt(key->Sign(ClaimsFor("orders", "user.read user.write other.scope")),
                              *keys, kRules, absl::Now());
    REQUIRE(verified.ok());
    CHECK(verified->subject == "orders");
    CHECK(verified->scopes.Has(Scope::kRead));
    CHECK(verified->scopes.Has(Scope::kWrite));
    CHECK_FALSE(verified->scopes.Has(Scope::kCredentials));
  }
  // "scp" as an array (Azure AD, Okta) counts as well.
  nlohmann::json claims = ClaimsFor("billing", "");
  claims["scp"] = {"user.credentials"};
  auto verified = VerifyJwt(ec.Sign(claims), *keys, kRules, absl::Now());
  REQUIRE(verified.ok());
  CHECK(verified->scopes.Has(Scope::kCredentials));
  CHECK_FALSE(verified->scopes.Has(Scope::kRead));
}

TEST_CASE("Tokens that are not signed by a trusted key are refused") {
  const SigningKey rsa(SigningKey::Type::kRsa2048, "rsa");
  const SigningKey stranger(SigningKey::Type::kRsa2048, "rsa");  // same kid, other key
  auto keys = KeysOf({&rsa});
  const nlohmann::json claims = ClaimsFor("orders", "user.read");

  CHECK(Verdict(stranger.Sign(claims), *keys) == "bad signature");
  CHECK(Verdict(rsa.Sign(claims, {{"kid", "other"}}), *keys) == "unknown key");
  // alg "none" with an empty signature, and the algorithm-confusion attack: HS256 "signed" with
  // the RSA public key as its secret. Both fail on the algorithm, before any key is chosen.
  const std::string unsigned_token =
      Base64Url(nlohmann::json{{"alg", "none"}}.dump()) + "." + Base64Url(claims.dump()) + ".";
  CHECK(Verdict(unsigned_token, *keys) == "algorithm not accepted");
  CHECK(Verdict(HmacToken(claims, rsa.PublicPem()), *keys) == "algorithm not accepted");
  // An RSA token whose header says ES256 does not reach the RSA key.
  CHECK(Verdict(rsa.Sign(claims, {{"alg", "ES256"}}), *keys) == "unknown key");
  // The claims changed after signing.
  std::string token = rsa.Sign(claims);
  const size_t first = token.find('.'), second = token.find('.', first + 1);
  const std::string forged = token.substr(0, first + 1) +
                             Base64Url(ClaimsFor("admin", "user.credentials").dump()) +
                             token.substr(second);
  CHECK(Verdict(forged, *keys) == "bad signature");
  CHECK(Verdict("not.a-token", *keys) == "not a compact JWS");
  CHECK(Verdict("a.b.c.d", *keys) == "not a compact JWS");
  CHECK(Verdict(std::string(9000, 'a'), *keys) == "too long");
  CHECK(Verdict(rsa.Sign(claims, {{"crit", {"exp"}}}), *keys) == "critical header extension");
  // One signature has one spelling: padding or whitespace in a part is not base64url.
  const std::string good = rsa.Sign(claims);
  CHECK(Verdict(good, *keys) == "accepted");
  CHECK(Verdict(good + "==", *keys) == "malformed signature");
  std::string spaced = good;
  spaced.insert(spaced.rfind('.') + 5, " ");
  CHECK(Verdict(spaced, *keys) == "malformed signature");
}

TEST_CASE("Issuer, audience, expiry and not-before are enforced, with a minute's leeway") {
  const SigningKey ec(SigningKey::Type::kEcP256, "ec");
  auto keys = KeysOf({&ec});
  nlohmann::json claims = ClaimsFor("orders", "user.read");

  auto with = [&](const char* name, nlohmann::json value) {
    nlohmann::json changed = claims;
    if (value.is_null()) {
      changed.erase(name);
    } else {
      changed[name] = value;
    }
    return Verdict(ec.Sign(changed), *keys);
  };
  CHECK(with("iss", "https://elsewhere.test") == "wrong issuer");
  CHECK(with("iss", nullptr) == "wrong issuer");
  CHECK(with("aud", "another-service") == "wrong audience");
  CHECK(with("aud", {"another-service", "usersvc"}) == "accepted");
  CHECK(with("aud", nullptr) == "wrong audience");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  CHECK(with("exp", now - 120) == "expired");
  CHECK(with("exp", now - 30) == "accepted");  // within the leeway
  CHECK(with("exp", nullptr) == "no expiry");
  CHECK(with("exp", "tomorrow") == "no expiry");
  CHECK(with("exp", 1e300) == "no expiry");  // beyond any date: refused, not overflowed
  CHECK(with("nbf", now + 120) == "not yet valid");
  CHECK(with("nbf", now + 30) == "accepted");
  CHECK(with("sub", nullptr) == "no subject");
  CHECK(with("sub", "") == "no subject");
}

TEST_CASE("A token without a kid is checked only when one key could have signed it") {
  const SigningKey first(SigningKey::Type::kRsa2048, "first");
  const SigningKey second(SigningKey::Type::kRsa2048, "second");
  const nlohmann::json claims = ClaimsFor("orders", "user.read");
  const nlohmann::json no_kid = {{"kid", nullptr}};
  CHECK(Verdict(first.Sign(claims, no_kid), *KeysOf({&first})) == "accepted");
  CHECK(Verdict(first.Sign(claims, no_kid), *KeysOf({&first, &second})) == "unknown key");
}

TEST_CASE("A key set takes RSA of 2048 bits or more and EC signature keys, nothing else") {
  const SigningKey weak(SigningKey::Type::kRsa1024, "weak");
  CHECK_FALSE(KeySet::FromJwks(JwksOf({&weak})).ok());
  CHECK_FALSE(KeySet::FromJwks("{").ok());
  CHECK_FALSE(KeySet::FromJwks(R"({"keys": {}})").ok());
  // A shared secret and an encryption key are not taken as verification keys.
  CHECK_FALSE(
      KeySet::FromJwks(R"({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]})").ok());
  const SigningKey ec(SigningKey::Type::kEcP256, "ec");
  nlohmann::json set = nlohmann::json::parse(JwksOf({&ec}));
  set["keys"].push_back({{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}});
  nlohmann::json encryption = ec.Jwk();
  encryption["kid"] = "enc";
  encryption["use"] = "enc";
  set["keys"].push_back(encryption);
  auto keys = KeySet::FromJwks(set.dump());
  REQUIRE(keys.ok());
  CHECK((*keys)->size() == 1);
  // An EC point that is not on the curve.
  nlohmann::json off_curve = ec.Jwk();
  off_curve["y"] = off_curve["x"];
  CHECK_FALSE(KeySet::FromJwks(nlohmann::json{{"keys", {off_curve}}}.dump()).ok());
  // A JWK that pins its algorithm accepts no other.
  nlohmann::json pinned = SigningKey(SigningKey::Type::kRsa2048, "pinned").Jwk();
  pinned["alg"] = "RS384";
  auto pinned_set = KeySet::FromJwks(nlohmann::json{{"keys", {pinned}}}.dump());
  REQUIRE(pinned_set.ok());
  CHECK((*pinned_set)->Find("pinned", usersvc::auth::Algorithm::kRS256) == nullptr);
  CHECK((*pinned_set)->Find("pinned", usersvc::auth::Algorithm::kRS384) != nullptr);
}

TEST_CASE("A verified token is remembered until it expires, and only under its key set") {
  using usersvc::auth::TokenCache;
  using usersvc::auth::VerifiedToken;
  TokenCache cache(absl::Seconds(60), /*capacity=*/64);
  const absl::Time now = absl::FromUnixSeconds(1'000'000);
  const VerifiedToken orders{"orders", {Scope::kRead}, now + absl::Minutes(5)};
  cache.Insert("token-a", 1, orders);
  auto found = cache.Find("token-a", 1, now);
  REQUIRE(found.has_value());
  CHECK(found->subject == "orders");
  CHECK(found->scopes.Has(Scope::kRead));
  // Another token (a byte differs), another key-set generation, or past expiry and leeway: a miss.
  CHECK_FALSE(cache.Find("token-b", 1, now).has_value());
  CHECK_FALSE(cache.Find("token-a", 2, now).has_value());
  cache.Insert("token-a", 1, orders);
  CHECK(cache.Find("token-a", 1, now + absl::Minutes(5) + absl::Seconds(59)).has_value());
  CHECK_FALSE(cache.Find("token-a", 1, now + absl::Minutes(5) + absl::Seconds(61)).has_value());
  // Bounded: a thousand tokens later it still answers, and holds at most its capacity.
  for (int i = 0; i < 1000; ++i) cache.Insert("t" + std::to_string(i), 1, orders);
  int remembered = 0;
  for (int i = 0; i < 1000; ++i)
    remembered += cache.Find("t" + std::to_string(i), 1, now).has_value();
  CHECK(remembered > 0);
  CHECK(remembered <= 64);
}
