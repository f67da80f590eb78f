// Page tokens: whatever a client sends as pagination.page_token is refused cleanly unless this
// server signed it for the same arguments, and every cursor survives a round trip.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "callbacks/domain/page_tokens.h"
#include "test/fuzz/expect.h"

namespace {

const usersvc::callbacks::PageTokens& Tokens() {
  static const usersvc::callbacks::PageTokens tokens("fuzzing key");
  return tokens;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Cursors with invalid UTF-8 are refused as they should be; protobuf's log of each is noise.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string digest = input.ConsumeRandomLengthString(64);
  const std::string token = input.ConsumeRandomLengthString(1024);

  // Arbitrary text is a forged token: refused with INVALID_ARGUMENT on the field.
  const auto opened = Tokens().Open(token, digest);
  if (!opened.ok()) {
    FUZZ_EXPECT(opened.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_EXPECT(opened.status().message().rfind("pagination.page_token: ", 0) == 0);
  }

  // A cursor this server issued opens to the same cursor, for the same arguments only, and any
  // change to one character of the token is caught.
  usersvc::internal::v1::PageCursor cursor;
  const std::string cursor_bytes = input.ConsumeRemainingBytesAsString();
  if (!cursor.ParseFromString(cursor_bytes)) return 0;
  cursor.set_arguments_digest(digest);
  const std::string issued = Tokens().Issue(cursor);
  if (issued.size() > 1024) return 0;  // Open's limit; real cursors hold one key and one id
  const auto reopened = Tokens().Open(issued, digest);
  FUZZ_EXPECT(reopened.ok() && reopened->SerializeAsString() == cursor.SerializeAsString());
  FUZZ_EXPECT(!Tokens().Open(issued, digest + "x").ok());
  std::string tampered = issued;
  tampered[size % tampered.size()] ^= 0x01;
  FUZZ_EXPECT(!Tokens().Open(tampered, digest).ok());
  return 0;
}
