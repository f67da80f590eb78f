#include "auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <nlohmann/json.hpp>

namespace usersvc::auth {
namespace {

using Json = nlohmann::json;

template <auto kFree>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using Bignum = std::unique_ptr<BIGNUM, Deleter<&BN_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Deleter<&OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<&OSSL_PARAM_free>>;
using PkeyContext = std::unique_ptr<EVP_PKEY_CTX, Deleter<&EVP_PKEY_CTX_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<&EVP_PKEY_free>>;
using DigestContext = std::unique_ptr<EVP_MD_CTX, Deleter<&EVP_MD_CTX_free>>;
using EcdsaSignature = std::unique_ptr<ECDSA_SIG, Deleter<&ECDSA_SIG_free>>;

constexpr int kMinRsaBits = 2048;

const EVP_MD* DigestOf(Algorithm alg) {
  switch (alg) {
    case Algorithm::kRS256:
    case Algorithm::kES256:
      return EVP_sha256();
    case Algorithm::kRS384:
    case Algorithm::kES384:
      return EVP_sha384();
    case Algorithm::kRS512:
      return EVP_sha512();
  }
  return nullptr;
}

/// A base64url member of a JWK, decoded; empty when it is missing or not base64url.
std::string Member(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  std::string decoded;
  if (it == jwk.end() || !it->is_string() ||
      !absl::WebSafeBase64Unescape(it->get_ref<const std::string&>(), &decoded)) {
    return "";
  }
  return decoded;
}

/// Builds a public key of `type_name` ("RSA", "EC") from OpenSSL parameters.
absl::StatusOr<Pkey> FromParams(const char* type_name, OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder));
  PkeyContext context(EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || context == nullptr || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
      EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return absl::InvalidArgumentError("OpenSSL does not take the key");
  }
  Pkey key(raw);
  // An EC point off its curve, or an RSA modulus that is even: refused here, not at each call.
  PkeyContext check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return absl::InvalidArgumentError("the key fails OpenSSL's public key check");
  }
  return key;
}

absl::StatusOr<Pkey> RsaKey(const Json& jwk) {
  const std::string n = Member(jwk, "n");
  const std::string e = Member(jwk, "e");
  if (n.empty() || e.empty()) return absl::InvalidArgumentError("RSA key without n or e");
  Bignum modulus(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr));
  Bignum exponent(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                            static_cast<int>(e.size()), nullptr));
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (modulus == nullptr || exponent == nullptr || builder == nullptr ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get())) {
    return absl::ResourceExhaustedError("out of memory");
  }
  absl::StatusOr<Pkey> key = FromParams("RSA", builder.get());
  if (key.ok() && EVP_PKEY_get_bits(key->get()) < kMinRsaBits) {
    return absl::InvalidArgumentError(absl::StrCat("RSA key under ", kMinRsaBits, " bits"));
  }
  return key;
}

absl::StatusOr<Pkey> EcKey(const Json& jwk, PublicKey::Type type) {
  const size_t coordinate_bytes = type == PublicKey::Type::kEcP256 ? 32 : 48;
  const std::string x = Member(jwk, "x");
  const std::string y = Member(jwk, "y");
  if (x.size() != coordinate_bytes || y.size() != coordinate_bytes) {
    return absl::InvalidArgumentError("EC key whose x or y is not the curve's size");
  }
  const std::string point = absl::StrCat("\x04", x, y);  // uncompressed: 04 || x || y
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                       type == PublicKey::Type::kEcP256 ? "P-256" : "P-384", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return absl::ResourceExhaustedError("out of memory");
  }
  return FromParams("EC", builder.get());
}

