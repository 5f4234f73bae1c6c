// HnswIndex: the adapter around hnswlib 0.8.0. hnsw_index.cc is the only file in the
// project that includes hnswlib; its exceptions are caught there and become Status.
//
// Labels are 64-bit numbers chosen by the engine (the LSN of the item version indexed).
// Vectors are stored as given: for cosine the engine normalizes them before Add/Search.
//
// Persistence never uses hnswlib's own save format (its bytes depend on the host's
// size_t). Serialize writes our container (core/doc/hnsw_format.md): magic, version,
// parameters, covered LSN, fixed-width little-endian graph and vectors, XXH64 checksum.
// Deserialize verifies all of it before building the in-memory index, so a damaged or
// hostile file is rejected with kCorruption, never trusted.
//
// Thread safety: Add, MarkDeleted and Search may run concurrently (growing the capacity
// takes an exclusive lock internally). Serialize may run concurrently with Search.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dx {

constexpr char kHnswContainerFile[] = "hnsw.idx";
constexpr int kHnswFormatVersion = 1;

struct HnswParams {
  uint32_t dim = 0;
  Metric metric = Metric::kCosine;
  size_t m = 16;
  size_t ef_construction = 200;
  size_t ef_search = 64;
  size_t initial_capacity = 1024;
  uint64_t random_seed = 100;
  // The walks of unfiltered searches (level 0) and of insertions (every level): ones that
  // load every neighbour's vector before computing distances (for hosts without a
  // prefetch instruction: WebAssembly), or hnswlib's, which prefetch. Same results and
  // the same graph either way; a speed choice only.
#if defined(__EMSCRIPTEN__)
  bool touching_walk = true;
#else
  bool touching_walk = false;
#endif
};

struct HnswHit {
  uint64_t label;
  float score;  // higher is better (see distance.h)
};

class HnswIndex {
 public:
  static Status Create(const HnswParams& params, std::unique_ptr<HnswIndex>* out);
  ~HnswIndex();

  // Adds a vector of params().dim floats under label. Grows capacity as needed.
  // InvalidArgument if the label is already present (deleted or not).
  Status Add(uint64_t label, const float* vector);
  // Marks label deleted: never returned again. NotFound if absent; OK if already marked.
  Status MarkDeleted(uint64_t label);
  bool Contains(uint64_t label) const;      // present and not deleted
  bool IsMarkedDeleted(uint64_t label) const;
  // How many of labels[0..n) are present and not deleted (one lock for all of them).
  size_t CountLive(const uint64_t* labels, size_t n) const;

  // Where Search asks `allowed` about candidates.
  enum class FilterPlacement {
    // Inside the graph walk (hnswlib's filter functor): for filters that reject many
    // labels. allowed is called for every visited element.
    kInGraph,
    // After an unfiltered walk, over its ef candidates best first; if fewer than k pass,
    // the walk is repeated with the filter inside the graph. For filters that rarely
    // reject (labels superseded since they were indexed): allowed is called about k times.
    kAfterWalk,
  };

  // A performance hint for kAfterWalk: called once, before `allowed` is asked about them,
  // with the labels of the walk's best candidates (best first, at most min(k, 64)), so the
  // caller can start loading what `allowed` and its use of the hits will read (e.g.
  // prefetch). It must not change what `allowed` answers.
  using PrepareFn = std::function<void(const uint64_t* labels, size_t n)>;

  // Up to k best hits, best first. ef 0 = params().ef_search (raised to k if lower).
  // allowed (may be empty) is asked about candidate labels; only allowed ones are returned.
  // prepare (may be empty): see PrepareFn; used with kAfterWalk only.
  Status Search(const float* query, size_t k, size_t ef,
                const std::function<bool(uint64_t)>& allowed, std::vector<HnswHit>* out,
                FilterPlacement placement = FilterPlacement::kInGraph,
                const PrepareFn& prepare = PrepareFn()) const;

  // Exact scores of query against the stored vectors of labels (for the planner's exact
  // stage over indexed segments: no disk read). scores[i] is -inf for an absent label.
  Status ScoreLabels(const float* query, const uint64_t* labels, size_t n, float* scores) const;

  size_t size() const;           // elements, deleted ones included
  size_t deleted_count() const;
  size_t memory_bytes() const;   // approximate bytes held
  const HnswParams& params() const { return params_; }
  // Calls fn(label, deleted) for every element.
  void ForEach(const std::function<void(uint64_t label, bool deleted)>& fn) const;

  // The container bytes (see above), recording covered_lsn.
  Status Serialize(uint64_t covered_lsn, std::string* out) const;
  // Builds an index from container bytes. kCorruption (with byte offset and reason) for
  // anything that fails the checks; InvalidArgument when dim/metric differ from expected
  // (expected.dim 0 = accept the file's). ef_search comes from expected.
  static Status Deserialize(std::string_view data, const HnswParams& expected,
                            std::unique_ptr<HnswIndex>* out, uint64_t* covered_lsn);

  // Serialize + WriteFileAtomic to dir/hnsw.idx; ReadFileToString + Deserialize.
  Status Save(Env* env, const std::string& dir, uint64_t covered_lsn) const;
  static Status Load(Env* env, const std::string& dir, const HnswParams& expected,
                     std::unique_ptr<HnswIndex>* out, uint64_t* covered_lsn);

 private:
  HnswIndex();
  struct Rep;
  std::unique_ptr<Rep> rep_;
  HnswParams params_;
};

}  // namespace t4dx
