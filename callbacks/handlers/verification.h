#pragma once

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "user/v1/user.pb.h"

/// Email verification: single-use tokens, valid 24 hours, delivered through the outbox.
namespace usersvc::callbacks {

void SendVerificationEmail(
    Services& services,
    Exchange<user::v1::SendVerificationEmailRequest, user::v1::SendVerificationEmailResponse> call);

void VerifyEmail(Services& services,
                 Exchange<user::v1::VerifyEmailRequest, user::v1::VerifyEmailResponse> call);

/// The one message for every token that does not work: malformed, unknown, used or expired.
absl::Status InvalidToken();

}  // namespace usersvc::callbacks
