#include "server/metrics.h"

#include <exception>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace usersvc::server {
namespace {

// Latencies from 0.5 ms (a coalesced lookup) to 10 s (argon2id behind a long queue).
const prometheus::Histogram::BucketBoundaries kSecondsBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// The code names go-grpc-prometheus writes (Go's codes.Code.String()), by numeric value.
constexpr std::array<std::string_view, 17> kCodeNames = {
    "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated"};

prometheus::ClientMetric GaugeValue(double value) {
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  return metric;
}

}  // namespace

/// Reads the pool's counts when Prometheus scrapes, so the pool thread does no extra work.
class Metrics::PoolCollector : public prometheus::Collectable {
 public:
  explicit PoolCollector(const storage::Pool& pool) : pool_(pool) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    auto gauge = [](std::string name, std::string help, double value) {
      return prometheus::MetricFamily{
          std::move(name), std::move(help), prometheus::MetricType::Gauge, {GaugeValue(value)}};
    };
    return {gauge("usersvc_db_connections", "Pool connections configured", pool_.connections()),
            gauge("usersvc_db_connections_open", "Pool connections open and ready",
                  pool_.ready_connections()),
            gauge("usersvc_db_connections_busy", "Pool connections with queries in flight",
                  pool_.busy_connections()),
            gauge("usersvc_db_queries_queued", "Queries waiting for a pool connection",
                  static_cast<double>(pool_.queued()))};
  }

 private:
  const storage::Pool& pool_;
};

void Metrics::Method::Finished(absl::StatusCode code, absl::Duration took) const {
  const auto index = static_cast<size_t>(code);
  handled[index < handled.size() ? index : 2]->Increment();  // anything else is Unknown
  handling_seconds->Observe(absl::ToDoubleSeconds(took));
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(*registry_)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of success or "
                         "failure.")
                   .Register(*registry_)),
      handling_seconds_(prometheus::BuildHistogram()
                            .Name("grpc_server_handling_seconds")
                            .Help("Histogram of response latency (seconds) of gRPC that had been "
                                  "application-level handled by the server.")
                            .Register(*registry_)),
      queue_wait_seconds_(prometheus::BuildHistogram()
                              .Name("usersvc_db_queue_wait_seconds")
                              .Help("Time a query waited for a pool connection.")
                              .Register(*registry_)
                              .Add({}, kSecondsBuckets)),
      query_seconds_(prometheus::BuildHistogram()
                         .Name("usersvc_db_query_seconds")
                         .Help("Time from sending a query to its result.")
                         .Register(*registry_)
                         .Add({}, kSecondsBuckets)) {}

Metrics::~Metrics() { StopServing(); }

absl::Status Metrics::Serve(const std::string& listen) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
  } catch (const std::exception& error) {
    return absl::UnavailableError("--metrics_listen: cannot listen on " + listen);
  }
  exposer_->RegisterCollectable(registry_);
  if (pool_collector_) exposer_->RegisterCollectable(pool_collector_);
  return absl::OkStatus();
}

void Metrics::WatchPool(const storage::Pool& pool) {
  pool_collector_ = std::make_shared<PoolCollector>(pool);
  if (exposer_) exposer_->RegisterCollectable(pool_collector_);
}

void Metrics::StopServing() { exposer_.reset(); }

const Metrics::Method& Metrics::ForMethod(std::string_view service, std::string_view method) {
  std::lock_guard lock(methods_mutex_);
  std::string key = std::string(service) + "/" + std::string(method);
  auto& slot = methods_[key];
  if (slot == nullptr) {
    const prometheus::Labels labels = {{"grpc_service", std::string(service)},
                                       {"grpc_method", std::string(method)},
                                       {"grpc_type", "unary"}};
    slot = std::make_unique<Method>();
    slot->started = &started_.Add(labels);
    for (size_t code = 0; code < kCodeNames.size(); ++code) {
      prometheus::Labels with_code = labels;
      with_code["grpc_code"] = std::string(kCodeNames[code]);
      slot->handled[code] = &handled_.Add(with_code);
    }
    slot->handling_seconds = &handling_seconds_.Add(labels, kSecondsBuckets);
  }
  return *slot;
}

void Metrics::ObserveQueueWait(absl::Duration wait) {
  queue_wait_seconds_.Observe(absl::ToDoubleSeconds(wait));
}

void Metrics::ObserveQuery(absl::Duration took) {
  query_seconds_.Observe(absl::ToDoubleSeconds(took));
}

}  // namespace usersvc::server
