#include "markdown_report.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "report.h"

namespace t4dx_bench {

namespace {

namespace fs = std::filesystem;

std::string g_plots;  // --plots DIR ("" = none)

struct Line {
  Result r;
  std::string machine, date, command, file;
  double load = -1;  // 1-minute load average when the result was emitted
};

std::string Num(const json& v, int digits = 3) {
  if (v.is_null()) return "–";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_number()) return v.dump();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  double d = v.get<double>();
  char buf[64];
  if (d == 0) return "0";
  if (std::abs(d) >= 100) std::snprintf(buf, sizeof buf, "%.0f", d);
  else if (std::abs(d) >= 10) std::snprintf(buf, sizeof buf, "%.1f", d);
  else std::snprintf(buf, sizeof buf, "%.*f", digits, d);
  return buf;
}

std::string Get(const Result& r, const char* key, int digits = 3) {
  if (r.figures.contains(key)) return Num(r.figures[key], digits);
  if (r.params.contains(key)) return Num(r.params[key], digits);
  return "–";
}

double GetD(const Result& r, const char* key, double dflt = 0) {
  if (r.figures.contains(key) && r.figures[key].is_number()) return r.figures[key].get<double>();
  if (r.params.contains(key) && r.params[key].is_number()) return r.params[key].get<double>();
  return dflt;
}

// False for ingest rows run with --no-vectors (the storage path alone): shown in the
// ingest table, kept out of the targets and the plot.
bool WithVectors(const Result& r) { return r.params.value("vectors", true); }

std::string MiB(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", bytes / 1048576.0);
  return buf;
}

// Markdown image lines for the plots of `names` that exist as SVG in dir.
std::string Images(const std::string& dir, const std::vector<std::string>& names) {
  std::string o;
  std::error_code ec;
  for (auto& n : names) {
    if (!dir.empty() && fs::exists(dir + "/" + n + ".svg", ec)) {
      o += "![" + n + "](" + dir + "/" + n + ".svg)\n";
    }
  }
  return o.empty() ? o : "\n" + o;
}

class Doc {
 public:
  explicit Doc(std::vector<Line> lines) : lines_(std::move(lines)) {}

  // Lines of one workload; the WebAssembly lines (`npm run bench`, systems "*-wasm-*")
  // only when wasm is true, and then only those.
  std::vector<const Line*> Select(const std::string& workload, bool summary = false,
                                  bool wasm = false) const {
    std::vector<const Line*> out;
    for (const Line& l : lines_) {
      if (l.r.workload != workload) continue;
      if ((l.r.system.find("-wasm") != std::string::npos) != wasm) continue;
      bool s = l.r.params.value("summary", false);
      if (s == summary) out.push_back(&l);
    }
    return out;
  }

  // "Machine, command(s), date(s)" for the lines a table used.
  static std::string Provenance(const std::vector<const Line*>& used) {
    std::set<std::string> machines;
    std::vector<std::pair<std::string, std::string>> runs;
    double lo = 1e9, hi = -1;
    for (const Line* l : used) {
      if (l->load >= 0) {
        lo = std::min(lo, l->load);
        hi = std::max(hi, l->load);
      }
      machines.insert(l->machine);
      std::pair<std::string, std::string> run{l->command, l->date};
      if (std::find(runs.begin(), runs.end(), run) == runs.end()) runs.push_back(run);
    }
    std::ostringstream o;
    for (auto& m : machines) {
      o << "\n*Machine:* " << m << "; 1-minute load average while measuring: ";
      if (hi >= 0) o << Num(lo, 1) << "–" << Num(hi, 1);
      else o << "not recorded";
      o << ".  \n";
    }
    for (auto& [cmd, date] : runs) o << "*Command* (" << date << "): `" << cmd << "`  \n";
    return o.str();
  }

