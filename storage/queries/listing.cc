#include "storage/queries/listing.h"

#include <memory>
#include <string>

#include "storage/queries/columns.h"

namespace usersvc::storage::queries {

namespace {

// ListUsers' six statements (three orders, two directions), written out once at start-up.
struct ListStatements {
  ListStatements() {
    static constexpr const char* kFilter =
        "($1::smallint IS NULL OR role = $1) AND ($2::bool IS NULL OR is_active = $2)"
        " AND ($3::bool IS NULL OR is_email_verified = $3)"
        " AND ($4::int8 IS NULL OR created_at >= timestamptz 'epoch' + $4 * interval '1 us')"
        " AND ($5::int8 IS NULL OR created_at < timestamptz 'epoch' + $5 * interval '1 us')";
    struct Order {
      const char* name;
      const char* key;        // the column
      const char* key_text;   // the column as text, for the cursor
      const char* key_param;  // the cursor's key as that column's type
    };
    static constexpr Order kOrders[] = {
        {"created_at", "created_at", "((extract(epoch FROM created_at) * 1000000)::int8)::text",
         "timestamptz 'epoch' + $6::int8 * interval '1 us'"},
        {"email", "email", "email", "$6::text"},
        {"username", "username", "username", "$6::text"},
    };
    for (int order = 0; order < 3; ++order) {
      for (int descending = 0; descending < 2; ++descending) {
        const Order& o = kOrders[order];
        const char* direction = descending ? "DESC" : "ASC";
        const char* beyond = descending ? "<" : ">";
        std::string& name = names[order * 2 + descending];
        std::string& sql = sql_texts[order * 2 + descending];
        name = std::string("list_users_by_") + o.name + (descending ? "_desc" : "_asc");
        sql = std::string("WITH page AS (SELECT *, ") + o.key_text +
              " AS sort_key FROM users WHERE " + kFilter + " AND ($6::text IS NULL OR (" + o.key +
              ", id) " + beyond + " (" + o.key_param + ", $7::uuid)) ORDER BY " + o.key + " " +
              direction + ", id " + direction +
              " LIMIT $8)"
              " SELECT " USERSVC_USER_COLUMNS
              ", sort_key, total.n"
              " FROM (SELECT count(*) AS n FROM users WHERE " +
              kFilter +
              ") total"
              " LEFT JOIN page ON true ORDER BY " +
              o.key + " " + direction + ", id " + direction;
        statements[order * 2 + descending] =
            std::make_unique<ListUsersQuery>(name, sql, Access::kReads);
      }
    }
  }
  std::string names[6];
  std::string sql_texts[6];
  std::unique_ptr<ListUsersQuery> statements[6];
};

// Built (and so registered) during static initialisation, like every other Query.
const ListStatements* const kListStatements = new ListStatements();  // never destroyed

}  // namespace

const ListUsersQuery& ListUsers(UserOrder order, bool descending) {
  return *kListStatements->statements[static_cast<int>(order) * 2 + (descending ? 1 : 0)];
}

const Query<SearchUsersParams, ListedUserRow> kSearchUsers{
    "search_users",
    "WITH matches AS ("
    "  SELECT *, CASE"
    "    WHEN email = lower($1) OR lower(username) = lower($1) THEN 0"
    "    WHEN email LIKE lower($2) OR lower(username) LIKE lower($2)"
    "      OR lower(first_name) LIKE lower($2) OR lower(last_name) LIKE lower($2) THEN 1"
    "    ELSE 2 END AS rank"
    "  FROM users"
    "  WHERE ($4 OR is_active) AND (email LIKE lower($3) OR lower(username) LIKE lower($3)"
    "    OR lower(first_name) LIKE lower($3) OR lower(last_name) LIKE lower($3))),"
    " page AS ("
    "  SELECT * FROM matches"
    "  WHERE $5::int IS NULL OR (rank, username, id) > ($5, $6::text, $7::uuid)"
    "  ORDER BY rank, username, id LIMIT $8)"
    " SELECT " USERSVC_USER_COLUMNS
    ", rank, total.n"
    " FROM (SELECT count(*) AS n FROM matches) total"
    " LEFT JOIN page ON true ORDER BY rank, username, id",
    Access::kReads};

}  // namespace usersvc::storage::queries
