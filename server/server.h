#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <absl/functional/any_invocable.h>
#include <absl/status/status.h>
#include <absl/time/time.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "callbacks/handlers/services.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "server/call_common.h"
#include "server/call_tracker.h"
#include "server/metrics.h"
#include "server/tag.h"
#include "user/v1/user.grpc.pb.h"

namespace usersvc::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  int cq_threads = 2;
  /// Call objects waiting per UserService method per completion queue.
  int calls_per_method = 16;
  absl::Duration probe_interval = absl::Seconds(1);
  /// Where calls are counted; required.
  Metrics* metrics = nullptr;
  /// Plaintext unless set (see server/credentials.h).
  std::shared_ptr<grpc::ServerCredentials> credentials;
  /// Who may call what; required.
  AccessControl* access = nullptr;
  /// Whether server reflection (v1 and v1alpha) is served.
  bool reflection = true;
  /// What gRPC may allocate for connections and messages in flight; beyond it, reads from the
  /// network wait, so concurrent large requests cannot exhaust memory. 0: no bound.
  size_t memory_quota_bytes = 0;
  /// The error floor of the methods that take one (MethodEntry::pads_errors): VerifyPassword.
  absl::Duration sign_in_error_floor = absl::Milliseconds(300);
};

/// The gRPC front: completion queues each polled by one thread of ours, one call object per
/// in-flight RPC for every service it answers (user.v1.UserService, grpc.health.v1.Health and
/// server reflection, so no gRPC thread of its own polls), and an orderly shutdown.
class Server {
 public:
  Server(ServerOptions options, callbacks::Services& services);
  ~Server();

  /// Binds, starts the completion-queue threads and the periodic database probe.
  absl::Status Start();
  /// The port actually bound (useful with port 0).
  int port() const { return port_; }
  /// Refuses new calls (UNAVAILABLE), lets calls in flight finish until `drain_deadline`, then
  /// runs `stop_work`, which must stop everything that could still finish a call later (the CPU
  /// pool, the database pools: each answers what it holds), cancels what is left, waits until
  /// every call has been answered, shuts the completion queues down and joins their threads.
  /// Nothing can thus post to a queue that is shut down. Call from a thread that is not a CQ
  /// thread.
  void Shutdown(absl::Time drain_deadline, absl::AnyInvocable<void() &&> stop_work);
  int calls_in_flight() const { return tracker_.in_flight(); }

 private:
  using ArmFunction = void (*)(CallEnvironment&, const MethodInfo&, grpc::ServerCompletionQueue*);
  /// A line of the registration tables in server.cc: a method of a service by name, the call
  /// object that serves it, how many of those wait per queue (0: calls_per_method), whether it is
  /// answered during a drain and how soon it may answer (see MethodInfo).
  struct MethodEntry {
    std::string_view name;
    ArmFunction arm;
    int waiting = 0;
    bool answers_while_draining = false;
    absl::Duration answer_no_sooner_than = absl::ZeroDuration();
    /// Its errors wait for ServerOptions::sign_in_error_floor (see MethodInfo).
    bool pads_errors = false;
  };
  struct Registration {
    const MethodInfo* method;
    ArmFunction arm;
    int waiting;
  };

  /// Checks that `entries` serve every method of the service named `service_name` exactly once,
  /// and records them; an error names the method that is missing or unknown.
  /// Methods of a service with `kind` kNeedsScope take their scope from auth/method_scopes.h,
  /// which must name one for each.
  absl::Status Register(grpc::Service& service, std::string_view service_name,
                        std::span<const MethodEntry> entries, MethodAccess::Kind kind);
  void PollLoop(grpc::ServerCompletionQueue* cq);
  void OnProbeAlarm(bool ok);

  const ServerOptions options_;
  callbacks::Services& services_;
  user::v1::UserService::AsyncService users_;
  grpc::health::v1::Health::AsyncService health_;
  grpc::reflection::v1::ServerReflection::AsyncService reflection_;
  grpc::reflection::v1alpha::ServerReflection::AsyncService reflection_v1alpha_;
  std::vector<std::string> service_names_;
  std::deque<MethodInfo> methods_;  // stable addresses: every call object refers to its own
  std::vector<Registration> registrations_;
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
  int64_t probes_ = 0;    // only on the first queue's thread
  grpc::Alarm probe_alarm_;
  MemberTag<Server, &Server::OnProbeAlarm> probe_tag_{this};
};

}  // namespace usersvc::server
