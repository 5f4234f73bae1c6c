#include "flags.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace t4dx_bench {

const char* SyncModeName(SyncMode m) {
  switch (m) {
    case SyncMode::kAlways: return "always";
    case SyncMode::kInterval: return "interval";
    case SyncMode::kNone: return "none";
  }
  return "?";
}

bool Flags::HasSystem(const std::string& s) const {
  return std::find(systems.begin(), systems.end(), s) != systems.end();
}

namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

bool ParseSize(const std::string& flag, const std::string& v, size_t* out, std::string* error) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);  // accepts 1e5
  if (v.empty() || *end != '\0' || d < 0 || d > 1e15) {
    *error = flag + ": expected a non-negative number, got '" + v + "'";
    return false;
  }
  *out = static_cast<size_t>(d);
  return true;
}

bool ParseDouble(const std::string& flag, const std::string& v, double* out, std::string* error) {
  char* end = nullptr;
  *out = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') {
    *error = flag + ": expected a number, got '" + v + "'";
    return false;
  }
  return true;
}

}  // namespace

bool ParseFlags(int argc, char** argv, Flags* f, std::string* error) {
  for (int i = 0; i < argc; i++) {
    if (i) f->command += " ";
    f->command += argv[i];
  }
  if (argc < 2) {
    *error = "missing workload";
    return false;
  }
  f->workload = argv[1];
  static const char* kWorkloads[] = {"ingest", "ann", "filtered", "fresh", "mixed", "recovery"};
  if (std::find_if(std::begin(kWorkloads), std::end(kWorkloads),
                   [&](const char* w) { return f->workload == w; }) == std::end(kWorkloads)) {
    *error = "unknown workload '" + f->workload + "'";
    return false;
  }
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    std::string v;
    size_t eq = a.find('=');
    bool has_inline = a.rfind("--", 0) == 0 && eq != std::string::npos;
    if (has_inline) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto boolean = [&](bool* b) {
      *b = true;
      return true;
    };
    if (a == "--json") { boolean(&f->json); continue; }
    if (a == "--keep") { boolean(&f->keep); continue; }
    if (a == "--skip-rebuild") { boolean(&f->skip_rebuild); continue; }
    if (a == "--no-vectors") { boolean(&f->no_vectors); continue; }
    if (!has_inline) {
      if (i + 1 >= argc) {
        *error = a + ": missing value";
        return false;
      }
      v = argv[++i];
    }
    bool ok = true;
    if (a == "--base") f->base = v;
    else if (a == "--queries") f->queries = v;
    else if (a == "--gt") f->gt = v;
    else if (a == "--items") f->items = v;
    else if (a == "--data") {  // a folder in the big-ann-benchmarks layout
      f->base = v + "/base.fbin";
      f->queries = v + "/queries.fbin";
      f->gt = v + "/gt100.ibin";
      f->items = v + "/base.jsonl";
    } else if (a == "--synthetic") ok = ParseSize(a, v, &f->synthetic, error);
    else if (a == "--dim") {
      size_t d = 0;
      ok = ParseSize(a, v, &d, error);
      f->dim = static_cast<uint32_t>(d);
    } else if (a == "--clusters") ok = ParseSize(a, v, &f->clusters, error);
    else if (a == "--n") ok = ParseSize(a, v, &f->n, error);
    else if (a == "--nq") ok = ParseSize(a, v, &f->nq, error);
    else if (a == "--seed") {
      size_t s = 0;
      ok = ParseSize(a, v, &s, error);
      f->seed = s;
    } else if (a == "--M") ok = ParseSize(a, v, &f->m, error);
    else if (a == "--ef-construction") ok = ParseSize(a, v, &f->ef_construction, error);
    else if (a == "--ef") {
      f->ef.clear();
      for (auto& p : Split(v)) {
        size_t e = 0;
        if (!(ok = ParseSize(a, p, &e, error))) break;
        f->ef.push_back(e);
      }
    } else if (a == "--k") ok = ParseSize(a, v, &f->k, error);
    else if (a == "--build-threads") ok = ParseSize(a, v, &f->build_threads, error);
    else if (a == "--runs") ok = ParseSize(a, v, &f->runs, error);
    else if (a == "--filter-key") f->filter_key = v;
    else if (a == "--selectivity") {
      f->selectivity.clear();
      for (auto& p : Split(v)) {
        double d = 0;
        if (!(ok = ParseDouble(a, p, &d, error))) break;
        f->selectivity.push_back(d);
      }
    } else if (a == "--sync") {
      f->sync.clear();
      for (auto& p : Split(v)) {
        if (p == "always") f->sync.push_back(SyncMode::kAlways);
        else if (p == "interval") f->sync.push_back(SyncMode::kInterval);
        else if (p == "none") f->sync.push_back(SyncMode::kNone);
        else {
          *error = "--sync: expected always, interval or none (or a list), got '" + p + "'";
          return false;
        }
      }
    } else if (a == "--interval-ms") {
      size_t ms = 0;
      ok = ParseSize(a, v, &ms, error);
      f->interval_ms = static_cast<uint32_t>(ms);
    } else if (a == "--threads") {
      f->threads.clear();
      for (auto& p : Split(v)) {
        size_t t = 0;
        if (!(ok = ParseSize(a, p, &t, error))) break;
        f->threads.push_back(std::max<size_t>(1, t));
      }
    } else if (a == "--batch") ok = ParseSize(a, v, &f->batch, error);
    else if (a == "--fresh-items") ok = ParseSize(a, v, &f->fresh_items, error);
    else if (a == "--segments") ok = ParseSize(a, v, &f->segments, error);
    else if (a == "--segment-items") ok = ParseSize(a, v, &f->segment_items, error);
    else if (a == "--duration") ok = ParseDouble(a, v, &f->duration_s, error);
    else if (a == "--mixed-ef") ok = ParseSize(a, v, &f->mixed_ef, error);
    else if (a == "--systems") f->systems = Split(v);
    else if (a == "--dir") f->dir = v;
    else if (a == "--out") f->out = v;
    else {
      *error = "unknown option '" + a + "'";
      return false;
    }
    if (!ok) return false;
  }
  if (f->base.empty() && f->synthetic == 0) {
    *error = "give --base F.fbin (or --data DIR) or --synthetic N";
    return false;
  }
  if (f->batch == 0) f->batch = 1;
  if (f->k == 0 || f->ef.empty() || f->threads.empty() || f->sync.empty()) {
    *error = "--k, --ef, --threads and --sync need at least one positive value";
    return false;
  }
  return true;
}

