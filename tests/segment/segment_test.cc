// Segments: names, round trip, lookups, exact vectors, statistics, input validation.
#include "segment/segment.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <thread>

#include "segment/segment_format.h"
#include "segment_test_util.h"

namespace t4dx {
namespace {

using namespace segment_test;

constexpr uint32_t kDim = 8;
constexpr int64_t kNow = 1700000999000;

TEST(SegmentNameTest, FormatAndParse) {
  EXPECT_EQ(SegmentDirName(1), "seg_000001");
  EXPECT_EQ(SegmentDirName(123456), "seg_123456");
  EXPECT_EQ(SegmentDirName(1234567), "seg_1234567");
  uint64_t id = 0;
  EXPECT_TRUE(ParseSegmentDirName("seg_000042", &id));
  EXPECT_EQ(id, 42u);
  EXPECT_TRUE(ParseSegmentDirName("seg_1234567", &id));
  EXPECT_EQ(id, 1234567u);
  for (const char* bad :
       {"seg_000001.tmp", "seg_00001", "seg_0000001", "seg_", "seg_abcdef", "seg_00000a",
        "xeg_000001", "", "seg_99999999999999999999999", "seg_000001/", "wal.jsonl"}) {
    EXPECT_FALSE(ParseSegmentDirName(bad, &id)) << bad;
  }
}

// Runs each test on the in-memory Env and on the POSIX Env in a /tmp directory.
class SegmentTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      tmp_ = std::make_unique<TempDir>();
      env_ = Env::Default();
      store_ = tmp_->path();
    } else {
      mem_ = NewMemEnv();
      env_ = mem_.get();
      store_ = "/store";
      ASSERT_TRUE(env_->CreateDir(store_).ok());
    }
  }
  std::string SegDir(uint64_t id) const { return JoinPath(store_, SegmentDirName(id)); }

  void Write(uint64_t id, const std::vector<SegmentEntry>& entries, SegmentMeta* meta = nullptr,
             uint32_t dim = kDim) {
    SegmentMeta m;
    Status s = WriteSegment(env_, store_, id, entries, dim, Metric::kL2, {7, 9}, kNow, &m);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (meta != nullptr) *meta = m;
  }
  std::unique_ptr<SegmentReader> Open(uint64_t id) {
    std::unique_ptr<SegmentReader> r;
    Status s = SegmentReader::Open(env_, SegDir(id), &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r;
  }

  std::unique_ptr<Env> mem_;
  std::unique_ptr<TempDir> tmp_;
  Env* env_ = nullptr;
  std::string store_;
};

void ExpectSameMeta(const SegmentMeta& a, const SegmentMeta& b) {
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.live, b.live);
  EXPECT_EQ(a.vectors, b.vectors);
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.metric, b.metric);
  EXPECT_EQ(a.lsn_min, b.lsn_min);
  EXPECT_EQ(a.lsn_max, b.lsn_max);
  EXPECT_EQ(a.time_min, b.time_min);
  EXPECT_EQ(a.time_max, b.time_max);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.total_bytes, b.total_bytes);
  EXPECT_EQ(a.stats.kinds, b.stats.kinds);
  EXPECT_EQ(a.stats.values, b.stats.values);
  EXPECT_EQ(a.stats.overflow, b.stats.overflow);
  EXPECT_EQ(a.stats.key_counts, b.stats.key_counts);
  EXPECT_EQ(a.meta_checksum, b.meta_checksum);
}

