#include "storage/queries/listing.h"

#include <memory>
#include <string>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/substitute.h>

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

// Every user, from the counters.
constexpr const char* kCountAll = "(SELECT coalesce(sum(n), 0)::int8 FROM user_counts)";
// The users matching $1 to $3, from the counters.
std::string CountInState() {
  return std::string("(SELECT coalesce(sum(n), 0)::int8 FROM user_counts WHERE ") +
         kCombinationFilter + ")";
}

// ListUsers' 36 statements (three orders, two directions, first or later page; filtered, by
// state alone or not at all), written out once at start-up.
struct ListStatements {
  ListStatements() {
    struct Order {
      const char* name;
      const char* key;       // the column
      const char* key_text;  // the column as text, for the cursor
      const char* key_type;  // the cursor's key as that column's type, from parameter $$$0
    };
    static constexpr Order kOrders[] = {
        {"created_at", "created_at", "((extract(epoch FROM created_at) * 1000000)::int8)::text",
         "timestamptz 'epoch' + $$$0::int8 * interval '1 us'"},
        {"email", "email", "email", "$$$0::text"},
        {"username", "username", "username", "$$$0::text"},
    };
    for (int order = 0; order < 3; ++order) {
      for (int descending = 0; descending < 2; ++descending) {
        const Order& o = kOrders[order];
        const std::string direction = descending ? " DESC" : " ASC";
        const std::string order_by = std::string(o.key) + direction + ", id" + direction;
        const std::string name =
            std::string("list_users_by_") + o.name + (descending ? "_desc" : "_asc");
        // The cursor's condition, its key and id in parameters `key` and `key` + 1.
        auto beyond = [&](int key) {
          return absl::StrCat("(", o.key, ", id) ", descending ? "<" : ">", " (",
                              absl::Substitute(o.key_type, key), ", $", key + 1, "::uuid)");
        };
        // The total, and beside it the page that `rows` (ordered and limited) gives: one row
        // with no user when the page is empty.
        auto statement = [&](const std::string& total, const std::string& rows) {
          return absl::StrCat("SELECT " USERSVC_USER_COLUMNS ", sort_key, total.n FROM (SELECT ",
                              total, " AS n) total LEFT JOIN LATERAL (SELECT *, ", o.key_text,
                              " AS sort_key FROM ", rows, " AS rows) page ON true ORDER BY ",
                              order_by);
        };
        auto rows = [&](const std::string& where, const std::string& limit) {
          return absl::StrCat("(SELECT * FROM users", where, " ORDER BY ", order_by, " LIMIT ",
                              limit, ")");
        };
        const std::string filter =
            absl::StrCat(" WHERE ", kCombinationFilter, " AND ", kCreatedFilter);
        // The pages planned once have a constant bound under the parameter one (`limit`):
        // planning a generic plan, PostgreSQL takes a parameter LIMIT for a tenth of the table.
        // The inner LIMIT hands its rows on in order.
        auto bounded = [&](const std::string& where, int limit = 1) {
          return absl::StrCat("(SELECT * FROM ", rows(where, std::to_string(kMaxPageRows)),
                              " AS bounded LIMIT $", limit, ")");
        };
        const std::string in_state = absl::StrCat(" WHERE ", kCombinationFilter);
        const std::string all_name =
            absl::StrCat("list_all_users_by_", o.name, descending ? "_desc" : "_asc");
        const int index = order * 2 + descending;
        Text* text = &texts[index * 6];
        text[0] = {name, statement(CountMatching(), rows(filter, "$6"))};
        text[1] = {name + "_after",
                   statement(absl::StrCat("coalesce($9::int8, ", CountMatching(), ")"),
                             rows(absl::StrCat(filter, " AND ", beyond(7)), "$6"))};
        text[2] = {all_name, statement(kCountAll, bounded(""))};
        text[3] = {all_name + "_after", statement("$4::int8", bounded(" WHERE " + beyond(2)))};
        const std::string state_name =
            absl::StrCat("list_users_in_state_by_", o.name, descending ? "_desc" : "_asc");
        text[4] = {state_name, statement(CountInState(), bounded(in_state, 4))};
        text[5] = {state_name + "_after",
                   statement("$7::int8", bounded(absl::StrCat(in_state, " AND ", beyond(5)), 4))};
        // A filtered page walks the order's index until enough users match (all of it, for a
        // filter nobody matches): a scan. An unfiltered one reads at most kMaxPageRows.
        first[index] = std::make_unique<ListUsersQuery>(text[0].name, text[0].sql, Access::kScans);
        after[index] =
            std::make_unique<ListUsersAfterQuery>(text[1].name, text[1].sql, Access::kScans);
        all_first[index] =
            std::make_unique<ListAllUsersQuery>(text[2].name, text[2].sql, Access::kReads);
        all_after[index] =
            std::make_unique<ListAllUsersAfterQuery>(text[3].name, text[3].sql, Access::kReads);
        // Filtered by state, a page walks the index as a filtered one does.
        state_first[index] =
            std::make_unique<ListUsersByStateQuery>(text[4].name, text[4].sql, Access::kScans);
        state_after[index] =
            std::make_unique<ListUsersByStateAfterQuery>(text[5].name, text[5].sql, Access::kScans);
      }
    }
  }
  struct Text {
    std::string name;
    std::string sql;
  };
  Text texts[36];  // what the Statements view
  std::unique_ptr<ListUsersQuery> first[6];
  std::unique_ptr<ListUsersAfterQuery> after[6];
  std::unique_ptr<ListAllUsersQuery> all_first[6];
  std::unique_ptr<ListAllUsersAfterQuery> all_after[6];
  std::unique_ptr<ListUsersByStateQuery> state_first[6];
  std::unique_ptr<ListUsersByStateAfterQuery> state_after[6];
};

