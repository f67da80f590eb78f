#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <absl/status/status.h>
#include <absl/time/time.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "callbacks/domain/user_cache.h"
#include "storage/pool.h"

namespace usersvc::server {

/// Prometheus metrics, in the names dashboards for gRPC servers already know
/// (grpc_server_started_total, grpc_server_handled_total, grpc_server_handling_seconds, with
/// grpc_service / grpc_method / grpc_type / grpc_code labels as go-grpc-prometheus writes them),
/// plus the database pool's. Recording is lock-free on the call path: every series a call
/// touches is created when its method is first seen.
class Metrics {
 public:
  /// The series of one method. Codes are indexed by their numeric gRPC value.
  struct Method {
    prometheus::Counter* started;
    std::array<prometheus::Counter*, 17> handled;
    prometheus::Histogram* handling_seconds;

    void Finished(absl::StatusCode code, absl::Duration took) const;
  };

  Metrics();
  ~Metrics();

  /// Serves GET /metrics over HTTP on `listen` ("host:port"); an error if it cannot bind.
  absl::Status Serve(const std::string& listen);
  /// Records `options`' queue waits and query times under `pool="<role>"`, and reports the pool's
  /// connections and queue at every scrape once WatchPool names it. Call before creating the pool.
  void InstrumentPool(const std::string& role, storage::PoolOptions& options);
  /// The pool must outlive the exposer: call StopServing before it stops.
  void WatchPool(const std::string& role, const storage::Pool& pool);
  /// Its hits, misses, evictions, bytes and users, read at each scrape. It must outlive the
  /// exposer, as a pool must.
  void WatchUserCache(const callbacks::UserCache& cache);
  void StopServing();

  /// The series of `service`/`method`, created on first use. Thread-safe.
  /// `type` is go-grpc-prometheus's grpc_type: unary, server_stream, client_stream, bidi_stream.
  const Method& ForMethod(std::string_view service, std::string_view method, std::string_view type);

  prometheus::Registry& registry() { return *registry_; }

 private:
  class PoolCollector;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
  prometheus::Family<prometheus::Histogram>& queue_wait_seconds_;
  prometheus::Family<prometheus::Histogram>& query_seconds_;
  std::shared_ptr<PoolCollector> pool_collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;

  std::mutex methods_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Method>> methods_;  // guarded
};

}  // namespace usersvc::server
