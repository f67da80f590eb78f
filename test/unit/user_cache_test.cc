// The lookup cache alone: what it answers, what it forgets, and that it keeps to its budget.
#include "callbacks/domain/user_cache.h"

#include <deque>
#include <string>

#include <catch2/catch.hpp>

namespace usersvc::callbacks {
namespace {

/// A row as a lookup would read it; `n` tells users apart.
struct TestRow {
  explicit TestRow(int n)
      : id("00000000-0000-4000-8000-" + std::string(12 - std::to_string(n).size(), '0') +
           std::to_string(n)),
        email("user" + std::to_string(n) + "@example.com"),
        username("user_" + std::to_string(n)) {
    row.id = id;
    row.email = email;
    row.username = username;
    row.version = n;
  }
  TestRow(const TestRow&) = delete;  // `row` views the strings of this one
  std::string id, email, username;
  storage::UserRow row;
};

TEST_CASE("The cache answers by id and by email once filled, and not before it listens") {
  UserCache cache(1 << 20);
  const TestRow ada(1);
  cache.Fill(ada.row, cache.generation());
  CHECK_FALSE(cache.enabled());  // changes are not heard yet: nothing is kept or answered
  CHECK(cache.FindById(ada.id) == nullptr);

  cache.SetListening(true);
  cache.Fill(ada.row, cache.generation());
  auto by_id = cache.FindById(ada.id);
  REQUIRE(by_id != nullptr);
  CHECK(by_id->row().email == ada.email);
  CHECK(by_id->row().version == 1);
  auto by_email = cache.FindByEmail(ada.email);
  REQUIRE(by_email != nullptr);
  CHECK(by_email->id() == ada.id);
  CHECK(cache.FindById(TestRow(2).id) == nullptr);
  const UserCache::Stats stats = cache.stats();
  CHECK(stats.hits == 2);
  CHECK(stats.misses == 1);
  CHECK(stats.users == 1);
}

TEST_CASE("A forgotten user is gone by id and by email, and a read older than that is not kept") {
  UserCache cache(1 << 20);
  cache.SetListening(true);
  const TestRow ada(1);
  cache.Fill(ada.row, cache.generation());
  cache.Forget(ada.id);
  CHECK(cache.FindById(ada.id) == nullptr);
  CHECK(cache.FindByEmail(ada.email) == nullptr);
  CHECK(cache.stats().bytes == 0);

  // A lookup began, the user changed and was forgotten, then the lookup's (old) row came back.
  const uint64_t before_change = cache.generation();
  cache.Forget(ada.id);
  cache.Fill(ada.row, before_change);
  CHECK(cache.FindById(ada.id) == nullptr);
}

TEST_CASE("A new email replaces the old one's entry") {
  UserCache cache(1 << 20);
  cache.SetListening(true);
  TestRow ada(1);
  cache.Fill(ada.row, cache.generation());
  ada.email = "ada.new@example.com";
  ada.row.email = ada.email;
  cache.Fill(ada.row, cache.generation());
  CHECK(cache.FindByEmail("user1@example.com") == nullptr);
  REQUIRE(cache.FindByEmail("ada.new@example.com") != nullptr);
  CHECK(cache.stats().users == 1);
}

TEST_CASE("The cache keeps within its bytes, dropping the least recently used first") {
  const size_t one = CachedUser(TestRow(1).row).bytes();
  UserCache cache(10 * one);
  cache.SetListening(true);
  std::deque<TestRow> rows;  // never moved: each row views its own strings
  for (int n = 1; n <= 100; ++n) rows.emplace_back(n);
  cache.Fill(rows[0].row, cache.generation());
  for (int n = 1; n < 100; ++n) {
    cache.Fill(rows[n].row, cache.generation());
    CHECK(cache.FindById(rows[0].id) != nullptr);  // kept warm: never the one dropped
    CHECK(cache.stats().bytes <= 10 * one);
  }
  const UserCache::Stats stats = cache.stats();
  CHECK(stats.users >= 9);
  CHECK(stats.evictions == 100 - stats.users);
  CHECK(cache.FindById(rows[1].id) == nullptr);   // an early one, unused since
  CHECK(cache.FindById(rows[99].id) != nullptr);  // the newest
}

TEST_CASE("When changes cannot be heard the cache is emptied and not used until they can") {
  UserCache cache(1 << 20);
  cache.SetListening(true);
  const TestRow ada(1);
  cache.Fill(ada.row, cache.generation());
  cache.SetListening(false);
  CHECK_FALSE(cache.enabled());
  CHECK(cache.stats().users == 0);
  cache.SetListening(true);
  CHECK(cache.FindById(ada.id) == nullptr);  // what was missed meanwhile is not known
}

TEST_CASE("A cache of no bytes keeps nothing, yet still counts what was forgotten") {
  UserCache cache(0);
  cache.SetListening(true);
  CHECK_FALSE(cache.enabled());
  const uint64_t before = cache.generation();
  cache.Forget(TestRow(1).id);
  CHECK(cache.generation() > before);
}

}  // namespace
}  // namespace usersvc::callbacks
