// A read-only open beside a running writer (the CLI's read commands beside a service or an
// import): the writer seals wal.jsonl between the reader's listing of the WAL files and
// its reading of wal.jsonl. The open must not show a state that never was (the entries of
// the sealed file missing): it is done again, and says so when the race never ends.
#include <gtest/gtest.h>

#include "engine/engine_test_util.h"
#include "hook_env.h"

namespace t4dx {
namespace {

using testing_util::HookEnv;
using testutil::Contains;
using testutil::Describe;
using testutil::MakeItem;

constexpr uint32_t kDim = 8;
constexpr char kActive[] = "store/wal.jsonl";
constexpr char kManifest[] = "store/global_index.json";
constexpr char kWaiting[] = "store/wal_00000000000000000041.jsonl";

class ReadOnlyOpenTest : public testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    Options o;
    o.env = env_.get();
    o.background_compaction = false;  // deterministic: the test decides when to flush
    o.dim = kDim;
    ASSERT_TRUE(Engine::Open(o, "store", &writer_).ok());
    Put(30);
  }
  void Put(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(writer_->Put(MakeItem("item-" + std::to_string(next_), kDim, next_)).ok());
      next_++;
    }
  }
  // The writer seals wal.jsonl (a flush), then acknowledges more writes in the new one.
  void RotateAndWrite() {
    ASSERT_TRUE(writer_->Flush().ok());
    Put(5);
  }
  // A writer that keeps no flushed WAL beyond the newest sealed file, and merges nothing
  // (segments a reader names stay). Items 0..29 are in a segment (the close flushed
  // them), LSNs 31..40 in a segment too (a frozen MemTable is flushed before the next one
  // freezes), 41..50 in a sealed file waiting for its flush (kWaiting), 51..53 in
  // wal.jsonl.
  void ReopenWriterKeepingNoFlushedWal() {
    ASSERT_TRUE(writer_->Close().ok());
    Options o;
    o.env = env_.get();
    o.background_compaction = false;
    o.dim = kDim;
    o.flush_threshold_items = 10;
    o.wal_retention_entries = 0;
    o.compaction_fanout = 100;
    ASSERT_TRUE(Engine::Open(o, "store", &writer_).ok());
    Put(23);
    ASSERT_TRUE(env_->FileExists(kWaiting));
  }
  // The writer flushes every MemTable waiting for it (not the one taking writes).
  void FlushWaiting() {
    bool did = true;
    while (did) ASSERT_TRUE(writer_->MaintenanceStep(&did).ok());
  }
  std::unique_ptr<Engine> OpenReadOnly(Env* env) {
    Options o;
    o.env = env;
    o.read_only = true;
    o.background_compaction = false;
    std::unique_ptr<Engine> db;
    Status s = Engine::Open(o, "store", &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return db;
  }
  static uint64_t Count(Engine* db) {
    uint64_t n = 0;
    EXPECT_TRUE(db->Count(&n).ok());
    return n;
  }
  std::unique_ptr<Env> env_;
  std::unique_ptr<Engine> writer_;
  int next_ = 0;
};

TEST_F(ReadOnlyOpenTest, RotationBeforeTheActiveWalIsReadIsOpenedAgain) {
  HookEnv hook(env_.get());
  // After the WAL files were listed (only wal.jsonl, items 0..29), a flush seals it and
  // five more writes start a new wal.jsonl: read as it is, it would show items 30..34 only.
  hook.SetHook(kActive, [&] { RotateAndWrite(); });
  auto ro = OpenReadOnly(&hook);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(hook.fired_count(kActive), 1);
  EXPECT_EQ(Count(ro.get()), 35u);
  EXPECT_EQ(Count(ro.get()), Count(writer_.get()));
  const std::string status = Describe(ro.get(), View::kStatus).dump();
  EXPECT_FALSE(Contains(status, "was sealed while")) << status;
}

