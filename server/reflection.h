#pragma once

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.pb.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"

namespace usersvc::server {

/// Answers one server-reflection request from the descriptors compiled into this binary:
/// `services` for list_services; a file (by name, by a symbol it defines, or by an extension) with
/// every file it imports; an extension's numbers. What is not known gets an error_response with
/// NOT_FOUND, as gRPC's own reflection service answers.
void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1::ServerReflectionRequest& request,
                      grpc::reflection::v1::ServerReflectionResponse* response);
void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1alpha::ServerReflectionRequest& request,
                      grpc::reflection::v1alpha::ServerReflectionResponse* response);

}  // namespace usersvc::server
