#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "callbacks/domain/cpu_pool.h"
#include "callbacks/domain/health_monitor.h"
#include "callbacks/domain/page_tokens.h"
#include "callbacks/domain/user_lookups.h"
#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "test/support/fake_store.h"

/// Handlers run alone: their Services over a FakeStore, a real CPU pool for the argon2id work.
namespace usersvc::test {

class HandlerFixture {
 public:
  HandlerFixture() = default;
  ~HandlerFixture() { cpu.Stop(); }

  /// Runs `handler` on `request` and waits for its answer (at most 10 s).
  template <typename Request, typename Response>
  absl::Status Call(void (*handler)(callbacks::Services&, callbacks::Exchange<Request, Response>),
                    const Request& request, Response& response) {
    auto answered = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> answer = answered->get_future();
    handler(services, callbacks::Exchange<Request, Response>{
                          &request, &response, absl::Now() + absl::Seconds(10),
                          callbacks::Finish([answered](absl::Status status) {
                            answered->set_value(std::move(status));
                          })});
    REQUIRE(answer.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return answer.get();
  }

  /// The statements the handler sent, in order.
  std::vector<std::string> SentStatements() const {
    std::vector<std::string> names;
    for (const FakeStore::Sent& sent : store.sent()) names.push_back(sent.statement);
    return names;
  }

  FakeStore store;
  callbacks::CpuPool cpu{1, 8};
  callbacks::HealthMonitor health{[](bool) {}};
  callbacks::PageTokens page_tokens{"handler unit tests"};
  callbacks::UserCache user_cache{0};
  callbacks::UserLookups lookups{store, user_cache};
  callbacks::Services services{store,   store,      cpu,    health,     page_tokens,
                               lookups, user_cache, "test", absl::Now()};
};

inline constexpr const char* kUserId = "123e4567-e89b-12d3-a456-426614174000";
inline constexpr const char* kAddressId = "223e4567-e89b-12d3-a456-426614174000";
inline constexpr const char* kRequestId = "323e4567-e89b-12d3-a456-426614174000";

/// A user's columns as the user statements select them (storage/queries/columns.h).
inline TextRow UserColumns(std::string id = kUserId, std::string email = "ann@example.com",
                           std::string username = "ann") {
  return {id,
          email,
          username,
          "Ann",
          "Lee",
          "+14155550123",
          "2",
          "t",
          "f",
          "1700000000000000",
          "1700000001000000",
          std::nullopt,
          "",
          "3"};
}

/// An address's columns as the address statements select them.
inline TextRow AddressColumns(std::string id = kAddressId) {
  return {
      id,      kUserId, "1", "home", "Ann Lee",          "1 Main St",       "", "Springfield", "",
      "12345", "US",    "",  "t",    "1700000000000000", "1700000000000000"};
}

inline bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

inline bool MessageStartsWith(const absl::Status& status, std::string_view prefix) {
  return StartsWith(std::string(status.message()), prefix);
}

inline TextRow Nulls(int columns) { return TextRow(columns, std::nullopt); }

/// A user's columns followed by more (the replay of a request_id, a page's sort key and total).
inline TextRow Concat(TextRow row, const TextRow& more) {
  row.insert(row.end(), more.begin(), more.end());
  return row;
}

}  // namespace usersvc::test