const char* Usage() {
  return R"(usage: t4dx-bench <workload> (--data DIR | --base F.fbin [--queries Q.fbin --gt G.ibin
                   --items I.jsonl] | --synthetic N [--dim D --clusters C]) [options] [--json]

workloads
  ingest    items/s and MB/s until every item is durable and searchable; write amplification
  ann       recall@10 and single-thread queries/s per --ef; queries/s at recall@10 >= 0.95
  filtered  the same under a metadata filter keeping ~1%, 10%, 50% (--filter-key)
  fresh     search with --fresh-items unflushed items, and with --segments unindexed segments
  mixed     70/25/5 search/upsert/delete from --threads threads: ops/s, p50/p99 per op
  recovery  WAL replay rate; open time with a persisted index vs a rebuild

data        --n N (first N rows; more than the file cycles rows with new ids and noise)
            --nq N (first N queries)  --seed S
index       --M 16 --ef-construction 200 --ef 10,20,40,80,160,320 --k 10 --build-threads 1
            --runs 3 (timed passes over the queries per point; the fastest counts)
filtered    --filter-key KEY (default: section with --items, else bucket)
            --selectivity 0.01,0.1,0.5
writes      --sync always|interval|none (a list runs each) --interval-ms 100
            --threads 1,4 (a list runs each) --batch 1
            --no-vectors (ingest: the same items without embeddings, every system; the
            storage write path alone, for comparison)
fresh       --fresh-items 1000 --segments 4 --segment-items 1000
mixed       --duration 10 --mixed-ef 64
run         --systems t4dx,hnswlib,leveldb,rocksdb,sqlite,leveldb_hnswlib
            --dir SCRATCH --keep --json --out FILE.jsonl
)";
}

}  // namespace t4dx_bench
