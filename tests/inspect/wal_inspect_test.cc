// InspectWal and RepairWal (t4dx/inspect.h) on hand-made WAL files in an in-memory Env.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "hook_env.h"
#include "manifest/manifest.h"
#include "t4dx/engine.h"
#include "t4dx/inspect.h"
#include "wal/wal_format.h"
#include "wal/wal_test_util.h"

namespace t4dx {
namespace {

using namespace wal_test;

class WalInspectTest : public testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    ASSERT_TRUE(env_->CreateDir("s").ok());
  }
  void Put(const std::string& name, const std::string& data) {
    ASSERT_TRUE(WriteFile(env_.get(), "s/" + name, data).ok());
  }
  // A global_index.json whose durable_lsn is `lsn` (no segments).
  void WriteDurableLsn(uint64_t lsn) {
    Manifest m;
    m.generation = 1;
    m.durable_lsn = lsn;
    ASSERT_TRUE(WriteManifest(env_.get(), "s", m).ok());
  }
  std::vector<std::string> ListChildren(const std::string& dir) {
    std::vector<std::string> names;
    EXPECT_TRUE(env_->GetChildren(dir, &names).ok());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string Get(const std::string& path) {
    std::string data;
    EXPECT_TRUE(ReadFileToString(env_.get(), path, &data).ok()) << path;
    return data;
  }
  WalInspection Inspect(std::vector<WalEntryInfo>* entries = nullptr,
                        WalInspectOptions o = WalInspectOptions()) {
    WalInspection r;
    Status s = InspectWal(
        env_.get(), "s", o,
        [&](const WalEntryInfo& e) {
          if (entries) entries->push_back(e);
          return true;
        },
        &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r;
  }
  std::unique_ptr<Env> env_;
};

TEST_F(WalInspectTest, HealthyFilesInLsnOrder) {
  std::string active = Line(BatchRecord(6, 3)) + Line(DeleteRecord(9, "item-1"));
  Put(kWalActiveName, active);
  Put(SealedWalName(1), PutLines(1, 5));
  std::vector<WalEntryInfo> entries;
  WalInspection r = Inspect(&entries);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_FALSE(r.torn_tail);
  EXPECT_FALSE(r.corrupt);
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_TRUE(r.files[0].sealed);
  EXPECT_EQ(r.files[1].name, "wal.jsonl");
  EXPECT_EQ(r.sealed_files, 1u);
  EXPECT_EQ(r.records, 7u);
  EXPECT_EQ(r.entries, 9u);  // the batch uses 3 LSNs
  EXPECT_EQ(r.first_lsn, 1u);
  EXPECT_EQ(r.last_lsn, 9u);
  EXPECT_EQ(r.op_counts["put"], 5u);
  EXPECT_EQ(r.op_counts["batch"], 1u);
  EXPECT_EQ(r.op_counts["delete"], 1u);
  ASSERT_EQ(entries.size(), 7u);
  const WalEntryInfo& b = entries[5];
  EXPECT_EQ(b.op_type, "batch");
  EXPECT_EQ(b.line, 1u);
  EXPECT_EQ(b.offset, 0u);
  EXPECT_EQ(b.lsn, 6u);
  EXPECT_EQ(b.last_lsn, 8u);
  EXPECT_EQ(b.ids, (std::vector<std::string>{"batch-6", "batch-7", "batch-8"}));
  EXPECT_EQ(entries[6].offset, Line(BatchRecord(6, 3)).size());
  EXPECT_EQ(entries[6].ids, std::vector<std::string>{"item-1"});
  // The summary: valid JSON, embedding summarized (never the raw vector).
  auto j = nlohmann::json::parse(entries[0].summary_json);
  EXPECT_EQ(j["op_type"], "put");
  EXPECT_EQ(j["item"]["embedding"]["dim"], 4);
  EXPECT_EQ(j["item"]["embedding"]["head"].size(), 4u);
  EXPECT_FALSE(j["item"].contains("embedding_b64"));
}

TEST_F(WalInspectTest, ProgressCountsBytesOfEveryFile) {
  std::string sealed = PutLines(1, 5);
  std::string active = Line(BatchRecord(6, 3)) + "{\"torn";
  Put(SealedWalName(1), sealed);
  Put(kWalActiveName, active);
  const uint64_t total = sealed.size() + active.size();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  WalInspection r;
  ASSERT_TRUE(InspectWal(env_.get(), "s", WalInspectOptions(), {},
                         [&](uint64_t done, uint64_t all) { calls.emplace_back(done, all); }, &r)
                  .ok());
  EXPECT_TRUE(r.torn_tail);
  ASSERT_GE(calls.size(), 7u);  // after each record and each file
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, total);
    if (i > 0) {
      EXPECT_GE(calls[i].first, calls[i - 1].first);
    }
  }
  EXPECT_EQ(calls.back().first, total);
}

