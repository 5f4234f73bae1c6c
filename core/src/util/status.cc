// Status: construction of located corruption errors and printing.
#include "t4dx/status.h"

namespace t4dx {

Status Status::CorruptionAt(std::string file, int64_t line, int64_t offset, std::string reason) {
  // "<file>:<line> (byte <offset>): <reason>", each unknown part left out.
  std::string where = file;
  if (line > 0) where += (where.empty() ? "line " : ":") + std::to_string(line);
  if (offset >= 0) {
    where +=
        where.empty() ? "byte " + std::to_string(offset) : " (byte " + std::to_string(offset) + ")";
  }
  Status s(Code::kCorruption, where.empty() ? std::move(reason) : where + ": " + reason);
  s.file_ = std::move(file);
  s.line_ = line;
  s.offset_ = offset;
  return s;
}

const char* Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not_found";
    case Code::kCorruption:
      return "corruption";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kIOError:
      return "io_error";
    case Code::kNoSpace:
      return "no_space";
    case Code::kLocked:
      return "locked";
    case Code::kNotSupported:
      return "not_supported";
    case Code::kAborted:
      return "aborted";
    case Code::kBusy:
      return "busy";
    case Code::kFailedPrecondition:
      return "failed_precondition";
  }
  return "unknown";
}

namespace {
const char* DisplayName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kNoSpace:
      return "NoSpace";
    case Status::Code::kLocked:
      return "Locked";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kAborted:
      return "Aborted";
    case Status::Code::kBusy:
      return "Busy";
    case Status::Code::kFailedPrecondition:
      return "FailedPrecondition";
  }
  return "Unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(DisplayName(code_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status s = *this;
  s.message_ = context + ": " + message_;
  return s;
}

}  // namespace t4dx