 private:
  std::vector<Line> lines_;
};

void Ann(const Doc& doc, std::ostream& o) {
  auto rows = doc.Select("ann");
  if (rows.empty()) return;
  o << "## ANN search (`ann`)\n\nRecall@10 against exact search and single-thread queries/s "
       "(after a warm-up), T4DX next to plain hnswlib built with the same M and "
       "ef_construction over the same vectors in the same run.\n\n";
  o << "| system | ef | recall@10 | queries/s (wall) | queries/s (CPU) | p50 ms | p99 ms | "
       "T4DX/hnswlib, same ef (CPU) | T4DX/hnswlib, same recall (wall / CPU) |\n"
       "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Line* l : rows) {
    const Result& r = l->r;
    o << "| " << r.system << " | " << Get(r, "ef") << " | " << Get(r, "recall_at_10", 4) << " | "
      << Get(r, "qps") << " | " << Get(r, "qps_cpu") << " | " << Get(r, "p50_ms") << " | "
      << Get(r, "p99_ms") << " | " << Get(r, "qps_cpu_ratio_same_ef", 2) << " | "
      << Get(r, "qps_ratio_at_same_recall", 2) << " / " << Get(r, "qps_cpu_ratio_at_same_recall", 2)
      << " |\n";
  }
  auto sums = doc.Select("ann", true);
  o << "\n| system | n | queries/s at recall@10 ≥ 0.95, wall / CPU (ef) | ratio to hnswlib, "
       "wall / CPU | build vectors/s | index bytes/vector | peak RSS MiB | RSS over data, "
       "bytes/vector |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Line* l : sums) {
    const Result& r = l->r;
    o << "| " << r.system << " | " << Get(r, "n") << " | " << Get(r, "qps_at_recall_0.95")
      << " / " << Get(r, "qps_cpu_at_recall_0.95") << " (" << Get(r, "ef_at_recall_0.95")
      << ") | " << Get(r, "qps_ratio_at_recall_0.95", 2) << " / "
      << Get(r, "qps_cpu_ratio_at_recall_0.95", 2) << " | " << Get(r, "build_vectors_per_s")
      << " | " << Get(r, "index_bytes_per_vector") << " | " << MiB(GetD(r, "peak_rss_bytes"))
      << " | " << Get(r, "mem_bytes_per_vector") << " |\n";
  }
  o << Images(g_plots, {"ann"});
  rows.insert(rows.end(), sums.begin(), sums.end());
  o << Doc::Provenance(rows) << "\n";
}

void Filtered(const Doc& doc, std::ostream& o) {
  auto rows = doc.Select("filtered");
  if (rows.empty()) return;
  o << "## Filtered search (`filtered`)\n\nA metadata filter (`any_of` over values of the "
       "key) keeping about 1%, 10% and 50% of the items; recall@10 against the exact "
       "filtered answer. `hnswlib_postfilter`: plain hnswlib asked for ef candidates, "
       "non-matching ones dropped; `hnswlib_infilter`: hnswlib's filter functor inside the "
       "graph search. Each cell: recall@10 / queries/s (CPU time).\n\n";
  std::vector<std::string> efs;
  for (const Line* l : rows) {
    std::string e = Get(l->r, "ef");
    if (std::find(efs.begin(), efs.end(), e) == efs.end()) efs.push_back(e);
  }
  o << "| system | selectivity |";
  for (auto& e : efs) o << " ef " << e << " |";
  o << "\n|---|---:|";
  for (size_t i = 0; i < efs.size(); i++) o << "---:|";
  o << "\n";
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> cells;
  std::vector<std::pair<std::string, std::string>> order;
  for (const Line* l : rows) {
    auto key = std::make_pair(l->r.system, Get(l->r, "selectivity", 3));
    if (!cells.count(key)) order.push_back(key);
    cells[key][Get(l->r, "ef")] = Get(l->r, "recall_at_10", 3) + " / " + Get(l->r, "qps_cpu");
  }
  for (auto& key : order) {
    o << "| " << key.first << " | " << key.second << " |";
    for (auto& e : efs) o << " " << (cells[key].count(e) ? cells[key][e] : "–") << " |";
    o << "\n";
  }
  auto sums = doc.Select("filtered", true);
  o << "\n| system | selectivity | queries/s at recall@10 ≥ 0.95, wall / CPU (ef) | best "
       "recall@10 |\n|---|---:|---:|---:|\n";
  for (const Line* l : sums) {
    const Result& r = l->r;
    o << "| " << r.system << " | " << Get(r, "selectivity") << " | "
      << Get(r, "qps_at_recall_0.95") << " / " << Get(r, "qps_cpu_at_recall_0.95") << " ("
      << Get(r, "ef_at_recall_0.95") << ") | " << Get(r, "max_recall_at_10", 4) << " |\n";
  }
  o << Images(g_plots, {"filtered-1pct", "filtered-10pct", "filtered-50pct"});
  rows.insert(rows.end(), sums.begin(), sums.end());
  o << Doc::Provenance(rows) << "\n";
}

