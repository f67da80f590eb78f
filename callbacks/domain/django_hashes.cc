#include "callbacks/domain/django_hashes.h"

#include <crypt.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <argon2.h>
#include <openssl/evp.h>
#include <sodium.h>

namespace usersvc::callbacks {
namespace {

// What one check may cost at most. Django's defaults sit well inside: 260,000 PBKDF2 iterations
// (Django 3.2; 1,000,000 in 5.2), argon2 with 100 MiB, t = 2, p = 8, bcrypt cost 12.
constexpr uint32_t kMaxPbkdf2Iterations = 10'000'000;
constexpr uint32_t kMaxArgon2MemoryKiB = 256 * 1024;
constexpr uint32_t kMaxArgon2Passes = 64;
constexpr uint32_t kMaxArgon2Lanes = 64;
constexpr int kMaxBcryptCost = 16;
constexpr size_t kMaxDigestBytes = 64;

/// `text` cut at every `separator` (Debian's abseil has a string_view of its own, not std's).
std::vector<std::string_view> SplitAt(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<uint32_t> ParseCount(std::string_view text) {
  uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

/// Standard base64, with or without padding (Django pads PBKDF2's, not argon2's).
std::optional<std::vector<unsigned char>> DecodeBase64(std::string_view text, int variant) {
  std::vector<unsigned char> bytes(text.size() * 3 / 4 + 1);
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &decoded,
                        &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  bytes.resize(decoded);
  return bytes;
}

bool SameBytes(const std::vector<unsigned char>& computed,
               const std::vector<unsigned char>& stored) {
  return computed.size() == stored.size() &&
         sodium_memcmp(computed.data(), stored.data(), stored.size()) == 0;
}

/// "pbkdf2_sha256$<iterations>$<salt>$<base64 digest>": PBKDF2-HMAC with the digest's length.
bool VerifyPbkdf2(const EVP_MD* digest, std::string_view fields, std::string_view password) {
  const std::vector<std::string_view> parts = SplitAt(fields, '$');
  if (parts.size() != 3) return false;
  const std::optional<uint32_t> iterations = ParseCount(parts[0]);
  const auto expected = DecodeBase64(parts[2], sodium_base64_VARIANT_ORIGINAL);
  if (!iterations || *iterations > kMaxPbkdf2Iterations || !expected || expected->empty() ||
      expected->size() > kMaxDigestBytes) {
    return false;
  }
  std::vector<unsigned char> computed(expected->size());
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(parts[1].data()),
                        static_cast<int>(parts[1].size()), static_cast<int>(*iterations), digest,
                        static_cast<int>(computed.size()), computed.data()) != 1) {
    return false;
  }
  return SameBytes(computed, *expected);
}

/// "argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<digest>" (argon2i and argon2d too; Django
/// before 1.11 wrote no "v="). Computed on this thread alone whatever p says: the lanes are
/// worked one after another, never on threads of their own.
bool VerifyArgon2(std::string_view phc, std::string_view password) {
  std::vector<std::string_view> parts = SplitAt(phc, '$');
  // "" before the first '$', the variant, [version], the costs, the salt, the digest.
  if (parts.size() == 5) parts.insert(parts.begin() + 2, "v=16");
  if (parts.size() != 6 || !parts[0].empty()) return false;
  argon2_type type;
  if (parts[1] == "argon2id") {
    type = Argon2_id;
  } else if (parts[1] == "argon2i") {
    type = Argon2_i;
  } else if (parts[1] == "argon2d") {
    type = Argon2_d;
  } else {
    return false;
  }
  uint32_t version = 0;
  if (parts[2] == "v=19") {
    version = ARGON2_VERSION_13;
  } else if (parts[2] == "v=16") {
    version = ARGON2_VERSION_10;
  } else {
    return false;
  }
  std::optional<uint32_t> memory, passes, lanes;
  for (std::string_view cost : SplitAt(parts[3], ',')) {
    if (cost.starts_with("m=")) memory = ParseCount(cost.substr(2));
    if (cost.starts_with("t=")) passes = ParseCount(cost.substr(2));
    if (cost.starts_with("p=")) lanes = ParseCount(cost.substr(2));
  }
  auto salt = DecodeBase64(parts[4], sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  const auto expected = DecodeBase64(parts[5], sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  if (!memory || !passes || !lanes || *memory > kMaxArgon2MemoryKiB || *passes > kMaxArgon2Passes ||
      *lanes > kMaxArgon2Lanes || !salt || !expected || expected->size() < ARGON2_MIN_OUTLEN ||
      expected->size() > kMaxDigestBytes) {
    return false;
  }
  std::vector<unsigned char> computed(expected->size());
  std::string secret(password);  // argon2_context takes the password as mutable bytes
  argon2_context context{};
  context.out = computed.data();
  context.outlen = static_cast<uint32_t>(computed.size());
  context.pwd = reinterpret_cast<uint8_t*>(secret.data());
  context.pwdlen = static_cast<uint32_t>(secret.size());
  context.salt = salt->data();
  context.saltlen = static_cast<uint32_t>(salt->size());
  context.t_cost = *passes;
  context.m_cost = *memory;
  context.lanes = *lanes;
  context.threads = 1;
  context.version = version;
  context.flags = ARGON2_DEFAULT_FLAGS;
  const int result = argon2_ctx(&context, type);
  sodium_memzero(secret.data(), secret.size());
  return result == ARGON2_OK && SameBytes(computed, *expected);
}

/// "bcrypt_sha256$$2b$12$<salt and digest>": bcrypt of the hex SHA-256 of the password (Django
/// hashes first so that bcrypt's 72-byte limit does not cut long passwords).
bool VerifyBcryptSha256(std::string_view bcrypt, std::string_view password) {
  // "$2b$" and its kin, then the cost in two digits.
  if (bcrypt.size() < 7 || bcrypt[0] != '$' || bcrypt[1] != '2' || bcrypt[3] != '$') return false;
  const std::optional<uint32_t> cost = ParseCount(bcrypt.substr(4, 2));
  if (!cost || *cost > kMaxBcryptCost || bcrypt[6] != '$') return false;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(password.data()),
                     password.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  const std::string setting(bcrypt);
  crypt_data data{};
  const char* computed = crypt_rn(hex, setting.c_str(), &data, sizeof data);
  sodium_memzero(hex, sizeof hex);
  const bool same = computed != nullptr && computed[0] != '*' &&
                    std::string_view(computed).size() == bcrypt.size() &&
                    sodium_memcmp(computed, bcrypt.data(), bcrypt.size()) == 0;
  sodium_memzero(&data, sizeof data);
  return same;
}

/// The hash after "<hasher>$", for a hasher of the list; nullopt for any other.
struct Encoded {
  std::string_view hasher;
  std::string_view rest;
};
std::optional<Encoded> Split(std::string_view encoded) {
  const size_t dollar = encoded.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  Encoded split{encoded.substr(0, dollar), encoded.substr(dollar + 1)};
  if (split.hasher == "pbkdf2_sha256" || split.hasher == "pbkdf2_sha1" ||
      split.hasher == "bcrypt_sha256") {
    return split;
  }
  // Django's argon2 keeps the PHC string's own leading '$'.
  if (split.hasher == "argon2") return Encoded{"argon2", encoded.substr(dollar)};
  return std::nullopt;
}

}  // namespace

bool IsDjangoHash(std::string_view encoded) { return Split(encoded).has_value(); }

bool VerifyDjangoHash(std::string_view encoded, std::string_view password) {
  const std::optional<Encoded> split = Split(encoded);
  if (!split) return false;
  if (split->hasher == "pbkdf2_sha256") return VerifyPbkdf2(EVP_sha256(), split->rest, password);
  if (split->hasher == "pbkdf2_sha1") return VerifyPbkdf2(EVP_sha1(), split->rest, password);
  if (split->hasher == "argon2") return VerifyArgon2(split->rest, password);
  return VerifyBcryptSha256(split->rest, password);
}

}  // namespace usersvc::callbacks
