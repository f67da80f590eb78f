#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <absl/functional/any_invocable.h>
#include <absl/status/statusor.h>

namespace usersvc::storage {

/// The numeric addresses of `host` for TCP to `port`, in the order the system's resolver gives
/// them (getaddrinfo: /etc/hosts, DNS, as nsswitch.conf says). Blocks: call it only off the
/// event loop.
absl::StatusOr<std::vector<std::string>> ResolveHost(const std::string& host,
                                                     const std::string& port);

/// Whether `host` is a numeric IPv4 or IPv6 address, which needs no lookup.
bool IsNumericAddress(const std::string& host);

/// Looks one host name up, on a thread of its own, so that the database pool's event loop never
/// waits for DNS (libpq would resolve inside PQconnectPoll). Lookups asked for while one is under
/// way share its answer: the connections to a name cost one lookup at a time, and a slow name
/// holds up only the connections to it. The thread starts with the first lookup.
class HostResolver {
 public:
  using Lookup = std::function<absl::StatusOr<std::vector<std::string>>(const std::string& host,
                                                                        const std::string& port)>;
  /// Runs on the resolver thread; it must not block.
  using Done = absl::AnyInvocable<void(absl::StatusOr<std::vector<std::string>>) &&>;

  /// `lookup` is ResolveHost but for tests, which give a slow one.
  HostResolver(std::string thread_name, std::string host, std::string port,
               Lookup lookup = ResolveHost);
  /// Waits for the lookup under way, if any (as long as the system resolver's own timeout), and
  /// drops the waiting callbacks without calling them.
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  void Resolve(Done done);

 private:
  void Run();

  const std::string thread_name_;
  const std::string host_;
  const std::string port_;
  const Lookup lookup_;
  std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  std::vector<Done> waiting_;  // answered by the next lookup to end
  bool stopping_ = false;
  std::thread thread_;  // started by the first Resolve
};

}  // namespace usersvc::storage
