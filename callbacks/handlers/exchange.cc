#include "callbacks/handlers/exchange.h"

#include "base/log.h"

namespace usersvc::callbacks {

void Finish::Drop() {
  if (!answer_) return;
  Log(LogLevel::kError, "a call was dropped unanswered; answering INTERNAL");
  std::exchange(answer_, nullptr)(absl::InternalError("internal error: the call was not answered"));
}

}  // namespace usersvc::callbacks
