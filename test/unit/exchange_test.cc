// A call's Finish answers exactly once, and a dropped one still answers.
#include "callbacks/handlers/exchange.h"

#include <vector>

#include <catch2/catch.hpp>

namespace usersvc::callbacks {
namespace {

/// A Finish that records what it was answered with.
Finish Recording(std::vector<absl::Status>* answers) {
  return Finish([answers](absl::Status status) { answers->push_back(std::move(status)); });
}

TEST_CASE("A Finish answers once with what it is given") {
  std::vector<absl::Status> answers;
  {
    Finish finish = Recording(&answers);
    CHECK(static_cast<bool>(finish));
    std::move(finish)(absl::NotFoundError("user not found"));
    CHECK_FALSE(static_cast<bool>(finish));
    std::move(finish)(absl::OkStatus());  // already answered: nothing more is sent
  }
  REQUIRE(answers.size() == 1);
  CHECK(answers[0] == absl::NotFoundError("user not found"));
}

TEST_CASE("A Finish dropped unanswered answers INTERNAL, and a moved one answers once") {
  std::vector<absl::Status> answers;
  { Finish forgotten = Recording(&answers); }
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].code() == absl::StatusCode::kInternal);

  answers.clear();
  {
    Finish first = Recording(&answers);
    Finish second = std::move(first);  // the moved-from one answers nothing when destroyed
    std::move(second)(absl::OkStatus());
  }
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].ok());

  // Overwriting an unanswered Finish answers the overwritten call.
  std::vector<absl::Status> overwritten;
  answers.clear();
  {
    Finish holder = Recording(&overwritten);
    holder = Recording(&answers);
    CHECK(overwritten.size() == 1);
    std::move(holder)(absl::OkStatus());
  }
  REQUIRE(overwritten.size() == 1);
  CHECK(overwritten[0].code() == absl::StatusCode::kInternal);
  CHECK(answers.size() == 1);
  // A default Finish (filled in later, or never) answers nothing.
  { Finish empty; }
}

}  // namespace
}  // namespace usersvc::callbacks
