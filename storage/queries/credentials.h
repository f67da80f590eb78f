#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include <absl/time/time.h>

#include "storage/params.h"
#include "storage/query.h"
#include "storage/rows.h"

/// The statements on passwords and single-use tokens. Tokens are stored only as their hash
/// (bytea); the raw token goes to the outbox event and nowhere else.
namespace usersvc::storage::queries {

/// A token for `subject` (a user id, or an email for a reset): its hash, the raw token for the
/// event, how long it lives.
struct IssueTokenParams {
  std::string_view subject;
  ByteaText token_hash;
  std::string_view raw_token;
  absl::Duration lifetime;
  RequestKey key;
  auto Fields() const { return std::tie(subject, token_hash, raw_token, lifetime, key); }
};
/// SendVerificationEmail: the token's expiry.
extern const Query<IssueTokenParams, ExpiryRow> kIssueVerification;
/// RequestPasswordReset, by email (normalised): the same work whether or not it has an account.
extern const Query<IssueTokenParams, DoneRow> kIssuePasswordReset;

/// The verified user.
struct VerifyEmailParams {
  ByteaText token_hash;
  RequestKey key;
  auto Fields() const { return std::tie(token_hash, key); }
};
extern const Query<VerifyEmailParams, UserRow> kVerifyEmail;

/// No row: no such user.
struct PasswordCheckParams {
  std::string_view user_id;
  RequestKey key;  // ChangePassword's
  auto Fields() const { return std::tie(user_id, key); }
};
extern const Query<PasswordCheckParams, PasswordCheckRow> kSelectPasswordCheck;

/// Writes the new hash only if the stored one is still the one the current password matched.
struct ChangePasswordParams {
  std::string_view user_id;
  std::string_view checked_hash;
  std::string_view new_hash;
  RequestKey key;
  auto Fields() const { return std::tie(user_id, checked_hash, new_hash, key); }
};
extern const Query<ChangePasswordParams, DoneRow> kChangePassword;

struct ResetCheckParams {
  ByteaText token_hash;
  RequestKey key;  // ResetPassword's
  auto Fields() const { return std::tie(token_hash, key); }
};
extern const Query<ResetCheckParams, ResetCheckRow> kSelectResetCheck;

struct ResetPasswordParams {
  ByteaText token_hash;
  std::string_view new_hash;
  RequestKey key;
  auto Fields() const { return std::tie(token_hash, new_hash, key); }
};
extern const Query<ResetPasswordParams, DoneRow> kResetPassword;

/// VerifyPassword, before any hash is checked: counts the attempt for `email` (normalised) and
/// reads its account, in one statement.
struct ClaimSignInParams {
  std::string_view email;
  auto Fields() const { return std::tie(email); }
};
extern const Query<ClaimSignInParams, SignInClaimRow> kClaimSignIn;

/// The right password: clears the count of `email`, and replaces `checked_hash` by `new_hash`
/// (if any) unless the password changed meanwhile.
struct SignInSucceededParams {
  std::string_view email;
  std::string_view user_id;
  std::string_view checked_hash;
  std::optional<std::string> new_hash;
  auto Fields() const { return std::tie(email, user_id, checked_hash, new_hash); }
};
extern const Query<SignInSucceededParams, DoneRow> kSignInSucceeded;

}  // namespace usersvc::storage::queries
