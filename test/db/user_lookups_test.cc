#include "callbacks/domain/user_lookups.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "storage/pool.h"
#include "storage/query.h"
#include "test/support/test_database.h"

namespace usersvc::callbacks {
namespace {

struct Answer {
  absl::StatusCode code;
  std::string found;  // the row's email; empty when not found
};

std::future<Answer> Lookup(UserLookups& lookups, bool by_email, std::string key) {
  auto promise = std::make_shared<std::promise<Answer>>();
  auto future = promise->get_future();
  UserLookups::Callback done = [promise](absl::Status status, const storage::UserRow* user) {
    promise->set_value({status.code(), user == nullptr ? "" : std::string(user->email)});
  };
  if (by_email) {
    lookups.ByEmail(std::move(key), std::move(done));
  } else {
    lookups.ById(std::move(key), std::move(done));
  }
  return future;
}

TEST_CASE("coalesced lookups answer each caller with its own user, duplicates and misses too") {
  REQUIRE(storage::Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  const std::string suffix = test::UniqueSuffix();
  // Emails with the characters an array literal must quote.
  const std::vector<std::string> emails = {"plain." + suffix + "@example.com",
                                           "q\"uo{te},." + suffix + "@example.com",
                                           "back\\slash." + suffix + "@example.com"};
  std::vector<std::string> ids;
  for (size_t i = 0; i < emails.size(); ++i) {
    ids.push_back(
        db.Scalar("INSERT INTO users (email, username, password_hash) VALUES ($1, $2, 'x')"
                  " RETURNING id",
                  {emails[i], "lookup" + std::to_string(i) + "_" + suffix}));
  }
  storage::PoolOptions options;
  options.conninfo = test::TestDatabaseUrl();
  options.connections = 1;
  options.max_in_flight_per_connection = 1;  // lookups queue up behind each other and coalesce
  options.statements = storage::RegisteredStatements();
  storage::Pool pool(std::move(options));
  pool.Start();
  UserCache no_cache(0);
  UserLookups lookups(pool, no_cache);

  std::vector<std::future<Answer>> by_id, by_email, missing;
  for (int round = 0; round < 100; ++round) {
    for (size_t i = 0; i < ids.size(); ++i) {
      by_id.push_back(Lookup(lookups, false, ids[i]));
      by_email.push_back(Lookup(lookups, true, emails[i]));
    }
    missing.push_back(Lookup(lookups, false, "00000000-0000-4000-8000-000000000000"));
    missing.push_back(Lookup(lookups, true, "nobody." + suffix + "@example.com"));
  }
  for (size_t i = 0; i < by_id.size(); ++i) {
    Answer id_answer = by_id[i].get();
    Answer email_answer = by_email[i].get();
    CHECK(id_answer.code == absl::StatusCode::kOk);
    CHECK(id_answer.found == emails[i % emails.size()]);
    CHECK(email_answer.found == emails[i % emails.size()]);
  }
  for (auto& answer : missing) {
    Answer a = answer.get();
    CHECK(a.code == absl::StatusCode::kOk);
    CHECK(a.found.empty());
  }
}

TEST_CASE("a coalesced lookup the pool refuses fails every caller in its batch") {
  storage::PoolOptions options;
  options.conninfo = "postgresql://usersvc@/usersvc?host=/nonexistent-usersvc-socket-dir";
  options.connections = 1;
  options.statements = storage::RegisteredStatements();
  storage::Pool pool(std::move(options));
  pool.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  UserCache no_cache(0);
  UserLookups lookups(pool, no_cache);
  auto first = Lookup(lookups, false, "00000000-0000-4000-8000-000000000001");
  auto second = Lookup(lookups, false, "00000000-0000-4000-8000-000000000002");
  CHECK(first.get().code == absl::StatusCode::kUnavailable);
  CHECK(second.get().code == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace usersvc::callbacks
