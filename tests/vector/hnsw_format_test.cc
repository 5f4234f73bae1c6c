// The hnsw.idx container: round trips, the documented layout, every named corruption
// case, a mutation fuzz loop, and Save/Load through an Env.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "t4dx/env.h"
#include "util/checksum.h"
#include "util/coding.h"
#include "vector/hnsw_container.h"
#include "vector/hnsw_index.h"
#include "vector/vector_test_util.h"

namespace t4dx {
namespace {

using testing_util::Build;
using testing_util::ClusteredData;
using testing_util::Dataset;
using testing_util::FixChecksum;
using testing_util::NormalizeRows;
using testing_util::RandomData;

// Where the fields of a (valid) container are, read straight from core/doc/hnsw_format.md
// without the production parser.
struct Layout {
  struct Element {
    size_t label = 0, deleted = 0, level = 0;  // field offsets
    uint32_t level_value = 0;
    std::vector<size_t> lists;  // offset of each level's count, level 0 first
    size_t vector = 0;
  };
  std::vector<Element> elements;
  size_t checksum = 0;
};

Layout ReadLayout(const std::string& d) {
  Layout out;
  const uint64_t n = DecodeFixed64(d.data() + 33);
  const uint32_t dim = DecodeFixed32(d.data() + 12);
  size_t pos = 65;
  for (uint64_t i = 0; i < n; ++i) {
    Layout::Element e;
    e.label = pos;
    e.deleted = pos + 8;
    e.level = pos + 9;
    e.level_value = DecodeFixed32(d.data() + pos + 9);
    pos += 13;
    for (uint32_t l = 0; l <= e.level_value; ++l) {
      e.lists.push_back(pos);
      pos += 4 + 4 * size_t{DecodeFixed32(d.data() + pos)};
    }
    e.vector = pos;
    pos += 4 * size_t{dim};
    out.elements.push_back(e);
  }
  out.checksum = pos;
  EXPECT_EQ(pos + 8, d.size());
  return out;
}

void Set32(std::string* d, size_t off, uint32_t v) {
  std::string b;
  PutFixed32(&b, v);
  d->replace(off, 4, b);
}
void Set64(std::string* d, size_t off, uint64_t v) {
  std::string b;
  PutFixed64(&b, v);
  d->replace(off, 8, b);
}
uint32_t Get32(const std::string& d, size_t off) { return DecodeFixed32(d.data() + off); }

HnswParams Expect(uint32_t dim, Metric metric) {
  HnswParams p;
  p.dim = dim;
  p.metric = metric;
  return p;
}

// A small index with several levels (M = 4), deleted elements and 64-bit labels.
struct Fixture {
  Dataset data = RandomData(80, 4, 21);
  std::unique_ptr<HnswIndex> index;
  std::string bytes;
  Fixture() {
    HnswParams p = Expect(4, Metric::kL2);
    p.m = 4;
    p.ef_construction = 20;
    EXPECT_TRUE(HnswIndex::Create(p, &index).ok());
    for (size_t i = 0; i < data.n; ++i) {
      EXPECT_TRUE(index->Add((uint64_t{7} << 40) + i, data.row(i)).ok());
    }
    for (size_t i = 0; i < data.n; i += 9) {
      EXPECT_TRUE(index->MarkDeleted((uint64_t{7} << 40) + i).ok());
    }
    EXPECT_TRUE(index->Serialize(99, &bytes).ok());
  }
};

Status Load(const std::string& bytes, std::unique_ptr<HnswIndex>* out = nullptr) {
  std::unique_ptr<HnswIndex> index;
  uint64_t lsn = 0;
  return HnswIndex::Deserialize(bytes, Expect(4, Metric::kL2), out ? out : &index, &lsn);
}

void ExpectSameSearches(const HnswIndex& a, const HnswIndex& b, const Dataset& queries) {
  std::vector<HnswHit> ha, hb;
  auto odd = [](uint64_t l) { return l % 2 == 1; };
  for (size_t q = 0; q < queries.n; ++q) {
    for (size_t ef : {size_t{0}, size_t{7}, size_t{300}}) {
      ASSERT_TRUE(a.Search(queries.row(q), 10, ef, {}, &ha).ok());
      ASSERT_TRUE(b.Search(queries.row(q), 10, ef, {}, &hb).ok());
      ASSERT_EQ(ha.size(), hb.size());
      for (size_t i = 0; i < ha.size(); ++i) {
        EXPECT_EQ(ha[i].label, hb[i].label);
        EXPECT_EQ(ha[i].score, hb[i].score);
      }
      ASSERT_TRUE(a.Search(queries.row(q), 10, ef, odd, &ha).ok());
      ASSERT_TRUE(b.Search(queries.row(q), 10, ef, odd, &hb).ok());
      ASSERT_EQ(ha.size(), hb.size());
      for (size_t i = 0; i < ha.size(); ++i) EXPECT_EQ(ha[i].label, hb[i].label);
    }
  }
}

TEST(HnswFormatTest, RoundTripGivesSameSearchesAndSameBytes) {
  Dataset data = ClusteredData(1200, 16, 12, 0.4f, 22);
  NormalizeRows(&data);
  auto index = Build(data, Metric::kCosine, uint64_t{1} << 33);
  for (uint64_t i = 0; i < 1200; i += 5)
    ASSERT_TRUE(index->MarkDeleted((uint64_t{1} << 33) + i).ok());
  std::string bytes;
  ASSERT_TRUE(index->Serialize(424242, &bytes).ok());

  std::unique_ptr<HnswIndex> loaded;
  uint64_t lsn = 0;
  HnswParams expected = Expect(16, Metric::kCosine);
  expected.ef_search = 77;
  Status s = HnswIndex::Deserialize(bytes, expected, &loaded, &lsn);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(lsn, 424242u);
  EXPECT_EQ(loaded->size(), 1200u);
  EXPECT_EQ(loaded->deleted_count(), 240u);
  EXPECT_EQ(loaded->params().dim, 16u);
  EXPECT_EQ(loaded->params().metric, Metric::kCosine);
  EXPECT_EQ(loaded->params().m, 16u);
  EXPECT_EQ(loaded->params().ef_construction, 200u);
  EXPECT_EQ(loaded->params().ef_search, 77u);
  EXPECT_TRUE(loaded->IsMarkedDeleted(uint64_t{1} << 33));
  EXPECT_TRUE(loaded->Contains((uint64_t{1} << 33) + 1));

  ExpectSameSearches(*index, *loaded, RandomData(20, 16, 23));

  std::string again;
  ASSERT_TRUE(loaded->Serialize(424242, &again).ok());
  EXPECT_TRUE(again == bytes);

  // The level generator state travels too: the same Adds on both give the same bytes.
  Dataset more = RandomData(100, 16, 24);
  NormalizeRows(&more);
  for (size_t i = 0; i < more.n; ++i) {
    ASSERT_TRUE(index->Add(i, more.row(i)).ok());
    ASSERT_TRUE(loaded->Add(i, more.row(i)).ok());
  }
  std::string a, b;
  ASSERT_TRUE(index->Serialize(1, &a).ok());
  ASSERT_TRUE(loaded->Serialize(1, &b).ok());
  EXPECT_TRUE(a == b);
}

TEST(HnswFormatTest, LayoutMatchesTheDocument) {
  Fixture f;
  const std::string& d = f.bytes;
  ASSERT_GE(d.size(), 73u);
  EXPECT_EQ(d.substr(0, 8), "T4DXHNSW");
  EXPECT_EQ(Get32(d, 8), 1u);                    // version
  EXPECT_EQ(Get32(d, 12), 4u);                   // dim
  EXPECT_EQ(d[16], 2);                           // metric l2
  EXPECT_EQ(Get32(d, 17), 4u);                   // M
  EXPECT_EQ(Get32(d, 21), 20u);                  // ef_construction
  EXPECT_EQ(DecodeFixed64(d.data() + 25), 99u);  // covered_lsn
  EXPECT_EQ(DecodeFixed64(d.data() + 33), 80u);  // element_count
  EXPECT_EQ(DecodeFixed64(d.data() + 41), 9u);   // deleted_count
  const uint32_t max_level = Get32(d, 49);
  const uint32_t entry = Get32(d, 53);
  EXPECT_GE(max_level, 1u);  // M = 4 gives upper levels at 80 elements
  Layout layout = ReadLayout(d);
  ASSERT_EQ(layout.elements.size(), 80u);
  EXPECT_EQ(layout.elements[entry].level_value, max_level);
  std::set<uint64_t> labels;
  for (size_t i = 0; i < 80; ++i) {
    const auto& e = layout.elements[i];
    labels.insert(DecodeFixed64(d.data() + e.label));
    EXPECT_EQ(d[e.deleted], i % 9 == 0 ? 1 : 0);
    EXPECT_LE(Get32(d, e.lists[0]), 8u);
    for (size_t l = 1; l < e.lists.size(); ++l) EXPECT_LE(Get32(d, e.lists[l]), 4u);
    for (uint32_t j = 0; j < 4; ++j) {
      EXPECT_EQ(DecodeFloat32(d.data() + e.vector + 4 * j), f.data.row(i)[j]);
    }
  }
  EXPECT_EQ(labels.size(), 80u);
  EXPECT_EQ(labels.count(uint64_t{7} << 40), 1u);
  EXPECT_EQ(DecodeFixed64(d.data() + layout.checksum), Hash64(d.data(), layout.checksum));
}

TEST(HnswFormatTest, BytesPerVectorAtDefaults) {
  // Reported in core/doc/hnsw_format.md: container bytes per element at M = 16.
  const testing_util::SharedWorkload& w = testing_util::Shared(Metric::kCosine, false);
  std::string bytes;
  ASSERT_TRUE(w.index->Serialize(0, &bytes).ok());
  const double per = static_cast<double>(bytes.size() - 73) / w.data.n;
  RecordProperty("bytes_per_vector_dim32", std::to_string(per));
  std::printf("container: n %zu, dim 32, M 16: %.1f bytes per vector (%.1f beyond the vector)\n",
              w.data.n, per, per - 4.0 * 32);
  // 17 fixed bytes, 4 per link (at most 2*M on level 0), rare upper levels.
  EXPECT_GT(per, 4.0 * 32 + 17 + 4 + 4 * 8);
  EXPECT_LT(per, 4.0 * 32 + 17 + 4 + 4 * 32 + 16);
}

TEST(HnswFormatTest, EmptyIndexRoundTrips) {
  HnswParams p = Expect(5, Metric::kInnerProduct);
  std::unique_ptr<HnswIndex> index;
  ASSERT_TRUE(HnswIndex::Create(p, &index).ok());
  std::string bytes;
  ASSERT_TRUE(index->Serialize(3, &bytes).ok());
  EXPECT_EQ(bytes.size(), 73u);
  EXPECT_EQ(Get32(bytes, 49), 0xffffffffu);
  EXPECT_EQ(Get32(bytes, 53), 0xffffffffu);
  std::unique_ptr<HnswIndex> loaded;
  uint64_t lsn = 0;
  ASSERT_TRUE(HnswIndex::Deserialize(bytes, p, &loaded, &lsn).ok());
  EXPECT_EQ(lsn, 3u);
  EXPECT_EQ(loaded->size(), 0u);
  const float v[5] = {1, 2, 3, 4, 5};
  std::vector<HnswHit> hits;
  ASSERT_TRUE(loaded->Search(v, 3, 0, {}, &hits).ok());
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(loaded->Add(1, v).ok());
  ASSERT_TRUE(loaded->Search(v, 3, 0, {}, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
}

TEST(HnswFormatTest, DimOrMetricMismatchIsInvalidArgument) {
  Fixture f;
  std::unique_ptr<HnswIndex> loaded;
  uint64_t lsn = 0;
  EXPECT_TRUE(
      HnswIndex::Deserialize(f.bytes, Expect(8, Metric::kL2), &loaded, &lsn).IsInvalidArgument());
  EXPECT_TRUE(HnswIndex::Deserialize(f.bytes, Expect(4, Metric::kCosine), &loaded, &lsn)
                  .IsInvalidArgument());
  EXPECT_EQ(loaded, nullptr);
  // dim 0: take the file's parameters.
  ASSERT_TRUE(HnswIndex::Deserialize(f.bytes, Expect(0, Metric::kCosine), &loaded, &lsn).ok());
  EXPECT_EQ(loaded->params().dim, 4u);
  EXPECT_EQ(loaded->params().metric, Metric::kL2);
}

// ---- named corruption cases: each is kCorruption located at the offending byte.

void ExpectCorruptAt(const std::string& bytes, size_t offset, const std::string& words) {
  std::unique_ptr<HnswIndex> out;
  Status s = Load(bytes, &out);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.offset(), static_cast<int64_t>(offset)) << s.ToString();
  EXPECT_EQ(s.file(), "hnsw.idx");
  EXPECT_NE(s.message().find(words), std::string::npos) << s.ToString();
  EXPECT_EQ(out, nullptr);
}

TEST(HnswCorruptionTest, BadMagic) {
  Fixture f;
  std::string d = f.bytes;
  d[3] = 'Y';
  ExpectCorruptAt(d, 0, "bad magic");
  ExpectCorruptAt("hello", 0, "bad magic");
}

TEST(HnswCorruptionTest, UnsupportedVersion) {
  Fixture f;
  std::string d = f.bytes;
  Set32(&d, 8, 2);
  FixChecksum(&d);
  ExpectCorruptAt(d, 8, "unsupported format version 2");
}

TEST(HnswCorruptionTest, ChecksumMismatchOnAnyFlippedByte) {
  Fixture f;
  for (size_t off : {size_t{12}, size_t{40}, size_t{65}, f.bytes.size() / 2, f.bytes.size() - 9,
                     f.bytes.size() - 1}) {
    std::string d = f.bytes;
    d[off] = static_cast<char>(d[off] ^ 0x10);
    ExpectCorruptAt(d, f.bytes.size() - 8, "checksum mismatch");
  }
}

TEST(HnswCorruptionTest, Truncated) {
  Fixture f;
  for (size_t len : {size_t{0}, size_t{4}, size_t{8}, size_t{11}, size_t{12}, size_t{64},
                     size_t{72}, f.bytes.size() / 2, f.bytes.size() - 1}) {
    std::unique_ptr<HnswIndex> out;
    Status s = Load(f.bytes.substr(0, len), &out);
    EXPECT_TRUE(s.IsCorruption()) << len << ": " << s.ToString();
  }
  ExpectCorruptAt(f.bytes.substr(0, 40), 40, "truncated");
  // With the checksum made to match, the element walk finds the end.
  std::string d = f.bytes.substr(0, f.bytes.size() - 20);
  d.append(8, '\0');
  FixChecksum(&d);
  std::unique_ptr<HnswIndex> out;
  Status s = Load(d, &out);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
}

TEST(HnswCorruptionTest, HeaderFieldsOutOfRange) {
  Fixture f;
  struct Case {
    size_t off;
    int width;
    uint64_t value;
    const char* words;
  };
  const Case cases[] = {
      {12, 4, 0, "dim 0"},
      {12, 4, 1u << 20, "dim"},
      {17, 4, 1, "M 1"},
      {17, 4, 100000, "M 100000"},
      {21, 4, 0, "ef_construction 0"},
      {33, 8, uint64_t{1} << 40, "element_count"},
      {33, 8, 0, "exceeds element_count 0"},
      {41, 8, 81, "deleted_count 81 exceeds"},
      {41, 8, 10, "deleted_count 10 but 9"},
      {49, 4, 65, "max_level 65"},
      {49, 4, 0, "level"},
      {53, 4, 80, "entry_point 80 is not an element"},
      {57, 8, 0, "level_rng_state 0"},
      {57, 8, 2147483647, "level_rng_state"},
  };
  for (const Case& c : cases) {
    std::string d = f.bytes;
    if (c.width == 4)
      Set32(&d, c.off, static_cast<uint32_t>(c.value));
    else
      Set64(&d, c.off, c.value);
    FixChecksum(&d);
    std::unique_ptr<HnswIndex> out;
    Status s = Load(d, &out);
    ASSERT_TRUE(s.IsCorruption()) << c.words << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.words), std::string::npos) << s.ToString();
  }
  std::string d = f.bytes;
  d[16] = 7;
  FixChecksum(&d);
  ExpectCorruptAt(d, 16, "unknown metric code 7");
}

TEST(HnswCorruptionTest, EntryPointBelowTopLevel) {
  Fixture f;
  Layout layout = ReadLayout(f.bytes);
  size_t low = 0;
  while (layout.elements[low].level_value != 0) ++low;
  std::string d = f.bytes;
  Set32(&d, 53, static_cast<uint32_t>(low));
  FixChecksum(&d);
  ExpectCorruptAt(d, 53, "not max_level");
}

TEST(HnswCorruptionTest, NeighborOutOfRangeSelfLinkAndDuplicate) {
  Fixture f;
  Layout layout = ReadLayout(f.bytes);
  const size_t list = layout.elements[10].lists[0];
  ASSERT_GE(Get32(f.bytes, list), 2u);

  std::string d = f.bytes;
  Set32(&d, list + 8, 80);
  FixChecksum(&d);
  ExpectCorruptAt(d, list + 8, "neighbor 80 is not an element");

  d = f.bytes;
  Set32(&d, list + 4, 10);
  FixChecksum(&d);
  ExpectCorruptAt(d, list + 4, "links to itself");

  d = f.bytes;
  Set32(&d, list + 8, Get32(d, list + 4));
  FixChecksum(&d);
  ExpectCorruptAt(d, list + 8, "twice");
}

TEST(HnswCorruptionTest, NeighborCountAboveMax) {
  Fixture f;
  Layout layout = ReadLayout(f.bytes);
  std::string d = f.bytes;
  Set32(&d, layout.elements[3].lists[0], 9);  // 2 * M + 1
  FixChecksum(&d);
  ExpectCorruptAt(d, layout.elements[3].lists[0], "at most 8 allowed");
  d = f.bytes;
  Set32(&d, layout.elements[3].lists[0], 0xffffffffu);
  FixChecksum(&d);
  ExpectCorruptAt(d, layout.elements[3].lists[0], "at most 8 allowed");
}

TEST(HnswCorruptionTest, LevelAboveMaxLevelAndLinkToMissingLevel) {
  Fixture f;
  Layout layout = ReadLayout(f.bytes);
  const uint32_t max_level = Get32(f.bytes, 49);
  std::string d = f.bytes;
  Set32(&d, layout.elements[0].level, max_level + 1);
  FixChecksum(&d);
  ExpectCorruptAt(d, layout.elements[0].level, "above max_level");

  // An upper-level link to an element that has only level 0.
  size_t low = 0;
  while (layout.elements[low].level_value != 0) ++low;
  for (size_t i = 0; i < layout.elements.size(); ++i) {
    const auto& e = layout.elements[i];
    if (e.level_value == 0 || Get32(f.bytes, e.lists[1]) == 0 || i == low) continue;
    d = f.bytes;
    Set32(&d, e.lists[1] + 4, static_cast<uint32_t>(low));
    FixChecksum(&d);
    ExpectCorruptAt(d, e.lists[1] + 4, "which only has levels 0..0");
    return;
  }
  FAIL() << "no upper-level list found";
}

TEST(HnswCorruptionTest, DuplicateLabelDeletedFlagAndNonFiniteVector) {
  Fixture f;
  Layout layout = ReadLayout(f.bytes);
  std::string d = f.bytes;
  Set64(&d, layout.elements[5].label, DecodeFixed64(d.data() + layout.elements[2].label));
  FixChecksum(&d);
  ExpectCorruptAt(d, layout.elements[5].label, "already used by element 2");

  d = f.bytes;
  d[layout.elements[4].deleted] = 2;
  FixChecksum(&d);
  ExpectCorruptAt(d, layout.elements[4].deleted, "deleted flag 2");

  d = f.bytes;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  uint32_t bits;
  std::memcpy(&bits, &nan, 4);
  Set32(&d, layout.elements[6].vector + 8, bits);
  FixChecksum(&d);
  ExpectCorruptAt(d, layout.elements[6].vector + 8, "not finite");
}

TEST(HnswCorruptionTest, TrailingBytes) {
  Fixture f;
  std::string d = f.bytes.substr(0, f.bytes.size() - 8) + std::string(4, '\0');
  d.append(8, '\0');
  FixChecksum(&d);
  ExpectCorruptAt(d, f.bytes.size() - 8, "4 unexpected bytes");
}

// Random mutations with the checksum recomputed, so the structural checks are what
// stands between the bytes and hnswlib. Nothing may crash (this runs under ASan too);
// whatever is accepted must be a working index.
TEST(HnswCorruptionTest, MutationFuzz) {
  Fixture f;
  std::mt19937 rng(12345);
  const std::string& base = f.bytes;
  std::uniform_int_distribution<size_t> any_offset(0, base.size() - 9);
  std::uniform_int_distribution<int> any_byte(0, 255);
  Dataset queries = RandomData(3, 4, 26);
  int accepted = 0, rejected = 0;
  for (int iter = 0; iter < 600; ++iter) {
    std::string d = base;
    switch (iter % 6) {
      case 0:  // one random byte
        d[any_offset(rng)] = static_cast<char>(any_byte(rng));
        break;
      case 1:  // a few bit flips
        for (int j = 0; j < 3; ++j) d[any_offset(rng)] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 2: {  // a 32-bit field set to an interesting value
        const uint32_t values[] = {0,  1,  2,          3,           8,           9,  79,
                                   80, 81, 0x7fffffff, 0xffffffffu, 0xfffffffeu, 65, 64};
        const size_t off = any_offset(rng) & ~size_t{3};
        if (off + 4 <= d.size() - 8) Set32(&d, off, values[rng() % 14]);
        break;
      }
      case 3: {  // cut out a range
        const size_t a = any_offset(rng), b = any_offset(rng);
        d.erase(std::min(a, b), std::max(a, b) - std::min(a, b) + 1);
        break;
      }
      case 4: {  // duplicate a range
        const size_t a = any_offset(rng);
        const size_t len = 1 + rng() % 40;
        d.insert(a, base.substr(a, len));
        break;
      }
      case 5:  // header byte
        d[rng() % 65] = static_cast<char>(any_byte(rng));
        break;
    }
    FixChecksum(&d);
    std::unique_ptr<HnswIndex> out;
    uint64_t lsn = 0;
    Status s = HnswIndex::Deserialize(d, Expect(0, Metric::kL2), &out, &lsn);
    if (!s.ok()) {
      ++rejected;
      EXPECT_TRUE(s.IsCorruption() || s.IsInvalidArgument()) << s.ToString();
      EXPECT_EQ(out, nullptr);
      continue;
    }
    ++accepted;
    std::vector<HnswHit> hits;
    for (size_t q = 0; q < queries.n; ++q) {
      if (out->params().dim != 4) break;
      ASSERT_TRUE(out->Search(queries.row(q), 5, 0, {}, &hits).ok());
      ASSERT_TRUE(out->Search(
                         queries.row(q), 5, 50, [](uint64_t l) { return l & 1; }, &hits)
                      .ok());
      ASSERT_TRUE(out->Add(uint64_t{1} << 63 | q, queries.row(q)).ok());
    }
    std::string again;
    ASSERT_TRUE(out->Serialize(lsn, &again).ok());
    std::unique_ptr<HnswIndex> reloaded;
    ASSERT_TRUE(HnswIndex::Deserialize(again, Expect(0, Metric::kL2), &reloaded, &lsn).ok());
  }
  EXPECT_GT(rejected, 300);
  EXPECT_GT(accepted, 20);  // e.g. mutated vectors, labels, rng state
}

// ---- through an Env

TEST(HnswEnvTest, SaveLoadMissingAndCorrupt) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/store").ok());
  Fixture f;
  std::unique_ptr<HnswIndex> loaded;
  uint64_t lsn = 0;
  EXPECT_TRUE(
      HnswIndex::Load(env.get(), "/store", Expect(4, Metric::kL2), &loaded, &lsn).IsNotFound());

