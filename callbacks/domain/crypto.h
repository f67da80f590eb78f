#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

/// libsodium for passwords (argon2id: slow by design, call only on the CpuPool), single-use tokens
/// and argument fingerprints.
namespace usersvc::callbacks {

/// argon2id cost, at or above OWASP's minimum (m = 19 MiB, t = 2, p = 1).
inline constexpr unsigned long long kArgon2OpsLimit = 2;
inline constexpr size_t kArgon2MemLimitBytes = 19u * 1024 * 1024;

/// Initialises libsodium; false if it cannot run on this machine.
bool InitCrypto();

/// A salted argon2id hash in the PHC string format; nullopt when memory ran out.
std::optional<std::string> HashPassword(std::string_view password);

/// Whether `password` matches `hash`, one of this service's argon2id hashes, in time
/// independent of where they differ.
bool VerifyPassword(std::string_view hash, std::string_view password);

/// How a stored hash of any scheme the service reads compared with a password.
struct PasswordMatch {
  bool matches = false;
  /// The stored hash should be replaced by HashPassword's (one imported from Django, or an
  /// argon2id of a lower cost than today's); said only when the password matched.
  bool needs_rehash = false;
};
/// Checks `password` against `stored`: this service's argon2id, or a Django hash
/// (callbacks/domain/django_hashes.h). An unusable password (Django's "!…"), an empty or an
/// unknown hash never matches, and costs one argon2id check all the same, so that the time taken
/// does not tell such accounts apart.
PasswordMatch MatchPassword(std::string_view stored, std::string_view password);

/// Spends what checking a password against an account would, for a caller with no account:
/// VerifyPassword of an unknown email must not answer sooner than a wrong password.
void SpendPasswordCheck(std::string_view password);

/// How many argon2id computations (hashes and verifications) this process has run: what an
/// attacker would try to make the service spend. Exported as usersvc_argon2id_runs_total.
int64_t Argon2idRuns();

/// A digest of a request's arguments (each length-prefixed, so no two lists collide), as the text
/// form of a bytea ("\x…"). For idempotency checks; never fed a password.
std::string ArgumentFingerprint(std::initializer_list<std::string_view> arguments);

/// A fresh single-use token: `raw` goes to the user (through the outbox event) and nowhere else;
/// only `hash` (SHA-256, as the text form of a bytea) is stored.
struct IssuedToken {
  std::string raw;   // 32 random bytes, URL-safe base64 without padding
  std::string hash;  // "\x" + 64 hex digits
};
IssuedToken NewToken();

/// The stored hash of a token the caller presents; nullopt when it cannot be one of ours.
std::optional<std::string> TokenHash(std::string_view raw);

}  // namespace usersvc::callbacks
