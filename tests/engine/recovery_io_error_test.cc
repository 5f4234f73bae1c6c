// Recovery when files of a store cannot be read at open (EIO from the Env) or hold bad
// bytes: global_index.json unreadable -> moved aside and rebuilt from the segments, nothing
// lost; a segment unreadable that the retained WAL covers -> rebuilt from it; one the WAL no
// longer covers -> the open refused, nothing changed (an I/O error may pass); one the WAL no
// longer covers whose bytes are damaged -> quarantined (its bytes kept under quarantine/),
// the loss reported loudly, the rest of the store open and writable; hnsw.idx that cannot
// be mapped -> read instead.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine_test_util.h"
#include "io_fault_env.h"
#include "segment/segment_format.h"
#include "t4dx/engine.h"

namespace t4dx {
namespace {

using testing_util::IoFaultEnv;
using testutil::Children;
using testutil::Contains;
using testutil::Describe;
using testutil::MakeItem;
using testutil::ScanIds;

constexpr char kStore[] = "/store";
constexpr uint32_t kDim = 4;

class RecoveryIoErrorTest : public ::testing::Test {
 protected:
  Options Opts() {
    Options o;
    o.env = &env_;
    o.dim = kDim;
    o.background_compaction = false;
    return o;
  }
  // Segment 1: s0..s19, its WAL file removed; segment 2: x0..x4, its WAL file (the newest
  // sealed one) kept; then 5 unflushed items w0..w4.
  void MakeStore() {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(Opts(), kStore, &db).ok());
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(db->Put(MakeItem("s" + std::to_string(i), kDim, i)).ok());
    ASSERT_TRUE(db->Flush().ok());
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(db->Put(MakeItem("x" + std::to_string(i), kDim, i)).ok());
    ASSERT_TRUE(db->Flush().ok());
    std::string out;
    ASSERT_TRUE(db->CompactWal(0, &out).ok()) << out;
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(db->Put(MakeItem("w" + std::to_string(i), kDim, i)).ok());
    ASSERT_TRUE(db->Close().ok());
    ASSERT_TRUE(env_.FileExists(JoinPath(kStore, SegmentDirName(1))));
    ASSERT_TRUE(env_.FileExists(JoinPath(kStore, SegmentDirName(2))));
  }

