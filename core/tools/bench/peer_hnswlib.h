// Plain hnswlib 0.8.0 (inner product space over normalized rows = cosine), the baseline of
// the ann, filtered and fresh workloads and the vector half of "LevelDB + hnswlib".
// peer_hnswlib.cc is the only file of the bench that includes hnswlib; its exceptions are
// caught there and returned as messages.
//
// Thread safety: Add and MarkDeleted may run concurrently with each other and with Search
// (hnswlib's own locks). SetEf changes a value shared by all searches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace t4dx_bench {

class HnswPeer {
 public:
  // An empty index for up to capacity vectors (fixed: resizing is not thread-safe).
  static std::unique_ptr<HnswPeer> Create(uint32_t dim, size_t capacity, size_t m,
                                          size_t ef_construction, uint64_t seed = 100);
  // Loads an index written by Save (hnswlib's own format).
  static std::unique_ptr<HnswPeer> Load(const std::string& path, uint32_t dim, size_t capacity,
                                        std::string* error);
  virtual ~HnswPeer() = default;

  // Adds (or, for a label already present, replaces) a vector. False with *error set.
  virtual bool Add(const float* v, uint64_t label, std::string* error) = 0;
  virtual void MarkDeleted(uint64_t label) = 0;
  virtual void SetEf(size_t ef) = 0;
  // Up to k labels, best first.
  virtual void Search(const float* q, size_t k, std::vector<uint64_t>* labels) const = 0;
  // In-graph filtering with hnswlib's filter functor: only allowed labels are returned.
  virtual void SearchFiltered(const float* q, size_t k, const std::vector<bool>& allowed,
                              std::vector<uint64_t>* labels) const = 0;
  virtual bool Save(const std::string& path, std::string* error) const = 0;
  virtual size_t size() const = 0;
  // Bytes hnswlib allocated for the elements present (graph + vectors + labels).
  virtual size_t memory_bytes() const = 0;

  // Builds rows [0, n) of data (row-major, dim floats) with `threads` threads, label = row.
  bool AddRange(const float* data, size_t begin, size_t end, uint32_t dim, size_t threads,
                std::string* error);
};

}  // namespace t4dx_bench
