// The vectors and items a benchmark runs on: a data set in the big-ann-benchmarks layout
// (base.fbin, queries.fbin, gt100.ibin, base.jsonl with line i <-> row i), or synthetic
// clustered data. Every system is fed the same rows and the same items.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "flags.h"
#include "t4dx/item.h"

namespace t4dx_bench {

struct Dataset {
  std::string source;  // for the report: "debian/base.fbin" or "synthetic(c=64)"
  uint32_t dim = 0;
  size_t n = 0;
  std::vector<float> base;  // n * dim, L2-normalized (cosine = inner product)
  size_t nq = 0;
  std::vector<float> queries;  // nq * dim, L2-normalized
  // Exact top-gt_k row ids per query over exactly these n rows (empty when unknown).
  size_t gt_k = 0;
  std::vector<uint32_t> gt;

  // Item fields of row i.
  std::vector<std::string> ids;
  std::vector<std::string> contents;
  std::vector<t4dx::Metadata> metadata;
  std::vector<int64_t> timestamps;
  std::string kind = "episode";

  const float* row(size_t i) const { return base.data() + i * dim; }
  const float* query(size_t q) const { return queries.data() + q * dim; }
  // The full item of row i (a copy).
  t4dx::Item MakeItem(size_t i) const;
  // Logical bytes of row i: id, kind, content, metadata keys and values, 8 bytes of
  // timestamp, 4 bytes per dimension. The same for every system ("bytes ingested").
  size_t ItemBytes(size_t i) const;
  size_t TotalItemBytes(size_t begin, size_t end) const;
};

// Loads (or generates) the data the flags name. Rows beyond the file (--n larger than the
// file) are the file's rows cycled, each copy with a new id ("<id>:r<k>") and Gaussian
// noise (sigma 0.01 per component, renormalized) so no vector is stored twice.
bool LoadDataset(const Flags& flags, Dataset* data, std::string* error);

// A metadata key usable by the filtered workload: "bucket" gets a uniform value
// "b00".."b99" per row (added when missing). Returns the key actually used.
std::string PrepareFilterKey(const Flags& flags, Dataset* data);

}  // namespace t4dx_bench
