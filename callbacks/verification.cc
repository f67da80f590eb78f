#include "callbacks/verification.h"

#include "callbacks/crypto.h"
#include "callbacks/replies.h"
#include "callbacks/request_key.h"
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
  absl::StatusOr<RequestKey> key = KeyOf(*call.request);
  if (!key.ok()) return std::move(call.finish)(key.status());
  IssuedToken token = NewToken();
  storage::Params params = {call.request->user_id(), std::move(token.hash), std::move(token.raw),
                            "24 hours"};
  key->AppendTo(params);
  services.pool.Execute(
      q::kIssueVerification, std::move(params), call.deadline,
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
  // The raw token goes into the fingerprint: 32 random bytes, as safe to digest as its stored hash.
  absl::StatusOr<RequestKey> key = KeyOf(*call.request);
  if (!key.ok()) return std::move(call.finish)(key.status());
  storage::Params params = {*std::move(hash)};
  key->AppendTo(params);
  services.pool.Execute(q::kVerifyEmail, std::move(params), call.deadline,
                        ReplyWithRow(call.response->mutable_user(), &UserFromRow,
                                     std::move(call.finish), "user not found"));
}

}  // namespace usersvc::callbacks
