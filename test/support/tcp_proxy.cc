#include "test/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include <catch2/catch.hpp>

namespace usersvc::test {
namespace {

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/// One client connection and its upstream (-1 while held in silence).
struct Pair {
  int client;
  int server;
  bool saw_silence;
};

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(listener_, 64) == 0);
  socklen_t length = sizeof address;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  REQUIRE(pipe(stop_pipe_) == 0);
  thread_ = std::thread([this] { Run(); });
}

TcpProxy::~TcpProxy() {
  (void)!write(stop_pipe_[1], "x", 1);
  thread_.join();
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
  close(listener_);
}

void TcpProxy::Run() {
  std::vector<Pair> pairs;
  auto close_pair = [](Pair& pair) {
    close(pair.client);
    if (pair.server >= 0) close(pair.server);
    pair.client = -1;
  };
  char buffer[64 * 1024];
  while (true) {
    // Polled every 20 ms as well, so that a change of mode takes effect without traffic.
    std::vector<pollfd> fds = {{stop_pipe_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
    for (const Pair& pair : pairs) {
      fds.push_back({pair.client, POLLIN, 0});
      fds.push_back({pair.server, static_cast<short>(pair.server >= 0 ? POLLIN : 0), 0});
    }
    poll(fds.data(), fds.size(), 20);
    if (fds[0].revents != 0) break;
    const bool silent = silent_;
    const size_t polled = pairs.size();  // a pair accepted below is polled from the next turn
    if (fds[1].revents & POLLIN) {
      const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int server = silent ? -1 : ConnectTo(target_port_);
        if (!silent && server < 0) {
          close(client);
        } else {
          pairs.push_back({client, server, silent});
        }
      }
    }
    for (size_t i = 0; i < polled; ++i) {
      Pair& pair = pairs[i];
      if (pair.client < 0) continue;
      pair.saw_silence = pair.saw_silence || silent;
      if (!silent && pair.saw_silence) {  // its byte streams have holes: end it
        close_pair(pair);
        continue;
      }
      const short client_events = fds[2 + 2 * i].revents;
      const short server_events = fds[3 + 2 * i].revents;
      if (client_events & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = read(pair.client, buffer, sizeof buffer);
        if (n <= 0) {
          close_pair(pair);
          continue;
        }
        if (!silent && pair.server >= 0) (void)!send(pair.server, buffer, n, MSG_NOSIGNAL);
      }
      if (pair.server >= 0 && (server_events & (POLLIN | POLLHUP | POLLERR))) {
        const ssize_t n = read(pair.server, buffer, sizeof buffer);
        if (n <= 0) {
          close_pair(pair);
          continue;
        }
        if (!silent && !drop_answers_) (void)!send(pair.client, buffer, n, MSG_NOSIGNAL);
      }
    }
    std::erase_if(pairs, [](const Pair& pair) { return pair.client < 0; });
  }
  for (Pair& pair : pairs) close_pair(pair);
}

}  // namespace usersvc::test