TEST_F(WalInspectTest, FromLsnAndStop) {
  Put(kWalActiveName, PutLines(1, 10));
  std::vector<WalEntryInfo> got;
  WalInspectOptions o;
  o.from_lsn = 4;
  WalInspection r;
  ASSERT_TRUE(InspectWal(
                  env_.get(), "s", o,
                  [&](const WalEntryInfo& e) {
                    got.push_back(e);
                    return got.size() < 3;
                  },
                  &r)
                  .ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].lsn, 4u);
  EXPECT_FALSE(r.complete);
}

TEST_F(WalInspectTest, TornTailOfActiveFile) {
  std::string good = PutLines(1, 4);
  std::string torn = Line(PutRecord(5));
  torn.resize(torn.size() / 2);
  Put(kWalActiveName, good + torn);
  WalInspection r = Inspect();
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.torn_tail);
  EXPECT_FALSE(r.corrupt);
  const WalIssue& p = r.problems[0];
  EXPECT_EQ(p.file, "s/wal.jsonl");
  EXPECT_EQ(p.line, 5u);
  EXPECT_EQ(p.offset, good.size());
  EXPECT_EQ(p.length, torn.size());
  EXPECT_EQ(r.last_lsn, 4u);
  auto j = nlohmann::json::parse(WalInspectionToJson(r));
  EXPECT_EQ(j["verdict"], "torn_tail");
  EXPECT_EQ(j["problems"][0]["offset"], good.size());
}

TEST_F(WalInspectTest, ChecksumMismatchMidLogIsCorruption) {
  std::string data = PutLines(1, 6);
  const uint64_t off = LineOffset(data, 3);
  data[off + 20] ^= 0x01;  // inside line 3
  Put(kWalActiveName, data);
  WalInspection r = Inspect();
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.corrupt);
  EXPECT_FALSE(r.problems[0].torn_tail);
  EXPECT_EQ(r.problems[0].line, 3u);
  EXPECT_EQ(r.problems[0].offset, off);
  EXPECT_EQ(r.files[0].good_bytes, off);
  EXPECT_EQ(r.last_lsn, 2u);
}

TEST_F(WalInspectTest, TornLineInSealedFileIsCorruption) {
  std::string sealed = PutLines(1, 3);
  sealed.pop_back();  // no final newline: would be torn if it were the newest file
  Put(SealedWalName(1), sealed);
  Put(kWalActiveName, PutLines(4, 2));
  WalInspection r = Inspect();
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.corrupt);
  EXPECT_NE(r.problems[0].reason.find("sealed"), std::string::npos);
}

TEST_F(WalInspectTest, RepairCutsTornTailAndSavesIt) {
  std::string good = PutLines(1, 4);
  std::string torn = Line(PutRecord(5)).substr(0, 30);
  Put(kWalActiveName, good + torn);
  WalRepairResult res;
  ASSERT_TRUE(RepairWal(env_.get(), "s", 1234, &res).ok());
  ASSERT_EQ(res.actions.size(), 1u);
  const WalRepairAction& a = res.actions[0];
  EXPECT_EQ(a.action, "cut_torn_tail");
  EXPECT_EQ(a.offset, good.size());
  EXPECT_EQ(a.bytes, torn.size());
  EXPECT_EQ(a.saved_to, "s/quarantine/wal.jsonl." + std::to_string(good.size()) + ".1234.tail");
  EXPECT_EQ(Get(a.saved_to), torn);
  EXPECT_EQ(Get("s/wal.jsonl"), good);
  EXPECT_EQ(res.last_good_lsn, 4u);
  EXPECT_TRUE(Inspect().problems.empty());
  // Repairing a healthy WAL does nothing.
  WalRepairResult again;
  ASSERT_TRUE(RepairWal(env_.get(), "s", 1235, &again).ok());
  EXPECT_TRUE(again.actions.empty());
  EXPECT_EQ(again.last_good_lsn, 4u);
}

