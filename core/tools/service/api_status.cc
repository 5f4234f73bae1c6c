#include "api_status.h"

#include <nlohmann/json.hpp>

namespace t4dm {

ApiStatus ApiStatus::Error(int http_status, std::string code, std::string message) {
  ApiStatus s;
  s.http_status_ = http_status;
  s.code_ = std::move(code);
  s.message_ = std::move(message);
  return s;
}

ApiStatus ApiStatus::FromEngine(const t4dx::Status& status) {
  using Code = t4dx::Status::Code;
  if (status.ok()) return OK();
  int http = 500;
  switch (status.code()) {
    case Code::kOk:
      return OK();
    case Code::kNotFound:
      http = 404;
      break;
    case Code::kInvalidArgument:
      http = 400;
      break;
    case Code::kBusy:
    case Code::kAborted:
      http = 503;
      break;
    case Code::kNoSpace:
      http = 507;
      break;
    case Code::kLocked:
    case Code::kFailedPrecondition:
      http = 409;
      break;
    case Code::kNotSupported:
      http = 501;
      break;
    case Code::kCorruption:
    case Code::kIOError:
      http = 500;
      break;
  }
  return Error(http, t4dx::Status::CodeName(status.code()), status.message());
}

std::string ApiStatus::ToJson() const { return ErrorJson(code_, message_); }

std::string ErrorJson(const std::string& code, const std::string& message) {
  nlohmann::json body;
  body["error"]["code"] = code;
  // Invalid UTF-8 (e.g. echoed from a hostile request) is replaced, never thrown on.
  body["error"]["message"] = message;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace t4dm
