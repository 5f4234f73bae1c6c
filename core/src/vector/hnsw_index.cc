// HnswIndex: the one file that includes hnswlib (0.8.0).
//
// Labels. hnswlib's labeltype is size_t (32 bits in WebAssembly), so hnswlib never sees
// our 64-bit labels: each Add takes the next "slot" (0, 1, 2, ...), hnswlib stores the
// slot as its label, and slot_labels_[slot] holds ours. label_to_slot_ maps back.
//
// Locks (always taken in this order):
//   write_mu_  shared by Add and MarkDeleted, exclusive for Serialize, so a snapshot
//              never sees a half-inserted element while searches go on.
//   resize_mu_ shared by everything that touches hnswlib memory, exclusive only to grow
//              the capacity (hnswlib's resizeIndex reallocates everything).
//   label_mu_  guards the slot tables and counters; held only for table updates.
// Searches read slot_labels_ without label_mu_: a slot's entry is written before the
// slot is handed to hnswlib and the vector only changes size under resize_mu_.
//
// Per-search ef: hnswlib's searchKnn reads the shared member ef_, so Search does the
// same walk itself (greedy descent, then searchBaseLayerST, which takes ef as an
// argument): concurrent searches with different ef never interfere.
//
// Scores are recomputed with distance.h for every candidate, so HNSW hits and the
// planner's brute-force hits rank by the very same numbers.
#include "vector/hnsw_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <random>
#include <shared_mutex>
#include <sstream>
#include <type_traits>
#include <unordered_map>

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#endif

// GCC 12 warns about its own AVX-512 intrinsics (_mm256_undefined_pd) inlined into
// hnswlib's distance functions: a known false positive, silenced for hnswlib only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "hnswlib/hnswlib.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "util/coding.h"
#include "util/item_codec.h"
#include "vector/distance.h"
#include "vector/hnsw_container.h"