void Fresh(const Doc& doc, std::ostream& o) {
  auto rows = doc.Select("fresh");
  if (rows.empty()) return;
  o << "## Fresh data (`fresh`)\n\nSearch while recent writes are not in the HNSW: "
       "`memtable` = the last items unflushed in the MemTable, `segments` = the last items in "
       "flushed segments not indexed yet, `indexed` = everything in the HNSW (control). "
       "The state columns come from `Describe(kHnswStats)` at measurement time.\n\n"
       "| state | ef | recall@10 | queries/s (wall) | queries/s (CPU) | p50 ms | p99 ms | CPU "
       "qps vs indexed | MemTable vectors | unindexed segments | indexed vectors |\n"
       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Line* l : rows) {
    const Result& r = l->r;
    o << "| " << Get(r, "state") << " | " << Get(r, "ef") << " | " << Get(r, "recall_at_10", 4)
      << " | " << Get(r, "qps") << " | " << Get(r, "qps_cpu") << " | " << Get(r, "p50_ms")
      << " | " << Get(r, "p99_ms") << " | " << Get(r, "qps_cpu_ratio_vs_indexed", 2) << " | "
      << Get(r, "memtable_vectors")
      << " | " << Get(r, "unindexed_segments") << " | " << Get(r, "indexed_vectors") << " |\n";
  }
  o << Images(g_plots, {"fresh"});
  o << Doc::Provenance(rows) << "\n";
}

void Ingest(const Doc& doc, std::ostream& o) {
  auto rows = doc.Select("ingest");
  if (rows.empty()) return;
  o << "## Ingest (`ingest`)\n\nItems/s and MB/s (logical item bytes: id, kind, content, "
       "metadata, timestamp, 4 bytes per dimension) into a fresh store, timed until every "
       "item is durable per the mode and searchable (T4DX: Flush and the HNSW caught up; "
       "LevelDB + hnswlib: every vector added). Background merges are not waited for, "
       "as LevelDB's and RocksDB's compactions are not. Write amplification = bytes the process "
       "caused to be written to storage (`/proc/self/io`) / bytes ingested; space = store "
       "size / bytes ingested. `hnswlib` = vectors alone, nothing durable. Flush items/s "
       "(T4DX) = entries written per second spent flushing MemTables to segments, from "
       "the store's compaction history; stall ms = writers waiting for a flush. Rows marked "
       "(no vectors): the same items without embeddings (`--no-vectors`), the storage write "
       "path alone; they do not count for the targets.\n\n"
       "| system | sync | threads | batch | n | items/s | MB/s | acked after s | total s | "
       "write amp. | space amp. | disk bytes/vector | peak RSS MiB | flush items/s | "
       "stall ms |\n"
       "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Line* l : rows) {
    const Result& r = l->r;
    o << "| " << r.system << (WithVectors(r) ? "" : " (no vectors)") << " | " << Get(r, "sync")
      << " | " << Get(r, "threads") << " | "
      << Get(r, "batch") << " | " << Get(r, "n") << " | " << Get(r, "items_per_s") << " | "
      << Get(r, "MB_per_s", 2) << " | " << Get(r, "ack_seconds", 2) << " | "
      << Get(r, "seconds", 2) << " | " << Get(r, "write_amplification", 2) << " | "
      << Get(r, "space_amplification", 2) << " | " << Get(r, "disk_bytes_per_vector") << " | "
      << MiB(GetD(r, "peak_rss_bytes")) << " | " << Get(r, "flush_items_per_s") << " | "
      << Get(r, "write_stall_ms") << " |\n";
  }
  o << Images(g_plots, {"ingest"});
  o << Doc::Provenance(rows) << "\n";
}

void Mixed(const Doc& doc, std::ostream& o) {
  auto rows = doc.Select("mixed");
  if (rows.empty()) return;
  o << "## Mixed (`mixed`)\n\n70% searches / 25% upserts / 5% deletes from N threads against "
       "a store preloaded with 3/4 of the rows; latency per operation in ms.\n\n"
       "| system | sync | threads | ops/s | search p50 | search p99 | upsert p50 | upsert "
       "p99 | delete p50 | delete p99 | peak RSS MiB |\n"
       "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Line* l : rows) {
    const Result& r = l->r;
    o << "| " << r.system << " | " << Get(r, "sync") << " | " << Get(r, "threads") << " | "
      << Get(r, "ops_per_s") << " | " << Get(r, "search_p50_ms") << " | "
      << Get(r, "search_p99_ms") << " | " << Get(r, "upsert_p50_ms") << " | "
      << Get(r, "upsert_p99_ms") << " | " << Get(r, "delete_p50_ms") << " | "
      << Get(r, "delete_p99_ms") << " | " << MiB(GetD(r, "peak_rss_bytes")) << " |\n";
  }
  o << Doc::Provenance(rows) << "\n";
}

