// Writing and verifying the hnsw.idx container (core/doc/hnsw_format.md).
#include "vector/hnsw_container.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "util/checksum.h"
#include "util/coding.h"

namespace t4dx {
namespace {

// Byte offsets of the header fields.
constexpr size_t kOffVersion = 8;
constexpr size_t kOffDim = 12;
constexpr size_t kOffMetric = 16;
constexpr size_t kOffM = 17;
constexpr size_t kOffEfConstruction = 21;
constexpr size_t kOffCoveredLsn = 25;
constexpr size_t kOffElementCount = 33;
constexpr size_t kOffDeletedCount = 41;
constexpr size_t kOffMaxLevel = 49;
constexpr size_t kOffEntryPoint = 53;
constexpr size_t kOffRngState = 57;
static_assert(kOffRngState + 8 == kHnswHeaderSize, "header layout");

// label u64, deleted u8, level u32, level-0 count u32.
constexpr size_t kElementFixedSize = 8 + 1 + 4 + 4;

std::string Hex(uint64_t v) { return HashHex(v); }

class Parser {
 public:
  Parser(std::string_view data, const std::string& file) : data_(data), file_(file) {}

  Status Parse(HnswContainerView* out);

 private:
  Status Fail(size_t offset, const std::string& reason) const {
    return Status::CorruptionAt(file_, 0, static_cast<int64_t>(offset), reason);
  }
  uint32_t U32(size_t off) const { return DecodeFixed32(data_.data() + off); }
  uint64_t U64(size_t off) const { return DecodeFixed64(data_.data() + off); }

  Status ParseHeader(HnswContainerHeader* h);
  Status ParseElements(const HnswContainerHeader& h, std::vector<HnswContainerView::Element>* els);
  Status CheckGraph(const HnswContainerHeader& h,
                    const std::vector<HnswContainerView::Element>& els);

