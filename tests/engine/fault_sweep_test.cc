// The fault sweep: one scripted workload (puts including a batch, deletes, overwrites, two
// flushes, a compaction, WAL rotations, close, reopen, more writes) re-run against the
// FaultInjectionEnv with exactly one fault at every mutating call index i = 0..N, where N
// is the number of mutating calls of a clean run: EIO at i, ENOSPC at i, and a crash at i
// followed by SimulateCrash in each mode (keep, drop, tear, zero-fill unsynced data).
//
// After every case the store is reopened in default mode with the faults cleared, and:
//  - the open succeeds;
//  - every write acknowledged under WalSync::kAlways is present with its exact content;
//  - the recovered history is a prefix: per id the state is that of the last
//    acknowledged write or of a later (unacknowledged) one, never an older one;
//  - no id appears twice in Scan, Scan and Count agree with Get;
//  - no deleted item returns;
//  - Verify finds nothing wrong.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "engine/engine_test_util.h"
#include "env/fault_env.h"

namespace t4dx {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
constexpr uint32_t kDim = 8;
const char kStore[] = "/db";

// One write of the script: its effects (id -> new item, or nullopt for a delete).
struct Write {
  std::vector<std::pair<std::string, std::optional<Item>>> effects;
  bool acked = false;
};

Item SweepItem(const std::string& id, int version) {
  Item it = testutil::MakeItem(id, kDim, std::hash<std::string>()(id) + version * 1000003ull,
                               10000 + version);
  it.content = id + " version " + std::to_string(version);
  return it;
}

Options SweepOptions(Env* env) {
  Options o;
  o.env = env;
  o.metric = Metric::kL2;  // vectors are stored exactly as given
  o.flush_threshold_items = 6;
  o.background_compaction = false;
  o.wal_sync = WalSync::kAlways;
  o.compaction_fanout = 2;
  return o;
}

// Runs the script on env; every write is recorded with whether it returned OK.
class Workload {
 public:
  explicit Workload(Env* env) : env_(env) {}

  void Run() {
    Open();
    for (int i = 0; i < 8; i++) Put("a" + std::to_string(i));  // freezes at 6: a WAL rotation
    std::vector<std::string> batch;
    for (int i = 0; i < 5; i++) batch.push_back("b" + std::to_string(i));
    PutBatch(batch);  // the MemTable is full again: a flush on the writer's thread
    Delete("a1");
    Delete("a3");
    Put("a2");  // overwrite
    Maintain([](Engine* db) { return db->Flush(); });
    for (int i = 0; i < 5; i++) Put("c" + std::to_string(i));
    Delete("b2");
    Put("a0");
    Maintain([](Engine* db) { return db->Flush(); });
    Maintain([](Engine* db) { return db->Compact(); });
    for (int i = 0; i < 3; i++) Put("d" + std::to_string(i));
    Delete("c1");
    Put("b1");
    if (db_) db_->Close();
    db_.reset();
    Open();
    Put("e0");
    Delete("d0");
    PutBatch({"e1", "a2", "c1"});
    Delete("a4");
    if (db_) db_->Close();
    db_.reset();
  }

  std::vector<Write> writes;

 private:
  void Open() {
    Status s = Engine::Open(SweepOptions(env_), kStore, &db_);
    if (!s.ok()) db_.reset();
  }
  void Maintain(const std::function<Status(Engine*)>& fn) {
    if (db_) fn(db_.get());
  }
  void Put(const std::string& id) {
    Write w;
    Item it = SweepItem(id, version_++);
    w.effects.push_back({id, it});
    w.acked = db_ && db_->Put(it).ok();
    writes.push_back(std::move(w));
  }
  void PutBatch(const std::vector<std::string>& ids) {
    Write w;
    std::vector<Item> items;
    for (auto& id : ids) {
      items.push_back(SweepItem(id, version_++));
      w.effects.push_back({id, items.back()});
    }
    w.acked = db_ && db_->PutBatch(items).ok();
    writes.push_back(std::move(w));
  }
  void Delete(const std::string& id) {
    Write w;
    w.effects.push_back({id, std::nullopt});
    w.acked = db_ && db_->Delete(id).ok();
    writes.push_back(std::move(w));
  }

