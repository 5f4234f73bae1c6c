// Everything at once: writers (puts, batches, deletes, contended ids), searchers (plain and
// filtered), and maintenance (Flush, Compact, RebuildHnsw, the compactor thread, views) on
// one store, checking results while it runs and the final state against the LSNs the
// writes were acknowledged with. Also run under ThreadSanitizer (scripts/tsan.sh).
//
// The checks hold for any interleaving: each shared id ends as the acknowledged write with
// the highest LSN; a writer's private ids are visible to Get and to an exact filtered search
// as soon as their write returns; no search returns a deleted or never-written id.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine_test_util.h"
#include "forwarding_env.h"
#include "t4dx/engine.h"
#include "t4dx/env.h"

namespace t4dx {
namespace {

using testutil::RandomVector;

constexpr uint32_t kDim = 8;
constexpr int kWriters = 3;
constexpr int kOpsPerWriter = 150;
constexpr int kSharedIds = 40;

std::string SharedId(int i) { return "shared-" + std::to_string(i); }
std::string PrivateId(int writer, int i) {
  return "own-" + std::to_string(writer) + "-" + std::to_string(i);
}

// One acknowledged write.
struct Ack {
  std::string id;
  uint64_t lsn = 0;
  bool deleted = false;
  std::string content;
};

Item MakeItem(const std::string& id, const std::string& content, uint64_t seed) {
  Item it;
  it.id = id;
  it.kind = seed % 2 ? "fact" : "episode";
  it.content = content;
  it.timestamp = 1700000000000 + static_cast<int64_t>(seed % 1000);
  it.embedding = RandomVector(kDim, seed);
  it.metadata["uid"] = MetaValue::String(id);
  return it;
}

Filter UidFilter(const std::string& id) {
  Filter f;
  MetaCondition c;
  c.key = "uid";
  c.values = {MetaValue::String(id)};
  f.metadata.push_back(c);
  return f;
}

class Errors {
 public:
  void Add(const std::string& e) {
    std::lock_guard<std::mutex> l(mu_);
    if (list_.size() < 20) list_.push_back(e);
    ++count_;
  }
  void Report() {
    std::lock_guard<std::mutex> l(mu_);
    for (const std::string& e : list_) ADD_FAILURE() << e;
    EXPECT_EQ(count_, 0u);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> list_;
  size_t count_ = 0;
};

// The item of a private id is visible now, with its content, to Get and to an exact
// filtered search.
void CheckVisible(Engine* db, const Item& it, const std::string& who, Errors* errors) {
  Item got;
  Status s = db->Get(it.id, &got);
  if (!s.ok() || got.content != it.content) {
    errors->Add(who + ": Get(" + it.id + ") after its write: " +
                (s.ok() ? "content " + got.content : s.ToString()));
  }
  SearchOptions so;
  so.k = 3;
  so.filter = UidFilter(it.id);
  SearchResult r;
  s = db->Search(it.embedding, so, &r);
  if (!s.ok() || r.hits.size() != 1 || r.hits[0].id != it.id || r.hits[0].item.content != it.content) {
    errors->Add(who + ": filtered search for " + it.id + " after its write: " +
                (s.ok() ? std::to_string(r.hits.size()) + " hits" : s.ToString()));
  }
}

// Checks one search result's shape: at most k, best first, unique, known ids.
void CheckHits(const SearchResult& r, size_t k, const std::string& who, Errors* errors) {
  if (r.hits.size() > k) errors->Add(who + ": more hits than k");
  std::set<std::string> seen;
  for (size_t i = 0; i < r.hits.size(); ++i) {
    const SearchHit& h = r.hits[i];
    if (i > 0 && h.score > r.hits[i - 1].score) errors->Add(who + ": hits not best first");
    if (!seen.insert(h.id).second) errors->Add(who + ": id " + h.id + " returned twice");
    if (h.id.rfind("shared-", 0) != 0 && h.id.rfind("own-", 0) != 0) {
      errors->Add(who + ": unknown id " + h.id);
    }
    if (h.item.id != h.id) errors->Add(who + ": hit item id differs from hit id");
  }
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    options_.env = env_.get();
    options_.dim = kDim;
    options_.flush_threshold_items = 40;  // many flushes and merges during the run
    options_.background_compaction = true;
    options_.compaction_fanout = 2;
    options_.hnsw_m = 8;
    options_.hnsw_ef_construction = 40;
    ASSERT_TRUE(Engine::Open(options_, "/store", &db_).ok());
  }

