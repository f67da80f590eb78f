#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

namespace usersvc::auth {

/// The JWS signature algorithms accepted. Everything else ("none", the HMAC family, whose
/// "secret" would be a public key) is refused before any key is looked at.
enum class Algorithm { kRS256, kRS384, kRS512, kES256, kES384 };

/// The algorithm a JOSE header's "alg" names, or nullopt when it is not one of the above.
std::optional<Algorithm> AlgorithmNamed(std::string_view name);

/// One public key of a JWKS, parsed into OpenSSL's form once, when the set is loaded.
class PublicKey {
 public:
  enum class Type { kRsa, kEcP256, kEcP384 };

  PublicKey(std::string kid, std::optional<Algorithm> alg, Type type, void* evp_pkey);
  ~PublicKey();
  PublicKey(PublicKey&&) noexcept;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  const std::string& kid() const { return kid_; }
  /// Whether a token signed with `alg` may be checked with this key: the key's type fits the
  /// algorithm, and the JWK's own "alg", when it names one, is the same.
  bool Accepts(Algorithm alg) const;
  /// Whether `signature` (as JWS encodes it: PKCS #1 v1.5 for RS*, r || s for ES*) signs
  /// `signed_part` with `alg`. Safe to call from any number of threads at once.
  bool Verify(Algorithm alg, std::string_view signed_part, std::string_view signature) const;

 private:
  std::string kid_;
  std::optional<Algorithm> alg_;
  Type type_;
  void* pkey_;  // EVP_PKEY*, owned; kept out of this header so that it needs no OpenSSL
};

/// The verification keys of a JSON Web Key Set (RFC 7517): RSA keys of 2048 bits or more and EC
/// keys on P-256 or P-384. Keys of other kinds (symmetric ones among them) or meant for
/// encryption are left out; a key of a kind it takes that does not parse is an error.
class KeySet {
 public:
  static absl::StatusOr<std::shared_ptr<const KeySet>> FromJwks(std::string_view json);

  /// The key a token names with `kid` that accepts `alg`. A token without a kid is checked with
  /// the only key that accepts `alg`, when there is exactly one, so a flood of such tokens costs
  /// one signature check each, never one per key.
  const PublicKey* Find(std::optional<std::string_view> kid, Algorithm alg) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<PublicKey> keys_;
};

}  // namespace usersvc::auth
