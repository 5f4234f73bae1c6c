// mixed: --threads threads run random operations for --duration seconds against a store
// preloaded with the first 3/4 of the rows: 70% searches (k, --mixed-ef), 25% upserts (a
// random row: an overwrite when it is preloaded, an insert otherwise), 5% deletes (a random
// preloaded row; "not found" after an earlier delete counts as done). Throughput and
// p50/p99 latency per operation. Systems that search: t4dx and leveldb_hnswlib.
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "store.h"
#include "sysstat.h"
#include "workload_common.h"

namespace t4dx_bench {

namespace {

enum Op { kSearch = 0, kUpsert = 1, kDelete = 2 };
const char* kOpNames[] = {"search", "upsert", "delete"};

int RunOne(Context& ctx, const std::string& system, SyncMode sync, size_t threads) {
  const Dataset& d = ctx.data;
  const Flags& f = ctx.flags;
  size_t preload = d.n * 3 / 4;
  std::string dir = FreshDir(ctx, "mixed-" + system);
  MemoryProbe mem;
  mem.Start();
  std::unique_ptr<Store> store = NewStore(system);
  StoreConfig c;
  c.dir = dir;
  c.sync = sync;
  c.interval_ms = f.interval_ms;
  c.dim = d.dim;
  c.m = f.m;
  c.ef_construction = f.ef_construction;
  c.ef_search = f.mixed_ef;
  c.capacity = d.n + 300000;
  Status s = store->Open(c);
  for (auto& b : MakeBatches(d, 0, preload, 1000)) {
    if (!s.ok()) break;
    s = store->Write(b);
  }
  if (s.ok()) s = store->Finish();
  if (!s.ok()) {
    ctx.out.Note("mixed " + system + ": preload: " + s.ToString());
    return 1;
  }

  std::vector<std::vector<double>> lat[3];
  for (auto& v : lat) v.resize(threads);
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mu;
  double deadline = Now() + f.duration_s;
  auto worker = [&](size_t t) {
    std::mt19937_64 rng(f.seed * 1000 + t);
    std::vector<std::string> ids;
    std::vector<t4dx::Item> one(1);
    while (!failed) {
      int pick = int(rng() % 100);
      Op op = pick < 70 ? kSearch : pick < 95 ? kUpsert : kDelete;
      Status os;
      double t0 = 0, t1 = 0;
      if (op == kSearch) {
        size_t q = rng() % d.nq;
        t0 = Now();
        os = store->Search(d.query(q), f.k, f.mixed_ef, &ids);
        t1 = Now();
      } else if (op == kUpsert) {
        one[0] = d.MakeItem(rng() % d.n);
        t0 = Now();
        os = store->Write(one);
        t1 = Now();
      } else {
        const std::string& id = d.ids[rng() % preload];
        t0 = Now();
        os = store->Delete(id);
        t1 = Now();
        if (os.IsNotFound()) os = Status::OK();
      }
      if (!os.ok()) {
        std::lock_guard<std::mutex> l(error_mu);
        error = std::string(kOpNames[op]) + ": " + os.ToString();
        failed = true;
        break;
      }
      lat[op][t].push_back((t1 - t0) * 1e3);
      if (t1 >= deadline) break;
    }
  };
  double start = Now();
  std::vector<std::thread> ts;
  for (size_t t = 1; t < threads; t++) ts.emplace_back(worker, t);
  worker(0);
  for (auto& t : ts) t.join();
  double secs = Now() - start;
  if (failed) {
    ctx.out.Note("mixed " + system + ": " + error);
    store->Close();
    DropDir(ctx, dir);
    return 1;
  }
  Result r;
  r.workload = "mixed";
  r.system = system;
  r.params = BaseParams(ctx);
  r.params["sync"] = SyncModeName(sync);
  r.params["threads"] = threads;
  r.params["ef"] = f.mixed_ef;
  r.params["k"] = f.k;
  r.params["preloaded"] = preload;
  r.params["mix"] = "70/25/5";
  r.params["duration_s"] = f.duration_s;
  size_t total = 0;
  for (int op = 0; op < 3; op++) {
    std::vector<double> all;
    for (auto& v : lat[op]) all.insert(all.end(), v.begin(), v.end());
    total += all.size();
    std::string n = kOpNames[op];
    r.figures[n + "_ops"] = all.size();
    r.figures[n + "_per_s"] = double(all.size()) / secs;
    r.figures[n + "_p50_ms"] = Percentile(&all, 0.5);
    r.figures[n + "_p99_ms"] = Percentile(&all, 0.99);
  }
  r.figures["ops_per_s"] = double(total) / secs;
  r.figures["seconds"] = secs;
  mem.Figures(d.n, &r.figures);
  r.figures.update(store->Extra());
  store->Close();
  ctx.out.Emit(r);
  DropDir(ctx, dir);
  return 0;
}

}  // namespace

int RunMixed(Context& ctx) {
  if (ctx.data.nq == 0) {
    ctx.out.Note("mixed: needs --queries (or --synthetic)");
    return 1;
  }
  int rc = 0;
  for (const std::string& system : Systems(ctx, {"t4dx", "leveldb_hnswlib"})) {
    std::unique_ptr<Store> probe = NewStore(system);
    if (!probe || !probe->can_search()) {
      ctx.out.Note("mixed: '" + system + "' cannot search (t4dx, leveldb_hnswlib, hnswlib)");
      rc = 1;
      continue;
    }
    for (SyncMode sync : ctx.flags.sync) {
      for (size_t threads : ctx.flags.threads) {
        ctx.out.Note("mixed " + system + " sync=" + SyncModeName(sync) +
                     " threads=" + std::to_string(threads));
        rc |= RunIsolatedAndEmit(ctx, [&] { return RunOne(ctx, system, sync, threads); });
      }
    }
  }
  return rc;
}

}  // namespace t4dx_bench
