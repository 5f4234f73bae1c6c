// Damage to each of the four segment files is detected and located: file, block offset,
// the runbook's phrases ("segment checksum mismatch", "invalid segment file").
#include <gtest/gtest.h>

#include <memory>

#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment_test_util.h"

namespace t4dx {
namespace {

using namespace segment_test;

constexpr uint32_t kDim = 96;
constexpr uint64_t kB = kSegmentBlockSize;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class SegmentCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    ASSERT_TRUE(env_->CreateDir("/store").ok());
    entries_ = MakeEntries(700, kDim, 700);  // items ~9 blocks, vectors 3, ids 2
    Status s =
        WriteSegment(env_.get(), "/store", 1, entries_, kDim, Metric::kCosine, {}, 1, nullptr);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(SegmentReader::Open(env_.get(), dir_, &reader_).ok());
  }
  std::string Path(const char* name) const { return JoinPath(dir_, name); }
  Status Reopen() {
    reader_.reset();
    return SegmentReader::Open(env_.get(), dir_, &reader_);
  }
  // Index of the first entry whose line starts in block b and that has a vector row.
  size_t EntryWithLineInBlock(uint64_t b) const {
    for (size_t i = 0; i < reader_->size(); ++i) {
      const auto& h = reader_->entries()[i];
      if (h.item_offset / kB == b && h.row >= 0) return i;
    }
    ADD_FAILURE() << "no entry in block " << b;
    return 0;
  }

  std::unique_ptr<Env> env_;
  std::string dir_ = "/store/seg_000001";
  std::vector<SegmentEntry> entries_;
  std::unique_ptr<SegmentReader> reader_;
};

TEST_F(SegmentCorruptionTest, ItemsByteFlipFoundByReadItemAndVerify) {
  const size_t idx = EntryWithLineInBlock(2);
  const uint64_t at = reader_->entries()[idx].item_offset + 5;
  FlipByte(env_.get(), Path(kSegmentItemsFile), at);
  // Open reads only meta.json and ids.idx: it still succeeds.
  ASSERT_TRUE(Reopen().ok());

  Item item;
  Status s = reader_->ReadItem(idx, false, &item);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.file(), Path(kSegmentItemsFile));
  EXPECT_EQ(s.offset(), static_cast<int64_t>(at / kB * kB));
  EXPECT_TRUE(Contains(s.message(), "segment checksum mismatch")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "block 2")) << s.message();
  EXPECT_TRUE(reader_->ReadItem(0, true, &item).ok());  // other blocks still read

  std::vector<SegmentProblem> problems;
  EXPECT_TRUE(reader_->VerifyChecksum(&problems).ok());  // the check ran; problems tell
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, Path(kSegmentItemsFile));
  EXPECT_EQ(problems[0].offset, static_cast<int64_t>(2 * kB));
  EXPECT_TRUE(Contains(problems[0].reason, "block 2")) << problems[0].reason;
}

TEST_F(SegmentCorruptionTest, ItemsByteFlipStopsForEachItemAtTheBlock) {
  const size_t idx = EntryWithLineInBlock(3);
  const uint64_t at = reader_->entries()[idx].item_offset + 1;
  FlipByte(env_.get(), Path(kSegmentItemsFile), at);
  size_t visited = 0;
  Status s = reader_->ForEachItem(true, [&](size_t i, Item& item) {
    EXPECT_EQ(i, visited);
    EXPECT_EQ(item.id, entries_[i].item.id);
    ++visited;
    return Status::OK();
  });
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.file(), Path(kSegmentItemsFile));
  EXPECT_EQ(s.offset(), static_cast<int64_t>(at / kB * kB));
  EXPECT_TRUE(Contains(s.message(), "segment checksum mismatch")) << s.message();
  EXPECT_LE(visited, idx);  // nothing from the damaged block reached the caller

  // A flipped vector byte stops the walk only when embeddings are asked for.
  SetUp();
  FlipByte(env_.get(), Path(kSegmentVectorsFile), kB + 5);
  EXPECT_TRUE(reader_->ForEachItem(false, [](size_t, Item&) { return Status::OK(); }).ok());
  s = reader_->ForEachItem(true, [](size_t, Item&) { return Status::OK(); });
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.file(), Path(kSegmentVectorsFile));
  EXPECT_EQ(s.offset(), static_cast<int64_t>(kB));
}