TEST_F(WalInspectTest, RepairQuarantinesEverythingAfterCorruption) {
  std::string sealed = PutLines(1, 5);
  const uint64_t off = LineOffset(sealed, 4);
  sealed[off + 10] ^= 0x01;
  Put(SealedWalName(1), sealed);
  const std::string later = PutLines(6, 3);
  Put(SealedWalName(6), later);
  const std::string active = PutLines(9, 2);
  Put(kWalActiveName, active);
  WalRepairResult res;
  ASSERT_TRUE(RepairWal(env_.get(), "s", 77, &res).ok());
  ASSERT_EQ(res.actions.size(), 3u);
  EXPECT_EQ(res.actions[0].action, "cut_corrupt_tail");
  EXPECT_EQ(res.actions[0].offset, off);
  EXPECT_EQ(Get(res.actions[0].saved_to), sealed.substr(off));
  EXPECT_EQ(res.actions[1].action, "quarantine_file");
  EXPECT_EQ(Get(res.actions[1].saved_to), later);
  EXPECT_EQ(Get(res.actions[2].saved_to), active);
  EXPECT_EQ(res.last_good_lsn, 3u);
  EXPECT_FALSE(res.kept_newer_files);  // no manifest: nothing is known to be in segments
  EXPECT_FALSE(env_->FileExists("s/wal.jsonl"));
  EXPECT_FALSE(env_->FileExists("s/" + SealedWalName(6)));
  EXPECT_EQ(Get("s/" + SealedWalName(1)), sealed.substr(0, off));
  WalInspection r = Inspect();
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.last_lsn, 3u);
}

TEST_F(WalInspectTest, RepairKeepsNewerFilesWhenTheCutEntriesAreInSegments) {
  // Lines 1..5 of the first sealed file are all flushed (durable_lsn 5): cutting its bad
  // tail leaves no hole, so the newer files (unflushed, acknowledged writes) must stay.
  WriteDurableLsn(5);
  std::string sealed = PutLines(1, 5);
  const uint64_t off = LineOffset(sealed, 4);
  sealed[off + 10] ^= 0x01;
  Put(SealedWalName(1), sealed);
  const std::string active = PutLines(6, 3);
  Put(kWalActiveName, active);
  WalRepairResult res;
  ASSERT_TRUE(RepairWal(env_.get(), "s", 5, &res).ok());
  ASSERT_EQ(res.actions.size(), 1u);
  EXPECT_EQ(res.actions[0].action, "cut_corrupt_tail");
  EXPECT_TRUE(res.kept_newer_files);
  EXPECT_EQ(Get("s/wal.jsonl"), active);
  WalInspection r = Inspect();
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.last_lsn, 8u);
}

TEST_F(WalInspectTest, MissingEntriesAboveTheManifestAreCorruption) {
  // durable_lsn 2; LSNs 4 and 5 (a sealed file removed by hand, say) are nowhere.
  WriteDurableLsn(2);
  Put(SealedWalName(1), PutLines(1, 3));
  const std::string active = PutLines(6, 2);
  Put(kWalActiveName, active);
  WalInspection r = Inspect();
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_TRUE(r.corrupt);
  EXPECT_EQ(r.problems[0].file, "s/wal.jsonl");
  EXPECT_EQ(r.problems[0].line, 1u);
  EXPECT_EQ(r.problems[0].offset, 0u);
  EXPECT_EQ(r.problems[0].length, active.size());
  EXPECT_NE(r.problems[0].reason.find("LSNs 4..5 are missing"), std::string::npos)
      << r.problems[0].reason;
  EXPECT_EQ(r.last_lsn, 3u);
  // Repair ends the WAL at LSN 3 and keeps LSNs 6, 7 under quarantine/.
  WalRepairResult res;
  ASSERT_TRUE(RepairWal(env_.get(), "s", 9, &res).ok());
  ASSERT_EQ(res.actions.size(), 1u);
  EXPECT_EQ(Get(res.actions[0].saved_to), active);
  EXPECT_EQ(res.last_good_lsn, 3u);
  EXPECT_TRUE(Inspect().problems.empty());
}

