#include "callbacks/handlers/sign_in.h"

#include <memory>
#include <optional>
#include <string>

#include <absl/time/clock.h>

#include "callbacks/domain/crypto.h"
#include "callbacks/domain/retry_info.h"
#include "callbacks/domain/rows.h"
#include "callbacks/domain/validation.h"
#include "callbacks/handlers/password_work.h"
#include "storage/queries/credentials.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;

// Django lets passwords be this long; nothing longer can match a stored hash.
constexpr size_t kMaxPasswordBytes = 4096;

/// One answer for an unknown email and a wrong password, so that neither tells the other apart.
absl::Status WrongCredentials() {
  return absl::UnauthenticatedError("email or password is incorrect");
}

absl::Status TooManyAttempts(int64_t retry_after_ms) {
  return WithRetryDelay(
      absl::ResourceExhaustedError("too many failed sign-ins for this email; retry later"),
      absl::Milliseconds(retry_after_ms));
}

/// What the first statement found, kept past its rows for the CPU pool and the second.
struct Account {
  std::string user_id;
  std::string password_hash;
  bool is_active = false;
};

}  // namespace

void VerifyPassword(
    Services& services,
    Exchange<user::v1::VerifyPasswordRequest, user::v1::VerifyPasswordResponse> call) {
  absl::StatusOr<std::string> email = NormalizeEmail("email", call.request->email());
  if (!email.ok()) return std::move(call.finish)(email.status());
  const std::string& password = call.request->password();
  if (password.empty()) return std::move(call.finish)(FieldError("password", "is required"));
  if (password.size() > kMaxPasswordBytes) {
    return std::move(call.finish)(FieldError("password", "is longer than 4096 bytes"));
  }
  auto finish = std::make_shared<Finish>(std::move(call.finish));
  const absl::Time deadline = call.deadline;
  // Count the attempt and read the account → check the password on the CPU pool (a dummy check
  // for no account) → clear the count and re-hash, for the right password only. An unknown
  // email and a wrong password do the same: one write, one argon2id-sized check.
  services.pool.Run(
      q::kClaimSignIn, {.email = *email}, deadline,
      [&services, request = call.request, response = call.response, email = *email, finish,
       deadline](storage::Rows<storage::SignInClaimRow> rows) mutable {
        if (!rows.ok()) return std::move(*finish)(rows.status());
        const storage::SignInClaimRow claim = rows[0];
        if (claim.retry_after_ms > 0) {
          return std::move(*finish)(TooManyAttempts(claim.retry_after_ms));
        }
        std::optional<Account> account;
        if (claim.user) {
          UserFromRow(*claim.user, response->mutable_user());
          account = Account{std::string(claim.user->id), std::string(claim.password_hash),
                            claim.user->is_active};
        }
        OnCpuPool(services, finish,
                  [&services, request, email = std::move(email), account = std::move(account),
                   finish, deadline]() mutable {
                    if (absl::Now() >= deadline) return std::move(*finish)(DeadlineExceeded());
                    if (!account) {
                      SpendPasswordCheck(request->password());
                      return std::move(*finish)(WrongCredentials());
                    }
                    const PasswordMatch match =
                        MatchPassword(account->password_hash, request->password());
                    if (!match.matches) return std::move(*finish)(WrongCredentials());
                    std::optional<std::string> new_hash;
                    if (match.needs_rehash) {
                      new_hash = HashPassword(request->password());
                      if (!new_hash) return std::move(*finish)(HashingOutOfMemory());
                    }
                    // Said only now, to the holder of the right password.
                    const absl::Status answer =
                        account->is_active ? absl::OkStatus()
                                           : absl::PermissionDeniedError("account is deactivated");
                    services.pool.Run(q::kSignInSucceeded,
                                      {.email = email,
                                       .user_id = account->user_id,
                                       .checked_hash = account->password_hash,
                                       .new_hash = std::move(new_hash)},
                                      deadline, [finish, answer](const auto& done) {
                                        std::move (*finish)(done.ok() ? answer : done.status());
                                      });
                  });
      });
}

}  // namespace usersvc::callbacks
