// WatchUserEvents fan-out: opens --streams streams (each asking for user.created only), then runs
// CreateUser from --writers closed-loop callers for --seconds, and reports how many events went
// out per second to all streams together, how late each arrived (receipt minus the event's
// created_at, which PostgreSQL sets when the writing transaction starts: a little more than
// commit-to-stream), whether any stream missed one, and the server's memory and threads while
// the streams were open. Traffic stays on 127.0.0.1; the run stops by itself.
//
//   usersvc-watch-bench --target 127.0.0.1:50051 --server_pid PID --streams 1000 --seconds 10
//                       [--writers 4] [--rate 0]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "user/v1/user.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "usersvc's address (loopback only)");
ABSL_FLAG(int, server_pid, 0, "usersvc's pid, for its memory and threads (0: not reported)");
ABSL_FLAG(int, streams, 1000, "streams to open");
ABSL_FLAG(int, channels, 8, "HTTP/2 connections the streams are spread over");
ABSL_FLAG(int, writers, 4, "CreateUser callers, each with one call in flight");
ABSL_FLAG(int, seconds, 10, "how long CreateUser runs");
ABSL_FLAG(double, rate, 0,
          "CreateUser calls per second from all callers together (0: as fast as "
          "they are answered)");

namespace {

using Clock = std::chrono::system_clock;
using user::v1::UserEvent;

/// One stream: reads until cancelled, keeping each event's lateness in microseconds. Touched by
/// one completion at a time (one operation in flight), so it needs no lock.
struct Stream {
  enum class Step { kStart, kRead, kFinish };
  grpc::ClientContext context;
  user::v1::WatchUserEventsRequest request;
  std::unique_ptr<grpc::ClientAsyncReader<UserEvent>> reader;
  UserEvent event;
  grpc::Status status;
  Step step = Step::kStart;
  std::vector<int32_t> lateness_us;
  std::atomic<bool> done = false;
};

/// "VmRSS" in MiB and "Threads" of /proc/PID/status.
std::pair<long, long> RssAndThreads(int pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  long rss_kib = 0;
  long threads = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss_kib = std::stol(line.substr(6));
    if (line.rfind("Threads:", 0) == 0) threads = std::stol(line.substr(8));
  }
  return {rss_kib / 1024, threads};
}

void Poll(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
    auto* stream = static_cast<Stream*>(tag);
    switch (stream->step) {
      case Stream::Step::kStart:
      case Stream::Step::kRead:
        if (stream->step == Stream::Step::kRead && ok) {
          const auto created = std::chrono::seconds(stream->event.created_at().seconds()) +
                               std::chrono::nanoseconds(stream->event.created_at().nanos());
          const auto late = Clock::now().time_since_epoch() - created;
          stream->lateness_us.push_back(static_cast<int32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(late).count()));
        }
        if (!ok) {
          stream->step = Stream::Step::kFinish;
          stream->reader->Finish(&stream->status, stream);
          break;
        }
        stream->step = Stream::Step::kRead;
        stream->reader->Read(&stream->event, stream);
        break;
      case Stream::Step::kFinish:
        stream->done = true;
        break;
    }
  }
}