void Recovery(const Doc& doc, std::ostream& o) {
  auto rows = doc.Select("recovery");
  if (rows.empty()) return;
  o << "## Recovery (`recovery`)\n\nA child process writes every item (sync none, one "
       "item per write, nothing flushed from the log) and dies without closing; the store is "
       "then opened and the last item read. Rates are over the open: log bytes / open s "
       "and items / open s. For T4DX the engine's own replay figure (WAL parsing and "
       "MemTable apply only) is shown too. LevelDB + hnswlib must rebuild its index "
       "after a crash, so its open includes the rebuild.\n\n"
       "| system | items | log MiB | open s | replay items/s | replay MB/s (log) | engine "
       "replay items/s | engine replay MB/s | peak RSS MiB |\n"
       "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  std::vector<const Line*> used;
  for (const Line* l : rows) {
    const Result& r = l->r;
    if (r.params.value("phase", "") != "wal_replay") continue;
    used.push_back(l);
    o << "| " << r.system << " | " << Get(r, "items") << " | " << MiB(GetD(r, "log_bytes"))
      << " | " << Get(r, "open_s") << " | " << Get(r, "replay_entries_per_s") << " | "
      << Get(r, "replay_MB_per_s") << " | " << Get(r, "engine_replay_entries_per_s") << " | "
      << Get(r, "engine_replay_MB_per_s") << " | " << MiB(GetD(r, "peak_rss_bytes")) << " |\n";
  }
  o << "\nOpen time with the index persisted by a clean close vs rebuilt (index file "
       "removed), each timed until the store answers searches from its index; each figure is "
       "the fastest of `--runs` opens (3 by default):\n\n"
       "| system | n | open s (persisted index) | open s (rebuild) | rebuild / open | index "
       "file MiB | store bytes/vector |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Line* l : rows) {
    const Result& r = l->r;
    if (r.params.value("phase", "") != "index_open") continue;
    used.push_back(l);
    o << "| " << r.system << " | " << Get(r, "n") << " | " << Get(r, "open_s") << " | "
      << Get(r, "rebuild_s") << " | " << Get(r, "rebuild_over_open", 1) << " | "
      << MiB(GetD(r, "index_file_bytes")) << " | " << Get(r, "disk_bytes_per_vector") << " |\n";
  }
  o << Doc::Provenance(used) << "\n";
}

const Line* Find(const std::vector<const Line*>& rows, const std::string& system,
                 const std::function<bool(const Result&)>& pred) {
  for (const Line* l : rows) {
    if (l->r.system == system && pred(l->r)) return l;
  }
  return nullptr;
}

std::string Verdict(bool measured, bool pass) {
  return !measured ? "not measured" : pass ? "**met**" : "**not met**";
}

