#include "storage/conninfo.h"

#include <map>
#include <memory>

#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>
#include <fmt/format.h>
#include <libpq-fe.h>

#include "storage/host_resolver.h"

namespace usersvc::storage {
namespace {

using Options = std::map<std::string, std::string>;

/// The options that `conninfo` sets (a URL or key=value), or an error.
absl::StatusOr<Options> Parse(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> parsed(
      PQconninfoParse(conninfo.c_str(), &error), PQconninfoFree);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? error : "cannot parse the database URL";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::InvalidArgumentError(message);
  }
  Options options;
  for (const PQconninfoOption* option = parsed.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr && *option->val != '\0') options[option->keyword] = option->val;
  }
  return options;
}

/// `value` quoted for a key=value conninfo.
std::string Quote(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

/// A comma-separated list with `count` entries: one value applies to all, as libpq reads it.
absl::StatusOr<std::vector<std::string>> Spread(const std::string& key, const Options& options,
                                                size_t count) {
  auto found = options.find(key);
  if (found == options.end()) return std::vector<std::string>(count);
  std::vector<std::string> values = absl::StrSplit(found->second, ',');
  if (values.size() == 1) return std::vector<std::string>(count, values.front());
  if (values.size() != count) {
    return absl::InvalidArgumentError(fmt::format(
        "the database URL names {} hosts but {} values of {}", count, values.size(), key));
  }
  return values;
}

}  // namespace

absl::StatusOr<std::vector<ConnectTarget>> ConnectTargets(const std::string& conninfo,
                                                          const TcpLiveness& liveness) {
  absl::StatusOr<Options> options = Parse(conninfo);
  if (!options.ok()) return options.status();
  // Hosts come from host, else from hostaddr; with neither, libpq's default (a local socket).
  const auto host_list = options->find("host");
  const auto addr_list = options->find("hostaddr");
  size_t count = 1;
  if (host_list != options->end()) {
    count = static_cast<std::vector<std::string>>(absl::StrSplit(host_list->second, ',')).size();
  } else if (addr_list != options->end()) {
    count = static_cast<std::vector<std::string>>(absl::StrSplit(addr_list->second, ',')).size();
  }
  absl::StatusOr<std::vector<std::string>> hosts = Spread("host", *options, count);
  absl::StatusOr<std::vector<std::string>> addrs = Spread("hostaddr", *options, count);
  absl::StatusOr<std::vector<std::string>> ports = Spread("port", *options, count);
  for (const auto* list : {&hosts, &addrs, &ports}) {
    if (!list->ok()) return list->status();
  }

  std::string shared;
  for (const auto& [key, value] : *options) {
    if (key == "host" || key == "hostaddr" || key == "port") continue;
    shared += fmt::format("{}={} ", key, Quote(value));
  }
  std::vector<ConnectTarget> targets;
  for (size_t i = 0; i < count; ++i) {
    const std::string& host = (*hosts)[i];
    const std::string& addr = (*addrs)[i];
    const std::string& port = (*ports)[i];
    ConnectTarget target;
    target.conninfo = shared;
    if (!host.empty()) target.conninfo += fmt::format("host={} ", Quote(host));
    if (!addr.empty()) target.conninfo += fmt::format("hostaddr={} ", Quote(addr));
    if (!port.empty()) target.conninfo += fmt::format("port={} ", Quote(port));
    // A host that is an absolute path (or none at all: libpq's default) is a unix socket.
    target.tcp = !addr.empty() || (!host.empty() && host.front() != '/' && host.front() != '@');
    if (!port.empty()) target.port = port;
    target.where = fmt::format("{}:{}", host.empty() ? addr : host, target.port);
    if (target.tcp && addr.empty() && !IsNumericAddress(host)) target.resolve_host = host;
    if (target.tcp) {
      auto add_default = [&](const char* key, std::string value) {
        if (options->count(key) == 0) target.conninfo += fmt::format("{}={} ", key, value);
      };
      add_default("keepalives", "1");
      add_default("keepalives_idle", std::to_string(liveness.keepalives_idle_s));
      add_default("keepalives_interval", std::to_string(liveness.keepalives_interval_s));
      add_default("keepalives_count", std::to_string(liveness.keepalives_count));
      add_default("tcp_user_timeout",
                  std::to_string(absl::ToInt64Milliseconds(liveness.user_timeout)));
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

absl::Duration ConnectTimeoutOf(const std::string& conninfo, absl::Duration fallback) {
  absl::StatusOr<Options> options = Parse(conninfo);
  if (!options.ok()) return fallback;
  auto found = options->find("connect_timeout");
  int seconds = 0;
  if (found == options->end() || !absl::SimpleAtoi(found->second, &seconds) || seconds <= 0) {
    return fallback;
  }
  // libpq reads values under 2 as 2.
  return absl::Seconds(std::max(seconds, 2));
}

}  // namespace usersvc::storage
