#pragma once

#include <string_view>

/// The password hashes of Django's hashers that accounts imported from the Django service carry:
/// pbkdf2_sha256 (its default), pbkdf2_sha1, argon2 and bcrypt_sha256. Each is checked with a
/// maintained library (OpenSSL's PBKDF2, the reference argon2 library, libxcrypt's bcrypt) and
/// compared in constant time. Slow by design: call only on the CpuPool.
namespace usersvc::callbacks {

/// Whether `encoded` names one of the Django hashers above ("pbkdf2_sha256$…"); Django's
/// unusable passwords ("!…") are not.
bool IsDjangoHash(std::string_view encoded);

/// Whether `password` is the one `encoded` was made from. False for anything malformed, and for
/// costs past what the service will spend on one check (a hash written to tie up the CPU pool).
bool VerifyDjangoHash(std::string_view encoded, std::string_view password);

}  // namespace usersvc::callbacks