TEST_P(SegmentTest, RoundTrip) {
  const auto entries = MakeEntries(60, kDim);
  SegmentMeta written;
  Write(3, entries, &written);
  EXPECT_TRUE(env_->FileExists(JoinPath(SegDir(3), kSegmentMetaFile)));
  bool is_dir = false;
  EXPECT_FALSE(env_->IsDirectory(SegDir(3) + ".tmp", &is_dir).ok() && is_dir);

  auto r = Open(3);
  ASSERT_NE(r, nullptr);
  ExpectSameMeta(r->meta(), written);
  EXPECT_EQ(r->id(), 3u);
  EXPECT_EQ(r->vector_dim(), kDim);
  EXPECT_EQ(r->dir(), SegDir(3));
  ASSERT_EQ(r->size(), entries.size());
  EXPECT_EQ(r->meta().format_version, kSegmentFormatVersion);
  EXPECT_EQ(r->meta().metric, Metric::kL2);
  EXPECT_EQ(r->meta().inputs, (std::vector<uint64_t>{7, 9}));
  EXPECT_EQ(r->meta().created_ms, kNow);

  int64_t row = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const SegmentEntry& e = entries[i];
    const SegmentEntryHeader& h = r->entries()[i];
    EXPECT_EQ(h.id, e.item.id);
    EXPECT_EQ(h.lsn, e.lsn);
    EXPECT_EQ(h.deleted, e.deleted);
    EXPECT_EQ(h.timestamp, e.item.timestamp);
    const bool has_vec = !e.deleted && !e.item.embedding.empty();
    EXPECT_EQ(h.row, has_vec ? row++ : -1);
    if (!e.deleted) {
      EXPECT_EQ(h.kind, e.item.kind);
      EXPECT_EQ(h.metadata, e.item.metadata);
    }

    Item got;
    Status s = r->ReadItem(i, /*with_embedding=*/true, &got);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (e.deleted) {
      Item want;
      want.id = e.item.id;
      want.timestamp = e.item.timestamp;
      EXPECT_EQ(got, want);
    } else {
      EXPECT_EQ(got, e.item);
    }
    Item bare;
    ASSERT_TRUE(r->ReadItem(i, /*with_embedding=*/false, &bare).ok());
    EXPECT_TRUE(bare.embedding.empty());
    EXPECT_EQ(bare.content, got.content);
  }
  EXPECT_EQ(static_cast<uint64_t>(row), r->meta().vectors);
  Item dummy;
  EXPECT_TRUE(r->ReadItem(entries.size(), false, &dummy).IsInvalidArgument());

  std::vector<SegmentProblem> problems;
  Status s = r->VerifyChecksum(&problems);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(problems.empty());

  SegmentMeta only_meta;
  ASSERT_TRUE(ReadSegmentMeta(env_, SegDir(3), &only_meta).ok());
  ExpectSameMeta(only_meta, written);
}

TEST_P(SegmentTest, FindEveryIdAndMisses) {
  std::vector<SegmentEntry> entries;
  for (int i = 0; i < 40; ++i) entries.push_back(MakeEntry(i * 2 + 1, kDim));  // odd ids only
  Write(1, entries);
  auto r = Open(1);
  ASSERT_NE(r, nullptr);
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(r->Find(entries[i].item.id), static_cast<int64_t>(i));
  }
  for (int i = 0; i <= 80; i += 2) EXPECT_EQ(r->Find(IdOf(i)), -1) << IdOf(i);
  EXPECT_EQ(r->Find(""), -1);
  EXPECT_EQ(r->Find("zzz"), -1);
  EXPECT_EQ(r->Find("a"), -1);
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

TEST_P(SegmentTest, VectorsAreBitExact) {
  const std::vector<float> specials = {0.0f,
                                       -0.0f,
                                       std::numeric_limits<float>::denorm_min(),
                                       -std::numeric_limits<float>::min(),
                                       std::numeric_limits<float>::max(),
                                       -std::numeric_limits<float>::lowest() / 3,
                                       1.0f / 3.0f,
                                       0.1f};
  std::vector<SegmentEntry> entries;
  for (int i = 0; i < 20; ++i) {
    SegmentEntry e;
    e.item.id = IdOf(i);
    e.item.timestamp = i;
    e.lsn = static_cast<uint64_t>(i + 1);
    for (uint32_t d = 0; d < kDim; ++d) {
      e.item.embedding.push_back(specials[(d + i) % specials.size()] * (i % 2 ? 1.f : -1.f));
    }
    entries.push_back(e);
  }
  Write(2, entries);
  auto r = Open(2);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->meta().vectors, entries.size());

  std::vector<float> all;
  ASSERT_TRUE(r->ReadVectors(0, entries.size(), &all).ok());
  ASSERT_EQ(all.size(), entries.size() * kDim);
  for (size_t i = 0; i < entries.size(); ++i) {
    for (uint32_t d = 0; d < kDim; ++d) {
      EXPECT_EQ(Bits(all[i * kDim + d]), Bits(entries[i].item.embedding[d])) << i << "," << d;
    }
  }
  std::vector<float> some;
  ASSERT_TRUE(r->ReadVectors(5, 3, &some).ok());
  EXPECT_EQ(some, std::vector<float>(all.begin() + 5 * kDim, all.begin() + 8 * kDim));
  ASSERT_TRUE(r->ReadVectors(20, 0, &some).ok());
  EXPECT_TRUE(some.empty());
  EXPECT_TRUE(r->ReadVectors(19, 2, &some).IsInvalidArgument());
  EXPECT_TRUE(r->ReadVectors(21, 0, &some).IsInvalidArgument());
  EXPECT_TRUE(r->ReadVectors(UINT64_MAX, 2, &some).IsInvalidArgument());

  Item item;
  ASSERT_TRUE(r->ReadItem(7, true, &item).ok());
  ASSERT_EQ(item.embedding.size(), kDim);
  for (uint32_t d = 0; d < kDim; ++d) {
    EXPECT_EQ(Bits(item.embedding[d]), Bits(entries[7].item.embedding[d]));
  }
}

