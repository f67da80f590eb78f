#include "storage/params.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace usersvc::storage {
namespace {

struct Sample {
  std::string_view text;
  std::optional<std::string_view> absent;
  bool flag = false;
  int64_t number = 0;
  absl::Duration lifetime;
  RequestKey key;
  auto Fields() const { return std::tie(text, absent, flag, number, lifetime, key); }
};

TEST_CASE("query parameters follow their struct's field order, a key standing for its two") {
  static_assert(ParamCount<Sample>() == 7);
  const Params params = Encode(Sample{.text = "ann",
                                      .flag = true,
                                      .number = -42,
                                      .lifetime = absl::Hours(1),
                                      .key = {"123e4567-e89b-12d3-a456-426614174000", "\\x00"}});
  REQUIRE(params.size() == 7);
  CHECK(params[0] == "ann");
  CHECK_FALSE(params[1].has_value());  // SQL NULL
  CHECK(params[2] == "true");
  CHECK(params[3] == "-42");
  CHECK(params[4] == "3600.000000 seconds");
  CHECK(params[5] == "123e4567-e89b-12d3-a456-426614174000");
  CHECK(params[6] == "\\x00");
}

TEST_CASE("a change without a request_id sends its key as two NULLs") {
  const Params params = Encode(Sample{});
  CHECK(params[2] == "false");
  CHECK_FALSE(params[5].has_value());
  CHECK_FALSE(params[6].has_value());
}

struct TextArrayParams {
  TextArray values;
  auto Fields() const { return std::tie(values); }
};

TEST_CASE("array literals quote every element") {
  CHECK(ArrayLiteral({}) == "{}");
  const std::vector<std::string> values = {"a", "b\"c", "d\\e", "{,}"};
  CHECK(ArrayLiteral(values) == R"({"a","b\"c","d\\e","{,}"})");
  CHECK(Encode(TextArrayParams{TextArray{values}})[0] == ArrayLiteral(values));
}

}  // namespace
}  // namespace usersvc::storage