  // The final state: shared ids as their highest acknowledged LSN says, private ids as
  // their writer left them. Checked by Get, Scan, Count and exact filtered search.
  void CheckFinalState(const std::map<std::string, Ack>& expected) {
    std::set<std::string> live;
    for (const auto& [id, ack] : expected) {
      Item got;
      Status s = db_->Get(id, &got);
      if (ack.deleted) {
        EXPECT_TRUE(s.IsNotFound()) << id << " deleted at LSN " << ack.lsn << ": " << s.ToString();
      } else {
        live.insert(id);
        ASSERT_TRUE(s.ok()) << id << " written at LSN " << ack.lsn << ": " << s.ToString();
        EXPECT_EQ(got.content, ack.content) << id;
      }
      SearchOptions so;
      so.k = 2;
      so.filter = UidFilter(id);
      SearchResult r;
      ASSERT_TRUE(db_->Search(RandomVector(kDim, 5), so, &r).ok());
      EXPECT_EQ(r.hits.size(), ack.deleted ? 0u : 1u) << id;
    }
    uint64_t count = 0;
    ASSERT_TRUE(db_->Count(&count).ok());
    EXPECT_EQ(count, live.size());
    const std::vector<std::string> scanned = testutil::ScanIds(db_.get());
    EXPECT_EQ(std::set<std::string>(scanned.begin(), scanned.end()), live);
    EXPECT_EQ(scanned.size(), live.size());
  }

