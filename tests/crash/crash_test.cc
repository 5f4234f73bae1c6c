// A real crash test. The test binary re-executes itself (/proc/self/exe with a gtest
// filter selecting CrashChild.Writer) as a child process that writes to a store in a temp
// directory on the POSIX Env with WalSync::kAlways, a small flush threshold and the
// compactor thread on (flush threshold 32 items, merges of 4, WAL retention 200 entries),
// so flushes, merges and WAL file deletions run all the time. Before each operation the
// child reports its intent on a pipe, after the acknowledgement the outcome. The parent
// kills it with SIGKILL at a seeded random moment (also while it opens and recovers),
// reopens the store and checks: every acknowledged write is there with its content, no
// deleted item returns, the one operation in flight is all-or-nothing, Count and Scan
// agree, and Verify is healthy. Then the next cycle's child continues on the same store.
//
// T4DX_CRASH_CYCLES sets the number of cycles (default 200); T4DX_CRASH_SEED the seed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "engine/engine_test_util.h"

namespace t4dx {
namespace {

constexpr uint32_t kDim = 16;
constexpr int kPool = 400;
constexpr char kChildDirVar[] = "T4DX_CRASH_CHILD_DIR";
constexpr char kChildFdVar[] = "T4DX_CRASH_CHILD_FD";
constexpr char kChildSeedVar[] = "T4DX_CRASH_CHILD_SEED";

// The item a (id, version) pair stands for: both sides derive it the same way.
Item VersionedItem(const std::string& id, uint64_t version) {
  Item it;
  it.id = id;
  it.kind = version % 3 == 0 ? "note" : "episode";
  it.content = id + " @" + std::to_string(version);
  it.timestamp = int64_t(version);
  it.embedding =
      testutil::RandomVector(kDim, version * 1315423911ull + std::hash<std::string>()(id));
  it.metadata["v"] = MetaValue::Number(double(version));
  return it;
}

Options StoreOptions(bool background) {
  Options o;
  o.wal_sync = WalSync::kAlways;
  o.flush_threshold_items = 32;
  o.compaction_fanout = 4;
  o.wal_retention_entries = 200;  // sealed WAL files are deleted too, under crashes
  o.background_compaction = background;
  return o;
}

// ---- the child ----

void Report(int fd, const std::string& line) {
  std::string l = line + "\n";
  size_t off = 0;
  while (off < l.size()) {
    ssize_t n = ::write(fd, l.data() + off, l.size() - off);
    if (n <= 0) ::_exit(3);  // the parent is gone
    off += size_t(n);
  }
}

[[noreturn]] void RunChild(const std::string& dir, int fd, uint64_t seed) {
  std::unique_ptr<Engine> db;
  Status s = Engine::Open(StoreOptions(true), dir, &db);
  if (!s.ok()) {
    Report(fd, "F open: " + s.ToString());
    ::_exit(2);
  }
  Report(fd, "R");
  std::mt19937_64 rng(seed);
  uint64_t version = seed * 1000000;  // unique across cycles
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    uint32_t op = rng() % 100;
    if (op < 60) {
      std::string id = "k" + std::to_string(rng() % kPool);
      uint64_t v = ++version;
      std::string what = "P " + id + " " + std::to_string(v);
      Report(fd, "I " + what);
      s = db->Put(VersionedItem(id, v));
      if (!s.ok()) break;
      Report(fd, "A " + what);
    } else if (op < 75) {
      std::set<std::string> ids;
      size_t n = 2 + rng() % 7;
      while (ids.size() < n) ids.insert("k" + std::to_string(rng() % kPool));
      std::vector<Item> items;
      std::string what = "X";
      for (auto& id : ids) {
        uint64_t v = ++version;
        items.push_back(VersionedItem(id, v));
        what += " " + id + " " + std::to_string(v);
      }
      Report(fd, "I " + what);
      s = db->PutBatch(items);
      if (!s.ok()) break;
      Report(fd, "A " + what);
    } else {
      std::string id = "k" + std::to_string(rng() % kPool);
      std::string what = "D " + id;
      Report(fd, "I " + what);
      s = db->Delete(id);
      if (s.IsNotFound()) {
        Report(fd, "N");  // nothing written
        continue;
      }
      if (!s.ok()) break;
      Report(fd, "A " + what);
    }
  }
  if (!s.ok()) Report(fd, "F write: " + s.ToString());
  ::_exit(s.ok() ? 0 : 2);
}

TEST(CrashChild, Writer) {
  const char* dir = std::getenv(kChildDirVar);
  if (dir == nullptr) GTEST_SKIP() << "runs only as the child process of CrashTest";
  RunChild(dir, std::atoi(std::getenv(kChildFdVar)),
           std::strtoull(std::getenv(kChildSeedVar), nullptr, 10));
}

// ---- the parent ----

// One operation as reported: (id, version) pairs for puts and batches, or a delete.
struct Op {
  bool is_delete = false;
  std::vector<std::pair<std::string, uint64_t>> puts;
  std::string id;  // delete
};

bool ParseOp(const std::string& text, Op* op) {
  std::istringstream in(text);
  std::string kind;
  in >> kind;
  if (kind == "D") {
    op->is_delete = true;
    in >> op->id;
    return !op->id.empty();
  }
  if (kind != "P" && kind != "X") return false;
  std::string id;
  uint64_t v;
  while (in >> id >> v) op->puts.push_back({id, v});
  return !op->puts.empty();
}

struct ChildRun {
  std::vector<Op> acked;
  std::optional<Op> in_flight;  // the intent without an outcome
  bool ready = false;
  std::string failure;  // "F ..." reported by the child
  bool killed = false;  // ended by our SIGKILL (not by itself)
  int64_t run_ms = 0;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Starts the child, kills it after kill_after_ms (counted from its "ready" line when
// after_ready, from the start otherwise), and collects what it reported.
ChildRun RunOneChild(const std::string& dir, uint64_t seed, int kill_after_ms, bool after_ready) {
  ChildRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    run.failure = "pipe failed";
    return run;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    int wfd = ::dup(fds[1]);  // without O_CLOEXEC: survives the exec
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 1);  // the child's gtest banner is noise
    ::setenv(kChildDirVar, dir.c_str(), 1);
    ::setenv(kChildFdVar, std::to_string(wfd).c_str(), 1);
    ::setenv(kChildSeedVar, std::to_string(seed).c_str(), 1);
    const char* argv[] = {"test_crash", "--gtest_filter=CrashChild.Writer", nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string buf;
  int64_t start = NowMs();
  int64_t kill_at = after_ready ? INT64_MAX : start + kill_after_ms;
  bool eof = false;
  auto consume = [&] {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line == "R") {
        run.ready = true;
        if (after_ready) kill_at = NowMs() + kill_after_ms;
      } else if (line.rfind("I ", 0) == 0) {
        Op op;
        if (ParseOp(line.substr(2), &op)) run.in_flight = op;
      } else if (line.rfind("A ", 0) == 0) {
        Op op;
        if (ParseOp(line.substr(2), &op)) run.acked.push_back(op);
        run.in_flight.reset();
      } else if (line == "N") {
        run.in_flight.reset();
      } else if (line.rfind("F ", 0) == 0) {
        run.failure = line;
      }
    }
  };
  while (!eof) {
    int64_t now = NowMs();
    if (now >= kill_at) break;
    int wait_ms = int(std::min<int64_t>(kill_at - now, 200));
    struct pollfd p = {fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r > 0) {
      char tmp[4096];
      ssize_t n = ::read(fds[0], tmp, sizeof(tmp));
      if (n <= 0)
        eof = true;
      else
        buf.append(tmp, size_t(n));
      consume();
    }
    if (NowMs() - start > 20000) break;  // a child that never gets ready
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  // Whatever the child wrote before it died is still in the pipe.
  char tmp[4096];
  ssize_t n;
  while ((n = ::read(fds[0], tmp, sizeof(tmp))) > 0) buf.append(tmp, size_t(n));
  consume();
  ::close(fds[0]);
  run.run_ms = NowMs() - start;
  return run;
}

// What the parent knows of the store: id -> version (nullopt: deleted).
using Model = std::map<std::string, std::optional<uint64_t>>;

void Apply(const Op& op, Model* m) {
  if (op.is_delete) (*m)[op.id] = std::nullopt;
  for (auto& p : op.puts) (*m)[p.first] = p.second;
}

// The state of id in the store: its version, or nullopt when absent. "" or an error.
std::string Observe(Engine* db, const std::string& id, std::optional<uint64_t>* state) {
  Item got;
  Status s = db->Get(id, &got);
  if (s.IsNotFound()) {
    state->reset();
    return "";
  }
  if (!s.ok()) return "Get(" + id + "): " + s.ToString();
  uint64_t v = uint64_t(got.timestamp);
  Item want = VersionedItem(id, v);
  want.embedding = testutil::Normalized(want.embedding);
  if (!(got == want))
    return "Get(" + id + ") content differs from the version it claims (" + got.content + ")";
  *state = v;
  return "";
}

std::string Show(const std::optional<uint64_t>& v) {
  return v ? "@" + std::to_string(*v) : "absent";
}

// Reopens the store and checks it against the model; resolves the in-flight op.
// read_only: the check opens without the lock and changes nothing (the next child does the
// real recovery, and may be killed in the middle of it).
std::string CheckStore(const std::string& dir, Model* model, const std::optional<Op>& in_flight,
                       bool read_only) {
  std::unique_ptr<Engine> db;
  Options o = StoreOptions(false);
  o.read_only = read_only;
  Status s = Engine::Open(o, dir, &db);
  if (!s.ok()) return "reopen failed: " + s.ToString();
  std::set<std::string> flight_ids;
  if (in_flight) {
    if (in_flight->is_delete) flight_ids.insert(in_flight->id);
    for (auto& p : in_flight->puts) flight_ids.insert(p.first);
  }
  for (auto& kv : *model) {
    if (flight_ids.count(kv.first)) continue;
    std::optional<uint64_t> state;
    std::string err = Observe(db.get(), kv.first, &state);
    if (!err.empty()) return err;
    if (state != kv.second) {
      return "id " + kv.first + ": acknowledged " + Show(kv.second) + ", recovered " + Show(state) +
             (kv.second ? "" : " (a deleted item returned)");
    }
  }
  if (in_flight) {
    // All or nothing: every id of the op shows its old state, or every one its new one.
    Model after = *model;
    Apply(*in_flight, &after);
    bool all_old = true, all_new = true;
    Model seen;
    for (auto& id : flight_ids) {
      std::optional<uint64_t> state;
      std::string err = Observe(db.get(), id, &state);
      if (!err.empty()) return err;
      seen[id] = state;
      auto old_it = model->find(id);
      std::optional<uint64_t> old;
      if (old_it != model->end()) old = old_it->second;
      all_old = all_old && state == old;
      all_new = all_new && state == after[id];
    }
    if (!all_old && !all_new) {
      std::string why = "the operation in flight is partly applied:";
      for (auto& kv : seen) why += " " + kv.first + "=" + Show(kv.second);
      return why;
    }
    if (all_new) *model = after;
  }
  uint64_t live = 0;
  for (auto& kv : *model) live += kv.second ? 1 : 0;
  uint64_t n = 0;
  if (!db->Count(&n).ok() || n != live)
    return "Count " + std::to_string(n) + ", expected " + std::to_string(live);
  std::vector<std::string> ids = testutil::ScanIds(db.get(), &s);
  if (!s.ok()) return "Scan: " + s.ToString();
  std::set<std::string> unique(ids.begin(), ids.end());
  if (unique.size() != ids.size()) return "an id appears twice in Scan";
  if (unique.size() != live)
    return "Scan returned " + std::to_string(unique.size()) + " ids, expected " +
           std::to_string(live);
  // A search for a live item's vector finds it.
  for (auto& kv : *model) {
    if (!kv.second) continue;
    SearchOptions so;
    so.k = 3;
    SearchResult r;
    s = db->Search(VersionedItem(kv.first, *kv.second).embedding, so, &r);
    if (!s.ok() || r.hits.empty() || r.hits[0].id != kv.first)
      return "search did not find " + kv.first;
    break;
  }
  std::string report;
  bool healthy = false;
  s = db->Verify(&report, &healthy);
  if (!s.ok()) return "Verify: " + s.ToString();
  if (!healthy) return "Verify: " + report;
  s = db->Close();
  if (!s.ok()) return "Close: " + s.ToString();
  return "";
}

TEST(CrashTest, SigkillAtRandomMoments) {
  if (std::getenv(kChildDirVar) != nullptr) GTEST_SKIP();
  const int cycles = testutil::CyclesFromEnv(200);
  const char* seed_env = std::getenv("T4DX_CRASH_SEED");
  const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 20240611;
  testutil::TempDir tmp("t4dx_crash");
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path() + "/store";
  std::mt19937_64 rng(seed);
  Model model;
  uint64_t acked_total = 0, killed_in_open = 0, flushes_seen = 0;
  int64_t child_ms = 0, check_ms = 0;
  int64_t t0 = NowMs();
  for (int c = 0; c < cycles; c++) {
    // One cycle in eight kills the child while it starts and recovers; most others within
    // 50 ms of its being ready, one in eight later, when flushes and merges are running.
    uint32_t pick = rng() % 8;
    bool early = pick == 0;
    int delay = early ? int(rng() % 25) : pick <= 6 ? int(1 + rng() % 50) : int(50 + rng() % 250);
    ChildRun run = RunOneChild(dir, seed * 1000 + uint64_t(c) + 1, delay, !early);
    ASSERT_TRUE(run.failure.empty()) << "cycle " << c << ": child reported " << run.failure;
    ASSERT_TRUE(run.killed) << "cycle " << c << ": the child ended by itself";
    if (!run.ready) killed_in_open++;
    for (auto& op : run.acked) Apply(op, &model);
    acked_total += run.acked.size();
    int64_t t_check = NowMs();
    // Three checks in four are read-only; the fourth recovers the store for real.
    std::string err = CheckStore(dir, &model, run.in_flight, c % 4 != 3);
    check_ms += NowMs() - t_check;
    child_ms += run.run_ms;
    ASSERT_EQ(err, "") << "cycle " << c << " (seed " << seed << ", " << run.acked.size()
                       << " acknowledged writes, killed after " << run.run_ms << " ms)";
  }
  // Flushes and merges happened along the way.
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(StoreOptions(false), dir, &db).ok());
  std::string hist;
  ASSERT_TRUE(db->Describe(View::kCompactionHistory, "", &hist).ok());
  testutil::json h = testutil::json::parse(hist);
  uint64_t merges = 0;
  for (auto& r : h["records"]) {
    if (r["kind"] == "flush") flushes_seen++;
    if (r["kind"] == "merge") merges++;
  }
  std::cout << "[ crash test ] " << cycles << " SIGKILL cycles (" << killed_in_open
            << " during open), " << acked_total << " acknowledged writes checked, " << flushes_seen
            << " flushes, " << merges << " merges, " << (NowMs() - t0) / 1000.0 << " s (children "
            << child_ms / 1000.0 << " s, checks " << check_ms / 1000.0 << " s)" << std::endl;
  if (cycles >= 100) {  // the default run must have crashed through flushes and merges
    EXPECT_GT(acked_total, uint64_t(cycles));
    EXPECT_GT(flushes_seen, 0u);
    EXPECT_GT(merges, 0u);
  }
}

}  // namespace
}  // namespace t4dx
