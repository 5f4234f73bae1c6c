// The SegmentReader's cache of verified blocks: repeated reads of one block hash it once,
// the least recently used block is evicted, a closed reader's blocks are gone, and a
// damaged block is never cached (every read of it reports the damage).
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment/segment_internal.h"
#include "segment_test_util.h"

namespace t4dx {
namespace {

using namespace segment_test;
using segment_internal::kBlockCacheBlocks;

constexpr uint32_t kDim = 128;
constexpr uint64_t kB = kSegmentBlockSize;

class SegmentBlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    ASSERT_TRUE(env_->CreateDir("/store").ok());
    // ~3 KiB lines: about 20 lines per block, more blocks than the cache holds.
    entries_ = MakeEntries(700, kDim, 3000);
    Status s =
        WriteSegment(env_.get(), "/store", 1, entries_, kDim, Metric::kCosine, {}, 1, nullptr);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(Reopen().ok());
    ASSERT_GT(reader_->meta().count, 0u);
  }
  Status Reopen() {
    reader_.reset();
    return SegmentReader::Open(env_.get(), dir_, &reader_);
  }
  std::string ItemsPath() const { return JoinPath(dir_, kSegmentItemsFile); }
  const SegmentEntryHeader& H(size_t i) const { return reader_->entries()[i]; }
  // Entries whose line lies inside one block, the first found in each block, in block order.
  std::vector<size_t> OnePerBlock() const {
    std::vector<size_t> out;
    uint64_t last = UINT64_MAX;
    for (size_t i = 0; i < reader_->size(); ++i) {
      const uint64_t b = H(i).item_offset / kB;
      if (b != last && (H(i).item_offset + H(i).item_length) / kB == b) {
        out.push_back(i);
        last = b;
      }
    }
    return out;
  }
  void ExpectItem(size_t i) {
    Item item;
    Status s = reader_->ReadItem(i, false, &item);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(item.id, entries_[i].item.id);
    EXPECT_EQ(item.content, entries_[i].item.content);
  }

  std::unique_ptr<Env> env_;
  std::string dir_ = "/store/seg_000001";
  std::vector<SegmentEntry> entries_;
  std::unique_ptr<SegmentReader> reader_;
};

TEST_F(SegmentBlockCacheTest, SecondReadOfABlockIsAHit) {
  // Two entries of block 0 (entry 0 and the next one starting there).
  ASSERT_EQ(H(1).item_offset / kB, 0u);
  ExpectItem(0);
  auto st = reader_->block_cache_stats();
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.hits, 0u);
  EXPECT_EQ(st.blocks, 1u);
  ExpectItem(1);
  ExpectItem(0);
  st = reader_->block_cache_stats();
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.blocks, 1u);
}

TEST_F(SegmentBlockCacheTest, LeastRecentlyUsedBlockIsEvicted) {
  std::vector<size_t> per_block = OnePerBlock();
  ASSERT_GT(per_block.size(), kBlockCacheBlocks + 1);
  for (size_t j = 0; j < kBlockCacheBlocks; ++j) ExpectItem(per_block[j]);
  ExpectItem(per_block[0]);  // block of per_block[0] becomes the most recent
  auto st = reader_->block_cache_stats();
  EXPECT_EQ(st.misses, kBlockCacheBlocks);
  EXPECT_EQ(st.hits, 1u);
  EXPECT_EQ(st.evictions, 0u);
  EXPECT_EQ(st.blocks, kBlockCacheBlocks);

  ExpectItem(per_block[kBlockCacheBlocks]);  // evicts the block of per_block[1]
  st = reader_->block_cache_stats();
  EXPECT_EQ(st.evictions, 1u);
  EXPECT_EQ(st.blocks, kBlockCacheBlocks);
  ExpectItem(per_block[0]);  // still cached
  EXPECT_EQ(reader_->block_cache_stats().hits, 2u);
  ExpectItem(per_block[1]);  // was evicted: read again
  st = reader_->block_cache_stats();
  EXPECT_EQ(st.misses, kBlockCacheBlocks + 2);
  EXPECT_EQ(st.evictions, 2u);
}

