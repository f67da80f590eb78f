#include "test/support/private_cluster.h"

#include <sys/stat.h>

#include <cstdlib>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "test/support/server_process.h"  // FreePort

namespace usersvc::test {
namespace {

void PgCluster(const std::string& command, const std::string& dir, int tcp_port = 0,
               const std::string& ssl_dir = "", const std::string& options = "") {
  std::string environment = "PG_CLUSTER_FAST=1";
  if (!options.empty()) environment += fmt::format(" PG_CLUSTER_OPTIONS=\"{}\"", options);
  if (tcp_port != 0) environment += fmt::format(" PG_CLUSTER_TCP_PORT={}", tcp_port);
  if (!ssl_dir.empty()) environment += fmt::format(" PG_CLUSTER_SSL_DIR={}", ssl_dir);
  const std::string line = fmt::format("{} {}/deploy/local/pg-cluster {} {} >/dev/null",
                                       environment, USERSVC_SOURCE_DIR, command, dir);
  INFO(line);
  REQUIRE(std::system(line.c_str()) == 0);
}

}  // namespace

PrivateCluster::PrivateCluster() {
  char pattern[] = "/tmp/usersvc-pg-XXXXXX";
  REQUIRE(mkdtemp(pattern) != nullptr);
  dir_ = pattern;
  chmod(dir_.c_str(), 0755);  // the cluster inside may belong to the postgres user
}

PrivateCluster::~PrivateCluster() {
  std::system(fmt::format("{}/deploy/local/pg-cluster stop {}/pg >/dev/null 2>&1; rm -rf {}",
                          USERSVC_SOURCE_DIR, dir_, dir_)
                  .c_str());
}

void PrivateCluster::ListenOnTcp(const std::string& ssl_dir) {
  tcp_port_ = FreePort();
  ssl_dir_ = ssl_dir;
}

std::string PrivateCluster::url() const {
  if (tcp_port_ != 0) {
    return fmt::format("postgresql://usersvc@/usersvc?host={}/pg/socket&port={}", dir_, tcp_port_);
  }
  return fmt::format("postgresql://usersvc@/usersvc?host={}/pg/socket", dir_);
}

void PrivateCluster::Start() { PgCluster("start", dir_ + "/pg", tcp_port_, ssl_dir_, options_); }

void PrivateCluster::StartAsReplicaOf(const PrivateCluster& primary) {
  PgCluster("replica", dir_ + "/pg " + primary.dir_ + "/pg", tcp_port_, ssl_dir_, options_);
}

void PrivateCluster::Stop() { PgCluster("stop", dir_ + "/pg"); }

void PrivateCluster::Kill() { PgCluster("kill", dir_ + "/pg"); }

void PrivateCluster::Promote() { PgCluster("promote", dir_ + "/pg"); }

}  // namespace usersvc::test
