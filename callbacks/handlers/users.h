#pragma once

#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "callbacks/domain/field_mask.h"
#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "user/v1/user.pb.h"

/// Handlers of the user RPCs: validate, issue one named query, map the rows.
namespace usersvc::callbacks {

void CreateUser(Services& services,
                Exchange<user::v1::CreateUserRequest, user::v1::CreateUserResponse> call);

void GetUser(Services& services,
             Exchange<user::v1::GetUserRequest, user::v1::GetUserResponse> call);

void GetUserByEmail(
    Services& services,
    Exchange<user::v1::GetUserByEmailRequest, user::v1::GetUserByEmailResponse> call);

void UpdateUser(Services& services,
                Exchange<user::v1::UpdateUserRequest, user::v1::UpdateUserResponse> call);

void DeleteUser(Services& services,
                Exchange<user::v1::DeleteUserRequest, user::v1::DeleteUserResponse> call);

void DeactivateUser(
    Services& services,
    Exchange<user::v1::DeactivateUserRequest, user::v1::DeactivateUserResponse> call);

void ReactivateUser(
    Services& services,
    Exchange<user::v1::ReactivateUserRequest, user::v1::ReactivateUserResponse> call);

/// Checks an UpdateUserRequest (the ID, the mask, and each field the mask names) and returns what
/// it changes, the email normalised.
absl::StatusOr<Change> ValidateUpdateUser(const user::v1::UpdateUserRequest& request);

/// Checks every field of a CreateUserRequest and returns it normalised (email trimmed and
/// lower-cased, role defaulted to CUSTOMER), or the first field's error.
absl::StatusOr<user::v1::CreateUserRequest> ValidateCreateUser(
    const user::v1::CreateUserRequest& request);

}  // namespace usersvc::callbacks
