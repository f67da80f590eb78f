#include "importer/dumpdata_reader.h"

#include <utility>

#include <nlohmann/json.hpp>

namespace usersvc::importer {
namespace {

using nlohmann::json;

/// The text of `value`: strings as they are, numbers as their digits; nullopt for null or absent.
std::optional<std::string> TextOf(const json* value, std::string* malformed, const char* field) {
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (value->is_string()) return value->get<std::string>();
  if (value->is_number_integer()) return value->dump();
  *malformed = std::string(field) + ": not a string";
  return std::nullopt;
}

std::optional<bool> BoolOf(const json* value, std::string* malformed, const char* field) {
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (value->is_boolean()) return value->get<bool>();
  *malformed = std::string(field) + ": not true or false";
  return std::nullopt;
}

DumpedUser ToUser(const json& object, const FieldNames& names, int64_t position) {
  DumpedUser user;
  user.position = position;
  const json* fields = nullptr;
  if (auto it = object.find("fields"); it != object.end() && it->is_object()) fields = &*it;
  if (fields == nullptr) {
    user.malformed = "no \"fields\" object";
    return user;
  }
  auto field = [&](const char* ours) -> const json* {
    auto it = fields->find(names.of.at(ours));
    return it == fields->end() ? nullptr : &*it;
  };
  std::string* malformed = &user.malformed;
  if (auto it = object.find("pk"); it != object.end()) {
    user.pk = TextOf(&*it, malformed, "pk").value_or("");
  }
  user.email = TextOf(field("email"), malformed, "email").value_or("");
  user.username = TextOf(field("username"), malformed, "username").value_or("");
  user.first_name = TextOf(field("first_name"), malformed, "first_name").value_or("");
  user.last_name = TextOf(field("last_name"), malformed, "last_name").value_or("");
  user.password = TextOf(field("password"), malformed, "password").value_or("");
  user.phone_number = TextOf(field("phone_number"), malformed, "phone_number").value_or("");
  user.date_joined = TextOf(field("date_joined"), malformed, "date_joined").value_or("");
  user.role = TextOf(field("role"), malformed, "role");
  user.is_active = BoolOf(field("is_active"), malformed, "is_active");
  user.is_email_verified = BoolOf(field("is_email_verified"), malformed, "is_email_verified");
  user.is_staff = BoolOf(field("is_staff"), malformed, "is_staff");
  user.is_superuser = BoolOf(field("is_superuser"), malformed, "is_superuser");
  return user;
}

}  // namespace

absl::Status FieldNames::Rename(std::string_view mapping) {
  const size_t equals = mapping.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == mapping.size()) {
    return absl::InvalidArgumentError("--field: expected ours=theirs, e.g. role=user_type");
  }
  auto it = of.find(std::string(mapping.substr(0, equals)));
  if (it == of.end()) {
    return absl::InvalidArgumentError("--field: no field of ours is called " +
                                      std::string(mapping.substr(0, equals)));
  }
  it->second = std::string(mapping.substr(equals + 1));
  return absl::OkStatus();
}

absl::Status ReadDumpdata(std::istream& input, const FieldNames& names, std::string_view model,
                          absl::FunctionRef<void(DumpedUser)> each) {
  int64_t position = 0;
  bool top_is_array = false;
  // Each element of the top-level array is handed over as soon as it is parsed, and dropped
  // from the document (the callback says not to keep it), so memory holds one object at a time.
  const json::parser_callback_t on_value = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 0 && event == json::parse_event_t::array_start) top_is_array = true;
    if (depth != 1 || event != json::parse_event_t::object_end) return true;
    if (auto it = parsed.find("model");
        it != parsed.end() && it->is_string() && it->get<std::string>() == model) {
      each(ToUser(parsed, names, ++position));
    }
    return false;
  };
  try {
    // What parse returns is the array with every element dropped: nothing to keep.
    const json emptied = json::parse(input, on_value, /*allow_exceptions=*/true);
    (void)emptied;
  } catch (const json::parse_error& error) {
    // Only where: nlohmann's message quotes the input it last read, which may be a hash.
    return absl::InvalidArgumentError("not dumpdata JSON: a syntax error at byte " +
                                      std::to_string(error.byte));
  } catch (const json::exception&) {
    return absl::InvalidArgumentError("not dumpdata JSON");
  }
  if (!top_is_array) return absl::InvalidArgumentError("not dumpdata JSON: no top-level array");
  return absl::OkStatus();
}

}  // namespace usersvc::importer
