#include "auth/method_scopes.h"

#include <utility>

namespace usersvc::auth {
namespace {

constexpr std::pair<std::string_view, Scope> kMethodScopes[] = {
    // Reads. HealthCheck is UserService's own probe and reports the database's state, so it is
    // a read like the others; grpc.health.v1 stays open for balancers and kubelets.
    {"GetUser", Scope::kRead},
    {"GetUserByEmail", Scope::kRead},
    {"ListUsers", Scope::kRead},
    {"SearchUsers", Scope::kRead},
    {"HealthCheck", Scope::kRead},
    {"GetAddress", Scope::kRead},
    {"ListAddresses", Scope::kRead},
    {"GetUserPreferences", Scope::kRead},
    // The outbox as a stream: what the reads show, as it changes. Tokens stay out of it unless
    // the caller also holds kEventTokens (PrivilegeScope below).
    {"WatchUserEvents", Scope::kRead},
    // Changes to users, addresses and preferences.
    {"CreateUser", Scope::kWrite},
    {"UpdateUser", Scope::kWrite},
    {"DeleteUser", Scope::kWrite},
    {"DeactivateUser", Scope::kWrite},
    {"ReactivateUser", Scope::kWrite},
    {"AddAddress", Scope::kWrite},
    {"UpdateAddress", Scope::kWrite},
    {"DeleteAddress", Scope::kWrite},
    {"SetDefaultAddress", Scope::kWrite},
    {"UpdateUserPreferences", Scope::kWrite},
    // Passwords, sign-in and email verification.
    {"SendVerificationEmail", Scope::kCredentials},
    {"VerifyEmail", Scope::kCredentials},
    {"ChangePassword", Scope::kCredentials},
    {"RequestPasswordReset", Scope::kCredentials},
    {"ResetPassword", Scope::kCredentials},
    {"VerifyPassword", Scope::kCredentials},
};

}  // namespace

std::optional<Scope> RequiredScope(std::string_view method_name) {
  for (const auto& [name, scope] : kMethodScopes) {
    if (name == method_name) return scope;
  }
  return std::nullopt;
}

std::optional<Scope> PrivilegeScope(std::string_view method_name) {
  if (method_name == "WatchUserEvents") return Scope::kEventTokens;
  return std::nullopt;
}

}  // namespace usersvc::auth
