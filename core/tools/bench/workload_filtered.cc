// filtered: search under a metadata filter that keeps about 1%, 10% and 50% of the items
// (values of --filter-key chosen to reach each share), recall@10 against the exact
// filtered answer. Peers: plain hnswlib with post-filtering (ask for ef candidates, keep
// those that match) and with hnswlib's in-graph filter functor.
#include <algorithm>
#include <map>

#include "ground_truth.h"
#include "peer_hnswlib.h"
#include "peer_t4dx.h"
#include "sysstat.h"
#include "workload_common.h"

namespace t4dx_bench {

namespace {

std::string ValueKey(const t4dx::MetaValue& v) {
  if (v.type == t4dx::MetaValue::Type::kString) return v.str;
  if (v.type == t4dx::MetaValue::Type::kNumber) return std::to_string(v.num);
  if (v.type == t4dx::MetaValue::Type::kBool) return v.boolean ? "true" : "false";
  return "";
}

// Values of key whose rows add up to about target * n: the largest values that fit (up to
// 10% over), in decreasing count order, until 90% of the target is reached; or the single
// value nearest the target when none fits.
std::vector<std::string> ChooseValues(const std::map<std::string, size_t>& counts, double target,
                                      size_t n, size_t* kept) {
  std::vector<std::pair<size_t, std::string>> by_count;
  for (auto& kv : counts) by_count.push_back({kv.second, kv.first});
  std::sort(by_count.begin(), by_count.end(), [](auto& a, auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  double want = target * double(n);
  std::vector<std::string> chosen;
  size_t sum = 0;
  for (auto& [c, v] : by_count) {
    if (double(sum + c) <= want * 1.1) {
      chosen.push_back(v);
      sum += c;
    }
    if (double(sum) >= want * 0.9) break;
  }
  if (chosen.empty()) {
    size_t best = 0;
    double diff = 1e300;
    for (size_t i = 0; i < by_count.size(); i++) {
      double dd = std::abs(double(by_count[i].first) - want);
      if (dd < diff) {
        diff = dd;
        best = i;
      }
    }
    chosen.push_back(by_count[best].second);
    sum = by_count[best].first;
  }
  *kept = sum;
  return chosen;
}

struct Level {
  double target;
  std::vector<std::string> values;
  size_t kept;
  std::vector<bool> allowed;
  std::vector<uint32_t> gt;
  t4dx::Filter filter;
};

int FilteredGroup(Context& ctx, const std::vector<std::string>& group,
                  std::vector<Level>& levels,
                  const std::unordered_map<std::string, uint32_t>& rows);

}  // namespace

int RunFiltered(Context& ctx) {
  Dataset& d = ctx.data;
  const Flags& f = ctx.flags;
  if (d.nq == 0) {
    ctx.out.Note("filtered: needs --queries (or --synthetic)");
    return 1;
  }
  std::string key = PrepareFilterKey(f, &d);
  std::map<std::string, size_t> counts;
  for (size_t i = 0; i < d.n; i++) {
    auto it = d.metadata[i].find(key);
    if (it != d.metadata[i].end()) counts[ValueKey(it->second)]++;
  }
  if (counts.empty()) {
    ctx.out.Note("filtered: no item has metadata key '" + key + "'");
    return 1;
  }
  std::vector<Level> levels;
  for (double sel : f.selectivity) {
    Level l;
    l.target = sel;
    l.values = ChooseValues(counts, sel, d.n, &l.kept);
    l.allowed.assign(d.n, false);
    for (size_t i = 0; i < d.n; i++) {
      auto it = d.metadata[i].find(key);
      if (it == d.metadata[i].end()) continue;
      l.allowed[i] = std::find(l.values.begin(), l.values.end(), ValueKey(it->second)) !=
                     l.values.end();
    }
    l.gt = ExactTopK(d, f.k, l.allowed);
    t4dx::MetaCondition mc;
    mc.key = key;
    mc.op = t4dx::MetaCondition::Op::kAnyOf;
    for (auto& v : l.values) mc.values.push_back(t4dx::MetaValue::String(v));
    l.filter.metadata.push_back(mc);
    levels.push_back(std::move(l));
  }
  auto rows = RowsById(d);
  // Systems on plain hnswlib share one index, so they run in one process.
  std::vector<std::vector<std::string>> groups;
  std::vector<std::string> hnsw_group;
  for (const std::string& system :
       Systems(ctx, {"hnswlib_postfilter", "hnswlib_infilter", "t4dx"})) {
    if (system.rfind("hnswlib_", 0) == 0) {
      if (hnsw_group.empty()) groups.emplace_back();
      hnsw_group.push_back(system);
      continue;
    }
    groups.push_back({system});
  }
  for (auto& g : groups) {
    if (g.empty()) g = hnsw_group;
  }
  int rc = 0;
  for (const auto& group : groups) {
    rc |= RunIsolatedAndEmit(ctx, [&] { return FilteredGroup(ctx, group, levels, rows); });
  }
  return rc;
}

namespace {

int FilteredGroup(Context& ctx, const std::vector<std::string>& group,
                  std::vector<Level>& levels,
                  const std::unordered_map<std::string, uint32_t>& rows) {
  Dataset& d = ctx.data;
  const Flags& f = ctx.flags;
  const std::string key = levels.empty() ? "" : levels[0].filter.metadata[0].key;
  int rc = 0;
  std::unique_ptr<HnswPeer> peer;
  double peer_build_s = 0;
  for (const std::string& system : group) {
    MemoryProbe mem;
    mem.Start();
    std::unique_ptr<t4dx::Engine> db;
    std::string dir;
    double t0 = Now();
    if (system == "hnswlib_postfilter" || system == "hnswlib_infilter") {
      if (!peer) {
        peer = HnswPeer::Create(d.dim, d.n, f.m, f.ef_construction);
        std::string error;
        if (!peer || !peer->AddRange(d.base.data(), 0, d.n, d.dim, f.build_threads, &error)) {
          ctx.out.Note("filtered hnswlib build: " + error);
          return 1;
        }
        peer_build_s = Now() - t0;
        ctx.out.Note("filtered: hnswlib built in " + std::to_string(peer_build_s) + " s");
      }
    } else if (system == "t4dx") {
      peer.reset();
      dir = FreshDir(ctx, "filtered-t4dx");
      StoreConfig c;
      c.dim = d.dim;
      c.m = f.m;
      c.ef_construction = f.ef_construction;
      c.sync = SyncMode::kNone;
      Status s = t4dx::Engine::Open(T4dxOptions(c), dir, &db);
      if (s.ok()) s = LoadT4dx(db.get(), d, 0, d.n);
      if (!s.ok()) {
        ctx.out.Note("filtered t4dx load: " + s.ToString());
        rc = 1;
        continue;
      }
      ctx.out.Note("filtered: t4dx loaded and indexed in " + std::to_string(Now() - t0) + " s");
      peer_build_s = Now() - t0;  // loading and indexing, before the store is settled
      // Timed searches on a store at rest (see SettleT4dx), as in `ann`.
      s = SettleT4dx(T4dxOptions(c), dir, &db);
      if (!s.ok()) {
        ctx.out.Note("filtered t4dx settle: " + s.ToString());
        rc = 1;
        continue;
      }
    } else {
      ctx.out.Note("filtered: unknown system '" + system +
                   "' (t4dx, hnswlib_postfilter, hnswlib_infilter)");
      rc = 1;
      continue;
    }
    double build_s = peer || system == "t4dx" ? peer_build_s : Now() - t0;
    for (Level& l : levels) {
      SearchFn fn;
      size_t cur_ef = 0;
      HnswPeer* p = peer.get();
      size_t k = f.k;
      if (system == "hnswlib_postfilter") {
        fn = [p, &d, &l, k, cur_ef](size_t q, size_t ef, SearchOut* out) mutable {
          if (ef != cur_ef) p->SetEf(ef);
          cur_ef = ef;
          thread_local std::vector<uint64_t> labels;
          p->Search(d.query(q), std::max(ef, k), &labels);
          out->rows.clear();
          for (uint64_t lab : labels) {
            if (l.allowed[lab]) out->rows.push_back(int64_t(lab));
            if (out->rows.size() == k) break;
          }
          return true;
        };
      } else if (system == "hnswlib_infilter") {
        fn = [p, &d, &l, k, cur_ef](size_t q, size_t ef, SearchOut* out) mutable {
          if (ef != cur_ef) p->SetEf(ef);
          cur_ef = ef;
          thread_local std::vector<uint64_t> labels;
          p->SearchFiltered(d.query(q), k, l.allowed, &labels);
          out->rows.assign(labels.begin(), labels.end());
          return true;
        };
      } else {
        fn = T4dxSearchFn(db.get(), d, k, &l.filter);
      }
      std::vector<CurvePoint> curve, curve_cpu;
      for (size_t ef : f.ef) {
        SearchFigures sf = TimeSearches(d, ef, k, fn, l.gt, k, &rows, f.runs);
        if (!sf.error.empty()) {
          ctx.out.Note("filtered " + system + ": " + sf.error);
          rc = 1;
          break;
        }
        curve.push_back({ef, sf.recall, sf.qps});
        curve_cpu.push_back({ef, sf.recall, sf.qps_cpu});
        Result r;
        r.workload = "filtered";
        r.system = system;
        r.params = BaseParams(ctx);
        r.params["nq"] = d.nq;
        r.params["k"] = k;
        r.params["ef"] = ef;
        r.params["filter_key"] = key;
        r.params["target_selectivity"] = l.target;
        r.params["values"] = l.values.size() <= 8 ? json(l.values) : json(l.values.size());
        r.figures["selectivity"] = double(l.kept) / double(d.n);
        r.figures["recall_at_10"] = sf.recall;
        r.figures["qps"] = sf.qps;
    r.figures["qps_cpu"] = sf.qps_cpu;
        r.figures["p50_ms"] = sf.p50_ms;
        r.figures["p99_ms"] = sf.p99_ms;
        r.figures["build_s"] = build_s;
        mem.Figures(d.n, &r.figures);
        ctx.out.Emit(r);
      }
      size_t best_ef = 0;
      Result r;
      r.workload = "filtered";
      r.system = system;
      r.params = BaseParams(ctx);
      r.params["filter_key"] = key;
      r.params["target_selectivity"] = l.target;
      r.params["summary"] = true;
      r.figures["selectivity"] = double(l.kept) / double(d.n);
      r.figures["qps_at_recall_0.95"] = QpsAtRecall(curve, 0.95, &best_ef);
      r.figures["ef_at_recall_0.95"] = best_ef;
      r.figures["qps_cpu_at_recall_0.95"] = QpsAtRecall(curve_cpu, 0.95, &best_ef);
      double max_recall = 0;
      for (auto& c : curve) max_recall = std::max(max_recall, c.recall);
      r.figures["max_recall_at_10"] = max_recall;
      ctx.out.Emit(r);
    }
    if (db) db->Close();
    db.reset();
    if (!dir.empty()) DropDir(ctx, dir);
  }
  return rc;
}

}  // namespace

}  // namespace t4dx_bench
