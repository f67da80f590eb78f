#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

/// Password hashing with libsodium's argon2id. Slow by design: call only on the CpuPool.
namespace usersvc::callbacks {

/// argon2id cost, at or above OWASP's minimum (m = 19 MiB, t = 2, p = 1).
inline constexpr unsigned long long kArgon2OpsLimit = 2;
inline constexpr size_t kArgon2MemLimitBytes = 19u * 1024 * 1024;

/// Initialises libsodium; false if it cannot run on this machine.
bool InitCrypto();

/// A salted argon2id hash in the PHC string format; nullopt when memory ran out.
std::optional<std::string> HashPassword(std::string_view password);

/// Whether `password` matches `hash`, in time independent of where they differ.
bool VerifyPassword(std::string_view hash, std::string_view password);

/// A digest of a request's arguments (each length-prefixed, so no two lists collide), as the text
/// form of a bytea ("\x…"). For idempotency checks; never fed a password.
std::string ArgumentFingerprint(std::initializer_list<std::string_view> arguments);

}  // namespace usersvc::callbacks