namespace t4dx {
namespace {

using Graph = hnswlib::HierarchicalNSW<float>;

// scripts/deps.sh patches hnswlib's label-operation locks from 65,536 (2.5 MiB of mutexes
// per index, written at construction: 125 MiB for 50 open stores) to 1,024; our labels
// are dense slot numbers, so label & 1023 keeps concurrent adds of different labels apart.
// An unpatched checkout fails here instead of quietly costing the memory.
static_assert(Graph::MAX_LABEL_OPERATION_LOCKS <= 1024,
              "hnswlib headers not patched: run `make deps` (scripts/deps.sh)");
using hnswlib::tableint;

// hnswlib's level generator is std::default_random_engine: minstd_rand0 in libstdc++,
// minstd_rand in libc++ (WebAssembly). Either way a multiplicative congruential engine
// modulo 2^31 - 1 whose whole state is one number, which the container stores.
using LevelRng = std::default_random_engine;
static_assert(LevelRng::modulus == kHnswRngModulus && LevelRng::increment == 0,
              "the container stores the level generator state as one number mod 2^31-1");
static_assert(sizeof(tableint) == 4, "hnswlib internal ids are 32-bit");

enum SlotState : uint8_t { kPending = 0, kLive = 1, kDeleted = 2 };

// At most this many labels go to Search's prepare hint (k beyond it: no hint for the rest).
constexpr size_t kPrepareBatch = 64;

// The vector under hnswlib's result queue (a std::priority_queue keeps it protected).
template <typename Queue>
typename Queue::container_type& QueueContainer(Queue& q) {
  struct Access : Queue {
    static typename Queue::container_type& Of(Queue& q) { return q.*(&Access::c); }
  };
  return Access::Of(q);
}

// Sorts the n smallest (distance, id) pairs of v[from..] into v[from..from+n), ascending;
// the elements after them stay in v in some order. Ties are broken by id: deterministic.
void SortFront(std::vector<std::pair<float, tableint>>* v, size_t from, size_t n) {
  if (from >= v->size()) return;
  const auto mid = v->begin() + static_cast<std::ptrdiff_t>(std::min(v->size(), from + n));
  std::partial_sort(v->begin() + static_cast<std::ptrdiff_t>(from), mid, v->end());
}

// The level-0 best-first walk of an unfiltered search over a graph without deleted marks:
// the same candidates in the same order as hnswlib's searchBaseLayerST<true> (so the same
// results), written for hosts without a prefetch instruction. WebAssembly has none, and
// hnswlib's walk there computes each neighbour's distance right after the load that misses
// the cache, one miss after another. This walk first reads the first word of every
// unvisited neighbour's vector in a loop of independent loads (the CPU running the module
// overlaps their misses), then computes the distances from cache: measured ~30% less time
// per walk in WebAssembly (BENCHMARKS.md, WASM notes). Natively hnswlib's walk prefetches
// and is the default (HnswParams::touching_walk).
// Keeps the touching loads from being optimized away. One per thread, since walks run on
// many threads at once; not an atomic: a relaxed atomic store here made WebAssembly
// searches ~15% slower (alternating runs, session 7), where thread_local is a plain global.
thread_local volatile uint32_t g_touch_sink;

template <typename Queue>
Queue TouchingWalk(const Graph& g, tableint entry, const float* query, size_t ef) {
  Queue top;        // the ef best so far, worst on top
  Queue candidates;  // to expand, nearest on top (negated distances)
  hnswlib::VisitedList* vl = g.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = vl->mass;
  const hnswlib::vl_type tag = vl->curV;
  const hnswlib::DISTFUNC<float> dist = g.fstdistfunc_;
  const void* param = g.dist_func_param_;
  float bound = dist(query, g.getDataByInternalId(entry), param);
  top.emplace(bound, entry);
  candidates.emplace(-bound, entry);
  visited[entry] = tag;
  uint32_t touched = 0;
  std::vector<tableint> fresh(g.maxM0_ + 1);
  while (!candidates.empty()) {
    const std::pair<float, tableint> c = candidates.top();
    if (-c.first > bound) break;
    candidates.pop();
    const unsigned int* list = g.get_linklist0(c.second);
    const size_t n = g.getListCount(const_cast<unsigned int*>(list));
    const tableint* ids = reinterpret_cast<const tableint*>(list + 1);
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
      const tableint id = ids[i];
      if (visited[id] == tag) continue;
      visited[id] = tag;
      fresh[m++] = id;
      uint32_t word;
      std::memcpy(&word, g.getDataByInternalId(id), sizeof(word));
      touched ^= word;
    }
    for (size_t i = 0; i < m; ++i) {
      const tableint id = fresh[i];
      const float d = dist(query, g.getDataByInternalId(id), param);
      if (top.size() < ef || d < bound) {
        candidates.emplace(-d, id);
        top.emplace(d, id);
        if (top.size() > ef) top.pop();
        bound = top.top().first;
      }
    }
  }
  g.visited_list_pool_->releaseVisitedList(vl);
  g_touch_sink = touched;
  return top;
}

// hnswlib's queue of (distance, internal id), worst on top.
using CandidateQueue = std::priority_queue<std::pair<float, tableint>,
                                           std::vector<std::pair<float, tableint>>,
                                           Graph::CompareByFirst>;

// The walk inside an insertion, touching vectors as TouchingWalk does: hnswlib's
// searchBaseLayer (the ef_construction best elements of one layer; deleted elements are
// expanded but not returned), with the same candidates in the same order, so an index
// built with it is the same graph. Each expanded element's list is copied under its lock
// (hnswlib holds the lock while it computes the distances too; an insertion running beside
// this one may add to the list afterwards either way).
CandidateQueue TouchingConstructionWalk(Graph& g, tableint entry, const void* point,
                                        int layer) {
  CandidateQueue top;
  CandidateQueue candidates;
  hnswlib::VisitedList* vl = g.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = vl->mass;
  const hnswlib::vl_type tag = vl->curV;
  const hnswlib::DISTFUNC<float> dist = g.fstdistfunc_;
  const void* param = g.dist_func_param_;
  const size_t ef = g.ef_construction_;
  float bound = std::numeric_limits<float>::max();
  if (!g.isMarkedDeleted(entry)) {
    bound = dist(point, g.getDataByInternalId(entry), param);
    top.emplace(bound, entry);
  }
  candidates.emplace(-bound, entry);
  visited[entry] = tag;
  uint32_t touched = 0;
  std::vector<tableint> fresh(std::max(g.maxM0_, g.maxM_) + 1);
  while (!candidates.empty()) {
    const std::pair<float, tableint> c = candidates.top();
    if (-c.first > bound && top.size() == ef) break;
    candidates.pop();
    size_t m = 0;
    {
      std::unique_lock<std::mutex> lock(g.link_list_locks_[c.second]);
      unsigned int* list = layer == 0 ? g.get_linklist0(c.second)
                                      : g.get_linklist(c.second, layer);
      const size_t n = g.getListCount(list);
      const tableint* ids = reinterpret_cast<const tableint*>(list + 1);
      for (size_t i = 0; i < n; ++i) {
        const tableint id = ids[i];
        if (visited[id] == tag) continue;
        visited[id] = tag;
        fresh[m++] = id;
      }
    }
    for (size_t i = 0; i < m; ++i) {
      uint32_t word;
      std::memcpy(&word, g.getDataByInternalId(fresh[i]), sizeof(word));
      touched ^= word;
    }
    for (size_t i = 0; i < m; ++i) {
      const tableint id = fresh[i];
      const float d = dist(point, g.getDataByInternalId(id), param);
      if (top.size() < ef || bound > d) {
        candidates.emplace(-d, id);
        if (!g.isMarkedDeleted(id)) top.emplace(d, id);
        if (top.size() > ef) top.pop();
        if (!top.empty()) bound = top.top().first;
      }
    }
  }
  g.visited_list_pool_->releaseVisitedList(vl);
  g_touch_sink = touched;
  return top;
}

// hnswlib's addPoint(point, label) for a label the graph has never seen (HnswIndex gives
// every Add a new slot), with TouchingConstructionWalk in place of searchBaseLayer: the same
// locks in the same order, the same level draw, the same links.
void InsertTouching(Graph& g, const void* point, hnswlib::labeltype label) {
  std::unique_lock<std::mutex> label_lock(g.getLabelOpMutex(label));
  tableint cur = 0;
  int level = 0;
  {
    std::unique_lock<std::mutex> table(g.label_lookup_lock);
    if (g.label_lookup_.count(label) != 0) throw std::runtime_error("label already added");
    if (g.cur_element_count >= g.max_elements_) {
      throw std::runtime_error("The number of elements exceeds the specified limit");
    }
    cur = static_cast<tableint>(g.cur_element_count);
    g.cur_element_count++;
    g.label_lookup_[label] = cur;
    // Drawn here, under label_lookup_lock: hnswlib draws it under the new element's own
    // lock, where two insertions race on the generator. One draw per insertion either
    // way, in the same order when insertions come one at a time (the same graph).
    level = g.getRandomLevel(g.mult_);
  }
  std::unique_lock<std::mutex> element_lock(g.link_list_locks_[cur]);
  g.element_levels_[cur] = level;
  std::unique_lock<std::mutex> global(g.global);
  const int max_level = g.maxlevel_;
  if (level <= max_level) global.unlock();
  tableint current = g.enterpoint_node_;
  const tableint entry = g.enterpoint_node_;
  std::memset(g.data_level0_memory_ + cur * g.size_data_per_element_ + g.offsetLevel0_, 0,
              g.size_data_per_element_);
  std::memcpy(g.getExternalLabeLp(cur), &label, sizeof(label));
  std::memcpy(g.getDataByInternalId(cur), point, g.data_size_);
  if (level > 0) {
    const size_t bytes = g.size_links_per_element_ * static_cast<size_t>(level) + 1;
    g.linkLists_[cur] = static_cast<char*>(std::malloc(bytes));
    if (g.linkLists_[cur] == nullptr) throw std::bad_alloc();
    std::memset(g.linkLists_[cur], 0, bytes);
  }
  if (static_cast<int>(current) == -1) {  // the first element
    g.enterpoint_node_ = 0;
    g.maxlevel_ = level;
    return;
  }
  if (level < max_level) {  // greedy descent through the levels above the new element's
    float best = g.fstdistfunc_(point, g.getDataByInternalId(current), g.dist_func_param_);
    for (int l = max_level; l > level; --l) {
      for (bool changed = true; changed;) {
        changed = false;
        std::unique_lock<std::mutex> lock(g.link_list_locks_[current]);
        unsigned int* list = g.get_linklist(current, l);
        const int n = g.getListCount(list);
        const tableint* ids = reinterpret_cast<const tableint*>(list + 1);
        for (int i = 0; i < n; ++i) {
          if (ids[i] > g.max_elements_) throw std::runtime_error("cand error");
          const float d =
              g.fstdistfunc_(point, g.getDataByInternalId(ids[i]), g.dist_func_param_);
          if (d < best) {
            best = d;
            current = ids[i];
            changed = true;
          }
        }
      }
    }
  }
  const bool entry_deleted = g.isMarkedDeleted(entry);
  for (int l = std::min(level, max_level); l >= 0; --l) {
    CandidateQueue top = TouchingConstructionWalk(g, current, point, l);
    if (entry_deleted) {
      top.emplace(g.fstdistfunc_(point, g.getDataByInternalId(entry), g.dist_func_param_),
                  entry);
      if (top.size() > g.ef_construction_) top.pop();
    }
    current = g.mutuallyConnectNewElement(point, cur, top, l, false);
  }
  if (level > max_level) {  // still holding the global lock
    g.enterpoint_node_ = cur;
    g.maxlevel_ = level;
  }
}

// An index's space: a distance kernel chosen by hnswlib, and the dimension.
class KernelSpace final : public hnswlib::SpaceInterface<float> {
 public:
  KernelSpace(hnswlib::DISTFUNC<float> kernel, size_t dim) : kernel_(kernel), dim_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return kernel_; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  hnswlib::DISTFUNC<float> kernel_;
  size_t dim_;
};

// hnswlib's L2Space / InnerProductSpace constructors write process-wide function pointers
// (L2SqrSIMD16Ext, InnerProductSIMD16Ext, ...) that its residual kernels read on every
// distance: constructing one while another index searches (two stores opening at once) is
// a data race (ThreadSanitizer). So they are constructed once per process, one per kernel
// hnswlib picks (dim % 16 == 0, dim % 4 == 0, dim > 16, dim > 4, else), and each index
// borrows its kernel; std::call_once orders those writes before every search.
#if defined(__EMSCRIPTEN__)
// WebAssembly: hnswlib has no SIMD kernels here, and its portable ones sum into one
// accumulator, which no compiler vectorizes without -ffast-math. distance.h's eight-lane
// sums compile to WebAssembly SIMD (several times faster per distance).
float LaneInnerProductDistance(const void* a, const void* b, const void* dim) {
  return 1.0f - DotProduct(static_cast<const float*>(a), static_cast<const float*>(b),
                           *static_cast<const size_t*>(dim));
}
float LaneL2Squared(const void* a, const void* b, const void* dim) {
  return SquaredL2(static_cast<const float*>(a), static_cast<const float*>(b),
                   *static_cast<const size_t*>(dim));
}

std::unique_ptr<hnswlib::SpaceInterface<float>> MakeSpace(Metric metric, uint32_t dim) {
  return std::make_unique<KernelSpace>(
      metric == Metric::kL2 ? LaneL2Squared : LaneInnerProductDistance, dim);
}
#else
std::unique_ptr<hnswlib::SpaceInterface<float>> MakeSpace(Metric metric, uint32_t dim) {
  static constexpr size_t kProbeDims[] = {16, 4, 17, 5, 1};
  static hnswlib::DISTFUNC<float> l2_kernels[5];
  static hnswlib::DISTFUNC<float> ip_kernels[5];
  static std::once_flag once;
  std::call_once(once, [] {
    for (size_t i = 0; i < 5; ++i) {
      l2_kernels[i] = hnswlib::L2Space(kProbeDims[i]).get_dist_func();
      ip_kernels[i] = hnswlib::InnerProductSpace(kProbeDims[i]).get_dist_func();
    }
  });
  const size_t kind = dim % 16 == 0 ? 0 : dim % 4 == 0 ? 1 : dim > 16 ? 2 : dim > 4 ? 3 : 4;
  return std::make_unique<KernelSpace>(
      metric == Metric::kL2 ? l2_kernels[kind] : ip_kernels[kind], dim);
}
#endif

bool ValidMetric(Metric m) {
  return m == Metric::kCosine || m == Metric::kInnerProduct || m == Metric::kL2;
}

// Bytes hnswlib allocates per element slot (level 0 block), computed without overflow.
uint64_t Level0BytesPerElement(uint32_t dim, size_t m) {
  return 4ull + 8ull * m + 4ull * dim + sizeof(hnswlib::labeltype);
}

// OK when capacity elements fit in this host's address space (32 bits in WebAssembly).
Status CheckCapacity(uint64_t capacity, uint32_t dim, size_t m) {
  const uint64_t per = Level0BytesPerElement(dim, m);
  const uint64_t limit = std::numeric_limits<size_t>::max() / 2;
  if (capacity >= kHnswNoNode || capacity > limit / per) {
    return Status::InvalidArgument("HNSW capacity " + std::to_string(capacity) +
                                   " elements of dim " + std::to_string(dim) +
                                   " does not fit in this host's memory");
  }
  return Status::OK();
}

uint64_t SeedState(uint64_t seed) {
  const uint64_t s = seed % kHnswRngModulus;
  return s == 0 ? 1 : s;
}

uint64_t RngState(const std::default_random_engine& g) {
  std::ostringstream os;
  os << g;
  return std::strtoull(os.str().c_str(), nullptr, 10);
}

// hnswlib's search loops prefetch the entry after the last one of a neighbor list. On
// level 0 that stays inside the element's block, but a full upper-level list is the
// end of a malloc'ed block, so the read runs past it (AddressSanitizer reports it).
// One spare id per upper-level list (hnswlib sizes, strides and allocates those lists
// by size_links_per_element_ alone) keeps every such read inside the allocation.
void AddUpperListSlack(Graph* g) { g->size_links_per_element_ += sizeof(tableint); }

// A search reads level-0 records (vector and links) of random elements across the whole
// block: with 4 KiB pages nearly every one is a TLB miss. Asking the kernel for huge pages
// for the block (Linux, transparent huge pages in "madvise" mode) took those misses out of
// a search (BENCHMARKS.md, note 7), and out of the searches inside an insertion. hnswlib
// allocates the block with malloc and grows it with realloc, which moves pages without
// keeping them huge (and leaves the unaligned ends of any block in small pages): an index
// that grew from 2,600 to 20,000 elements inserted 10% slower than one created at 20,000
// (BENCHMARKS.md, note 16). So the block is moved to memory aligned to 2 MiB, advised
// before anything is written to it, after every (re)allocation: creation, growth, load.
// Only the elements added so far are copied. A hint only: where the kernel refuses or
// the aligned allocation fails, the block stays where hnswlib put it. REQUIRES: no other
// thread uses the graph (callers hold resize_mu exclusively or own the index alone).
void MoveLevel0ToHugePages(Graph* g) {
#if defined(__linux__) && defined(MADV_HUGEPAGE) && !defined(__EMSCRIPTEN__)
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t bytes = g->max_elements_ * g->size_data_per_element_;
  if (g->data_level0_memory_ == nullptr || bytes < kHuge) return;
  const size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
  void* block = nullptr;
  // Rounded up to whole huge pages, so the last one is not left in small pages; hnswlib
  // frees the block with free() and grows it with realloc(), which both accept it.
  if (posix_memalign(&block, kHuge, rounded) != 0 || block == nullptr) return;
  (void)madvise(block, rounded, MADV_HUGEPAGE);
  std::memcpy(block, g->data_level0_memory_, g->cur_element_count * g->size_data_per_element_);
  std::free(g->data_level0_memory_);
  g->data_level0_memory_ = static_cast<char*>(block);
#else
  (void)g;
#endif
}

// Maps hnswlib's label (our slot) to our label for the caller's filter. An exception
// from the filter must not unwind through hnswlib (its visited list would leak), so it
// is caught here: the filter then rejects everything and Search reports the error.
class LabelFilter : public hnswlib::BaseFilterFunctor {
 public:
  LabelFilter(const std::vector<uint64_t>& slot_labels,
              const std::function<bool(uint64_t)>& allowed)
      : slot_labels_(slot_labels), allowed_(allowed) {}

