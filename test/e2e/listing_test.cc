// ListUsers and SearchUsers: filters, orders, keyset pages and their tokens, ranking.
#include <set>

#include <absl/strings/ascii.h>
#include <absl/time/clock.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

using user::v1::ListUsersRequest;
using user::v1::ListUsersResponse;
using user::v1::SearchUsersRequest;
using user::v1::SearchUsersResponse;

/// Users created by this test only: their first_name is a fresh tag that filters can't see, so
/// listing tests scope themselves with a created_after bound taken before they start.
struct Cohort {
  google::protobuf::Timestamp since;
  std::vector<user::v1::User> users;
};

Cohort CreateCohort(Stub& stub, int count, const std::string& name_prefix = "") {
  Cohort cohort;
  const int64_t micros = absl::ToUnixMicros(absl::Now()) - 1000;
  cohort.since.set_seconds(micros / 1'000'000);
  cohort.since.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  for (int i = 0; i < count; ++i) {
    const std::string suffix = UniqueSuffix();
    user::v1::CreateUserRequest request;
    request.set_email(name_prefix + "list." + suffix + "@example.com");
    request.set_username(name_prefix + "list_" + suffix);
    request.set_password("password " + suffix);
    user::v1::CreateUserResponse response;
    REQUIRE(Call(stub, &Stub::CreateUser, request, &response).ok());
    cohort.users.push_back(response.user());
  }
  return cohort;
}

