#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <absl/time/time.h>
#include <absl/types/span.h>

/// The one place where C++ values become query parameters (PostgreSQL's text format). A query's
/// parameter struct lists its fields in `$n` order through `Fields()`, a tuple of references;
/// a field that is itself such a struct (a RequestKey) stands for its own fields in turn.
namespace usersvc::storage {

/// Parameter values as libpq takes them: text, or nullopt for SQL NULL.
using Params = std::vector<std::optional<std::string>>;

/// A text[] parameter: every element quoted, so any string is safe.
struct TextArray {
  absl::Span<const std::string> values;
};

/// A bytea parameter already in bytea's text form ("\x" and hex digits), as
/// callbacks/domain/crypto.h writes digests.
struct ByteaText {
  std::string_view text;
};

/// A change's idempotency key (AIP-155): the caller's request_id and a fingerprint of every other
/// argument, which the database compares on a repeat (migration 0006). Both NULL when the request
/// has no request_id. The statements of such changes take it as their last two parameters.
struct RequestKey {
  std::optional<std::string> request_id;
  std::optional<std::string> fingerprint;  // bytea text form

  bool empty() const { return !request_id.has_value(); }
  auto Fields() const { return std::tie(request_id, fingerprint); }
};

std::string ArrayLiteral(absl::Span<const std::string> values);

namespace params_internal {

template <typename T>
concept HasFields = requires(const T& value) {
  value.Fields();
};

inline void Append(Params& out, std::string_view text) { out.emplace_back(std::string(text)); }
inline void Append(Params& out, const std::string& text) { out.emplace_back(text); }
inline void Append(Params& out, const char* text) { out.emplace_back(std::string(text)); }
inline void Append(Params& out, bool value) { out.emplace_back(value ? "true" : "false"); }
template <std::integral T>
requires(!std::same_as<T, bool>) void Append(Params& out, T value) {
  out.emplace_back(std::to_string(value));
}
/// An interval, exact to the microsecond.
void Append(Params& out, absl::Duration value);
inline void Append(Params& out, TextArray array) { out.emplace_back(ArrayLiteral(array.values)); }
inline void Append(Params& out, ByteaText bytea) { out.emplace_back(std::string(bytea.text)); }
template <typename T>
void Append(Params& out, const std::optional<T>& value);
template <HasFields T>
void Append(Params& out, const T& value);

template <typename T>
void Append(Params& out, const std::optional<T>& value) {
  if (value) {
    Append(out, *value);
  } else {
    out.emplace_back(std::nullopt);
  }
}

template <HasFields T>
void Append(Params& out, const T& value) {
  std::apply([&out](const auto&... field) { (Append(out, field), ...); }, value.Fields());
}

template <typename T>
constexpr int Width() {
  if constexpr (HasFields<T>) {
    using Tuple = decltype(std::declval<const T&>().Fields());
    return []<size_t... I>(std::index_sequence<I...>) {
      return (0 + ... + Width<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>());
    }
    (std::make_index_sequence<std::tuple_size_v<Tuple>>());
  } else {
    return 1;
  }
}

}  // namespace params_internal

/// `params` in `$n` order.
template <typename P>
Params Encode(const P& params) {
  Params out;
  out.reserve(params_internal::Width<P>());
  params_internal::Append(out, params);
  return out;
}

/// How many `$n` a parameter struct fills.
template <typename P>
constexpr int ParamCount() {
  return params_internal::Width<P>();
}

/// A statement that takes no parameters.
struct NoParams {
  auto Fields() const { return std::tuple<>(); }
};

}  // namespace usersvc::storage