void Targets(const Doc& doc, std::ostream& o) {
  o << "## Targets (issue 8)\n\n| target | measured | verdict |\n|---|---|---|\n";
  std::vector<const Line*> used;
  // Search: >= 0.9x hnswlib queries/s at equal recall.
  {
    auto sums = doc.Select("ann", true);
    const Line* t = Find(sums, "t4dx", [](const Result&) { return true; });
    auto rows = doc.Select("ann");
    std::string per;
    for (const Line* l : rows) {
      if (l->r.system == "t4dx" && l->r.figures.contains("qps_cpu_ratio_at_same_recall")) {
        per += (per.empty() ? "" : ", ") + Get(l->r, "ef") + ": " +
               Num(l->r.figures["qps_cpu_ratio_at_same_recall"], 2);
        used.push_back(l);
      }
    }
    double at95 = t ? GetD(t->r, "qps_cpu_ratio_at_recall_0.95") : 0;
    double at95w = t ? GetD(t->r, "qps_ratio_at_recall_0.95") : 0;
    if (t) used.push_back(t);
    o << "| search: queries/s at equal recall@10 ≥ 0.9 × plain hnswlib | at recall ≥ 0.95: "
      << Num(at95, 2) << "× by CPU time (" << Num(at95w, 2) << "× by wall time); per ef, at "
      << "hnswlib's best for the same recall (CPU): " << (per.empty() ? "–" : per) << " | "
      << Verdict(t != nullptr, at95 >= 0.9) << " |\n";
  }
  // Filtered: recall >= 0.95 at every selectivity; qps above post-filtering at 1%.
  {
    auto sums = doc.Select("filtered", true);
    double min_recall = 1e9;
    bool any = false;
    std::string per;
    for (const Line* l : sums) {
      if (l->r.system != "t4dx") continue;
      any = true;
      used.push_back(l);
      min_recall = std::min(min_recall, GetD(l->r, "max_recall_at_10"));
      per += (per.empty() ? "" : ", ") + Num(GetD(l->r, "selectivity") * 100, 1) + "%: " +
             Num(l->r.figures["max_recall_at_10"], 3);
    }
    o << "| filtered: recall@10 ≥ 0.95 at every selectivity | best recall per selectivity: "
      << (any ? per : "–") << " | " << Verdict(any, min_recall >= 0.95) << " |\n";
    const Line* t = nullptr;
    const Line* p = nullptr;
    for (const Line* l : sums) {
      if (GetD(l->r, "target_selectivity") > 0.015) continue;
      if (l->r.system == "t4dx") t = l;
      if (l->r.system == "hnswlib_postfilter") p = l;
    }
    if (t && p) {
      double qt = GetD(t->r, "qps_cpu_at_recall_0.95"), qp = GetD(p->r, "qps_cpu_at_recall_0.95");
      used.push_back(t);
      used.push_back(p);
      o << "| filtered at 1%: queries/s above hnswlib post-filtering | T4DX " << Num(qt)
        << " q/s (CPU) at recall ≥ 0.95; post-filtering "
        << (qp > 0 ? Num(qp) + " q/s" : "never reaches recall 0.95 (best " +
                                            Num(p->r.figures["max_recall_at_10"], 3) + ")")
        << " | " << Verdict(true, qt > qp) << " |\n";
    } else {
      o << "| filtered at 1%: queries/s above hnswlib post-filtering | – | not measured |\n";
    }
  }
  // Ingest: durable, 4 threads, >= LevelDB sync=true and LevelDB + hnswlib, same batching.
  {
    auto rows = doc.Select("ingest");
    std::vector<std::string> batches;
    for (const Line* l : rows) {
      if (l->r.system == "t4dx" && Get(l->r, "sync") == "always" && GetD(l->r, "threads") == 4 &&
          WithVectors(l->r)) {
        std::string b = Get(l->r, "batch");
        if (std::find(batches.begin(), batches.end(), b) == batches.end()) batches.push_back(b);
      }
    }
    if (batches.empty()) {
      o << "| ingest (always, 4 threads) ≥ LevelDB sync=true and LevelDB + hnswlib | – | not "
           "measured |\n";
    }
    for (auto& b : batches) {
      auto match = [&](const Result& r) {
        return Get(r, "sync") == "always" && GetD(r, "threads") == 4 && Get(r, "batch") == b &&
               WithVectors(r);
      };
      const Line* t = Find(rows, "t4dx", match);
      const Line* lv = Find(rows, "leveldb", match);
      const Line* lh = Find(rows, "leveldb_hnswlib", match);
      double qt = GetD(t->r, "items_per_s");
      double ql = lv ? GetD(lv->r, "items_per_s") : 0, qh = lh ? GetD(lh->r, "items_per_s") : 0;
      for (const Line* l : {t, lv, lh}) {
        if (l) used.push_back(l);
      }
      o << "| ingest (always, 4 threads, batch " << b << ") ≥ LevelDB sync=true and LevelDB + "
        << "hnswlib | T4DX " << Num(qt) << " items/s; LevelDB " << (lv ? Num(ql) : "–")
        << "; LevelDB + hnswlib " << (lh ? Num(qh) : "–") << " | "
        << Verdict(lv && lh, qt >= ql && qt >= qh) << " |\n";
    }
  }
  // Recovery: replay MB/s >= LevelDB's; persisted-index open >= 50x faster than rebuild.
  {
    auto rows = doc.Select("recovery");
    auto replay = [](const Result& r) { return r.params.value("phase", "") == "wal_replay"; };
    auto index = [](const Result& r) { return r.params.value("phase", "") == "index_open"; };
    const Line* t = Find(rows, "t4dx", replay);
    const Line* l = Find(rows, "leveldb", replay);
    if (t && l) {
      used.push_back(t);
      used.push_back(l);
      double mt = GetD(t->r, "replay_MB_per_s"), ml = GetD(l->r, "replay_MB_per_s");
      double it = GetD(t->r, "replay_entries_per_s"), il = GetD(l->r, "replay_entries_per_s");
      o << "| recovery: WAL replay ≥ LevelDB log recovery (MB/s) | T4DX " << Num(mt)
        << " MB/s (" << Num(it) << " items/s); LevelDB " << Num(ml) << " MB/s (" << Num(il)
        << " items/s) | " << Verdict(true, mt >= ml) << " |\n";
    } else {
      o << "| recovery: WAL replay ≥ LevelDB log recovery (MB/s) | – | not measured |\n";
    }
    const Line* ti = Find(rows, "t4dx", index);
    if (ti) {
      used.push_back(ti);
      double ratio = GetD(ti->r, "rebuild_over_open");
      o << "| recovery: open with persisted index ≥ 50× faster than a rebuild | "
        << Num(GetD(ti->r, "open_s")) << " s vs " << Num(GetD(ti->r, "rebuild_s")) << " s: "
        << Num(ratio, 1) << "× (n = " << Get(ti->r, "n") << ") | " << Verdict(true, ratio >= 50)
        << " |\n";
    } else {
      o << "| recovery: open with persisted index ≥ 50× faster than a rebuild | – | not "
           "measured |\n";
    }
  }
  // WASM: within 2x of native for search, 3x for durable ingest (npm run bench, which
  // measures native t4dx on the same rows in the same run). One row each, so that one
  // verdict does not hide the other.
  {
    std::string search;
    bool measured = false, pass = true;
    for (const Line* l : doc.Select("ann", true, true)) {
      if (l->r.system.rfind("t4dx-wasm", 0) != 0) continue;
      const double x = GetD(l->r, "native_over_wasm_qps_at_recall_0.95");
      if (x <= 0) continue;
      measured = true;
      pass = pass && x <= 2.0;
      search += (search.empty() ? "" : ", ") + l->r.system.substr(10) + " " + Num(x, 2) + "×";
      used.push_back(l);
    }
    o << "| WASM search within 2× of native (queries/s at recall@10 ≥ 0.95) | native/WASM: "
      << (search.empty() ? "–" : search) << " | " << Verdict(measured, pass) << " |\n";
  }
  {
    std::string ingest;
    bool measured = false, pass = true;
    for (const Line* l : doc.Select("ingest", false, true)) {
      const double x = GetD(l->r, "native_over_wasm_items_per_s");
      if (x <= 0 || Get(l->r, "sync") != "always") continue;
      measured = true;
      pass = pass && x <= 3.0;
      ingest += (ingest.empty() ? "" : ", ") + l->r.system.substr(10) + " batch " +
                Get(l->r, "batch") + " " + Num(x, 2) + "×";
      used.push_back(l);
    }
    o << "| WASM durable ingest within 3× of native (items/s) | native/WASM: "
      << (ingest.empty() ? "–" : ingest) << " | " << Verdict(measured, pass) << " |\n";
  }
  o << Doc::Provenance(used) << "\n";
}

