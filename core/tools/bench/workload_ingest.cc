// ingest: items/s and MB/s into a fresh store until every item is durable and searchable
// (Store::Finish: for T4DX, Flush and the HNSW caught up), per durability mode and number
// of writer threads, with write amplification = bytes the process caused to be written to
// storage / logical bytes ingested.
#include <atomic>
#include <mutex>
#include <thread>

#include "store.h"
#include "sysstat.h"
#include "workload_common.h"

namespace t4dx_bench {

namespace {

int RunOne(Context& ctx, const std::string& system, SyncMode sync, size_t threads) {
  const Dataset& d = ctx.data;
  const Flags& f = ctx.flags;
  bool vectors_only = system == "hnswlib";
  std::string dir = FreshDir(ctx, "ingest-" + system);
  auto batches = MakeBatches(d, 0, d.n, f.batch);
  size_t bytes_in = vectors_only ? d.n * size_t(d.dim) * 4 : d.TotalItemBytes(0, d.n);
  if (f.no_vectors) {
    for (auto& b : batches)
      for (t4dx::Item& item : b) item.embedding.clear();
    bytes_in -= d.n * size_t(d.dim) * 4;
  }

  Result r;
  r.workload = "ingest";
  r.system = system;
  r.params = BaseParams(ctx);
  r.params["sync"] = vectors_only ? "n/a" : SyncModeName(sync);
  r.params["threads"] = threads;
  r.params["batch"] = f.batch;
  if (vectors_only) r.params["vectors_only"] = true;
  if (f.no_vectors) r.params["vectors"] = false;

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
  c.capacity = d.n;
  Status s = store->Open(c);
  if (!s.ok()) {
    ctx.out.Note(system + ": open failed: " + s.ToString());
    return 1;
  }
  uint64_t io0 = ProcWriteBytes();
  double t0 = Now();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mu;
  auto writer = [&] {
    for (size_t b = next++; b < batches.size() && !failed; b = next++) {
      Status ws = store->Write(batches[b]);
      if (!ws.ok()) {
        std::lock_guard<std::mutex> l(error_mu);
        error = ws.ToString();
        failed = true;
      }
    }
  };
  std::vector<std::thread> ts;
  for (size_t t = 1; t < threads; t++) ts.emplace_back(writer);
  writer();
  for (auto& t : ts) t.join();
  double t_ack = Now() - t0;
  if (!failed) {
    s = store->Finish();
    if (!s.ok()) {
      error = "finish: " + s.ToString();
      failed = true;
    }
  }
  double secs = Now() - t0;
  uint64_t io = ProcWriteBytes() - io0;
  uint64_t store_bytes = DirBytes(dir);
  if (failed) {
    ctx.out.Note(system + ": " + error);
    store->Close();
    DropDir(ctx, dir);
    return 1;
  }
  json& fig = r.figures;
  fig["items"] = d.n;
  fig["seconds"] = secs;
  fig["ack_seconds"] = t_ack;
  fig["items_per_s"] = double(d.n) / secs;
  fig["MB_per_s"] = double(bytes_in) / secs / 1e6;
  fig["bytes_ingested"] = bytes_in;
  fig["disk_write_bytes"] = io;
  fig["write_amplification"] = double(io) / double(bytes_in);
  fig["store_bytes"] = store_bytes;
  fig["space_amplification"] = double(store_bytes) / double(bytes_in);
  fig["disk_bytes_per_vector"] = double(store_bytes) / double(d.n);
  mem.Figures(d.n, &fig);
  fig.update(store->Extra());
  store->Close();
  batches.clear();
  ctx.out.Emit(r);
  DropDir(ctx, dir);
  return 0;
}

}  // namespace

int RunIngest(Context& ctx) {
  int rc = 0;
  for (const std::string& system :
       Systems(ctx, {"t4dx", "leveldb", "rocksdb", "sqlite", "leveldb_hnswlib", "hnswlib"})) {
    if (!NewStore(system)) {
      ctx.out.Note("ingest: unknown system '" + system + "'");
      rc = 1;
      continue;
    }
    if (ctx.flags.no_vectors && system == "hnswlib") {
      ctx.out.Note("ingest --no-vectors: hnswlib skipped (it stores vectors only)");
      continue;
    }
    for (SyncMode sync : ctx.flags.sync) {
      for (size_t threads : ctx.flags.threads) {
        ctx.out.Note("ingest " + system + " sync=" + SyncModeName(sync) +
                     " threads=" + std::to_string(threads));
        rc |= RunIsolatedAndEmit(ctx, [&] { return RunOne(ctx, system, sync, threads); });
      }
      if (system == "hnswlib") break;  // no durability: one run per thread count
    }
  }
  return rc;
}

}  // namespace t4dx_bench
