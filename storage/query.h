#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "storage/params.h"
#include "storage/result.h"
#include "storage/row_reader.h"
#include "storage/statement.h"

namespace usersvc::storage {

/// What a statement does: kScans is a read that may go through many rows to answer (see
/// Statement::scans).
enum class Access { kReads, kScans, kChanges };

/// Adds a statement to those every pool connection prepares (Query's constructor calls it).
void RegisterStatement(const Statement& statement);

/// A named statement with the types it takes and returns: `P` lists its parameters (see
/// storage/params.h), `R` reads one of its rows (storage/rows.h). Every Query registers itself
/// when it is constructed, so the pool prepares exactly the statements that exist; define them
/// only as namespace-scope constants of storage/queries/.
template <typename P, typename R>
class Query {
 public:
  using Params = P;
  using Row = R;

  Query(std::string_view name, std::string_view sql, Access access)
      : statement_{
            name,       sql, access != Access::kChanges, access == Access::kScans, ParamCount<P>(),
            R::kColumns} {
    storage::RegisterStatement(statement_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  const Statement& statement() const { return statement_; }

 private:
  Statement statement_;
};

/// Every statement a Query declared, in the order they were constructed (PoolOptions::statements).
std::vector<Statement> RegisteredStatements();

/// A query's outcome with its rows typed: converts from the Result the pool hands back, so a
/// continuation that takes Rows<R> is a QueryCallback.
template <typename R>
class Rows {
 public:
  Rows(Result result) : result_(std::move(result)) {}  // NOLINT: implicit by design

  bool ok() const { return result_.ok(); }
  const absl::Status& status() const { return result_.status(); }
  SqlError error() const { return result_.error(); }
  /// Constraint (or unique index) named by a constraint violation; empty otherwise.
  const std::string& constraint() const { return result_.constraint(); }

  int size() const { return result_.size(); }
  bool empty() const { return result_.empty(); }
  /// Rows touched by a statement without RETURNING.
  int64_t affected() const { return result_.affected(); }

  /// Row `row` (0 <= row < size()); its text fields are views into this.
  R operator[](int row) const {
    RowReader columns(result_, row);
    return R::Read(columns);
  }

 private:
  Result result_;
};

}  // namespace usersvc::storage
