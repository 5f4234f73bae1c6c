// Clock::Default: the system clock through std::chrono (works natively and in WASM).
#include "t4dx/clock.h"

#include <chrono>

namespace t4dx {
namespace {

class SystemClock : public Clock {
 public:
  int64_t NowUnixMillis() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Clock* Clock::Default() {
  static SystemClock* clock = new SystemClock();  // never destroyed: usable at exit
  return clock;
}

}  // namespace t4dx
