// ApiStatus: the outcome of a service request step, carrying the HTTP status, a stable
// snake_case error code and a message. Every error the service answers is the JSON body
//   {"error": {"code": "<code>", "message": "<message>"}}
// built by ToJson(). An OK ApiStatus carries nothing.
#pragma once

#include <string>

#include "t4dx/status.h"

namespace t4dm {

class ApiStatus {
 public:
  ApiStatus() = default;  // OK
  static ApiStatus OK() { return ApiStatus(); }
  static ApiStatus Error(int http_status, std::string code, std::string message);
  // 400 with the given code.
  static ApiStatus BadRequest(std::string code, std::string message) {
    return Error(400, std::move(code), std::move(message));
  }
  // Maps an engine status: kNotFound 404, kInvalidArgument 400, kBusy/kAborted 503,
  // kNoSpace 507, kLocked/kFailedPrecondition 409, kNotSupported 501, kCorruption and
  // kIOError 500. The code is Status::CodeName(); the message is the engine's.
  static ApiStatus FromEngine(const t4dx::Status& status);

  bool ok() const { return http_status_ == 0; }
  int http_status() const { return ok() ? 200 : http_status_; }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }

  // The error body. REQUIRES: !ok().
  std::string ToJson() const;

 private:
  int http_status_ = 0;
  std::string code_;
  std::string message_;
};

// The error body for an arbitrary code and message.
std::string ErrorJson(const std::string& code, const std::string& message);

}  // namespace t4dm

#define T4DM_RETURN_IF_API_ERROR(expr) \
  do {                                 \
    ::t4dm::ApiStatus _as = (expr);    \
    if (!_as.ok()) return _as;         \
  } while (0)
