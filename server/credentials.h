#pragma once

#include <memory>
#include <string>

#include <absl/status/statusor.h>
#include <grpcpp/security/server_credentials.h>

namespace usersvc::server {

/// PEM files for the listening port. All empty: plaintext (behind a proxy that terminates TLS,
/// or on loopback).
struct TlsFiles {
  std::string cert;       // server certificate chain
  std::string key;        // its private key
  std::string client_ca;  // set: mutual TLS, clients must present a certificate signed by it
};

/// gRPC's SSL server credentials from `files`, or an error naming the flag whose file is missing
/// or unreadable. A client CA without a server certificate is an error too.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

}  // namespace usersvc::server