void Wasm(const Doc& doc, std::ostream& o) {
  auto ingest = doc.Select("ingest", false, true);
  auto ann = doc.Select("ann", false, true);
  auto sums = doc.Select("ann", true, true);
  if (ingest.empty() && ann.empty()) return;
  o << "## WebAssembly (`cd npm && npm run bench`)\n\nThe npm package (one `.wasm`) in Node "
       "(files through `fs`) and in headless Chromium (OPFS in a dedicated Worker), with "
       "native `t4dx` measured by `t4dx-bench` on the same rows in the same run; "
       "`hnswlib-wasm-chromium` is the hnswlib-wasm npm package in the same page. "
       "native/WASM = how many times the native figure is larger. Ingest is timed until "
       "every item is durable and indexed; merges are not waited for (natively they run on "
       "the compactor thread; in WebAssembly they wait until writes pause): *merges* ran "
       "within the time, *later* is what was left, run untimed right after (`maintain()`).\n\n"
       "| system | sync | batch | n | items/s | native items/s | native/WASM | merges | "
       "later merges (s) |\n"
       "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Line* l : ingest) {
    const Result& r = l->r;
    o << "| " << r.system << " | " << Get(r, "sync") << " | " << Get(r, "batch") << " | "
      << Get(r, "n") << " | " << Get(r, "items_per_s") << " | " << Get(r, "native_items_per_s")
      << " | " << Get(r, "native_over_wasm_items_per_s", 2) << " | " << Get(r, "merges")
      << " | " << Get(r, "later_merges") << " (" << Get(r, "later_maintenance_s", 2)
      << ") |\n";
  }
  o << "\n| system | ef | recall@10 | queries/s | native queries/s | native/WASM |\n"
       "|---|---:|---:|---:|---:|---:|\n";
  for (const Line* l : ann) {
    const Result& r = l->r;
    o << "| " << r.system << " | " << Get(r, "ef") << " | " << Get(r, "recall_at_10", 4)
      << " | " << Get(r, "qps") << " | " << Get(r, "native_qps") << " | "
      << Get(r, "native_over_wasm_qps_same_ef", 2) << " |\n";
  }
  o << "\n| system | n | queries/s at recall@10 ≥ 0.95 (ef) | native | native/WASM | "
       "vs hnswlib-wasm |\n|---|---:|---:|---:|---:|---:|\n";
  for (const Line* l : sums) {
    const Result& r = l->r;
    o << "| " << r.system << " | " << Get(r, "n") << " | " << Get(r, "qps_at_recall_0.95")
      << " (" << Get(r, "ef_at_recall_0.95") << ") | " << Get(r, "native_qps_at_recall_0.95")
      << " | " << Get(r, "native_over_wasm_qps_at_recall_0.95", 2) << " | "
      << Get(r, "qps_ratio_to_hnswlib_wasm_at_recall_0.95", 2) << " |\n";
  }
  o << Images(g_plots, {"wasm"});
  std::vector<const Line*> all = ingest;
  all.insert(all.end(), ann.begin(), ann.end());
  o << Doc::Provenance(all) << "\n";
}

