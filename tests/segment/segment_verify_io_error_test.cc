// VerifyChecksum when the files of an open segment cannot be read: every I/O error is a
// problem naming the file (and the byte offset of a failed read), never a crash or a pass.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "io_fault_env.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment_test_util.h"

namespace t4dx {
namespace {

using testing_util::IoFaultEnv;

class SegmentVerifyIoErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/store").ok());
    ASSERT_TRUE(WriteSegment(&env_, "/store", 1, segment_test::MakeEntries(50, 8), 8, Metric::kL2,
                             {}, 1700000000000, nullptr)
                    .ok());
    ASSERT_TRUE(SegmentReader::Open(&env_, dir_, &reader_).ok());
    std::vector<SegmentProblem> problems;
    ASSERT_TRUE(reader_->VerifyChecksum(&problems).ok());
    ASSERT_TRUE(problems.empty());
  }

  // Runs VerifyChecksum; returns the one problem it must report.
  SegmentProblem OnlyProblem() {
    std::vector<SegmentProblem> problems;
    Status s = reader_->VerifyChecksum(&problems);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(problems.size(), 1u);
    return problems.empty() ? SegmentProblem{} : problems[0];
  }

  IoFaultEnv env_;
  const std::string dir_ = JoinPath("/store", SegmentDirName(1));
  std::unique_ptr<SegmentReader> reader_;
};

TEST_F(SegmentVerifyIoErrorTest, SizeOfAFileUnreadable) {
  const std::string ids = JoinPath(dir_, kSegmentIdsFile);
  env_.fail_size.insert(ids);
  SegmentProblem p = OnlyProblem();
  EXPECT_EQ(p.file, ids);
  EXPECT_EQ(p.offset, -1);
  EXPECT_NE(p.reason.find("injected stat error"), std::string::npos) << p.reason;
}

TEST_F(SegmentVerifyIoErrorTest, FileCannotBeOpened) {
  const std::string vectors = JoinPath(dir_, kSegmentVectorsFile);
  env_.fail_open.insert(vectors);
  SegmentProblem p = OnlyProblem();
  EXPECT_EQ(p.file, vectors);
  EXPECT_NE(p.reason.find("injected open error"), std::string::npos) << p.reason;
}

TEST_F(SegmentVerifyIoErrorTest, ReadOfAFileFails) {
  const std::string items = JoinPath(dir_, kSegmentItemsFile);
  env_.fail_read.insert(items);
  SegmentProblem p = OnlyProblem();
  EXPECT_EQ(p.file, items);
  EXPECT_EQ(p.offset, 0);
  EXPECT_NE(p.reason.find("injected read error"), std::string::npos) << p.reason;
}

TEST_F(SegmentVerifyIoErrorTest, MetaJsonUnreadable) {
  const std::string meta = JoinPath(dir_, kSegmentMetaFile);
  env_.fail_open.insert(meta);
  std::vector<SegmentProblem> problems;
  ASSERT_TRUE(reader_->VerifyChecksum(&problems).ok());
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].file, meta);
}

TEST_F(SegmentVerifyIoErrorTest, ReadsWorkAgainOnceTheFaultIsGone) {
  env_.fail_read.insert(JoinPath(dir_, kSegmentItemsFile));
  OnlyProblem();
  env_.fail_read.clear();
  std::vector<SegmentProblem> problems;
  ASSERT_TRUE(reader_->VerifyChecksum(&problems).ok());
  EXPECT_TRUE(problems.empty());
}

}  // namespace
}  // namespace t4dx
