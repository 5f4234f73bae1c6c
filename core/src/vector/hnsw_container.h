// The hnsw.idx container (core/doc/hnsw_format.md), without hnswlib: the writer's
// helpers and a verifying parser. HnswIndex uses both; the CLI and the inspector can use
// the parser alone to show an index's state.
//
// ParseHnswContainer checks every byte before anything is built from it: magic, version,
// checksum, parameter ranges, every count and id against the data length and against
// the graph's limits, levels, the entry point, labels. On failure it returns kCorruption
// located at the byte offset of the offending field, and leaves *out untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dx {

constexpr char kHnswMagic[8] = {'T', '4', 'D', 'X', 'H', 'N', 'S', 'W'};
constexpr size_t kHnswHeaderSize = 65;
constexpr size_t kHnswChecksumSize = 8;
// entry_point and max_level of an empty index.
constexpr uint32_t kHnswNoNode = 0xFFFFFFFFu;

// Limits enforced on parameters when an index is created and when a file is read. They
// bound the memory a file can make the reader allocate.
constexpr uint32_t kHnswMaxDim = 65536;
constexpr uint32_t kHnswMinM = 2;
constexpr uint32_t kHnswMaxM = 512;  // level-0 lists hold up to 2*M ids
constexpr uint32_t kHnswMaxEfConstruction = 1u << 20;
constexpr uint32_t kHnswMaxLevel = 64;  // P(level > 64) < 2^-64 even at M = 2
// The modulus of hnswlib's level generator (std::default_random_engine: minstd_rand0 or
// minstd_rand, both modulo 2^31 - 1): states are 1 .. modulus-1.
constexpr uint64_t kHnswRngModulus = 2147483647u;

struct HnswContainerHeader {
  uint32_t version = 0;
  uint32_t dim = 0;
  Metric metric = Metric::kCosine;
  uint32_t m = 0;
  uint32_t ef_construction = 0;
  uint64_t covered_lsn = 0;
  uint64_t element_count = 0;
  uint64_t deleted_count = 0;
  uint32_t max_level = kHnswNoNode;
  uint32_t entry_point = kHnswNoNode;
  uint64_t level_rng_state = 1;
};

// Appends the 65 header bytes.
void PutHnswHeader(std::string* dst, const HnswContainerHeader& h);
// Appends the XXH64 of everything in *dst so far.
void PutHnswChecksum(std::string* dst);

// A verified container: the header and, per element, where its parts are in `data`.
struct HnswContainerView {
  struct Element {
    uint64_t label = 0;
    bool deleted = false;
    uint32_t level = 0;
    size_t links_offset = 0;   // the level-0 list; the upper lists follow it in order
    size_t vector_offset = 0;  // dim little-endian float32
  };
  std::string_view data;
  HnswContainerHeader header;
  std::vector<Element> elements;
};

// Verifies data as a whole container. `file` names it in error messages. The view
// points into data, which must outlive it.
Status ParseHnswContainer(std::string_view data, const std::string& file, HnswContainerView* out);

}  // namespace t4dx
