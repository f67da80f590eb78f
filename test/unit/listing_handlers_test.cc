#include <string>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "base/field_violation.h"
#include "callbacks/handlers/listing.h"
#include "storage/queries/listing.h"
#include "test/unit/handler_fixture.h"

namespace usersvc::test {
namespace {

using namespace user::v1;  // NOLINT: the request and response messages

std::string FieldOf(const absl::Status& status) {
  return FieldViolationOf(status).value_or(FieldViolation{}).field;
}

/// `count` rows of a page: users u0, u1, ... with their sort key, and `total` on each.
std::vector<TextRow> PageRows(int count, int total) {
  std::vector<TextRow> rows;
  for (int i = 0; i < count; ++i) {
    const std::string id = fmt::format("00000000-0000-4000-8000-{:012}", i);
    rows.push_back(Concat(UserColumns(id, fmt::format("u{}@example.com", i), fmt::format("u{}", i)),
                          {fmt::format("key{}", i), std::to_string(total)}));
  }
  return rows;
}

TEST_CASE("ListUsers refuses a bad order, direction, filter or page size before it queries") {
  HandlerFixture fixture;
  ListUsersResponse response;
  ListUsersRequest order;
  order.set_order_by(static_cast<UserOrderBy>(9));
  CHECK(FieldOf(fixture.Call(&callbacks::ListUsers, order, response)) == "order_by");
  ListUsersRequest direction;
  direction.set_direction(static_cast<common::v1::SortDirection>(5));
  CHECK(FieldOf(fixture.Call(&callbacks::ListUsers, direction, response)) == "direction");
  ListUsersRequest role;
  role.mutable_filter()->set_role(static_cast<UserRole>(42));
  CHECK(FieldOf(fixture.Call(&callbacks::ListUsers, role, response)) == "filter.role");
  ListUsersRequest size;
  size.mutable_pagination()->set_page_size(-1);
  CHECK(fixture.Call(&callbacks::ListUsers, size, response).code() ==
        absl::StatusCode::kInvalidArgument);
  ListUsersRequest time;
  time.mutable_filter()->mutable_created_after()->set_nanos(-1);
  CHECK(FieldOf(fixture.Call(&callbacks::ListUsers, time, response)) == "filter.created_after");
  CHECK(fixture.SentStatements().empty());
}

TEST_CASE(
    "ListUsers sends its filters, shows one page and carries the cursor and total in the token") {
  HandlerFixture fixture;
  ListUsersRequest request;
  request.mutable_filter()->set_role(USER_ROLE_ADMIN);
  request.mutable_filter()->set_is_active(false);
  request.mutable_filter()->mutable_created_after()->set_seconds(1700000000);
  request.mutable_pagination()->set_page_size(2);
  fixture.store.Script("list_users_by_created_at_desc", FakeStore::Rows(PageRows(3, 57)));
  ListUsersResponse first;
  REQUIRE(fixture.Call(&callbacks::ListUsers, request, first).ok());
  const storage::Params params = fixture.store.LastParams("list_users_by_created_at_desc");
  CHECK(params ==
        storage::Params{"4", "false", std::nullopt, "1700000000000000", std::nullopt, "3"});
  REQUIRE(first.users_size() == 2);  // the third row only says there is more
  CHECK(first.users(1).username() == "u1");
  CHECK(first.pagination().total_size() == 57);
  REQUIRE_FALSE(first.pagination().next_page_token().empty());

  // The next page starts after the last row shown and takes the first page's total back, so the
  // database does not count again.
  request.mutable_pagination()->set_page_token(first.pagination().next_page_token());
  fixture.store.Script("list_users_by_created_at_desc_after", FakeStore::Rows(PageRows(1, 57)));
  ListUsersResponse second;
  REQUIRE(fixture.Call(&callbacks::ListUsers, request, second).ok());
  const storage::Params next = fixture.store.LastParams("list_users_by_created_at_desc_after");
  CHECK(next == storage::Params{"4", "false", std::nullopt, "1700000000000000", std::nullopt, "3",
                                "key1", "00000000-0000-4000-8000-000000000001", "57"});
  CHECK(second.pagination().total_size() == 57);
  CHECK(second.pagination().next_page_token().empty());

  // The token belongs to its arguments: another filter cannot use it.
  request.mutable_filter()->set_is_active(true);
  CHECK(FieldOf(fixture.Call(&callbacks::ListUsers, request, second)) == "pagination.page_token");
}

TEST_CASE("ListUsers without a filter pages through the unfiltered statements") {
  HandlerFixture fixture;
  ListUsersRequest request;
  request.set_order_by(USER_ORDER_BY_EMAIL);
  request.mutable_pagination()->set_page_size(1);
  fixture.store.Script("list_all_users_by_email_asc", FakeStore::Rows(PageRows(2, 1000000)));
  ListUsersResponse first;
  REQUIRE(fixture.Call(&callbacks::ListUsers, request, first).ok());
  CHECK(fixture.store.LastParams("list_all_users_by_email_asc") == storage::Params{"2"});
  CHECK(first.pagination().total_size() == 1000000);

  request.mutable_pagination()->set_page_token(first.pagination().next_page_token());
  fixture.store.Script("list_all_users_by_email_asc_after", FakeStore::Rows(PageRows(1, 1000000)));
  ListUsersResponse second;
  REQUIRE(fixture.Call(&callbacks::ListUsers, request, second).ok());
  CHECK(fixture.store.LastParams("list_all_users_by_email_asc_after") ==
        storage::Params{"2", "key0", "00000000-0000-4000-8000-000000000000", "1000000"});
  CHECK(second.users_size() == 1);
}

TEST_CASE("ListUsers answers an empty page with the total and no token") {
  HandlerFixture fixture;
  ListUsersRequest request;
  request.mutable_filter()->set_is_email_verified(true);
  TextRow empty = Nulls(storage::ListedUserRow::kColumns);
  empty.back() = "0";
  fixture.store.Script("list_users_in_state_by_created_at_desc", FakeStore::Rows({empty}));
  ListUsersResponse response;
  REQUIRE(fixture.Call(&callbacks::ListUsers, request, response).ok());
  CHECK(response.users_size() == 0);
  CHECK(response.pagination().total_size() == 0);
  CHECK(response.pagination().next_page_token().empty());
  CHECK(fixture.store.LastParams("list_users_in_state_by_created_at_desc")[3] == "21");  // 20, + 1
}

TEST_CASE(
    "ListUsers filtered by role or state alone pages through the statements without a range") {
  HandlerFixture fixture;
  ListUsersRequest request;
  request.mutable_filter()->set_role(USER_ROLE_SELLER);
  request.mutable_filter()->set_is_email_verified(false);
  request.set_order_by(USER_ORDER_BY_USERNAME);
  request.mutable_pagination()->set_page_size(1);
  fixture.store.Script("list_users_in_state_by_username_asc", FakeStore::Rows(PageRows(2, 700)));
  ListUsersResponse first;
  REQUIRE(fixture.Call(&callbacks::ListUsers, request, first).ok());
  CHECK(fixture.store.LastParams("list_users_in_state_by_username_asc") ==
        storage::Params{"2", std::nullopt, "false", "2"});
  CHECK(first.pagination().total_size() == 700);

  // The later page takes the first page's total from the token and counts nothing.
  request.mutable_pagination()->set_page_token(first.pagination().next_page_token());
  fixture.store.Script("list_users_in_state_by_username_asc_after",
                       FakeStore::Rows(PageRows(1, 700)));
  ListUsersResponse second;
  REQUIRE(fixture.Call(&callbacks::ListUsers, request, second).ok());
  CHECK(fixture.store.LastParams("list_users_in_state_by_username_asc_after") ==
        storage::Params{"2", std::nullopt, "false", "2", "key0",
                        "00000000-0000-4000-8000-000000000000", "700"});
  CHECK(second.pagination().total_size() == 700);
  CHECK(second.users_size() == 1);
}

TEST_CASE("SearchUsers matches its query literally and pages by rank, username and id") {
  HandlerFixture fixture;
  SearchUsersRequest request;
  SearchUsersResponse response;
  request.set_query("   ");
  CHECK(FieldOf(fixture.Call(&callbacks::SearchUsers, request, response)) == "query");
  request.set_query(std::string(101, 'q'));
  CHECK(FieldOf(fixture.Call(&callbacks::SearchUsers, request, response)) == "query");
  CHECK(fixture.SentStatements().empty());

  request.set_query(" 50%_off\\ ");
  request.set_include_inactive(true);
  request.mutable_pagination()->set_page_size(1);
  std::vector<TextRow> rows = PageRows(2, 9);
  rows[0][storage::UserRow::kColumns] = "1";  // the rank stands where ListUsers has its key
  fixture.store.Script("search_users", FakeStore::Rows(rows));
  REQUIRE(fixture.Call(&callbacks::SearchUsers, request, response).ok());
  const storage::Params params = fixture.store.LastParams("search_users");
  CHECK(params[0] == "50%_off\\");
  CHECK(params[1] == "50\\%\\_off\\\\%");
  CHECK(params[2] == "%50\\%\\_off\\\\%");
  CHECK(params[3] == "true");
  CHECK(params[4] == "2");
  CHECK(params.size() == 5);
  CHECK(response.users_size() == 1);
  CHECK(response.pagination().total_size() == 9);

  request.mutable_pagination()->set_page_token(response.pagination().next_page_token());
  fixture.store.Script("search_users_after", FakeStore::Rows(PageRows(1, 9)));
  REQUIRE(fixture.Call(&callbacks::SearchUsers, request, response).ok());
  const storage::Params next = fixture.store.LastParams("search_users_after");
  REQUIRE(next.size() == 9);
  CHECK(next[0] == "50%_off\\");
  CHECK(next[5] == "1");
  CHECK(next[6] == "u0");
  CHECK(next[7] == "00000000-0000-4000-8000-000000000000");
  CHECK(next[8] == "9");  // the first page's total, not counted again
}

TEST_CASE("A search with no trigram in its query reads the table rather than the trigram index") {
  // Three word characters in a row, in any script, make a trigram; nothing else does.
  CHECK(storage::queries::HasTrigram("smith"));
  CHECK(storage::queries::HasTrigram("o'brien"));
  CHECK(storage::queries::HasTrigram("\u65e5\u672c\u8a9e"));  // three CJK characters
  CHECK(storage::queries::HasTrigram("\u00e9va"));
  CHECK_FALSE(storage::queries::HasTrigram("jo"));
  CHECK_FALSE(storage::queries::HasTrigram("a.b.c"));
  CHECK_FALSE(storage::queries::HasTrigram("ab cd"));
  CHECK_FALSE(storage::queries::HasTrigram("\u65e5\u672c"));
  CHECK_FALSE(storage::queries::HasTrigram("%_"));

  HandlerFixture fixture;
  SearchUsersRequest request;
  request.set_query("Jo");
  request.mutable_pagination()->set_page_size(1);
  fixture.store.Script("search_users_without_trigrams", FakeStore::Rows(PageRows(2, 5)));
  SearchUsersResponse first;
  REQUIRE(fixture.Call(&callbacks::SearchUsers, request, first).ok());
  CHECK(fixture.store.LastParams("search_users_without_trigrams")[2] == "%Jo%");
  CHECK(first.pagination().total_size() == 5);
  request.mutable_pagination()->set_page_token(first.pagination().next_page_token());
  fixture.store.Script("search_users_without_trigrams_after", FakeStore::Rows(PageRows(1, 5)));
  SearchUsersResponse second;
  REQUIRE(fixture.Call(&callbacks::SearchUsers, request, second).ok());
  CHECK(second.users_size() == 1);
  CHECK(second.pagination().total_size() == 5);
}

}  // namespace
}  // namespace usersvc::test
