// The query planner: every search covers the MemTables and the unindexed segments
// exactly and the HNSW for the indexed segments — in-graph filtered when the filter keeps
// many items, an exact scan of the candidates when it keeps few. See DESIGN.md.
#include <algorithm>
#include <cmath>
#include <unordered_set>
#include <nlohmann/json.hpp>

#include "engine/engine_impl.h"
#include "segment/segment_format.h"
#include "t4dx/item_json.h"
#include "util/item_codec.h"
#include "vector/distance.h"

namespace t4dx {

namespace {

using json = nlohmann::json;

// Below this many estimated matches in the indexed segments a search scores the
// candidates exactly instead of walking the graph.
constexpr double kExactScanMaxCandidates = 1024;
// Unfiltered searches over at most this many indexed live vectors are scored exactly.
constexpr double kExactScanSmallStore = 1024;

// A possible hit. id views a MemTable entry's or a segment entry header's id, both kept
// alive by the search's shared lock: no string is copied until the k winners are known.
struct Candidate {
  float score;
  std::string_view id;
  const MemEntry* mem = nullptr;
  const SegmentReader* seg = nullptr;
  uint32_t index = 0;
};

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }
  void Push(Candidate c) {
    // A NaN score (an inner product that overflows float: +inf and -inf in one sum) ranks
    // nothing and would break the heap's and sort's ordering: left out (found by fuzzing).
    if (std::isnan(c.score)) return;
    if (heap_.size() < k_) {
      heap_.push_back(std::move(c));
      std::push_heap(heap_.begin(), heap_.end(), Worse);
    } else if (c.score > heap_.front().score) {
      std::pop_heap(heap_.begin(), heap_.end(), Worse);
      heap_.back() = std::move(c);
      std::push_heap(heap_.begin(), heap_.end(), Worse);
    }
  }
  std::vector<Candidate> Sorted() {
    std::vector<Candidate> v = std::move(heap_);
    heap_.clear();
    std::sort(v.begin(), v.end(), [](const Candidate& a, const Candidate& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    return v;
  }

 private:
  static bool Worse(const Candidate& a, const Candidate& b) { return a.score > b.score; }
  size_t k_;
  std::vector<Candidate> heap_;
};

// Why a segment cannot hold a match, or "" when it may.
std::string PruneReason(const Filter& f, const SegmentMeta& m) {
  if (m.live == 0) return "no live items";
  if (f.time_from && m.time_max < *f.time_from) return "time range: segment ends before time_from";
  if (f.time_to && m.time_min >= *f.time_to) return "time range: segment starts at or after time_to";
  if (!f.kinds.empty()) {
    bool any = false;
    for (auto& k : f.kinds) any = any || m.stats.kinds.count(k);
    if (!any) return "kind: no item of the requested kind";
  }
  for (const MetaCondition& c : f.metadata) {
    if (!m.stats.key_counts.count(c.key)) return "metadata: no item has key '" + c.key + "'";
    auto ov = m.stats.overflow.find(c.key);
    if (ov != m.stats.overflow.end() && ov->second) continue;
    auto vals = m.stats.values.find(c.key);
    if (vals == m.stats.values.end()) continue;  // numbers/bools: not tracked
    bool strings_only = true, any = false;
    for (const MetaValue& v : c.values) {
      if (v.type != MetaValue::Type::kString) strings_only = false;
      else any = any || vals->second.count(v.str);
    }
    if (strings_only && !any && c.op != MetaCondition::Op::kAllOf) {
      return "metadata: no item has " + c.key + " in the requested values";
    }
  }
  return "";
}

// Estimated fraction of a segment's live items that pass the filter.
double EstimateSelectivity(const Filter& f, const SegmentMeta& m) {
  if (m.live == 0) return 0;
  double sel = 1.0, live = double(m.live);
  if (f.time_from || f.time_to) {
    double lo = double(m.time_min), hi = double(m.time_max) + 1;
    double a = f.time_from ? std::max(lo, double(*f.time_from)) : lo;
    double b = f.time_to ? std::min(hi, double(*f.time_to)) : hi;
    sel *= hi > lo ? std::max(0.0, (b - a) / (hi - lo)) : 1.0;
  }
  if (!f.kinds.empty()) {
    uint64_t n = 0;
    for (auto& k : f.kinds) {
      auto it = m.stats.kinds.find(k);
      if (it != m.stats.kinds.end()) n += it->second;
    }
    sel *= std::min(1.0, n / live);
  }
  for (const MetaCondition& c : f.metadata) {
    auto kc = m.stats.key_counts.find(c.key);
    double has = kc == m.stats.key_counts.end() ? 0 : kc->second / live;
    auto vals = m.stats.values.find(c.key);
    auto ov = m.stats.overflow.find(c.key);
    bool tracked = vals != m.stats.values.end() && !(ov != m.stats.overflow.end() && ov->second);
    double f_cond = has;
    if (tracked) {
      double n = 0;
      for (const MetaValue& v : c.values) {
        if (v.type != MetaValue::Type::kString) continue;
        auto it = vals->second.find(v.str);
        if (it != vals->second.end()) n += it->second;
      }
      f_cond = std::min(has, n / live);
      if (c.op == MetaCondition::Op::kAllOf && c.values.size() > 1) f_cond = f_cond / c.values.size();
    } else if (c.op != MetaCondition::Op::kAllOf) {
      f_cond = has * 0.5;  // unknown distribution: assume half
    }
    sel *= f_cond;
  }
  return std::min(1.0, std::max(0.0, sel));
}

json StageJson(const char* name) { return json{{"stage", name}}; }

// Brings the ids of hits into the cache before they are read one by one. The misses of
// each level (label_map_ slot, then the id's bytes, whose address the slot holds) are
// started together: prefetches for the slots, then real loads in a short loop of
// independent iterations, which the CPU overlaps (prefetches of the id bytes were measured
// to arrive too late or not at all on a shared VM).
void WarmIds(const FlatLabelMap<EngineImpl::SegLoc>& label_map, const uint64_t* labels,
             size_t n) {
  constexpr size_t kMax = 64;
  n = std::min(n, kMax);
  for (size_t i = 0; i < n; i++) label_map.Prefetch(labels[i]);
  const char* bytes[kMax];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    auto it = label_map.find(labels[i]);
    if (it != label_map.end()) bytes[m++] = it->second.id_data;
  }
  char touched = 0;
  for (size_t i = 0; i < m; i++) touched ^= bytes[i][0];  // the id bytes ("" has a '\0')
  volatile char sink = touched;  // keeps the loads
  (void)sink;
}

}  // namespace