  std::string_view data_;
  const std::string& file_;
  size_t body_end_ = 0;  // where the checksum starts
};

Status Parser::Parse(HnswContainerView* out) {
  HnswContainerView view;
  view.data = data_;
  T4DX_RETURN_IF_ERROR(ParseHeader(&view.header));
  T4DX_RETURN_IF_ERROR(ParseElements(view.header, &view.elements));
  T4DX_RETURN_IF_ERROR(CheckGraph(view.header, view.elements));
  *out = std::move(view);
  return Status::OK();
}

Status Parser::ParseHeader(HnswContainerHeader* h) {
  const size_t n = data_.size();
  const size_t prefix = std::min(n, sizeof(kHnswMagic));
  if (prefix > 0 && std::memcmp(data_.data(), kHnswMagic, prefix) != 0) {
    return Fail(0, "bad magic: not an HNSW container (expected \"T4DXHNSW\")");
  }
  if (n < kOffVersion + 4) {
    return Fail(n, "truncated: " + std::to_string(n) + " bytes, the header alone needs " +
                       std::to_string(kHnswHeaderSize));
  }
  h->version = U32(kOffVersion);
  if (h->version != 1) {
    return Fail(kOffVersion, "unsupported format version " + std::to_string(h->version) +
                                 " (this build reads version 1)");
  }
  if (n < kHnswHeaderSize + kHnswChecksumSize) {
    return Fail(n, "truncated: " + std::to_string(n) + " bytes, header and checksum need " +
                       std::to_string(kHnswHeaderSize + kHnswChecksumSize));
  }
  body_end_ = n - kHnswChecksumSize;
  const uint64_t stored = U64(body_end_);
  const uint64_t computed = Hash64(data_.data(), body_end_);
  if (stored != computed) {
    return Fail(body_end_, "checksum mismatch: stored " + Hex(stored) + ", computed " +
                               Hex(computed) + " over bytes 0.." + std::to_string(body_end_));
  }

  h->dim = U32(kOffDim);
  if (h->dim == 0 || h->dim > kHnswMaxDim) {
    return Fail(kOffDim,
                "dim " + std::to_string(h->dim) + " outside 1.." + std::to_string(kHnswMaxDim));
  }
  const uint8_t metric = static_cast<uint8_t>(data_[kOffMetric]);
  if (metric > static_cast<uint8_t>(Metric::kL2)) {
    return Fail(kOffMetric, "unknown metric code " + std::to_string(metric));
  }
  h->metric = static_cast<Metric>(metric);
  h->m = U32(kOffM);
  if (h->m < kHnswMinM || h->m > kHnswMaxM) {
    return Fail(kOffM, "M " + std::to_string(h->m) + " outside " + std::to_string(kHnswMinM) +
                           ".." + std::to_string(kHnswMaxM));
  }
  h->ef_construction = U32(kOffEfConstruction);
  if (h->ef_construction == 0 || h->ef_construction > kHnswMaxEfConstruction) {
    return Fail(kOffEfConstruction, "ef_construction " + std::to_string(h->ef_construction) +
                                        " outside 1.." + std::to_string(kHnswMaxEfConstruction));
  }
  h->covered_lsn = U64(kOffCoveredLsn);

  // Every element takes at least its fixed fields and its vector: a count that cannot
  // fit in the bytes present is rejected before anything is sized by it.
  h->element_count = U64(kOffElementCount);
  const uint64_t min_record = kElementFixedSize + 4ull * h->dim;
  const uint64_t body = body_end_ - kHnswHeaderSize;
  if (h->element_count > body / min_record || h->element_count >= kHnswNoNode) {
    return Fail(kOffElementCount, "element_count " + std::to_string(h->element_count) +
                                      " cannot fit in the " + std::to_string(body) +
                                      " bytes of element records (each at least " +
                                      std::to_string(min_record) + ")");
  }
  h->deleted_count = U64(kOffDeletedCount);
  if (h->deleted_count > h->element_count) {
    return Fail(kOffDeletedCount, "deleted_count " + std::to_string(h->deleted_count) +
                                      " exceeds element_count " + std::to_string(h->element_count));
  }
  h->max_level = U32(kOffMaxLevel);
  h->entry_point = U32(kOffEntryPoint);
  if (h->element_count == 0) {
    if (h->max_level != kHnswNoNode) {
      return Fail(kOffMaxLevel, "empty index must have max_level 0xffffffff, has " +
                                    std::to_string(h->max_level));
    }
    if (h->entry_point != kHnswNoNode) {
      return Fail(kOffEntryPoint, "empty index must have entry_point 0xffffffff, has " +
                                      std::to_string(h->entry_point));
    }
  } else {
    if (h->max_level > kHnswMaxLevel) {
      return Fail(kOffMaxLevel, "max_level " + std::to_string(h->max_level) + " above " +
                                    std::to_string(kHnswMaxLevel));
    }
    if (h->entry_point >= h->element_count) {
      return Fail(kOffEntryPoint, "entry_point " + std::to_string(h->entry_point) +
                                      " is not an element (element_count " +
                                      std::to_string(h->element_count) + ")");
    }
  }
  h->level_rng_state = U64(kOffRngState);
  if (h->level_rng_state == 0 || h->level_rng_state >= kHnswRngModulus) {
    return Fail(kOffRngState, "level_rng_state " + std::to_string(h->level_rng_state) +
                                  " outside 1.." + std::to_string(kHnswRngModulus - 1));
  }
  return Status::OK();
}

Status Parser::ParseElements(const HnswContainerHeader& h,
                             std::vector<HnswContainerView::Element>* els) {
  const size_t n = static_cast<size_t>(h.element_count);
  els->resize(n);
  size_t pos = kHnswHeaderSize;
  const size_t vector_bytes = 4u * static_cast<size_t>(h.dim);
  for (size_t i = 0; i < n; ++i) {
    HnswContainerView::Element& e = (*els)[i];
    // Built only for an error: a string per element was a tenth of opening a large store.
    auto where = [i] { return "element " + std::to_string(i); };
    if (body_end_ - pos < kElementFixedSize) {
      return Fail(pos, where() + ": record truncated (" + std::to_string(body_end_ - pos) +
                           " bytes left before the checksum)");
    }
    e.label = U64(pos);
    const uint8_t deleted = static_cast<uint8_t>(data_[pos + 8]);
    if (deleted > 1) {
      return Fail(pos + 8, where() + ": deleted flag " + std::to_string(deleted) + " is not 0 or 1");
    }
    e.deleted = deleted == 1;
    e.level = U32(pos + 9);
    if (e.level > h.max_level) {
      return Fail(pos + 9, where() + ": level " + std::to_string(e.level) + " above max_level " +
                               std::to_string(h.max_level));
    }
    pos += 13;
    e.links_offset = pos;
    for (uint32_t l = 0; l <= e.level; ++l) {
      if (body_end_ - pos < 4) {
        return Fail(pos, where() + ": level " + std::to_string(l) + " neighbor count truncated");
      }
      const uint32_t count = U32(pos);
      const uint32_t max_count = l == 0 ? 2 * h.m : h.m;
      if (count > max_count) {
        return Fail(pos, where() + ": level " + std::to_string(l) + " has " + std::to_string(count) +
                             " neighbors, at most " + std::to_string(max_count) + " allowed");
      }
      pos += 4;
      if ((body_end_ - pos) / 4 < count) {
        return Fail(pos, where() + ": level " + std::to_string(l) + " neighbor list truncated");
      }
      for (uint32_t j = 0; j < count; ++j, pos += 4) {
        const uint32_t id = U32(pos);
        if (id >= h.element_count) {
          return Fail(pos, where() + ": level " + std::to_string(l) + " neighbor " +
                               std::to_string(id) + " is not an element (element_count " +
                               std::to_string(h.element_count) + ")");
        }
        if (id == i) {
          return Fail(pos, where() + ": level " + std::to_string(l) + " links to itself");
        }
      }
    }
    if (body_end_ - pos < vector_bytes) {
      return Fail(pos, where() + ": vector truncated");
    }
    e.vector_offset = pos;
    // NaN or infinite: all exponent bits set. Checked branch-free; the culprit is looked
    // for only when there is one.
    uint32_t bad = 0;
    for (size_t d = 0; d < h.dim; ++d) {
      bad |= static_cast<uint32_t>((DecodeFixed32(data_.data() + pos + 4 * d) & 0x7f800000u) ==
                                   0x7f800000u);
    }
    for (size_t d = 0; bad != 0 && d < h.dim; ++d) {
      if (!std::isfinite(DecodeFloat32(data_.data() + pos + 4 * d))) {
        return Fail(pos + 4 * d,
                    where() + ": vector component " + std::to_string(d) + " is not finite");
      }
    }
    pos += vector_bytes;
  }
  if (pos != body_end_) {
    return Fail(pos, std::to_string(body_end_ - pos) +
                         " unexpected bytes between the last element and the checksum");
  }
  return Status::OK();
}

Status Parser::CheckGraph(const HnswContainerHeader& h,
                          const std::vector<HnswContainerView::Element>& els) {
  const size_t n = els.size();
  if (n == 0) return Status::OK();

  uint64_t deleted = 0;
  uint32_t top = 0;
  for (const auto& e : els) {
    deleted += e.deleted ? 1 : 0;
    top = std::max(top, e.level);
  }
  if (deleted != h.deleted_count) {
    return Fail(kOffDeletedCount, "deleted_count " + std::to_string(h.deleted_count) + " but " +
                                      std::to_string(deleted) + " elements are marked deleted");
  }
  if (top != h.max_level) {
    return Fail(kOffMaxLevel, "max_level " + std::to_string(h.max_level) +
                                  " but the highest element level is " + std::to_string(top));
  }
  if (els[h.entry_point].level != h.max_level) {
    return Fail(kOffEntryPoint, "entry_point " + std::to_string(h.entry_point) + " has level " +
                                    std::to_string(els[h.entry_point].level) + ", not max_level " +
                                    std::to_string(h.max_level));
  }

  // A link on level l must point at an element that has level l; no list repeats an id.
  std::vector<uint64_t> seen(n, 0);  // list stamp that last saw each id
  uint64_t stamp = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t pos = els[i].links_offset;
    for (uint32_t l = 0; l <= els[i].level; ++l) {
      ++stamp;
      const uint32_t count = U32(pos);
      pos += 4;
      for (uint32_t j = 0; j < count; ++j, pos += 4) {
        const uint32_t id = U32(pos);
        if (els[id].level < l) {
          return Fail(pos, "element " + std::to_string(i) + ": level " + std::to_string(l) +
                               " links to element " + std::to_string(id) +
                               ", which only has levels 0.." + std::to_string(els[id].level));
        }
        if (seen[id] == stamp) {
          return Fail(pos, "element " + std::to_string(i) + ": level " + std::to_string(l) +
                               " lists neighbor " + std::to_string(id) + " twice");
        }
        seen[id] = stamp;
      }
    }
  }

