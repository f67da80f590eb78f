#include "test/support/fake_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <catch2/catch.hpp>

namespace usersvc::test {

storage::Result MakeRows(int columns, const std::vector<TextRow>& rows) {
  if (!rows.empty()) columns = static_cast<int>(rows[0].size());
  PGresult* result = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  std::vector<std::string> names;
  for (int i = 0; i < columns; ++i) names.push_back(fmt::format("c{}", i));
  std::vector<PGresAttDesc> descriptions(columns);
  for (int i = 0; i < columns; ++i) {
    descriptions[i] = PGresAttDesc{names[i].data(), 0, 0, 0, 25, -1, -1};  // text
  }
  REQUIRE(PQsetResultAttrs(result, columns, descriptions.data()) == 1);
  for (size_t row = 0; row < rows.size(); ++row) {
    REQUIRE(static_cast<int>(rows[row].size()) == columns);
    for (int column = 0; column < columns; ++column) {
      const std::optional<std::string>& value = rows[row][column];
      REQUIRE(PQsetvalue(result, static_cast<int>(row), column,
                         value ? const_cast<char*>(value->c_str()) : nullptr,
                         value ? static_cast<int>(value->size()) : -1) == 1);
    }
  }
  return storage::Result::Rows(storage::PgResultPtr(result));
}

FakeStore::Reply FakeStore::Rows(std::vector<TextRow> rows, int columns) {
  Reply reply;
  reply.rows = std::move(rows);
  reply.columns = columns;
  return reply;
}

FakeStore::Reply FakeStore::Error(ErrorReport report) {
  Reply reply;
  reply.error = std::move(report);
  return reply;
}

FakeStore::Reply FakeStore::Failure(absl::Status status) {
  Reply reply;
  reply.failure = std::move(status);
  return reply;
}

void FakeStore::Script(std::string_view statement, Reply reply) {
  std::lock_guard lock(mutex_);
  script_.insert_or_assign(std::string(statement), std::move(reply));
}

std::vector<FakeStore::Sent> FakeStore::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

storage::Params FakeStore::LastParams(std::string_view statement) const {
  std::lock_guard lock(mutex_);
  for (auto it = sent_.rbegin(); it != sent_.rend(); ++it) {
    if (it->statement == statement) return it->params;
  }
  FAIL("no query of " << statement << " was sent");
  return {};
}

storage::Result FakeStore::Answer(const storage::Statement& statement, storage::Params params) {
  Reply reply;
  {
    std::lock_guard lock(mutex_);
    sent_.push_back({std::string(statement.name), std::move(params)});
    auto it = script_.find(statement.name);
    if (it == script_.end()) return storage::Result::Failure(absl::InternalError("unscripted"));
    reply = it->second;
  }
  if (reply.failure) return storage::Result::Failure(*reply.failure);
  if (reply.error) {
    const ErrorReport& e = *reply.error;
    return storage::Result::FromPgErrorFields({e.sqlstate, e.message, e.column, e.detail},
                                              e.constraint);
  }
  return MakeRows(reply.columns, reply.rows);
}

void FakeStore::Execute(const storage::Statement& statement, storage::Params params, absl::Time,
                        storage::QueryCallback done) {
  std::move(done)(Answer(statement, std::move(params)));
}

void FakeStore::ExecuteFirst(const storage::Statement& statement, storage::Params params,
                             absl::Time, storage::QueryCallback done) {
  std::move(done)(Answer(statement, std::move(params)));
}

void FakeStore::ExecuteDeferred(const storage::Statement& statement, ParamsAtSend params_at_send,
                                absl::Time, storage::QueryCallback done) {
  storage::Params params = std::move(params_at_send)();
  std::move(done)(Answer(statement, std::move(params)));
}

}  // namespace usersvc::test
