#include "server/reflection.h"

#include <deque>
#include <set>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

namespace usersvc::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

constexpr int kNotFound = 5;         // grpc::StatusCode::NOT_FOUND
constexpr int kInvalidArgument = 3;  // grpc::StatusCode::INVALID_ARGUMENT

/// `file` and everything it imports, each once, the asked-for file first (clients resolve the
/// imports from the same response).
template <typename Response>
void AddFileWithImports(const FileDescriptor* file, Response* response) {
  std::set<const FileDescriptor*> seen = {file};
  std::deque<const FileDescriptor*> pending = {file};
  auto* files = response->mutable_file_descriptor_response();
  while (!pending.empty()) {
    const FileDescriptor* next = pending.front();
    pending.pop_front();
    google::protobuf::FileDescriptorProto proto;
    next->CopyTo(&proto);
    proto.SerializeToString(files->add_file_descriptor_proto());
    for (int i = 0; i < next->dependency_count(); ++i) {
      if (seen.insert(next->dependency(i)).second) pending.push_back(next->dependency(i));
    }
  }
}

template <typename Response>
void SetError(Response* response, int code, std::string message) {
  response->mutable_error_response()->set_error_code(code);
  response->mutable_error_response()->set_error_message(std::move(message));
}

template <typename Request, typename Response>
void Answer(const std::vector<std::string>& services, const Request& request, Response* response) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  response->set_valid_host(request.host());
  *response->mutable_original_request() = request;
  switch (request.message_request_case()) {
    case Request::kFileByFilename: {
      const FileDescriptor* file = pool->FindFileByName(request.file_by_filename());
      if (file == nullptr) return SetError(response, kNotFound, "file not found");
      return AddFileWithImports(file, response);
    }
    case Request::kFileContainingSymbol: {
      const FileDescriptor* file = pool->FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) return SetError(response, kNotFound, "symbol not found");
      return AddFileWithImports(file, response);
    }
    case Request::kFileContainingExtension: {
      const auto& wanted = request.file_containing_extension();
      const Descriptor* type = pool->FindMessageTypeByName(wanted.containing_type());
      const FieldDescriptor* extension =
          type == nullptr ? nullptr : pool->FindExtensionByNumber(type, wanted.extension_number());
      if (extension == nullptr) return SetError(response, kNotFound, "extension not found");
      return AddFileWithImports(extension->file(), response);
    }
    case Request::kAllExtensionNumbersOfType: {
      const Descriptor* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) return SetError(response, kNotFound, "type not found");
      std::vector<const FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* numbers = response->mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const FieldDescriptor* extension : extensions) {
        numbers->add_extension_number(extension->number());
      }
      return;
    }
    case Request::kListServices:
      for (const std::string& name : services) {
        response->mutable_list_services_response()->add_service()->set_name(name);
      }
      return;
    case Request::MESSAGE_REQUEST_NOT_SET:
      break;
  }
  // Every kind of request the protocol has is answered above; this one named none of them.
  SetError(response, kInvalidArgument, "the reflection request asks for nothing");
}

}  // namespace

void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1::ServerReflectionRequest& request,
                      grpc::reflection::v1::ServerReflectionResponse* response) {
  Answer(services, request, response);
}

void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1alpha::ServerReflectionRequest& request,
                      grpc::reflection::v1alpha::ServerReflectionResponse* response) {
  Answer(services, request, response);
}

}  // namespace usersvc::server
