#pragma once

#include <sys/types.h>

#include <string>

namespace usersvc::test {

/// Debian's nginx as a real HTTP/2 gRPC proxy (`grpc_pass`) on a free loopback port, in front of
/// `upstream_port`: the nearest thing to Envoy this machine can run. Its configuration, temp
/// files and logs live in a directory of its own, removed with it.
class NginxGrpcProxy {
 public:
  explicit NginxGrpcProxy(int upstream_port);
  ~NginxGrpcProxy();
  NginxGrpcProxy(const NginxGrpcProxy&) = delete;
  NginxGrpcProxy& operator=(const NginxGrpcProxy&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// nginx's error log so far.
  std::string ErrorLog() const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace usersvc::test
