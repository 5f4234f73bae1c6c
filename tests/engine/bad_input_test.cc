// Bad input: every rejected call returns the right Status code with a message that says
// what and where, and changes nothing (Count, the WAL's bytes and the stored items stay
// as they were). Also stores that must not be opened: an unknown format version, and a
// store locked by another open.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/engine_test_util.h"
#include "manifest/manifest.h"
#include "segment/segment_format.h"
#include "wal/wal_format.h"

namespace t4dx {
namespace {

using testutil::Contains;
using testutil::json;

constexpr uint32_t kDim = 8;
const char kStore[] = "/bad";

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    opts_.env = env_.get();
    opts_.background_compaction = false;
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db_).ok());
    for (int i = 0; i < 3; i++) {
      good_.push_back(testutil::MakeItem("ok" + std::to_string(i), kDim, i));
      ASSERT_TRUE(db_->Put(good_.back()).ok());
    }
    Snapshot();
  }
  uint64_t WalBytes() {
    uint64_t n = 0;
    env_->GetFileSize(JoinPath(kStore, kWalActiveName), &n);
    return n;
  }
  void Snapshot() {
    ASSERT_TRUE(db_->Count(&count_).ok());
    wal_bytes_ = WalBytes();
    files_ = testutil::Children(env_.get(), kStore);
  }
  // s must be code with every part in its message, and the store unchanged.
  void ExpectRejected(const Status& s, Status::Code code, const std::vector<std::string>& parts) {
    EXPECT_EQ(s.code(), code) << s.ToString();
    for (auto& p : parts)
      EXPECT_TRUE(Contains(s.message(), p)) << "'" << p << "' not in: " << s.message();
    uint64_t n = 0;
    ASSERT_TRUE(db_->Count(&n).ok());
    EXPECT_EQ(n, count_) << "a rejected call changed Count";
    EXPECT_EQ(WalBytes(), wal_bytes_) << "a rejected call wrote to the WAL";
    EXPECT_EQ(testutil::Children(env_.get(), kStore), files_);
    for (auto& it : good_) {
      Item got;
      ASSERT_TRUE(db_->Get(it.id, &got).ok()) << it.id;
      EXPECT_EQ(got.content, it.content);
    }
  }
  Item Good(const std::string& id) { return testutil::MakeItem(id, kDim, 42); }

  std::unique_ptr<Env> env_;
  Options opts_;
  std::unique_ptr<Engine> db_;
  std::vector<Item> good_;
  uint64_t count_ = 0, wal_bytes_ = 0;
  std::vector<std::string> files_;
};

TEST_F(BadInputTest, WrongDimension) {
  Item it = Good("x");
  it.embedding.resize(7);
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument,
                 {"item.embedding", "dimension 7", "store has 8"});
  it.embedding.resize(9, 0.5f);
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"dimension 9", "store has 8"});
  SearchResult r;
  ExpectRejected(db_->Search(std::vector<float>(5, 1.0f), SearchOptions(), &r),
                 Status::Code::kInvalidArgument, {"query_vector", "dimension 5", "store has 8"});
}

TEST_F(BadInputTest, WrongDimensionOnReopen) {
  ASSERT_TRUE(db_->Flush().ok());
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  Options o = opts_;
  o.dim = 16;
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(o, kStore, &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "dimension 8")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "16")) << s.message();
  ASSERT_TRUE(Engine::Open(opts_, kStore, &db_).ok());
}

TEST_F(BadInputTest, NanAndInf) {
  Item it = Good("x");
  it.embedding[3] = std::numeric_limits<float>::quiet_NaN();
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"item.embedding[3]", "NaN"});
  it.embedding[3] = std::numeric_limits<float>::infinity();
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"item.embedding[3]", "infinite"});
  it.embedding[3] = -std::numeric_limits<float>::infinity();
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"item.embedding[3]", "infinite"});
  it = Good("x");
  it.metadata["score"] = MetaValue::Number(std::nan(""));
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument,
                 {"item.metadata.score", "not finite"});
  std::vector<float> q(kDim, 1.0f);
  q[2] = std::numeric_limits<float>::quiet_NaN();
  SearchResult r;
  ExpectRejected(db_->Search(q, SearchOptions(), &r), Status::Code::kInvalidArgument,
                 {"query_vector[2]", "not finite"});
}

