#pragma once

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "user/v1/user.pb.h"

/// Password changes and resets. argon2id runs on the CPU pool; reset tokens are single use and
/// valid one hour.
namespace usersvc::callbacks {

void ChangePassword(
    Services& services,
    Exchange<user::v1::ChangePasswordRequest, user::v1::ChangePasswordResponse> call);

void RequestPasswordReset(
    Services& services,
    Exchange<user::v1::RequestPasswordResetRequest, user::v1::RequestPasswordResetResponse> call);

void ResetPassword(Services& services,
                   Exchange<user::v1::ResetPasswordRequest, user::v1::ResetPasswordResponse> call);

}  // namespace usersvc::callbacks