/// Every page of a listing, following next_page_token; the ids in order. Every page must report
/// the first page's total.
std::vector<std::string> AllPages(Stub& stub, ListUsersRequest request, int64_t* total) {
  std::vector<std::string> ids;
  for (int page = 0; page < 100; ++page) {
    ListUsersResponse response;
    grpc::Status status = Call(stub, &Stub::ListUsers, request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    if (page > 0) CHECK(response.pagination().total_size() == *total);
    *total = response.pagination().total_size();
    for (const auto& user : response.users()) ids.push_back(user.id());
    if (response.pagination().next_page_token().empty()) break;
    request.mutable_pagination()->set_page_token(response.pagination().next_page_token());
  }
  return ids;
}

TEST_CASE("ListUsers pages newest first by default, each user exactly once, with the total") {
  ServerProcess server;
  auto stub = server.stub();
  Cohort cohort = CreateCohort(*stub, 7);
  ListUsersRequest request;
  *request.mutable_filter()->mutable_created_after() = cohort.since;
  request.mutable_pagination()->set_page_size(3);
  int64_t total = 0;
  std::vector<std::string> ids = AllPages(*stub, request, &total);
  std::vector<std::string> expected;
  for (auto it = cohort.users.rbegin(); it != cohort.users.rend(); ++it)
    expected.push_back(it->id());
  CHECK(ids == expected);
  CHECK(total == 7);
}

TEST_CASE("ListUsers without a filter lists everyone newest first, with one total on every page") {
  ServerProcess server;
  auto stub = server.stub();
  Cohort cohort = CreateCohort(*stub, 3);
  // Other tests create users meanwhile, so this looks for its own three among the newest, in
  // their order, and for one total across pages.
  ListUsersRequest request;
  request.mutable_pagination()->set_page_size(100);
  ListUsersResponse first;
  REQUIRE(Call(*stub, &Stub::ListUsers, request, &first).ok());
  std::vector<std::string> ours;
  for (const auto& user : first.users()) {
    for (const auto& created : cohort.users) {
      if (user.id() == created.id()) ours.push_back(user.id());
    }
  }
  CHECK(ours ==
        std::vector<std::string>{cohort.users[2].id(), cohort.users[1].id(), cohort.users[0].id()});
  CHECK(first.pagination().total_size() >= 3);
  // Pages of one: there is always a next, and it reports the first page's total.
  request.mutable_pagination()->set_page_size(1);
  ListUsersResponse one;
  REQUIRE(Call(*stub, &Stub::ListUsers, request, &one).ok());
  REQUIRE_FALSE(one.pagination().next_page_token().empty());
  request.mutable_pagination()->set_page_token(one.pagination().next_page_token());
  ListUsersResponse two;
  REQUIRE(Call(*stub, &Stub::ListUsers, request, &two).ok());
  REQUIRE(two.users_size() == 1);
  CHECK(two.pagination().total_size() == one.pagination().total_size());
  CHECK(two.users(0).id() != one.users(0).id());
  CHECK(two.users(0).created_at().seconds() <= one.users(0).created_at().seconds());
}

TEST_CASE("ListUsers orders by email and username in either direction") {
  ServerProcess server;
  auto stub = server.stub();
  Cohort cohort = CreateCohort(*stub, 5);
  std::vector<user::v1::User> by_email = cohort.users;
  std::sort(by_email.begin(), by_email.end(),
            [](const auto& a, const auto& b) { return a.email() < b.email(); });
  ListUsersRequest request;
  *request.mutable_filter()->mutable_created_after() = cohort.since;
  request.mutable_pagination()->set_page_size(2);
  request.set_order_by(user::v1::USER_ORDER_BY_EMAIL);
  int64_t total = 0;
  std::vector<std::string> ascending = AllPages(*stub, request, &total);
  REQUIRE(ascending.size() == 5);
  for (size_t i = 0; i < by_email.size(); ++i) CHECK(ascending[i] == by_email[i].id());
  request.set_direction(common::v1::SORT_DIRECTION_DESC);
  std::vector<std::string> descending = AllPages(*stub, request, &total);
  std::reverse(descending.begin(), descending.end());
  CHECK(descending == ascending);
  request.set_order_by(user::v1::USER_ORDER_BY_USERNAME);
  CHECK(AllPages(*stub, request, &total).size() == 5);
}

TEST_CASE("ListUsers filters by role, state and creation time") {
  ServerProcess server;
  auto stub = server.stub();
  Cohort cohort = CreateCohort(*stub, 4);
  user::v1::DeactivateUserRequest deactivate;
  deactivate.set_user_id(cohort.users[1].id());
  user::v1::DeactivateUserResponse deactivated;
  REQUIRE(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).ok());
  user::v1::UpdateUserRequest promote;
  promote.set_user_id(cohort.users[2].id());
  promote.mutable_user()->set_role(user::v1::USER_ROLE_ADMIN);
  user::v1::UpdateUserResponse promoted;
  REQUIRE(Call(*stub, &Stub::UpdateUser, promote, &promoted).ok());

  ListUsersRequest request;
  *request.mutable_filter()->mutable_created_after() = cohort.since;
  int64_t total = 0;
  request.mutable_filter()->set_is_active(false);
  CHECK(AllPages(*stub, request, &total) == std::vector<std::string>{cohort.users[1].id()});
  request.mutable_filter()->clear_is_active();
  request.mutable_filter()->set_role(user::v1::USER_ROLE_ADMIN);
  CHECK(AllPages(*stub, request, &total) == std::vector<std::string>{cohort.users[2].id()});
  request.mutable_filter()->clear_role();
  request.mutable_filter()->set_is_email_verified(true);
  CHECK(AllPages(*stub, request, &total).empty());
  CHECK(total == 0);
  request.mutable_filter()->clear_is_email_verified();
  *request.mutable_filter()->mutable_created_before() = cohort.users[2].created_at();
  CHECK(AllPages(*stub, request, &total).size() == 2);  // created_before is exclusive
}

TEST_CASE("ListUsers keeps each user exactly once when users come and go between pages") {
  ServerProcess server;
  auto stub = server.stub();
  Cohort cohort = CreateCohort(*stub, 6);
  ListUsersRequest request;
  *request.mutable_filter()->mutable_created_after() = cohort.since;
  request.set_direction(common::v1::SORT_DIRECTION_ASC);
  request.mutable_pagination()->set_page_size(3);
  ListUsersResponse first;
  REQUIRE(Call(*stub, &Stub::ListUsers, request, &first).ok());
  REQUIRE(first.users_size() == 3);
  // A user of the first page goes, and a new one comes, before the second page is read.
  user::v1::DeleteUserRequest remove;
  remove.set_user_id(first.users(0).id());
  user::v1::DeleteUserResponse removed;
  REQUIRE(Call(*stub, &Stub::DeleteUser, remove, &removed).ok());
  Cohort late = CreateCohort(*stub, 1);

  request.mutable_pagination()->set_page_token(first.pagination().next_page_token());
  int64_t total = 0;
  std::vector<std::string> rest = AllPages(*stub, request, &total);
  std::vector<std::string> expected = {cohort.users[3].id(), cohort.users[4].id(),
                                       cohort.users[5].id(), late.users[0].id()};
  CHECK(rest == expected);
  // Every page of one listing reports the total of when it started (README, ListUsers).
  CHECK(first.pagination().total_size() == 6);
  CHECK(total == 6);
}

