// JSON options, constants and result renderings of the WebAssembly API.
#include "api_json.h"

#include <nlohmann/json.hpp>

#include "host_env.h"
#include "t4dx/item.h"
#include "t4dx/item_json.h"
#include "util/json_util.h"

namespace t4dx {
namespace wasm {

namespace {

using nlohmann::json;

struct ViewName {
  const char* name;
  View view;
};
constexpr ViewName kViews[] = {
    {"status", View::kStatus},
    {"stats", View::kStats},
    {"segments", View::kSegments},
    {"segment", View::kSegment},
    {"segment_metadata", View::kSegmentMetadata},
    {"segment_verify", View::kSegmentVerify},
    {"segment_count", View::kSegmentCount},
    {"memtable", View::kMemTable},
    {"wal_status", View::kWalStatus},
    {"hnsw_stats", View::kHnswStats},
    {"global_index", View::kGlobalIndex},
    {"compaction_history", View::kCompactionHistory},
    {"replay_estimate", View::kReplayEstimate},
    {"recovery_report", View::kRecoveryReport},
};

Status ParseObject(std::string_view text, const char* what, json* out) {
  if (text.empty()) {
    *out = json::object();
    return Status::OK();
  }
  std::string reason;
  if (!json_util::Parse(text, out, &reason)) {
    return Status::InvalidArgument(std::string(what) + ": " + reason);
  }
  if (out->is_null()) *out = json::object();
  if (!out->is_object()) {
    return Status::InvalidArgument(std::string(what) + ": expected an object, got " +
                                   json_util::TypeName(*out));
  }
  return Status::OK();
}

Status Bad(const char* what, const std::string& key, const std::string& expected) {
  return Status::InvalidArgument(std::string(what) + "." + key + ": expected " + expected);
}

// A non-negative integer up to max.
Status GetCount(const json& v, const char* what, const std::string& key, uint64_t max,
                uint64_t* out) {
  int64_t n = 0;
  if (!json_util::GetInt64(v, &n) || n < 0 || static_cast<uint64_t>(n) > max) {
    return Bad(what, key, "an integer from 0 to " + std::to_string(max));
  }
  *out = static_cast<uint64_t>(n);
  return Status::OK();
}

Status GetBool(const json& v, const char* what, const std::string& key, bool* out) {
  if (!v.is_boolean()) return Bad(what, key, "true or false");
  *out = v.get<bool>();
  return Status::OK();
}

Status GetTime(const json& v, const char* what, const std::string& key, int64_t* out) {
  if (!json_util::GetInt64(v, out)) return Bad(what, key, "ms since the epoch (an integer)");
  return Status::OK();
}

constexpr uint64_t kMaxSize = 0xFFFFFFFFu;  // size_t on 32-bit WebAssembly

}  // namespace

Status OptionsFromJson(std::string_view text, Options* o) {
  const char* what = "options";
  json j;
  T4DX_RETURN_IF_ERROR(ParseObject(text, what, &j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    uint64_t n = 0;
    if (v.is_null()) continue;  // undefined in JavaScript: keep the default
    if (k == "dim") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxDimension, &n));
      o->dim = static_cast<uint32_t>(n);
    } else if (k == "metric") {
      if (!v.is_string()) return Bad(what, k, "\"cosine\", \"ip\" or \"l2\"");
      Status s = ParseMetric(v.get<std::string>(), &o->metric);
      if (!s.ok()) return s.WithContext("options.metric");
    } else if (k == "flushThreshold") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, 1000000000, &n));
      if (n == 0) return Bad(what, k, "at least 1");
      o->flush_threshold_items = static_cast<size_t>(n);
    } else if (k == "memtableMaxBytes") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxSize, &n));
      o->memtable_max_bytes = static_cast<size_t>(n);
    } else if (k == "sync") {
      if (v.is_boolean()) {
        o->wal_sync = v.get<bool>() ? WalSync::kAlways : WalSync::kNone;
      } else if (v.is_string()) {
        Status s = ParseWalSync(v.get<std::string>(), &o->wal_sync);
        if (!s.ok()) return s.WithContext("options.sync");
      } else {
        return Bad(what, k, "\"always\", \"interval\", \"none\" or a boolean");
      }
    } else if (k == "syncIntervalMs") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, 3600000, &n));
      o->wal_sync_interval_ms = static_cast<uint32_t>(n);
    } else if (k == "recovery") {
      std::string r = v.is_string() ? v.get<std::string>() : "";
      if (r == "strict") {
        o->recovery_strict = true;
      } else if (r == "lenient" || r == "default") {
        o->recovery_strict = false;
      } else {
        return Bad(what, k, "\"strict\" or \"lenient\"");
      }
    } else if (k == "readOnly") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->read_only));
    } else if (k == "createIfMissing") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->create_if_missing));
    } else if (k == "walRetentionEntries") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, UINT64_MAX >> 12, &o->wal_retention_entries));
    } else if (k == "walRetentionBytes") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, UINT64_MAX >> 12, &o->wal_retention_bytes));
    } else if (k == "hnswM") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, 200, &n));
      if (n < 2) return Bad(what, k, "2 to 200");
      o->hnsw_m = static_cast<size_t>(n);
    } else if (k == "efConstruction") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, 100000, &n));
      if (n == 0) return Bad(what, k, "at least 1");
      o->hnsw_ef_construction = static_cast<size_t>(n);
    } else if (k == "efSearch") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, 100000, &n));
      if (n == 0) return Bad(what, k, "at least 1");
      o->hnsw_ef_search = static_cast<size_t>(n);
    } else if (k == "compactionFanout") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, 1000, &n));
      if (n < 2) return Bad(what, k, "2 to 1000");
      o->compaction_fanout = static_cast<size_t>(n);
    } else if (k == "maxK") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxSize, &n));
      o->max_k = static_cast<size_t>(n);
    } else if (k == "maxBatchItems") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxSize, &n));
      o->max_batch_items = static_cast<size_t>(n);
    } else {
      return Status::InvalidArgument(
          "options: unknown option \"" + k +
          "\" (expected dim, metric, flushThreshold, memtableMaxBytes, sync, syncIntervalMs, "
          "recovery, readOnly, createIfMissing, walRetentionEntries, walRetentionBytes, "
          "hnswM, efConstruction, efSearch, compactionFanout, maxK, maxBatchItems)");
    }
  }
  o->background_compaction = false;
  return Status::OK();
}

