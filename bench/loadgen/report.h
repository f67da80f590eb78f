#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

namespace usersvc::bench {

/// What a load run observed, reported the way ghz reports it.
class Report {
 public:
  void Record(int64_t latency_ns, const grpc::Status& status);
  void SetTotal(int64_t total_ns) { total_ns_ = total_ns; }

  int64_t count() const { return static_cast<int64_t>(latencies_ns_.size()); }
  int64_t errors() const;

  /// ghz's text summary.
  std::string Summary();
  /// ghz's JSON report fields (durations in nanoseconds).
  std::string Json();

 private:
  void SortOnce();
  int64_t Percentile(double percentage);

  std::vector<int64_t> latencies_ns_;
  bool sorted_ = false;
  int64_t total_ns_ = 0;
  std::map<std::string, int64_t> status_codes_;
  std::map<std::string, int64_t> errors_;
};

/// gRPC status code names as ghz (grpc-go) prints them: "OK", "Unavailable", ...
std::string CodeName(grpc::StatusCode code);

}  // namespace usersvc::bench
