#include "callbacks/handlers/verification.h"

#include "callbacks/domain/crypto.h"
#include "callbacks/domain/request_key.h"
#include "callbacks/domain/rows.h"
#include "callbacks/domain/validation.h"
#include "callbacks/handlers/replies.h"
#include "storage/queries/credentials.h"

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
  services.pool.Run(q::kIssueVerification,
                    {.subject = call.request->user_id(),
                     .token_hash = storage::ByteaText{token.hash},
                     .raw_token = token.raw,
                     .lifetime = absl::Hours(24),
                     .key = *std::move(key)},
                    call.deadline,
                    [response = call.response, finish = std::move(call.finish)](
                        storage::Rows<storage::ExpiryRow> rows) mutable {
                      if (!rows.ok()) return std::move(finish)(rows.status());
                      if (rows.empty())
                        return std::move(finish)(absl::NotFoundError("user not found"));
                      SetTimestamp(rows[0].expires_at_micros, response->mutable_expires_at());
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
  // Whose email it was is known once the row is: that user is forgotten by the lookup cache
  // before the answer goes (is_email_verified and version changed). An outcome not known
  // (UNKNOWN) may have verified anyone: then every user is.
  Finish finish([&cache = services.user_cache, user = call.response->mutable_user(),
                 finish = std::move(call.finish)](absl::Status status) mutable {
    if (!user->id().empty()) {
      cache.Forget(user->id());
    } else if (status.code() == absl::StatusCode::kUnknown) {
      cache.ForgetAll();
    }
    std::move(finish)(std::move(status));
  });
  services.pool.Run(q::kVerifyEmail,
                    {.token_hash = storage::ByteaText{*hash}, .key = *std::move(key)},
                    call.deadline,
                    ReplyWithRow(call.response->mutable_user(), &UserFromRow, std::move(finish),
                                 "user not found"));
}

}  // namespace usersvc::callbacks
