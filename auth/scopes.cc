#include "auth/scopes.h"

#include <absl/strings/str_split.h>

namespace usersvc::auth {

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kRead:
      return "user.read";
    case Scope::kWrite:
      return "user.write";
    case Scope::kCredentials:
      return "user.credentials";
    case Scope::kEventTokens:
      return "user.events.tokens";
  }
  return "?";
}

std::optional<Scope> ScopeNamed(std::string_view name) {
  for (Scope scope : {Scope::kRead, Scope::kWrite, Scope::kCredentials, Scope::kEventTokens}) {
    if (name == ScopeName(scope)) return scope;
  }
  return std::nullopt;
}

ScopeSet ParseScopeList(std::string_view list) {
  ScopeSet scopes;
  for (absl::string_view name :
       absl::StrSplit(absl::string_view(list.data(), list.size()), ' ', absl::SkipEmpty())) {
    if (std::optional<Scope> scope = ScopeNamed(std::string_view(name.data(), name.size()))) {
      scopes.Add(*scope);
    }
  }
  return scopes;
}

}  // namespace usersvc::auth
