// RequestDeadline: the whole-request read deadline of the HTTP server. A per-read timeout
// alone lets a client that sends one byte every few seconds hold a connection (and a worker
// thread) forever (slowloris); this bounds the whole request instead.
//
// A request -- its head and its body -- must arrive within `timeout` of its first byte,
// extended by one second for every `min_bytes_per_second` bytes received: a large body sent
// at a reasonable rate is never cut, a client dribbling bytes is cut after `timeout`.
// Pure arithmetic on time points given by the caller (no clock read here), so it is tested
// without sleeping.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace t4dm {

class RequestDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  // min_bytes_per_second 0: no extension (the deadline is start + timeout).
  RequestDeadline(std::chrono::milliseconds timeout, size_t min_bytes_per_second)
      : timeout_(timeout), min_rate_(min_bytes_per_second) {}

  // A new request begins (its first byte is available) at `now`.
  void Start(Clock::time_point now) {
    start_ = now;
    bytes_ = 0;
  }
  // n more bytes of the request were received.
  void Received(size_t n) { bytes_ += n; }
  uint64_t bytes() const { return bytes_; }

  Clock::time_point deadline() const {
    std::chrono::microseconds extra{0};
    if (min_rate_ > 0) {
      // bytes_ * 1e6 / rate without overflow for any realistic byte count.
      extra = std::chrono::microseconds(
          static_cast<int64_t>(static_cast<double>(bytes_) * 1e6 / static_cast<double>(min_rate_)));
    }
    return start_ + timeout_ + extra;
  }
  bool Expired(Clock::time_point now) const { return now >= deadline(); }
  // Milliseconds left at `now` (0 once expired), at most cap_ms.
  int64_t RemainingMs(Clock::time_point now, int64_t cap_ms) const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline() - now);
    if (left.count() <= 0) return 0;
    return left.count() < cap_ms ? left.count() : cap_ms;
  }

  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  const std::chrono::milliseconds timeout_;
  const size_t min_rate_;
  Clock::time_point start_{};
  uint64_t bytes_ = 0;
};

}  // namespace t4dm
