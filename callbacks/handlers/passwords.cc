#include "callbacks/handlers/passwords.h"

#include <memory>

#include <absl/time/clock.h>

#include "callbacks/domain/crypto.h"
#include "callbacks/domain/request_key.h"
#include "callbacks/domain/validation.h"
#include "callbacks/handlers/forget_user.h"
#include "callbacks/handlers/password_work.h"
#include "callbacks/handlers/replies.h"
#include "callbacks/handlers/verification.h"
#include "storage/queries/credentials.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;

/// A repeat of a recorded change answers what its first call did (OK) when its arguments are
/// the same; a request_id reused for anything else is refused.
absl::Status RepeatAnswer(bool same_arguments) {
  return same_arguments
             ? absl::OkStatus()
             : absl::AlreadyExistsError("request_id: already used with different arguments");
}

}  // namespace

void ChangePassword(
    Services& services,
    Exchange<user::v1::ChangePasswordRequest, user::v1::ChangePasswordResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckUuid("user_id", r.user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  if (r.current_password().empty()) {
    return std::move(call.finish)(FieldError("current_password", "is required"));
  }
  if (auto status = CheckPassword("new_password", r.new_password()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  if (r.new_password() == r.current_password()) {
    return std::move(call.finish)(FieldError("new_password", "must differ from current_password"));
  }
  absl::StatusOr<RequestKey> key = KeyOf(r, {"current_password", "new_password"});
  if (!key.ok()) return std::move(call.finish)(key.status());
  // A new password bumps the user's version and updated_at, which GetUser shows.
  auto finish =
      std::make_shared<Finish>(ForgettingUser(services, r.user_id(), std::move(call.finish)));
  const absl::Time deadline = call.deadline;
  // Stored hash → verify the current password and hash the new one (CPU pool) → write, but only
  // if the stored hash is still the one that was checked. A repeat of a recorded change is told
  // apart first: once the first call succeeded, current_password is no longer the current one.
  // (Two first calls racing are told apart by the write itself, which claims the key.)
  services.pool.Run(
      q::kSelectPasswordCheck, {.user_id = r.user_id(), .key = *key}, deadline,
      [&services, request = call.request, key = *key, finish,
       deadline](storage::Rows<storage::PasswordCheckRow> rows) mutable {
        if (!rows.ok()) return std::move(*finish)(rows.status());
        if (rows.empty()) return std::move(*finish)(absl::NotFoundError("user not found"));
        const storage::PasswordCheckRow check = rows[0];
        if (check.recorded) return std::move(*finish)(RepeatAnswer(*check.recorded));
        std::string old_hash(check.password_hash);
        OnCpuPool(services, finish,
                  [&services, request, key = std::move(key), finish, deadline,
                   old_hash = std::move(old_hash)]() mutable {
                    // Nobody waits for an answer any more: no argon2id for it.
                    if (absl::Now() >= deadline) return std::move(*finish)(DeadlineExceeded());
                    if (!MatchPassword(old_hash, request->current_password()).matches) {
                      return std::move(*finish)(
                          absl::UnauthenticatedError("current_password is incorrect"));
                    }
                    std::optional<std::string> new_hash = HashPassword(request->new_password());
                    if (!new_hash) return std::move(*finish)(HashingOutOfMemory());
                    services.pool.Run(q::kChangePassword,
                                      {.user_id = request->user_id(),
                                       .checked_hash = old_hash,
                                       .new_hash = *new_hash,
                                       .key = std::move(key)},
                                      deadline, ReplyEmpty(std::move(*finish)));
                  });
      });
}

void RequestPasswordReset(
    Services& services,
    Exchange<user::v1::RequestPasswordResetRequest, user::v1::RequestPasswordResetResponse> call) {
  absl::StatusOr<std::string> email = NormalizeEmail("email", call.request->email());
  if (!email.ok()) return std::move(call.finish)(email.status());
  // The same work and the same answer whether or not an account has this email: a token is made
  // and the one statement runs either way; only the database decides to keep it.
  absl::StatusOr<RequestKey> key = KeyOf(*call.request);
  if (!key.ok()) return std::move(call.finish)(key.status());
  IssuedToken token = NewToken();
  services.pool.Run(q::kIssuePasswordReset,
                    {.subject = *email,
                     .token_hash = storage::ByteaText{token.hash},
                     .raw_token = token.raw,
                     .lifetime = absl::Hours(1),
                     .key = *std::move(key)},
                    call.deadline, ReplyEmpty(std::move(call.finish)));
}

void ResetPassword(Services& services,
                   Exchange<user::v1::ResetPasswordRequest, user::v1::ResetPasswordResponse> call) {
  std::optional<std::string> token_hash = TokenHash(call.request->token());
  if (!token_hash) return std::move(call.finish)(InvalidToken());
  if (auto status = CheckPassword("new_password", call.request->new_password()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  absl::StatusOr<RequestKey> key = KeyOf(*call.request, {"new_password"});
  if (!key.ok()) return std::move(call.finish)(key.status());
  auto finish = std::make_shared<Finish>(std::move(call.finish));
  const absl::Time deadline = call.deadline;
  // The token is looked up before anything is hashed, so a flood of made-up tokens costs an
  // index lookup each, never an argon2id hash. (The write consumes it atomically again.)
  services.pool.Run(
      q::kSelectResetCheck, {.token_hash = storage::ByteaText{*token_hash}, .key = *key}, deadline,
      [&services, request = call.request, key = *key, finish, deadline,
       token_hash = *token_hash](storage::Rows<storage::ResetCheckRow> rows) mutable {
        if (!rows.ok()) return std::move(*finish)(rows.status());
        if (rows.empty()) return std::move(*finish)(InvalidToken());
        const storage::ResetCheckRow check = rows[0];
        if (check.recorded) return std::move(*finish)(RepeatAnswer(*check.recorded));
        if (!check.token_usable || !check.user_id) return std::move(*finish)(InvalidToken());
        // The new password bumps the user's version and updated_at, which GetUser shows.
        *finish = ForgettingUser(services, std::string(*check.user_id), std::move(*finish));
        OnCpuPool(services, finish,
                  [&services, request, key = std::move(key), finish, deadline,
                   token_hash = std::move(token_hash)]() mutable {
                    if (absl::Now() >= deadline) return std::move(*finish)(DeadlineExceeded());
                    std::optional<std::string> new_hash = HashPassword(request->new_password());
                    if (!new_hash) return std::move(*finish)(HashingOutOfMemory());
                    services.pool.Run(q::kResetPassword,
                                      {.token_hash = storage::ByteaText{token_hash},
                                       .new_hash = *new_hash,
                                       .key = std::move(key)},
                                      deadline, ReplyEmpty(std::move(*finish)));
                  });
      });
}

}  // namespace usersvc::callbacks
