#include "storage/statement_timeout.h"

#include <catch2/catch.hpp>

namespace usersvc::storage {
namespace {

const StatementTimeout kPolicy(absl::Seconds(60));

TEST_CASE("a connection whose timeout is unknown always gets one before its first statement") {
  const auto set = kPolicy.ToSet(std::nullopt, absl::Milliseconds(300));
  REQUIRE(set.has_value());
  CHECK(*set >= 300);
  CHECK(*set <= 700);
}

TEST_CASE("a timeout shorter than the remaining deadline is raised, never kept") {
  const auto set = kPolicy.ToSet(500, absl::Seconds(20));
  REQUIRE(set.has_value());
  CHECK(*set >= 20'000);
}

TEST_CASE("a timeout far beyond the remaining deadline is lowered so the statement ends promptly") {
  const auto set = kPolicy.ToSet(30'000, absl::Milliseconds(250));
  REQUIRE(set.has_value());
  CHECK(*set >= 250);
  CHECK(*set <= 600);
}

TEST_CASE("calls with similar deadlines keep the connection's timeout instead of resetting it") {
  const auto first = kPolicy.ToSet(std::nullopt, absl::Seconds(20));
  REQUIRE(first.has_value());
  CHECK_FALSE(kPolicy.ToSet(*first, absl::Seconds(20)).has_value());
  CHECK_FALSE(kPolicy.ToSet(*first, absl::Milliseconds(19'400)).has_value());
  CHECK_FALSE(kPolicy.ToSet(*first, absl::Seconds(25)).has_value());
}

TEST_CASE("a statement without a deadline is bounded by the cap, and a spent deadline by 1 ms") {
  const auto uncapped = kPolicy.ToSet(std::nullopt, absl::InfiniteDuration());
  REQUIRE(uncapped.has_value());
  CHECK(*uncapped >= 60'000);
  CHECK(*uncapped <= 120'100);
  const auto spent = kPolicy.ToSet(std::nullopt, absl::ZeroDuration() - absl::Seconds(1));
  REQUIRE(spent.has_value());
  CHECK(*spent >= 1);  // 0 would disable the timeout altogether
}

}  // namespace
}  // namespace usersvc::storage