TEST_F(BadInputTest, ZeroVectorUnderCosine) {
  Item it = Good("x");
  std::fill(it.embedding.begin(), it.embedding.end(), 0.0f);
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"item.embedding", "zero vector"});
  SearchResult r;
  ExpectRejected(db_->Search(std::vector<float>(kDim, 0.0f), SearchOptions(), &r),
                 Status::Code::kInvalidArgument, {"query_vector", "zero"});
}

TEST_F(BadInputTest, InvalidIds) {
  struct Case {
    std::string id;
    std::vector<std::string> parts;
  };
  std::vector<Case> cases = {
      {"", {"item.id", "empty"}},
      {std::string(129, 'a'), {"item.id", "129 characters", "at most 128"}},
      {"a/b", {"item.id", "invalid character '/'", "position 1"}},
      {"../etc", {"invalid character '/'", "position 2"}},
      {"has space", {"invalid character ' '", "position 3"}},
      {std::string("nul\0x", 5), {"invalid character", "\\x00", "position 3"}},
      {"tab\there", {"invalid character", "\\x09"}},
      {"caf\xc3\xa9", {"invalid character"}},
  };
  for (auto& c : cases) {
    SCOPED_TRACE("id of " + std::to_string(c.id.size()) + " bytes");
    Item it = Good(c.id);
    ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, c.parts);
    Item got;
    EXPECT_TRUE(db_->Get(c.id, &got).IsInvalidArgument());
    ExpectRejected(db_->Delete(c.id), Status::Code::kInvalidArgument, {"id"});
  }
  // The limits themselves are fine.
  Item longest = Good(std::string(128, 'z'));
  EXPECT_TRUE(db_->Put(longest).ok());
  EXPECT_TRUE(db_->Put(Good("A-z_0.9:x")).ok());
}

TEST_F(BadInputTest, ContentAndMetadataOverLimits) {
  Item it = Good("x");
  it.content.assign(opts_.max_content_bytes + 1, 'c');
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument,
                 {"item.content", std::to_string(opts_.max_content_bytes + 1) + " bytes",
                  "at most " + std::to_string(opts_.max_content_bytes)});
  it = Good("x");
  it.content = "bad utf-8 \xff\xfe";
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"item.content", "UTF-8"});
  it = Good("x");
  it.kind.assign(65, 'k');
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument,
                 {"item.kind", "65 bytes", "at most 64"});
  it = Good("x");
  for (int i = 0; i < 65; i++) it.metadata["k" + std::to_string(i)] = MetaValue::Bool(true);
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument,
                 {"item.metadata", "keys", "at most 64"});
  it = Good("x");
  it.metadata[std::string(129, 'k')] = MetaValue::Bool(true);
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument,
                 {"item.metadata", "key of 129 bytes"});
  it = Good("x");
  it.metadata["big"] = MetaValue::String(std::string(opts_.max_metadata_bytes, 'm'));
  ExpectRejected(
      db_->Put(it), Status::Code::kInvalidArgument,
      {"item.metadata", "bytes as JSON", "at most " + std::to_string(opts_.max_metadata_bytes)});
  it = Good("x");
  it.metadata[""] = MetaValue::Bool(true);
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"item.metadata", "empty key"});
  it = Good("x");
  it.embedding.assign(kMaxDimension + 1, 1.0f);
  ExpectRejected(db_->Put(it), Status::Code::kInvalidArgument, {"item.embedding", "dimension"});
}

TEST_F(BadInputTest, BatchWithOneBadItemIsRejectedWhole) {
  std::vector<Item> batch;
  for (int i = 0; i < 5; i++) batch.push_back(Good("b" + std::to_string(i)));
  batch[2].embedding[1] = std::numeric_limits<float>::quiet_NaN();
  ExpectRejected(db_->PutBatch(batch), Status::Code::kInvalidArgument,
                 {"items[2].embedding[1]", "NaN"});
  batch[2] = Good("b/2");
  ExpectRejected(db_->PutBatch(batch), Status::Code::kInvalidArgument, {"items[2].id", "'/'"});
  batch[2] = Good("b2");
  batch[4].embedding.resize(3);
  ExpectRejected(db_->PutBatch(batch), Status::Code::kInvalidArgument,
                 {"items[4].embedding", "dimension 3"});
  batch[4] = Good("b1");
  ExpectRejected(db_->PutBatch(batch), Status::Code::kInvalidArgument,
                 {"items[4].id", "'b1'", "items[1]"});
  ExpectRejected(db_->PutBatch({}), Status::Code::kInvalidArgument, {"items", "empty"});
  batch[4] = Good("b4");
  for (int i = 0; i < 5; i++) {
    Item got;
    EXPECT_TRUE(db_->Get("b" + std::to_string(i), &got).IsNotFound());
  }
  Options small = opts_;
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  small.max_batch_items = 4;
  ASSERT_TRUE(Engine::Open(small, kStore, &db_).ok());
  Snapshot();
  ExpectRejected(db_->PutBatch(batch), Status::Code::kInvalidArgument,
                 {"batch of 5 items", "limit of 4"});
}

