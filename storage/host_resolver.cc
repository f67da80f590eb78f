#include "storage/host_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "storage/thread_name.h"

namespace usersvc::storage {

absl::StatusOr<std::vector<std::string>> ResolveHost(const std::string& host,
                                                     const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // and no AI_ADDRCONFIG, as libpq: localhost is ::1 too
  addrinfo* found = nullptr;
  const int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (error != 0) {
    return absl::UnavailableError(
        fmt::format("could not resolve host name \"{}\": {}", host, gai_strerror(error)));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, freeaddrinfo);
  std::vector<std::string> addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(entry->ai_addr, entry->ai_addrlen, text, sizeof text, nullptr, 0,
                    NI_NUMERICHOST) != 0) {
      continue;
    }
    // getaddrinfo repeats an address once per protocol on some systems.
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
      addresses.emplace_back(text);
    }
  }
  if (addresses.empty()) {
    return absl::UnavailableError(fmt::format("host name \"{}\" has no address", host));
  }
  return addresses;
}

bool IsNumericAddress(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

HostResolver::HostResolver(std::string thread_name, std::string host, std::string port,
                           Lookup lookup)
    : thread_name_(std::move(thread_name)),
      host_(std::move(host)),
      port_(std::move(port)),
      lookup_(std::move(lookup)) {}

HostResolver::~HostResolver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void HostResolver::Resolve(Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    waiting_.push_back(std::move(done));
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  }
  wake_.notify_one();
}

void HostResolver::Run() {
  NameThisThread(thread_name_);
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    lock.unlock();
    const absl::StatusOr<std::vector<std::string>> addresses = lookup_(host_, port_);
    lock.lock();
    if (stopping_) return;
    std::vector<Done> answered;
    answered.swap(waiting_);
    lock.unlock();
    for (Done& done : answered) std::move(done)(addresses);
    lock.lock();
  }
}

}  // namespace usersvc::storage
