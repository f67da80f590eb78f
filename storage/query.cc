#include "storage/query.h"

namespace usersvc::storage {
namespace {

// Filled during static initialisation, read once the server starts.
std::vector<Statement>& Registry() {
  static auto* registry = new std::vector<Statement>();  // never destroyed
  return *registry;
}

}  // namespace

void RegisterStatement(const Statement& statement) { Registry().push_back(statement); }

std::vector<Statement> RegisteredStatements() { return Registry(); }

}  // namespace usersvc::storage