TEST_F(SegmentCorruptionTest, VectorsByteFlipFoundByReadVectorsAndVerify) {
  const uint64_t row_bytes = kDim * 4;
  const uint64_t row = kB / row_bytes + 1;  // a row inside block 1
  FlipByte(env_.get(), Path(kSegmentVectorsFile), row * row_bytes + 2);
  ASSERT_TRUE(Reopen().ok());
  std::vector<float> v;
  Status s = reader_->ReadVectors(row, 1, &v);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.file(), Path(kSegmentVectorsFile));
  EXPECT_EQ(s.offset(), static_cast<int64_t>(kB));
  EXPECT_TRUE(reader_->ReadVectors(0, 10, &v).ok());

  size_t idx = 0;
  for (; idx < reader_->size(); ++idx) {
    if (reader_->entries()[idx].row == static_cast<int64_t>(row)) break;
  }
  ASSERT_LT(idx, reader_->size());
  Item item;
  EXPECT_TRUE(reader_->ReadItem(idx, false, &item).ok());
  s = reader_->ReadItem(idx, true, &item);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.file(), Path(kSegmentVectorsFile));

  std::vector<SegmentProblem> problems;
  EXPECT_TRUE(reader_->VerifyChecksum(&problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, Path(kSegmentVectorsFile));
  EXPECT_EQ(problems[0].offset, static_cast<int64_t>(kB));
}

TEST_F(SegmentCorruptionTest, IdsByteFlipFailsOpen) {
  for (uint64_t at : {uint64_t{3}, kB + 17}) {
    SetUp();
    FlipByte(env_.get(), Path(kSegmentIdsFile), at);
    Status s = Reopen();
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(s.file(), Path(kSegmentIdsFile));
    EXPECT_EQ(s.offset(), static_cast<int64_t>(at / kB * kB));
    EXPECT_TRUE(Contains(s.message(), "segment checksum mismatch")) << s.message();
    EXPECT_EQ(reader_, nullptr);
  }
}

TEST_F(SegmentCorruptionTest, MetaJsonEditFailsChecksum) {
  std::string meta = ReadAll(env_.get(), Path(kSegmentMetaFile));
  const std::string from = "\"count\": 700";
  ASSERT_NE(meta.find(from), std::string::npos);
  meta.replace(meta.find(from), from.size(), "\"count\": 701");
  WriteAll(env_.get(), Path(kSegmentMetaFile), meta);
  Status s = Reopen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.message().rfind("segment checksum mismatch: " + Path(kSegmentMetaFile), 0), 0u)
      << s.message();
  EXPECT_EQ(s.file(), Path(kSegmentMetaFile));
  SegmentMeta m;
  EXPECT_TRUE(ReadSegmentMeta(env_.get(), dir_, &m).IsCorruption());
}

TEST_F(SegmentCorruptionTest, MetaJsonByteFlipDetected) {
  const std::string meta = ReadAll(env_.get(), Path(kSegmentMetaFile));
  // Flip bytes that carry content (not whitespace), one at a time.
  for (size_t at = 0; at < meta.size(); at += 97) {
    if (meta[at] == ' ' || meta[at] == '\n') continue;
    SetUp();
    FlipByte(env_.get(), Path(kSegmentMetaFile), at);
    Status s = Reopen();
    ASSERT_FALSE(s.ok()) << "flip at " << at;
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(s.file(), Path(kSegmentMetaFile));
    EXPECT_TRUE(Contains(s.message(), "segment checksum mismatch") ||
                Contains(s.message(), "invalid segment file"))
        << s.message();
  }
}

TEST_F(SegmentCorruptionTest, MetaJsonNotJsonGivesByteOffset) {
  std::string meta = ReadAll(env_.get(), Path(kSegmentMetaFile));
  WriteAll(env_.get(), Path(kSegmentMetaFile), meta.substr(0, 100));
  Status s = Reopen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.message().rfind("invalid segment file: " + Path(kSegmentMetaFile), 0), 0u)
      << s.message();
  EXPECT_GT(s.offset(), 0);
  EXPECT_LE(s.offset(), 101);
}

TEST_F(SegmentCorruptionTest, NewerVersionIsNotSupported) {
  std::string meta = ReadAll(env_.get(), Path(kSegmentMetaFile));
  const std::string from = "\"version\": 1";
  ASSERT_NE(meta.find(from), std::string::npos);
  meta.replace(meta.find(from), from.size(), "\"version\": 2");
  WriteAll(env_.get(), Path(kSegmentMetaFile), meta);
  Status s = Reopen();
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "segment format version 2 is newer than this build (1)"))
      << s.message();
}

TEST_F(SegmentCorruptionTest, TruncatedOrExtendedFilesFailOpen) {
  for (const char* name : {kSegmentItemsFile, kSegmentVectorsFile, kSegmentIdsFile}) {
    for (int delta : {-1, -5000, +1}) {
      SetUp();
      std::string data = ReadAll(env_.get(), Path(name));
      const uint64_t size = data.size();
      if (delta < 0) {
        data.resize(data.size() + delta);
      } else {
        data += "x";
      }
      WriteAll(env_.get(), Path(name), data);
      Status s = Reopen();
      ASSERT_TRUE(s.IsCorruption()) << name << " " << delta;
      EXPECT_EQ(s.file(), Path(name));
      EXPECT_EQ(s.offset(), static_cast<int64_t>(std::min<uint64_t>(size, data.size())));
      EXPECT_TRUE(Contains(s.message(), "invalid segment file")) << s.message();
      EXPECT_TRUE(Contains(s.message(), delta < 0 ? "(truncated)" : "(extended)")) << s.message();
    }
  }
  SetUp();
  std::string meta = ReadAll(env_.get(), Path(kSegmentMetaFile));
  WriteAll(env_.get(), Path(kSegmentMetaFile), meta.substr(0, meta.size() - 3));
  Status s = Reopen();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.file(), Path(kSegmentMetaFile));
}

