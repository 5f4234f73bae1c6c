#include "workload_common.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <sys/wait.h>
#include <unistd.h>

#include "ground_truth.h"
#include "peer_t4dx.h"
#include "sysstat.h"

namespace t4dx_bench {

json BaseParams(const Context& ctx) {
  json p;
  p["n"] = ctx.data.n;
  p["dim"] = ctx.data.dim;
  p["data"] = ctx.data.source;
  p["M"] = ctx.flags.m;
  p["ef_construction"] = ctx.flags.ef_construction;
  return p;
}

void MemoryProbe::Start() {
  baseline_ = CurrentRssBytes();
  ResetPeakRss();
}

void MemoryProbe::Figures(size_t vectors, json* f) const {
  uint64_t peak = std::max(PeakRssBytes(), CurrentRssBytes());
  (*f)["peak_rss_bytes"] = peak;
  (*f)["rss_over_baseline_bytes"] = peak > baseline_ ? peak - baseline_ : 0;
  (*f)["mem_bytes_per_vector"] =
      vectors ? double(peak > baseline_ ? peak - baseline_ : 0) / double(vectors) : 0.0;
}

std::vector<std::vector<t4dx::Item>> MakeBatches(const Dataset& d, size_t begin, size_t end,
                                                 size_t batch) {
  std::vector<std::vector<t4dx::Item>> out;
  for (size_t i = begin; i < end; i += batch) {
    std::vector<t4dx::Item> b;
    for (size_t j = i; j < std::min(end, i + batch); j++) b.push_back(d.MakeItem(j));
    out.push_back(std::move(b));
  }
  return out;
}

std::unordered_map<std::string, uint32_t> RowsById(const Dataset& d) {
  std::unordered_map<std::string, uint32_t> m;
  m.reserve(d.n);
  for (size_t i = 0; i < d.n; i++) m[d.ids[i]] = uint32_t(i);
  return m;
}

SearchFigures TimeSearches(const Dataset& d, size_t ef, size_t k, const SearchFn& fn,
                           const std::vector<uint32_t>& gt, size_t gt_k,
                           const std::unordered_map<std::string, uint32_t>* rows_by_id,
                           size_t runs) {
  SearchFigures f;
  std::vector<SearchOut> out(d.nq);
  std::vector<double> lat(d.nq);
  for (size_t q = 0; q < std::min<size_t>(d.nq, 200); q++) {
    if (!fn(q, ef, &out[q])) {
      f.error = "search failed at query " + std::to_string(q);
      return f;
    }
  }
  // The best of `runs` timed passes: the machine is shared, and a pass disturbed by another
  // process says nothing about the system under test.
  double secs = 1e300, cpu = 1e300;
  std::vector<double> pass(d.nq);
  for (size_t run = 0; run < std::max<size_t>(1, runs); run++) {
    double c0 = ThreadCpuNow();
    double t0 = Now();
    for (size_t q = 0; q < d.nq; q++) {
      double s = Now();
      if (!fn(q, ef, &out[q])) {
        f.error = "search failed at query " + std::to_string(q);
        return f;
      }
      pass[q] = (Now() - s) * 1e3;
    }
    double elapsed = Now() - t0;
    cpu = std::min(cpu, ThreadCpuNow() - c0);
    if (elapsed < secs) {
      secs = elapsed;
      lat = pass;
    }
  }
  std::vector<std::vector<int64_t>> found(d.nq);
  for (size_t q = 0; q < d.nq; q++) {
    if (rows_by_id && !out[q].ids.empty()) {
      for (const std::string& id : out[q].ids) {
        auto it = rows_by_id->find(id);
        found[q].push_back(it == rows_by_id->end() ? -1 : int64_t(it->second));
      }
    } else {
      found[q] = out[q].rows;
    }
  }
  f.qps = secs > 0 ? double(d.nq) / secs : 0;
  f.qps_cpu = cpu > 0 ? double(d.nq) / cpu : 0;
  f.recall = RecallAtK(found, gt, gt_k, k);
  f.p50_ms = Percentile(&lat, 0.5);
  f.p99_ms = Percentile(&lat, 0.99);
  return f;
}

double QpsAtRecall(const std::vector<CurvePoint>& curve, double target, size_t* ef) {
  double best = 0;
  *ef = 0;
  for (const auto& p : curve) {
    if (p.recall >= target && p.qps > best) {
      best = p.qps;
      *ef = p.ef;
    }
  }
  return best;
}

double InterpolateQps(const std::vector<CurvePoint>& curve, double recall) {
  // The Pareto frontier: for each point, the best qps among points with at least its recall.
  std::vector<CurvePoint> c = curve;
  std::sort(c.begin(), c.end(), [](const CurvePoint& a, const CurvePoint& b) {
    return a.recall < b.recall || (a.recall == b.recall && a.qps > b.qps);
  });
  for (size_t i = c.size(); i-- > 1;) c[i - 1].qps = std::max(c[i - 1].qps, c[i].qps);
  for (size_t i = 0; i < c.size(); i++) {
    if (std::fabs(c[i].recall - recall) < 1e-9) return c[i].qps;
    if (i + 1 < c.size() && recall > c[i].recall && recall < c[i + 1].recall) {
      double t = (recall - c[i].recall) / (c[i + 1].recall - c[i].recall);
      return std::exp(std::log(c[i].qps) + t * (std::log(c[i + 1].qps) - std::log(c[i].qps)));
    }
  }
  return 0;  // outside the measured range
}

Status SettleT4dx(const t4dx::Options& options, const std::string& dir,
                  std::unique_ptr<t4dx::Engine>* db) {
  Status s = (*db)->Compact();
  if (s.ok()) s = T4dxWaitSearchable(db->get(), nullptr, 3600);
  if (s.ok()) s = (*db)->Close();
  db->reset();
  if (s.ok()) s = t4dx::Engine::Open(options, dir, db);
  if (s.ok()) s = T4dxWaitSearchable(db->get(), nullptr, 3600);
  return s;
}

Status LoadT4dx(t4dx::Engine* db, const Dataset& d, size_t begin, size_t end) {
  for (auto& b : MakeBatches(d, begin, end, 1000)) T4DX_RETURN_IF_ERROR(db->PutBatch(b));
  T4DX_RETURN_IF_ERROR(T4dxWaitSearchable(db));
  // Then one segment: otherwise the compactor's tiered merges go on in the background
  // while searches are timed (measured: ~20% of the samples of an ann run).
  T4DX_RETURN_IF_ERROR(db->Compact());
  return T4dxWaitSearchable(db);
}

SearchFn T4dxSearchFn(t4dx::Engine* db, const Dataset& d, size_t k, const t4dx::Filter* filter) {
  auto queries = std::make_shared<std::vector<std::vector<float>>>(d.nq);
  for (size_t q = 0; q < d.nq; q++) (*queries)[q].assign(d.query(q), d.query(q) + d.dim);
  t4dx::SearchOptions o;
  o.k = k;
  o.include_items = false;
  if (filter) o.filter = *filter;
  return [db, queries, o](size_t q, size_t ef, SearchOut* out) mutable {
    o.ef = ef;
    t4dx::SearchResult res;
    if (!db->Search((*queries)[q], o, &res).ok()) return false;
    out->ids.resize(res.hits.size());
    for (size_t i = 0; i < res.hits.size(); i++) out->ids[i] = std::move(res.hits[i].id);
    return true;
  };
}

int RunIsolated(Context& ctx, const std::function<int()>& body, std::vector<Result>* results) {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    ctx.out.Note("fork failed");
    return 1;
  }
  if (pid == 0) {
    close(fds[0]);
    ctx.out.CaptureTo(fds[1]);
    int rc = body();
    close(fds[1]);
    std::cout.flush();
    std::cerr.flush();
    _exit(rc);
  }
  close(fds[1]);
  std::string data;
  char buf[65536];
  ssize_t r;
  while ((r = read(fds[0], buf, sizeof buf)) > 0) data.append(buf, size_t(r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  size_t start = 0;
  while (start < data.size()) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) nl = data.size();
    Result res;
    if (ResultFromLine(data.substr(start, nl - start), &res)) results->push_back(std::move(res));
    start = nl + 1;
  }
  if (WIFSIGNALED(status)) {
    ctx.out.Note("child process killed by signal " + std::to_string(WTERMSIG(status)));
    return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int RunIsolatedAndEmit(Context& ctx, const std::function<int()>& body) {
  std::vector<Result> results;
  int rc = RunIsolated(ctx, body, &results);
  for (auto& r : results) ctx.out.Emit(r);
  return rc;
}

std::vector<std::string> Systems(const Context& ctx, const std::vector<std::string>& defaults) {
  return ctx.flags.systems.empty() ? defaults : ctx.flags.systems;
}

std::string FreshDir(const Context& ctx, const std::string& name) {
  std::string d = ctx.scratch + "/" + name;
  RemoveAll(d);
  MakeDirs(d);
  return d;
}

void DropDir(const Context& ctx, const std::string& dir) {
  if (!ctx.flags.keep) RemoveAll(dir);
}

}  // namespace t4dx_bench
