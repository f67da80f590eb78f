#include "bench/loadgen/report.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "base/log.h"

namespace usersvc::bench {
namespace {

constexpr double kPercentages[] = {10, 25, 50, 75, 90, 95, 99};

std::string Ms(int64_t ns) { return fmt::format("{:.2f} ms", static_cast<double>(ns) / 1e6); }

}  // namespace

std::string CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : fmt::format("Code({})", index);
}

void Report::Record(int64_t latency_ns, const grpc::Status& status) {
  latencies_ns_.push_back(latency_ns);
  sorted_ = false;
  const std::string code = CodeName(status.error_code());
  ++status_codes_[code];
  if (!status.ok()) {
    ++errors_[fmt::format("rpc error: code = {} desc = {}", code, status.error_message())];
  }
}

int64_t Report::errors() const {
  int64_t total = 0;
  for (const auto& [message, count] : errors_) total += count;
  return total;
}

void Report::SortOnce() {
  if (!sorted_) std::sort(latencies_ns_.begin(), latencies_ns_.end());
  sorted_ = true;
}

int64_t Report::Percentile(double percentage) {
  SortOnce();
  if (latencies_ns_.empty()) return 0;
  const size_t index = static_cast<size_t>(percentage / 100.0 * (latencies_ns_.size() - 1) + 0.5);
  return latencies_ns_[std::min(index, latencies_ns_.size() - 1)];
}

std::string Report::Summary() {
  SortOnce();
  const int64_t n = count();
  const int64_t sum = std::accumulate(latencies_ns_.begin(), latencies_ns_.end(), int64_t{0});
  std::string out = "\nSummary:\n";
  out += fmt::format("  Count:\t{}\n", n);
  out += fmt::format("  Total:\t{}\n", Ms(total_ns_));
  out += fmt::format("  Slowest:\t{}\n", Ms(n ? latencies_ns_.back() : 0));
  out += fmt::format("  Fastest:\t{}\n", Ms(n ? latencies_ns_.front() : 0));
  out += fmt::format("  Average:\t{}\n", Ms(n ? sum / n : 0));
  out += fmt::format("  Requests/sec:\t{:.2f}\n", total_ns_ ? n * 1e9 / total_ns_ : 0.0);
  out += "\nLatency distribution:\n";
  for (double p : kPercentages) out += fmt::format("  {:g} % in {}\n", p, Ms(Percentile(p)));
  out += "\nStatus code distribution:\n";
  for (const auto& [code, count] : status_codes_) {
    out += fmt::format("  [{}]\t{} responses\n", code, count);
  }
  if (!errors_.empty()) {
    out += "\nError distribution:\n";
    for (const auto& [message, count] : errors_) out += fmt::format("  [{}]\t{}\n", count, message);
  }
  return out;
}

std::string Report::Json() {
  SortOnce();
  const int64_t n = count();
  const int64_t sum = std::accumulate(latencies_ns_.begin(), latencies_ns_.end(), int64_t{0});
  std::string distribution;
  for (double p : kPercentages) {
    if (!distribution.empty()) distribution += ",";
    distribution += fmt::format(R"({{"percentage":{:g},"latency":{}}})", p, Percentile(p));
  }
  auto json_map = [](const std::map<std::string, int64_t>& entries) {
    std::string body;
    for (const auto& [key, count] : entries) {
      if (!body.empty()) body += ",";
      body += fmt::format("{}:{}", JsonQuote(key), count);
    }
    return "{" + body + "}";
  };
  return fmt::format(
      R"({{"count":{},"total":{},"average":{},"fastest":{},"slowest":{},"rps":{:.2f},)"
      R"("latencyDistribution":[{}],"statusCodeDistribution":{},"errorDistribution":{}}})",
      n, total_ns_, n ? sum / n : 0, n ? latencies_ns_.front() : 0, n ? latencies_ns_.back() : 0,
      total_ns_ ? n * 1e9 / total_ns_ : 0.0, distribution, json_map(status_codes_),
      json_map(errors_));
}

}  // namespace usersvc::bench
