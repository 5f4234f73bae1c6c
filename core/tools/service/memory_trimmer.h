// MemoryTrimmer: hands the C library's free heap pages back to the OS while the service
// works, so resident memory follows the data the open stores hold.
//
// Why: glibc keeps freed memory in its arenas until it is reused. A flush frees a whole
// MemTable (1000 items with their vectors, ~1.8 KiB each, allocated by the HTTP threads)
// just as the same vectors are copied into the store's HNSW index, and the segment's
// vectors read for indexing are freed a moment later; without trimming, those pages stay
// resident and the service holds every flushed item about twice (measured with 50 stores
// of 1,100 384-dim items: 300 MiB resident, 154 MiB after malloc_trim).
//
// How: a thread wakes every interval_ms and, when activity() has changed since its last
// look (requests were served, stores closed), calls malloc_trim(0) then and once more at
// the next tick (for what background flushes and indexing free after the requests).
// malloc_trim gives back every whole free page of every arena: about 1 ms when little was
// freed, ~50 ms the first time after 150 MiB were freed; allocations in an arena wait
// while it is walked. An idle service is not trimmed. Where the C library is not glibc,
// Trim() does nothing.
//
// Thread safety: Start/Stop from one thread; trims() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace t4dm {

class MemoryTrimmer {
 public:
  // activity: a counter that grows with the work done (may be called from the trimmer's
  // thread at any time until Stop() returns).
  MemoryTrimmer(int64_t interval_ms, std::function<uint64_t()> activity);
  ~MemoryTrimmer();  // Stop()
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

  void Start();
  void Stop();
  uint64_t trims() const { return trims_.load(); }

  // Gives the free heap pages back to the OS now. True when the C library supports it.
  static bool Trim();

  // Call once at the start, before other threads: fixes glibc's trim threshold (1 MiB)
  // and with it the mmap threshold (128 KiB), which glibc otherwise raises to the largest
  // block freed so far (an HNSW level-0 array, MiBs) and the trim threshold to twice that.
  // malloc_trim does not shrink the free top of the per-thread arenas, so with the raised
  // thresholds ~1-6 MiB stayed resident per arena (16 arenas on 2 cores: measured 22 MiB
  // after every store closed; 8 MiB with the fixed thresholds). No-op outside glibc.
  static void ConfigureAllocator();

 private:
  void Loop();

  const int64_t interval_ms_;
  const std::function<uint64_t()> activity_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
  std::atomic<uint64_t> trims_{0};
};

}  // namespace t4dm