// ---- plots: gnuplot data and scripts (rendered to SVG by scripts/bench.sh) ----

std::string GpQuote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("''") : std::string(1, c);
  return o + "'";
}

const char* kGpHead =
    "set terminal svg size 760,480 dynamic font 'sans,12' background '#ffffff'\n"
    "set grid\nset key outside right top\n";

// A recall@10 vs queries/s plot of the rows whose key (system, or system + state) groups
// them, one curve per group.
void CurvePlot(const std::string& dir, const std::string& name, const std::string& title,
               const std::vector<const Line*>& rows,
               const std::function<std::string(const Result&)>& group) {
  if (rows.empty()) return;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<const Result*>> by;
  for (const Line* l : rows) {
    std::string g = group(l->r);
    if (!by.count(g)) groups.push_back(g);
    by[g].push_back(&l->r);
  }
  std::ofstream dat(dir + "/" + name + ".dat");
  for (auto& g : groups) {
    dat << "# " << g << "\n";
    for (const Result* r : by[g]) {
      double q = r->figures.contains("qps_cpu") ? GetD(*r, "qps_cpu") : GetD(*r, "qps");
      dat << GetD(*r, "ef") << " " << GetD(*r, "recall_at_10") << " " << q << "\n";
    }
    dat << "\n\n";
  }
  std::ofstream gp(dir + "/" + name + ".gp");
  gp << kGpHead << "set output " << GpQuote(name + ".svg") << "\nset title " << GpQuote(title)
     << "\nset xlabel 'recall@10'\nset ylabel 'queries/s (1 thread, CPU time)'\nset logscale y\n"
     << "plot ";
  for (size_t i = 0; i < groups.size(); i++) {
    gp << (i ? ", \\\n     " : "") << GpQuote(name + ".dat") << " index " << i
       << " using 2:3 with linespoints lw 2 pt 7 title " << GpQuote(groups[i]);
  }
  gp << "\n";
}

void IngestPlot(const std::string& dir, const std::vector<const Line*>& rows) {
  if (rows.empty()) return;
  std::vector<std::string> systems, cols;
  std::map<std::pair<std::string, std::string>, double> v;
  for (const Line* l : rows) {
    const Result& r = l->r;
    if (!WithVectors(r)) continue;
    std::string col = Get(r, "sync") + " b" + Get(r, "batch") + " t" + Get(r, "threads");
    if (std::find(systems.begin(), systems.end(), r.system) == systems.end()) {
      systems.push_back(r.system);
    }
    if (std::find(cols.begin(), cols.end(), col) == cols.end()) cols.push_back(col);
    v[{r.system, col}] = GetD(r, "items_per_s");
  }
  std::ofstream dat(dir + "/ingest.dat");
  dat << "system";
  for (auto& c : cols) dat << " \"" << c << "\"";
  dat << "\n";
  for (auto& s : systems) {
    dat << s;
    for (auto& c : cols) {
      auto it = v.find({s, c});
      dat << " " << (it == v.end() ? std::string("NaN") : std::to_string(it->second));
    }
    dat << "\n";
  }
  std::ofstream gp(dir + "/ingest.gp");
  gp << kGpHead << "set output 'ingest.svg'\nset title 'ingest: items/s until durable and "
     << "searchable (sync mode, batch, threads)'\nset ylabel 'items/s'\nset logscale y\n"
     << "set style data histograms\nset style histogram clustered gap 1\n"
     << "set style fill solid 0.8 border -1\nset xtics rotate by -30\n"
     << "set terminal svg size 960,520 dynamic font 'sans,12' background '#ffffff'\n"
     << "plot for [c=2:" << cols.size() + 1 << "] 'ingest.dat' using c:xtic(1) title "
     << "columnheader(c)\n";
}

