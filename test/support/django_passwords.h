#pragma once

#include <string>

namespace usersvc::test {

/// What Django's make_password stores for `password` with `hasher` ("pbkdf2_sha256",
/// "pbkdf2_sha1", "argon2", "bcrypt_sha256", or "unusable"): made by Django itself
/// (test/support/make_django_password.py). Fails the test if Django cannot run.
std::string DjangoPassword(const std::string& hasher, const std::string& password);

}  // namespace usersvc::test
