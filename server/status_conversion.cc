#include "server/status_conversion.h"

#include <string>

#include <absl/strings/match.h>

#include "base/field_violation.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace usersvc::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  google::rpc::Status details;
  if (std::optional<FieldViolation> field = FieldViolationOf(status)) {
    google::rpc::BadRequest bad_request;
    google::rpc::BadRequest::FieldViolation* violation = bad_request.add_field_violations();
    violation->set_field(field->field);
    violation->set_description(field->description);
    details.add_details()->PackFrom(bad_request);
  }
  // Details a layer attached as a payload under its google.rpc type URL (RetryInfo, ...).
  status.ForEachPayload([&details](absl::string_view type_url, const absl::Cord& payload) {
    if (!absl::StartsWith(type_url, "type.googleapis.com/google.rpc.")) return;
    google::protobuf::Any* detail = details.add_details();
    detail->set_type_url(std::string(type_url));
    detail->set_value(std::string(payload));
  });
  if (details.details_size() == 0) return grpc::Status(code, std::move(message));
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  return grpc::Status(code, std::move(message), details.SerializeAsString());
}

}  // namespace usersvc::server