  ASSERT_TRUE(f.index->Save(env.get(), "/store", 77).ok());
  EXPECT_TRUE(env->FileExists("/store/hnsw.idx"));
  EXPECT_FALSE(env->FileExists("/store/hnsw.idx.tmp"));
  std::string on_disk;
  ASSERT_TRUE(ReadFileToString(env.get(), "/store/hnsw.idx", &on_disk).ok());
  std::string expected_bytes;
  ASSERT_TRUE(f.index->Serialize(77, &expected_bytes).ok());
  EXPECT_TRUE(on_disk == expected_bytes);

  ASSERT_TRUE(HnswIndex::Load(env.get(), "/store", Expect(4, Metric::kL2), &loaded, &lsn).ok());
  EXPECT_EQ(lsn, 77u);
  ExpectSameSearches(*f.index, *loaded, RandomData(10, 4, 27));

  // Damage it: the error names the path and the byte.
  on_disk[100] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(env.get(), "/store/hnsw.idx", on_disk).ok());
  std::unique_ptr<HnswIndex> bad;
  Status s = HnswIndex::Load(env.get(), "/store", Expect(4, Metric::kL2), &bad, &lsn);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.file(), "/store/hnsw.idx");
  EXPECT_EQ(s.offset(), static_cast<int64_t>(on_disk.size() - 8));
  EXPECT_NE(s.message().find("/store/hnsw.idx"), std::string::npos);
  EXPECT_EQ(bad, nullptr);
}

}  // namespace
}  // namespace t4dx
