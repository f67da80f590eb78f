#include "callbacks/handlers/users.h"

#include <memory>

#include <absl/strings/str_cat.h>
#include <absl/time/clock.h>

#include "callbacks/domain/crypto.h"
#include "callbacks/domain/field_mask.h"
#include "callbacks/domain/request_key.h"
#include "callbacks/domain/rows.h"
#include "callbacks/domain/user_lookups.h"
#include "callbacks/domain/validation.h"
#include "callbacks/handlers/forget_user.h"
#include "callbacks/handlers/replies.h"
#include "storage/queries/users.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using user::v1::User;

auto ReplyWithUser(User* out, Finish finish) {
  return ReplyWithRow(out, &UserFromRow, std::move(finish), "user not found");
}

UserLookups::Callback ReplyWithLookedUpUser(User* out, Finish finish) {
  return
      [out, finish = std::move(finish)](absl::Status status, const storage::UserRow* user) mutable {
        if (!status.ok()) return std::move(finish)(std::move(status));
        if (user == nullptr) return std::move(finish)(absl::NotFoundError("user not found"));
        UserFromRow(*user, out);
        std::move(finish)(absl::OkStatus());
      };
}

/// UpdateUser's mutable fields (storage/queries/users.h takes them as one change object).
absl::Status CheckEmail(std::string_view field, User& user) {
  absl::StatusOr<std::string> email = NormalizeEmail(field, user.email());
  if (!email.ok()) return email.status();
  user.set_email(*std::move(email));
  return absl::OkStatus();
}

constexpr MutableField<User> kUserFields[] = {
    {"email", &CheckEmail},
    {"username", [](std::string_view f, User& u) { return CheckUsername(f, u.username()); }},
    {"first_name", [](std::string_view f, User& u) { return CheckName(f, u.first_name()); }},
    {"last_name", [](std::string_view f, User& u) { return CheckName(f, u.last_name()); }},
    {"phone_number", [](std::string_view f, User& u) { return CheckPhone(f, u.phone_number()); }},
    {"role",
     [](std::string_view f, User& u) {
       return user::v1::UserRole_IsValid(u.role()) && u.role() != user::v1::USER_ROLE_UNSPECIFIED
                  ? absl::OkStatus()
                  : FieldError(f, "must be CUSTOMER, SELLER, SUPPORT or ADMIN");
     }},
};

/// ALREADY_EXISTS naming the field whose unique index was hit.
absl::Status TakenField(const std::string& constraint) {
  if (constraint == "users_email_key") {
    return absl::AlreadyExistsError("email: a user with this email already exists");
  }
  if (constraint == "users_username_key") {
    return absl::AlreadyExistsError("username: a user with this username already exists");
  }
  return absl::AlreadyExistsError("request_id: already used");
}

/// Everything CreateUser carries from one stage to the next (CPU pool, then the database).
struct Creation {
  Services& services;
  user::v1::CreateUserRequest request;  // normalised
  std::string fingerprint;              // empty without a request_id
  User* out;
  absl::Time deadline;
  Finish finish;

  void Done(absl::Status status) { std::move(finish)(std::move(status)); }
};

std::string Fingerprint(const user::v1::CreateUserRequest& r) {
  const std::string role = absl::StrCat(static_cast<int>(r.role()));
  return ArgumentFingerprint(
      {r.email(), r.username(), r.first_name(), r.last_name(), r.phone_number(), role});
}

absl::Status ReusedRequestId() {
  return absl::AlreadyExistsError("request_id: already used with different arguments");
}

// A repeat of a request_id: the first call's user, if every argument (password included) matches.
void ReplayCreation(std::shared_ptr<Creation> creation, absl::Status original_error) {
  Creation& c = *creation;
  c.services.pool.Run(
      q::kSelectUserByRequestId, {c.request.request_id()}, c.deadline,
      [creation = std::move(creation),
       original_error](storage::Rows<storage::CreatedUserRow> rows) mutable {
        Creation& replay = *creation;
        if (!rows.ok()) return replay.Done(rows.status());
        if (rows.empty()) return replay.Done(original_error);  // raced with a different request
        const storage::CreatedUserRow created = rows[0];
        if (created.fingerprint != replay.fingerprint) return replay.Done(ReusedRequestId());
        UserFromRow(created.user, replay.out);
        std::string stored_hash(created.password_hash);
        auto verify = [creation, stored_hash = std::move(stored_hash)]() mutable {
          creation->Done(VerifyPassword(stored_hash, creation->request.password())
                             ? absl::OkStatus()
                             : ReusedRequestId());
        };
        if (!replay.services.cpu.Submit(std::move(verify),
                                        [creation] { creation->Done(ShuttingDown()); })) {
          creation->Done(absl::ResourceExhaustedError("server overloaded: hashing queue full"));
        }
      });
}