TEST_F(SegmentCorruptionTest, TruncationAfterOpenFoundByVerifyAndReads) {
  std::string data = ReadAll(env_.get(), Path(kSegmentItemsFile));
  const uint64_t size = data.size();
  data.resize(3 * kB + 10);
  WriteAll(env_.get(), Path(kSegmentItemsFile), data);
  std::vector<SegmentProblem> problems;
  EXPECT_TRUE(reader_->VerifyChecksum(&problems).ok());
  ASSERT_GE(problems.size(), 2u);
  EXPECT_EQ(problems[0].file, Path(kSegmentItemsFile));
  EXPECT_EQ(problems[0].offset, static_cast<int64_t>(3 * kB + 10));
  EXPECT_TRUE(Contains(problems[0].reason, "bytes, meta.json says " + std::to_string(size)))
      << problems[0].reason;
  EXPECT_EQ(problems[1].offset, static_cast<int64_t>(3 * kB));  // the torn block
  Item item;
  Status s = reader_->ReadItem(reader_->size() - 1, false, &item);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.file(), Path(kSegmentItemsFile));
}

TEST_F(SegmentCorruptionTest, MissingFiles) {
  for (const char* name :
       {kSegmentItemsFile, kSegmentVectorsFile, kSegmentIdsFile, kSegmentMetaFile}) {
    SetUp();
    ASSERT_TRUE(env_->RemoveFile(Path(name)).ok());
    Status s = Reopen();
    ASSERT_TRUE(s.IsCorruption()) << name << ": " << s.ToString();
    EXPECT_EQ(s.file(), Path(name));
    EXPECT_TRUE(Contains(s.message(), "invalid segment file")) << s.message();
    EXPECT_TRUE(Contains(s.message(), "missing")) << s.message();
  }
  std::unique_ptr<SegmentReader> r;
  EXPECT_TRUE(SegmentReader::Open(env_.get(), "/store/seg_000099", &r).IsNotFound());
}

TEST_F(SegmentCorruptionTest, VerifyCollectsEveryProblem) {
  FlipByte(env_.get(), Path(kSegmentItemsFile), 10);
  FlipByte(env_.get(), Path(kSegmentItemsFile), 4 * kB + 10);
  FlipByte(env_.get(), Path(kSegmentVectorsFile), 2 * kB + 1);
  FlipByte(env_.get(), Path(kSegmentIdsFile), 30);
  std::vector<SegmentProblem> problems;
  EXPECT_TRUE(reader_->VerifyChecksum(&problems).ok());
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].file, Path(kSegmentItemsFile));
  EXPECT_EQ(problems[0].offset, 0);
  EXPECT_EQ(problems[1].file, Path(kSegmentItemsFile));
  EXPECT_EQ(problems[1].offset, static_cast<int64_t>(4 * kB));
  EXPECT_EQ(problems[2].file, Path(kSegmentVectorsFile));
  EXPECT_EQ(problems[2].offset, static_cast<int64_t>(2 * kB));
  EXPECT_EQ(problems[3].file, Path(kSegmentIdsFile));
  EXPECT_EQ(problems[3].offset, 0);
  for (const auto& p : problems) {
    EXPECT_TRUE(Contains(p.reason, "segment checksum mismatch")) << p.reason;
  }
}

TEST_F(SegmentCorruptionTest, MetaJsonChangedAfterOpenIsReported) {
  FlipByte(env_.get(), Path(kSegmentMetaFile), 20);
  std::vector<SegmentProblem> problems;
  EXPECT_TRUE(reader_->VerifyChecksum(&problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].file, Path(kSegmentMetaFile));
}

TEST_F(SegmentCorruptionTest, DirectoryNameMustMatchId) {
  ASSERT_TRUE(env_->CreateDir("/store/seg_000002").ok());
  for (const char* name :
       {kSegmentItemsFile, kSegmentVectorsFile, kSegmentIdsFile, kSegmentMetaFile}) {
    WriteAll(env_.get(), JoinPath("/store/seg_000002", name), ReadAll(env_.get(), Path(name)));
  }
  std::unique_ptr<SegmentReader> r;
  Status s = SegmentReader::Open(env_.get(), "/store/seg_000002", &r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "directory is seg_000002")) << s.message();
  // A copy under a non-segment name (forensics) opens.
  ASSERT_TRUE(env_->CreateDir("/store/copy").ok());
  for (const char* name :
       {kSegmentItemsFile, kSegmentVectorsFile, kSegmentIdsFile, kSegmentMetaFile}) {
    WriteAll(env_.get(), JoinPath("/store/copy", name), ReadAll(env_.get(), Path(name)));
  }
  s = SegmentReader::Open(env_.get(), "/store/copy", &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace t4dx