TEST_F(ReadOnlyOpenTest, RotationAfterTheActiveWalIsOpenedIsAConsistentPrefix) {
  HookEnv hook(env_.get());
  // The reader holds the old wal.jsonl open when it is sealed.
  hook.SetHook(kActive, [&] { RotateAndWrite(); }, 1, HookEnv::When::kAfterOpen);
  auto ro = OpenReadOnly(&hook);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(hook.fired_count(kActive), 1);
  // Everything acknowledged before the open began, nothing lost: the state as it was.
  EXPECT_EQ(Count(ro.get()), 30u);
  const std::string status = Describe(ro.get(), View::kStatus).dump();
  EXPECT_FALSE(Contains(status, "was sealed while")) << status;
}

TEST_F(ReadOnlyOpenTest, RotationOnEveryAttemptIsReported) {
  HookEnv hook(env_.get());
  hook.SetHook(kActive, [&] { RotateAndWrite(); }, 1000);
  auto ro = OpenReadOnly(&hook);
  ASSERT_NE(ro, nullptr);
  EXPECT_GT(hook.fired_count(kActive), 1);  // opened again, a bounded number of times
  EXPECT_LT(hook.fired_count(kActive), 1000);
  // The view misses the last sealed file's entries, and the open says so with its name.
  EXPECT_LT(Count(ro.get()), Count(writer_.get()));
  const std::string status = Describe(ro.get(), View::kStatus).dump();
  EXPECT_TRUE(Contains(status, "was sealed while this read-only open read the WAL")) << status;
  EXPECT_TRUE(Contains(status, "wal_0000")) << status;
}

TEST_F(ReadOnlyOpenTest, WalFileRemovedByRetentionBeforeItIsReadIsOpenedAgain) {
  ASSERT_NO_FATAL_FAILURE(ReopenWriterKeepingNoFlushedWal());
  HookEnv hook(env_.get());
  // 1. The reader holds global_index.json open (LSNs up to 40 in segments). Meanwhile the
  //    writer flushes LSNs 41..50 and freezes 51..60, sealing wal.jsonl, before the
  //    reader lists the WAL files: the listing holds wal_41, wal_51 and the new wal.jsonl.
  hook.SetHook(kManifest, [&] {
    FlushWaiting();
    Put(10);
    ASSERT_TRUE(env_->FileExists("store/wal_00000000000000000051.jsonl"));
  }, 1, HookEnv::When::kAfterOpen);
  // 2. Before the reader reads wal_41, the writer flushes 51..60, and retention removes
  //    wal_41 (wal_51 is now the newest sealed file). Read as it is, the view would miss
  //    LSNs 41..50: they are in a segment the manifest it read does not name.
  hook.SetHook(kWaiting, [&] {
    FlushWaiting();
    ASSERT_FALSE(env_->FileExists(kWaiting)) << "retention kept " << kWaiting;
  });
  auto ro = OpenReadOnly(&hook);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(hook.fired_count(kWaiting), 1);
  EXPECT_EQ(Count(ro.get()), Count(writer_.get()));
  EXPECT_EQ(Count(ro.get()), 63u);
  const std::string status = Describe(ro.get(), View::kStatus).dump();
  EXPECT_FALSE(Contains(status, "removed by the writer")) << status;
}

TEST_F(ReadOnlyOpenTest, WalFileRemovedByRetentionBeforeTheListingIsOpenedAgain) {
  ASSERT_NO_FATAL_FAILURE(ReopenWriterKeepingNoFlushedWal());
  HookEnv hook(env_.get());
  // The reader holds global_index.json open (LSNs up to 40 in segments). Before it lists
  // the WAL files, the writer flushes 41..50, seals 51..60, flushes them, and retention
  // removes wal_41: the listing starts at wal_51, and LSNs 41..50 are in a segment the
  // manifest it read does not name.
  hook.SetHook(kManifest, [&] {
    FlushWaiting();
    Put(10);
    FlushWaiting();
    ASSERT_FALSE(env_->FileExists(kWaiting)) << "retention kept " << kWaiting;
  }, 1, HookEnv::When::kAfterOpen);
  auto ro = OpenReadOnly(&hook);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(hook.fired_count(kManifest), 1);
  EXPECT_EQ(Count(ro.get()), Count(writer_.get()));
  EXPECT_EQ(Count(ro.get()), 63u);
}

}  // namespace
}  // namespace t4dx
