#include "callbacks/users.h"

#include <memory>

#include <absl/strings/str_cat.h>
#include <absl/time/clock.h>

#include "callbacks/passwords.h"
#include "callbacks/user_rows.h"
#include "callbacks/validation.h"
#include "storage/queries.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using user::v1::User;

/// A query continuation that puts the single user row into `out`, or NOT_FOUND.
storage::QueryCallback ReplyWithUser(User* out, Finish finish) {
  return [out, finish = std::move(finish)](storage::Result result) mutable {
    if (!result.ok()) return std::move(finish)(result.status());
    if (result.empty()) return std::move(finish)(absl::NotFoundError("user not found"));
    UserFromRow(result, 0, out);
    std::move(finish)(absl::OkStatus());
  };
}

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
  c.services.pool.Execute(
      q::kSelectUserByRequestId, {c.request.request_id()}, c.deadline,
      [creation = std::move(creation), original_error](storage::Result rows) mutable {
        Creation& replay = *creation;
        if (!rows.ok()) return replay.Done(rows.status());
        if (rows.empty()) return replay.Done(original_error);  // raced with a different request
        if (rows.Text(0, q::kUserColumnCount) != replay.fingerprint)
          return replay.Done(ReusedRequestId());
        UserFromRow(rows, 0, replay.out);
        std::string stored_hash(rows.Text(0, q::kUserColumnCount + 1));
        auto verify = [creation, stored_hash = std::move(stored_hash)]() mutable {
          creation->Done(VerifyPassword(stored_hash, creation->request.password())
                             ? absl::OkStatus()
                             : ReusedRequestId());
        };
        if (!replay.services.cpu.Submit(std::move(verify))) {
          creation->Done(absl::ResourceExhaustedError("server overloaded: hashing queue full"));
        }
      });
}

void InsertUser(std::shared_ptr<Creation> creation, std::string password_hash) {
  Creation& c = *creation;
  const auto& r = c.request;
  storage::Params params = {r.email(),
                            r.username(),
                            std::move(password_hash),
                            r.first_name(),
                            r.last_name(),
                            r.phone_number(),
                            absl::StrCat(static_cast<int>(r.role())),
                            std::nullopt,
                            std::nullopt};
  if (!r.request_id().empty()) {
    params[7] = r.request_id();
    params[8] = c.fingerprint;
  }
  c.services.pool.Execute(
      q::kInsertUser, std::move(params), c.deadline,
      [creation = std::move(creation)](storage::Result result) mutable {
        Creation& inserted = *creation;
        const bool has_request_id = !inserted.request.request_id().empty();
        if (!result.ok()) {
          if (result.sqlstate() != "23505") return inserted.Done(result.status());
          absl::Status taken = TakenField(result.constraint());
          // A concurrent first call with the same request_id can surface as its email conflict.
          if (has_request_id) return ReplayCreation(std::move(creation), std::move(taken));
          return inserted.Done(std::move(taken));
        }
        if (result.empty()) {  // ON CONFLICT (create_request_id) DO NOTHING: a repeat
          return ReplayCreation(std::move(creation),
                                absl::AlreadyExistsError("request_id: already used"));
        }
        UserFromRow(result, 0, inserted.out);
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
  for (const absl::Status& status : {CheckUsername("username", request.username()),
                                     CheckPassword("password", request.password()),
                                     CheckLength("first_name", request.first_name(), 100),
                                     CheckLength("last_name", request.last_name(), 100),
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
  if (!services.cpu.Submit(std::move(hash_then_insert))) {
    creation->Done(absl::ResourceExhaustedError("server overloaded: password hashing queue full"));
  }
}

void GetUser(Services& services,
             Exchange<user::v1::GetUserRequest, user::v1::GetUserResponse> call) {
  if (auto status = CheckUuid("user_id", call.request->user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.pool.Execute(q::kSelectUserById, {call.request->user_id()}, call.deadline,
                        ReplyWithUser(call.response->mutable_user(), std::move(call.finish)));
}

void GetUserByEmail(
    Services& services,
    Exchange<user::v1::GetUserByEmailRequest, user::v1::GetUserByEmailResponse> call) {
  absl::StatusOr<std::string> email = NormalizeEmail("email", call.request->email());
  if (!email.ok()) return std::move(call.finish)(email.status());
  services.pool.Execute(q::kSelectUserByEmail, {*std::move(email)}, call.deadline,
                        ReplyWithUser(call.response->mutable_user(), std::move(call.finish)));
}

}  // namespace usersvc::callbacks
