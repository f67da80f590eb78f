#pragma once

#include <condition_variable>
#include <deque>
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

/// Looks host names up on a thread of its own, one at a time, so that the database pool's event
/// loop never waits for DNS (libpq would resolve inside PQconnectPoll). The thread starts with
/// the first lookup; a pool whose hosts are all addresses or sockets never has one.
class HostResolver {
 public:
  using Lookup = std::function<absl::StatusOr<std::vector<std::string>>(const std::string& host,
                                                                      const std::string& port)>;
  /// Runs on the resolver thread; it must not block.
  using Done = absl::AnyInvocable<void(absl::StatusOr<std::vector<std::string>>) &&>;

  /// `lookup` is ResolveHost but for tests, which give a slow one.
  explicit HostResolver(std::string thread_name, Lookup lookup = ResolveHost);
  /// Waits for the lookup under way, if any (as long as the system resolver's own timeout), and
  /// drops the queued ones without calling them.
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  void Resolve(std::string host, std::string port, Done done);

 private:
  struct Request {
    std::string host;
    std::string port;
    Done done;
  };
  void Run();

  const std::string thread_name_;
  const Lookup lookup_;
  std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  std::thread thread_;  // started by the first Resolve
};

}  // namespace usersvc::storage