Status EngineImpl::Explain(const std::vector<float>& query, const SearchOptions& options,
                           std::string* plan_json) {
  SearchOptions o = options;
  o.explain = true;
  o.include_items = false;
  SearchResult r;
  T4DX_RETURN_IF_ERROR(Search(query, o, &r));
  *plan_json = r.plan_json;
  return Status::OK();
}

Status EngineImpl::Search(const std::vector<float>& query_in, const SearchOptions& options,
                          SearchResult* result) {
  result->hits.clear();
  result->plan_json.clear();
  if (closed_) return Status::FailedPrecondition("store " + dir_ + " is closed");
  if (options.k == 0 || options.k > opts_.max_k) {
    return Status::InvalidArgument("k: " + std::to_string(options.k) + " is outside 1.." +
                                   std::to_string(opts_.max_k));
  }
  uint32_t dim = dim_.load();
  if (dim != 0 && query_in.size() != dim) {
    return Status::InvalidArgument("query_vector: dimension " + std::to_string(query_in.size()) +
                                   ", store has " + std::to_string(dim));
  }
  if (query_in.empty()) return Status::InvalidArgument("query_vector: empty");
  if (!AllFinite(query_in.data(), query_in.size())) {
    for (size_t i = 0; i < query_in.size(); i++) {
      if (!std::isfinite(query_in[i])) {
        return Status::InvalidArgument("query_vector[" + std::to_string(i) + "] is not finite");
      }
    }
  }
  std::vector<float> q = query_in;
  if (metric_ == Metric::kCosine && !NormalizeInPlace(q.data(), q.size())) {
    return Status::InvalidArgument("query_vector: zero vector has no cosine similarity");
  }
  stat_searches_++;
  const Filter& f = options.filter;
  size_t k = options.k;
  size_t ef = std::max(options.ef ? options.ef : opts_.hnsw_ef_search, k);
  const bool explain = options.explain;
  // Stage timings are for explain only (a clock read costs ~20 ns; a search, a few us).
  auto now_us = [&]() -> int64_t { return explain ? clock_->NowMicros() : 0; };
  const int64_t t_start = now_us();
  json plan, stages, skipped;  // filled only for explain (a json array allocates)
  if (explain) {
    stages = json::array();
    skipped = json::array();
  }
  double est_matches = 0, est_live = 0, act_matched = 0, act_considered = 0;

  TopK top(k);
  std::shared_lock<std::shared_mutex> l(mu_);
  const MemTable* mem = mem_.get();
  const MemTable* imm = imm_.get();
  // Empty MemTables (the common case right after a flush) shadow nothing: skip hashing ids.
  const bool mem_empty = mem->empty() && (imm == nullptr || imm->empty());
  auto shadowed = [&](const std::string& id) {
    if (mem_empty) return false;
    return mem->Find(id) != nullptr || (imm && imm->Find(id) != nullptr);
  };

  // Stage 1: the MemTables, exactly.
  {
    int64_t t0 = now_us();
    uint64_t cand = 0, matched = 0;
    // The matching entries first, then their scores: each embedding is its own heap block,
    // so scoring in the same loop waited for one cache miss after another; with the list
    // in hand, the next embeddings are prefetched while one is scored.
    std::vector<const MemEntry*> hits;
    for (const MemTable* m : {mem, imm}) {
      if (!m) continue;
      m->ForEach([&](const MemEntry& e) {
        if (e.deleted || e.item.embedding.empty()) return;
        if (m == imm && mem->Find(e.item.id)) return;
        cand++;
        if (!f.Matches(e.item)) return;
        hits.push_back(&e);
      });
    }
    matched = hits.size();
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < hits.size(); i++) {
      if (i + kAhead < hits.size()) {
        const char* next = reinterpret_cast<const char*>(hits[i + kAhead]->item.embedding.data());
        __builtin_prefetch(next);
        __builtin_prefetch(next + 64);
      }
      const MemEntry& e = *hits[i];
      Candidate c;
      c.score = Score(metric_, q.data(), e.item.embedding.data(), q.size());
      c.id = e.item.id;
      c.mem = &e;
      top.Push(std::move(c));
    }
    act_considered += cand;
    act_matched += matched;
    if (explain) {
      json st = StageJson("memtable");
      st["method"] = "exact";
      st["candidates"] = cand;
      st["matched"] = matched;
      st["time_us"] = clock_->NowMicros() - t0;
      stages.push_back(st);
    }
  }

  // Plan the segments.
  std::vector<const SegState*> unindexed, indexed;
  for (const auto& kv : segs_) {
    const SegmentMeta& m = kv.second->reader->meta();
    std::string why = f.empty() ? (m.live == 0 ? "no live items" : "") : PruneReason(f, m);
    if (!why.empty()) {
      if (explain) {
        skipped.push_back({{"segment", SegmentDirName(kv.first).substr(4)}, {"reason", why}});
      }
      continue;
    }
    double sel = f.empty() ? 1.0 : EstimateSelectivity(f, m);
    est_matches += sel * m.live;
    est_live += m.live;
    (kv.second->indexed && hnsw_ ? indexed : unindexed).push_back(kv.second.get());
  }

  auto current = [&](const SegmentReader* seg, const SegmentEntryHeader& h, size_t index) {
    auto it = label_map_.find(h.lsn);
    return it != label_map_.end() && it->second.seg == seg && it->second.index == index;
  };
  auto header_matches = [&](const SegmentEntryHeader& h) {
    return f.Matches(h.kind, h.timestamp, h.metadata);
  };

  // Stage 2: segments not yet in the HNSW, exactly.
  if (!unindexed.empty()) {
    int64_t t0 = now_us();
    uint64_t cand = 0, matched = 0;
    json ids = json::array();
    for (const SegState* st : unindexed) {
      const SegmentReader* seg = st->reader.get();
      if (explain) ids.push_back(SegmentDirName(seg->id()).substr(4));
      std::shared_ptr<const std::vector<float>> vecs;
      const auto& entries = seg->entries();
      {
        std::lock_guard<std::mutex> vl(st->vectors_mu);
        if (!st->vectors) {
          auto v = std::make_shared<std::vector<float>>();
          T4DX_RETURN_IF_ERROR(seg->ReadVectors(0, seg->meta().vectors, v.get()));
          st->vectors = v;
        }
        vecs = st->vectors;
        if (st->current_generation != maps_generation_) {
          st->current.assign(entries.size(), 0);
          for (size_t i = 0; i < entries.size(); i++) st->current[i] = current(seg, entries[i], i);
          st->current_generation = maps_generation_;
        }
      }
      // Stable until this search releases mu_ (see SegState::current).
      const uint8_t* is_current = st->current.data();
      for (size_t i = 0; i < entries.size(); i++) {
        const SegmentEntryHeader& h = entries[i];
        if (h.deleted || h.row < 0 || !is_current[i] || shadowed(h.id)) continue;
        cand++;
        if (!header_matches(h)) continue;
        matched++;
        Candidate c;
        c.score = Score(metric_, q.data(), vecs->data() + size_t(h.row) * seg->vector_dim(), q.size());
        c.id = h.id;
        c.seg = seg;
        c.index = uint32_t(i);
        top.Push(std::move(c));
      }
    }
    act_considered += cand;
    act_matched += matched;
    if (explain) {
      json st = StageJson("unindexed_segments");
      st["method"] = "exact";
      st["segments"] = ids;
      st["candidates"] = cand;
      st["matched"] = matched;
      st["time_us"] = clock_->NowMicros() - t0;
      stages.push_back(st);
    }
  }

  // Stage 3: the HNSW over the indexed segments.
  if (!indexed.empty()) {
    int64_t t0 = now_us();
    json st;
    double est_idx = 0, live_idx = 0;
    for (const SegState* s : indexed) {
      const SegmentMeta& m = s->reader->meta();
      est_idx += (f.empty() ? 1.0 : EstimateSelectivity(f, m)) * m.live;
      live_idx += m.live;
    }
    if (explain) {
      st = StageJson("hnsw");
      json ids = json::array();
      for (const SegState* s : indexed) ids.push_back(SegmentDirName(s->reader->id()).substr(4));
      st["segments"] = ids;
      st["estimated_matches"] = std::llround(est_idx);
    }
    // Labels of segments the plan left out (pruned, or no live item) must not be returned;
    // when every segment takes part, no lookup is needed.
    const bool all_usable = indexed.size() == segs_.size();
    std::unordered_set<const SegmentReader*> usable;
    if (!all_usable) {
      for (const SegState* s : indexed) usable.insert(s->reader.get());
    }
    std::vector<HnswHit> hits;
    const size_t elements = hnsw_->size();
    const bool mostly_deleted = elements > 0 && 2 * hnsw_->deleted_count() > elements;
    if ((!f.empty() && est_idx <= kExactScanMaxCandidates) || live_idx <= kExactScanSmallStore ||
        mostly_deleted) {
      // Few candidates (a selective filter, or a small store): score them all exactly from
      // the index's own vectors; exact beats a graph walk there, and a graph whose
      // elements are mostly deleted marks cannot hide live vectors.
      std::vector<uint64_t> labels;
      std::vector<std::pair<const SegmentReader*, uint32_t>> where;
      for (const SegState* s : indexed) {
        const SegmentReader* seg = s->reader.get();
        const auto& entries = seg->entries();
        for (size_t i = 0; i < entries.size(); i++) {
          const SegmentEntryHeader& h = entries[i];
          if (h.deleted || h.row < 0 || !header_matches(h) || !current(seg, h, i) || shadowed(h.id)) continue;
          labels.push_back(h.lsn);
          where.push_back({seg, uint32_t(i)});
        }
      }
      std::vector<float> scores(labels.size());
      T4DX_RETURN_IF_ERROR(hnsw_->ScoreLabels(q.data(), labels.data(), labels.size(), scores.data()));
      for (size_t i = 0; i < labels.size(); i++) {
        if (!std::isfinite(scores[i])) continue;
        Candidate c;
        c.score = scores[i];
        c.seg = where[i].first;
        c.index = where[i].second;
        c.id = c.seg->entries()[c.index].id;
        top.Push(std::move(c));
      }
      act_matched += labels.size();
      if (explain) {
        st["method"] = "exact_candidates";
        st["candidates"] = labels.size();
        st["matched"] = labels.size();
      }
    } else {
      const size_t use_ef = ef;
      // hnswlib's filtered walk keeps only allowed elements among its ef best and walks on
      // until it has ef of them, so a selective filter needs no larger ef: scaling ef by
      // 1/selectivity made a 10% filter 3.4x slower at the same recall (BENCHMARKS.md).
      uint64_t asked = 0, allowed_n = 0;
      // The first allowed labels and where they live, so the hits (which are among them)
      // need no second lookup in label_map_.
      std::vector<std::pair<uint64_t, const SegLoc*>> passed;
      const size_t keep_passed = k <= 64 ? 4 * k : 0;  // a linear scan stays short
      passed.reserve(keep_passed);
      auto allowed = [&](uint64_t label) {
        asked++;
        auto it = label_map_.find(label);
        if (it == label_map_.end()) return false;
        const SegLoc& loc = it->second;
        if (!all_usable && !usable.count(loc.seg)) return false;
        const SegmentEntryHeader& h = loc.seg->entries()[loc.index];
        if (shadowed(h.id)) return false;
        if (!f.empty() && !header_matches(h)) return false;
        allowed_n++;
        if (passed.size() < keep_passed) passed.emplace_back(label, &loc);
        return true;
      };
      // Unfiltered, `allowed` only drops labels superseded since they were indexed (rare):
      // checked after the walk. A filter is applied inside the walk.
      const auto placement = f.empty() ? HnswIndex::FilterPlacement::kAfterWalk
                                       : HnswIndex::FilterPlacement::kInGraph;
      // Each hit costs cache misses on its label_map_ slot, its segment entry header and
      // its id's bytes, and at small ef those misses were a large part of a search. The
      // walk's best labels arrive here in one batch before `allowed` is asked about them:
      // WarmIds takes the misses of the whole batch together instead of one after another.
      auto prepare = [this](const uint64_t* labels, size_t n) { WarmIds(label_map_, labels, n); };
      T4DX_RETURN_IF_ERROR(
          hnsw_->Search(q.data(), k, use_ef, allowed, &hits, placement, prepare));
      for (const HnswHit& hh : hits) {
        const SegLoc* loc = nullptr;
        for (const auto& p : passed) {
          if (p.first == hh.label) {
            loc = p.second;
            break;
          }
        }
        if (loc == nullptr) {
          auto it = label_map_.find(hh.label);
          if (it == label_map_.end()) continue;
          loc = &it->second;
        }
        Candidate c;
        c.score = hh.score;
        c.seg = loc->seg;
        c.index = loc->index;
        c.id = loc->id();
        top.Push(std::move(c));
      }
      if (explain) {
        st["method"] = f.empty() ? "graph" : "filtered_graph";
        st["ef"] = use_ef;
        st["visited_checked"] = asked;
        st["allowed"] = allowed_n;
        st["returned"] = hits.size();
      }
      if (!f.empty() && asked > 0) {
        act_considered += asked;
        act_matched += allowed_n;
      }
    }
    if (explain) {
      st["time_us"] = clock_->NowMicros() - t0;
      stages.push_back(st);
    }
  }

  // Merge, then fetch the items of the winners.
  std::vector<Candidate> best = top.Sorted();
  int64_t t_fetch = now_us();
  result->hits.reserve(best.size());
  for (Candidate& c : best) {
    result->hits.emplace_back();  // built in place: a SearchHit holds a whole Item
    SearchHit& h = result->hits.back();
    h.id.assign(c.id.data(), c.id.size());
    h.score = c.score;
    if (options.include_items) {
      if (c.mem) {
        h.item = c.mem->item;
      } else {
        Status s = c.seg->ReadItem(c.index, options.include_embedding, &h.item);
        if (!s.ok()) {
          result->hits.pop_back();
          return s;
        }
      }
      if (!options.include_embedding) h.item.embedding.clear();
    }
  }
  if (options.explain) {
    plan["k"] = k;
    plan["ef"] = ef;
    plan["metric"] = MetricName(metric_);
    plan["filter"] = json::parse(FilterToJson(f), nullptr, false);
    plan["stages"] = stages;
    plan["segments_total"] = segs_.size();
    plan["segments_skipped"] = skipped;
    json sel;
    sel["estimated"] = est_live > 0 ? est_matches / est_live : 1.0;
    sel["estimated_matches"] = std::llround(est_matches);
    sel["actual"] = act_considered > 0 ? json(act_matched / act_considered) : json(nullptr);
    plan["selectivity"] = sel;
    plan["results"] = result->hits.size();
    plan["fetch_time_us"] = clock_->NowMicros() - t_fetch;
    plan["total_time_us"] = clock_->NowMicros() - t_start;
    result->plan_json = plan.dump();
  }
  return Status::OK();
}

}  // namespace t4dx
