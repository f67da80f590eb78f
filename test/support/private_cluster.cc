#include "test/support/private_cluster.h"

#include <sys/stat.h>

#include <cstdlib>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace usersvc::test {
namespace {

void PgCluster(const std::string& command, const std::string& dir) {
  const std::string line =
      fmt::format("PG_CLUSTER_FAST=1 {}/deploy/local/pg-cluster {} {} >/dev/null",
                  USERSVC_SOURCE_DIR, command, dir);
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

std::string PrivateCluster::url() const {
  return fmt::format("postgresql://usersvc@/usersvc?host={}/pg/socket", dir_);
}

void PrivateCluster::Start() { PgCluster("start", dir_ + "/pg"); }

void PrivateCluster::StartAsReplicaOf(const PrivateCluster& primary) {
  PgCluster("replica", dir_ + "/pg " + primary.dir_ + "/pg");
}

void PrivateCluster::Stop() { PgCluster("stop", dir_ + "/pg"); }

}  // namespace usersvc::test