  IoFaultEnv env_;
};

TEST_F(RecoveryIoErrorTest, UnreadableGlobalIndexIsMovedAsideAndRebuilt) {
  MakeStore();
  env_.fail_read.insert(JoinPath(kStore, "global_index.json"));
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(Opts(), kStore, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  env_.fail_read.clear();
  EXPECT_EQ(ScanIds(db.get()).size(), 30u);
  const std::string report = Describe(db.get(), View::kRecoveryReport).dump();
  EXPECT_TRUE(Contains(report, "global_index.json unreadable")) << report;
  // The unreadable file is kept, not deleted.
  EXPECT_FALSE(Children(&env_, JoinPath(kStore, "quarantine")).empty());
  ASSERT_TRUE(db->Put(MakeItem("after", kDim, 99)).ok());
  ASSERT_TRUE(db->Close().ok());
}

// hnsw.idx is mapped where the Env can; a mapping that fails (as mmap can on some file
// systems) is not a damaged index: the file is read instead, loaded, and kept.
TEST_F(RecoveryIoErrorTest, IndexThatCannotBeMappedIsReadInstead) {
  MakeStore();
  const std::string index = JoinPath(kStore, "hnsw.idx");
  ASSERT_TRUE(env_.FileExists(index));
  env_.fail_map.insert(index);
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(Opts(), kStore, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Describe(db.get(), View::kRecoveryReport)["hnsw_loaded"].get<bool>())
      << Describe(db.get(), View::kRecoveryReport).dump();
  EXPECT_TRUE(env_.FileExists(index));
  EXPECT_TRUE(Children(&env_, JoinPath(kStore, "quarantine")).empty());
  EXPECT_EQ(ScanIds(db.get()).size(), 30u);
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(RecoveryIoErrorTest, UnreadableSegmentCoveredByTheWalIsRebuiltFromIt) {
  MakeStore();
  env_.fail_open.insert(JoinPath(JoinPath(kStore, SegmentDirName(2)), kSegmentMetaFile));
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(Opts(), kStore, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  env_.fail_open.clear();
  EXPECT_EQ(ScanIds(db.get()).size(), 30u);
  const testutil::json report = Describe(db.get(), View::kRecoveryReport);
  EXPECT_EQ(report.value("segments_rebuilt_from_wal", -1), 1) << report.dump();
  EXPECT_EQ(report.value("segments_quarantined", -1), 0) << report.dump();
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(RecoveryIoErrorTest, UnreadableSegmentNotCoveredByTheWalRefusesTheOpen) {
  MakeStore();
  const std::string seg = JoinPath(kStore, SegmentDirName(1));
  const std::vector<std::string> before = Children(&env_, kStore);
  env_.fail_open.insert(JoinPath(seg, kSegmentMetaFile));
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(Opts(), kStore, &db);
  // The WAL no longer holds s0..s19: an I/O error (perhaps passing) must not set them
  // aside. The open fails naming the segment, and nothing is changed.
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), "seg_000001")) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), "nothing was changed")) << s.ToString();
  db.reset();
  EXPECT_TRUE(env_.FileExists(seg));
  EXPECT_EQ(Children(&env_, kStore), before);
  // Once the device reads again, everything is there.
  env_.fail_open.clear();
  s = Engine::Open(Opts(), kStore, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ScanIds(db.get()).size(), 30u);
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(RecoveryIoErrorTest, DamagedSegmentNotCoveredByTheWalIsQuarantinedAndReported) {
  MakeStore();
  const std::string seg = JoinPath(kStore, SegmentDirName(1));
  const std::string meta = JoinPath(seg, kSegmentMetaFile);
  std::string bytes = testutil::ReadAll(&env_, meta);
  ASSERT_FALSE(bytes.empty());
  const std::string damaged = "#" + bytes.substr(1);  // no longer JSON
  ASSERT_TRUE(testutil::WriteAll(&env_, meta, damaged).ok());
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(Opts(), kStore, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // s0..s19 are gone (nothing holds them any more) and the store says so, loudly.
  EXPECT_EQ(ScanIds(db.get()).size(), 10u);
  const testutil::json report = Describe(db.get(), View::kRecoveryReport);
  EXPECT_EQ(report.value("segments_quarantined", -1), 1) << report.dump();
  const std::string status = Describe(db.get(), View::kStatus).dump();
  EXPECT_TRUE(Contains(status, "seg_000001 is unreadable")) << status;
  EXPECT_TRUE(Contains(status, "t4dx snapshot restore")) << status;
  // The damaged bytes are kept under quarantine/, not deleted.
  EXPECT_FALSE(env_.FileExists(seg));
  std::string kept;
  for (const std::string& n : Children(&env_, JoinPath(kStore, "quarantine"))) {
    if (Contains(n, SegmentDirName(1))) kept = JoinPath(JoinPath(kStore, "quarantine"), n);
  }
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(testutil::ReadAll(&env_, JoinPath(kept, kSegmentMetaFile)), damaged);
  // The rest of the store is writable, and the next open does not report it again.
  ASSERT_TRUE(db->Put(MakeItem("after", kDim, 99)).ok());
  ASSERT_TRUE(db->Close().ok());
  ASSERT_TRUE(Engine::Open(Opts(), kStore, &db).ok());
  EXPECT_EQ(ScanIds(db.get()).size(), 11u);
  EXPECT_EQ(Describe(db.get(), View::kRecoveryReport).value("segments_quarantined", -1), 0);
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(RecoveryIoErrorTest, ReadOnlyOpenReportsAnUnreadableSegmentAndChangesNothing) {
  MakeStore();
  const std::vector<std::string> before = Children(&env_, kStore);
  env_.fail_open.insert(JoinPath(JoinPath(kStore, SegmentDirName(1)), kSegmentMetaFile));
  Options o = Opts();
  o.read_only = true;
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(o, kStore, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const std::string status = Describe(db.get(), View::kStatus).dump();
  EXPECT_TRUE(Contains(status, "segment seg_000001 unreadable")) << status;
  EXPECT_EQ(ScanIds(db.get()).size(), 10u);
  ASSERT_TRUE(db->Close().ok());
  env_.fail_open.clear();
  EXPECT_EQ(Children(&env_, kStore), before);
}

TEST_F(RecoveryIoErrorTest, GlobalIndexRebuildSkipsAnUnreadableSegmentAndKeepsIt) {
  MakeStore();
  env_.fail_read.insert(JoinPath(kStore, "global_index.json"));
  const std::string seg = JoinPath(kStore, SegmentDirName(1));
  env_.fail_open.insert(JoinPath(seg, kSegmentMetaFile));
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(Opts(), kStore, &db);
  env_.fail_read.clear();
  env_.fail_open.clear();
  // Either refused with a reason, or open without the segment, saying so: never deleted.
  if (s.ok()) {
    const std::string report = Describe(db.get(), View::kStatus).dump();
    EXPECT_TRUE(Contains(report, "seg_000001")) << report;
    ASSERT_TRUE(db->Close().ok());
  } else {
    EXPECT_TRUE(Contains(s.ToString(), "seg_000001")) << s.ToString();
  }
  bool kept = env_.FileExists(seg);
  for (const std::string& n : Children(&env_, JoinPath(kStore, "quarantine"))) {
    if (Contains(n, SegmentDirName(1))) kept = true;
  }
  EXPECT_TRUE(kept);
}

}  // namespace
}  // namespace t4dx
