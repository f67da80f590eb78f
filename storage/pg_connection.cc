#include "storage/pg_connection.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/strip.h>
#include <openssl/ssl.h>

namespace usersvc::storage {

std::string DescribeConninfo(const std::string& conninfo) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return "(unparsable conninfo)";
  std::string described;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || *option->val == '\0') continue;
    if (std::string_view(option->keyword) == "password") continue;
    absl::StrAppend(&described, described.empty() ? "" : " ", option->keyword, "=", option->val);
  }
  PQconninfoFree(options);
  return described;
}

PgConnection::Progress PgConnection::Start(const std::string& conninfo,
                                           const char* application_name) {
  Close();
  // expand_dbname=1 lets "dbname" carry a full URL or key=value string; the keys after it
  // override what that string says.
  const char* keys[] = {"dbname", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), application_name, nullptr};
  conn_ = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) return Progress::kFailed;
  return Progress::kWantWrite;  // libpq's documented first step: wait until writable, then poll
}

PgConnection::Progress PgConnection::PollConnect() {
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_READING:
      return Progress::kWantRead;
    case PGRES_POLLING_WRITING:
      return Progress::kWantWrite;
    case PGRES_POLLING_OK:
      if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) {
        return Progress::kFailed;
      }
      return Progress::kReady;
    default:
      return Progress::kFailed;
  }
}

bool PgConnection::SendPrepare(const Statement& statement) {
  const std::string name(statement.name);
  const std::string sql(statement.sql);
  return PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) == 1 &&
         PQpipelineSync(conn_) == 1;
}

bool PgConnection::SendQuery(const Statement& statement, const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  const std::string name(statement.name);
  return PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                             nullptr, nullptr, /*resultFormat=*/0) == 1 &&
         PQpipelineSync(conn_) == 1;
}

int PgConnection::Flush() { return PQflush(conn_); }

bool PgConnection::HasBufferedInput() const {
  if (conn_ == nullptr || PQsslInUse(conn_) == 0) return false;
  auto* ssl = static_cast<SSL*>(PQsslStruct(conn_, "OpenSSL"));
  return ssl != nullptr && SSL_pending(ssl) > 0;
}

bool PgConnection::ConsumeInput() { return PQconsumeInput(conn_) == 1 && !IsBroken(); }

int PgConnection::TakeNotifications(absl::FunctionRef<void(std::string_view payload)> take) {
  int taken = 0;
  while (PGnotify* notify = PQnotifies(conn_)) {
    ++taken;
    take(notify->extra != nullptr ? std::string_view(notify->extra) : std::string_view());
    PQfreemem(notify);
  }
  return taken;
}

std::string PgConnection::ErrorMessage() const {
  if (conn_ == nullptr) return "no connection";
  return std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn_)));
}

void PgConnection::Close() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

}  // namespace usersvc::storage