// Many entries and long contents: lines and rows cross 64 KiB block boundaries.
TEST_P(SegmentTest, MultiBlockFiles) {
  const uint32_t dim = 96;
  const auto entries = MakeEntries(700, dim, 700);
  SegmentMeta meta;
  Write(4, entries, &meta, dim);
  auto r = Open(4);
  ASSERT_NE(r, nullptr);
  uint64_t items_size = 0, vectors_size = 0;
  ASSERT_TRUE(env_->GetFileSize(JoinPath(SegDir(4), kSegmentItemsFile), &items_size).ok());
  ASSERT_TRUE(env_->GetFileSize(JoinPath(SegDir(4), kSegmentVectorsFile), &vectors_size).ok());
  EXPECT_GT(items_size, 5u * kSegmentBlockSize);
  EXPECT_GT(vectors_size, 2u * kSegmentBlockSize);
  for (size_t i = 0; i < entries.size(); ++i) {
    Item got;
    ASSERT_TRUE(r->ReadItem(i, true, &got).ok()) << i;
    if (!entries[i].deleted) {
      EXPECT_EQ(got, entries[i].item) << i;
    }
  }
  std::vector<SegmentProblem> problems;
  EXPECT_TRUE(r->VerifyChecksum(&problems).ok());
  EXPECT_TRUE(problems.empty());
}

