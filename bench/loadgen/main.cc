// usersvc-loadgen: a ghz-shaped load generator for machines without ghz. One thread drives every
// call: through one gRPC completion queue (--engine=grpc, the default: a real gRPC client), or
// over plain HTTP/2 with nghttp2 (--engine=h2: a fraction of the CPU per call, see h2_engine.h).
//
//   usersvc-loadgen --call GetUser --data-file bodies.json -c 64 --connections 4 -z 10s
//                   [-n N] [--rps R] [--engine h2] [-O json] 127.0.0.1:50051
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <absl/flags/usage.h>
#include <absl/strings/numbers.h>
#include <absl/time/clock.h>
#include <fmt/format.h>
#include <grpcpp/alarm.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "bench/loadgen/h2_engine.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/request_bodies.h"

ABSL_FLAG(std::string, call, "", "method: user.v1.UserService.GetUser, or just GetUser");
ABSL_FLAG(std::string, data_file, "", "request bodies: JSON object, array, or one per line");
ABSL_FLAG(std::string, data, "{}", "one JSON request body, when there is no --data-file");
ABSL_FLAG(int, c, 50, "requests in flight at once");
ABSL_FLAG(int, connections, 1, "TCP connections the requests spread over");
ABSL_FLAG(absl::Duration, z, absl::ZeroDuration(), "run this long (e.g. 10s)");
ABSL_FLAG(int64_t, n, 0, "run this many requests (default 200 when -z is not given)");
ABSL_FLAG(double, rps, 0, "at most this many requests per second (0: no limit)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(20), "deadline of each request");
ABSL_FLAG(std::string, O, "summary",
          "output: summary, json, or response (the last OK reply as JSON; --engine=grpc)");
ABSL_FLAG(std::string, m, "",
          "request metadata as a JSON object of strings, as ghz's -m, e.g. "
          "{\"authorization\":\"Bearer <token>\"}");
ABSL_FLAG(std::string, engine, "grpc",
          "grpc (a gRPC C++ client) or h2 (plain HTTP/2 through nghttp2; no --rps)");

namespace usersvc::bench {
namespace {

/// -m: metadata every request carries (checked in main, so it parses here).
std::vector<std::pair<std::string, std::string>> MetadataFlag() {
  std::vector<std::pair<std::string, std::string>> metadata;
  const std::string text = absl::GetFlag(FLAGS_m);
  if (text.empty()) return metadata;
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return metadata;
  for (const auto& [key, value] : object.items()) {
    if (value.is_string()) metadata.emplace_back(key, value.get<std::string>());
  }
  return metadata;
}

class LoadRun {
 public:
  LoadRun(std::string target, Method method, std::vector<grpc::ByteBuffer> bodies)
      : method_(std::move(method)), bodies_(std::move(bodies)) {
    concurrency_ = std::max(1, absl::GetFlag(FLAGS_c));
    limit_ = absl::GetFlag(FLAGS_n);
    duration_ = absl::GetFlag(FLAGS_z);
    if (limit_ == 0 && duration_ == absl::ZeroDuration()) limit_ = 200;
    rps_ = absl::GetFlag(FLAGS_rps);
    timeout_ = absl::GetFlag(FLAGS_timeout);
    metadata_ = MetadataFlag();
    for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_connections)); ++i) {
      // A distinct argument keeps channels from sharing one subchannel (one TCP connection).
      grpc::ChannelArguments args;
      args.SetInt("usersvc.loadgen.connection", i);
      stubs_.push_back(std::make_unique<grpc::GenericStub>(
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
    }
  }

  Report Run() {
    started_ = absl::Now();
    std::vector<std::unique_ptr<Slot>> slots;
    for (int i = 0; i < concurrency_; ++i) {
      slots.push_back(std::make_unique<Slot>());
      slots.back()->stub = stubs_[i % stubs_.size()].get();
      Launch(*slots.back());
    }
    void* tag = nullptr;
    bool ok = false;
    while (pending_ > 0 && cq_.Next(&tag, &ok)) {
      Event* event = static_cast<Event*>(tag);
      Slot& slot = *event->slot;
      if (event->is_alarm) {
        Send(slot);
        continue;
      }
      --pending_;
      report_.Record(absl::ToInt64Nanoseconds(absl::Now() - slot.sent), slot.status);
      if (slot.status.ok()) last_reply_ = slot.reply;
      Launch(slot);
    }
    report_.SetTotal(absl::ToInt64Nanoseconds(absl::Now() - started_));
    cq_.Shutdown();
    while (cq_.Next(&tag, &ok)) {
    }
    return std::move(report_);
  }

  /// The last reply that came back OK (empty when none did).
  const grpc::ByteBuffer& last_reply() const { return last_reply_; }

 private:
  struct Slot;
  struct Event {
    Slot* slot;
    bool is_alarm;
  };
  struct Slot {
    grpc::GenericStub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
    grpc::ByteBuffer reply;
    grpc::Status status;
    grpc::Alarm alarm;
    absl::Time sent;
    int64_t index = 0;
    Event done{this, false};
    Event due{this, true};
  };

  // Starts the slot's next request now, or sets an alarm for when the rate limit allows it.
  void Launch(Slot& slot) {
    if (limit_ > 0 && issued_ >= limit_) return;
    if (duration_ > absl::ZeroDuration() && absl::Now() >= started_ + duration_) return;
    slot.index = issued_++;
    ++pending_;
    if (rps_ > 0) {
      const absl::Time due = started_ + absl::Seconds(slot.index / rps_);
      if (due > absl::Now()) {
        slot.alarm.Set(&cq_, absl::ToChronoTime(due), &slot.due);
        return;
      }
    }
    Send(slot);
  }

  void Send(Slot& slot) {
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    for (const auto& [key, value] : metadata_) slot.context->AddMetadata(key, value);
    slot.sent = absl::Now();
    slot.reader = slot.stub->PrepareUnaryCall(slot.context.get(), method_.path,
                                              bodies_[slot.index % bodies_.size()], &cq_);
    slot.reader->StartCall();
    slot.reader->Finish(&slot.reply, &slot.status, &slot.done);
  }

  Method method_;
  std::vector<grpc::ByteBuffer> bodies_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  grpc::CompletionQueue cq_;
  Report report_;
  grpc::ByteBuffer last_reply_;
  int concurrency_;
  int64_t limit_;
  absl::Duration duration_;
  double rps_;
  absl::Duration timeout_;
  absl::Time started_;
  int64_t issued_ = 0;
  int64_t pending_ = 0;
};

/// The flags as an H2Run against `target` ("HOST:PORT", an IPv4 address).
absl::StatusOr<H2Run> H2RunFor(const std::string& target, const Method& method,
                               const std::vector<grpc::ByteBuffer>& bodies) {
  H2Run run;
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(target.substr(colon + 1), &run.port)) {
    return absl::InvalidArgumentError("--engine=h2 needs HOST:PORT with an IPv4 address");
  }
  if (absl::GetFlag(FLAGS_rps) > 0) return absl::InvalidArgumentError("--engine=h2 has no --rps");
  run.host = target.substr(0, colon);
  run.path = method.path;
  for (const grpc::ByteBuffer& body : bodies) {
    std::vector<grpc::Slice> slices;
    (void)body.Dump(&slices);
    std::string bytes;
    for (const grpc::Slice& slice : slices) {
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    run.bodies.push_back(std::move(bytes));
  }
  run.concurrency = std::max(1, absl::GetFlag(FLAGS_c));
  run.connections = std::max(1, absl::GetFlag(FLAGS_connections));
  run.limit = absl::GetFlag(FLAGS_n);
  run.duration = absl::GetFlag(FLAGS_z);
  if (run.limit == 0 && run.duration == absl::ZeroDuration()) run.limit = 200;
  run.timeout = absl::GetFlag(FLAGS_timeout);
  run.metadata = MetadataFlag();
  return run;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace
}  // namespace usersvc::bench

int main(int argc, char** argv) {
  using namespace usersvc::bench;  // NOLINT
  absl::SetProgramUsageMessage("usersvc-loadgen [flags] HOST:PORT  (ghz-like load generator)");
  // ghz spells its flags with dashes (--data-file); abseil with underscores. Accept both.
  std::vector<std::string> normalised(argv, argv + argc);
  for (std::string& arg : normalised) {
    if (arg.rfind("--", 0) != 0) continue;
    for (size_t i = 2; i < arg.size() && arg[i] != '='; ++i) {
      if (arg[i] == '-') arg[i] = '_';
    }
  }
  std::vector<char*> args;
  for (std::string& arg : normalised) args.push_back(arg.data());
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() != 2) {
    fmt::print(stderr, "usage: usersvc-loadgen [flags] HOST:PORT (see --help)\n");
    return 2;
  }
  if (const std::string metadata = absl::GetFlag(FLAGS_m);
      !metadata.empty() && !nlohmann::json::parse(metadata, nullptr, false).is_object()) {
    fmt::print(stderr, "-m: not a JSON object of strings\n");
    return 2;
  }
  auto method = FindMethod(absl::GetFlag(FLAGS_call));
  if (!method.ok()) {
    fmt::print(stderr, "{}\n", std::string(method.status().message()));
    return 2;
  }
  const std::string data_file = absl::GetFlag(FLAGS_data_file);
  auto bodies = EncodeBodies(data_file.empty() ? absl::GetFlag(FLAGS_data) : ReadFile(data_file),
                             method->request_type);
  if (!bodies.ok()) {
    fmt::print(stderr, "{}\n", std::string(bodies.status().message()));
    return 2;
  }
  Report report;
  const std::string engine = absl::GetFlag(FLAGS_engine);
  if (engine == "h2") {
    auto run = H2RunFor(positional[1], *method, *bodies);
    if (!run.ok()) {
      fmt::print(stderr, "{}\n", std::string(run.status().message()));
      return 2;
    }
    report = RunH2(*run);
  } else if (engine == "grpc") {
    const std::string response_type = method->response_type;
    LoadRun run(positional[1], *std::move(method), *std::move(bodies));
    report = run.Run();
    if (absl::GetFlag(FLAGS_O) == "response") {
      auto json = DecodeToJson(run.last_reply(), response_type);
      if (!json.ok() || run.last_reply().Length() == 0) {
        fmt::print(stderr, "no OK reply to print\n{}", report.Summary());
        return 1;
      }
      fmt::print("{}\n", *json);
      return 0;
    }
  } else {
    fmt::print(stderr, "--engine: grpc or h2\n");
    return 2;
  }
  const std::string output = absl::GetFlag(FLAGS_O);
  fmt::print("{}\n", output == "json" ? report.Json() : report.Summary());
  return 0;
}