// The first vector fixes a new store's dimension; a batch that disagrees with itself on
// an empty store is rejected as a whole.
TEST(BadInputNewStoreTest, BatchDisagreeingOnDimension) {
  auto env = NewMemEnv();
  Options o;
  o.env = env.get();
  o.background_compaction = false;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "/new", &db).ok());
  std::vector<Item> batch = {testutil::MakeItem("a", 4, 1), testutil::MakeItem("b", 5, 2)};
  Status s = db->PutBatch(batch);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "items[1].embedding")) << s.message();
  uint64_t n = 1;
  ASSERT_TRUE(db->Count(&n).ok());
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(db->dim(), 0u);
  ASSERT_TRUE(db->Put(testutil::MakeItem("c", 6, 3)).ok());
  EXPECT_EQ(db->dim(), 6u);
}

TEST_F(BadInputTest, SearchArguments) {
  SearchOptions so;
  so.k = 0;
  SearchResult r;
  ExpectRejected(db_->Search(std::vector<float>(kDim, 1.0f), so, &r),
                 Status::Code::kInvalidArgument, {"k: 0"});
  so.k = opts_.max_k + 1;
  ExpectRejected(db_->Search(std::vector<float>(kDim, 1.0f), so, &r),
                 Status::Code::kInvalidArgument, {"k: " + std::to_string(opts_.max_k + 1)});
  so.k = 1;
  ExpectRejected(db_->Search({}, so, &r), Status::Code::kInvalidArgument, {"query_vector"});
}

TEST_F(BadInputTest, DeleteOfAbsentIdWritesNothing) {
  ExpectRejected(db_->Delete("never-stored"), Status::Code::kNotFound, {"never-stored"});
  ASSERT_TRUE(db_->Delete("ok1").ok());
  good_.erase(good_.begin() + 1);
  Snapshot();
  ExpectRejected(db_->Delete("ok1"), Status::Code::kNotFound, {"ok1", "deleted"});
}

TEST_F(BadInputTest, WritesAfterCloseAndReadOnly) {
  ASSERT_TRUE(db_->Close().ok());
  Status s = db_->Put(Good("x"));
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "closed")) << s.message();
  db_.reset();
  Options ro = opts_;
  ro.read_only = true;
  ASSERT_TRUE(Engine::Open(ro, kStore, &db_).ok());
  Snapshot();
  s = db_->Put(Good("x"));
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.message(), "read-only")) << s.message();
  ExpectRejected(db_->Delete("ok0"), Status::Code::kFailedPrecondition, {"read-only"});
  ExpectRejected(db_->Flush(), Status::Code::kFailedPrecondition, {"read-only"});
}

// ---- stores that must not be opened ----

class StoreFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    opts_.env = env_.get();
    opts_.background_compaction = false;
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
    for (int i = 0; i < 10; i++)
      ASSERT_TRUE(db->Put(testutil::MakeItem("s" + std::to_string(i), kDim, i)).ok());
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(db->Put(testutil::MakeItem("late", kDim, 99)).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  // Every file of the store, path -> bytes.
  std::map<std::string, std::string> Tree(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (auto& n : testutil::Children(env_.get(), dir)) {
      std::string p = JoinPath(dir, n);
      bool is_dir = false;
      env_->IsDirectory(p, &is_dir);
      if (is_dir) {
        for (auto& kv : Tree(p)) out.insert(kv);
      } else if (n != "LOCK") {
        out[p] = testutil::ReadAll(env_.get(), p);
      }
    }
    return out;
  }
  void ExpectRefused(const std::string& file, const std::string& what) {
    auto before = Tree(kStore);
    for (bool strict : {false, true}) {
      Options o = opts_;
      o.recovery_strict = strict;
      std::unique_ptr<Engine> db;
      Status s = Engine::Open(o, kStore, &db);
      EXPECT_TRUE(s.code() == Status::Code::kNotSupported || s.IsCorruption()) << s.ToString();
      EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
      EXPECT_TRUE(Contains(s.message(), file)) << s.message();
      EXPECT_TRUE(Contains(s.message(), what)) << s.message();
      EXPECT_TRUE(Contains(s.message(), "99")) << s.message();
      auto after = Tree(kStore);
      std::string changed;
      for (auto& kv : after)
        if (!before.count(kv.first) || before[kv.first] != kv.second) changed += " " + kv.first;
      for (auto& kv : before)
        if (!after.count(kv.first)) changed += " -" + kv.first;
      EXPECT_EQ(changed, "") << "refusing to open must change nothing";
    }
  }
  std::unique_ptr<Env> env_;
  Options opts_;
};

TEST_F(StoreFormatTest, UnknownManifestVersion) {
  std::string path = JoinPath(kStore, kManifestFile);
  std::string data = testutil::ReadAll(env_.get(), path);
  json j = json::parse(data);
  ASSERT_EQ(j["version"].get<int>(), kManifestFormatVersion);
  j["version"] = 99;  // checksum left as it was: the version is what must be reported
  ASSERT_TRUE(testutil::WriteAll(env_.get(), path, j.dump()).ok());
  ExpectRefused("global_index.json", "version");
}

TEST_F(StoreFormatTest, UnknownSegmentVersion) {
  std::string path = JoinPath(JoinPath(kStore, SegmentDirName(1)), kSegmentMetaFile);
  std::string data = testutil::ReadAll(env_.get(), path);
  json j = json::parse(data, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << data;
  ASSERT_TRUE(j.contains("version")) << data;
  j["version"] = 99;
  ASSERT_TRUE(testutil::WriteAll(env_.get(), path, j.dump()).ok());
  ExpectRefused("meta.json", "version");
}

TEST(StoreLockTest, SecondOpenOfTheSameDirectoryIsLocked) {
  testutil::TempDir tmp("t4dx_lock");
  ASSERT_FALSE(tmp.path().empty());
  std::string dir = tmp.path() + "/store";
  Options o;
  o.background_compaction = false;
  std::unique_ptr<Engine> first, second;
  ASSERT_TRUE(Engine::Open(o, dir, &first).ok());
  ASSERT_TRUE(first->Put(testutil::MakeItem("x", kDim, 1)).ok());
  Status s = Engine::Open(o, dir, &second);
  EXPECT_TRUE(s.IsLocked()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), dir)) << s.message();
  EXPECT_TRUE(Contains(s.message(), "process " + std::to_string(::getpid()))) << s.message();
  EXPECT_EQ(second, nullptr);
  // The refused open changed nothing: the first handle still works.
  ASSERT_TRUE(first->Put(testutil::MakeItem("y", kDim, 2)).ok());
  uint64_t n = 0;
  ASSERT_TRUE(first->Count(&n).ok());
  EXPECT_EQ(n, 2u);
  ASSERT_TRUE(first->Close().ok());
  ASSERT_TRUE(Engine::Open(o, dir, &second).ok());
  ASSERT_TRUE(second->Count(&n).ok());
  EXPECT_EQ(n, 2u);
  // A read-only open takes no lock and may run beside the writer.
  std::unique_ptr<Engine> ro;
  Options r = o;
  r.read_only = true;
  ASSERT_TRUE(Engine::Open(r, dir, &ro).ok());
  ASSERT_TRUE(ro->Count(&n).ok());
  EXPECT_EQ(n, 2u);
}

TEST(StoreLockTest, SecondOpenOnMemEnvIsLocked) {
  auto env = NewMemEnv();
  Options o;
  o.env = env.get();
  o.background_compaction = false;
  std::unique_ptr<Engine> first, second;
  ASSERT_TRUE(Engine::Open(o, "/m", &first).ok());
  Status s = Engine::Open(o, "/m", &second);
  EXPECT_TRUE(s.IsLocked()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "/m")) << s.message();
}

}  // namespace
}  // namespace t4dx
