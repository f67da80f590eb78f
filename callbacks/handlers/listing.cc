#include "callbacks/handlers/listing.h"

#include <memory>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "callbacks/domain/crypto.h"
#include "callbacks/domain/page_tokens.h"
#include "callbacks/domain/rows.h"
#include "callbacks/domain/validation.h"
#include "storage/queries/listing.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using internal::v1::PageCursor;

absl::StatusOr<int64_t> Micros(std::string_view field, const google::protobuf::Timestamp& t) {
  if (t.nanos() < 0 || t.nanos() > 999'999'999 || t.seconds() < -62'135'596'800 ||
      t.seconds() > 253'402'300'799) {
    return FieldError(field, "must be a valid timestamp");
  }
  return t.seconds() * 1'000'000 + t.nanos() / 1000;
}

template <typename T>
std::optional<T> Optional(bool present, T value) {
  return present ? std::optional<T>(value) : std::nullopt;
}

/// Everything a page needs once its rows are back.
struct Page {
  const PageTokens& tokens;
  std::string digest;
  int size;
  google::protobuf::RepeatedPtrField<user::v1::User>* users;
  common::v1::PaginationResponse* pagination;
  Finish finish;
};

/// The page a list or search call answers with.
template <typename Request, typename Response>
Page PageFor(Services& services, std::string digest, int size, Exchange<Request, Response>& call) {
  return Page{services.page_tokens,
              std::move(digest),
              size,
              call.response->mutable_users(),
              call.response->mutable_pagination(),
              std::move(call.finish)};
}

/// Fills users, total and the next token (from the last row shown, when there is one more).
/// `cursor_of` makes the cursor from a row.
template <typename CursorOf>
auto ReplyWithPage(Page page, CursorOf cursor_of) {
  return [page = std::move(page), cursor_of](storage::Rows<storage::ListedUserRow> rows) mutable {
    if (!rows.ok()) return std::move(page.finish)(rows.status());
    int shown = 0;
    for (int i = 0; i < rows.size() && shown < page.size; ++i) {
      const storage::ListedUserRow listed = rows[i];
      if (!listed.user) continue;  // an empty page: only the total
      UserFromRow(*listed.user, page.users->Add());
      ++shown;
    }
    const int64_t total = rows.empty() ? 0 : rows[0].total;
    page.pagination->set_total_size(total);
    if (rows.size() > page.size) {  // one row beyond the page: there is a next page
      PageCursor cursor = cursor_of(rows[page.size - 1]);
      cursor.set_arguments_digest(page.digest);
      cursor.set_total_size(total);
      page.pagination->set_next_page_token(page.tokens.Issue(cursor));
    }
    std::move(page.finish)(absl::OkStatus());
  };
}

}  // namespace

std::string EscapeLike(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '\\' || c == '%' || c == '_') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

