#pragma once

#include <optional>
#include <string_view>

#include "auth/scopes.h"

namespace usersvc::auth {

/// The scope a user.v1.UserService method needs, by its name in the service descriptor
/// ("GetUser"); nullopt for a name the table does not know. The server refuses to start if any
/// method of the descriptor is missing here, so a new RPC cannot be left open by mistake.
std::optional<Scope> RequiredScope(std::string_view method_name);

/// The scope that lets a caller of the method see what others do not (WatchUserEvents: the raw
/// tokens in event payloads); nullopt for a method that shows everyone the same.
std::optional<Scope> PrivilegeScope(std::string_view method_name);

}  // namespace usersvc::auth
