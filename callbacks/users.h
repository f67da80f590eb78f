#pragma once

#include <absl/status/statusor.h>

#include "callbacks/exchange.h"
#include "callbacks/services.h"
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

/// Checks every field of a CreateUserRequest and returns it normalised (email trimmed and
/// lower-cased, role defaulted to CUSTOMER), or the first field's error.
absl::StatusOr<user::v1::CreateUserRequest> ValidateCreateUser(
    const user::v1::CreateUserRequest& request);

}  // namespace usersvc::callbacks