void WritePlots(const Doc& doc, const std::string& dir) {
  fs::create_directories(dir);
  CurvePlot(dir, "ann", "ann: recall@10 vs queries/s", doc.Select("ann"),
            [](const Result& r) { return r.system; });
  // WebAssembly next to native t4dx on the same rows (its figures ride on the Node lines).
  {
    static std::vector<Line> native;  // referenced by pointer until the plot is written
    native.clear();
    auto wasm = doc.Select("ann", false, true);
    for (const Line* l : wasm) {
      if (l->r.system != "t4dx-wasm-node" || !l->r.figures.contains("native_qps")) continue;
      Line n = *l;
      n.r.system = "t4dx native (same rows)";
      n.r.figures = json{{"qps", l->r.figures["native_qps"]},
                         {"recall_at_10", l->r.figures.value("native_recall_at_10",
                                                             l->r.figures["recall_at_10"])}};
      native.push_back(n);
    }
    for (const Line& n : native) wasm.push_back(&n);
    CurvePlot(dir, "wasm", "WebAssembly vs native: recall@10 vs queries/s", wasm,
              [](const Result& r) { return r.system; });
  }
  auto filtered = doc.Select("filtered");
  std::map<std::string, std::vector<const Line*>> by_sel;
  for (const Line* l : filtered) by_sel[Get(l->r, "target_selectivity", 2)].push_back(l);
  for (auto& [sel, rows] : by_sel) {
    std::string pct = std::to_string(int(std::stod(sel) * 100 + 0.5));
    CurvePlot(dir, "filtered-" + pct + "pct",
              "filtered (~" + pct + "% of items kept): recall@10 vs queries/s", rows,
              [](const Result& r) { return r.system; });
  }
  CurvePlot(dir, "fresh", "fresh: recall@10 vs queries/s per state", doc.Select("fresh"),
            [](const Result& r) { return "t4dx " + Get(r, "state"); });
  IngestPlot(dir, doc.Select("ingest"));
}

bool ReadLines(const std::string& dir, std::vector<Line>* out, std::string* error) {
  std::error_code ec;
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".jsonl") files.push_back(e.path().string());
  }
  if (ec) {
    *error = dir + ": " + ec.message();
    return false;
  }
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    std::ifstream in(f);
    std::string s;
    size_t n = 0;
    while (std::getline(in, s)) {
      n++;
      json j = json::parse(s, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        *error = f + ":" + std::to_string(n) + ": not a JSON object";
        return false;
      }
      Line l;
      ResultFromLine(s, &l.r);
      l.machine = j.value("machine", "");
      l.date = j.value("date", "");
      l.command = j.value("command", "");
      l.load = j.value("load_average", -1.0);
      l.file = f;
      out->push_back(std::move(l));
    }
  }
  return true;
}

}  // namespace

int RunReport(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: t4dx-bench report RESULTS_DIR [--out FILE]\n";
    return 2;
  }
  std::string dir = argv[2], out_path;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--out") out_path = argv[i + 1];
    if (std::string(argv[i]) == "--plots") g_plots = argv[i + 1];
  }
  std::vector<Line> lines;
  std::string error;
  if (!ReadLines(dir, &lines, &error)) {
    std::cerr << "t4dx-bench report: " << error << "\n";
    return 1;
  }
  Doc doc(std::move(lines));
  if (!g_plots.empty()) WritePlots(doc, g_plots);
  std::ostringstream o;
  Targets(doc, o);
  Ann(doc, o);
  Filtered(doc, o);
  Fresh(doc, o);
  Ingest(doc, o);
  Mixed(doc, o);
  Recovery(doc, o);
  Wasm(doc, o);
  if (out_path.empty()) {
    std::cout << o.str();
  } else {
    std::ofstream f(out_path);
    f << o.str();
    if (!f) {
      std::cerr << "t4dx-bench report: cannot write " << out_path << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace t4dx_bench
