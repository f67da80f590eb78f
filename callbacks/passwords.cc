#include "callbacks/passwords.h"

#include <memory>

#include <absl/time/clock.h>

#include "callbacks/crypto.h"
#include "callbacks/replies.h"
#include "callbacks/request_key.h"
#include "callbacks/validation.h"
#include "callbacks/verification.h"
#include "storage/queries.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;

absl::Status HashingQueueFull() {
  return absl::ResourceExhaustedError("server overloaded: password hashing queue full");
}

absl::Status DeadlineExceeded() {
  return absl::DeadlineExceededError("deadline exceeded before the password could be hashed");
}

absl::Status HashingOutOfMemory() {
  return absl::ResourceExhaustedError("server overloaded: no memory for password hashing");
}

/// Runs `work` on the CPU pool, or ends the call RESOURCE_EXHAUSTED when the pool is full.
/// `finish` is shared with `work`, which owns ending the call once it runs.
template <typename Work>
void OnCpuPool(Services& services, std::shared_ptr<Finish> finish, Work work) {
  if (!services.cpu.Submit(std::move(work), [finish] { std::move (*finish)(ShuttingDown()); })) {
    std::move (*finish)(HashingQueueFull());
  }
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
  auto finish = std::make_shared<Finish>(std::move(call.finish));
  const absl::Time deadline = call.deadline;
  // Stored hash → verify the current password and hash the new one (CPU pool) → write, but only
  // if the stored hash is still the one that was checked. A repeat of a recorded change is told
  // apart first: once the first call succeeded, current_password is no longer the current one.
  // (Two first calls racing are told apart by the write itself, which claims the key.)
  storage::Params check = {r.user_id(), key->request_id, key->fingerprint};
  services.pool.Execute(
      q::kSelectPasswordCheck, std::move(check), deadline,
      [&services, request = call.request, key = *std::move(key), finish,
       deadline](storage::Result row) mutable {
        if (!row.ok()) return std::move(*finish)(row.status());
        if (row.empty()) return std::move(*finish)(absl::NotFoundError("user not found"));
        if (!row.IsNull(0, 1)) {
          return std::move(*finish)(
              row.Bool(0, 1)
                  ? absl::OkStatus()
                  : absl::AlreadyExistsError("request_id: already used with different arguments"));
        }
        std::string old_hash(row.Text(0, 0));
        OnCpuPool(services, finish,
                  [&services, request, key = std::move(key), finish, deadline,
                   old_hash = std::move(old_hash)]() mutable {
                    // Nobody waits for an answer any more: no argon2id for it.
                    if (absl::Now() >= deadline) return std::move(*finish)(DeadlineExceeded());
                    if (!VerifyPassword(old_hash, request->current_password())) {
                      return std::move(*finish)(
                          absl::UnauthenticatedError("current_password is incorrect"));
                    }
                    std::optional<std::string> new_hash = HashPassword(request->new_password());
                    if (!new_hash) return std::move(*finish)(HashingOutOfMemory());
                    storage::Params params = {request->user_id(), std::move(old_hash), *new_hash};
                    key.AppendTo(params);
                    services.pool.Execute(q::kChangePassword, std::move(params), deadline,
                                          ReplyEmpty(std::move(*finish)));
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
  storage::Params params = {*std::move(email), std::move(token.hash), std::move(token.raw),
                            "1 hour"};
  key->AppendTo(params);
  services.pool.Execute(q::kIssuePasswordReset, std::move(params), call.deadline,
                        ReplyEmpty(std::move(call.finish)));
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
  storage::Params check = {*token_hash, key->request_id, key->fingerprint};
  services.pool.Execute(
      q::kSelectResetCheck, std::move(check), deadline,
      [&services, request = call.request, key = *std::move(key), finish, deadline,
       token_hash = *std::move(token_hash)](storage::Result row) mutable {
        if (!row.ok()) return std::move(*finish)(row.status());
        if (!row.IsNull(0, 1)) {  // a repeat of a recorded reset
          return std::move(*finish)(
              row.Bool(0, 1)
                  ? absl::OkStatus()
                  : absl::AlreadyExistsError("request_id: already used with different arguments"));
        }
        if (!row.Bool(0, 0)) return std::move(*finish)(InvalidToken());
        OnCpuPool(services, finish,
                  [&services, request, key = std::move(key), finish, deadline,
                   token_hash = std::move(token_hash)]() mutable {
                    if (absl::Now() >= deadline) return std::move(*finish)(DeadlineExceeded());
                    std::optional<std::string> new_hash = HashPassword(request->new_password());
                    if (!new_hash) return std::move(*finish)(HashingOutOfMemory());
                    storage::Params params = {std::move(token_hash), *new_hash};
                    key.AppendTo(params);
                    services.pool.Execute(q::kResetPassword, std::move(params), deadline,
                                          ReplyEmpty(std::move(*finish)));
                  });
      });
}

}  // namespace usersvc::callbacks
