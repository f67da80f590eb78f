#include "callbacks/passwords.h"

#include <cstdint>

#include <sodium.h>

namespace usersvc::callbacks {

bool InitCrypto() { return sodium_init() >= 0; }

std::optional<std::string> HashPassword(std::string_view password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(), kArgon2OpsLimit,
                            kArgon2MemLimitBytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string(hash);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  const std::string terminated(hash);  // libsodium wants a NUL-terminated hash string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
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
  char hex[crypto_generichash_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string("\\x") + hex;
}

}  // namespace usersvc::callbacks
