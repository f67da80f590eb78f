#include "bench/mint/jwt_minting.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctime>
#include <stdexcept>

namespace usersvc::testing {
namespace {

EVP_PKEY* Key(void* pkey) { return static_cast<EVP_PKEY*>(pkey); }

std::string BignumParam(EVP_PKEY* pkey, const char* name, int pad_to = 0) {
  BIGNUM* value = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &value) != 1) throw std::runtime_error(name);
  std::string bytes(pad_to > 0 ? pad_to : BN_num_bytes(value), '\0');
  BN_bn2binpad(value, reinterpret_cast<unsigned char*>(bytes.data()),
               static_cast<int>(bytes.size()));
  BN_free(value);
  return bytes;
}

}  // namespace

std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

SigningKey::SigningKey(Type type, std::string kid) : type_(type), kid_(std::move(kid)) {
  pkey_ = type == Type::kEcP256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                                                    size_t{type == Type::kRsa2048 ? 2048u : 1024u});
  if (pkey_ == nullptr) throw std::runtime_error("key generation failed");
}

SigningKey::~SigningKey() { EVP_PKEY_free(Key(pkey_)); }

SigningKey::SigningKey(SigningKey&& other) noexcept
    : type_(other.type_), kid_(std::move(other.kid_)), pkey_(other.pkey_) {
  other.pkey_ = nullptr;
}

std::string SigningKey::alg() const { return type_ == Type::kEcP256 ? "ES256" : "RS256"; }

nlohmann::json SigningKey::Jwk() const {
  if (type_ == Type::kEcP256) {
    return {{"kty", "EC"},
            {"crv", "P-256"},
            {"kid", kid_},
            {"use", "sig"},
            {"x", Base64Url(BignumParam(Key(pkey_), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
            {"y", Base64Url(BignumParam(Key(pkey_), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
  }
  return {{"kty", "RSA"},
          {"kid", kid_},
          {"use", "sig"},
          {"n", Base64Url(BignumParam(Key(pkey_), OSSL_PKEY_PARAM_RSA_N))},
          {"e", Base64Url(BignumParam(Key(pkey_), OSSL_PKEY_PARAM_RSA_E))}};
}

std::string SigningKey::Sign(const nlohmann::json& claims, nlohmann::json header) const {
  if (!header.contains("alg")) header["alg"] = alg();
  if (!header.contains("kid")) header["kid"] = kid_;
  if (header["kid"].is_null()) header.erase("kid");
  const std::string signed_part = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  size_t length = 0;
  EVP_DigestSignInit(context, nullptr, EVP_sha256(), nullptr, Key(pkey_));
  EVP_DigestSign(context, nullptr, &length,
                 reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size());
  std::string signature(length, '\0');
  EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                 reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size());
  EVP_MD_CTX_free(context);
  signature.resize(length);
  if (type_ == Type::kEcP256) {  // DER → r || s, as JWS writes it
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(parsed);
    signature = raw;
  }
  return signed_part + "." + Base64Url(signature);
}

std::string SigningKey::PublicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, Key(pkey_));
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  return pem;
}

std::string JwksOf(const std::vector<const SigningKey*>& keys) {
  nlohmann::json set = {{"keys", nlohmann::json::array()}};
  for (const SigningKey* key : keys) set["keys"].push_back(key->Jwk());
  return set.dump();
}

nlohmann::json ClaimsFor(std::string_view subject, std::string_view scope,
                         int64_t expires_in_seconds) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  return {{"iss", kTestIssuer}, {"aud", kTestAudience}, {"sub", subject},
          {"scope", scope},     {"iat", now},           {"exp", now + expires_in_seconds}};
}

}  // namespace usersvc::testing
