#include "server/server.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <grpcpp/resource_quota.h>

#include "auth/method_scopes.h"
#include "base/log.h"
#include "callbacks/handlers/addresses.h"
#include "callbacks/handlers/events.h"
#include "callbacks/handlers/health.h"
#include "callbacks/handlers/listing.h"
#include "callbacks/handlers/passwords.h"
#include "callbacks/handlers/preferences.h"
#include "callbacks/handlers/sign_in.h"
#include "callbacks/handlers/users.h"
#include "callbacks/handlers/verification.h"
#include "server/reflection_call.h"
#include "server/streaming_call.h"
#include "server/unary_call.h"
#include "storage/thread_name.h"

namespace usersvc::server {
namespace {

namespace cb = callbacks;
using Users = user::v1::UserService::AsyncService;
using Health = grpc::health::v1::Health::AsyncService;
namespace reflection_v1 = grpc::reflection::v1;
namespace reflection_v1alpha = grpc::reflection::v1alpha;

/// A request message over 4 MiB is rejected with RESOURCE_EXHAUSTED (the contract).
constexpr int kMaxRequestBytes = 4 * 1024 * 1024;

/// RequestPasswordReset answers this long after it began, account or none. The handler already does
/// the same kind of database work either way (a write that waits for the WAL), but an account's
/// reset writes two rows more, and that tenth of a millisecond would tell who has an account to
/// anyone who asks a few thousand times. Well above the call's usual latency; no person notices.
constexpr absl::Duration kResetRequestAnswerTime = absl::Milliseconds(20);

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

/// The label go-grpc-prometheus gives a method of this shape.
std::string_view CallType(const google::protobuf::MethodDescriptor& method) {
  if (method.client_streaming()) return method.server_streaming() ? "bidi_stream" : "client_stream";
  return method.server_streaming() ? "server_stream" : "unary";
}

}  // namespace

Server::Server(ServerOptions options, callbacks::Services& services)
    : options_(std::move(options)),
      services_(services),
      env_{&services_, &tracker_, options_.access, &service_names_} {}

Server::~Server() = default;

absl::Status Server::Register(grpc::Service& service, std::string_view service_name,
                              std::span<const MethodEntry> entries, MethodAccess::Kind kind) {
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_name));
  if (descriptor == nullptr) return absl::InternalError(fmt::format("no service {}", service_name));
  if (static_cast<int>(entries.size()) != descriptor->method_count()) {
    return absl::InternalError(fmt::format("{} has {} methods but {} are registered", service_name,
                                           descriptor->method_count(), entries.size()));
  }
  for (const MethodEntry& entry : entries) {
    const google::protobuf::MethodDescriptor* method =
        descriptor->FindMethodByName(std::string(entry.name));
    if (method == nullptr) {
      return absl::InternalError(fmt::format("{} has no method {}", service_name, entry.name));
    }
    MethodAccess access{kind};
    if (kind == MethodAccess::Kind::kNeedsScope) {
      std::optional<auth::Scope> scope = auth::RequiredScope(entry.name);
      if (!scope) {
        return absl::InternalError(
            fmt::format("{}.{} has no scope in auth/method_scopes.cc", service_name, entry.name));
      }
      access.scope = *scope;
      access.privilege = auth::PrivilegeScope(entry.name);
    }
    methods_.push_back({&service, std::string(service_name), std::string(entry.name),
                        &options_.metrics->ForMethod(service_name, entry.name, CallType(*method)),
                        entry.answers_while_draining, access, entry.answer_no_sooner_than,
                        entry.pads_errors ? options_.sign_in_error_floor : absl::ZeroDuration()});
    registrations_.push_back({&methods_.back(), entry.arm,
                              entry.waiting > 0 ? entry.waiting : options_.calls_per_method});
  }
  service_names_.emplace_back(service_name);
  return absl::OkStatus();
}

