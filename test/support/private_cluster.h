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

  /// The cluster's URL, valid before it first starts (its socket directory is fixed).
  std::string url() const;
  void Start();
  /// Creates this cluster as a streaming replica of `primary` (which must be running; one
  /// pg_basebackup) and starts it.
  void StartAsReplicaOf(const PrivateCluster& primary);
  /// A fast shutdown: open connections are terminated.
  void Stop();

 private:
  std::string dir_;
};

}  // namespace usersvc::test
