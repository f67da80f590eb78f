#include "storage/thread_name.h"

#include <pthread.h>

#include <algorithm>

namespace usersvc {

void NameThisThread(std::string_view name) {
  char buffer[16] = {};
  const size_t length = std::min(name.size(), sizeof buffer - 1);
  name.copy(buffer, length);
  pthread_setname_np(pthread_self(), buffer);
}

}  // namespace usersvc
