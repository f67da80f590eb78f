#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "callbacks/addresses.h"
#include "callbacks/health.h"
#include "callbacks/listing.h"
#include "callbacks/passwords.h"
#include "callbacks/preferences.h"
#include "callbacks/users.h"
#include "callbacks/verification.h"
#include "storage/log.h"
#include "storage/thread_name.h"

namespace usersvc::server {

using AsyncService = UserAsyncService;

namespace {

/// A request message over 4 MiB is rejected with RESOURCE_EXHAUSTED (the contract).
constexpr int kMaxRequestBytes = 4 * 1024 * 1024;

/// HTTP/2 keepalive that proxies' connection pools (Envoy's among them) do not trip over: they
/// may ping an idle connection every 10 s or more without being told "too many pings", and we
/// ping a connection idle for 30 s ourselves so that a peer that vanished is noticed in 40 s.
void SetKeepalive(grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);  // unlimited
}

}  // namespace

Server::Server(ServerOptions options, callbacks::Services& services)
    : options_(std::move(options)),
      services_(services),
      env_{&service_, &services_, &tracker_, options_.metrics} {}

Server::~Server() = default;

void Server::RegisterCalls(grpc::ServerCompletionQueue* cq) {
  using S = AsyncService;
  namespace cb = callbacks;
  // One line per RPC: the generated Request method and its handler in callbacks/.
  static constexpr void (*kArmers[])(CallEnvironment&, grpc::ServerCompletionQueue*) = {
      &UnaryCall<&S::RequestCreateUser, &cb::CreateUser>::Arm,
      &UnaryCall<&S::RequestGetUser, &cb::GetUser>::Arm,
      &UnaryCall<&S::RequestGetUserByEmail, &cb::GetUserByEmail>::Arm,
      &UnaryCall<&S::RequestListUsers, &cb::ListUsers>::Arm,
      &UnaryCall<&S::RequestSearchUsers, &cb::SearchUsers>::Arm,
      &UnaryCall<&S::RequestUpdateUser, &cb::UpdateUser>::Arm,
      &UnaryCall<&S::RequestDeleteUser, &cb::DeleteUser>::Arm,
      &UnaryCall<&S::RequestDeactivateUser, &cb::DeactivateUser>::Arm,
      &UnaryCall<&S::RequestReactivateUser, &cb::ReactivateUser>::Arm,
      &UnaryCall<&S::RequestHealthCheck, &cb::HealthCheck>::Arm,
      &UnaryCall<&S::RequestAddAddress, &cb::AddAddress>::Arm,
      &UnaryCall<&S::RequestGetAddress, &cb::GetAddress>::Arm,
      &UnaryCall<&S::RequestListAddresses, &cb::ListAddresses>::Arm,
      &UnaryCall<&S::RequestUpdateAddress, &cb::UpdateAddress>::Arm,
      &UnaryCall<&S::RequestDeleteAddress, &cb::DeleteAddress>::Arm,
      &UnaryCall<&S::RequestSetDefaultAddress, &cb::SetDefaultAddress>::Arm,
      &UnaryCall<&S::RequestSendVerificationEmail, &cb::SendVerificationEmail>::Arm,
      &UnaryCall<&S::RequestVerifyEmail, &cb::VerifyEmail>::Arm,
      &UnaryCall<&S::RequestChangePassword, &cb::ChangePassword>::Arm,
      &UnaryCall<&S::RequestRequestPasswordReset, &cb::RequestPasswordReset>::Arm,
      &UnaryCall<&S::RequestResetPassword, &cb::ResetPassword>::Arm,
      &UnaryCall<&S::RequestGetUserPreferences, &cb::GetUserPreferences>::Arm,
      &UnaryCall<&S::RequestUpdateUserPreferences, &cb::UpdateUserPreferences>::Arm,
  };
  for (int i = 0; i < options_.calls_per_method; ++i) {
    for (auto arm : kArmers) arm(env_, cq);
  }
}

absl::Status Server::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      options_.listen,
      options_.credentials ? options_.credentials : grpc::InsecureServerCredentials(), &port_);
  SetKeepalive(builder);
  builder.RegisterService(&service_);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  for (int i = 0; i < options_.cq_threads; ++i) cqs_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError("cannot listen on " + options_.listen);
  }
  // gRPC's default health service starts with "" SERVING and knows no other service, so for the
  // moment until this line a probe of "" may be told SERVING; a probe of "user.v1.UserService"
  // (what deploy/ configures) is never told so before the database answers.
  SetServing(services_.health.serving());
  // For liveness probes: SERVING while the process runs, whatever the database does, so that an
  // outage of PostgreSQL does not get every replica restarted.
  server_->GetHealthCheckService()->SetServingStatus("liveness", true);
  for (auto& cq : cqs_) RegisterCalls(cq.get());
  for (size_t i = 0; i < cqs_.size(); ++i) {
    threads_.emplace_back([this, i] {
      NameThisThread("cq-" + std::to_string(i));
      PollLoop(cqs_[i].get());
    });
  }

  callbacks::ProbeDatabase(services_);
  std::lock_guard lock(probe_mutex_);
  probing_ = true;
  probe_alarm_.Set(cqs_.front().get(), absl::ToChronoTime(absl::Now() + options_.probe_interval),
                   &probe_tag_);
  return absl::OkStatus();
}

void Server::SetServing(bool serving) {
  if (server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", serving);
  health->SetServingStatus(std::string(user::v1::UserService::service_full_name()), serving);
}

void Server::PollLoop(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) TagFromCompletionQueue(tag)->Proceed(ok);
}

void Server::OnProbeAlarm(bool ok) {
  if (!ok) return;  // cancelled at shutdown
  callbacks::ProbeDatabase(services_);
  std::lock_guard lock(probe_mutex_);
  if (!probing_) return;  // nothing is re-armed after shutdown began
  probe_alarm_.Set(cqs_.front().get(), absl::ToChronoTime(absl::Now() + options_.probe_interval),
                   &probe_tag_);
}

void Server::Shutdown(absl::Time drain_deadline) {
  if (server_ == nullptr) return;
  // New calls are refused with UNAVAILABLE (retryable elsewhere) while calls in flight finish.
  tracker_.StartDraining();
  Log(LogLevel::kInfo, "draining", {{"calls_in_flight", tracker_.in_flight()}});
  const bool drained = tracker_.WaitForIdle(drain_deadline);
  // gRPC's own Shutdown(deadline) would also wait for every idle client connection to close,
  // which keep-alive clients (Envoy) never do: our count of calls is the one that matters, so
  // once it is zero (or the drain deadline passed) the rest is cancelled at once.
  server_->Shutdown(absl::ToChronoTime(absl::Now()));
  // Cancelled calls may still wait for a database answer; their Finish must land on a live queue.
  if (!tracker_.WaitForIdle(absl::Now() + absl::Seconds(5))) {
    Log(LogLevel::kError, "calls still in flight after shutdown",
        {{"calls_in_flight", tracker_.in_flight()}});
  }
  if (!drained) Log(LogLevel::kWarning, "drain deadline passed; remaining calls were cancelled");
  {
    std::lock_guard lock(probe_mutex_);
    probing_ = false;
    probe_alarm_.Cancel();
  }
  for (auto& cq : cqs_) cq->Shutdown();
  for (auto& thread : threads_) thread.join();  // each drains its queue until Next() is false
  threads_.clear();
  Log(LogLevel::kInfo, "server stopped");
}

}  // namespace usersvc::server