  std::unique_ptr<Env> env_;
  Options options_;
  std::unique_ptr<Engine> db_;
};

TEST_F(ConcurrencyTest, WritersSearchesFlushCompactionAndRebuildAtOnce) {
  Errors errors;
  std::vector<std::vector<Ack>> acks(kWriters);
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> searches{0}, maintenance_rounds{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(7000 + w);
      int own = 0;
      std::vector<Item> own_live;
      const std::string who = "writer " + std::to_string(w);
      for (int op = 0; op < kOpsPerWriter; ++op) {
        const uint64_t seed = static_cast<uint64_t>(w) * 100000 + op;
        const int kind = static_cast<int>(rng() % 10);
        if (kind < 4) {  // a contended shared id
          const std::string id = SharedId(static_cast<int>(rng() % kSharedIds));
          const std::string content = who + " op " + std::to_string(op);
          uint64_t lsn = 0;
          Status s = db_->Put(MakeItem(id, content, seed), &lsn);
          if (!s.ok()) errors.Add(who + ": put " + id + ": " + s.ToString());
          else acks[w].push_back(Ack{id, lsn, false, content});
        } else if (kind < 6) {  // delete a shared id (NotFound when it is not stored)
          const std::string id = SharedId(static_cast<int>(rng() % kSharedIds));
          uint64_t lsn = 0;
          Status s = db_->Delete(id, &lsn);
          if (s.ok()) acks[w].push_back(Ack{id, lsn, true, ""});
          else if (!s.IsNotFound()) errors.Add(who + ": delete " + id + ": " + s.ToString());
        } else if (kind < 8) {  // a private id, visible as soon as acknowledged
          Item it = MakeItem(PrivateId(w, own++), who + " own " + std::to_string(op), seed);
          uint64_t lsn = 0;
          Status s = db_->Put(it, &lsn);
          if (!s.ok()) {
            errors.Add(who + ": put " + it.id + ": " + s.ToString());
            continue;
          }
          acks[w].push_back(Ack{it.id, lsn, false, it.content});
          CheckVisible(db_.get(), it, who, &errors);
          own_live.push_back(std::move(it));
        } else if (kind < 9) {  // a batch of private ids
          std::vector<Item> batch;
          for (int b = 0; b < 3; ++b) {
            batch.push_back(MakeItem(PrivateId(w, own++), who + " batch " + std::to_string(op),
                                     seed * 7 + b));
          }
          uint64_t last = 0;
          Status s = db_->PutBatch(batch, &last);
          if (!s.ok() || last < 3) {
            errors.Add(who + ": batch: " + s.ToString());
            continue;
          }
          for (int b = 0; b < 3; ++b) {
            acks[w].push_back(Ack{batch[b].id, last - 2 + b, false, batch[b].content});
          }
          CheckVisible(db_.get(), batch[2], who, &errors);
          for (Item& it : batch) own_live.push_back(std::move(it));
        } else if (!own_live.empty()) {  // delete one of its own: gone at once
          const size_t at = rng() % own_live.size();
          const Item it = own_live[at];
          own_live.erase(own_live.begin() + static_cast<long>(at));
          uint64_t lsn = 0;
          Status s = db_->Delete(it.id, &lsn);
          if (!s.ok()) {
            errors.Add(who + ": delete own " + it.id + ": " + s.ToString());
            continue;
          }
          acks[w].push_back(Ack{it.id, lsn, true, ""});
          Item got;
          if (!db_->Get(it.id, &got).IsNotFound()) errors.Add(who + ": " + it.id + " after delete");
          SearchOptions so;
          so.filter = UidFilter(it.id);
          SearchResult r;
          if (!db_->Search(it.embedding, so, &r).ok() || !r.hits.empty()) {
            errors.Add(who + ": search finds " + it.id + " after its delete");
          }
        }
      }
      writers_left--;
    });
  }
  for (int q = 0; q < 2; ++q) {
    threads.emplace_back([&, q] {
      std::mt19937_64 rng(9000 + q);
      const std::string who = "searcher " + std::to_string(q);
      int n = 0;
      while (writers_left.load() > 0 || n < 20) {
        SearchOptions so;
        so.k = 1 + rng() % 12;
        so.ef = n % 3 == 0 ? 0 : 16 + rng() % 64;
        if (n % 4 == 1) so.filter.kinds = {"fact"};
        if (n % 4 == 2) so.filter.time_from = 1700000000500;
        SearchResult r;
        Status s = db_->Search(RandomVector(kDim, rng()), so, &r);
        if (!s.ok()) errors.Add(who + ": search: " + s.ToString());
        else CheckHits(r, so.k, who, &errors);
        for (const SearchHit& h : r.hits) {
          if (n % 4 == 1 && h.item.kind != "fact") errors.Add(who + ": kind filter not applied");
          if (n % 4 == 2 && h.item.timestamp < 1700000000500) {
            errors.Add(who + ": time filter not applied");
          }
        }
        ++n;
        searches++;
      }
    });
  }
  threads.emplace_back([&] {
    int round = 0;
    while (writers_left.load() > 0 || round < 2) {
      Status s;
      std::string out;
      switch (round % 4) {
        case 0:
          s = db_->Flush();
          break;
        case 1:
          s = db_->Compact();
          break;
        case 2:
          s = db_->RebuildHnsw({}, &out);
          break;
        default:
          s = db_->Describe(View::kStats, "", &out);
          if (s.ok()) s = db_->Describe(View::kSegments, "", &out);
          break;
      }
      if (!s.ok()) errors.Add("maintenance round " + std::to_string(round) + ": " + s.ToString());
      ++round;
      maintenance_rounds++;
    }
  });
  for (std::thread& t : threads) t.join();
  errors.Report();
  EXPECT_GT(searches.load(), 0);
  EXPECT_GE(maintenance_rounds.load(), 2);

  // Every acknowledged LSN is distinct; the highest one per id is the final state.
  std::map<std::string, Ack> expected;
  std::set<uint64_t> lsns;
  size_t total = 0;
  for (const auto& list : acks) {
    for (const Ack& a : list) {
      ++total;
      lsns.insert(a.lsn);
      auto it = expected.find(a.id);
      if (it == expected.end() || it->second.lsn < a.lsn) expected[a.id] = a;
    }
  }
  EXPECT_EQ(lsns.size(), total) << "two acknowledged writes share an LSN";
  CheckFinalState(expected);