/// An ES* signature as JWS writes it (r || s, each the curve's size) in the DER form OpenSSL
/// verifies; empty when it is not that size.
std::string EcdsaDer(std::string_view raw, size_t coordinate_bytes) {
  if (raw.size() != 2 * coordinate_bytes) return "";
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  const int half = static_cast<int>(coordinate_bytes);
  EcdsaSignature signature(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, half, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, half, nullptr);
  if (signature == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(signature.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(signature.get(), &der);
  if (length <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::optional<Algorithm> AlgorithmNamed(std::string_view name) {
  if (name == "RS256") return Algorithm::kRS256;
  if (name == "RS384") return Algorithm::kRS384;
  if (name == "RS512") return Algorithm::kRS512;
  if (name == "ES256") return Algorithm::kES256;
  if (name == "ES384") return Algorithm::kES384;
  return std::nullopt;
}

PublicKey::PublicKey(std::string kid, std::optional<Algorithm> alg, Type type, void* evp_pkey)
    : kid_(std::move(kid)), alg_(alg), type_(type), pkey_(evp_pkey) {}

PublicKey::~PublicKey() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }

PublicKey::PublicKey(PublicKey&& other) noexcept
    : kid_(std::move(other.kid_)), alg_(other.alg_), type_(other.type_), pkey_(other.pkey_) {
  other.pkey_ = nullptr;
}

bool PublicKey::Accepts(Algorithm alg) const {
  if (alg_.has_value() && *alg_ != alg) return false;
  switch (alg) {
    case Algorithm::kRS256:
    case Algorithm::kRS384:
    case Algorithm::kRS512:
      return type_ == Type::kRsa;
    case Algorithm::kES256:
      return type_ == Type::kEcP256;
    case Algorithm::kES384:
      return type_ == Type::kEcP384;
  }
  return false;
}

bool PublicKey::Verify(Algorithm alg, std::string_view signed_part,
                       std::string_view signature) const {
  if (!Accepts(alg)) return false;
  std::string der;
  if (type_ != Type::kRsa) {
    der = EcdsaDer(signature, type_ == Type::kEcP256 ? 32 : 48);
    if (der.empty()) return false;
    signature = der;
  }
  DigestContext context(EVP_MD_CTX_new());
  return context != nullptr &&
         EVP_DigestVerifyInit(context.get(), nullptr, DigestOf(alg), nullptr,
                              static_cast<EVP_PKEY*>(pkey_)) == 1 &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signed_part.data()),
                          signed_part.size()) == 1;
}

absl::StatusOr<std::shared_ptr<const KeySet>> KeySet::FromJwks(std::string_view text) {
  const Json jwks = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (jwks.is_discarded() || !jwks.is_object() || !jwks.contains("keys") ||
      !jwks["keys"].is_array()) {
    return absl::InvalidArgumentError("not a JSON Web Key Set (an object with a \"keys\" array)");
  }
  auto set = std::make_shared<KeySet>();
  int index = 0;
  for (const Json& jwk : jwks["keys"]) {
    const std::string where = absl::StrCat("keys[", index++, "]: ");
    if (!jwk.is_object()) return absl::InvalidArgumentError(where + "not an object");
    auto text_member = [&jwk](const char* name) -> std::string {
      auto it = jwk.find(name);
      return it != jwk.end() && it->is_string() ? it->get<std::string>() : "";
    };
    const std::string kty = text_member("kty");
    const std::string use = text_member("use");
    if (!use.empty() && use != "sig") continue;  // an encryption key
    std::optional<Algorithm> alg;
    if (const std::string name = text_member("alg"); !name.empty()) {
      alg = AlgorithmNamed(name);
      if (!alg) continue;  // a key for an algorithm this service never accepts
    }
    absl::StatusOr<Pkey> key;
    PublicKey::Type type;
    if (kty == "RSA") {
      type = PublicKey::Type::kRsa;
      key = RsaKey(jwk);
    } else if (kty == "EC" && (text_member("crv") == "P-256" || text_member("crv") == "P-384")) {
      type = text_member("crv") == "P-256" ? PublicKey::Type::kEcP256 : PublicKey::Type::kEcP384;
      key = EcKey(jwk, type);
    } else {
      continue;  // "oct" (a shared secret), OKP, other curves: not for this service
    }
    if (!key.ok()) return absl::InvalidArgumentError(where + std::string(key.status().message()));
    set->keys_.emplace_back(text_member("kid"), alg, type, key->release());
  }
  if (set->keys_.empty()) {
    return absl::InvalidArgumentError("the key set has no RSA or EC signature key");
  }
  return std::shared_ptr<const KeySet>(std::move(set));
}

const PublicKey* KeySet::Find(std::optional<std::string_view> kid, Algorithm alg) const {
  const PublicKey* found = nullptr;
  for (const PublicKey& key : keys_) {
    if (!key.Accepts(alg)) continue;
    if (kid.has_value()) {
      if (key.kid() == *kid) return &key;
      continue;
    }
    if (found != nullptr) return nullptr;  // no kid, and more than one key would do
    found = &key;
  }
  return found;
}

}  // namespace usersvc::auth