  bool operator()(hnswlib::labeltype slot) override {
    if (failed_) return false;
    try {
      return allowed_(slot_labels_[slot]);
    } catch (const std::exception& e) {
      error_ = e.what();
    } catch (...) {
      error_ = "a non-standard exception";
    }
    failed_ = true;
    return false;
  }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }

 private:
  const std::vector<uint64_t>& slot_labels_;
  const std::function<bool(uint64_t)>& allowed_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace

struct HnswIndex::Rep {
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;  // outlives graph
  std::unique_ptr<Graph> graph;

  mutable std::shared_mutex write_mu;
  mutable std::shared_mutex resize_mu;
  mutable std::mutex label_mu;

  // Sized to capacity; resized only with resize_mu exclusive and label_mu held.
  std::vector<uint64_t> slot_labels;
  std::vector<uint8_t> slot_state;
  size_t capacity = 0;
  // Guarded by label_mu.
  std::unordered_map<uint64_t, uint32_t> label_to_slot;
  size_t next_slot = 0;
  size_t count = 0;  // completed Adds
  size_t deleted = 0;
  std::atomic<bool> broken{false};
  std::string broken_reason;

  Status BrokenStatus() const {
    std::lock_guard<std::mutex> l(label_mu);
    return Status::FailedPrecondition("HNSW index unusable after an internal error (" +
                                      broken_reason + "); rebuild it");
  }
  void MarkBroken(const std::string& reason) {
    std::lock_guard<std::mutex> l(label_mu);
    if (!broken.load()) broken_reason = reason;
    broken.store(true);
  }
  Status ResizeTables(size_t new_capacity);
  Status Grow(const HnswParams& params);
  // Deserialize, naming `file` in errors (a nested class may build a HnswIndex).
  static Status Deserialize(std::string_view data, const HnswParams& expected,
                            const std::string& file, std::unique_ptr<HnswIndex>* out,
                            uint64_t* covered_lsn);
};

Status HnswIndex::Rep::ResizeTables(size_t new_capacity) {
  try {
    slot_labels.resize(new_capacity, 0);
    slot_state.resize(new_capacity, kPending);
  } catch (const std::exception& e) {
    return Status::IOError(std::string("HNSW label table allocation failed: ") + e.what());
  }
  return Status::OK();
}

Status HnswIndex::Rep::Grow(const HnswParams& params) {
  std::unique_lock<std::shared_mutex> resize(resize_mu);
  std::lock_guard<std::mutex> l(label_mu);
  if (next_slot < capacity) return Status::OK();  // another Add grew it meanwhile
  const uint64_t grown = static_cast<uint64_t>(capacity) + std::max<uint64_t>(capacity / 2, 64);
  T4DX_RETURN_IF_ERROR(CheckCapacity(grown, params.dim, params.m));
  const size_t new_capacity = static_cast<size_t>(grown);
  T4DX_RETURN_IF_ERROR(ResizeTables(new_capacity));
  try {
    graph->resizeIndex(new_capacity);
    MoveLevel0ToHugePages(graph.get());
  } catch (const std::exception& e) {
    // resizeIndex leaves the old capacity usable when an allocation fails.
    return Status::IOError("HNSW resize to " + std::to_string(new_capacity) +
                           " elements failed: " + e.what());
  }
  capacity = new_capacity;
  return Status::OK();
}

HnswIndex::HnswIndex() : rep_(std::make_unique<Rep>()) {}
HnswIndex::~HnswIndex() = default;

Status HnswIndex::Create(const HnswParams& params, std::unique_ptr<HnswIndex>* out) {
  if (params.dim == 0 || params.dim > kHnswMaxDim) {
    return Status::InvalidArgument("HNSW dim " + std::to_string(params.dim) + " outside 1.." +
                                   std::to_string(kHnswMaxDim));
  }
  if (!ValidMetric(params.metric)) {
    return Status::InvalidArgument("HNSW metric code " +
                                   std::to_string(static_cast<int>(params.metric)) + " is unknown");
  }
  if (params.m < kHnswMinM || params.m > kHnswMaxM) {
    return Status::InvalidArgument("HNSW M " + std::to_string(params.m) + " outside " +
                                   std::to_string(kHnswMinM) + ".." + std::to_string(kHnswMaxM));
  }
  if (params.ef_construction == 0 || params.ef_construction > kHnswMaxEfConstruction) {
    return Status::InvalidArgument("HNSW ef_construction " +
                                   std::to_string(params.ef_construction) + " outside 1.." +
                                   std::to_string(kHnswMaxEfConstruction));
  }
  if (params.ef_search == 0) return Status::InvalidArgument("HNSW ef_search must be at least 1");
  const size_t capacity = std::max<size_t>(params.initial_capacity, 1);
  T4DX_RETURN_IF_ERROR(CheckCapacity(capacity, params.dim, params.m));

  std::unique_ptr<HnswIndex> index(new HnswIndex());
  index->params_ = params;
  index->params_.initial_capacity = capacity;
  Rep* rep = index->rep_.get();
  T4DX_RETURN_IF_ERROR(rep->ResizeTables(capacity));
  try {
    rep->space = MakeSpace(params.metric, params.dim);
    rep->graph = std::make_unique<Graph>(rep->space.get(), capacity, params.m,
                                         params.ef_construction, params.random_seed);
    AddUpperListSlack(rep->graph.get());
    MoveLevel0ToHugePages(rep->graph.get());
    // hnswlib seeds from a size_t; reseed with a value that is the same on every host.
    rep->graph->level_generator_.seed(
        static_cast<std::default_random_engine::result_type>(SeedState(params.random_seed)));
  } catch (const std::exception& e) {
    return Status::IOError(std::string("HNSW index creation failed: ") + e.what());
  }
  rep->capacity = capacity;
  *out = std::move(index);
  return Status::OK();
}

Status HnswIndex::Add(uint64_t label, const float* vector) {
  if (vector == nullptr) return Status::InvalidArgument("HNSW Add: null vector");
  if (!AllFinite(vector, params_.dim)) {
    return Status::InvalidArgument("HNSW Add: vector for label " + std::to_string(label) +
                                   " has a NaN or infinite component");
  }
  Rep* rep = rep_.get();
  std::shared_lock<std::shared_mutex> write(rep->write_mu);
  for (;;) {
    std::shared_lock<std::shared_mutex> resize(rep->resize_mu);
    if (rep->broken.load()) return rep->BrokenStatus();
    uint32_t slot = 0;
    bool full = false;
    {
      std::lock_guard<std::mutex> l(rep->label_mu);
      if (rep->label_to_slot.count(label) != 0) {
        return Status::InvalidArgument("HNSW Add: label " + std::to_string(label) +
                                       " is already in the index");
      }
      if (rep->next_slot < rep->capacity) {
        slot = static_cast<uint32_t>(rep->next_slot++);
        rep->slot_labels[slot] = label;
        rep->slot_state[slot] = kPending;
        rep->label_to_slot.emplace(label, slot);
      } else {
        full = true;
      }
    }
    if (full) {
      resize.unlock();
      T4DX_RETURN_IF_ERROR(rep->Grow(params_));
      continue;
    }
    try {
      if (params_.touching_walk) {
        InsertTouching(*rep->graph, vector, static_cast<hnswlib::labeltype>(slot));
      } else {
        rep->graph->addPoint(vector, static_cast<hnswlib::labeltype>(slot));
      }
    } catch (const std::exception& e) {
      // The graph may hold part of the element now: stop trusting it.
      const std::string reason = std::string("addPoint failed: ") + e.what();
      rep->MarkBroken(reason);
      return Status::IOError("HNSW Add of label " + std::to_string(label) + ": " + reason);
    }
    std::lock_guard<std::mutex> l(rep->label_mu);
    rep->slot_state[slot] = kLive;
    ++rep->count;
    return Status::OK();
  }
}

Status HnswIndex::MarkDeleted(uint64_t label) {
  Rep* rep = rep_.get();
  std::shared_lock<std::shared_mutex> write(rep->write_mu);
  std::shared_lock<std::shared_mutex> resize(rep->resize_mu);
  if (rep->broken.load()) return rep->BrokenStatus();
  uint32_t slot = 0;
  {
    std::lock_guard<std::mutex> l(rep->label_mu);
    auto it = rep->label_to_slot.find(label);
    if (it == rep->label_to_slot.end() || rep->slot_state[it->second] == kPending) {
      return Status::NotFound("HNSW MarkDeleted: label " + std::to_string(label) +
                              " is not in the index");
    }
    slot = it->second;
    if (rep->slot_state[slot] == kDeleted) return Status::OK();
    rep->slot_state[slot] = kDeleted;
    ++rep->deleted;
  }
  try {
    rep->graph->markDelete(static_cast<hnswlib::labeltype>(slot));
  } catch (const std::exception& e) {
    const std::string reason = std::string("markDelete failed: ") + e.what();
    rep->MarkBroken(reason);
    return Status::IOError("HNSW MarkDeleted of label " + std::to_string(label) + ": " + reason);
  }
  return Status::OK();
}

bool HnswIndex::Contains(uint64_t label) const {
  std::lock_guard<std::mutex> l(rep_->label_mu);
  auto it = rep_->label_to_slot.find(label);
  return it != rep_->label_to_slot.end() && rep_->slot_state[it->second] == kLive;
}

size_t HnswIndex::CountLive(const uint64_t* labels, size_t n) const {
  std::lock_guard<std::mutex> l(rep_->label_mu);
  size_t live = 0;
  for (size_t i = 0; i < n; ++i) {
    auto it = rep_->label_to_slot.find(labels[i]);
    live += it != rep_->label_to_slot.end() && rep_->slot_state[it->second] == kLive;
  }
  return live;
}

bool HnswIndex::IsMarkedDeleted(uint64_t label) const {
  std::lock_guard<std::mutex> l(rep_->label_mu);
  auto it = rep_->label_to_slot.find(label);
  return it != rep_->label_to_slot.end() && rep_->slot_state[it->second] == kDeleted;
}

Status HnswIndex::Search(const float* query, size_t k, size_t ef,
                         const std::function<bool(uint64_t)>& allowed, std::vector<HnswHit>* out,
                         FilterPlacement placement, const PrepareFn& prepare) const {
  out->clear();
  if (k == 0) return Status::OK();
  if (query == nullptr) return Status::InvalidArgument("HNSW Search: null query");
  if (!AllFinite(query, params_.dim)) {
    return Status::InvalidArgument("HNSW Search: query has a NaN or infinite component");
  }
  const Rep* rep = rep_.get();
  std::shared_lock<std::shared_mutex> resize(rep->resize_mu);
  if (rep->broken.load()) return rep->BrokenStatus();
  const Graph& g = *rep->graph;
  const size_t ef_used = std::max(ef == 0 ? params_.ef_search : ef, k);
  using Queue = std::priority_queue<std::pair<float, tableint>,
                                    std::vector<std::pair<float, tableint>>, Graph::CompareByFirst>;
  // The hnswlib distances of the chosen elements, best first.
  std::vector<std::pair<float, tableint>> chosen;
  try {
    if (g.cur_element_count == 0) return Status::OK();
    tableint cur = g.enterpoint_node_;
    const int max_level = g.maxlevel_;
    // The first Add publishes the entry point last.
    if (cur == static_cast<tableint>(-1) || max_level < 0) return Status::OK();
    // A concurrent Add that raises the top level writes enterpoint_node_ and maxlevel_
    // one after the other: never walk above the level the entry point read has.
    const int top = std::min(max_level, g.element_levels_[cur]);
    float cur_dist = g.fstdistfunc_(query, g.getDataByInternalId(cur), g.dist_func_param_);
    for (int level = top; level > 0; --level) {
      bool changed = true;
      while (changed) {
        changed = false;
        const unsigned int* data = g.get_linklist(cur, level);
        const int size = g.getListCount(const_cast<unsigned int*>(data));
        const tableint* ids = reinterpret_cast<const tableint*>(data + 1);
        for (int i = 0; i < size; ++i) {
          const float d = g.fstdistfunc_(query, g.getDataByInternalId(ids[i]), g.dist_func_param_);
          if (d < cur_dist) {
            cur_dist = d;
            cur = ids[i];
            changed = true;
          }
        }
      }
    }
    auto walk = [&](hnswlib::BaseFilterFunctor* filter) -> Queue {
      if (filter == nullptr && g.num_deleted_ == 0) {
        if (params_.touching_walk) return TouchingWalk<Queue>(g, cur, query, ef_used);
        return g.searchBaseLayerST<true>(cur, query, ef_used);
      }
      return g.searchBaseLayerST<false>(cur, query, ef_used, filter);
    };
    // The queue's candidates (worst on top) with the best `first` of them sorted in front,
    // best first; the rest unordered. Usually only k are used while ef may be hundreds:
    // sorting just those beats popping the whole heap (measured: ~10 us less at ef 320).
    auto best_first = [&](Queue* q, size_t first) {
      std::vector<std::pair<float, tableint>> all = std::move(QueueContainer(*q));
      SortFront(&all, 0, first);
      return all;
    };
    bool done = false;
    if (allowed && placement == FilterPlacement::kAfterWalk) {
      Queue q = walk(nullptr);
      std::vector<std::pair<float, tableint>> candidates = best_first(&q, k);
      size_t sorted = std::min(k, candidates.size());
      // Usually the first k candidates all pass: their labels are read in one batch (the
      // loads overlap) and handed to prepare before allowed is asked about each.
      const size_t batch = std::min(k, candidates.size());
      uint64_t labels[kPrepareBatch];
      const size_t n = std::min(batch, kPrepareBatch);
      for (size_t i = 0; i < n; ++i) {
        labels[i] = rep->slot_labels[g.getExternalLabel(candidates[i].second)];
      }
      if (prepare && n > 0) prepare(labels, n);
      for (size_t i = 0; i < candidates.size() && chosen.size() < k; ++i) {
        if (i == sorted) {  // rejections: the next k best of the rest
          SortFront(&candidates, sorted, k);
          sorted = std::min(sorted + k, candidates.size());
        }
        const uint64_t label =
            i < n ? labels[i] : rep->slot_labels[g.getExternalLabel(candidates[i].second)];
        if (allowed(label)) chosen.push_back(candidates[i]);
      }
      done = chosen.size() == k;  // else: too many rejected, walk with the filter
      if (!done) chosen.clear();
    }
    if (!done) {
      Queue q;
      if (allowed) {
        LabelFilter filter(rep->slot_labels, allowed);
        q = walk(&filter);
        if (filter.failed()) {
          return Status::Aborted("HNSW search stopped: the filter threw " + filter.error());
        }
      } else {
        q = walk(nullptr);
      }
      chosen = best_first(&q, k);
      if (chosen.size() > k) chosen.resize(k);
    }
    out->reserve(chosen.size());
    for (const auto& c : chosen) {
      const size_t slot = g.getExternalLabel(c.second);
      const float score = Score(params_.metric, query,
                                reinterpret_cast<const float*>(g.getDataByInternalId(c.second)),
                                params_.dim);
      // NaN (an overflowing inner product) ranks nothing and breaks the sort below.
      if (std::isnan(score)) continue;
      out->push_back({rep->slot_labels[slot], score});
    }
  } catch (const std::exception& e) {
    out->clear();
    return Status::IOError(std::string("HNSW search failed: ") + e.what());
  }
  // Scores are ours (distance.h), hnswlib's order may differ in the last bits: re-sort.
  std::sort(out->begin(), out->end(), [](const HnswHit& a, const HnswHit& b) {
    return a.score != b.score ? a.score > b.score : a.label < b.label;
  });
  return Status::OK();
}

size_t HnswIndex::size() const {
  std::lock_guard<std::mutex> l(rep_->label_mu);
  return rep_->count;
}

size_t HnswIndex::deleted_count() const {
  std::lock_guard<std::mutex> l(rep_->label_mu);
  return rep_->deleted;
}

size_t HnswIndex::memory_bytes() const {
  std::shared_lock<std::shared_mutex> resize(rep_->resize_mu);
  const Graph& g = *rep_->graph;
  const size_t cap = rep_->capacity;
  size_t n;
  {
    std::lock_guard<std::mutex> l(rep_->label_mu);
    n = rep_->label_to_slot.size();
  }
  size_t bytes = cap * g.size_data_per_element_;  // level 0: links, vector, label
  bytes += cap * (sizeof(void*) + sizeof(int) + sizeof(std::mutex));  // upper-list pointers
  bytes += cap * sizeof(hnswlib::vl_type);                            // the visited list
  bytes += Graph::MAX_LABEL_OPERATION_LOCKS * sizeof(std::mutex);
  // Upper levels: an element has 1/(M-1) upper lists on average.
  bytes += n * g.size_links_per_element_ / (g.M_ > 1 ? g.M_ - 1 : 1);
  bytes += n * 2 * (sizeof(hnswlib::labeltype) + sizeof(tableint) + 2 * sizeof(void*));
  bytes += cap * (sizeof(uint64_t) + sizeof(uint8_t));  // our slot tables
  bytes += n * (sizeof(uint64_t) + sizeof(uint32_t) + 2 * sizeof(void*));
  return bytes;
}

void HnswIndex::ForEach(const std::function<void(uint64_t label, bool deleted)>& fn) const {
  std::vector<std::pair<uint64_t, bool>> items;
  {
    std::lock_guard<std::mutex> l(rep_->label_mu);
    items.reserve(rep_->count);
    for (size_t s = 0; s < rep_->next_slot; ++s) {
      if (rep_->slot_state[s] == kPending) continue;
      items.emplace_back(rep_->slot_labels[s], rep_->slot_state[s] == kDeleted);
    }
  }
  for (const auto& it : items) fn(it.first, it.second);
}

Status HnswIndex::Serialize(uint64_t covered_lsn, std::string* out) const {
  const Rep* rep = rep_.get();
  std::unique_lock<std::shared_mutex> write(rep->write_mu);
  std::shared_lock<std::shared_mutex> resize(rep->resize_mu);
  if (rep->broken.load()) return rep->BrokenStatus();
  const Graph& g = *rep->graph;
  const size_t n = g.cur_element_count;

  HnswContainerHeader h;
  h.version = kHnswFormatVersion;
  h.dim = params_.dim;
  h.metric = params_.metric;
  h.m = static_cast<uint32_t>(params_.m);
  h.ef_construction = static_cast<uint32_t>(params_.ef_construction);
  h.covered_lsn = covered_lsn;
  h.element_count = n;
  h.deleted_count = g.num_deleted_;
  h.max_level = n == 0 ? kHnswNoNode : static_cast<uint32_t>(g.maxlevel_);
  h.entry_point = n == 0 ? kHnswNoNode : g.enterpoint_node_;
  h.level_rng_state = RngState(g.level_generator_);

  std::string buf;
  try {
    buf.reserve(kHnswHeaderSize + kHnswChecksumSize +
                n * (17 + 4 * params_.dim + 4 * params_.m * 2 + 4 * params_.m / 4));
    PutHnswHeader(&buf, h);
    for (size_t i = 0; i < n; ++i) {
      const tableint id = static_cast<tableint>(i);
      PutFixed64(&buf, rep->slot_labels[g.getExternalLabel(id)]);
      buf.push_back(g.isMarkedDeleted(id) ? 1 : 0);
      const int level = g.element_levels_[i];
      PutFixed32(&buf, static_cast<uint32_t>(level));
      for (int l = 0; l <= level; ++l) {
        const unsigned int* list = g.get_linklist_at_level(id, l);
        const unsigned short count = g.getListCount(const_cast<unsigned int*>(list));
        PutFixed32(&buf, count);
        for (unsigned short j = 0; j < count; ++j) PutFixed32(&buf, list[1 + j]);
      }
      PutFloats(&buf, reinterpret_cast<const float*>(g.getDataByInternalId(id)), params_.dim);
    }
    PutHnswChecksum(&buf);
  } catch (const std::exception& e) {
    return Status::IOError(std::string("HNSW serialize failed: ") + e.what());
  }
  *out = std::move(buf);
  return Status::OK();
}

namespace {

// Builds the hnswlib graph from a verified container. Mirrors hnswlib's loadIndex, but
// from our parsed fields. Element i becomes internal id i and slot i.
void FillGraph(const HnswContainerView& view, Graph* g) {
  const char* data = view.data.data();
  const uint32_t dim = view.header.dim;
  const size_t n = view.elements.size();
  std::vector<float> vec(dim);
  g->label_lookup_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const HnswContainerView::Element& e = view.elements[i];
    const tableint id = static_cast<tableint>(i);
    std::memset(g->data_level0_memory_ + i * g->size_data_per_element_, 0,
                g->size_data_per_element_);
    size_t pos = e.links_offset;
    auto fill_list = [&](unsigned int* list) {
      const uint32_t count = DecodeFixed32(data + pos);
      pos += 4;
      g->setListCount(list, static_cast<unsigned short>(count));
      tableint* ids = reinterpret_cast<tableint*>(list + 1);
      for (uint32_t j = 0; j < count; ++j, pos += 4) ids[j] = DecodeFixed32(data + pos);
    };
    fill_list(g->get_linklist0(id));
    if (e.level > 0) {
      const size_t bytes = g->size_links_per_element_ * e.level + 1;
      g->linkLists_[i] = static_cast<char*>(std::malloc(bytes));
      if (g->linkLists_[i] == nullptr) throw std::bad_alloc();
      std::memset(g->linkLists_[i], 0, bytes);
      for (uint32_t l = 1; l <= e.level; ++l) fill_list(g->get_linklist(id, static_cast<int>(l)));
    }
    if (e.deleted) {
      reinterpret_cast<unsigned char*>(g->get_linklist0(id))[2] |= Graph::DELETE_MARK;
    }
    for (uint32_t d = 0; d < dim; ++d) vec[d] = DecodeFloat32(data + e.vector_offset + 4 * d);
    std::memcpy(g->getDataByInternalId(id), vec.data(), 4u * dim);
    g->setExternalLabel(id, static_cast<hnswlib::labeltype>(i));
    g->label_lookup_[static_cast<hnswlib::labeltype>(i)] = id;
    // Set last: clear() frees the upper lists of elements below cur_element_count.
    g->element_levels_[i] = static_cast<int>(e.level);
    g->cur_element_count = i + 1;
  }
  if (n > 0) {
    g->enterpoint_node_ = view.header.entry_point;
    g->maxlevel_ = static_cast<int>(view.header.max_level);
  }
  g->num_deleted_ = static_cast<size_t>(view.header.deleted_count);
  g->level_generator_.seed(
      static_cast<std::default_random_engine::result_type>(view.header.level_rng_state));
}

}  // namespace