  std::string report;
  bool healthy = false;
  ASSERT_TRUE(db_->Verify(&report, &healthy).ok());
  EXPECT_TRUE(healthy) << report;

  // And the same after a restart.
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  ASSERT_TRUE(Engine::Open(options_, "/store", &db_).ok());
  CheckFinalState(expected);
  ASSERT_TRUE(db_->Close().ok());
}

// Group commit on a real directory with sync on every write: many writers, every
// acknowledged write present after a reopen, LSNs distinct and the WAL clean.
TEST(ConcurrencyPosixTest, GroupCommitAcknowledgesEveryWriteOnce) {
  testutil::TempDir dir("t4dx_concurrency");
  Options o;
  o.dim = kDim;
  o.wal_sync = WalSync::kAlways;
  o.flush_threshold_items = 64;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, dir.path(), &db).ok());
  constexpr int kThreads = 4, kPer = 40;
  std::vector<std::vector<uint64_t>> lsns(kThreads);
  Errors errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        uint64_t lsn = 0;
        Status s = db->Put(MakeItem(PrivateId(t, i), "c" + std::to_string(i), t * 1000 + i), &lsn);
        if (!s.ok()) errors.Add("put: " + s.ToString());
        else lsns[t].push_back(lsn);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  errors.Report();
  std::set<uint64_t> all;
  for (const auto& l : lsns) {
    EXPECT_TRUE(std::is_sorted(l.begin(), l.end()));
    all.insert(l.begin(), l.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kPer});
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(Engine::Open(o, dir.path(), &db).ok());
  uint64_t n = 0;
  ASSERT_TRUE(db->Count(&n).ok());
  EXPECT_EQ(n, uint64_t{kThreads * kPer});
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPer; ++i) {
      Item got;
      ASSERT_TRUE(db->Get(PrivateId(t, i), &got).ok()) << PrivateId(t, i);
      EXPECT_EQ(got.content, "c" + std::to_string(i));
    }
  }
  std::string report;
  bool healthy = false;
  ASSERT_TRUE(db->Verify(&report, &healthy).ok());
  EXPECT_TRUE(healthy) << report;
  ASSERT_TRUE(db->Close().ok());
}


// Delegates to a base Env, and holds the compactor thread in its manifest commits (the
// rename onto global_index.json that ends every flush and merge) until the test lets
// each one through. The compactor is the first thread other than `foreground` to commit
// after Arm(); only that thread is held.
class CompactorGateEnv : public testing_util::ForwardingEnv {
 public:
  explicit CompactorGateEnv(Env* base) : ForwardingEnv(base) {}

  void Arm(std::thread::id foreground) {
    std::lock_guard<std::mutex> l(mu_);
    armed_ = true;
    foreground_ = foreground;
  }
  // Waits (up to a minute, against a hang) until the compactor is held in a commit.
  bool WaitHeld() {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] { return held_ > 0; });
  }
  // Lets the held commit through; the compactor's next commit is held again.
  void PassOne() {
    std::lock_guard<std::mutex> l(mu_);
    passes_++;
    cv_.notify_all();
  }
  // Lets every commit through from now on.
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    armed_ = false;
    cv_.notify_all();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    static const std::string kManifest = "/global_index.json";
    const bool manifest = to.size() >= kManifest.size() &&
                          to.compare(to.size() - kManifest.size(), kManifest.size(), kManifest) == 0;
    if (manifest) {
      std::unique_lock<std::mutex> l(mu_);
      std::thread::id me = std::this_thread::get_id();
      if (armed_ && me != foreground_ && (compactor_ == std::thread::id() || compactor_ == me)) {
        compactor_ = me;
        held_++;
        cv_.notify_all();
        cv_.wait(l, [&] { return !armed_ || passes_ > 0; });
        if (passes_ > 0) passes_--;
        held_--;
      }
    }
    return base()->RenameFile(from, to);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  std::thread::id foreground_, compactor_;
  int held_ = 0, passes_ = 0;
};