TEST_F(WalInspectTest, HolesOnlyCountAboveTheManifest) {
  // Retention removed LSNs 1..5 (all in segments): the WAL starts at 6. No manifest is
  // readable in the second half, so only holes between two records count there.
  WriteDurableLsn(7);
  Put(SealedWalName(6), PutLines(6, 3));
  Put(kWalActiveName, PutLines(9, 2));
  EXPECT_TRUE(Inspect().problems.empty());
  ASSERT_TRUE(env_->RemoveFile("s/global_index.json").ok());
  EXPECT_TRUE(Inspect().problems.empty());
  Put(kWalActiveName, PutLines(10, 2));  // LSN 9 missing between two records
  WalInspection r = Inspect();
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].reason.find("LSN 9 is missing"), std::string::npos)
      << r.problems[0].reason;
}

// `wal check` beside a running writer: wal.jsonl sealed after the listing and read as
// the new file starts past the listed files, and a listed file may be removed by retention.
// Neither is a hole.
TEST_F(WalInspectTest, WriterAtWorkBesideTheReadIsNotAHole) {
  Options o;
  o.env = env_.get();
  o.background_compaction = false;
  o.dim = 4;
  o.flush_threshold_items = 10;
  o.wal_retention_entries = 0;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "w", &db).ok());
  int next = 0;
  auto put = [&](int n) {
    for (int i = 0; i < n; ++i, ++next) {
      Item it;
      it.id = "item-" + std::to_string(next);
      it.embedding = {1, float(next), 2, 3};
      ASSERT_TRUE(db->Put(it).ok());
    }
  };
  put(25);
  auto inspect = [&](Env* env) {
    WalInspection r;
    EXPECT_TRUE(InspectWal(env, "w", WalInspectOptions(), nullptr, &r).ok());
    return r;
  };
  // Rotation: the listing holds the sealed files and wal.jsonl; before wal.jsonl is
  // opened, the writer seals it (a flush) and writes on in a new one.
  testing_util::HookEnv rotate(env_.get());
  rotate.SetHook("w/wal.jsonl", [&] {
    ASSERT_TRUE(db->Flush().ok());
    put(3);
  });
  WalInspection r = inspect(&rotate);
  EXPECT_EQ(rotate.fired_count("w/wal.jsonl"), 1);
  for (const auto& p : r.problems) ADD_FAILURE() << p.file << ": " << p.reason;
  // Retention: before the oldest listed file is read, the writer flushes, seals and
  // flushes again, and retention removes the files listed first.
  std::vector<std::string> before;
  for (const std::string& n : ListChildren("w")) {
    if (n.rfind("wal_", 0) == 0) before.push_back(n);
  }
  ASSERT_FALSE(before.empty());
  testing_util::HookEnv retire(env_.get());
  retire.SetHook("w/" + before.front(), [&] {
    put(12);
    ASSERT_TRUE(db->Flush().ok());
    put(12);
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_FALSE(env_->FileExists("w/" + before.front()));
  });
  r = inspect(&retire);
  EXPECT_EQ(retire.fired_count("w/" + before.front()), 1);
  for (const auto& p : r.problems) ADD_FAILURE() << p.file << ": " << p.reason;
  // At rest, the same WAL is whole.
  EXPECT_TRUE(inspect(env_.get()).problems.empty());
}

TEST_F(WalInspectTest, NoWalIsEmptyReport) {
  WalInspection r = Inspect();
  EXPECT_TRUE(r.files.empty());
  EXPECT_TRUE(r.problems.empty());
}

}  // namespace
}  // namespace t4dx
