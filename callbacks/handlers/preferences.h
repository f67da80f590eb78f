#pragma once

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "user/v1/user.pb.h"

/// User preferences, with the documented defaults for users who never saved any.
namespace usersvc::callbacks {

void GetUserPreferences(
    Services& services,
    Exchange<user::v1::GetUserPreferencesRequest, user::v1::GetUserPreferencesResponse> call);

void UpdateUserPreferences(
    Services& services,
    Exchange<user::v1::UpdateUserPreferencesRequest, user::v1::UpdateUserPreferencesResponse> call);

}  // namespace usersvc::callbacks