// Built (and so registered) during static initialisation, like every other Query.
const ListStatements* const kListStatements = new ListStatements();  // never destroyed

int Index(UserOrder order, bool descending) {
  return static_cast<int>(order) * 2 + (descending ? 1 : 0);
}

// SearchUsers' matches (id, username and rank only: the rank is taken over every match, so the
// rows stay narrow until the page is known); `after` narrows them to those beyond a cursor. Each
// match is tested on users.search_text (migration 0011), the four fields joined by U+001F: a
// query without that character matches there only within one field, as the contract asks, and
// no field holds it (validation refuses control characters in names; emails and usernames
// cannot have them), so a query with it matches nothing. `matched` is what the LIKE is tested on:
// search_text, or for a query with no trigram an expression the trigram index does not cover.
std::string SearchStatement(const std::string& total, const std::string& after,
                            const std::string& matched = "search_text") {
  return absl::StrCat(
      "WITH matches AS MATERIALIZED (SELECT id, username, CASE"
      "   WHEN email = lower($1) OR lower(username) = lower($1) THEN 0"
      "   WHEN search_text LIKE lower($2) OR search_text LIKE E'%\\x1f' || lower($2) THEN 1"
      "   ELSE 2 END AS rank"
      " FROM users WHERE ",
      matched,
      " LIKE lower($3) AND strpos($1, E'\\x1f') = 0 AND ($4 OR is_active))"
      " SELECT " USERSVC_USER_COLUMNS ", rank, total.n FROM (SELECT ",
      total,
      " AS n) total LEFT JOIN LATERAL (SELECT u.*, m.rank FROM (SELECT id, rank, username FROM"
      " matches",
      after,
      " ORDER BY rank, username, id LIMIT $5) m JOIN users u ON u.id = m.id) page ON true"
      " ORDER BY rank, username, id");
}

}  // namespace

const ListUsersQuery& ListUsers(UserOrder order, bool descending) {
  return *kListStatements->first[Index(order, descending)];
}

const ListUsersAfterQuery& ListUsersAfter(UserOrder order, bool descending) {
  return *kListStatements->after[Index(order, descending)];
}

const ListAllUsersQuery& ListAllUsers(UserOrder order, bool descending) {
  return *kListStatements->all_first[Index(order, descending)];
}

const ListAllUsersAfterQuery& ListAllUsersAfter(UserOrder order, bool descending) {
  return *kListStatements->all_after[Index(order, descending)];
}

const ListUsersByStateQuery& ListUsersByState(UserOrder order, bool descending) {
  return *kListStatements->state_first[Index(order, descending)];
}

const ListUsersByStateAfterQuery& ListUsersByStateAfter(UserOrder order, bool descending) {
  return *kListStatements->state_after[Index(order, descending)];
}

// A search's first page counts its matches; a later page takes the token's total when it has one,
// and starts after the cursor.
constexpr const char* kSearchTotal = "(SELECT count(*) FROM matches)";
constexpr const char* kSearchAfterTotal = "coalesce($9::int8, (SELECT count(*) FROM matches))";
constexpr const char* kSearchAfterCursor =
    " WHERE (rank, username, id) > ($6::int, $7::text, $8::uuid)";
// `search_text || ''` is not the indexed expression: PostgreSQL reads the table instead.
constexpr const char* kNotIndexed = "(search_text || '')";

// What the search statements view; built before them (definition order within this file).
const std::string* const kSearchSql = new std::string(SearchStatement(kSearchTotal, ""));
const std::string* const kSearchAfterSql =
    new std::string(SearchStatement(kSearchAfterTotal, kSearchAfterCursor));
const std::string* const kSearchWithoutTrigramsSql =
    new std::string(SearchStatement(kSearchTotal, "", kNotIndexed));
const std::string* const kSearchWithoutTrigramsAfterSql =
    new std::string(SearchStatement(kSearchAfterTotal, kSearchAfterCursor, kNotIndexed));

const Query<SearchUsersParams, ListedUserRow> kSearchUsers{"search_users", *kSearchSql,
                                                           Access::kScans};
const Query<SearchUsersAfterParams, ListedUserRow> kSearchUsersAfter{
    "search_users_after", *kSearchAfterSql, Access::kScans};

const Query<SearchUsersParams, ListedUserRow> kSearchUsersWithoutTrigrams{
    "search_users_without_trigrams", *kSearchWithoutTrigramsSql, Access::kScans};
const Query<SearchUsersAfterParams, ListedUserRow> kSearchUsersWithoutTrigramsAfter{
    "search_users_without_trigrams_after", *kSearchWithoutTrigramsAfterSql, Access::kScans};

bool HasTrigram(std::string_view query) {
  // pg_trgm takes its trigrams from runs of word characters (letters and digits, in any script);
  // a character outside ASCII is taken for one, so that a doubt keeps the index.
  int run = 0;
  for (size_t i = 0; i < query.size(); ++i) {
    const auto byte = static_cast<unsigned char>(query[i]);
    if ((byte & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte: same character
    const bool word = byte >= 0x80 || absl::ascii_isalnum(byte);
    run = word ? run + 1 : 0;
    if (run == 3) return true;
  }
  return false;
}

}  // namespace usersvc::storage::queries
