#include "server/container_limits.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>
#include <absl/strings/strip.h>

namespace usersvc::server {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream content;
  content << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(content.str()));
}

/// The cgroup and its ancestors, innermost first, as directories under `mount`.
std::vector<std::string> Lineage(const std::string& mount, const std::string& path) {
  std::vector<std::string> directories;
  std::string current(absl::StripSuffix(path, "/"));
  while (true) {
    directories.push_back(mount + current);
    if (current.empty()) break;
    const size_t slash = current.rfind('/');
    current.resize(slash == std::string::npos ? 0 : slash);
  }
  return directories;
}

/// CPUs a quota of `quota` per `period` microseconds allows, rounded up; nullopt when unlimited.
std::optional<int> CoresOfQuota(const std::string& quota, const std::string& period) {
  double quota_us = 0, period_us = 0;
  if (!absl::SimpleAtod(quota, &quota_us) || !absl::SimpleAtod(period, &period_us) ||
      quota_us <= 0 || period_us <= 0) {
    return std::nullopt;  // "max" or -1: no quota
  }
  return std::max(1, static_cast<int>(std::ceil(quota_us / period_us)));
}

}  // namespace

ContainerLimits ReadContainerLimits(const std::string& cgroup_root,
                                    std::string_view proc_self_cgroup, int cpus) {
  ContainerLimits limits{std::max(1, cpus), std::nullopt};
  auto tighten_memory = [&limits](const std::string& value) {
    int64_t bytes = 0;
    // v1 writes "no limit" as a huge number near 2^63; treat anything over 1 EiB as none.
    if (absl::SimpleAtoi(value, &bytes) && bytes > 0 && bytes < (int64_t{1} << 60)) {
      limits.memory_bytes = std::min(limits.memory_bytes.value_or(bytes), bytes);
    }
  };
  const absl::string_view text(proc_self_cgroup.data(), proc_self_cgroup.size());
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    // "hierarchy-ID:controllers:path"; v2's single hierarchy is "0::/path".
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    const std::string& controllers = fields[1];
    const std::string& path = fields[2];
    if (fields[0] == "0" && controllers.empty()) {
      for (const std::string& dir : Lineage(cgroup_root, path)) {
        std::vector<std::string> cpu_max = absl::StrSplit(ReadFile(dir + "/cpu.max"), ' ');
        if (cpu_max.size() == 2) {
          if (std::optional<int> cores = CoresOfQuota(cpu_max[0], cpu_max[1])) {
            limits.cores = std::min(limits.cores, *cores);
          }
        }
        tighten_memory(ReadFile(dir + "/memory.max"));
      }
      continue;
    }
    for (absl::string_view controller : absl::StrSplit(controllers, ',')) {
      if (controller == "cpu") {
        for (const char* mount : {"/cpu,cpuacct", "/cpu"}) {
          for (const std::string& dir : Lineage(cgroup_root + mount, path)) {
            if (std::optional<int> cores = CoresOfQuota(ReadFile(dir + "/cpu.cfs_quota_us"),
                                                        ReadFile(dir + "/cpu.cfs_period_us"))) {
              limits.cores = std::min(limits.cores, *cores);
            }
          }
        }
      } else if (controller == "memory") {
        for (const std::string& dir : Lineage(cgroup_root + "/memory", path)) {
          tighten_memory(ReadFile(dir + "/memory.limit_in_bytes"));
        }
      }
    }
  }
  return limits;
}

ContainerLimits ThisContainerLimits() {
  cpu_set_t allowed;
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) cpus = CPU_COUNT(&allowed);
  return ReadContainerLimits("/sys/fs/cgroup", ReadFile("/proc/self/cgroup"), cpus);
}

}  // namespace usersvc::server
