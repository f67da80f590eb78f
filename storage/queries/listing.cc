#include "storage/queries/listing.h"

#include <memory>
#include <string>

#include "storage/queries/columns.h"

namespace usersvc::storage::queries {

namespace {

// The filters without the created range: what user_counts is keyed by, and the same column names
// in users.
constexpr const char* kCombinationFilter =
    "($1::smallint IS NULL OR role = $1) AND ($2::bool IS NULL OR is_active = $2)"
    " AND ($3::bool IS NULL OR is_email_verified = $3)";
constexpr const char* kCreatedFilter =
    "($4::int8 IS NULL OR created_at >= timestamptz 'epoch' + $4 * interval '1 us')"
    " AND ($5::int8 IS NULL OR created_at < timestamptz 'epoch' + $5 * interval '1 us')";

// The users matching $1 to $5. A subquery in a CASE runs only when its branch is taken.
std::string CountMatching() {
  return std::string("CASE WHEN $4::int8 IS NULL AND $5::int8 IS NULL") +
         " THEN (SELECT coalesce(sum(n), 0)::int8 FROM user_counts WHERE " + kCombinationFilter +
         ") ELSE (SELECT count(*) FROM users WHERE " + kCombinationFilter + " AND " +
         kCreatedFilter + ") END";
}

// ListUsers' twelve statements (three orders, two directions, first or later page), written out
// once at start-up.
struct ListStatements {
  ListStatements() {
    struct Order {
      const char* name;
      const char* key;        // the column
      const char* key_text;   // the column as text, for the cursor
      const char* key_param;  // the cursor's key as that column's type
    };
    static constexpr Order kOrders[] = {
        {"created_at", "created_at", "((extract(epoch FROM created_at) * 1000000)::int8)::text",
         "timestamptz 'epoch' + $7::int8 * interval '1 us'"},
        {"email", "email", "email", "$7::text"},
        {"username", "username", "username", "$7::text"},
    };
    for (int order = 0; order < 3; ++order) {
      for (int descending = 0; descending < 2; ++descending) {
        const Order& o = kOrders[order];
        const std::string direction = descending ? " DESC" : " ASC";
        const std::string order_by = std::string(o.key) + direction + ", id" + direction;
        const std::string name =
            std::string("list_users_by_") + o.name + (descending ? "_desc" : "_asc");
        auto page = [&](const std::string& beyond_cursor) {
          return std::string("WITH page AS (SELECT *, ") + o.key_text +
                 " AS sort_key FROM users WHERE " + kCombinationFilter + " AND " + kCreatedFilter +
                 beyond_cursor + " ORDER BY " + order_by + " LIMIT $6)";
        };
        auto select = [&](const std::string& total) {
          return " SELECT " USERSVC_USER_COLUMNS ", sort_key, total.n FROM (SELECT " + total +
                 " AS n) total LEFT JOIN page ON true ORDER BY " + order_by;
        };
        const int index = order * 2 + descending;
        texts[index * 2] = {name, page("") + select(CountMatching())};
        texts[index * 2 + 1] = {
            name + "_after", page(std::string(" AND (") + o.key + ", id) " +
                                  (descending ? "<" : ">") + " (" + o.key_param + ", $8::uuid)") +
                                 select("coalesce($9::int8, " + CountMatching() + ")")};
        first[index] = std::make_unique<ListUsersQuery>(texts[index * 2].name, texts[index * 2].sql,
                                                        Access::kReads);
        after[index] = std::make_unique<ListUsersAfterQuery>(
            texts[index * 2 + 1].name, texts[index * 2 + 1].sql, Access::kReads);
      }
    }
  }
  struct Text {
    std::string name;
    std::string sql;
  };
  Text texts[12];  // what the Statements view
  std::unique_ptr<ListUsersQuery> first[6];
  std::unique_ptr<ListUsersAfterQuery> after[6];
};

// Built (and so registered) during static initialisation, like every other Query.
const ListStatements* const kListStatements = new ListStatements();  // never destroyed

int Index(UserOrder order, bool descending) {
  return static_cast<int>(order) * 2 + (descending ? 1 : 0);
}

// SearchUsers' matches and their ranks; `after` narrows them to those beyond a cursor.
std::string SearchPage(const std::string& after) {
  return "WITH matches AS ("
         "  SELECT *, CASE"
         "    WHEN email = lower($1) OR lower(username) = lower($1) THEN 0"
         "    WHEN email LIKE lower($2) OR lower(username) LIKE lower($2)"
         "      OR lower(first_name) LIKE lower($2) OR lower(last_name) LIKE lower($2) THEN 1"
         "    ELSE 2 END AS rank"
         "  FROM users"
         "  WHERE ($4 OR is_active) AND (email LIKE lower($3) OR lower(username) LIKE lower($3)"
         "    OR lower(first_name) LIKE lower($3) OR lower(last_name) LIKE lower($3))),"
         " page AS (SELECT * FROM matches" +
         after + " ORDER BY rank, username, id LIMIT $5)";
}

std::string SearchSelect(const std::string& total) {
  return " SELECT " USERSVC_USER_COLUMNS ", rank, total.n FROM (SELECT " + total +
         " AS n) total LEFT JOIN page ON true ORDER BY rank, username, id";
}

}  // namespace

const ListUsersQuery& ListUsers(UserOrder order, bool descending) {
  return *kListStatements->first[Index(order, descending)];
}

const ListUsersAfterQuery& ListUsersAfter(UserOrder order, bool descending) {
  return *kListStatements->after[Index(order, descending)];
}

// What the two search statements view; built before them (definition order within this file).
const std::string* const kSearchSql =
    new std::string(SearchPage("") + SearchSelect("(SELECT count(*) FROM matches)"));
const std::string* const kSearchAfterSql =
    new std::string(SearchPage(" WHERE (rank, username, id) > ($6::int, $7::text, $8::uuid)") +
                    SearchSelect("coalesce($9::int8, (SELECT count(*) FROM matches))"));

const Query<SearchUsersParams, ListedUserRow> kSearchUsers{"search_users", *kSearchSql,
                                                           Access::kReads};
const Query<SearchUsersAfterParams, ListedUserRow> kSearchUsersAfter{
    "search_users_after", *kSearchAfterSql, Access::kReads};

}  // namespace usersvc::storage::queries
