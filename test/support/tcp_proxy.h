#pragma once

#include <atomic>
#include <thread>

namespace usersvc::test {

/// A loopback TCP proxy of the test's own between its clients and one port, which the test can
/// make go silent: bytes are read and dropped in both directions and every connection stays
/// open, as when a network path or a host vanishes without a reset. (The kernel on our side
/// still acknowledges, so only the application can notice: which is what the pool must do.)
class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  /// Drops everything from now on; connections accepted meanwhile are held, never forwarded.
  void GoSilent() { silent_ = true; }
  /// Forwards again. Connections that saw silence are closed (their byte streams have holes);
  /// new ones are forwarded normally.
  void Resume() { silent_ = false; }
  /// Drops only what the server sends back: requests arrive, their answers never do.
  void DropAnswers(bool drop) { drop_answers_ = drop; }

 private:
  void Run();

  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> silent_{false};
  std::atomic<bool> drop_answers_{false};
  std::thread thread_;
};

}  // namespace usersvc::test