  Env* env_;
  std::unique_ptr<Engine> db_;
  int version_ = 0;
};

// Checks the reopened store against the recorded writes; returns "" or what is wrong.
std::string CheckRecovered(Env* env, const std::vector<Write>& writes) {
  std::unique_ptr<Engine> db;
  Options o = SweepOptions(env);
  Status s = Engine::Open(o, kStore, &db);
  if (!s.ok()) return "reopen failed: " + s.ToString();

  // Per id: the indexes of the writes touching it, in order.
  std::map<std::string, std::vector<std::pair<size_t, std::optional<Item>>>> by_id;
  for (size_t j = 0; j < writes.size(); j++)
    for (auto& e : writes[j].effects) by_id[e.first].push_back({j, e.second});

  std::set<std::string> present;
  for (auto& kv : by_id) {
    const std::string& id = kv.first;
    Item got;
    s = db->Get(id, &got);
    if (!s.ok() && !s.IsNotFound()) return "Get(" + id + "): " + s.ToString();
    std::optional<Item> state;
    if (s.ok()) {
      state = got;
      present.insert(id);
    }
    // The last acknowledged write of this id, if any.
    std::optional<size_t> last_acked;
    for (size_t k = 0; k < kv.second.size(); k++)
      if (writes[kv.second[k].first].acked) last_acked = k;
    // The state must be the effect of the last acknowledged write or of a later write
    // (an unacknowledged one may or may not have reached the disk) -- or, with none
    // acknowledged, absent.
    bool explained = !last_acked && !state;
    for (size_t k = last_acked ? *last_acked : 0; k < kv.second.size() && !explained; k++) {
      const std::optional<Item>& eff = kv.second[k].second;
      explained = (!eff && !state) || (eff && state && *eff == *state);
    }
    if (!explained) {
      std::string why = "id " + id + ": recovered " +
                        (state ? "'" + state->content + "'" : std::string("absent")) + "; writes:";
      for (auto& w : kv.second) {
        why += " [" + std::to_string(w.first) + (writes[w.first].acked ? " ack " : " fail ") +
               (w.second ? w.second->content : std::string("delete")) + "]";
      }
      return why;
    }
  }
  // No holes: an unacknowledged write that is visible implies all acknowledged earlier
  // ones are (checked above per id); in addition all effects of one batch are all-or-none.
  for (size_t j = 0; j < writes.size(); j++) {
    const Write& w = writes[j];
    if (w.effects.size() < 2 || w.acked) continue;
    size_t seen = 0;
    for (auto& e : w.effects) {
      Item got;
      if (db->Get(e.first, &got).ok() && e.second && got == *e.second) seen++;
    }
    // A later write of one of its ids may hide part of it; only an all-fresh batch counts.
    bool later = false;
    for (size_t k = j + 1; k < writes.size(); k++)
      for (auto& e2 : writes[k].effects)
        for (auto& e : w.effects) later = later || e.first == e2.first;
    if (!later && seen != 0 && seen != w.effects.size()) {
      return "batch write " + std::to_string(j) + " is partly present (" + std::to_string(seen) +
             " of " + std::to_string(w.effects.size()) + ")";
    }
  }
  Status ss;
  std::vector<std::string> scanned = testutil::ScanIds(db.get(), &ss);
  if (!ss.ok()) return "Scan: " + ss.ToString();
  std::set<std::string> unique(scanned.begin(), scanned.end());
  if (unique.size() != scanned.size()) return "an id appears twice in Scan";
  if (unique != present) return "Scan and Get disagree";
  uint64_t n = 0;
  s = db->Count(&n);
  if (!s.ok() || n != present.size()) {
    return "Count " + std::to_string(n) + " but " + std::to_string(present.size()) + " present";
  }
  std::string report;
  bool healthy = false;
  s = db->Verify(&report, &healthy);
  if (!s.ok()) return "Verify: " + s.ToString();
  if (!healthy) return "Verify: " + report;
  // The store keeps working after recovery.
  s = db->Put(SweepItem("after", 999));
  if (!s.ok()) return "write after recovery: " + s.ToString();
  s = db->Close();
  if (!s.ok()) return "close after recovery: " + s.ToString();
  return "";
}

uint64_t CleanRunCalls() {
  FaultInjectionEnv env;
  Workload w(&env);
  w.Run();
  for (auto& wr : w.writes) EXPECT_TRUE(wr.acked);
  EXPECT_EQ(CheckRecovered(&env, w.writes), "");
  return env.mutating_calls();
}

const char* ModeName(CrashMode m) {
  switch (m) {
    case CrashMode::kKeepUnsynced:
      return "keep";
    case CrashMode::kDropUnsynced:
      return "drop";
    case CrashMode::kTearUnsynced:
      return "tear";
    case CrashMode::kZeroFillUnsynced:
      return "zero-fill";
  }
  return "?";
}

TEST(FaultSweepTest, CleanRunIsDeterministic) {
  uint64_t a = CleanRunCalls();
  uint64_t b = CleanRunCalls();
  EXPECT_GT(a, 50u);
  EXPECT_EQ(a, b);
}

TEST(FaultSweepTest, OneFaultAtEveryCall) {
  const uint64_t n = CleanRunCalls();
  // T4DX_CRASH_CYCLES (sanitizer runs) samples the call indexes instead of taking all.
  const uint64_t budget = testutil::CyclesFromEnv(0);
  const uint64_t stride = budget > 0 && budget < n + 1 ? (n + 1 + budget - 1) / budget : 1;
  uint64_t cases = 0, failures = 0;
  auto run_case = [&](uint64_t i, const std::string& what,
                      const std::function<void(FaultInjectionEnv*)>& arm,
                      const std::function<void(FaultInjectionEnv*)>& after) {
    FaultInjectionEnv env;
    arm(&env);
    Workload w(&env);
    w.Run();
    after(&env);
    std::string err = CheckRecovered(&env, w.writes);
    cases++;
    if (!err.empty()) {
      failures++;
      if (failures <= 20) ADD_FAILURE() << what << " at mutating call " << i << ": " << err;
    }
  };
  for (uint64_t i = 0; i <= n; i += stride) {
    for (Status::Code code : {Status::Code::kIOError, Status::Code::kNoSpace}) {
      run_case(
          i, code == Status::Code::kIOError ? "EIO" : "ENOSPC",
          [&](FaultInjectionEnv* e) { e->FailAt(i, code); },
          [](FaultInjectionEnv* e) { e->ClearFaults(); });
    }
    for (CrashMode mode : {CrashMode::kKeepUnsynced, CrashMode::kDropUnsynced,
                           CrashMode::kTearUnsynced, CrashMode::kZeroFillUnsynced}) {
      run_case(
          i, std::string("crash (") + ModeName(mode) + ")",
          [&](FaultInjectionEnv* e) { e->CrashAt(i); },
          [&](FaultInjectionEnv* e) { e->SimulateCrash(mode, i * 31 + 7); });
    }
  }
  std::cout << "[ fault sweep ] " << cases << " cases over " << (n + 1) << " call indexes (stride "
            << stride << "), " << failures << " failed" << std::endl;
  EXPECT_EQ(failures, 0u);
  EXPECT_GE(cases, (n + 1) / stride * 6);
}

// On a host whose rename is remove-then-move (copy+delete hosts), a crash at every call
// index, dropping unsynced data: the store still opens with every acknowledged write.
TEST(FaultSweepTest, CrashAtEveryCallWithNonAtomicRename) {
  uint64_t n = 0;
  {
    FaultInjectionEnv env;
    env.SetNonAtomicRename(true);
    Workload w(&env);
    w.Run();
    for (auto& wr : w.writes) EXPECT_TRUE(wr.acked);
    n = env.mutating_calls();
  }
  const uint64_t budget = testutil::CyclesFromEnv(0);
  const uint64_t stride = budget > 0 && budget < n + 1 ? (n + 1 + budget - 1) / budget : 1;
  uint64_t failures = 0, cases = 0;
  for (uint64_t i = 0; i <= n; i += stride) {
    for (CrashMode mode : {CrashMode::kKeepUnsynced, CrashMode::kDropUnsynced}) {
      FaultInjectionEnv env;
      env.SetNonAtomicRename(true);
      env.CrashAt(i);
      Workload w(&env);
      w.Run();
      env.SimulateCrash(mode, i);
      std::string err = CheckRecovered(&env, w.writes);
      cases++;
      if (!err.empty() && ++failures <= 10) {
        ADD_FAILURE() << "non-atomic rename, crash (" << ModeName(mode) << ") at call " << i << ": "
                      << err;
      }
    }
  }
  std::cout << "[ fault sweep ] non-atomic rename: " << cases << " cases, " << failures << " failed"
            << std::endl;
  EXPECT_EQ(failures, 0u);
}

// A crash during recovery: the workload is cut at call i (machine crash, unsynced data
// dropped or torn), then the recovering open is itself cut at each of its calls j, and
// the next open must still find every acknowledged write. (Every 7th i: the nested sweep
// is quadratic.)
TEST(FaultSweepTest, CrashDuringRecoveryOfACrashedStore) {
  const uint64_t n = CleanRunCalls();
  const uint64_t stride = testutil::ReducedRun() ? 59 : 7;
  uint64_t cases = 0, failures = 0;
  for (uint64_t i = 0; i <= n; i += stride) {
    for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kTearUnsynced}) {
      for (uint64_t j = 0;; j++) {
        FaultInjectionEnv env;
        env.CrashAt(i);
        Workload w(&env);
        w.Run();
        env.SimulateCrash(mode, i);
        const uint64_t start = env.mutating_calls();
        env.CrashAt(start + j);
        {
          std::unique_ptr<Engine> db;
          Engine::Open(SweepOptions(&env), kStore, &db);  // may fail: it is being cut
        }
        const bool cut = env.mutating_calls() > start + j;
        env.SimulateCrash(mode, i * 1000 + j);
        std::string err = CheckRecovered(&env, w.writes);
        cases++;
        if (!err.empty() && ++failures <= 10) {
          ADD_FAILURE() << "crash (" << ModeName(mode) << ") at call " << i
                        << ", then recovery cut at its call " << j << ": " << err;
        }
        if (!cut) break;  // the recovering open finished before call j: all cut points done
      }
    }
  }
  std::cout << "[ fault sweep ] crash during recovery: " << cases << " cases, " << failures
            << " failed" << std::endl;
  EXPECT_EQ(failures, 0u);
}

