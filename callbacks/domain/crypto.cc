#include "callbacks/domain/crypto.h"

#include <atomic>
#include <cstdint>

#include <sodium.h>

#include "callbacks/domain/django_hashes.h"

namespace usersvc::callbacks {

namespace {

std::atomic<int64_t> argon2id_runs = 0;

}  // namespace

bool InitCrypto() { return sodium_init() >= 0; }

int64_t Argon2idRuns() { return argon2id_runs.load(std::memory_order_relaxed); }

std::optional<std::string> HashPassword(std::string_view password) {
  argon2id_runs.fetch_add(1, std::memory_order_relaxed);
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(), kArgon2OpsLimit,
                            kArgon2MemLimitBytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string(hash);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  argon2id_runs.fetch_add(1, std::memory_order_relaxed);
  const std::string terminated(hash);  // libsodium wants a NUL-terminated hash string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

namespace {

/// An argon2id hash of a random password, made once, for checks that must cost one.
const std::string& DummyHash() {
  static const std::string hash = [] {
    unsigned char password[32];
    randombytes_buf(password, sizeof password);
    return HashPassword(std::string_view(reinterpret_cast<const char*>(password), sizeof password))
        .value_or("");
  }();
  return hash;
}

}  // namespace

void SpendPasswordCheck(std::string_view password) {
  // Had the dummy hash found no memory, hashing the password costs the same as checking it.
  if (DummyHash().empty()) {
    (void)HashPassword(password);
  } else {
    (void)VerifyPassword(DummyHash(), password);
  }
}

PasswordMatch MatchPassword(std::string_view stored, std::string_view password) {
  if (stored.starts_with("$argon2id$")) {
    if (!VerifyPassword(stored, password)) return {};
    const std::string terminated(stored);
    return {.matches = true,
            .needs_rehash = crypto_pwhash_str_needs_rehash(terminated.c_str(), kArgon2OpsLimit,
                                                           kArgon2MemLimitBytes) != 0};
  }
  if (IsDjangoHash(stored)) {
    if (!VerifyDjangoHash(stored, password)) return {};
    return {.matches = true, .needs_rehash = true};
  }
  SpendPasswordCheck(password);
  return {};
}

namespace {

constexpr size_t kTokenBytes = 32;

std::string HexBytea(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();  // the terminating NUL
  return "\\x" + hex;
}

std::string Sha256Bytea(const unsigned char* bytes, size_t size) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, bytes, size);
  return HexBytea(digest, sizeof digest);
}

}  // namespace

IssuedToken NewToken() {
  unsigned char bytes[kTokenBytes];
  randombytes_buf(bytes, sizeof bytes);
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string raw(sodium_base64_ENCODED_LEN(kTokenBytes, kVariant), '\0');
  sodium_bin2base64(raw.data(), raw.size(), bytes, sizeof bytes, kVariant);
  raw.resize(raw.find('\0'));
  IssuedToken token{std::move(raw), Sha256Bytea(bytes, sizeof bytes)};
  sodium_memzero(bytes, sizeof bytes);
  return token;
}

std::optional<std::string> TokenHash(std::string_view raw) {
  unsigned char bytes[kTokenBytes];
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes, sizeof bytes, raw.data(), raw.size(), nullptr, &decoded, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      decoded != kTokenBytes || end != raw.data() + raw.size()) {
    return std::nullopt;
  }
  return Sha256Bytea(bytes, sizeof bytes);
}

std::string ArgumentFingerprint(std::initializer_list<std::string_view> arguments) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  for (std::string_view argument : arguments) {
    const uint64_t length = argument.size();
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&length),
                              sizeof length);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(argument.data()),
                              argument.size());
  }
  unsigned char digest[crypto_generichash_BYTES];
  crypto_generichash_final(&state, digest, sizeof digest);
  return HexBytea(digest, sizeof digest);
}

}  // namespace usersvc::callbacks