void ListUsers(Services& services,
               Exchange<user::v1::ListUsersRequest, user::v1::ListUsersResponse> call) {
  const auto& r = *call.request;
  const auto& filter = r.filter();
  absl::StatusOr<int> size = PageSize(r.pagination());
  if (!size.ok()) return std::move(call.finish)(size.status());
  if (!user::v1::UserOrderBy_IsValid(r.order_by())) {
    return std::move(call.finish)(FieldError("order_by", "unknown order"));
  }
  if (!common::v1::SortDirection_IsValid(r.direction())) {
    return std::move(call.finish)(FieldError("direction", "unknown direction"));
  }
  if (filter.has_role() && !user::v1::UserRole_IsValid(filter.role())) {
    return std::move(call.finish)(FieldError("filter.role", "unknown role"));
  }
  std::optional<int64_t> after, before;
  if (filter.has_created_after()) {
    absl::StatusOr<int64_t> micros = Micros("filter.created_after", filter.created_after());
    if (!micros.ok()) return std::move(call.finish)(micros.status());
    after = *micros;
  }
  if (filter.has_created_before()) {
    absl::StatusOr<int64_t> micros = Micros("filter.created_before", filter.created_before());
    if (!micros.ok()) return std::move(call.finish)(micros.status());
    before = *micros;
  }
  const auto order = r.order_by() == user::v1::USER_ORDER_BY_UNSPECIFIED
                         ? user::v1::USER_ORDER_BY_CREATED_AT
                         : r.order_by();
  // Newest first by default; alphabetical orders ascend by default.
  const bool descending = r.direction() == common::v1::SORT_DIRECTION_UNSPECIFIED
                              ? order == user::v1::USER_ORDER_BY_CREATED_AT
                              : r.direction() == common::v1::SORT_DIRECTION_DESC;
  const std::string digest = ArgumentFingerprint(
      {"ListUsers", filter.has_role() ? absl::StrCat(filter.role()) : "-",
       filter.has_is_active() ? absl::StrCat(filter.is_active()) : "-",
       filter.has_is_email_verified() ? absl::StrCat(filter.is_email_verified()) : "-",
       after ? absl::StrCat(*after) : "-", before ? absl::StrCat(*before) : "-",
       absl::StrCat(order), descending ? "d" : "a"});

  const q::StateFilter state_filter{
      .role = Optional<int32_t>(filter.has_role(), filter.role()),
      .is_active = Optional(filter.has_is_active(), filter.is_active()),
      .is_email_verified = Optional(filter.has_is_email_verified(), filter.is_email_verified())};
  const q::UserFilter user_filter{
      .state = state_filter, .created_after_micros = after, .created_before_micros = before};
  const auto sort = static_cast<q::UserOrder>(order - 1);
  Page page = PageFor(services, digest, *size, call);
  auto cursor_of = [](const storage::ListedUserRow& row) {
    PageCursor next;
    next.set_last_key(std::string(row.sort_key));
    next.set_last_id(std::string(row.user->id));
    return next;
  };
  static_assert(q::kMaxPageRows == kMaxPageSize + 1);
  const bool in_range = after || before;
  const bool unfiltered =
      !filter.has_role() && !filter.has_is_active() && !filter.has_is_email_verified() && !in_range;
  if (r.pagination().page_token().empty() && unfiltered) {
    services.read_pool.Run(q::ListAllUsers(sort, descending),
                           q::ListAllUsersParams{.limit = *size + 1}, call.deadline,
                           ReplyWithPage(std::move(page), cursor_of));
    return;
  }
  if (r.pagination().page_token().empty() && !in_range) {
    services.read_pool.Run(q::ListUsersByState(sort, descending),
                           q::ListUsersByStateParams{.filter = state_filter, .limit = *size + 1},
                           call.deadline, ReplyWithPage(std::move(page), cursor_of));
    return;
  }
  if (r.pagination().page_token().empty()) {
    services.read_pool.Run(q::ListUsers(sort, descending),
                           q::ListUsersParams{.filter = user_filter, .limit = *size + 1},
                           call.deadline, ReplyWithPage(std::move(page), cursor_of));
    return;
  }
  absl::StatusOr<PageCursor> cursor =
      services.page_tokens.Open(r.pagination().page_token(), digest);
  if (!cursor.ok()) return std::move(page.finish)(cursor.status());
  // `cursor` outlives the Run: the parameters view its strings until Run encodes them.
  if (unfiltered && cursor->has_total_size()) {
    services.read_pool.Run(q::ListAllUsersAfter(sort, descending),
                           q::ListAllUsersAfterParams{.limit = *size + 1,
                                                      .after_key = cursor->last_key(),
                                                      .after_id = cursor->last_id(),
                                                      .known_total = cursor->total_size()},
                           call.deadline, ReplyWithPage(std::move(page), cursor_of));
    return;
  }
  if (!in_range && cursor->has_total_size()) {
    services.read_pool.Run(q::ListUsersByStateAfter(sort, descending),
                           q::ListUsersByStateAfterParams{.filter = state_filter,
                                                          .limit = *size + 1,
                                                          .after_key = cursor->last_key(),
                                                          .after_id = cursor->last_id(),
                                                          .known_total = cursor->total_size()},
                           call.deadline, ReplyWithPage(std::move(page), cursor_of));
    return;
  }
  services.read_pool.Run(q::ListUsersAfter(sort, descending),
                         q::ListUsersAfterParams{.filter = user_filter,
                                                 .limit = *size + 1,
                                                 .after_key = cursor->last_key(),
                                                 .after_id = cursor->last_id(),
                                                 .known_total = Optional(cursor->has_total_size(),
                                                                         cursor->total_size())},
                         call.deadline, ReplyWithPage(std::move(page), cursor_of));
}

void SearchUsers(Services& services,
                 Exchange<user::v1::SearchUsersRequest, user::v1::SearchUsersResponse> call) {
  const auto& r = *call.request;
  const std::string_view query = TrimAscii(r.query());
  if (query.empty() || Utf8Length(query) > 100) {
    return std::move(call.finish)(FieldError("query", "must be 1 to 100 characters"));
  }
  absl::StatusOr<int> size = PageSize(r.pagination());
  if (!size.ok()) return std::move(call.finish)(size.status());
  const std::string digest =
      ArgumentFingerprint({"SearchUsers", query, r.include_inactive() ? "all" : "active"});
  const std::string escaped = EscapeLike(query);
  const std::string prefix = escaped + "%";
  const std::string contains = "%" + escaped + "%";
  const q::SearchUsersParams search{.query = query,
                                    .prefix_pattern = prefix,
                                    .contains_pattern = contains,
                                    .include_inactive = r.include_inactive(),
                                    .limit = *size + 1};
  Page page = PageFor(services, digest, *size, call);
  auto cursor_of = [](const storage::ListedUserRow& row) {
    PageCursor next;
    int32_t rank = 0;
    (void)absl::SimpleAtoi(absl::string_view(row.sort_key.data(), row.sort_key.size()), &rank);
    next.set_last_rank(rank);
    next.set_last_key(std::string(row.user->username));
    next.set_last_id(std::string(row.user->id));
    return next;
  };
  const bool indexed = q::HasTrigram(query);
  if (r.pagination().page_token().empty()) {
    services.read_pool.Run(indexed ? q::kSearchUsers : q::kSearchUsersWithoutTrigrams, search,
                           call.deadline, ReplyWithPage(std::move(page), cursor_of));
    return;
  }
  absl::StatusOr<PageCursor> cursor =
      services.page_tokens.Open(r.pagination().page_token(), digest);
  if (!cursor.ok()) return std::move(page.finish)(cursor.status());
  services.read_pool.Run(indexed ? q::kSearchUsersAfter : q::kSearchUsersWithoutTrigramsAfter,
                         q::SearchUsersAfterParams{.search = search,
                                                   .after_rank = cursor->last_rank(),
                                                   .after_username = cursor->last_key(),
                                                   .after_id = cursor->last_id(),
                                                   .known_total = Optional(cursor->has_total_size(),
                                                                           cursor->total_size())},
                         call.deadline, ReplyWithPage(std::move(page), cursor_of));
}

}  // namespace usersvc::callbacks