Status SearchOptionsFromJson(std::string_view text, SearchOptions* o) {
  const char* what = "search options";
  json j;
  T4DX_RETURN_IF_ERROR(ParseObject(text, what, &j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    uint64_t n = 0;
    if (v.is_null()) continue;
    if (k == "k") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxSize, &n));
      if (n == 0) return Bad(what, k, "at least 1");
      o->k = static_cast<size_t>(n);
    } else if (k == "ef") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxSize, &n));
      o->ef = static_cast<size_t>(n);
    } else if (k == "filter") {
      Status s = FilterFromJson(v.dump(), &o->filter);
      if (!s.ok()) return s.WithContext("search options.filter");
    } else if (k == "includeItems") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->include_items));
    } else if (k == "includeEmbedding") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->include_embedding));
    } else {
      return Status::InvalidArgument("search options: unknown option \"" + k +
                                     "\" (expected k, ef, filter, includeItems, "
                                     "includeEmbedding)");
    }
  }
  return Status::OK();
}

Status ScanOptionsFromJson(std::string_view text, ScanOptions* o) {
  const char* what = "scan options";
  json j;
  T4DX_RETURN_IF_ERROR(ParseObject(text, what, &j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (v.is_null()) continue;
    if (k == "timeFrom") {
      int64_t t = 0;
      T4DX_RETURN_IF_ERROR(GetTime(v, what, k, &t));
      o->time_from = t;
    } else if (k == "timeTo") {
      int64_t t = 0;
      T4DX_RETURN_IF_ERROR(GetTime(v, what, k, &t));
      o->time_to = t;
    } else if (k == "limit") {
      uint64_t n = 0;
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxSize, &n));
      o->limit = static_cast<size_t>(n);
    } else if (k == "includeEmbedding") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->include_embedding));
    } else {
      return Status::InvalidArgument("scan options: unknown option \"" + k +
                                     "\" (expected timeFrom, timeTo, limit, includeEmbedding)");
    }
  }
  return Status::OK();
}

Status WalInspectOptionsFromJson(std::string_view text, WalInspectOptions* o, double* limit,
                                 double* skip) {
  const char* what = "inspect options";
  json j;
  T4DX_RETURN_IF_ERROR(ParseObject(text, what, &j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    uint64_t n = 0;
    if (v.is_null()) continue;
    if (k == "fromLsn") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, (1ull << 53), &o->from_lsn));
    } else if (k == "summaries") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->summaries));
    } else if (k == "maxContentChars") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, kMaxSize, &n));
      o->max_content_chars = static_cast<size_t>(n);
    } else if (k == "limit") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, (1ull << 53), &n));
      *limit = static_cast<double>(n);
    } else if (k == "skip") {
      T4DX_RETURN_IF_ERROR(GetCount(v, what, k, (1ull << 53), &n));
      *skip = static_cast<double>(n);
    } else {
      return Status::InvalidArgument("inspect options: unknown option \"" + k +
                                     "\" (expected fromLsn, summaries, maxContentChars, "
                                     "limit, skip)");
    }
  }
  return Status::OK();
}

Status StoreCheckOptionsFromJson(std::string_view text, StoreCheckOptions* o) {
  const char* what = "check options";
  json j;
  T4DX_RETURN_IF_ERROR(ParseObject(text, what, &j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (v.is_null()) continue;
    if (k == "segmentBlocks") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->segment_blocks));
    } else if (k == "wal") {
      T4DX_RETURN_IF_ERROR(GetBool(v, what, k, &o->wal));
    } else {
      return Status::InvalidArgument("check options: unknown option \"" + k +
                                     "\" (expected segmentBlocks, wal)");
    }
  }
  return Status::OK();
}

