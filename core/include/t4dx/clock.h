// Clock: time for the engine (item timestamps, history records, durations).
// Kept out of Env on purpose; tests substitute a fixed clock.
#pragma once

#include <cstdint>

namespace t4dx {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall clock).
  virtual int64_t NowUnixMillis() = 0;
  // Monotonic microseconds, for durations only.
  virtual int64_t NowMicros() = 0;
  // The system clock. Never null.
  static Clock* Default();
};

}  // namespace t4dx
