#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace usersvc::testing {

/// A key pair made with OpenSSL for the tests and the benchmark, that signs tokens as an identity
/// provider would and publishes its public half as a JWK.
class SigningKey {
 public:
  enum class Type { kRsa2048, kEcP256, kRsa1024 };

  SigningKey(Type type, std::string kid);
  ~SigningKey();
  SigningKey(SigningKey&&) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  /// "RS256" or "ES256".
  std::string alg() const;
  const std::string& kid() const { return kid_; }
  /// The public key as a JWK (with kid, without alg).
  nlohmann::json Jwk() const;
  /// A compact JWS of `claims` signed by this key; `header` overrides or adds header members
  /// (alg and kid are set from the key unless it names them).
  std::string Sign(const nlohmann::json& claims,
                   nlohmann::json header = nlohmann::json::object()) const;
  /// The PEM of the public key (what an attacker would use as an HS256 "secret").
  std::string PublicPem() const;

 private:
  Type type_;
  std::string kid_;
  void* pkey_;  // EVP_PKEY*
};

/// {"keys": [...]} of the keys' JWKs.
std::string JwksOf(const std::vector<const SigningKey*>& keys);

/// base64url without padding, as JWS writes its parts.
std::string Base64Url(std::string_view bytes);

/// A token's claims for `subject` with `scope`, issued by "https://issuer.test" for
/// "usersvc", expiring `expires_in_seconds` from now.
nlohmann::json ClaimsFor(std::string_view subject, std::string_view scope,
                         int64_t expires_in_seconds = 300);
inline constexpr char kTestIssuer[] = "https://issuer.test";
inline constexpr char kTestAudience[] = "usersvc";

}  // namespace usersvc::testing
