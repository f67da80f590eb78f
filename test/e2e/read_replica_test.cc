// --database_read_url: the read-only RPCs are served by a real streaming replica, every change by
// the primary. Pausing the replica's WAL replay makes the split visible: reads then show the
// state before the change that the primary just acknowledged.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/private_cluster.h"

namespace usersvc::test {
namespace {

/// Runs one SQL statement on the cluster at `url` with psql (the tests' BlockingDb talks to the
/// shared test database only).
std::string Psql(const std::string& url, const std::string& sql) {
  const std::string command = "psql '" + url + "' -tAc \"" + sql + "\" 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char chunk[256];
  while (fgets(chunk, sizeof chunk, pipe) != nullptr) output += chunk;
  REQUIRE(pclose(pipe) == 0);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

/// Polls `condition` every 20 ms for up to 10 s.
template <typename Condition>
bool Eventually(Condition condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_CASE("With --database_read_url reads come from the replica and changes go to the primary") {
  PrivateCluster primary;
  primary.Start();
  PrivateCluster replica;
  replica.StartAsReplicaOf(primary);
  REQUIRE(Psql(replica.url(), "SELECT pg_is_in_recovery()") == "t");

  ServerProcess::Options options;
  options.database_url = primary.url();
  options.args = {"--database_read_url=" + replica.url()};
  ServerProcess server(options);
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);  // on the primary (migrations ran there too)

  user::v1::GetUserRequest get;
  get.set_user_id(who.user.id());
  user::v1::GetUserResponse got;
  REQUIRE(Eventually([&] { return Call(*stub, &Stub::GetUser, get, &got).ok(); }));
  CHECK(got.user().email() == who.user.email());

  // Hold the replica at this point in the primary's history.
  Psql(replica.url(), "SELECT pg_wal_replay_pause()");
  REQUIRE(Eventually(
      [&] { return Psql(replica.url(), "SELECT pg_get_wal_replay_pause_state()") == "paused"; }));

  user::v1::UpdateUserRequest update;
  update.set_user_id(who.user.id());
  update.mutable_user()->set_first_name("Primary");
  update.mutable_update_mask()->add_paths("first_name");
  user::v1::UpdateUserResponse updated;
  REQUIRE(Call(*stub, &Stub::UpdateUser, update, &updated).ok());  // a write: the primary
  CHECK(updated.user().first_name() == "Primary");
  CHECK(Psql(primary.url(), "SELECT first_name FROM users WHERE id = '" + who.user.id() + "'") ==
        "Primary");

  user::v1::AddAddressRequest add;
  add.set_user_id(who.user.id());
  add.mutable_address()->set_type(user::v1::ADDRESS_TYPE_SHIPPING);
  add.mutable_address()->set_recipient_name("Ada Lovelace");
  add.mutable_address()->set_line1("12 St James's Square");
  add.mutable_address()->set_city("London");
  add.mutable_address()->set_country_code("GB");
  user::v1::AddAddressResponse added;
  REQUIRE(Call(*stub, &Stub::AddAddress, add, &added).ok());

  // Every read-only RPC still sees the replica's paused state.
  REQUIRE(Call(*stub, &Stub::GetUser, get, &got).ok());
  CHECK(got.user().first_name() == who.user.first_name());
  user::v1::GetUserByEmailRequest by_email;
  by_email.set_email(who.user.email());
  user::v1::GetUserByEmailResponse by_email_response;
  REQUIRE(Call(*stub, &Stub::GetUserByEmail, by_email, &by_email_response).ok());
  CHECK(by_email_response.user().version() == who.user.version());
  user::v1::ListAddressesRequest list;
  list.set_user_id(who.user.id());
  user::v1::ListAddressesResponse listed;
  REQUIRE(Call(*stub, &Stub::ListAddresses, list, &listed).ok());
  CHECK(listed.addresses().empty());
  user::v1::GetAddressRequest get_address;
  get_address.set_user_id(who.user.id());
  get_address.set_address_id(added.address().id());
  user::v1::GetAddressResponse got_address;
  CHECK(Call(*stub, &Stub::GetAddress, get_address, &got_address).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  user::v1::SearchUsersRequest search;
  search.set_query(who.user.username());
  user::v1::SearchUsersResponse found;
  REQUIRE(Call(*stub, &Stub::SearchUsers, search, &found).ok());
  REQUIRE(found.users_size() == 1);
  CHECK(found.users(0).first_name() == who.user.first_name());
  user::v1::ListUsersRequest list_users;
  user::v1::ListUsersResponse users;
  REQUIRE(Call(*stub, &Stub::ListUsers, list_users, &users).ok());
  REQUIRE(users.users_size() == 1);
  CHECK(users.users(0).first_name() == who.user.first_name());
  user::v1::GetUserPreferencesRequest preferences;
  preferences.set_user_id(who.user.id());
  user::v1::GetUserPreferencesResponse got_preferences;
  CHECK(Call(*stub, &Stub::GetUserPreferences, preferences, &got_preferences).ok());

  // Once the replica replays again, the reads catch up with the change.
  Psql(replica.url(), "SELECT pg_wal_replay_resume()");
  CHECK(Eventually([&] {
    return Call(*stub, &Stub::GetUser, get, &got).ok() && got.user().first_name() == "Primary";
  }));
  CHECK(Eventually([&] { return Call(*stub, &Stub::GetAddress, get_address, &got_address).ok(); }));
}

}  // namespace
}  // namespace usersvc::test
