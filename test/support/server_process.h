#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "user/v1/user.grpc.pb.h"

namespace usersvc::test {

/// The real usersvc binary, started on a free loopback port against the test database, for
/// end-to-end tests. Its log goes to a file the test can read. Stopped with SIGTERM on
/// destruction.
class ServerProcess {
 public:
  struct Options {
    std::vector<std::string> args;
    std::string database_url;  // empty: the test database
    bool wait_until_serving = true;
    /// false: return at once, with no channel (for a process expected to exit).
    bool wait_until_listening = true;
    /// Of channel(); plaintext when unset.
    std::shared_ptr<grpc::ChannelCredentials> credentials;
  };

  ServerProcess() : ServerProcess(Options{}) {}
  explicit ServerProcess(Options options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::unique_ptr<user::v1::UserService::Stub> stub() const;
  pid_t pid() const { return pid_; }

  /// Threads of the process now, from /proc.
  int ThreadCount() const;
  /// Threads of the process now by name (/proc/PID/task/*/comm): how many have each name.
  std::map<std::string, int> ThreadsByName() const;
  /// The process's program, state and threads' kernel waits, for failure messages.
  std::string ProcessState() const;
  /// Sends `signal`.
  void Signal(int signal) const;
  /// Waits up to `seconds` for the process to exit; its exit code, or -1 (still running, or
  /// killed by a signal).
  int WaitForExit(int seconds);
  /// Everything the process has logged so far.
  std::string Log() const;
  /// True once the port accepts TCP connections (polled until `seconds` pass).
  bool WaitUntilListening(int seconds) const;
  /// True once grpc.health.v1 says SERVING (polled until `seconds` pass).
  bool WaitUntilServing(int seconds) const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  std::shared_ptr<grpc::Channel> channel_;
};

/// A free TCP port on 127.0.0.1 (bound and released, so another process may still race for it).
int FreePort();

/// How a run of the service's binary as a command ended.
struct CommandRun {
  int exit_code = -1;  // -1: killed by a signal
  std::string stdout_text;
  std::string stderr_text;
};
/// Runs the service's binary (the one ServerProcess starts) with `args`, to its end.
CommandRun RunServiceCommand(const std::vector<std::string>& args);

/// A client context with a deadline `seconds` from now.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(double seconds = 5);

}  // namespace usersvc::test
