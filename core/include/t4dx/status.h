// Status: the result of every fallible call in T4DX. The core never throws.
//
// An OK status carries nothing. An error carries a code, a message that says what went
// wrong and where, and, for corruption, the file, line and byte offset it was found at.
// Thread safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <cstdint>
#include <string>

namespace t4dx {

class Status {
 public:
  // Serialized (error codes reach JSON bodies and the npm package): never renumber.
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kInvalidArgument = 3,
    kIOError = 4,
    kNoSpace = 5,         // ENOSPC: the write was not done; reads keep working
    kLocked = 6,          // the store is held by another process or handle
    kNotSupported = 7,
    kAborted = 8,         // stopped by the caller or by shutdown
    kBusy = 9,            // a bounded resource is full; retry later
    kFailedPrecondition = 10,  // e.g. writes refused after a failed fsync, or read-only
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status NoSpace(std::string msg) { return Status(Code::kNoSpace, std::move(msg)); }
  static Status Locked(std::string msg) { return Status(Code::kLocked, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }
  static Status Aborted(std::string msg) { return Status(Code::kAborted, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status FailedPrecondition(std::string msg) {
    return Status(Code::kFailedPrecondition, std::move(msg));
  }
  // Corruption found at a place in a file. line is 1-based (0 = not line oriented);
  // offset is the byte offset in the file (-1 = unknown).
  static Status CorruptionAt(std::string file, int64_t line, int64_t offset, std::string reason);

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNoSpace() const { return code_ == Code::kNoSpace; }
  bool IsLocked() const { return code_ == Code::kLocked; }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& file() const { return file_; }  // empty when not located
  int64_t line() const { return line_; }
  int64_t offset() const { return offset_; }

  // "Corruption: <message>" (the location is already part of the message).
  std::string ToString() const;
  // Stable lower-case name of the code ("corruption", "invalid_argument", ...).
  static const char* CodeName(Code code);

  // Returns a copy whose message is prefixed with "context: ".
  Status WithContext(const std::string& context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::string file_;
  int64_t line_ = 0;
  int64_t offset_ = -1;
};

}  // namespace t4dx

// Returns from the enclosing function when `expr` is not OK.
#define T4DX_RETURN_IF_ERROR(expr)      \
  do {                                  \
    ::t4dx::Status _st = (expr);        \
    if (!_st.ok()) return _st;          \
  } while (0)
