#include "server/metrics.h"

#include <exception>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "callbacks/domain/crypto.h"

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

/// Reads the pools' counts when Prometheus scrapes, so no pool thread does extra work.
class Metrics::PoolCollector : public prometheus::Collectable {
 public:
  void Add(const std::string& role, const storage::Pool& pool) {
    std::lock_guard lock(mutex_);
    pools_.emplace_back(role, &pool);
  }
  void SetUserCache(const callbacks::UserCache& cache) {
    std::lock_guard lock(mutex_);
    user_cache_ = &cache;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    struct Gauge {
      const char* name;
      const char* help;
      double (*read)(const storage::Pool&);
    };
    static constexpr Gauge kGauges[] = {
        {"usersvc_db_connections", "Pool connections configured",
         [](const storage::Pool& p) { return double(p.connections()); }},
        {"usersvc_db_connections_open", "Pool connections open and ready",
         [](const storage::Pool& p) { return double(p.ready_connections()); }},
        {"usersvc_db_connections_busy", "Pool connections with queries in flight",
         [](const storage::Pool& p) { return double(p.busy_connections()); }},
        {"usersvc_db_queries_queued", "Queries waiting for a pool connection",
         [](const storage::Pool& p) { return double(p.queued()); }},
    };
    std::vector<prometheus::MetricFamily> families;
    // Not a pool's, but read the same way, at each scrape.
    prometheus::ClientMetric runs;
    runs.counter.value = static_cast<double>(callbacks::Argon2idRuns());
    families.push_back({"usersvc_argon2id_runs_total",
                        "argon2id hashes and verifications computed (the CPU pool's work)",
                        prometheus::MetricType::Counter,
                        {runs}});
    std::lock_guard lock(mutex_);
    if (user_cache_ != nullptr) AddUserCache(user_cache_->stats(), families);
    for (const Gauge& gauge : kGauges) {
      prometheus::MetricFamily family{gauge.name, gauge.help, prometheus::MetricType::Gauge, {}};
      for (const auto& [role, pool] : pools_) {
        prometheus::ClientMetric metric = GaugeValue(gauge.read(*pool));
        metric.label.push_back({"pool", role});
        family.metric.push_back(std::move(metric));
      }
      families.push_back(std::move(family));
    }
    return families;
  }

 private:
  static void AddUserCache(const callbacks::UserCache::Stats& stats,
                           std::vector<prometheus::MetricFamily>& families) {
    auto add = [&families](const char* name, const char* help, prometheus::MetricType type,
                           double value) {
      prometheus::ClientMetric metric;
      if (type == prometheus::MetricType::Counter) {
        metric.counter.value = value;
      } else {
        metric.gauge.value = value;
      }
      families.push_back({name, help, type, {metric}});
    };
    add("usersvc_user_cache_hits_total", "GetUser and GetUserByEmail lookups the cache answered",
        prometheus::MetricType::Counter, static_cast<double>(stats.hits));
    add("usersvc_user_cache_misses_total", "Lookups the cache could not answer (it was asked)",
        prometheus::MetricType::Counter, static_cast<double>(stats.misses));
    add("usersvc_user_cache_evictions_total", "Users the cache dropped to stay within its bytes",
        prometheus::MetricType::Counter, static_cast<double>(stats.evictions));
    add("usersvc_user_cache_bytes", "What the cached users take, as the budget counts it",
        prometheus::MetricType::Gauge, static_cast<double>(stats.bytes));
    add("usersvc_user_cache_users", "Users in the cache", prometheus::MetricType::Gauge,
        static_cast<double>(stats.users));
  }

  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, const storage::Pool*>> pools_;  // guarded by mutex_
  const callbacks::UserCache* user_cache_ = nullptr;                 // guarded by mutex_
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
                              .Register(*registry_)),
      query_seconds_(prometheus::BuildHistogram()
                         .Name("usersvc_db_query_seconds")
                         .Help("Time from sending a query to its result.")
                         .Register(*registry_)),
      pool_collector_(std::make_shared<PoolCollector>()) {}

Metrics::~Metrics() { StopServing(); }

absl::Status Metrics::Serve(const std::string& listen) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
  } catch (const std::exception& error) {
    return absl::UnavailableError("--metrics_listen: cannot listen on " + listen);
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(pool_collector_);
  return absl::OkStatus();
}

void Metrics::InstrumentPool(const std::string& role, storage::PoolOptions& options) {
  prometheus::Histogram* queue_wait = &queue_wait_seconds_.Add({{"pool", role}}, kSecondsBuckets);
  prometheus::Histogram* query = &query_seconds_.Add({{"pool", role}}, kSecondsBuckets);
  options.on_queue_wait = [queue_wait](absl::Duration wait) {
    queue_wait->Observe(absl::ToDoubleSeconds(wait));
  };
  options.on_query_done = [query](absl::Duration took) {
    query->Observe(absl::ToDoubleSeconds(took));
  };
}

void Metrics::WatchPool(const std::string& role, const storage::Pool& pool) {
  pool_collector_->Add(role, pool);
}

void Metrics::WatchUserCache(const callbacks::UserCache& cache) {
  pool_collector_->SetUserCache(cache);
}

void Metrics::StopServing() { exposer_.reset(); }

const Metrics::Method& Metrics::ForMethod(std::string_view service, std::string_view method,
                                          std::string_view type) {
  std::lock_guard lock(methods_mutex_);
  std::string key = std::string(service) + "/" + std::string(method);
  auto& slot = methods_[key];
  if (slot == nullptr) {
    const prometheus::Labels labels = {{"grpc_service", std::string(service)},
                                       {"grpc_method", std::string(method)},
                                       {"grpc_type", std::string(type)}};
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

}  // namespace usersvc::server
