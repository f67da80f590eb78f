#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace usersvc::auth {

/// What a caller may do. Each UserService RPC needs exactly one of these (method_scopes.h).
enum class Scope : uint8_t {
  kRead = 1 << 0,         // "user.read": the lookups, lists and searches
  kWrite = 1 << 1,        // "user.write": changes to users, addresses and preferences
  kCredentials = 1 << 2,  // "user.credentials": passwords and email verification
  // "user.events.tokens": WatchUserEvents keeps the raw tokens in the payloads it sends (with
  // --watch_include_tokens); no RPC needs it to be called.
  kEventTokens = 1 << 3,
};

/// A caller's scopes, as a small bit set.
class ScopeSet {
 public:
  ScopeSet() = default;
  ScopeSet(std::initializer_list<Scope> scopes) {
    for (Scope scope : scopes) Add(scope);
  }
  void Add(Scope scope) { bits_ |= static_cast<uint8_t>(scope); }
  bool Has(Scope scope) const { return (bits_ & static_cast<uint8_t>(scope)) != 0; }
  ScopeSet& operator|=(ScopeSet other) {
    bits_ |= other.bits_;
    return *this;
  }
  bool empty() const { return bits_ == 0; }
  bool operator==(const ScopeSet&) const = default;

 private:
  uint8_t bits_ = 0;
};

/// "user.read" and so on.
std::string_view ScopeName(Scope scope);
/// The scope a name stands for; nullopt for a name this service does not grant on (a token may
/// carry scopes of other services, which are ignored).
std::optional<Scope> ScopeNamed(std::string_view name);
/// The scopes of a space-separated list ("user.read user.write"), as OAuth 2.0's `scope` claim.
ScopeSet ParseScopeList(std::string_view list);

}  // namespace usersvc::auth