TEST_CASE("Page tokens are bound to their arguments and cannot be forged") {
  ServerProcess server;
  auto stub = server.stub();
  Cohort cohort = CreateCohort(*stub, 3);
  ListUsersRequest request;
  *request.mutable_filter()->mutable_created_after() = cohort.since;
  request.mutable_pagination()->set_page_size(1);
  ListUsersResponse response;
  REQUIRE(Call(*stub, &Stub::ListUsers, request, &response).ok());
  const std::string token = response.pagination().next_page_token();
  REQUIRE_FALSE(token.empty());

  ListUsersRequest other_order = request;
  other_order.set_order_by(user::v1::USER_ORDER_BY_EMAIL);
  other_order.mutable_pagination()->set_page_token(token);
  grpc::Status status = Call(*stub, &Stub::ListUsers, other_order, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("pagination.page_token: ", 0) == 0);

  std::string tampered = token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {tampered, std::string("garbage"), token + "x"}) {
    ListUsersRequest forged = request;
    forged.mutable_pagination()->set_page_token(bad);
    status = Call(*stub, &Stub::ListUsers, forged, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  // A page token from ListUsers means nothing to SearchUsers.
  SearchUsersRequest search;
  search.set_query("list");
  search.mutable_pagination()->set_page_token(token);
  SearchUsersResponse found;
  CHECK(Call(*stub, &Stub::SearchUsers, search, &found).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("Page sizes: 0 means 20, more than 100 means 100, negative is INVALID_ARGUMENT") {
  ServerProcess server;
  auto stub = server.stub();
  ListUsersRequest request;
  request.mutable_pagination()->set_page_size(-1);
  ListUsersResponse response;
  grpc::Status status = Call(*stub, &Stub::ListUsers, request, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("pagination.page_size: ", 0) == 0);

  CreateCohort(*stub, 2);  // the shared test database now holds well over 20 users
  request.mutable_pagination()->set_page_size(0);
  REQUIRE(Call(*stub, &Stub::ListUsers, request, &response).ok());
  CHECK(response.users_size() == std::min<int64_t>(20, response.pagination().total_size()));
  request.mutable_pagination()->set_page_size(1000);
  REQUIRE(Call(*stub, &Stub::ListUsers, request, &response).ok());
  CHECK(response.users_size() == std::min<int64_t>(100, response.pagination().total_size()));
}

std::vector<std::string> SearchAll(Stub& stub, SearchUsersRequest request, int64_t* total) {
  std::vector<std::string> usernames;
  request.mutable_pagination()->set_page_size(2);
  for (int page = 0; page < 50; ++page) {
    SearchUsersResponse response;
    grpc::Status status = Call(stub, &Stub::SearchUsers, request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    if (page > 0) CHECK(response.pagination().total_size() == *total);
    *total = response.pagination().total_size();
    for (const auto& user : response.users()) usernames.push_back(user.username());
    if (response.pagination().next_page_token().empty()) break;
    request.mutable_pagination()->set_page_token(response.pagination().next_page_token());
  }
  return usernames;
}

user::v1::User MakeUser(Stub& stub, const std::string& username, const std::string& email,
                        const std::string& first_name) {
  user::v1::CreateUserRequest request;
  request.set_email(email);
  request.set_username(username);
  request.set_first_name(first_name);
  request.set_password("search password");
  user::v1::CreateUserResponse response;
  grpc::Status status = Call(stub, &Stub::CreateUser, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response.user();
}

TEST_CASE("SearchUsers ranks exact, then prefix, then other matches, ties by username") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string tag = "q" + UniqueSuffix().substr(0, 8);
  MakeUser(*stub, "zz_" + tag + "_inner", "a." + UniqueSuffix() + "@example.com", "");
  MakeUser(*stub, tag + "_b", "b." + UniqueSuffix() + "@example.com", "");
  MakeUser(*stub, tag + "_a", "c." + UniqueSuffix() + "@example.com", "");
  MakeUser(*stub, "first_" + UniqueSuffix().substr(0, 6), "d." + UniqueSuffix() + "@example.com",
           absl::AsciiStrToUpper(tag) + "ina");
  MakeUser(*stub, tag, "e." + UniqueSuffix() + "@example.com", "");
  SearchUsersRequest request;
  request.set_query("  " + absl::AsciiStrToUpper(tag) + " ");
  int64_t total = 0;
  std::vector<std::string> found = SearchAll(*stub, request, &total);
  REQUIRE(found.size() == 5);
  CHECK(total == 5);
  CHECK(found[0] == tag);  // exact username
  // Prefix matches (username or first name), by username.
  std::vector<std::string> prefix(found.begin() + 1, found.begin() + 4);
  CHECK(std::is_sorted(prefix.begin(), prefix.end()));
  CHECK(found[4] == "zz_" + tag + "_inner");  // substring only
}

TEST_CASE(
    "SearchUsers takes %, _ and backslash literally and leaves deactivated users out unless "
    "asked") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string tag = UniqueSuffix().substr(0, 8);
  user::v1::User percent = MakeUser(*stub, "pct_" + tag, "p." + tag + "@example.com", "100%" + tag);
  MakeUser(*stub, "plain_" + tag, "n." + tag + "@example.com", "100x" + tag);
  user::v1::User underscore = MakeUser(*stub, "u_" + tag, "u." + tag + "@example.com", "");
  int64_t total = 0;
  SearchUsersRequest request;
  request.set_query("100%" + tag);
  CHECK(SearchAll(*stub, request, &total) == std::vector<std::string>{percent.username()});
  request.set_query("u_" + tag);
  CHECK(SearchAll(*stub, request, &total) == std::vector<std::string>{underscore.username()});
  request.set_query("\\" + tag);
  CHECK(SearchAll(*stub, request, &total).empty());

  user::v1::DeactivateUserRequest deactivate;
  deactivate.set_user_id(percent.id());
  user::v1::DeactivateUserResponse deactivated;
  REQUIRE(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).ok());
  request.set_query("100%" + tag);
  CHECK(SearchAll(*stub, request, &total).empty());
  request.set_include_inactive(true);
  CHECK(SearchAll(*stub, request, &total) == std::vector<std::string>{percent.username()});

  for (const std::string& bad : {std::string("   "), std::string(101, 'q')}) {
    request.set_query(bad);
    SearchUsersResponse response;
    grpc::Status status = Call(*stub, &Stub::SearchUsers, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind("query: ", 0) == 0);
  }
}

TEST_CASE(
    "SearchUsers matches within one field, never across two, and names refuse control "
    "characters") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string tag = UniqueSuffix().substr(0, 8);
  // username "span_<tag>", first name "Left<tag>": each part is found, a query over the border
  // between two fields (with or without a character between them) is not.
  user::v1::User user = MakeUser(*stub, "span_" + tag, "s." + tag + "@example.com", "Left" + tag);
  int64_t total = 0;
  SearchUsersRequest request;
  for (const std::string& part : {"span_" + tag, "left" + tag, tag}) {
    request.set_query(part);
    INFO(part);
    CHECK(SearchAll(*stub, request, &total) == std::vector<std::string>{user.username()});
  }
  for (const std::string& across : {tag + "left", tag + "\x1f" + "left" + tag.substr(0, 2),
                                    "com\x1fspan_" + tag, tag + " left"}) {
    request.set_query(across);
    INFO(across);
    CHECK(SearchAll(*stub, request, &total).empty());
    CHECK(total == 0);
  }

  user::v1::CreateUserRequest create;
  create.set_email("ctl." + tag + "@example.com");
  create.set_username("ctl_" + tag);
  create.set_password("search password");
  create.set_last_name("Bad\x1fName");
  user::v1::CreateUserResponse created;
  grpc::Status status = Call(*stub, &Stub::CreateUser, create, &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "last_name: must not contain control characters");
}

}  // namespace
}  // namespace usersvc::test
