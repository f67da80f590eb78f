#pragma once

#include <string>
#include <string_view>

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "user/v1/user.pb.h"

/// ListUsers and SearchUsers: keyset pagination (no OFFSET), signed page tokens bound to the
/// call's arguments, and the total count.
namespace usersvc::callbacks {

void ListUsers(Services& services,
               Exchange<user::v1::ListUsersRequest, user::v1::ListUsersResponse> call);

void SearchUsers(Services& services,
                 Exchange<user::v1::SearchUsersRequest, user::v1::SearchUsersResponse> call);

/// `text` with LIKE's wildcards and escape character escaped, so it matches literally.
std::string EscapeLike(std::string_view text);

}  // namespace usersvc::callbacks
