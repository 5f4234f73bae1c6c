// ann: recall@10 and single-thread queries/s per ef, T4DX next to plain hnswlib built with
// the same M / ef_construction over the same vectors, and each system's queries/s at
// recall@10 >= 0.95. T4DX is loaded through PutBatch, then Flush, then waits until
// Describe(kHnswStats) shows every vector indexed. Each system runs in its own process
// (RunIsolated); the T4DX rows then get their ratios to the hnswlib curve.
#include "ground_truth.h"
#include "peer_hnswlib.h"
#include "peer_t4dx.h"
#include "sysstat.h"
#include "workload_common.h"

namespace t4dx_bench {

namespace {

constexpr double kTargetRecall = 0.95;

// Builds the system's index, then emits one result per ef and a summary (params.summary).
int AnnSystem(Context& ctx, const std::string& system) {
  Dataset& d = ctx.data;
  const Flags& f = ctx.flags;
  auto rows = RowsById(d);
  MemoryProbe mem;
  mem.Start();
  json extra;
  std::unique_ptr<HnswPeer> peer;
  std::unique_ptr<t4dx::Engine> db;
  std::string dir;
  SearchFn fn;
  double t0 = Now();
  if (system == "hnswlib") {
    peer = HnswPeer::Create(d.dim, d.n, f.m, f.ef_construction);
    std::string error;
    if (!peer || !peer->AddRange(d.base.data(), 0, d.n, d.dim, f.build_threads, &error)) {
      ctx.out.Note("ann hnswlib build: " + error);
      return 1;
    }
    extra["index_memory_bytes"] = peer->memory_bytes();
    extra["build_threads"] = f.build_threads;
    HnswPeer* p = peer.get();
    size_t k = f.k;
    size_t cur_ef = 0;
    fn = [p, &d, k, cur_ef](size_t q, size_t ef, SearchOut* out) mutable {
      if (ef != cur_ef) {
        p->SetEf(ef);
        cur_ef = ef;
      }
      thread_local std::vector<uint64_t> labels;
      p->Search(d.query(q), k, &labels);
      out->rows.assign(labels.begin(), labels.end());
      return true;
    };
  } else if (system == "t4dx") {
    dir = FreshDir(ctx, "ann-t4dx");
    StoreConfig c;
    c.dim = d.dim;
    c.m = f.m;
    c.ef_construction = f.ef_construction;
    c.sync = SyncMode::kNone;  // loading speed is the ingest workload's business
    Status s = t4dx::Engine::Open(T4dxOptions(c), dir, &db);
    if (s.ok()) s = LoadT4dx(db.get(), d, 0, d.n);
    if (!s.ok()) {
      ctx.out.Note("ann t4dx load: " + s.ToString());
      return 1;
    }
  } else {
    ctx.out.Note("ann: unknown system '" + system + "' (hnswlib, t4dx)");
    return 1;
  }
  double build_s = Now() - t0;
  if (system == "t4dx") {
    // Searches are timed on a store at rest, as one is after a restart: merged, index
    // saved, nothing left for the compactor (whose merges and index saves would
    // otherwise share the CPU with the timed queries).
    StoreConfig c;
    c.dim = d.dim;
    c.m = f.m;
    c.ef_construction = f.ef_construction;
    c.sync = SyncMode::kNone;
    Status s = SettleT4dx(T4dxOptions(c), dir, &db);
    if (!s.ok()) {
      ctx.out.Note("ann t4dx settle: " + s.ToString());
      return 1;
    }
    json h = T4dxView(db.get(), t4dx::View::kHnswStats);
    extra["index_memory_bytes"] = h.value("memory_bytes", uint64_t(0));
    extra["indexed_vectors"] = h.value("indexed_vectors", uint64_t(0));
    extra["segments"] = T4dxView(db.get(), t4dx::View::kSegments).value("count", 0);
    fn = T4dxSearchFn(db.get(), d, f.k, nullptr);
  }
  extra["build_s"] = build_s;
  extra["build_vectors_per_s"] = double(d.n) / build_s;
  extra["index_bytes_per_vector"] =
      double(extra["index_memory_bytes"].get<uint64_t>()) / double(d.n);
  ctx.out.Note("ann " + system + ": built in " + std::to_string(build_s) + " s");
  std::vector<CurvePoint> curve, curve_cpu;
  int rc = 0;
  for (size_t ef : f.ef) {
    SearchFigures sf = TimeSearches(d, ef, f.k, fn, d.gt, d.gt_k, &rows, f.runs);
    if (!sf.error.empty()) {
      ctx.out.Note("ann " + system + ": " + sf.error);
      rc = 1;
      break;
    }
    curve.push_back({ef, sf.recall, sf.qps});
    curve_cpu.push_back({ef, sf.recall, sf.qps_cpu});
    Result r;
    r.workload = "ann";
    r.system = system;
    r.params = BaseParams(ctx);
    r.params["nq"] = d.nq;
    r.params["k"] = f.k;
    r.params["ef"] = ef;
    r.figures["recall_at_10"] = sf.recall;
    r.figures["qps"] = sf.qps;
    r.figures["qps_cpu"] = sf.qps_cpu;
    r.figures["p50_ms"] = sf.p50_ms;
    r.figures["p99_ms"] = sf.p99_ms;
    r.figures["index_bytes_per_vector"] = extra["index_bytes_per_vector"];
    mem.Figures(d.n, &r.figures);
    ctx.out.Emit(r);
  }
  if (!dir.empty()) extra["disk_bytes_per_vector"] = double(DirBytes(dir)) / double(d.n);
  mem.Figures(d.n, &extra);
  Result r;
  r.workload = "ann";
  r.system = system;
  r.params = BaseParams(ctx);
  r.params["nq"] = d.nq;
  r.params["k"] = f.k;
  r.params["summary"] = true;
  size_t ef = 0;
  r.figures["qps_at_recall_0.95"] = QpsAtRecall(curve, kTargetRecall, &ef);
  r.figures["ef_at_recall_0.95"] = ef;
  r.figures["qps_cpu_at_recall_0.95"] = QpsAtRecall(curve_cpu, kTargetRecall, &ef);
  r.figures.update(extra);
  ctx.out.Emit(r);
  if (db) db->Close();
  if (!dir.empty()) DropDir(ctx, dir);
  return rc;
}

// The per-ef points of one system's results; figure "qps" or "qps_cpu".
std::vector<CurvePoint> Curve(const std::vector<Result>& results, const char* figure) {
  std::vector<CurvePoint> c;
  for (const Result& r : results) {
    if (r.params.contains("ef")) {
      c.push_back({r.params["ef"].get<size_t>(), r.figures["recall_at_10"].get<double>(),
                   r.figures[figure].get<double>()});
    }
  }
  return c;
}

// Adds to a T4DX result its ratios to the hnswlib curve of the same figure: at the same ef,
// at the same recall (hnswlib's Pareto frontier), and at recall >= 0.95 (summary rows).
void AddRatios(const std::vector<CurvePoint>& mine, const std::vector<CurvePoint>& hnsw,
               const std::string& figure, Result* r) {
  if (hnsw.empty()) return;
  if (r->params.contains("ef")) {
    double recall = r->figures["recall_at_10"].get<double>();
    double qps = r->figures[figure].get<double>();
    double same = InterpolateQps(hnsw, recall);
    r->figures["hnswlib_" + figure + "_at_same_recall"] = same;
    if (same > 0) r->figures[figure + "_ratio_at_same_recall"] = qps / same;
    for (auto& p : hnsw) {
      if (p.ef == r->params["ef"].get<size_t>()) r->figures[figure + "_ratio_same_ef"] = qps / p.qps;
    }
  } else {
    size_t ef_t = 0, ef_h = 0;
    double qt = QpsAtRecall(mine, kTargetRecall, &ef_t);
    double qh = QpsAtRecall(hnsw, kTargetRecall, &ef_h);
    if (qt > 0 && qh > 0) r->figures[figure + "_ratio_at_recall_0.95"] = qt / qh;
  }
}

}  // namespace

int RunAnn(Context& ctx) {
  Dataset& d = ctx.data;
  if (d.nq == 0) {
    ctx.out.Note("ann: needs --queries (or --synthetic)");
    return 1;
  }
  double tg = Now();
  EnsureGroundTruth(&d, ctx.flags.k);
  ctx.out.Note("ann: ground truth ready (" + std::to_string(Now() - tg) + " s)");
  int rc = 0;
  std::vector<CurvePoint> hnsw, hnsw_cpu;
  for (const std::string& system : Systems(ctx, {"hnswlib", "t4dx"})) {
    std::vector<Result> results;
    rc |= RunIsolated(ctx, [&] { return AnnSystem(ctx, system); }, &results);
    std::vector<CurvePoint> mine = Curve(results, "qps"), mine_cpu = Curve(results, "qps_cpu");
    if (system == "hnswlib") {
      hnsw = mine;
      hnsw_cpu = mine_cpu;
    } else {
      for (Result& r : results) {
        AddRatios(mine, hnsw, "qps", &r);
        AddRatios(mine_cpu, hnsw_cpu, "qps_cpu", &r);
      }
    }
    for (auto& r : results) ctx.out.Emit(r);
  }
  return rc;
}

}  // namespace t4dx_bench
