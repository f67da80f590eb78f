#pragma once

#include <string>

namespace usersvc::test {

/// A PostgreSQL cluster of one test's own, in a temporary directory, driven through
/// deploy/local/pg-cluster, so that the test can stop, restart or delay it. Removed on destruction.
class PrivateCluster {
 public:
  PrivateCluster();
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  /// Also listen on a free loopback TCP port, for tests of the TCP paths; `ssl_dir` (with
  /// server.crt and server.key) serves TLS there. Call before the first Start.
  void ListenOnTcp(const std::string& ssl_dir = "");
  int tcp_port() const { return tcp_port_; }

  /// The cluster's URL, valid before it first starts (its socket directory is fixed).
  std::string url() const;
  void Start();
  /// Creates this cluster as a streaming replica of `primary` (which must be running; one
  /// pg_basebackup) and starts it.
  void StartAsReplicaOf(const PrivateCluster& primary);
  /// A fast shutdown: open connections are terminated.
  void Stop();
  /// Stops it as a crash would (an immediate shutdown).
  void Kill();
  /// Makes this replica the primary.
  void Promote();
  /// Server options for its next start (e.g. "-c synchronous_standby_names='*'").
  void SetOptions(const std::string& options) { options_ = options; }

 private:
  std::string dir_;
  int tcp_port_ = 0;
  std::string options_;
  std::string ssl_dir_;
};

}  // namespace usersvc::test
