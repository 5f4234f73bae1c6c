// Snapshots (t4dx/inspect.h) of a real store in an in-memory Env: create from a store that
// is open, verify, open the archive read-only, restore, and detect damage before writing.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "hook_env.h"
#include "inspect/tar.h"
#include "t4dx/engine.h"
#include "t4dx/inspect.h"

namespace t4dx {
namespace {

Item MakeItem(int i) {
  Item it;
  it.id = "item-" + std::to_string(i);
  it.kind = "episode";
  it.content = "memory number " + std::to_string(i);
  it.timestamp = 1700000000000 + i;
  for (int d = 0; d < 8; ++d) it.embedding.push_back(static_cast<float>((i * 7 + d * 3) % 11) - 5);
  it.metadata["n"] = MetaValue::Number(i);
  return it;
}

std::vector<Item> All(Engine* db) {
  std::vector<Item> out;
  EXPECT_TRUE(db->Scan(ScanOptions(), [&](const Item& it) {
                  out.push_back(it);
                  return true;
                }).ok());
  return out;
}

using testing_util::HookEnv;

class SnapshotTest : public testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    Options o;
    o.env = env_.get();
    o.background_compaction = false;  // deterministic: no compactor thread
    o.dim = 8;
    ASSERT_TRUE(Engine::Open(o, "store", &db_).ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(db_->Put(MakeItem(i)).ok());
    ASSERT_TRUE(db_->Flush().ok());
    for (int i = 50; i < 70; ++i) ASSERT_TRUE(db_->Put(MakeItem(i)).ok());
    ASSERT_TRUE(db_->Delete("item-3").ok());
    expected_ = All(db_.get());
    ASSERT_EQ(expected_.size(), 69u);
  }
  Engine* OpenReadOnly(Env* env, const std::string& dir, std::unique_ptr<Engine>* db) {
    Options o;
    o.env = env;
    o.read_only = true;
    o.background_compaction = false;
    Status s = Engine::Open(o, dir, db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return db->get();
  }
  std::string Bytes(const std::string& path) {
    std::string data;
    EXPECT_TRUE(ReadFileToString(env_.get(), path, &data).ok());
    return data;
  }
  void Write(const std::string& path, const std::string& data) {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env_->NewWritableFile(path, &f).ok());
    ASSERT_TRUE(f->Append(data).ok());
    ASSERT_TRUE(f->Close().ok());
  }
  std::unique_ptr<Env> env_;
  std::unique_ptr<Engine> db_;
  std::vector<Item> expected_;
};

TEST_F(SnapshotTest, RoundTripFromOpenStore) {
  // A line being written right now (no newline yet) must be left out.
  {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env_->NewAppendableFile("store/wal.jsonl", &f).ok());
    ASSERT_TRUE(f->Append("{\"v\":1,\"lsn\":9999,\"times").ok());
  }
  SnapshotOptions so;
  so.now_ms = 1700000000000;
  SnapshotInfo info;
  Status s = CreateSnapshot(env_.get(), "store", "snap.tar", so, &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(info.attempts, 1);
  EXPECT_EQ(info.segments, 1u);
  EXPECT_FALSE(env_->FileExists("snap.tar.tmp"));
  ASSERT_FALSE(info.members.empty());
  EXPECT_EQ(info.members.front().name, "global_index.json");

  SnapshotInfo v;
  ASSERT_TRUE(VerifySnapshot(env_.get(), "snap.tar", {}, &v).ok());
  for (const auto& p : v.problems) ADD_FAILURE() << p.file << ": " << p.reason;
  EXPECT_EQ(v.wal_last_lsn, 71u);  // 70 puts + 1 delete

  // The archive opens as a store, read-only, with the same items.
  std::unique_ptr<Env> tar_env;
  ASSERT_TRUE(OpenSnapshotEnv(env_.get(), "snap.tar", &tar_env).ok());
  std::unique_ptr<Engine> ro;
  ASSERT_NE(OpenReadOnly(tar_env.get(), "snap.tar", &ro), nullptr);
  EXPECT_EQ(All(ro.get()), expected_);
  std::string writable_err;
  EXPECT_FALSE(ro->Put(MakeItem(100)).ok());
  ro.reset();

  // Restore, then the restored store holds the same items.
  SnapshotInfo r;
  s = RestoreSnapshot(env_.get(), "snap.tar", "restored", {}, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(env_->FileExists("restored.restore-tmp"));
  EXPECT_FALSE(env_->FileExists("restored/t4dx_snapshot.json"));
  std::unique_ptr<Engine> back;
  ASSERT_NE(OpenReadOnly(env_.get(), "restored", &back), nullptr);
  EXPECT_EQ(All(back.get()), expected_);
  std::string report;
  bool healthy = false;
  ASSERT_TRUE(back->Verify(&report, &healthy).ok());
  EXPECT_TRUE(healthy) << report;

  // A non-empty target is refused.
  SnapshotInfo again;
  s = RestoreSnapshot(env_.get(), "snap.tar", "restored", {}, &again);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(SnapshotTest, DamageIsFoundAndNothingIsRestored) {
  SnapshotInfo info;
  ASSERT_TRUE(CreateSnapshot(env_.get(), "store", "snap.tar", SnapshotOptions(), &info).ok());
  std::string bytes = Bytes("snap.tar");
  // Flip one byte inside seg_000001/items.jsonl's data.
  std::unique_ptr<RandomAccessFile> f;
  ASSERT_TRUE(env_->NewRandomAccessFile("snap.tar", &f).ok());
  std::vector<TarMember> members;
  ASSERT_TRUE(ReadTarIndex(*f, "snap.tar", &members).ok());
  const TarMember* items = nullptr;
  for (const auto& m : members) {
    if (m.name == "seg_000001/items.jsonl") items = &m;
  }
  ASSERT_NE(items, nullptr);
  bytes[items->data_offset + 5] ^= 0x20;
  Write("bad.tar", bytes);

  SnapshotInfo v;
  ASSERT_TRUE(VerifySnapshot(env_.get(), "bad.tar", {}, &v).ok());
  ASSERT_GE(v.problems.size(), 2u);
  bool digest = false, block = false;
  for (const auto& p : v.problems) {
    if (p.area == "snapshot" && p.file == "bad.tar/seg_000001/items.jsonl") digest = true;
    if (p.area == "segment" && p.file.find("items.jsonl") != std::string::npos) {
      block = true;
      EXPECT_EQ(p.offset, 0);  // the first 64 KiB block
    }
  }
  EXPECT_TRUE(digest);
  EXPECT_TRUE(block);
  SnapshotInfo r;
  Status s = RestoreSnapshot(env_.get(), "bad.tar", "restored", {}, &r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_FALSE(env_->FileExists("restored"));
  EXPECT_FALSE(env_->FileExists("restored.restore-tmp"));
}

TEST_F(SnapshotTest, StoreFilesCheckFindsDamagedSegmentAndMissingIndex) {
  std::string rebuilt;
  ASSERT_TRUE(db_->RebuildHnsw({}, &rebuilt).ok());  // saves hnsw.idx
  ASSERT_TRUE(db_->Close().ok());
  StoreFilesReport healthy;
  ASSERT_TRUE(CheckStoreFiles(env_.get(), "store", StoreCheckOptions(), {}, &healthy).ok());
  for (const auto& p : healthy.problems) ADD_FAILURE() << p.file << ": " << p.reason;
  EXPECT_TRUE(healthy.healthy());
  EXPECT_TRUE(healthy.manifest_ok);
  EXPECT_EQ(healthy.segments_verified, 1u);

  std::string vec = Bytes("store/seg_000001/vectors.f32");
  vec[100] ^= 0x01;
  Write("store/seg_000001/vectors.f32", vec);
  ASSERT_TRUE(env_->RemoveFile("store/hnsw.idx").ok());
  StoreFilesReport r;
  ASSERT_TRUE(CheckStoreFiles(env_.get(), "store", StoreCheckOptions(), {}, &r).ok());
  bool seg = false, hnsw = false;
  for (const auto& p : r.problems) {
    if (p.area == "segment" && p.file == "store/seg_000001/vectors.f32" && p.offset == 0) {
      seg = p.severity == "error";
    }
    // Derived data the engine rebuilds: reported, but not damage.
    if (p.area == "hnsw" && p.file == "store/hnsw.idx") hnsw = p.severity == "info";
  }
  EXPECT_TRUE(seg);
  EXPECT_TRUE(hnsw);
  EXPECT_FALSE(r.healthy());

  // An unreadable manifest is reported with its file.
  std::string gi = Bytes("store/global_index.json");
  gi[gi.size() / 2] = '#';
  Write("store/global_index.json", gi);
  StoreFilesReport m;
  ASSERT_TRUE(CheckStoreFiles(env_.get(), "store", StoreCheckOptions(), {}, &m).ok());
  EXPECT_FALSE(m.manifest_ok);
  bool manifest = false;
  for (const auto& p : m.problems) {
    if (p.area == "global_index" && p.file == "store/global_index.json") manifest = true;
  }
  EXPECT_TRUE(manifest);
}

}  // namespace
}  // namespace t4dx

namespace t4dx {
namespace {

// Restores a snapshot and returns its items (empty on failure, with a test failure).
std::vector<Item> RestoredItems(Env* env, const std::string& tar, const std::string& dir) {
  SnapshotInfo r;
  Status s = RestoreSnapshot(env, tar, dir, {}, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  Options o;
  o.env = env;
  o.read_only = true;
  std::unique_ptr<Engine> db;
  s = Engine::Open(o, dir, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return s.ok() ? All(db.get()) : std::vector<Item>();
}

TEST_F(SnapshotTest, CompactionDuringTheCopyStartsItOver) {
  HookEnv hook(env_.get());
  // The copy opens seg_000001's first file; right then a compaction merges everything
  // into a new segment and removes seg_000001.
  hook.SetHook("store/seg_000001/ids.idx", [&] { ASSERT_TRUE(db_->Compact().ok()); });
  SnapshotInfo info;
  Status s = CreateSnapshot(&hook, "store", "snap.tar", SnapshotOptions(), &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(hook.fired_count("store/seg_000001/ids.idx"), 1);
  EXPECT_EQ(info.attempts, 2);
  EXPECT_FALSE(env_->FileExists("store/seg_000001"));
  SnapshotInfo v;
  ASSERT_TRUE(VerifySnapshot(env_.get(), "snap.tar", {}, &v).ok());
  for (const auto& p : v.problems) ADD_FAILURE() << p.file << ": " << p.reason;
  EXPECT_EQ(RestoredItems(env_.get(), "snap.tar", "restored"), expected_);
}

TEST_F(SnapshotTest, RotationBeforeTheActiveWalIsOpenedStartsItOver) {
  HookEnv hook(env_.get());
  // After the WAL files were listed and before wal.jsonl is opened, a flush seals it.
  hook.SetHook("store/wal.jsonl", [&] { ASSERT_TRUE(db_->Flush().ok()); });
  SnapshotInfo info;
  Status s = CreateSnapshot(&hook, "store", "snap.tar", SnapshotOptions(), &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(hook.fired_count("store/wal.jsonl"), 1);
  EXPECT_EQ(info.attempts, 2);
  EXPECT_EQ(RestoredItems(env_.get(), "snap.tar", "restored"), expected_);
}

TEST_F(SnapshotTest, RotationAfterTheActiveWalIsOpenedIsConsistent) {
  HookEnv hook(env_.get());
  // The copy holds wal.jsonl open when it is sealed.
  hook.SetHook("store/wal.jsonl", [&] { ASSERT_TRUE(db_->Flush().ok()); }, 1,
               HookEnv::When::kAfterOpen);
  SnapshotInfo info;
  Status s = CreateSnapshot(&hook, "store", "snap.tar", SnapshotOptions(), &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(hook.fired_count("store/wal.jsonl"), 1);
  EXPECT_EQ(info.attempts, 1);
  EXPECT_EQ(RestoredItems(env_.get(), "snap.tar", "restored"), expected_);
}

}  // namespace
}  // namespace t4dx