Status ViewFromName(const std::string& name, View* view) {
  for (const ViewName& v : kViews) {
    if (name == v.name) {
      *view = v.view;
      return Status::OK();
    }
  }
  std::string all;
  for (const ViewName& v : kViews) all += std::string(all.empty() ? "" : ", ") + v.name;
  return Status::InvalidArgument("unknown view \"" + name + "\" (expected " + all + ")");
}

std::string ConstantsJson() {
  json c;
  json codes = json::object();
  for (int i = 0; i <= static_cast<int>(Status::Code::kFailedPrecondition); ++i) {
    codes[Status::CodeName(static_cast<Status::Code>(i))] = i;
  }
  c["statusCodes"] = codes;
  c["metrics"] = {MetricName(Metric::kCosine), MetricName(Metric::kInnerProduct),
                  MetricName(Metric::kL2)};
  c["syncModes"] = {WalSyncName(WalSync::kAlways), WalSyncName(WalSync::kInterval),
                    WalSyncName(WalSync::kNone)};
  json views = json::array();
  for (const ViewName& v : kViews) views.push_back(v.name);
  c["views"] = views;
  c["limits"] = {{"maxIdLength", kMaxIdLength},
                 {"maxKindLength", kMaxKindLength},
                 {"maxMetadataKeys", kMaxMetadataKeys},
                 {"maxMetadataKeyLength", kMaxMetadataKeyLength},
                 {"maxDimension", kMaxDimension}};
  Options d;
  c["defaults"] = {{"metric", MetricName(d.metric)},
                   {"flushThreshold", d.flush_threshold_items},
                   {"memtableMaxBytes", d.memtable_max_bytes},
                   {"sync", WalSyncName(d.wal_sync)},
                   {"syncIntervalMs", d.wal_sync_interval_ms},
                   {"recovery", d.recovery_strict ? "strict" : "lenient"},
                   {"hnswM", d.hnsw_m},
                   {"efConstruction", d.hnsw_ef_construction},
                   {"efSearch", d.hnsw_ef_search},
                   {"maxK", d.max_k},
                   {"maxBatchItems", d.max_batch_items},
                   {"maxContentBytes", d.max_content_bytes},
                   {"maxMetadataBytes", d.max_metadata_bytes},
                   {"k", SearchOptions().k}};
  c["host"] = {{"openMode",
                {{"read", T4DX_HOST_OPEN_READ},
                 {"truncate", T4DX_HOST_OPEN_TRUNCATE},
                 {"append", T4DX_HOST_OPEN_APPEND}}},
               {"kind",
                {{"missing", T4DX_HOST_MISSING},
                 {"file", T4DX_HOST_FILE},
                 {"directory", T4DX_HOST_DIRECTORY}}}};
  return c.dump();
}

Status ItemsFromJson(std::string_view text, const std::vector<float>& flat,
                     const std::vector<uint32_t>& lengths, bool batch, std::vector<Item>* items) {
  items->clear();
  std::vector<std::string> texts;
  if (batch) {
    json j;
    std::string reason;
    if (!json_util::Parse(text, &j, &reason)) return Status::InvalidArgument("items: " + reason);
    if (!j.is_array()) {
      return Status::InvalidArgument(std::string("items: expected an array, got ") +
                                     json_util::TypeName(j));
    }
    for (const json& e : j) texts.push_back(e.dump());
  } else {
    texts.emplace_back(text);
  }
  if (!lengths.empty() && lengths.size() != texts.size()) {
    return Status::InvalidArgument("items: " + std::to_string(lengths.size()) +
                                   " embedding lengths for " + std::to_string(texts.size()) +
                                   " items");
  }
  size_t pos = 0;
  items->resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string where = batch ? "items[" + std::to_string(i) + "]" : "item";
    T4DX_RETURN_IF_ERROR(ItemFromJson(texts[i], &(*items)[i], where));
    uint32_t n = lengths.empty() ? 0 : lengths[i];
    if (n == 0) continue;
    if (!(*items)[i].embedding.empty()) {
      return Status::InvalidArgument(where + ".embedding: given twice");
    }
    if (flat.size() - pos < n) {
      return Status::InvalidArgument(where + ".embedding: the embedding buffer is too short");
    }
    (*items)[i].embedding.assign(flat.begin() + pos, flat.begin() + pos + n);
    pos += n;
  }
  if (pos != flat.size()) {
    return Status::InvalidArgument("items: " + std::to_string(flat.size() - pos) +
                                   " embedding values left over");
  }
  return Status::OK();
}

std::string HitsToJson(const SearchResult& result, bool include_items, bool include_scores) {
  std::string out = "[";
  for (size_t i = 0; i < result.hits.size(); ++i) {
    const SearchHit& h = result.hits[i];
    if (i) out += ',';
    out += "{\"id\":";
    json_util::AppendString(&out, h.id);
    if (include_scores) {
      out += ",\"score\":";
      json_util::AppendFloat(&out, h.score);
    }
    if (include_items) {
      out += ",\"item\":";
      out += ItemToJson(h.item, false);
    }
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace wasm
}  // namespace t4dx
