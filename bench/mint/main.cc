// usersvc-mint: an identity provider for the benchmark. Makes an EC P-256 key, writes its JWKS,
// and prints one token per subject, signed by it, for usersvc's test issuer and audience.
//   usersvc-mint --jwks_out=FILE --subjects=flood,quiet [--scope="user.read"] [--hours=2]
#include <fstream>
#include <string>
#include <vector>

#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <absl/strings/str_split.h>
#include <fmt/core.h>

#include "bench/mint/jwt_minting.h"

ABSL_FLAG(std::string, jwks_out, "", "where to write the key set (JSON)");
ABSL_FLAG(std::string, subjects, "bench", "comma-separated token subjects, one token each");
ABSL_FLAG(std::string, scope, "user.read user.write user.credentials", "the tokens' scope claim");
ABSL_FLAG(int, hours, 2, "how long the tokens are valid");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string jwks_out = absl::GetFlag(FLAGS_jwks_out);
  if (jwks_out.empty()) {
    fmt::print(stderr, "usersvc-mint: --jwks_out is required\n");
    return 2;
  }
  using usersvc::testing::SigningKey;
  const SigningKey key(SigningKey::Type::kEcP256, "bench");
  std::ofstream(jwks_out) << usersvc::testing::JwksOf({&key});
  for (const std::string& subject :
       std::vector<std::string>(absl::StrSplit(absl::GetFlag(FLAGS_subjects), ','))) {
    fmt::print("{}\n", key.Sign(usersvc::testing::ClaimsFor(subject, absl::GetFlag(FLAGS_scope),
                                                            absl::GetFlag(FLAGS_hours) * 3600)));
  }
  return 0;
}