TEST_F(SegmentBlockCacheTest, LineAcrossTwoBlocksAndVectorsUseTheCache) {
  size_t across = reader_->size();
  for (size_t i = 0; i < reader_->size(); ++i) {
    if (H(i).item_offset / kB != (H(i).item_offset + H(i).item_length) / kB) {
      across = i;
      break;
    }
  }
  ASSERT_LT(across, reader_->size());
  ExpectItem(across);
  EXPECT_EQ(reader_->block_cache_stats().misses, 2u);
  ExpectItem(across);
  EXPECT_EQ(reader_->block_cache_stats().hits, 2u);

  // One vector row: cached (vectors.f32 block 0).
  std::vector<float> v;
  ASSERT_TRUE(reader_->ReadVectors(0, 1, &v).ok());
  ASSERT_TRUE(reader_->ReadVectors(1, 1, &v).ok());
  auto st = reader_->block_cache_stats();
  EXPECT_EQ(st.misses, 3u);
  EXPECT_EQ(st.hits, 3u);
  // Every row at once spans more blocks than a cached read may: it bypasses the cache.
  const uint64_t rows = reader_->meta().vectors;
  ASSERT_GT(rows * kDim * 4, segment_internal::kBlockCacheMaxSpan * kB);
  ASSERT_TRUE(reader_->ReadVectors(0, rows, &v).ok());
  EXPECT_EQ(v.size(), rows * kDim);
  auto after = reader_->block_cache_stats();
  EXPECT_EQ(after.misses, st.misses);
  EXPECT_EQ(after.hits, st.hits);
}

TEST_F(SegmentBlockCacheTest, CorruptBlockIsReportedOnEveryReadAndNeverCached) {
  std::vector<size_t> per_block = OnePerBlock();
  ASSERT_GT(per_block.size(), 3u);
  const size_t bad = per_block[2];
  const uint64_t at = H(bad).item_offset + 7;
  FlipByte(env_.get(), ItemsPath(), at);
  ASSERT_TRUE(Reopen().ok());
  for (int round = 0; round < 2; ++round) {
    Item item;
    Status s = reader_->ReadItem(bad, false, &item);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(s.file(), ItemsPath());
    EXPECT_EQ(s.offset(), static_cast<int64_t>(at / kB * kB));
    EXPECT_NE(s.message().find("segment checksum mismatch"), std::string::npos) << s.message();
  }
  auto st = reader_->block_cache_stats();
  EXPECT_EQ(st.misses, 2u);
  EXPECT_EQ(st.hits, 0u);
  EXPECT_EQ(st.blocks, 0u);
  ExpectItem(per_block[1]);  // other blocks still read (and cached)
  EXPECT_EQ(reader_->block_cache_stats().blocks, 1u);
}

TEST_F(SegmentBlockCacheTest, ClosingTheReaderDropsItsBlocks) {
  std::vector<size_t> per_block = OnePerBlock();
  const size_t i = per_block[1];
  ExpectItem(i);
  // Damage after the read: the open reader serves the bytes it verified; VerifyChecksum
  // reads the files themselves and finds the damage.
  FlipByte(env_.get(), ItemsPath(), H(i).item_offset + 3);
  ExpectItem(i);
  EXPECT_EQ(reader_->block_cache_stats().hits, 1u);
  std::vector<SegmentProblem> problems;
  ASSERT_TRUE(reader_->VerifyChecksum(&problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].offset, static_cast<int64_t>(H(i).item_offset / kB * kB));

  // A reader opened again starts empty and reports the damage.
  ASSERT_TRUE(Reopen().ok());
  EXPECT_EQ(reader_->block_cache_stats().blocks, 0u);
  Item item;
  EXPECT_TRUE(reader_->ReadItem(i, false, &item).IsCorruption());
}

TEST_F(SegmentBlockCacheTest, ConcurrentReadersShareTheCache) {
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &failures] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = static_cast<size_t>(t); i < reader_->size(); i += 3) {
          Item item;
          if (!reader_->ReadItem(i, true, &item).ok() || item.id != entries_[i].item.id ||
              item.content != entries_[i].item.content ||
              item.embedding != entries_[i].item.embedding) {
            failures[t]++;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  auto st = reader_->block_cache_stats();
  EXPECT_LE(st.blocks, kBlockCacheBlocks);
  EXPECT_GT(st.hits, 0u);
}

}  // namespace
}  // namespace t4dx