// A transient EIO or ENOSPC at any call of a flush or of a compaction (segment files,
// the manifest switch, the WAL rotation) fails that call only: once the fault is gone the
// store flushes and compacts again and keeps taking writes; nothing is lost. (A failed
// WAL data sync is the exception by design: writes are refused until a reopen.)
TEST(FaultSweepTest, TransientFaultInFlushOrCompactionIsRetried) {
  auto opts = [](Env* e) {
    Options o = SweepOptions(e);
    o.flush_threshold_items = 1000;  // flushes only when asked
    return o;
  };
  auto fill = [](Engine* db, int from, int n) {
    for (int k = from; k < from + n; k++) {
      if (!db->Put(SweepItem("t" + std::to_string(k), k)).ok()) return false;
    }
    return true;
  };
  for (bool compact : {false, true}) {
    uint64_t begin = 0, end = 0;
    {
      FaultInjectionEnv env;
      std::unique_ptr<Engine> db;
      ASSERT_TRUE(Engine::Open(opts(&env), kStore, &db).ok());
      ASSERT_TRUE(fill(db.get(), 0, 6));
      ASSERT_TRUE(db->Flush().ok());
      ASSERT_TRUE(fill(db.get(), 6, 6));
      begin = env.mutating_calls();
      ASSERT_TRUE((compact ? db->Compact() : db->Flush()).ok());
      end = env.mutating_calls();
    }
    const uint64_t stride = testutil::ReducedRun() ? 3 : 1;
    for (uint64_t i = begin; i < end; i += stride) {
      for (Status::Code code : {Status::Code::kIOError, Status::Code::kNoSpace}) {
        SCOPED_TRACE(std::string(compact ? "compaction" : "flush") + ", fault at call " +
                     std::to_string(i) + (code == Status::Code::kIOError ? " EIO" : " ENOSPC"));
        FaultInjectionEnv env;
        std::unique_ptr<Engine> db;
        ASSERT_TRUE(Engine::Open(opts(&env), kStore, &db).ok());
        ASSERT_TRUE(fill(db.get(), 0, 6));
        ASSERT_TRUE(db->Flush().ok());
        ASSERT_TRUE(fill(db.get(), 6, 6));
        env.FailAt(i, code);
        Status first = compact ? db->Compact() : db->Flush();
        env.ClearFaults();
        Status again = compact ? db->Compact() : db->Flush();
        EXPECT_TRUE(again.ok()) << "first try: " << first.ToString()
                                << "; retry: " << again.ToString();
        EXPECT_TRUE(fill(db.get(), 12, 6)) << "writes after the fault";
        Status third = db->Flush();
        EXPECT_TRUE(third.ok()) << third.ToString();
        uint64_t n = 0;
        ASSERT_TRUE(db->Count(&n).ok());
        EXPECT_EQ(n, 18u);
        ASSERT_TRUE(db->Close().ok());
        db.reset();
        ASSERT_TRUE(Engine::Open(opts(&env), kStore, &db).ok());
        ASSERT_TRUE(db->Count(&n).ok());
        EXPECT_EQ(n, 18u);
        std::string report;
        bool healthy = false;
        ASSERT_TRUE(db->Verify(&report, &healthy).ok());
        EXPECT_TRUE(healthy) << report;
      }
    }
  }
}

// A sticky ENOSPC (full disk) from call i on: writes fail cleanly, reads keep working, and
// after space comes back a reopen has every acknowledged write.
TEST(FaultSweepTest, DiskFullFromEveryTenthCall) {
  const uint64_t n = CleanRunCalls();
  uint64_t failures = 0;
  for (uint64_t i = 0; i <= n; i += 10) {
    FaultInjectionEnv env;
    env.FailAt(i, Status::Code::kNoSpace, /*sticky=*/true);
    Workload w(&env);
    w.Run();
    env.ClearFaults();
    std::string err = CheckRecovered(&env, w.writes);
    if (!err.empty() && ++failures <= 10)
      ADD_FAILURE() << "disk full from call " << i << ": " << err;
  }
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace t4dx