TEST_P(SegmentTest, ForEachItemMatchesReadItem) {
  const uint32_t dim = 96;
  const auto entries = MakeEntries(300, dim, 700);
  Write(14, entries, nullptr, dim);
  auto r = Open(14);
  ASSERT_NE(r, nullptr);
  for (bool with_embedding : {true, false}) {
    size_t next = 0;
    Status s = r->ForEachItem(with_embedding, [&](size_t i, Item& item) {
      EXPECT_EQ(i, next++);
      Item want;
      Status rs = r->ReadItem(i, with_embedding, &want);
      EXPECT_TRUE(rs.ok()) << rs.ToString();
      EXPECT_EQ(item, want) << i;
      return Status::OK();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(next, entries.size());
  }
  // The callback's error stops the walk and is returned as is.
  size_t calls = 0;
  Status s = r->ForEachItem(false, [&](size_t i, Item&) {
    ++calls;
    return i == 41 ? Status::Aborted("stop here") : Status::OK();
  });
  EXPECT_EQ(s.code(), Status::Code::kAborted);
  EXPECT_EQ(calls, 42u);
}

TEST_P(SegmentTest, EmptySegment) {
  SegmentMeta meta;
  Write(5, {}, &meta);
  EXPECT_EQ(meta.count, 0u);
  auto r = Open(5);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->size(), 0u);
  EXPECT_EQ(r->meta().lsn_min, 0u);
  EXPECT_EQ(r->meta().time_max, 0);
  EXPECT_EQ(r->Find(IdOf(1)), -1);
  EXPECT_TRUE(r->ForEachItem(true, [](size_t, Item&) { return Status::Aborted("none"); }).ok());
  std::vector<SegmentProblem> problems;
  EXPECT_TRUE(r->VerifyChecksum(&problems).ok());
  EXPECT_TRUE(problems.empty());
}

TEST_P(SegmentTest, OnlyTombstones) {
  std::vector<SegmentEntry> entries(3);
  for (int i = 0; i < 3; ++i) {
    entries[i].item.id = IdOf(i);
    entries[i].item.kind = "ignored for a tombstone";
    entries[i].item.content = "ignored";
    entries[i].item.embedding = std::vector<float>(kDim, 1.f);
    entries[i].item.timestamp = 50 + i;
    entries[i].lsn = 10 - i;
    entries[i].deleted = true;
  }
  SegmentMeta meta;
  Write(6, entries, &meta);
  EXPECT_EQ(meta.count, 3u);
  EXPECT_EQ(meta.live, 0u);
  EXPECT_EQ(meta.vectors, 0u);
  EXPECT_EQ(meta.lsn_min, 8u);
  EXPECT_EQ(meta.lsn_max, 10u);
  EXPECT_EQ(meta.time_min, 0);  // time range is over live entries
  EXPECT_EQ(meta.time_max, 0);
  EXPECT_TRUE(meta.stats.kinds.empty());
  auto r = Open(6);
  ASSERT_NE(r, nullptr);
  Item got;
  ASSERT_TRUE(r->ReadItem(1, true, &got).ok());
  EXPECT_EQ(got.id, IdOf(1));
  EXPECT_EQ(got.timestamp, 51);
  EXPECT_TRUE(got.kind.empty());
  EXPECT_TRUE(got.content.empty());
  EXPECT_TRUE(got.embedding.empty());
}

TEST_P(SegmentTest, MetaRangesAndStats) {
  auto entries = MakeEntries(50, kDim);
  SegmentMeta meta;
  Write(8, entries, &meta);

  SegmentStats want;
  uint64_t live = 0, vectors = 0;
  int64_t tmin = std::numeric_limits<int64_t>::max(), tmax = std::numeric_limits<int64_t>::min();
  for (const SegmentEntry& e : entries) {
    if (e.deleted) continue;
    ++live;
    vectors += e.item.embedding.empty() ? 0 : 1;
    tmin = std::min(tmin, e.item.timestamp);
    tmax = std::max(tmax, e.item.timestamp);
    ++want.kinds[e.item.kind];
    for (const auto& [k, v] : e.item.metadata) {
      ++want.key_counts[k];
      if (v.type == MetaValue::Type::kString) ++want.values[k][v.str];
      if (v.type == MetaValue::Type::kStringList) {
        for (const std::string& t : std::set<std::string>(v.list.begin(), v.list.end())) {
          ++want.values[k][t];
        }
      }
    }
  }
  EXPECT_EQ(meta.count, 50u);
  EXPECT_EQ(meta.live, live);
  EXPECT_EQ(meta.vectors, vectors);
  EXPECT_EQ(meta.lsn_min, 1000u);
  EXPECT_EQ(meta.lsn_max, 1000u + 49 * 3);
  EXPECT_EQ(meta.time_min, tmin);
  EXPECT_EQ(meta.time_max, tmax);
  EXPECT_EQ(meta.stats.kinds, want.kinds);
  EXPECT_EQ(meta.stats.key_counts, want.key_counts);
  EXPECT_EQ(meta.stats.values, want.values);
  EXPECT_EQ(meta.stats.values.at("tags").at("all"), live);  // a repeated tag counts once
  // Numbers and booleans are not tracked by value: their keys are marked incomplete.
  EXPECT_EQ(meta.stats.overflow, (std::map<std::string, bool>{{"pinned", true}, {"score", true}}));
  EXPECT_EQ(meta.stats.values.count("score"), 0u);
  EXPECT_GT(meta.total_bytes, 0u);

  auto r = Open(8);
  ASSERT_NE(r, nullptr);
  ExpectSameMeta(r->meta(), meta);
}

TEST_P(SegmentTest, TooManyDistinctValuesOverflow) {
  std::vector<SegmentEntry> entries;
  const int n = static_cast<int>(SegmentStats::kMaxTrackedValues) + 10;
  for (int i = 0; i < n; ++i) {
    SegmentEntry e;
    e.item.id = IdOf(i);
    e.item.timestamp = i;
    e.lsn = static_cast<uint64_t>(i + 1);
    e.item.metadata["uid"] = MetaValue::String("u" + std::to_string(i));
    e.item.metadata["few"] = MetaValue::String(i % 2 ? "odd" : "even");
    entries.push_back(e);
  }
  SegmentMeta meta;
  Write(9, entries, &meta);
  EXPECT_EQ(meta.stats.values.count("uid"), 0u);
  EXPECT_TRUE(meta.stats.overflow["uid"]);
  EXPECT_EQ(meta.stats.key_counts["uid"], static_cast<uint64_t>(n));
  EXPECT_EQ(meta.stats.values["few"].size(), 2u);
  EXPECT_EQ(meta.stats.overflow.count("few"), 0u);
  SegmentMeta read;
  ASSERT_TRUE(ReadSegmentMeta(env_, SegDir(9), &read).ok());
  ExpectSameMeta(read, meta);
}

TEST_P(SegmentTest, MetaJsonIsReadable) {
  Write(10, MakeEntries(5, kDim));
  const std::string text = ReadAll(env_, JoinPath(SegDir(10), kSegmentMetaFile));
  EXPECT_EQ(text.rfind("{\n  \"format\": \"t4dx-segment\",\n  \"version\": 1,\n", 0), 0u) << text;
  EXPECT_NE(text.find("\"metric\": \"l2\""), std::string::npos);
  EXPECT_NE(text.find("\"checksum\": \""), std::string::npos);
  EXPECT_NE(text.find("\"ids.idx\""), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  const std::string line = ReadAll(env_, JoinPath(SegDir(10), kSegmentItemsFile));
  EXPECT_EQ(line.rfind("{\"id\":\"item-00000\",\"kind\":\"episode\",", 0), 0u) << line;
  EXPECT_NE(line.find(",\"lsn\":1000,\"deleted\":false}\n"), std::string::npos);
  EXPECT_NE(line.find(",\"lsn\":1009,\"deleted\":true}\n"), std::string::npos);
  const std::string idx = ReadAll(env_, JoinPath(SegDir(10), kSegmentIdsFile));
  EXPECT_EQ(idx.substr(0, 8), "T4DXIDX1");
}

TEST_P(SegmentTest, RejectsBadInputAndChangesNothing) {
  auto unsorted = MakeEntries(5, kDim);
  std::swap(unsorted[1], unsorted[2]);
  auto duplicate = MakeEntries(5, kDim);
  duplicate[3].item.id = duplicate[2].item.id;
  auto wrong_dim = MakeEntries(5, kDim);
  wrong_dim[0].item.embedding.push_back(1.f);
  auto bad_id = MakeEntries(5, kDim);
  bad_id[0].item.id = "bad id";
  for (const auto* entries : {&unsorted, &duplicate, &wrong_dim, &bad_id}) {
    Status s = WriteSegment(env_, store_, 11, *entries, kDim, Metric::kCosine, {}, kNow, nullptr);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  }
  // Embeddings in a store without a dimension.
  Status s =
      WriteSegment(env_, store_, 11, MakeEntries(3, kDim), 0, Metric::kCosine, {}, kNow, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(
      WriteSegment(env_, store_, 0, MakeEntries(3, kDim), kDim, Metric::kCosine, {}, kNow, nullptr)
          .IsInvalidArgument());
  std::vector<std::string> children;
  ASSERT_TRUE(env_->GetChildren(store_, &children).ok());
  EXPECT_TRUE(children.empty());
}

TEST_P(SegmentTest, NeverOverwritesAndClearsStaleTemp) {
  // A stale temp directory from a crashed earlier try is replaced.
  ASSERT_TRUE(env_->CreateDir(SegDir(12) + ".tmp").ok());
  WriteAll(env_, JoinPath(SegDir(12) + ".tmp", "items.jsonl"), "junk");
  WriteAll(env_, JoinPath(SegDir(12) + ".tmp", "leftover"), "junk");
  Write(12, MakeEntries(4, kDim));
  auto r = Open(12);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->size(), 4u);
  std::vector<std::string> names;
  ASSERT_TRUE(env_->GetChildren(SegDir(12), &names).ok());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()),
            (std::set<std::string>{"items.jsonl", "vectors.f32", "ids.idx", "meta.json"}));

  Status s = WriteSegment(env_, store_, 12, MakeEntries(2, kDim), kDim, Metric::kCosine, {}, kNow,
                          nullptr);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  r = Open(12);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->size(), 4u);
}

TEST_P(SegmentTest, ConcurrentReads) {
  const auto entries = MakeEntries(30, kDim);
  Write(13, entries);
  auto r = Open(13);
  ASSERT_NE(r, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (size_t i = 0; i < entries.size(); ++i) {
        Item got;
        if (!r->ReadItem(i, true, &got).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Envs, SegmentTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Posix" : "Mem";
                         });

}  // namespace
}  // namespace t4dx
