// Request validation on arbitrary text: no crash, no sanitizer report, and the promises the
// validators make (callbacks/domain/validation.h) hold for every input.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

#include <google/protobuf/field_mask.pb.h>

#include "callbacks/domain/field_mask.h"
#include "callbacks/domain/validation.h"
#include "test/fuzz/expect.h"
#include "user/v1/user.pb.h"

namespace {

using namespace usersvc::callbacks;  // NOLINT: a fuzz target exercises this namespace only

/// Every validator's error is INVALID_ARGUMENT "<field>: ..." (the field is never the value).
void ExpectFieldError(const absl::Status& status, std::string_view field) {
  if (status.ok()) return;
  FUZZ_EXPECT(status.code() == absl::StatusCode::kInvalidArgument);
  FUZZ_EXPECT(status.message().substr(0, field.size() + 2) == std::string(field) + ": ");
}

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string text = input.ConsumeRandomLengthString(512);

  const std::string_view trimmed = TrimAscii(text);
  FUZZ_EXPECT(trimmed.empty() || (!IsAsciiSpace(trimmed.front()) && !IsAsciiSpace(trimmed.back())));
  FUZZ_EXPECT(Utf8Length(text) <= text.size());

  const absl::Status uuid = CheckUuid("user_id", text);
  ExpectFieldError(uuid, "user_id");
  if (uuid.ok()) FUZZ_EXPECT(text.size() == 36);

  // A normalised email is a fixed point: normalising it again changes nothing.
  const absl::StatusOr<std::string> email = NormalizeEmail("email", text);
  ExpectFieldError(email.status(), "email");
  if (email.ok()) {
    FUZZ_EXPECT(email->size() <= 254 * 4);
    const absl::StatusOr<std::string> again = NormalizeEmail("email", *email);
    FUZZ_EXPECT(again.ok() && *again == *email);
  }

  ExpectFieldError(CheckUsername("username", text), "username");
  if (CheckUsername("username", text).ok()) FUZZ_EXPECT(text.size() >= 3 && text.size() <= 30);
  ExpectFieldError(CheckPassword("password", text), "password");
  ExpectFieldError(CheckLength("first_name", text, 100), "first_name");
  const absl::Status phone = CheckPhone("phone_number", text);
  ExpectFieldError(phone, "phone_number");
  if (phone.ok() && !text.empty()) FUZZ_EXPECT(text[0] == '+' && text.size() <= 16);
  ExpectFieldError(CheckLanguageTag("language", text), "language");

  // Update masks: whatever paths a caller sends, the result names only allowed fields.
  google::protobuf::FieldMask mask;
  while (input.remaining_bytes() > 0) mask.add_paths(input.ConsumeRandomLengthString(40));
  user::v1::User values;
  values.set_first_name(text);
  static constexpr std::string_view kAllowed[] = {"email",     "username",     "first_name",
                                                  "last_name", "phone_number", "role"};
  const auto paths = ResolveMask(mask, kAllowed, values);
  ExpectFieldError(paths.status(), "update_mask");
  if (paths.ok()) {
    for (const std::string& path : *paths) {
      bool allowed = false;
      for (std::string_view name : kAllowed) allowed = allowed || path == name;
      FUZZ_EXPECT(allowed);
    }
  }
  return 0;
}
