#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace usersvc::server {

/// What the container allows this process, read from its cgroup (v2, or v1's cpu and memory
/// controllers), so that defaults follow the pod's limits and not the node's: a pod with one CPU
/// on a 32-core node gets one core's worth of threads and connections.
struct ContainerLimits {
  int cores;                            // CPU quota rounded up, at most the CPUs we may run on
  std::optional<int64_t> memory_bytes;  // the memory limit, if one is set
};

/// Reads the limits of the cgroup named in `proc_self_cgroup` (the text of /proc/self/cgroup)
/// under `cgroup_root` (/sys/fs/cgroup), the tightest of it and its ancestors; `cpus` is the
/// number of CPUs the affinity mask allows.
ContainerLimits ReadContainerLimits(const std::string& cgroup_root,
                                    std::string_view proc_self_cgroup, int cpus);

/// The limits of this process.
ContainerLimits ThisContainerLimits();

}  // namespace usersvc::server