  std::vector<std::pair<uint64_t, size_t>> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = {els[i].label, i};
  std::sort(labels.begin(), labels.end());
  for (size_t i = 1; i < n; ++i) {
    if (labels[i].first == labels[i - 1].first) {
      const size_t later = std::max(labels[i].second, labels[i - 1].second);
      const size_t earlier = std::min(labels[i].second, labels[i - 1].second);
      return Fail(els[later].links_offset - 13, "element " + std::to_string(later) + ": label " +
                                                    std::to_string(labels[i].first) +
                                                    " already used by element " +
                                                    std::to_string(earlier));
    }
  }
  return Status::OK();
}

}  // namespace

void PutHnswHeader(std::string* dst, const HnswContainerHeader& h) {
  dst->append(kHnswMagic, sizeof(kHnswMagic));
  PutFixed32(dst, h.version);
  PutFixed32(dst, h.dim);
  dst->push_back(static_cast<char>(static_cast<uint8_t>(h.metric)));
  PutFixed32(dst, h.m);
  PutFixed32(dst, h.ef_construction);
  PutFixed64(dst, h.covered_lsn);
  PutFixed64(dst, h.element_count);
  PutFixed64(dst, h.deleted_count);
  PutFixed32(dst, h.max_level);
  PutFixed32(dst, h.entry_point);
  PutFixed64(dst, h.level_rng_state);
}

void PutHnswChecksum(std::string* dst) { PutFixed64(dst, Hash64(dst->data(), dst->size())); }

Status ParseHnswContainer(std::string_view data, const std::string& file, HnswContainerView* out) {
  return Parser(data, file).Parse(out);
}

}  // namespace t4dx