double Percentile(std::vector<int32_t>& values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.rfind("127.0.0.1:", 0) != 0) {
    fmt::print(stderr, "--target must be on 127.0.0.1\n");
    return 2;
  }
  const int pid = absl::GetFlag(FLAGS_server_pid);
  const auto [rss_before, threads_before] = pid > 0 ? RssAndThreads(pid) : std::pair{0L, 0L};

  std::vector<std::unique_ptr<user::v1::UserService::Stub>> stubs;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("usersvc.bench.channel", i);  // distinct arguments: a connection of its own
    stubs.push_back(user::v1::UserService::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
  }
  grpc::CompletionQueue cq;
  std::vector<std::thread> pollers;
  for (int i = 0; i < 2; ++i) pollers.emplace_back([&cq] { Poll(cq); });

  const int stream_count = absl::GetFlag(FLAGS_streams);
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < stream_count; ++i) {
    auto stream = std::make_unique<Stream>();
    stream->request.add_event_types("user.created");
    stream->reader = stubs[i % stubs.size()]->PrepareAsyncWatchUserEvents(&stream->context,
                                                                          stream->request, &cq);
    stream->reader->StartCall(stream.get());
    streams.push_back(std::move(stream));
  }
  // A stream stands at the outbox's end once its first read is back, which a client cannot see;
  // two seconds is far more than that takes for every stream here.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto [rss_open, threads_open] = pid > 0 ? RssAndThreads(pid) : std::pair{0L, 0L};

  std::atomic<bool> writing = true;
  std::atomic<int> created = 0;
  std::atomic<int> failed = 0;
  std::vector<std::thread> writers;
  const std::string run = fmt::format("{:x}", Clock::now().time_since_epoch().count());
  for (int w = 0; w < absl::GetFlag(FLAGS_writers); ++w) {
    writers.emplace_back([&, w] {
      auto& stub = *stubs[w % stubs.size()];
      const double rate = absl::GetFlag(FLAGS_rate);
      const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(rate > 0 ? absl::GetFlag(FLAGS_writers) / rate : 0));
      auto next = std::chrono::steady_clock::now();
      for (int n = 0; writing; ++n) {
        std::this_thread::sleep_until(next);
        next += interval;
        user::v1::CreateUserRequest request;
        const std::string name = fmt::format("watch_{}_{}_{}", run, w, n);
        request.set_email(name + "@bench.example");
        request.set_username(name);
        request.set_password("bench password " + name);
        user::v1::CreateUserResponse response;
        grpc::ClientContext context;
        context.set_deadline(Clock::now() + std::chrono::seconds(10));
        if (stub.CreateUser(&context, request, &response).ok()) {
          ++created;
        } else {
          ++failed;
        }
      }
    });
  }
  const auto started = std::chrono::steady_clock::now();
  long rss_peak = rss_open;
  while (std::chrono::steady_clock::now() - started <
         std::chrono::seconds(absl::GetFlag(FLAGS_seconds))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (pid > 0) rss_peak = std::max(rss_peak, RssAndThreads(pid).first);
  }
  writing = false;
  for (auto& writer : writers) writer.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the last events on their way

  for (auto& stream : streams) stream->context.TryCancel();
  for (auto& stream : streams) {
    while (!stream->done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  cq.Shutdown();
  for (auto& poller : pollers) poller.join();

  std::vector<int32_t> lateness;
  size_t short_streams = 0;
  size_t ended_early = 0;
  for (auto& stream : streams) {
    if (stream->lateness_us.size() < static_cast<size_t>(created.load())) ++short_streams;
    if (stream->status.error_code() != grpc::StatusCode::CANCELLED) ++ended_early;
    lateness.insert(lateness.end(), stream->lateness_us.begin(), stream->lateness_us.end());
  }
  fmt::print(
      "{} streams, CreateUser from {} callers for {:.1f} s: {} users created ({:.0f}/s, {} "
      "failed); {} events delivered ({:.0f}/s); lateness p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} "
      "ms; streams missing an event: {}, ended before the cancel: {}\n",
      stream_count, absl::GetFlag(FLAGS_writers), seconds, created.load(), created / seconds,
      failed.load(), lateness.size(), lateness.size() / seconds, Percentile(lateness, 0.5),
      Percentile(lateness, 0.99), Percentile(lateness, 1.0), short_streams, ended_early);
  if (pid > 0) {
    fmt::print(
        "  server: {} MiB RSS and {} threads before, {} MiB and {} threads with the "
        "streams open, {} MiB at the peak\n",
        rss_before, threads_before, rss_open, threads_open, rss_peak);
  }
  return short_streams == 0 && ended_early == 0 ? 0 : 1;
}
