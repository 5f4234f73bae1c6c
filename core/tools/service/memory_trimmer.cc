#include "memory_trimmer.h"

#include <chrono>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace t4dm {

MemoryTrimmer::MemoryTrimmer(int64_t interval_ms, std::function<uint64_t()> activity)
    : interval_ms_(interval_ms), activity_(std::move(activity)) {}

MemoryTrimmer::~MemoryTrimmer() { Stop(); }

bool MemoryTrimmer::Trim() {
#if defined(__GLIBC__)
  malloc_trim(0);
  return true;
#else
  return false;
#endif
}

void MemoryTrimmer::ConfigureAllocator() {
#if defined(__GLIBC__)
  mallopt(M_TRIM_THRESHOLD, 1 << 20);
#endif
}

void MemoryTrimmer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void MemoryTrimmer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MemoryTrimmer::Loop() {
  uint64_t seen = activity_ ? activity_() : 0;
  // Ticks left to trim at: work seen at a tick is trimmed after then and once more a tick
  // later, for what the stores' background work (flush, indexing) frees after the requests.
  int due = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_));
    if (stop_) break;
    lock.unlock();
    const uint64_t now = activity_ ? activity_() : seen + 1;
    if (now != seen) due = 2;
    seen = now;
    if (due > 0) {
      --due;
      if (Trim()) trims_++;
    }
    lock.lock();
  }
}

}  // namespace t4dm