absl::Status Server::Start() {
  // One line per RPC: its name in the service descriptor, the generated Request method and the
  // handler in callbacks/. Register() checks the names against the descriptor, so a method left
  // out (or misspelt) stops the server at start rather than going unserved.
  static constexpr MethodEntry kUserMethods[] = {
      {"CreateUser", &UnaryCall<&Users::RequestCreateUser, &cb::CreateUser>::Arm},
      {"GetUser", &UnaryCall<&Users::RequestGetUser, &cb::GetUser>::Arm},
      {"GetUserByEmail", &UnaryCall<&Users::RequestGetUserByEmail, &cb::GetUserByEmail>::Arm},
      {"ListUsers", &UnaryCall<&Users::RequestListUsers, &cb::ListUsers>::Arm},
      {"SearchUsers", &UnaryCall<&Users::RequestSearchUsers, &cb::SearchUsers>::Arm},
      {"UpdateUser", &UnaryCall<&Users::RequestUpdateUser, &cb::UpdateUser>::Arm},
      {"DeleteUser", &UnaryCall<&Users::RequestDeleteUser, &cb::DeleteUser>::Arm},
      {"DeactivateUser", &UnaryCall<&Users::RequestDeactivateUser, &cb::DeactivateUser>::Arm},
      {"ReactivateUser", &UnaryCall<&Users::RequestReactivateUser, &cb::ReactivateUser>::Arm},
      {"HealthCheck", &UnaryCall<&Users::RequestHealthCheck, &cb::HealthCheck>::Arm},
      {"AddAddress", &UnaryCall<&Users::RequestAddAddress, &cb::AddAddress>::Arm},
      {"GetAddress", &UnaryCall<&Users::RequestGetAddress, &cb::GetAddress>::Arm},
      {"ListAddresses", &UnaryCall<&Users::RequestListAddresses, &cb::ListAddresses>::Arm},
      {"UpdateAddress", &UnaryCall<&Users::RequestUpdateAddress, &cb::UpdateAddress>::Arm},
      {"DeleteAddress", &UnaryCall<&Users::RequestDeleteAddress, &cb::DeleteAddress>::Arm},
      {"SetDefaultAddress",
       &UnaryCall<&Users::RequestSetDefaultAddress, &cb::SetDefaultAddress>::Arm},
      {"SendVerificationEmail",
       &UnaryCall<&Users::RequestSendVerificationEmail, &cb::SendVerificationEmail>::Arm},
      {"VerifyEmail", &UnaryCall<&Users::RequestVerifyEmail, &cb::VerifyEmail>::Arm},
      {"ChangePassword", &UnaryCall<&Users::RequestChangePassword, &cb::ChangePassword>::Arm},
      {.name = "RequestPasswordReset",
       .arm = &UnaryCall<&Users::RequestRequestPasswordReset, &cb::RequestPasswordReset>::Arm,
       .answer_no_sooner_than = kResetRequestAnswerTime},
      {"ResetPassword", &UnaryCall<&Users::RequestResetPassword, &cb::ResetPassword>::Arm},
      {.name = "VerifyPassword",
       .arm = &UnaryCall<&Users::RequestVerifyPassword, &cb::VerifyPassword>::Arm,
       // An unknown email costs one argon2id check (21 ms here), a wrong password what the
       // account's hash costs: the same for the service's own, but an imported Django hash
       // costs what Django made it cost (260,000 PBKDF2 iterations 0.066 s, Django 5.2's
       // 1,000,000 about 0.25 s). Errors wait for a floor above them all (--sign_in_error_ms),
       // so the answer tells nobody which addresses have an imported account.
       .pads_errors = true},
      {"GetUserPreferences",
       &UnaryCall<&Users::RequestGetUserPreferences, &cb::GetUserPreferences>::Arm},
      {"UpdateUserPreferences",
       &UnaryCall<&Users::RequestUpdateUserPreferences, &cb::UpdateUserPreferences>::Arm},
      {"WatchUserEvents",
       &ServerStreamingCall<&Users::RequestWatchUserEvents, &cb::WatchUserEvents>::Arm},
  };
  static constexpr MethodEntry kHealthMethods[] = {
      {.name = "Check",
       .arm = &UnaryCall<&Health::RequestCheck, &cb::CheckStandardHealth>::Arm,
       .answers_while_draining = true},
      {.name = "Watch",
       .arm = &ServerStreamingCall<&Health::RequestWatch, &cb::WatchStandardHealth>::Arm,
       .waiting = 2,
       .answers_while_draining = true},
  };
  static constexpr MethodEntry kReflectionV1Methods[] = {
      {"ServerReflectionInfo",
       &ReflectionCall<&reflection_v1::ServerReflection::AsyncService::RequestServerReflectionInfo,
                       reflection_v1::ServerReflectionRequest,
                       reflection_v1::ServerReflectionResponse>::Arm,
       1},
  };
  static constexpr MethodEntry kReflectionV1alphaMethods[] = {
      {"ServerReflectionInfo",
       &ReflectionCall<
           &reflection_v1alpha::ServerReflection::AsyncService::RequestServerReflectionInfo,
           reflection_v1alpha::ServerReflectionRequest,
           reflection_v1alpha::ServerReflectionResponse>::Arm,
       1},
  };
  using enum MethodAccess::Kind;
  std::vector<absl::Status> registered = {
      Register(users_, user::v1::UserService::service_full_name(), kUserMethods, kNeedsScope),
      Register(health_, grpc::health::v1::Health::service_full_name(), kHealthMethods, kOpen),
  };
  if (options_.reflection) {
    registered.push_back(Register(reflection_, reflection_v1::ServerReflection::service_full_name(),
                                  kReflectionV1Methods, kAnyCaller));
    registered.push_back(Register(reflection_v1alpha_,
                                  reflection_v1alpha::ServerReflection::service_full_name(),
                                  kReflectionV1alphaMethods, kAnyCaller));
  }
  for (const absl::Status& status : registered) {
    if (!status.ok()) return status;
  }

  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      options_.listen,
      options_.credentials ? options_.credentials : grpc::InsecureServerCredentials(), &port_);
  SetKeepalive(builder);
  // A port that another process already holds is an error, not a share of its connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&users_);
  builder.RegisterService(&health_);
  if (options_.reflection) {
    builder.RegisterService(&reflection_);
    builder.RegisterService(&reflection_v1alpha_);
  }
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  if (options_.memory_quota_bytes > 0) {
    grpc::ResourceQuota quota("usersvc");
    quota.Resize(options_.memory_quota_bytes);
    builder.SetResourceQuota(quota);
  }
  for (int i = 0; i < options_.cq_threads; ++i) cqs_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError("cannot listen on " + options_.listen);
  }
  for (auto& cq : cqs_) {
    for (const Registration& registration : registrations_) {
      for (int i = 0; i < registration.waiting; ++i) {
        registration.arm(env_, *registration.method, cq.get());
      }
    }
  }
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

