#include "callbacks/verification.h"

#include "callbacks/crypto.h"
#include "callbacks/replies.h"
#include "callbacks/rows.h"
#include "callbacks/validation.h"
#include "storage/queries.h"

namespace usersvc::callbacks {

namespace q = storage::queries;

absl::Status InvalidToken() { return FieldError("token", "invalid or expired"); }

void SendVerificationEmail(
    Services& services,
    Exchange<user::v1::SendVerificationEmailRequest, user::v1::SendVerificationEmailResponse>
        call) {
  if (auto status = CheckUuid("user_id", call.request->user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  IssuedToken token = NewToken();
  services.pool.Execute(
      q::kIssueVerification,
      {call.request->user_id(), std::move(token.hash), std::move(token.raw), "24 hours"},
      call.deadline,
      [response = call.response, finish = std::move(call.finish)](storage::Result row) mutable {
        if (!row.ok()) return std::move(finish)(row.status());
        SetTimestamp(row.Int64(0, 0), response->mutable_expires_at());
        std::move(finish)(absl::OkStatus());
      });
}

void VerifyEmail(Services& services,
                 Exchange<user::v1::VerifyEmailRequest, user::v1::VerifyEmailResponse> call) {
  std::optional<std::string> hash = TokenHash(call.request->token());
  if (!hash) return std::move(call.finish)(InvalidToken());
  services.pool.Execute(q::kVerifyEmail, {*std::move(hash)}, call.deadline,
                        ReplyWithRow(call.response->mutable_user(), &UserFromRow,
                                     std::move(call.finish), "user not found"));
}

}  // namespace usersvc::callbacks
