#include "test/support/nginx_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "test/support/server_process.h"

namespace usersvc::test {

NginxGrpcProxy::NginxGrpcProxy(int upstream_port) {
  char pattern[] = "/tmp/usersvc-nginx-XXXXXX";
  REQUIRE(mkdtemp(pattern) != nullptr);
  dir_ = pattern;
  port_ = FreePort();
  // One process (no master, no daemon) as the current user, so it needs no privileges and stops
  // with one signal. Timeouts are long: the caller's grpc-timeout header, which nginx forwards,
  // is what bounds a call.
  std::ofstream(dir_ + "/nginx.conf") << fmt::format(R"(
daemon off;
master_process off;
pid {0}/nginx.pid;
error_log {0}/error.log info;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {0}/client_body;
  proxy_temp_path {0}/proxy;
  fastcgi_temp_path {0}/fastcgi;
  uwsgi_temp_path {0}/uwsgi;
  scgi_temp_path {0}/scgi;
  upstream usersvc {{
    server 127.0.0.1:{2};
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{1} http2;
    location / {{
      grpc_pass grpc://usersvc;
      grpc_read_timeout 60s;
      grpc_send_timeout 60s;
    }}
  }}
}}
)",
                                                     dir_, port_, upstream_port);
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    execl("/usr/sbin/nginx", "nginx", "-p", dir_.c_str(), "-c", (dir_ + "/nginx.conf").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Listening: a TCP connect succeeds.
  for (int i = 0; i < 500; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port_));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
    close(fd);
    if (up) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("nginx exited at start: " << ErrorLog());
    }
    usleep(10'000);
  }
  FAIL("nginx did not listen: " << ErrorLog());
}

NginxGrpcProxy::~NginxGrpcProxy() {
  if (pid_ > 0) {
    kill(pid_, SIGQUIT);  // graceful
    waitpid(pid_, nullptr, 0);
  }
  std::filesystem::remove_all(dir_);
}

std::string NginxGrpcProxy::ErrorLog() const {
  std::ifstream in(dir_ + "/error.log");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace usersvc::test
