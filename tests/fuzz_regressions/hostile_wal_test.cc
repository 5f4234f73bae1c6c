// Found by wal_line_fuzzer: WAL records whose checksum is right but whose items break the
// rules every write is checked against (an id outside [A-Za-z0-9._:-], an over-long kind,
// too many dimensions). Replay used to take them into the MemTable, after which every flush
// failed ("segment: id ... is invalid"), so the store could never flush again. Such a line
// is corruption like any other: refused by DecodeWalRecord, so recovery stops before it
// (quarantining it by default), and the store keeps working.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace t4dx {
namespace {

Item Good(const std::string& id) {
  Item it;
  it.id = id;
  it.kind = "episode";
  it.content = "ok";
  it.timestamp = 1000;
  it.embedding = {1.f, 0.f, 0.f};
  return it;
}

std::string Line(uint64_t lsn, const Item& item) {
  WalRecord r;
  r.lsn = lsn;
  r.timestamp = 1;
  r.op = WalOp::kPut;
  r.items = {item};
  std::string out;
  EncodeWalRecord(r, &out);
  return out;
}

class HostileWalTest : public ::testing::TestWithParam<int> {
 protected:
  static Item Bad(int which) {
    Item it = Good("bad");
    switch (which) {
      case 0:
        it.id = "../escape/id";
        break;
      case 1:
        it.id = "";
        break;
      case 2:
        it.id = std::string(70000, 'a');  // past ids.idx's 16-bit id length
        break;
      case 3:
        it.kind = std::string(300, 'k');  // past the segment's 255-byte kind
        break;
      default:
        it.embedding.assign(kMaxDimension + 1, 0.5f);
        break;
    }
    return it;
  }
};

TEST_P(HostileWalTest, DecoderRefusesTheLine) {
  const std::string line = Line(2, Bad(GetParam()));
  WalRecord r;
  std::string reason;
  EXPECT_FALSE(DecodeWalRecord(std::string_view(line).substr(0, line.size() - 1), &r, &reason));
  EXPECT_FALSE(reason.empty());
}

TEST_P(HostileWalTest, StoreOpensAndStillFlushes) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/s").ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(std::string("/s/") + kWalActiveName, &f).ok());
  ASSERT_TRUE(f->Append(Line(1, Good("first")) + Line(2, Bad(GetParam()))).ok());
  ASSERT_TRUE(f->Close().ok());

  Options o;
  o.env = env.get();
  o.background_compaction = false;
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(o, "/s", &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Item got;
  EXPECT_TRUE(db->Get("first", &got).ok());
  EXPECT_TRUE(db->Put(Good("second")).ok());
  s = db->Flush();
  EXPECT_TRUE(s.ok()) << s.ToString();
  uint64_t n = 0;
  ASSERT_TRUE(db->Count(&n).ok());
  EXPECT_EQ(n, 2u);
  EXPECT_TRUE(db->Close().ok());

  o.recovery_strict = true;  // the quarantined line is reported, nothing was replayed from it
  db.reset();
  s = Engine::Open(o, "/s", &db);
  if (s.ok()) {
    EXPECT_TRUE(db->Get("second", &got).ok());
    EXPECT_TRUE(db->Close().ok());
  }
}

INSTANTIATE_TEST_SUITE_P(Items, HostileWalTest, ::testing::Range(0, 5));

}  // namespace
}  // namespace t4dx
