#pragma once

#include <string_view>

namespace usersvc {

/// Names the calling thread for `top -H`, perf and /proc/PID/task/*/comm, so that the service's
/// own threads can be told from its libraries' (the thread test counts them by these names). The
/// kernel keeps 15 bytes; a longer name is cut.
void NameThisThread(std::string_view name);

}  // namespace usersvc
