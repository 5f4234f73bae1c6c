// Named WAL damage cases, each in both recovery modes (default and strict). A store is
// written for real, closed, its wal.jsonl bytes edited, then reopened:
//   strict:  Open fails with kCorruption naming file, line, byte offset and reason, and
//            changes nothing on disk;
//   default: opens at the last good entry; acknowledged earlier items are there; the rest
//            is moved under quarantine/ (the bytes kept), status and the recovery report
//            say so.
// A torn or zero-filled last line is the normal result of a crash: both modes cut it
// (saved aside under quarantine/) and open.
#include <gtest/gtest.h>

#include <set>

#include "engine/engine_test_util.h"
#include "t4dx/clock.h"
#include "util/checksum.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace t4dx {
namespace {

using testutil::Contains;
using testutil::json;

constexpr uint32_t kDim = 8;
const char kStore[] = "/store";

struct Line {
  uint64_t offset;
  std::string text;  // with its '\n'
};

// A line whose checksum is right for `body` (the record text without its trailer).
std::string Seal(const std::string& body) {
  return body + kWalChecksumField + HashHex(Hash64(body)) + "\"}\n";
}

class WalRecoveryTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    opts_.env = env_.get();
    opts_.flush_threshold_items = 1000;
    opts_.background_compaction = false;
  }
  bool strict() const { return GetParam(); }
  std::string WalPath() const { return JoinPath(kStore, kWalActiveName); }

  // Writes items w1..wn (one WAL line each) and closes the store.
  void Build(int n) {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
    for (int i = 1; i <= n; i++) {
      items_.push_back(testutil::MakeItem("w" + std::to_string(i), kDim, i, 1000 + i));
      ASSERT_TRUE(db->Put(items_.back()).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }

  std::vector<Line> Lines(const std::string& path) {
    std::string data = testutil::ReadAll(env_.get(), path);
    std::vector<Line> out;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      size_t end = nl == std::string::npos ? data.size() : nl + 1;
      out.push_back({pos, data.substr(pos, end - pos)});
      pos = end;
    }
    return out;
  }
  void WriteLines(const std::string& path, const std::vector<Line>& lines) {
    std::string data;
    for (auto& l : lines) data += l.text;
    ASSERT_TRUE(testutil::WriteAll(env_.get(), path, data).ok());
  }
  WalRecord Decode(const Line& l) {
    WalRecord r;
    std::string reason;
    EXPECT_TRUE(DecodeWalRecord(std::string_view(l.text).substr(0, l.text.size() - 1), &r, &reason))
        << reason;
    return r;
  }
  static std::string Encode(const WalRecord& r) {
    std::string s;
    EncodeWalRecord(r, &s);
    return s;
  }

  Status Reopen(std::unique_ptr<Engine>* db) {
    Options o = opts_;
    o.recovery_strict = strict();
    return Engine::Open(o, kStore, db);
  }

  // The one file under quarantine/ whose name ends with suffix ("" if none).
  std::string QuarantinedWith(const std::string& suffix, std::string* name = nullptr) {
    std::string qdir = JoinPath(kStore, "quarantine");
    std::string found;
    int n = 0;
    for (auto& c : testutil::Children(env_.get(), qdir)) {
      if (c.size() >= suffix.size() &&
          c.compare(c.size() - suffix.size(), suffix.size(), suffix) == 0) {
        found = c;
        n++;
      }
    }
    EXPECT_LE(n, 1) << "several quarantined files end with " << suffix;
    if (found.empty()) return "";
    if (name) *name = found;
    return testutil::ReadAll(env_.get(), JoinPath(qdir, found));
  }

  void ExpectPresent(Engine* db, int from, int to) {
    for (int i = from; i <= to; i++) {
      Item got;
      Status s = db->Get(items_[i - 1].id, &got);
      ASSERT_TRUE(s.ok()) << items_[i - 1].id << ": " << s.ToString();
      EXPECT_EQ(got.content, items_[i - 1].content);
      EXPECT_EQ(got.embedding, testutil::Normalized(items_[i - 1].embedding));
    }
  }
  void ExpectAbsent(Engine* db, int from, int to) {
    for (int i = from; i <= to; i++) {
      Item got;
      EXPECT_TRUE(db->Get(items_[i - 1].id, &got).IsNotFound()) << items_[i - 1].id;
    }
  }

  // A mid-log corruption at line `bad_line` of wal.jsonl: checks both modes.
  void ExpectCorruptionHandled(const std::string& original, int bad_line, uint64_t bad_offset,
                               const std::string& reason_part, int total_items) {
    std::unique_ptr<Engine> db;
    Status s = Reopen(&db);
    if (strict()) {
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_EQ(s.file(), WalPath());
      EXPECT_EQ(s.line(), bad_line);
      EXPECT_EQ(s.offset(), int64_t(bad_offset));
      EXPECT_TRUE(Contains(s.message(), "wal.jsonl:" + std::to_string(bad_line))) << s.message();
      EXPECT_TRUE(Contains(s.message(), "byte " + std::to_string(bad_offset))) << s.message();
      EXPECT_TRUE(Contains(s.message(), reason_part)) << s.message();
      // Refusing to open changes nothing.
      EXPECT_EQ(testutil::ReadAll(env_.get(), WalPath()), original);
      EXPECT_FALSE(env_->FileExists(JoinPath(kStore, "quarantine")));
      return;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    ExpectPresent(db.get(), 1, bad_line - 1);
    ExpectAbsent(db.get(), bad_line, total_items);
    uint64_t n = 0;
    ASSERT_TRUE(db->Count(&n).ok());
    EXPECT_EQ(n, uint64_t(bad_line - 1));
    // The bytes from the bad line on are kept under quarantine/, and cut from the WAL.
    std::string q = QuarantinedWith(".corrupt");
    EXPECT_EQ(q, original.substr(bad_offset));
    EXPECT_EQ(testutil::ReadAll(env_.get(), WalPath()), original.substr(0, bad_offset));
    // Status names the problem; the report counts the bytes.
    json st = testutil::Describe(db.get(), View::kStatus);
    EXPECT_FALSE(st["healthy"].get<bool>()) << st.dump();
    bool named = false;
    for (auto& p : st["problems"]) {
      std::string m = p.get<std::string>();
      named =
          named || (Contains(m, "wal.jsonl:" + std::to_string(bad_line)) &&
                    Contains(m, "byte " + std::to_string(bad_offset)) && Contains(m, reason_part));
    }
    EXPECT_TRUE(named) << st["problems"].dump();
    json rr = testutil::Describe(db.get(), View::kRecoveryReport);
    EXPECT_EQ(rr["corrupt_bytes_quarantined"].get<uint64_t>(), original.size() - bad_offset)
        << rr.dump();
    EXPECT_EQ(rr["recovery_mode"], "default");
    // The store takes writes again, and a second open is clean.
    Item more = testutil::MakeItem("after", kDim, 99, 5000);
    ASSERT_TRUE(db->Put(more).ok());
    ASSERT_TRUE(db->Close().ok());
    db.reset();
    Options o = opts_;
    ASSERT_TRUE(Engine::Open(o, kStore, &db).ok());
    ExpectPresent(db.get(), 1, bad_line - 1);
    ExpectAbsent(db.get(), bad_line, total_items);
    Item got;
    EXPECT_TRUE(db->Get("after", &got).ok());
  }

  std::unique_ptr<Env> env_;
  Options opts_;
  std::vector<Item> items_;
};

TEST_P(WalRecoveryTest, TornTail) {
  Build(5);
  std::string wal = testutil::ReadAll(env_.get(), WalPath());
  std::string next = Encode([&] {
    WalRecord r;
    r.lsn = 6;
    r.timestamp = 1;
    r.op = WalOp::kPut;
    r.items = {testutil::MakeItem("w6", kDim, 6)};
    return r;
  }());
  std::string torn = next.substr(0, next.size() / 2);  // no newline
  ASSERT_TRUE(testutil::WriteAll(env_.get(), WalPath(), wal + torn).ok());

  std::unique_ptr<Engine> db;
  Status s = Reopen(&db);
  ASSERT_TRUE(s.ok()) << "a torn tail is normal in both modes: " << s.ToString();
  ExpectPresent(db.get(), 1, 5);
  Item got;
  EXPECT_TRUE(db->Get("w6", &got).IsNotFound());
  EXPECT_EQ(QuarantinedWith(".torn"), torn);
  EXPECT_EQ(testutil::ReadAll(env_.get(), WalPath()), wal);
  json rr = testutil::Describe(db.get(), View::kRecoveryReport);
  EXPECT_EQ(rr["torn_bytes_cut"].get<uint64_t>(), torn.size()) << rr.dump();
  EXPECT_EQ(rr["corrupt_bytes_quarantined"].get<uint64_t>(), 0u);
  bool mentioned = false;
  for (auto& a : rr["actions"]) mentioned = mentioned || Contains(a.get<std::string>(), "torn");
  EXPECT_TRUE(mentioned) << rr.dump();
  // Not a problem: a crash mid-write is expected.
  json st = testutil::Describe(db.get(), View::kStatus);
  EXPECT_TRUE(st["healthy"].get<bool>()) << st.dump();
  // New writes continue the LSN sequence after the last good entry.
  uint64_t lsn = 0;
  ASSERT_TRUE(db->Put(testutil::MakeItem("w6", kDim, 6), &lsn).ok());
  EXPECT_EQ(lsn, 6u);
}

TEST_P(WalRecoveryTest, ZeroFilledTail) {
  Build(5);
  std::string wal = testutil::ReadAll(env_.get(), WalPath());
  std::string zeros(300, '\0');
  ASSERT_TRUE(testutil::WriteAll(env_.get(), WalPath(), wal + zeros).ok());

  std::unique_ptr<Engine> db;
  Status s = Reopen(&db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectPresent(db.get(), 1, 5);
  EXPECT_EQ(QuarantinedWith(".torn"), zeros);
  EXPECT_EQ(testutil::ReadAll(env_.get(), WalPath()), wal);
  json rr = testutil::Describe(db.get(), View::kRecoveryReport);
  EXPECT_EQ(rr["torn_bytes_cut"].get<uint64_t>(), zeros.size()) << rr.dump();
  bool mentioned = false;
  for (auto& a : rr["actions"])
    mentioned = mentioned || Contains(a.get<std::string>(), "zero-filled");
  EXPECT_TRUE(mentioned) << rr.dump();
}

TEST_P(WalRecoveryTest, ChecksumMismatchMidLog) {
  Build(5);
  auto lines = Lines(WalPath());
  ASSERT_EQ(lines.size(), 5u);
  // Rot one byte of line 3's content: the checksum no longer matches.
  size_t at = lines[2].text.find("content of w3");
  ASSERT_NE(at, std::string::npos);
  lines[2].text[at] = 'C';
  WriteLines(WalPath(), lines);
  std::string original = testutil::ReadAll(env_.get(), WalPath());
  ExpectCorruptionHandled(original, 3, lines[2].offset, "checksum mismatch", 5);
}

TEST_P(WalRecoveryTest, InvalidJson) {
  Build(5);
  auto lines = Lines(WalPath());
  // A line with a right checksum whose JSON is broken (a writer bug, not bit rot).
  lines[2].text =
      Seal("{\"v\":1,\"lsn\":3,\"timestamp\":5,\"op_type\":\"put\",\"item\":{\"id\":\"w3\",");
  WriteLines(WalPath(), lines);
  std::string original = testutil::ReadAll(env_.get(), WalPath());
  ExpectCorruptionHandled(original, 3, lines[2].offset, "JSON", 5);
}

TEST_P(WalRecoveryTest, LsnOutOfOrder) {
  Build(5);
  auto lines = Lines(WalPath());
  WalRecord r = Decode(lines[3]);
  r.lsn = 2;  // goes back
  lines[3].text = Encode(r);
  WriteLines(WalPath(), lines);
  std::string original = testutil::ReadAll(env_.get(), WalPath());
  ExpectCorruptionHandled(original, 4, lines[3].offset, "LSN out of order", 5);
}

TEST_P(WalRecoveryTest, TruncatedEmbedding) {
  Build(5);
  auto lines = Lines(WalPath());
  WalRecord r = Decode(lines[2]);
  ASSERT_EQ(r.items.size(), 1u);
  r.items[0].embedding.pop_back();  // 7 floats in a store of dimension 8; checksum right
  lines[2].text = Encode(r);
  WriteLines(WalPath(), lines);
  std::string original = testutil::ReadAll(env_.get(), WalPath());
  ExpectCorruptionHandled(original, 3, lines[2].offset, "dimension", 5);
}

TEST_P(WalRecoveryTest, TruncatedEmbeddingBase64) {
  Build(5);
  auto lines = Lines(WalPath());
  // Cut the base64 text of line 3's embedding short and re-seal the line.
  std::string text = lines[2].text.substr(0, lines[2].text.size() - kWalChecksumTrailerSize - 1);
  size_t b = text.find("\"embedding_b64\":\"");
  ASSERT_NE(b, std::string::npos);
  b += 17;
  size_t e = text.find('"', b);
  text.erase(b + 10, e - (b + 10));
  lines[2].text = Seal(text);
  WriteLines(WalPath(), lines);
  std::string original = testutil::ReadAll(env_.get(), WalPath());
  ExpectCorruptionHandled(original, 3, lines[2].offset, "embedding", 5);
}

// Corruption inside a sealed WAL file whose entries are all in segments already loses
// nothing: the newer, unflushed entries of wal.jsonl must still be replayed.
TEST_P(WalRecoveryTest, ChecksumMismatchInFlushedSealedFile) {
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
    for (int i = 1; i <= 8; i++) {
      items_.push_back(testutil::MakeItem("w" + std::to_string(i), kDim, i, 1000 + i));
      ASSERT_TRUE(db->Put(items_.back()).ok());
      if (i == 5) {
        ASSERT_TRUE(db->Flush().ok());
      }
    }
    ASSERT_TRUE(db->Close().ok());
  }
  std::string sealed = JoinPath(kStore, SealedWalName(1));
  ASSERT_TRUE(env_->FileExists(sealed)) << testutil::Children(env_.get(), kStore).size();
  auto lines = Lines(sealed);
  ASSERT_EQ(lines.size(), 5u);
  size_t at = lines[1].text.find("content of w2");
  ASSERT_NE(at, std::string::npos);
  lines[1].text[at] = 'X';
  WriteLines(sealed, lines);

  std::unique_ptr<Engine> db;
  Status s = Reopen(&db);
  if (strict()) {
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(s.file(), sealed);
    EXPECT_EQ(s.line(), 2);
    return;
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectPresent(db.get(), 1, 8);
  uint64_t n = 0;
  ASSERT_TRUE(db->Count(&n).ok());
  EXPECT_EQ(n, 8u);
  json st = testutil::Describe(db.get(), View::kStatus);
  bool named = false;
  for (auto& p : st["problems"]) named = named || Contains(p.get<std::string>(), SealedWalName(1));
  EXPECT_TRUE(named) << st.dump();
}

// A line removed from the middle of the log: every LSN above durable_lsn must be there, so
// the record after the hole is where the WAL stops being trustworthy.
TEST_P(WalRecoveryTest, LsnGapMidLog) {
  Build(5);
  auto lines = Lines(WalPath());
  ASSERT_EQ(lines.size(), 5u);
  lines.erase(lines.begin() + 2);  // LSN 3
  WriteLines(WalPath(), lines);
  lines = Lines(WalPath());
  std::string original = testutil::ReadAll(env_.get(), WalPath());
  ExpectCorruptionHandled(original, 3, lines[2].offset, "LSN gap", 5);
}

// A sealed WAL file whose entries are not in a segment yet, removed by hand: the store
// must not open as healthy without them.
TEST_P(WalRecoveryTest, UnflushedSealedFileRemoved) {
  opts_.flush_threshold_items = 3;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
    for (int i = 1; i <= 8; i++) {
      items_.push_back(testutil::MakeItem("w" + std::to_string(i), kDim, i, 1000 + i));
      ASSERT_TRUE(db->Put(items_.back()).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
  json gi = json::parse(testutil::ReadAll(env_.get(), JoinPath(kStore, "global_index.json")));
  ASSERT_EQ(gi["durable_lsn"].get<uint64_t>(), 3u) << gi.dump();
  const std::string sealed = JoinPath(kStore, SealedWalName(4));  // LSNs 4..6
  ASSERT_TRUE(env_->RemoveFile(sealed).ok());
  const std::string original = testutil::ReadAll(env_.get(), WalPath());  // LSNs 7, 8

  std::unique_ptr<Engine> db;
  Status s = Reopen(&db);
  if (strict()) {
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(s.file(), WalPath());
    EXPECT_EQ(s.line(), 1);
    EXPECT_TRUE(Contains(s.message(), "LSNs 4..6 are missing")) << s.message();
    EXPECT_EQ(testutil::ReadAll(env_.get(), WalPath()), original);
    return;
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectPresent(db.get(), 1, 3);
  ExpectAbsent(db.get(), 4, 8);
  json st = testutil::Describe(db.get(), View::kStatus);
  EXPECT_FALSE(st["healthy"].get<bool>()) << st.dump();
  bool named = false;
  for (auto& p : st["problems"]) named = named || Contains(p.get<std::string>(), "LSNs 4..6");
  EXPECT_TRUE(named) << st["problems"].dump();
  // LSNs 7 and 8 are kept under quarantine/, not dropped.
  EXPECT_EQ(QuarantinedWith(".corrupt"), original);
}

// A WAL that ends in the middle of a batch line: the batch is all or nothing.
TEST_P(WalRecoveryTest, TornBatchIsAllOrNothing) {
  Build(2);
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Engine::Open(opts_, kStore, &db).ok());
    std::vector<Item> batch;
    for (int i = 3; i <= 6; i++)
      batch.push_back(testutil::MakeItem("w" + std::to_string(i), kDim, i));
    ASSERT_TRUE(db->PutBatch(batch).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  std::string wal = testutil::ReadAll(env_.get(), WalPath());
  ASSERT_TRUE(testutil::WriteAll(env_.get(), WalPath(), wal.substr(0, wal.size() - 20)).ok());
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Reopen(&db).ok());
  uint64_t n = 0;
  ASSERT_TRUE(db->Count(&n).ok());
  EXPECT_EQ(n, 2u);
  Item got;
  for (int i = 3; i <= 6; i++) EXPECT_TRUE(db->Get("w" + std::to_string(i), &got).IsNotFound());
}

// Nothing is deleted silently: two torn tails cut at the same clock millisecond are both
// kept under quarantine/ (names must not collide).
class FixedClock : public Clock {
 public:
  int64_t NowUnixMillis() override { return 1700000000000; }
  int64_t NowMicros() override { return us_ += 10; }

 private:
  int64_t us_ = 0;
};

TEST_P(WalRecoveryTest, QuarantinedFilesNeverOverwriteEachOther) {
  FixedClock clock;
  opts_.clock = &clock;
  Build(2);
  std::vector<std::string> torn = {std::string("{\"v\":1,\"lsn\":3"), std::string(40, '\0')};
  for (auto& t : torn) {
    std::string wal = testutil::ReadAll(env_.get(), WalPath());
    ASSERT_TRUE(testutil::WriteAll(env_.get(), WalPath(), wal + t).ok());
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Reopen(&db).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  std::multiset<std::string> kept;
  for (auto& n : testutil::Children(env_.get(), JoinPath(kStore, "quarantine"))) {
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".torn") == 0) {
      kept.insert(testutil::ReadAll(env_.get(), JoinPath(JoinPath(kStore, "quarantine"), n)));
    }
  }
  EXPECT_EQ(kept, std::multiset<std::string>(torn.begin(), torn.end()));
}

INSTANTIATE_TEST_SUITE_P(Modes, WalRecoveryTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Strict" : "Default";
                         });

}  // namespace
}  // namespace t4dx
