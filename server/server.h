#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <absl/status/status.h>
#include <absl/time/time.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "callbacks/services.h"
#include "server/call_tracker.h"
#include "server/metrics.h"
#include "server/tag.h"
#include "server/unary_call.h"
#include "user/v1/user.grpc.pb.h"

namespace usersvc::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  int cq_threads = 2;
  /// Call objects waiting per method per completion queue.
  int calls_per_method = 16;
  absl::Duration probe_interval = absl::Seconds(1);
  /// Where calls are counted; required.
  Metrics* metrics = nullptr;
  /// Plaintext unless set (see server/credentials.h).
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

/// The gRPC front: completion queues each polled by one thread, one generic call object per
/// in-flight RPC, grpc.health.v1 and reflection, and an orderly shutdown.
class Server {
 public:
  Server(ServerOptions options, callbacks::Services& services);
  ~Server();

  /// Binds, starts the completion-queue threads and the periodic database probe.
  absl::Status Start();
  /// The port actually bound (useful with port 0).
  int port() const { return port_; }
  /// Mirrors the service's health into grpc.health.v1 ("" and "user.v1.UserService").
  void SetServing(bool serving);
  /// Refuses new calls (UNAVAILABLE), lets calls in flight finish until `drain_deadline`, then
  /// cancels what is left, shuts the completion queues down and joins their threads. Call from a
  /// thread that is not a CQ thread.
  void Shutdown(absl::Time drain_deadline);
  int calls_in_flight() const { return tracker_.in_flight(); }

 private:
  void RegisterCalls(grpc::ServerCompletionQueue* cq);
  void PollLoop(grpc::ServerCompletionQueue* cq);
  void OnProbeAlarm(bool ok);

  const ServerOptions options_;
  callbacks::Services& services_;
  UserAsyncService service_;
  CallTracker tracker_;
  CallEnvironment env_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<std::thread> threads_;
  int port_ = 0;

  // The periodic probe re-arms itself on the first queue; the mutex keeps it from re-arming after
  // Shutdown cancelled it (an alarm set on a shut-down queue is a crash).
  std::mutex probe_mutex_;
  bool probing_ = false;  // guarded by probe_mutex_
  grpc::Alarm probe_alarm_;
  MemberTag<Server, &Server::OnProbeAlarm> probe_tag_{this};
};

}  // namespace usersvc::server
