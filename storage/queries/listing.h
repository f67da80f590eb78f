#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

#include "storage/query.h"
#include "storage/rows.h"

/// ListUsers and SearchUsers: one page per statement, the total matching alongside (every row
/// carries it; an empty page is one row with no user). A page asks for one row beyond its size,
/// which says whether there is a next.
namespace usersvc::storage::queries {

/// ListUsers' sort keys; the id breaks ties.
enum class UserOrder { kCreatedAt = 0, kEmail = 1, kUsername = 2 };

/// Filters are NULL when absent. The cursor is the last row of the previous page (its sort key
/// as text, and its id), absent on the first.
struct ListUsersParams {
  std::optional<int32_t> role;
  std::optional<bool> is_active;
  std::optional<bool> is_email_verified;
  std::optional<int64_t> created_after_micros;   // inclusive
  std::optional<int64_t> created_before_micros;  // exclusive
  std::optional<std::string_view> after_key;
  std::optional<std::string_view> after_id;
  int32_t limit = 0;

  auto Fields() const {
    return std::tie(role, is_active, is_email_verified, created_after_micros, created_before_micros,
                    after_key, after_id, limit);
  }
};
using ListUsersQuery = Query<ListUsersParams, ListedUserRow>;
/// Rows: the sort key is the order's column as text.
const ListUsersQuery& ListUsers(UserOrder order, bool descending);

/// Ranked as the contract says: exact email or username, then prefix matches, then the rest;
/// username and id break ties. The cursor is the previous page's last rank, username and id.
struct SearchUsersParams {
  std::string_view query;             // trimmed
  std::string_view prefix_pattern;    // "q%", wildcards escaped
  std::string_view contains_pattern;  // "%q%"
  bool include_inactive = false;
  std::optional<int32_t> after_rank;
  std::optional<std::string_view> after_username;
  std::optional<std::string_view> after_id;
  int32_t limit = 0;

  auto Fields() const {
    return std::tie(query, prefix_pattern, contains_pattern, include_inactive, after_rank,
                    after_username, after_id, limit);
  }
};
/// Rows: the sort key is the rank.
extern const Query<SearchUsersParams, ListedUserRow> kSearchUsers;

}  // namespace usersvc::storage::queries
