#include "test/support/server_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "test/support/test_database.h"

namespace usersvc::test {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(double seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  return context;
}

namespace {

std::string ReadWhole(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

/// The service's binary: USERSVC_SERVER_BINARY runs these tests against another build of it (the
/// tsan preset: this test binary from the asan build, the service built with ThreadSanitizer).
std::string ServiceBinary() {
  const char* binary = std::getenv("USERSVC_SERVER_BINARY");
  return binary != nullptr ? binary : USERSVC_BINARY;
}

}  // namespace

CommandRun RunServiceCommand(const std::vector<std::string>& args) {
  const std::string out_path = fmt::format("/tmp/usersvc-command-{}.out", UniqueSuffix());
  const std::string err_path = out_path + ".err";
  std::vector<std::string> owned = {ServiceBinary()};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CommandRun run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadWhole(out_path),
                 ReadWhole(err_path)};
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return run;
}

ServerProcess::ServerProcess(Options options) {
  port_ = FreePort();
  log_path_ = fmt::format("/tmp/usersvc-test-{}.log", UniqueSuffix());
  const std::string database_url =
      options.database_url.empty() ? TestDatabaseUrl() : options.database_url;
  std::vector<std::string> args = {ServiceBinary(), "--listen=" + address(),
                                   "--database_url=" + database_url, "--drain_seconds=5"};
  args.insert(args.end(), options.args.begin(), options.args.end());

  // posix_spawn, not fork: this test process runs gRPC's threads, and a forked child that
  // allocates (fopen) before exec can hang for ever on a lock one of them held at the fork.
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  // A channel whose first connection is refused backs off for seconds, so connect only once the
  // server listens; "ipv4:" skips name resolution.
  if (!options.wait_until_listening) return;
  if (!WaitUntilListening(30)) {
    INFO(Log());
    FAIL("the server did not listen within 30 s: " << ProcessState());
  }
  channel_ = grpc::CreateChannel("ipv4:" + address(), options.credentials
                                                          ? options.credentials
                                                          : grpc::InsecureChannelCredentials());
  if (options.wait_until_serving && !WaitUntilServing(30)) {
    INFO(Log());
    FAIL("the server was not SERVING within 30 s: " << ProcessState());
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    Signal(SIGTERM);
    const int exit_code = WaitForExit(15);
    if (exit_code == -1 && pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    // Every test also checks a clean shutdown: exit 0, which under the asan preset means no
    // sanitizer or leak report either.
    if (std::uncaught_exceptions() == 0) {
      INFO(Log());
      CHECK(exit_code == 0);
    }
  }
  if (std::getenv("USERSVC_TEST_KEEP_LOGS") == nullptr) unlink(log_path_.c_str());
}

std::unique_ptr<user::v1::UserService::Stub> ServerProcess::stub() const {
  return user::v1::UserService::NewStub(channel_);
}

bool ServerProcess::WaitUntilListening(int seconds) const {
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  target.sin_port = htons(static_cast<uint16_t>(port_));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < give_up) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0;
    close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool ServerProcess::WaitUntilServing(int seconds) const {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < give_up) {
    auto context = ContextWithDeadline(1);
    // The service's own name: gRPC's default health service answers SERVING for "" from the
    // moment the port opens until the server first sets it (see server/server.cc).
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("user.v1.UserService");
    grpc::health::v1::HealthCheckResponse response;
    if (health->Check(context.get(), request, &response).ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string ServerProcess::ProcessState() const {
  // What a stalled start looks like from outside: which program runs (exec may not have
  // happened), its state, and where each thread waits in the kernel.
  const std::string proc = fmt::format("/proc/{}", pid_);
  std::string state = fmt::format("pid {}", pid_);
  char exe[4096] = {};
  if (readlink((proc + "/exe").c_str(), exe, sizeof exe - 1) > 0)
    state += fmt::format(", exe {}", exe);
  std::error_code gone;  // the process may have exited
  for (const auto& task : std::filesystem::directory_iterator(proc + "/task", gone)) {
    auto read = [&](const char* file) {
      std::ifstream in(task.path() / file);
      std::string text;
      std::getline(in, text);
      return text;
    };
    state +=
        fmt::format("; {} [{}] wchan {}", read("comm"), read("stat").substr(0, 40), read("wchan"));
  }
  return state;
}

std::map<std::string, int> ServerProcess::ThreadsByName() const {
  std::map<std::string, int> threads;
  std::error_code gone;
  for (const auto& task :
       std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid_), gone)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) ++threads[name];
  }
  return threads;
}

int ServerProcess::ThreadCount() const {
  std::ifstream status(fmt::format("/proc/{}/status", pid_));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

void ServerProcess::Signal(int signal) const { kill(pid_, signal); }

int ServerProcess::WaitForExit(int seconds) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < give_up) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string ServerProcess::Log() const { return ReadWhole(log_path_); }

}  // namespace usersvc::test