// The compactor takes maintenance in steps and re-locks between them. A Flush that
// arrives while it has a backlog (here: some thirty merges, each held at its commit until
// the test passes it) must get in after the step in progress, not after the backlog.
// Each round lets one merge finish while a Flush waits: if the compactor started its next
// merge first, that merge would be held with maintenance locked and the Flush would never
// return.
TEST(CompactorYieldTest, FlushWaitsForTheStepInProgressNotTheBacklog) {
  constexpr int kSegments = 32, kRounds = 8;
  std::unique_ptr<Env> mem = NewMemEnv();
  CompactorGateEnv env(mem.get());
  Options o;
  o.env = &env;
  o.dim = kDim;
  o.flush_threshold_items = 5;
  o.compaction_fanout = 2;
  o.background_compaction = false;
  std::unique_ptr<Engine> db;
  struct OpenOnExit {  // a failed assertion must not leave the compactor held at Close
    CompactorGateEnv& env;
    ~OpenOnExit() { env.Open(); }
  } open_on_exit{env};
  // Flushed segments of one size tier: a merge backlog for the compactor.
  ASSERT_TRUE(Engine::Open(o, "/store", &db).ok());
  for (int seg = 0; seg < kSegments; seg++) {
    for (int i = 0; i < 5; i++) {
      std::string id = "s" + std::to_string(seg) + "-" + std::to_string(i);
      ASSERT_TRUE(db->Put(MakeItem(id, "c", seg * 10 + i)).ok());
    }
    ASSERT_TRUE(db->Flush().ok());
  }
  ASSERT_TRUE(db->Close().ok());
  db.reset();

  env.Arm(std::this_thread::get_id());
  o.background_compaction = true;
  ASSERT_TRUE(Engine::Open(o, "/store", &db).ok());
  auto waiting = [&] {
    return testutil::Describe(db.get(), View::kStats)["compactor"].value("callers_waiting", 0);
  };
  for (int round = 0; round < kRounds; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_TRUE(env.WaitHeld()) << "the compactor is not in a merge";
    std::string id = "late-" + std::to_string(round);
    ASSERT_TRUE(db->Put(MakeItem(id, "written during the merges", 1000 + round)).ok());
    std::atomic<bool> flushed{false};
    Status flush_status;
    std::thread flusher([&] {
      flush_status = db->Flush();
      flushed = true;
    });
    // The Flush froze the MemTable and waits for the merge in progress.
    for (int i = 0; i < 60000 && waiting() == 0 && !flushed; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_FALSE(flushed.load()) << "Flush returned while the compactor held maintenance";
    EXPECT_EQ(waiting(), 1);
    // Every core busy, as under a load: a woken Flush then rarely wins the lock back from
    // the compactor by chance, and only the compactor's yield lets it in.
    std::atomic<bool> spin{true};
    std::vector<std::thread> spinners;
    const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned t = 0; t < cores; t++) spinners.emplace_back([&] { while (spin.load()) {} });
    env.PassOne();
    for (int i = 0; i < 30000 && !flushed; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const bool in_turn = flushed.load();
    spin = false;
    for (auto& t : spinners) t.join();
    if (!in_turn) env.Open();  // fail without hanging
    flusher.join();
    ASSERT_TRUE(in_turn) << "Flush still waiting behind the compactor's next merge";
    ASSERT_TRUE(flush_status.ok()) << flush_status.ToString();
    testutil::json st = testutil::Describe(db.get(), View::kStats);
    EXPECT_EQ(st["memtable"].value("items", -1), 0) << st.dump();
    EXPECT_TRUE(st["memtable"]["immutable"].is_null()) << st.dump();
  }
  env.Open();
  for (int round = 0; round < kRounds; round++) {
    Item got;
    EXPECT_TRUE(db->Get("late-" + std::to_string(round), &got).ok()) << round;
  }
  EXPECT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace t4dx
