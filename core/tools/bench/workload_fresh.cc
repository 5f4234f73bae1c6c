// fresh: search while recent writes are not in the HNSW yet. Three exact states of one data
// set (all n rows stored in each, so the ground truth is the same):
//   memtable  the last --fresh-items rows unflushed in the MemTable, the rest indexed
//   segments  the last --segments x --segment-items rows in that many flushed segments that
//             are not indexed yet, the rest indexed
//   indexed   every row in the HNSW (the control)
// The stores run without the compactor thread (background_compaction=false) and with a
// flush threshold that makes the state exact; Describe(kHnswStats) proves it and its
// counts are reported with every figure.
#include "ground_truth.h"
#include "peer_t4dx.h"
#include "sysstat.h"
#include "workload_common.h"

namespace t4dx_bench {

namespace {

struct Phase {
  std::string name;
  json state;
  std::vector<SearchFigures> points;
};

Status OpenStore(const Context& ctx, const std::string& dir, size_t threshold,
                 std::unique_ptr<t4dx::Engine>* db) {
  StoreConfig c;
  c.dim = ctx.data.dim;
  c.m = ctx.flags.m;
  c.ef_construction = ctx.flags.ef_construction;
  c.sync = SyncMode::kNone;
  c.background = false;
  c.flush_threshold = threshold;
  return t4dx::Engine::Open(T4dxOptions(c), dir, db);
}

json State(t4dx::Engine* db) {
  json h = T4dxView(db, t4dx::View::kHnswStats);
  json m = T4dxView(db, t4dx::View::kMemTable);
  json seg = T4dxView(db, t4dx::View::kSegments);
  return json{{"memtable_vectors", h.value("memtable_vectors", 0)},
              {"unindexed_segments", h.value("unindexed_segments", 0)},
              {"indexed_vectors", h.value("indexed_vectors", 0)},
              {"lag_vectors", h.value("lag_vectors", 0)},
              {"memtable_items", m.value("items", 0)},
              {"segments", seg.value("count", 0)}};
}

Status Put(t4dx::Engine* db, const Dataset& d, size_t begin, size_t end, size_t batch) {
  for (auto& b : MakeBatches(d, begin, end, batch)) T4DX_RETURN_IF_ERROR(db->PutBatch(b));
  return Status::OK();
}

}  // namespace

namespace {

int FreshBody(Context& ctx) {
  Dataset& d = ctx.data;
  const Flags& f = ctx.flags;
  size_t seg_rows = f.segments * f.segment_items;
  size_t reserve = std::max(f.fresh_items, seg_rows);
  if (d.nq == 0 || reserve == 0 || reserve >= d.n) {
    ctx.out.Note("fresh: needs queries and --n larger than --fresh-items and segments x items");
    return 1;
  }
  size_t base_end = d.n - reserve;
  EnsureGroundTruth(&d, f.k);
  auto rows = RowsById(d);
  MemoryProbe mem;
  mem.Start();

  // The common indexed base: rows [0, base_end), compacted into one indexed segment.
  std::string base = FreshDir(ctx, "fresh-base");
  std::unique_ptr<t4dx::Engine> db;
  double t0 = Now();
  Status s = OpenStore(ctx, base, f.segment_items, &db);
  if (s.ok()) s = Put(db.get(), d, 0, base_end, 1000);
  if (s.ok()) s = db->Compact();
  if (s.ok()) s = db->Close();
  db.reset();
  if (!s.ok()) {
    ctx.out.Note("fresh: base store: " + s.ToString());
    return 1;
  }
  ctx.out.Note("fresh: base of " + std::to_string(base_end) + " rows indexed in " +
               std::to_string(Now() - t0) + " s");

  std::vector<Phase> phases;
  auto measure = [&](const std::string& name, t4dx::Engine* e) {
    Phase p;
    p.name = name;
    p.state = State(e);
    SearchFn fn = T4dxSearchFn(e, d, f.k, nullptr);
    for (size_t ef : f.ef) {
      p.points.push_back(TimeSearches(d, ef, f.k, fn, d.gt, d.gt_k, &rows, f.runs));
    }
    phases.push_back(std::move(p));
  };

  // Store A: fresh rows in the MemTable, then everything indexed.
  std::string a = ctx.scratch + "/fresh-memtable";
  RemoveAll(a);
  CopyTree(base, a);
  s = OpenStore(ctx, a, 2 * reserve + 1, &db);
  if (s.ok()) s = Put(db.get(), d, base_end, d.n - f.fresh_items, 1000);
  if (s.ok()) s = db->Flush();  // no compactor: Flush indexes what it wrote
  if (s.ok()) s = Put(db.get(), d, d.n - f.fresh_items, d.n, 1000);
  if (!s.ok()) {
    ctx.out.Note("fresh: memtable store: " + s.ToString());
    return 1;
  }
  measure("memtable", db.get());
  s = db->Flush();
  if (!s.ok()) {
    ctx.out.Note("fresh: flush: " + s.ToString());
    return 1;
  }
  measure("indexed", db.get());
  db->Close();
  db.reset();
  DropDir(ctx, a);

  // Store B: the last rows in unindexed segments.
  std::string b = ctx.scratch + "/fresh-segments";
  RemoveAll(b);
  CopyTree(base, b);
  s = OpenStore(ctx, b, f.segment_items, &db);
  if (s.ok() && base_end < d.n - seg_rows) {
    s = Put(db.get(), d, base_end, d.n - seg_rows, 1000);
    if (s.ok()) s = db->Flush();
  }
  if (s.ok()) s = Put(db.get(), d, d.n - seg_rows, d.n, f.segment_items);
  // Without a compactor, a full MemTable waits for the next write: flush the rest one
  // MaintenanceStep at a time (a step that flushes does nothing else).
  for (int guard = 0; s.ok() && guard < 100; guard++) {
    json m = T4dxView(db.get(), t4dx::View::kMemTable);
    if (m.value("items", 0) == 0 && m["immutable"].is_null()) break;
    bool did = false;
    s = db->MaintenanceStep(&did);
  }
  if (!s.ok()) {
    ctx.out.Note("fresh: segments store: " + s.ToString());
    return 1;
  }
  measure("segments", db.get());
  if (phases.back().state.value("unindexed_segments", size_t(0)) != f.segments) {
    ctx.out.Note("fresh: expected " + std::to_string(f.segments) + " unindexed segments, state " +
                 phases.back().state.dump());
  }
  db->Close();
  db.reset();
  DropDir(ctx, b);
  DropDir(ctx, base);

  const Phase* control = nullptr;
  for (auto& p : phases) {
    if (p.name == "indexed") control = &p;
  }
  for (const Phase& p : phases) {
    for (size_t i = 0; i < p.points.size(); i++) {
      const SearchFigures& sf = p.points[i];
      Result r;
      r.workload = "fresh";
      r.system = "t4dx";
      r.params = BaseParams(ctx);
      r.params["state"] = p.name;
      r.params["ef"] = f.ef[i];
      r.params["k"] = f.k;
      r.params["nq"] = d.nq;
      r.params["fresh_items"] = p.name == "memtable" ? f.fresh_items : 0;
      r.params["segments"] = p.name == "segments" ? f.segments : 0;
      r.params["segment_items"] = p.name == "segments" ? f.segment_items : 0;
      if (!sf.error.empty()) r.figures["error"] = sf.error;
      r.figures["recall_at_10"] = sf.recall;
      r.figures["qps"] = sf.qps;
    r.figures["qps_cpu"] = sf.qps_cpu;
      r.figures["p50_ms"] = sf.p50_ms;
      r.figures["p99_ms"] = sf.p99_ms;
      if (control && control != &p && control->points[i].qps > 0) {
        r.figures["qps_ratio_vs_indexed"] = sf.qps / control->points[i].qps;
        r.figures["qps_cpu_ratio_vs_indexed"] = sf.qps_cpu / control->points[i].qps_cpu;
      }
      for (auto& kv : p.state.items()) r.figures[kv.key()] = kv.value();
      mem.Figures(d.n, &r.figures);
      ctx.out.Emit(r);
    }
  }
  return 0;
}

}  // namespace

int RunFresh(Context& ctx) {
  EnsureGroundTruth(&ctx.data, ctx.flags.k);  // once, in this process
  return RunIsolatedAndEmit(ctx, [&] { return FreshBody(ctx); });
}

}  // namespace t4dx_bench