void InsertUser(std::shared_ptr<Creation> creation, std::string password_hash) {
  Creation& c = *creation;
  const auto& r = c.request;
  q::InsertUserParams params{.email = r.email(),
                             .username = r.username(),
                             .password_hash = password_hash,
                             .first_name = r.first_name(),
                             .last_name = r.last_name(),
                             .phone_number = r.phone_number(),
                             .role = r.role()};
  if (!r.request_id().empty()) {
    params.request_id = r.request_id();
    params.fingerprint = storage::ByteaText{c.fingerprint};
  }
  c.services.pool.Run(
      q::kInsertUser, params, c.deadline,
      [creation = std::move(creation)](storage::Rows<storage::UserRow> result) mutable {
        Creation& inserted = *creation;
        const bool has_request_id = !inserted.request.request_id().empty();
        if (!result.ok()) {
          if (result.error() != storage::SqlError::kUniqueViolation) {
            return inserted.Done(result.status());
          }
          absl::Status taken = TakenField(result.constraint());
          // A concurrent first call with the same request_id can surface as its email conflict.
          if (has_request_id) return ReplayCreation(std::move(creation), std::move(taken));
          return inserted.Done(std::move(taken));
        }
        if (result.empty()) {  // ON CONFLICT (create_request_id) DO NOTHING: a repeat
          return ReplayCreation(std::move(creation),
                                absl::AlreadyExistsError("request_id: already used"));
        }
        UserFromRow(result[0], inserted.out);
        inserted.Done(absl::OkStatus());
      });
}

}  // namespace

absl::StatusOr<user::v1::CreateUserRequest> ValidateCreateUser(
    const user::v1::CreateUserRequest& request) {
  user::v1::CreateUserRequest normalised = request;
  absl::StatusOr<std::string> email = NormalizeEmail("email", request.email());
  if (!email.ok()) return email.status();
  normalised.set_email(*std::move(email));
  for (const absl::Status& status :
       {CheckUsername("username", request.username()),
        CheckPassword("password", request.password()),
        CheckName("first_name", request.first_name()), CheckName("last_name", request.last_name()),
        CheckPhone("phone_number", request.phone_number())}) {
    if (!status.ok()) return status;
  }
  if (!user::v1::UserRole_IsValid(request.role())) return FieldError("role", "unknown role");
  if (request.role() == user::v1::USER_ROLE_UNSPECIFIED) {
    normalised.set_role(user::v1::USER_ROLE_CUSTOMER);
  }
  if (!request.request_id().empty()) {
    if (auto status = CheckUuid("request_id", request.request_id()); !status.ok()) return status;
  }
  return normalised;
}

void CreateUser(Services& services,
                Exchange<user::v1::CreateUserRequest, user::v1::CreateUserResponse> call) {
  absl::StatusOr<user::v1::CreateUserRequest> request = ValidateCreateUser(*call.request);
  if (!request.ok()) return std::move(call.finish)(request.status());

  auto creation = std::make_shared<Creation>(Creation{services, *std::move(request), "",
                                                      call.response->mutable_user(), call.deadline,
                                                      std::move(call.finish)});
  if (!creation->request.request_id().empty())
    creation->fingerprint = Fingerprint(creation->request);
  // argon2id takes tens of milliseconds of CPU: it runs on the CPU pool, never on this thread.
  auto hash_then_insert = [creation]() mutable {
    if (absl::Now() >= creation->deadline) {
      return creation->Done(absl::DeadlineExceededError("deadline exceeded"));
    }
    std::optional<std::string> hash = HashPassword(creation->request.password());
    if (!hash) return creation->Done(absl::ResourceExhaustedError("out of memory for hashing"));
    InsertUser(std::move(creation), *std::move(hash));
  };
  if (!services.cpu.Submit(std::move(hash_then_insert),
                           [creation] { creation->Done(ShuttingDown()); })) {
    creation->Done(absl::ResourceExhaustedError("server overloaded: password hashing queue full"));
  }
}

