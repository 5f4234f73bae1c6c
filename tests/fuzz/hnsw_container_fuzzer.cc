// Fuzz target: the HNSW container hnsw.idx (HnswIndex::Deserialize, ParseHnswContainer).
// The input is the file; it is read as given and again with its trailing XXH64 recomputed
// so the header, element and graph checks (and hnswlib behind them) see the hostile bytes.
// Properties: a refused container is refused by the parser and by Deserialize alike with
// kCorruption; an accepted one holds element_count labels, answers searches (plain and
// filtered) with stored, undeleted labels only, and serializes back to the same bytes.
#include <cmath>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "fuzz_support.h"
#include "util/checksum.h"
#include "util/coding.h"
#include "vector/hnsw_container.h"
#include "vector/hnsw_index.h"

namespace t4dx {
namespace fuzz {
namespace {

void SearchChecks(const HnswIndex& index, const std::vector<float>& query) {
  std::vector<HnswHit> hits;
  Status s = index.Search(query.data(), 5, 0, nullptr, &hits);
  T4DX_FUZZ_CHECK(s.ok(), "Search on an accepted container failed: " + s.ToString());
  for (const HnswHit& h : hits) {
    T4DX_FUZZ_CHECK(index.Contains(h.label), "Search returned a deleted or absent label");
    T4DX_FUZZ_CHECK(!std::isnan(h.score), "Search returned a NaN score");
  }
  s = index.Search(query.data(), 3, 7, [](uint64_t label) { return label % 2 == 0; }, &hits);
  T4DX_FUZZ_CHECK(s.ok(), "filtered Search failed: " + s.ToString());
  for (const HnswHit& h : hits) {
    T4DX_FUZZ_CHECK(h.label % 2 == 0 && index.Contains(h.label),
                    "filtered Search returned a label the filter refuses");
  }
}

void ReadOne(std::string_view data) {
  HnswContainerView view;
  const Status parsed = ParseHnswContainer(data, "hnsw.idx", &view);
  HnswParams expected;  // dim 0: accept the file's dimension and metric
  expected.initial_capacity = 16;
  std::unique_ptr<HnswIndex> index;
  uint64_t covered = 0;
  const Status s = HnswIndex::Deserialize(data, expected, &index, &covered);
  if (!parsed.ok()) {
    T4DX_FUZZ_CHECK(parsed.IsCorruption(), "parser failure is not kCorruption: " + parsed.ToString());
    T4DX_FUZZ_CHECK(!s.ok(), "Deserialize accepts what the parser refuses");
    return;
  }
  if (!s.ok()) {
    // Only resource limits may refuse a container the parser accepted.
    T4DX_FUZZ_CHECK(!s.IsCorruption(), "Deserialize refuses a parsed container: " + s.ToString());
    return;
  }
  T4DX_FUZZ_CHECK(covered == view.header.covered_lsn, "covered LSN differs from the header");
  T4DX_FUZZ_CHECK(index->size() == view.elements.size(), "element count differs");
  T4DX_FUZZ_CHECK(index->deleted_count() == view.header.deleted_count, "deleted count differs");
  for (const auto& e : view.elements) {
    T4DX_FUZZ_CHECK(index->Contains(e.label) == !e.deleted, "Contains disagrees with the file");
  }
  const uint32_t dim = index->params().dim;
  std::vector<float> query(dim, 0.5f);
  if (!view.elements.empty()) {
    query.assign(dim, 0.f);
    for (uint32_t d = 0; d < dim; ++d) {
      query[d] = DecodeFloat32(data.data() + view.elements[0].vector_offset + 4 * d);
    }
  }
  SearchChecks(*index, query);

  std::string again;
  Status w = index->Serialize(covered, &again);
  T4DX_FUZZ_CHECK(w.ok(), "Serialize of a loaded index failed: " + w.ToString());
  T4DX_FUZZ_CHECK(again == data, "a loaded container does not serialize to the same bytes");
}

}  // namespace

int FuzzHnswContainer(const uint8_t* data, size_t size) {
  const std::string_view bytes = AsView(data, size);
  ReadOne(bytes);
  if (size >= kHnswChecksumSize) {
    std::string fixed(bytes.substr(0, size - kHnswChecksumSize));
    PutHnswChecksum(&fixed);
    if (fixed != bytes) ReadOne(fixed);
  }
  return 0;
}

}  // namespace fuzz
}  // namespace t4dx

T4DX_FUZZ_ENTRY(FuzzHnswContainer)