Status HnswIndex::Deserialize(std::string_view data, const HnswParams& expected,
                              std::unique_ptr<HnswIndex>* out, uint64_t* covered_lsn) {
  return Rep::Deserialize(data, expected, kHnswContainerFile, out, covered_lsn);
}

Status HnswIndex::Rep::Deserialize(std::string_view data, const HnswParams& expected,
                                   const std::string& file, std::unique_ptr<HnswIndex>* out,
                                   uint64_t* covered_lsn) {
  HnswContainerView view;
  T4DX_RETURN_IF_ERROR(ParseHnswContainer(data, file, &view));
  const HnswContainerHeader& h = view.header;
  if (expected.dim != 0 && (h.dim != expected.dim || h.metric != expected.metric)) {
    return Status::InvalidArgument(file + ": index has dim " + std::to_string(h.dim) + " metric " +
                                   std::to_string(static_cast<int>(h.metric)) + ", expected dim " +
                                   std::to_string(expected.dim) + " metric " +
                                   std::to_string(static_cast<int>(expected.metric)));
  }
  HnswParams params = expected;
  params.dim = h.dim;
  params.metric = h.metric;
  params.m = h.m;
  params.ef_construction = h.ef_construction;
  if (params.ef_search == 0) params.ef_search = HnswParams().ef_search;
  const size_t n = view.elements.size();
  const size_t capacity = std::max<size_t>({params.initial_capacity, n, 1});
  T4DX_RETURN_IF_ERROR(CheckCapacity(capacity, h.dim, h.m).WithContext(file));
  params.initial_capacity = capacity;

  std::unique_ptr<HnswIndex> index(new HnswIndex());
  index->params_ = params;
  Rep* rep = index->rep_.get();
  T4DX_RETURN_IF_ERROR(rep->ResizeTables(capacity));
  try {
    rep->space = MakeSpace(params.metric, params.dim);
    rep->graph = std::make_unique<Graph>(rep->space.get(), capacity, params.m,
                                         params.ef_construction, params.random_seed);
    AddUpperListSlack(rep->graph.get());
    MoveLevel0ToHugePages(rep->graph.get());
    FillGraph(view, rep->graph.get());
  } catch (const std::exception& e) {
    return Status::IOError(file + ": building the HNSW index failed: " + e.what());
  }
  rep->capacity = capacity;
  rep->label_to_slot.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = view.elements[i];
    rep->slot_labels[i] = e.label;
    rep->slot_state[i] = e.deleted ? kDeleted : kLive;
    rep->label_to_slot.emplace(e.label, static_cast<uint32_t>(i));
  }
  rep->next_slot = n;
  rep->count = n;
  rep->deleted = static_cast<size_t>(h.deleted_count);
  if (covered_lsn != nullptr) *covered_lsn = h.covered_lsn;
  *out = std::move(index);
  return Status::OK();
}

