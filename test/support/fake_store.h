#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/result.h"
#include "storage/store.h"

namespace usersvc::test {

/// One row of a scripted answer: text columns, nullopt for NULL.
using TextRow = std::vector<std::optional<std::string>>;

/// A result as libpq would hand it over, built with libpq's own constructors: `rows` of text
/// columns (`columns` of them, for a result with no rows).
storage::Result MakeRows(int columns, const std::vector<TextRow>& rows);

/// A Store that answers from a script instead of a database, for the handlers' unit tests: it
/// records every query a handler sends (statement name and parameters) and answers it at once,
/// on the sending thread, with the reply scripted for that statement. A query nothing was
/// scripted for fails the test's expectations by answering INTERNAL "unscripted". Thread-safe:
/// handlers send from the CPU pool too.
class FakeStore final : public storage::Store {
 public:
  struct Sent {
    std::string statement;
    storage::Params params;
  };
  /// A database error report, as PostgreSQL would send it.
  struct ErrorReport {
    std::string sqlstate;
    std::string message;
    std::string constraint;  // of a constraint violation
    std::string column;      // of a U0400 raised by usersvc_raise_field
    std::string detail;
  };
  /// What a scripted query answers: rows, a database error, or a failure before the database.
  struct Reply {
    std::vector<TextRow> rows;
    int columns = 0;  // for a reply without rows
    std::optional<ErrorReport> error;
    std::optional<absl::Status> failure;
  };
  static Reply Rows(std::vector<TextRow> rows, int columns = 0);
  static Reply Error(ErrorReport report);
  static Reply Failure(absl::Status status);

  /// Every later query of `statement` answers `reply`, until it is scripted again.
  void Script(std::string_view statement, Reply reply);

  std::vector<Sent> sent() const;
  /// The parameters of the last query of `statement`; fails the test when none was sent.
  storage::Params LastParams(std::string_view statement) const;

  void Execute(const storage::Statement& statement, storage::Params params, absl::Time deadline,
               storage::QueryCallback done) override;
  void ExecuteFirst(const storage::Statement& statement, storage::Params params,
                    absl::Time deadline, storage::QueryCallback done) override;
  void ExecuteDeferred(const storage::Statement& statement, ParamsAtSend params_at_send,
                       absl::Time deadline, storage::QueryCallback done) override;
  int connections() const override { return 1; }
  int ready_connections() const override { return 1; }

 private:
  storage::Result Answer(const storage::Statement& statement, storage::Params params);

  mutable std::mutex mutex_;
  std::map<std::string, Reply, std::less<>> script_;
  std::vector<Sent> sent_;
};

}  // namespace usersvc::test
