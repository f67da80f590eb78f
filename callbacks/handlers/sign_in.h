#pragma once

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "user/v1/user.pb.h"

/// Sign-in: a password checked against an account's stored hash (argon2id, or Django's for an
/// imported account), with at most 5 tries per email in 15 minutes (migration 0014).
namespace usersvc::callbacks {

void VerifyPassword(
    Services& services,
    Exchange<user::v1::VerifyPasswordRequest, user::v1::VerifyPasswordResponse> call);

}  // namespace usersvc::callbacks