Status HnswIndex::Save(Env* env, const std::string& dir, uint64_t covered_lsn) const {
  std::string data;
  T4DX_RETURN_IF_ERROR(Serialize(covered_lsn, &data));
  return WriteFileAtomic(env, JoinPath(dir, kHnswContainerFile), data);
}

Status HnswIndex::Load(Env* env, const std::string& dir, const HnswParams& expected,
                       std::unique_ptr<HnswIndex>* out, uint64_t* covered_lsn) {
  const std::string path = JoinPath(dir, kHnswContainerFile);
  FileView file;  // mapped natively: the container is checked and copied from the page cache
  T4DX_RETURN_IF_ERROR(ReadFileView(env, path, &file));
  return Rep::Deserialize(file.data, expected, path, out, covered_lsn);
}

}  // namespace t4dx

namespace t4dx {

// Added by the lead for the planner's exact stage (see hnsw_index.h).
Status HnswIndex::ScoreLabels(const float* query, const uint64_t* labels, size_t n,
                              float* scores) const {
  const Rep* rep = rep_.get();
  std::shared_lock<std::shared_mutex> resize(rep->resize_mu);
  if (rep->broken.load()) return rep->BrokenStatus();
  const Graph& g = *rep->graph;
  for (size_t i = 0; i < n; i++) {
    scores[i] = -std::numeric_limits<float>::infinity();
    size_t slot;
    {
      std::lock_guard<std::mutex> l(rep->label_mu);
      auto it = rep->label_to_slot.find(labels[i]);
      if (it == rep->label_to_slot.end() || rep->slot_state[it->second] != kLive) continue;
      slot = it->second;
    }
    tableint id;
    {
      std::unique_lock<std::mutex> l(const_cast<Graph&>(g).label_lookup_lock);
      auto it = g.label_lookup_.find(static_cast<hnswlib::labeltype>(slot));
      if (it == g.label_lookup_.end()) continue;
      id = it->second;
    }
    scores[i] = Score(params_.metric, query,
                      reinterpret_cast<const float*>(g.getDataByInternalId(id)), params_.dim);
  }
  return Status::OK();
}

}  // namespace t4dx
