// Helpers shared by the workloads: parameters every result carries, memory figures,
// batches of items, and the timed single-thread search loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "report.h"
#include "t4dx/engine.h"
#include "workloads.h"

namespace t4dx_bench {

// n, dim, data source, M, ef_construction.
json BaseParams(const Context& ctx);

// Peak-memory bookkeeping for one system: Start() records the baseline RSS and resets the
// peak; Figures() adds peak_rss_bytes, rss_over_baseline_bytes and mem_bytes_per_vector.
class MemoryProbe {
 public:
  void Start();
  void Figures(size_t vectors, json* figures) const;

 private:
  uint64_t baseline_ = 0;
};

// Items [begin, end) of the data set in batches of `batch` (the last may be shorter).
std::vector<std::vector<t4dx::Item>> MakeBatches(const Dataset& d, size_t begin, size_t end,
                                                 size_t batch);

// id -> row over the data set, to score search results.
std::unordered_map<std::string, uint32_t> RowsById(const Dataset& d);

// What one search returns: rows (the peers on plain hnswlib, whose labels are rows) or ids
// (T4DX), best first. Ids are mapped to rows after the timed loop, so the mapping is not
// counted in the system's queries/s.
struct SearchOut {
  std::vector<int64_t> rows;
  std::vector<std::string> ids;
};
// One search: the top-k of query q at ef into *out. False on error.
using SearchFn = std::function<bool(size_t q, size_t ef, SearchOut* out)>;

struct SearchFigures {
  double recall = 0;
  double qps = 0;      // queries / wall seconds of the fastest pass
  double qps_cpu = 0;  // queries / CPU seconds of this thread, over the least-CPU pass
  double p50_ms = 0;
  double p99_ms = 0;
  std::string error;  // non-empty when a search failed
};
// Runs the first 200 queries untimed (warm-up: caches, lazy loads), then `runs` timed
// passes over every query on this thread, keeping the fastest pass (qps, p50, p99) and the
// pass that used the least CPU time (qps_cpu: immune to time spent descheduled); recall
// against gt (gt_k per query). rows_by_id maps SearchOut::ids (null when the system
// returns rows).
SearchFigures TimeSearches(const Dataset& d, size_t ef, size_t k, const SearchFn& fn,
                           const std::vector<uint32_t>& gt, size_t gt_k,
                           const std::unordered_map<std::string, uint32_t>* rows_by_id,
                           size_t runs);

// The figures of one ef point, with "qps_at_recall_0.95" helpers.
struct CurvePoint {
  size_t ef;
  double recall;
  double qps;
};
// Highest qps among points with recall >= target (0 when none reaches it); *ef gets its ef.
double QpsAtRecall(const std::vector<CurvePoint>& curve, double target, size_t* ef);
// The best qps the curve reaches at `recall` or more: on its Pareto frontier, interpolated
// (log qps, linear in recall) between neighbouring points; 0 when recall lies outside.
double InterpolateQps(const std::vector<CurvePoint>& curve, double recall);

// T4DX: writes rows [begin, end) with PutBatch (1000 per batch), Flush, waits until the
// HNSW covers every stored vector, then Compact (one segment, so no merge runs in the
// background afterwards) and waits again.
t4dx::Status LoadT4dx(t4dx::Engine* db, const Dataset& d, size_t begin, size_t end);
// Brings a loaded store to rest before timed searches: Compact (everything merged and
// indexed), Close (index saved), Open again, wait until searchable. *db is replaced.
t4dx::Status SettleT4dx(const t4dx::Options& options, const std::string& dir,
                        std::unique_ptr<t4dx::Engine>* db);
// A SearchFn over an engine (k results, optional filter, no items, ids out). The query
// vectors are copied into the API's std::vector<float> once, up front.
SearchFn T4dxSearchFn(t4dx::Engine* db, const Dataset& d, size_t k, const t4dx::Filter* filter);

// Runs body in a forked child process, so each system is measured alone: its peak RSS
// (VmHWM), /proc/self/io and heap start from the parent's state, not from the previous
// system's leftovers. The child's Emit calls come back as *results (the parent emits
// them, possibly after adding figures). Returns the child's exit code (1 if it crashed).
// REQUIRES: no other thread running in this process.
int RunIsolated(Context& ctx, const std::function<int()>& body, std::vector<Result>* results);
// RunIsolated, then Emit every result.
int RunIsolatedAndEmit(Context& ctx, const std::function<int()>& body);

// The selected systems: flags --systems, or `defaults`.
std::vector<std::string> Systems(const Context& ctx, const std::vector<std::string>& defaults);

// A fresh directory below the scratch directory.
std::string FreshDir(const Context& ctx, const std::string& name);
void DropDir(const Context& ctx, const std::string& dir);

}  // namespace t4dx_bench