void GetUser(Services& services,
             Exchange<user::v1::GetUserRequest, user::v1::GetUserResponse> call) {
  if (auto status = CheckUuid("user_id", call.request->user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.lookups.ById(
      call.request->user_id(),
      ReplyWithLookedUpUser(call.response->mutable_user(), std::move(call.finish)));
}

void GetUserByEmail(
    Services& services,
    Exchange<user::v1::GetUserByEmailRequest, user::v1::GetUserByEmailResponse> call) {
  absl::StatusOr<std::string> email = NormalizeEmail("email", call.request->email());
  if (!email.ok()) return std::move(call.finish)(email.status());
  services.lookups.ByEmail(*std::move(email), ReplyWithLookedUpUser(call.response->mutable_user(),
                                                                    std::move(call.finish)));
}

absl::StatusOr<Change> ValidateUpdateUser(const user::v1::UpdateUserRequest& request) {
  if (auto status = CheckUuid("user_id", request.user_id()); !status.ok()) return status;
  absl::StatusOr<Change> change =
      ResolveChange<User>(request.update_mask(), kUserFields, "user.", request.user());
  if (!change.ok()) return change.status();
  if (request.expected_version() < 0) {
    return FieldError("expected_version", "must not be negative");
  }
  return change;
}

void UpdateUser(Services& services,
                Exchange<user::v1::UpdateUserRequest, user::v1::UpdateUserResponse> call) {
  absl::StatusOr<Change> change = ValidateUpdateUser(*call.request);
  if (!change.ok()) return std::move(call.finish)(change.status());
  absl::StatusOr<RequestKey> key = KeyOf(*call.request);
  if (!key.ok()) return std::move(call.finish)(key.status());
  services.pool.Run(
      q::kUpdateUser,
      {.id = call.request->user_id(),
       .changes = change->object,
       .expected_version = call.request->expected_version(),
       .key = *std::move(key)},
      call.deadline,
      [out = call.response->mutable_user(),
       finish = ForgettingUser(services, call.request->user_id(), std::move(call.finish))](
          storage::Rows<storage::UserRow> rows) mutable {
        if (rows.error() == storage::SqlError::kUniqueViolation)
          return std::move(finish)(TakenField(rows.constraint()));
        ReplyWithUser(out, std::move(finish))(std::move(rows));
      });
}

void DeleteUser(Services& services,
                Exchange<user::v1::DeleteUserRequest, user::v1::DeleteUserResponse> call) {
  if (auto status = CheckUuid("user_id", call.request->user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  absl::StatusOr<RequestKey> key = KeyOf(*call.request);
  if (!key.ok()) return std::move(call.finish)(key.status());
  services.pool.Run(
      q::kDeleteUser, {.id = call.request->user_id(), .key = *std::move(key)}, call.deadline,
      ReplyEmpty(ForgettingUser(services, call.request->user_id(), std::move(call.finish))));
}

void DeactivateUser(
    Services& services,
    Exchange<user::v1::DeactivateUserRequest, user::v1::DeactivateUserResponse> call) {
  for (const absl::Status& status : {CheckUuid("user_id", call.request->user_id()),
                                     CheckLength("reason", call.request->reason(), 500)}) {
    if (!status.ok()) return std::move(call.finish)(status);
  }
  services.pool.Run(
      q::kSetUserActive,
      {.id = call.request->user_id(), .active = false, .reason = call.request->reason()},
      call.deadline,
      ReplyWithUser(call.response->mutable_user(),
                    ForgettingUser(services, call.request->user_id(), std::move(call.finish))));
}

void ReactivateUser(
    Services& services,
    Exchange<user::v1::ReactivateUserRequest, user::v1::ReactivateUserResponse> call) {
  if (auto status = CheckUuid("user_id", call.request->user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.pool.Run(
      q::kSetUserActive, {.id = call.request->user_id(), .active = true}, call.deadline,
      ReplyWithUser(call.response->mutable_user(),
                    ForgettingUser(services, call.request->user_id(), std::move(call.finish))));
}

}  // namespace usersvc::callbacks
