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
///
/// Each RPC has a first-page statement, which counts, and a later-page statement, which starts
/// after the previous page's last row and takes the first page's total back (from the page token)
/// instead of counting again. They are separate statements, not one with optional parameters:
/// a generic plan for "no cursor, or after this one" could not start its index scan at the cursor,
/// and every later page would read all the pages before it.
namespace usersvc::storage::queries {

/// ListUsers' sort keys; the id breaks ties.
enum class UserOrder { kCreatedAt = 0, kEmail = 1, kUsername = 2 };

/// The filters user_counts (migration 0010) is keyed by, NULL when absent.
struct StateFilter {
  std::optional<int32_t> role;
  std::optional<bool> is_active;
  std::optional<bool> is_email_verified;

  auto Fields() const { return std::tie(role, is_active, is_email_verified); }
};

/// ListUsers' filters, NULL when absent ($1 to $5 of both its statements).
struct UserFilter {
  StateFilter state;
  std::optional<int64_t> created_after_micros;   // inclusive
  std::optional<int64_t> created_before_micros;  // exclusive

  auto Fields() const { return std::tie(state, created_after_micros, created_before_micros); }
};

/// The first page. The total comes from user_counts (migration 0010) when there is no created
/// range, and from an index-only count of the range otherwise. The service runs these for a
/// listing with a created range: those without one have statements of their own (below).
struct ListUsersParams {
  UserFilter filter;
  int32_t limit = 0;

  auto Fields() const { return std::tie(filter, limit); }
};
using ListUsersQuery = Query<ListUsersParams, ListedUserRow>;

/// A later page: after the previous page's last row (its sort key as text, and its id). With
/// `known_total` NULL (a token from a release that did not carry it) the total is counted.
struct ListUsersAfterParams {
  UserFilter filter;
  int32_t limit = 0;
  std::string_view after_key;
  std::string_view after_id;
  std::optional<int64_t> known_total;

  auto Fields() const { return std::tie(filter, limit, after_key, after_id, known_total); }
};
using ListUsersAfterQuery = Query<ListUsersAfterParams, ListedUserRow>;

/// Rows: the sort key is the order's column as text.
const ListUsersQuery& ListUsers(UserOrder order, bool descending);
const ListUsersAfterQuery& ListUsersAfter(UserOrder order, bool descending);

/// The most rows a page statement returns: the largest page (100) and one beyond it.
inline constexpr int kMaxPageRows = 101;

/// A listing with no filter at all, the admin console's usual one, has statements of its own:
/// with no optional filter in them, and their page bounded by a constant as well as by `limit`,
/// PostgreSQL plans them once (a generic plan) instead of on every call (planning the filtered
/// statement costs more than running it). The first page's total is user_counts' sum; a later
/// page's is the token's, a parameter with no count beside it (a count that might run would keep
/// the plan's cost above a custom plan's, and PostgreSQL would plan every call). A token without
/// the total (the previous release's) goes to ListUsersAfter with no filter, which counts.
struct ListAllUsersParams {
  int32_t limit = 0;  // at most kMaxPageRows

  auto Fields() const { return std::tie(limit); }
};
struct ListAllUsersAfterParams {
  int32_t limit = 0;  // at most kMaxPageRows
  std::string_view after_key;
  std::string_view after_id;
  int64_t known_total = 0;

  auto Fields() const { return std::tie(limit, after_key, after_id, known_total); }
};
using ListAllUsersQuery = Query<ListAllUsersParams, ListedUserRow>;
using ListAllUsersAfterQuery = Query<ListAllUsersAfterParams, ListedUserRow>;
const ListAllUsersQuery& ListAllUsers(UserOrder order, bool descending);
const ListAllUsersAfterQuery& ListAllUsersAfter(UserOrder order, bool descending);

/// A listing filtered by role or state alone, with no created range (the admin console's
/// "sellers", "unverified"), has statements of its own for the same reason: with no optional
/// range in them, and so no count over users that a range would need, PostgreSQL plans them once
/// too. The total is user_counts' sum for the filter, on a later page the token's alone (a count
/// beside it, even one from user_counts, kept PostgreSQL planning every call at 1,000,000 users);
/// a token without one (the previous release's) goes to ListUsersAfter, which counts.
struct ListUsersByStateParams {
  StateFilter filter;
  int32_t limit = 0;  // at most kMaxPageRows

  auto Fields() const { return std::tie(filter, limit); }
};
struct ListUsersByStateAfterParams {
  StateFilter filter;
  int32_t limit = 0;  // at most kMaxPageRows
  std::string_view after_key;
  std::string_view after_id;
  int64_t known_total = 0;

  auto Fields() const { return std::tie(filter, limit, after_key, after_id, known_total); }
};
using ListUsersByStateQuery = Query<ListUsersByStateParams, ListedUserRow>;
using ListUsersByStateAfterQuery = Query<ListUsersByStateAfterParams, ListedUserRow>;
const ListUsersByStateQuery& ListUsersByState(UserOrder order, bool descending);
const ListUsersByStateAfterQuery& ListUsersByStateAfter(UserOrder order, bool descending);

/// Ranked as the contract says: exact email or username, then prefix matches, then the rest;
/// username and id break ties.
struct SearchUsersParams {
  std::string_view query;             // trimmed
  std::string_view prefix_pattern;    // "q%", wildcards escaped
  std::string_view contains_pattern;  // "%q%"
  bool include_inactive = false;
  int32_t limit = 0;

  auto Fields() const {
    return std::tie(query, prefix_pattern, contains_pattern, include_inactive, limit);
  }
};

/// A later page: after the previous page's last rank, username and id; `known_total` as in
/// ListUsersAfterParams.
struct SearchUsersAfterParams {
  SearchUsersParams search;
  int32_t after_rank = 0;
  std::string_view after_username;
  std::string_view after_id;
  std::optional<int64_t> known_total;

  auto Fields() const {
    return std::tie(search, after_rank, after_username, after_id, known_total);
  }
};

/// Rows: the sort key is the rank.
extern const Query<SearchUsersParams, ListedUserRow> kSearchUsers;
extern const Query<SearchUsersAfterParams, ListedUserRow> kSearchUsersAfter;

/// Whether pg_trgm can take a trigram from `query` (three word characters in a row). Without
/// one its index cannot narrow a search: it would be read whole and every row rechecked, about
/// three times a sequential scan's cost (a two-letter query at 100,000 users: 122 ms against
/// 38 ms), and a generic plan, which cannot see the query, takes it all the same. Such queries
/// go to statements that read the table.
bool HasTrigram(std::string_view query);
extern const Query<SearchUsersParams, ListedUserRow> kSearchUsersWithoutTrigrams;
extern const Query<SearchUsersAfterParams, ListedUserRow> kSearchUsersWithoutTrigramsAfter;

}  // namespace usersvc::storage::queries