void Server::PollLoop(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) TagFromCompletionQueue(tag)->Proceed(ok);
}

void Server::OnProbeAlarm(bool ok) {
  if (!ok) return;  // cancelled at shutdown
  callbacks::ProbeDatabase(services_);
  if (services_.events != nullptr) services_.events->Tick();
  // Housekeeping rides on the same timer: once a minute.
  if (++probes_ % 60 == 0) callbacks::PurgeExpired(services_);
  std::lock_guard lock(probe_mutex_);
  if (!probing_) return;  // nothing is re-armed after shutdown began
  probe_alarm_.Set(cqs_.front().get(), absl::ToChronoTime(absl::Now() + options_.probe_interval),
                   &probe_tag_);
}

void Server::Shutdown(absl::Time drain_deadline, absl::AnyInvocable<void() &&> stop_work) {
  if (server_ == nullptr) {
    std::move(stop_work)();
    return;
  }
  // New calls are refused with UNAVAILABLE (retryable elsewhere) while calls in flight finish.
  tracker_.StartDraining();
  Log(LogLevel::kInfo, "draining", {{"calls_in_flight", tracker_.in_flight()}});
  const bool drained = tracker_.WaitForIdle(drain_deadline);
  // Calls still waiting for the CPU pool or a query are answered now by the pools themselves,
  // while the queues still take their Finish.
  std::move(stop_work)();
  // gRPC's own Shutdown(deadline) would also wait for every idle client connection to close,
  // which keep-alive clients (Envoy) never do: our count of calls is the one that matters, so
  // once it is zero (or the drain deadline passed) the rest is cancelled at once.
  server_->Shutdown(absl::ToChronoTime(absl::Now()));
  // Every call has been answered or is being so; their completions come back before the queues
  // are shut down, which is what makes that safe.
  while (!tracker_.WaitForIdle(absl::Now() + absl::Seconds(5))) {
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
