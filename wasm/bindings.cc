// Embind API of the WebAssembly build: a thin facade over t4dx::Engine.
//
// Every method returns a plain JavaScript object. On failure it is {error: {code,
// codeNumber, message, file, line, offset}} (the core never throws, so nothing here does
// either); on success it carries the result fields named below. Items cross the boundary
// as JSON text without their embedding; embeddings travel as one flat Float32Array plus a
// Uint32Array of per-item lengths, copied once. The npm package (npm/src/) turns this into
// the public Promise API; nothing else should call it.
//
// The engine runs on the caller's thread (no threads in WebAssembly): the JavaScript side
// calls maintenanceStep() after writes and when idle (MaintenanceScheduler in
// npm/src/core.js).
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/val.h>

#include <memory>
#include <string>
#include <vector>

#include "api_json.h"
#include "host_env.h"
#include "t4dx/engine.h"
#include "t4dx/inspect.h"
#include "t4dx/item_json.h"
#include "util/json_util.h"

namespace t4dx {
namespace wasm {
namespace {

using emscripten::val;

Env* HostEnvSingleton() {
  static Env* env = NewHostEnv().release();
  return env;
}

val ErrorValue(const Status& s) {
  val e = val::object();
  e.set("code", std::string(Status::CodeName(s.code())));
  e.set("codeNumber", static_cast<int>(s.code()));
  e.set("message", s.message());
  if (!s.file().empty()) e.set("file", s.file());
  if (s.line() > 0) e.set("line", static_cast<double>(s.line()));
  if (s.offset() >= 0) e.set("offset", static_cast<double>(s.offset()));
  val r = val::object();
  r.set("error", e);
  return r;
}

val Ok() { return val::object(); }

// Copies a JS Float32Array (or array of numbers) into a vector.
std::vector<float> FloatsFrom(const val& v) {
  std::vector<float> out;
  if (v.isNull() || v.isUndefined()) return out;
  size_t n = v["length"].as<size_t>();
  out.resize(n);
  if (n) val(emscripten::typed_memory_view(n, out.data())).call<void>("set", v);
  return out;
}

std::vector<uint32_t> U32From(const val& v) {
  std::vector<uint32_t> out;
  if (v.isNull() || v.isUndefined()) return out;
  size_t n = v["length"].as<size_t>();
  out.resize(n);
  if (n) val(emscripten::typed_memory_view(n, out.data())).call<void>("set", v);
  return out;
}

val Float32ArrayOf(const std::vector<float>& v) {
  return val::global("Float32Array").new_(emscripten::typed_memory_view(v.size(), v.data()));
}

// Items as a JSON array (without embeddings) + flat embeddings + their lengths.
val ItemsValue(const std::vector<const Item*>& items, bool include_embedding) {
  std::string json = "[";
  std::vector<float> flat;
  std::vector<uint32_t> lengths;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) json += ',';
    json += ItemToJson(*items[i], false);
    if (include_embedding) {
      lengths.push_back(static_cast<uint32_t>(items[i]->embedding.size()));
      flat.insert(flat.end(), items[i]->embedding.begin(), items[i]->embedding.end());
    }
  }
  json += ']';
  val r = val::object();
  r.set("json", json);
  if (include_embedding) {
    r.set("embeddings", Float32ArrayOf(flat));
    r.set("lengths", val::global("Uint32Array")
                         .new_(emscripten::typed_memory_view(lengths.size(), lengths.data())));
  }
  return r;
}

val JsonValue(const std::string& json) {
  val r = val::object();
  r.set("json", json);
  return r;
}

// The options of searchFast() and searchRaw(), given as numbers: k and ef (negative = the
// default), flags (1 = include items, 2 = include embeddings) and a filter object's JSON
// text ("" for none).
Status NumericSearchOptions(double k, double ef, int flags, const std::string& filter_json,
                            SearchOptions* options) {
  if (k >= 0) options->k = static_cast<size_t>(k);
  if (ef >= 0) options->ef = static_cast<size_t>(ef);
  options->include_items = (flags & 1) != 0;
  options->include_embedding = (flags & 2) != 0;
  if (filter_json.empty()) return Status::OK();
  Status s = FilterFromJson(filter_json, &options->filter);
  return s.ok() ? s : s.WithContext("search options.filter");
}

// The hits of search() and searchFast(): {scores: Float32Array, embeddings, lengths (with
// items and embeddings)} and their JSON (HitsToJson, without scores) as "json" text, or,
// when json_bytes is not null, kept in *json_bytes and returned as "jsonBytes", a
// Uint8Array view of it that the caller decodes before its next call into the module
// (embind converts a std::string byte by byte in JavaScript, TextDecoder does not).
val HitsValue(const SearchResult& result, const SearchOptions& options, std::string* json_bytes,
              std::vector<float>* scores) {
  val r = val::object();
  std::string json = HitsToJson(result, options.include_items, false);
  scores->clear();
  for (const SearchHit& h : result.hits) scores->push_back(h.score);
  r.set("scores", Float32ArrayOf(*scores));
  if (options.include_items && options.include_embedding) {
    std::vector<const Item*> items;
    for (const SearchHit& h : result.hits) items.push_back(&h.item);
    val e = ItemsValue(items, true);
    r.set("embeddings", e["embeddings"]);
    r.set("lengths", e["lengths"]);
  }
  if (json_bytes == nullptr) {
    r.set("json", json);
  } else {
    // Made last: a later allocation that grows the memory would detach the view.
    *json_bytes = std::move(json);
    const auto* bytes = reinterpret_cast<const uint8_t*>(json_bytes->data());
    r.set("jsonBytes", val(emscripten::typed_memory_view(json_bytes->size(), bytes)));
  }
  return r;
}

class Store {
 public:
  Store() = default;
  ~Store() {
    if (engine_) engine_->Close();
    engine_.reset();
  }

  // With a non-empty archive, opens the snapshot archive (a ustar file written by
  // CreateSnapshot) read-only; dir is then ignored.
  val Open(const std::string& dir, const std::string& options_json, const std::string& archive) {
    if (engine_) return ErrorValue(Status::FailedPrecondition("store is already open"));
    Options options;
    Status s = OptionsFromJson(options_json, &options);
    if (!s.ok()) return ErrorValue(s);
    options.env = HostEnvSingleton();
    std::string where = dir;
    if (!archive.empty()) {
      s = OpenSnapshotEnv(HostEnvSingleton(), archive, &archive_env_);
      if (!s.ok()) return ErrorValue(s);
      options.env = archive_env_.get();
      options.read_only = true;
      where = archive;
    }
    options.background_compaction = false;
    options.log = [this](LogLevel level, const std::string& message) {
      if (log_.size() < kMaxLogLines) log_.push_back({level, message});
    };
    s = Engine::Open(options, where, &engine_);
    if (!s.ok()) {
      engine_.reset();
      archive_env_.reset();
      return ErrorValue(s);
    }
    return Ok();
  }

  // items_json: one item object (put) or an array of them (putBatch), without embedding
  // fields; embeddings: flat floats; lengths: floats per item (0 = no embedding).
  val Put(const std::string& items_json, const val& embeddings, const val& lengths, bool batch) {
    if (!engine_) return Closed();
    std::vector<Item> items;
    Status s = ItemsFromJson(items_json, FloatsFrom(embeddings), U32From(lengths), batch, &items);
    if (!s.ok()) return ErrorValue(s);
    uint64_t lsn = 0;
    s = batch ? engine_->PutBatch(items, &lsn) : engine_->Put(items[0], &lsn);
    if (!s.ok()) return ErrorValue(s);
    val r = val::object();
    r.set("lsn", static_cast<double>(lsn));
    return r;
  }

  val Get(const std::string& id, bool include_embedding) {
    if (!engine_) return Closed();
    Item item;
    Status s = engine_->Get(id, &item);
    if (s.IsNotFound()) {
      val r = val::object();
      r.set("json", std::string("[]"));
      return r;
    }
    if (!s.ok()) return ErrorValue(s);
    return ItemsValue({&item}, include_embedding);
  }

  val Delete(const std::string& id) {
    if (!engine_) return Closed();
    uint64_t lsn = 0;
    Status s = engine_->Delete(id, &lsn);
    val r = val::object();
    if (s.IsNotFound()) {
      r.set("deleted", false);
      return r;
    }
    if (!s.ok()) return ErrorValue(s);
    r.set("deleted", true);
    r.set("lsn", static_cast<double>(lsn));
    return r;
  }

  val Search(const val& query, const std::string& options_json) {
    if (!engine_) return Closed();
    SearchOptions options;
    Status s = SearchOptionsFromJson(options_json, &options);
    if (!s.ok()) return ErrorValue(s);
    SearchResult result;
    s = engine_->Search(FloatsFrom(query), options, &result);
    if (!s.ok()) return ErrorValue(s);
    return HitsValue(result, options, nullptr, &scores_);
  }

  // search() without JSON options (NumericSearchOptions), for searches with items (ids
  // only: searchRaw): returns what search() returns but with the JSON as jsonBytes (see
  // HitsValue), plus engineUs (time inside Engine::Search).
  val SearchFast(const val& query, double k, double ef, int flags, const std::string& filter_json) {
    if (!engine_) return Closed();
    SearchOptions options;
    Status s = NumericSearchOptions(k, ef, flags, filter_json, &options);
    if (!s.ok()) return ErrorValue(s);
    SearchResult result;
    const double t0 = emscripten_get_now();
    s = engine_->Search(FloatsFrom(query), options, &result);
    const double engine_us = (emscripten_get_now() - t0) * 1000;
    if (!s.ok()) return ErrorValue(s);
    val r = HitsValue(result, options, &out_, &scores_);
    r.set("engineUs", engine_us);
    return r;
  }

  // The ids-only search path without embind values (each costs JavaScript calls): the
  // caller writes the query's n floats at byte address queryBuffer(n) of the module's
  // memory, calls searchRaw(n, k, ef, filter_json) (k, ef: negative = the default;
  // filter_json: "" for none) and reads, at the byte address returned, six uint32:
  // {hits, scores (address of hits floats), ids (address of their UTF-8 bytes, one after
  // the other), id bytes in all, id ends (address of hits uint32: where each id's bytes
  // end), engine microseconds}. Everything stays valid until the next call. On failure
  // it returns 0 and lastError() tells why.
  double QueryBuffer(double n) {
    query_.resize(static_cast<size_t>(n));
    return static_cast<double>(reinterpret_cast<uintptr_t>(query_.data()));
  }

  double SearchRaw(double n, double k, double ef, const std::string& filter_json) {
    last_error_ = Status::OK();
    if (!engine_) {
      last_error_ = Status::FailedPrecondition("store is closed");
      return 0;
    }
    SearchOptions options;
    Status s = NumericSearchOptions(k, ef, 0, filter_json, &options);
    if (!s.ok()) {
      last_error_ = s;
      return 0;
    }
    query_.resize(static_cast<size_t>(n));
    const double t0 = emscripten_get_now();
    s = engine_->Search(query_, options, &raw_result_);
    const double engine_us = (emscripten_get_now() - t0) * 1000;
    if (!s.ok()) {
      last_error_ = s;
      return 0;
    }
    const std::vector<SearchHit>& hits = raw_result_.hits;
    scores_.resize(hits.size());
    id_ends_.resize(hits.size());
    out_.clear();
    for (size_t i = 0; i < hits.size(); ++i) {
      scores_[i] = hits[i].score;
      out_ += hits[i].id;
      id_ends_[i] = static_cast<uint32_t>(out_.size());
    }
    raw_header_[0] = static_cast<uint32_t>(hits.size());
    raw_header_[1] = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(scores_.data()));
    raw_header_[2] = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(out_.data()));
    raw_header_[3] = static_cast<uint32_t>(out_.size());
    raw_header_[4] = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(id_ends_.data()));
    raw_header_[5] = static_cast<uint32_t>(engine_us);
    return static_cast<double>(reinterpret_cast<uintptr_t>(raw_header_));
  }

  val LastError() const { return last_error_.ok() ? Ok() : ErrorValue(last_error_); }

  val Explain(const val& query, const std::string& options_json) {
    if (!engine_) return Closed();
    SearchOptions options;
    Status s = SearchOptionsFromJson(options_json, &options);
    if (!s.ok()) return ErrorValue(s);
    std::string plan;
    s = engine_->Explain(FloatsFrom(query), options, &plan);
    return s.ok() ? JsonValue(plan) : ErrorValue(s);
  }

  val Scan(const std::string& options_json) {
    if (!engine_) return Closed();
    ScanOptions options;
    Status s = ScanOptionsFromJson(options_json, &options);
    if (!s.ok()) return ErrorValue(s);
    std::vector<Item> items;
    s = engine_->Scan(options, [&items](const Item& item) {
      items.push_back(item);
      return true;
    });
    if (!s.ok()) return ErrorValue(s);
    std::vector<const Item*> ptrs;
    for (const Item& i : items) ptrs.push_back(&i);
    return ItemsValue(ptrs, options.include_embedding);
  }

  val Count() {
    if (!engine_) return Closed();
    uint64_t n = 0;
    Status s = engine_->Count(&n);
    if (!s.ok()) return ErrorValue(s);
    val r = val::object();
    r.set("count", static_cast<double>(n));
    return r;
  }

  val Flush() { return engine_ ? Result(engine_->Flush()) : Closed(); }
  val Compact() { return engine_ ? Result(engine_->Compact()) : Closed(); }

  // defer_merges: MaintenanceStepOptions::defer_merges (the scheduler passes true while
  // writes keep coming).
  val MaintenanceStep(bool defer_merges) {
    if (!engine_) return Closed();
    bool did_work = false;
    MaintenanceStepOptions options;
    options.defer_merges = defer_merges;
    Status s = engine_->MaintenanceStep(&did_work, options);
    if (!s.ok()) return ErrorValue(s);
    val r = val::object();
    r.set("didWork", did_work);
    return r;
  }

  val Verify() {
    if (!engine_) return Closed();
    std::string report;
    bool healthy = false;
    Status s = engine_->Verify(&report, &healthy);
    if (!s.ok()) return ErrorValue(s);
    val r = JsonValue(report);
    r.set("healthy", healthy);
    return r;
  }

  val Describe(const std::string& view_name, const std::string& arg) {
    if (!engine_) return Closed();
    View view;
    Status s = ViewFromName(view_name, &view);
    if (!s.ok()) return ErrorValue(s);
    std::string json;
    s = engine_->Describe(view, arg, &json);
    return s.ok() ? JsonValue(json) : ErrorValue(s);
  }

  val CompactWal(double keep_entries) {
    if (!engine_) return Closed();
    std::string json;
    Status s = engine_->CompactWal(static_cast<uint64_t>(keep_entries), &json);
    return s.ok() ? JsonValue(json) : ErrorValue(s);
  }
  val TruncateWal() {
    if (!engine_) return Closed();
    std::string json;
    Status s = engine_->TruncateWal(&json);
    return s.ok() ? JsonValue(json) : ErrorValue(s);
  }
  val RebuildHnsw() {
    if (!engine_) return Closed();
    std::string json;
    Status s = engine_->RebuildHnsw({}, &json);
    return s.ok() ? JsonValue(json) : ErrorValue(s);
  }
  val RebuildGlobalIndex() {
    if (!engine_) return Closed();
    std::string json;
    Status s = engine_->RebuildGlobalIndex(&json);
    return s.ok() ? JsonValue(json) : ErrorValue(s);
  }

  // Log lines since the last call, as [{level, message}] JSON.
  std::string DrainLog() {
    std::string out = "[";
    for (size_t i = 0; i < log_.size(); ++i) {
      if (i) out += ',';
      out += "{\"level\":" + std::to_string(static_cast<int>(log_[i].level)) + ",\"message\":";
      json_util::AppendString(&out, log_[i].message);
      out += "}";
    }
    out += "]";
    log_.clear();
    return out;
  }

  val Close() {
    if (!engine_) return Ok();
    Status s = engine_->Close();
    engine_.reset();
    archive_env_.reset();
    return Result(s);
  }

  double Dim() const { return engine_ ? engine_->dim() : 0; }
  bool IsOpen() const { return engine_ != nullptr; }

 private:
  static constexpr size_t kMaxLogLines = 1000;
  struct LogLine {
    LogLevel level;
    std::string message;
  };

  static val Closed() { return ErrorValue(Status::FailedPrecondition("store is closed")); }
  static val Result(const Status& s) { return s.ok() ? Ok() : ErrorValue(s); }

  std::unique_ptr<Env> archive_env_;  // outlives engine_ (declared first)
  std::unique_ptr<Engine> engine_;
  std::vector<LogLine> log_;
  std::vector<float> scores_;  // the search methods', reused
  std::string out_;            // SearchFast's JSON or SearchRaw's ids, viewed by the caller
  std::vector<float> query_;   // SearchRaw's query, written by the caller (QueryBuffer)
  std::vector<uint32_t> id_ends_;
  SearchResult raw_result_;  // SearchRaw's, reused (keeps its capacity)
  uint32_t raw_header_[6] = {0, 0, 0, 0, 0, 0};
  Status last_error_;
};

// The Env and directory that inspect functions read: the host's files, or an archive.
Status InspectTarget(const std::string& dir, const std::string& archive,
                     std::unique_ptr<Env>* owned, Env** env, std::string* where) {
  *env = HostEnvSingleton();
  *where = dir;
  if (archive.empty()) return Status::OK();
  T4DX_RETURN_IF_ERROR(OpenSnapshotEnv(HostEnvSingleton(), archive, owned));
  *env = owned->get();
  *where = archive;
  return Status::OK();
}

std::string WalEntryToJson(const WalEntryInfo& e) {
  std::string out = "{\"file\":";
  json_util::AppendString(&out, e.file);
  out += ",\"line\":" + std::to_string(e.line) + ",\"offset\":" + std::to_string(e.offset) +
         ",\"length\":" + std::to_string(e.length) + ",\"lsn\":" + std::to_string(e.lsn) +
         ",\"last_lsn\":" + std::to_string(e.last_lsn) +
         ",\"timestamp\":" + std::to_string(e.timestamp) + ",\"op_type\":";
  json_util::AppendString(&out, e.op_type);
  out += ",\"ids\":[";
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (i) out += ',';
    json_util::AppendString(&out, e.ids[i]);
  }
  out += "]";
  if (!e.summary_json.empty()) out += ",\"summary\":" + e.summary_json;
  out += "}";
  return out;
}

// A ProgressFn calling the JavaScript function fn(done, total) (none when fn is null or
// undefined), at most once per thousandth of total. fn must not throw (the package wraps
// it): an exception thrown through WebAssembly frames skips their destructors.
ProgressFn JsProgress(const val& fn) {
  if (fn.isNull() || fn.isUndefined()) return ProgressFn();
  auto last = std::make_shared<int64_t>(-2);
  return [fn, last](uint64_t done, uint64_t total) {
    const int64_t permille =
        total == 0 ? -1 : static_cast<int64_t>(done >= total ? 1000 : done * 1000 / total);
    if (permille == *last) return;
    *last = permille;
    fn(static_cast<double>(done), static_cast<double>(total));
  };
}

// {report (JSON text), entries (JSON array text)}: at most `limit` entries from the
// skip-th valid one on (the report always covers every file). on_progress(done, total):
// bytes of the WAL files read.
val InspectWalProgress(const std::string& dir, const std::string& options_json,
                       const std::string& archive, const val& on_progress) {
  WalInspectOptions options;
  double limit = 10000, skip = 0;
  Status s = WalInspectOptionsFromJson(options_json, &options, &limit, &skip);
  if (!s.ok()) return ErrorValue(s);
  std::unique_ptr<Env> owned;
  Env* env = nullptr;
  std::string where;
  s = InspectTarget(dir, archive, &owned, &env, &where);
  if (!s.ok()) return ErrorValue(s);
  WalInspection report;
  std::string entries = "[";
  double seen = 0, kept = 0;
  s = InspectWal(
      env, where, options,
      [&](const WalEntryInfo& e) {
        if (seen++ < skip) return true;
        if (kept >= limit) return true;  // keep checking, stop collecting
        if (kept++ > 0) entries += ',';
        entries += WalEntryToJson(e);
        return true;
      },
      JsProgress(on_progress), &report);
  if (!s.ok()) return ErrorValue(s);
  entries += "]";
  val r = val::object();
  r.set("json", WalInspectionToJson(report));
  r.set("entries", entries);
  r.set("entriesSeen", seen);
  return r;
}

val InspectWalBinding(const std::string& dir, const std::string& options_json,
                      const std::string& archive) {
  return InspectWalProgress(dir, options_json, archive, val::null());
}

// on_progress(done, total): segment directories checked (+ the WAL, + the rest).
val CheckStoreFilesProgress(const std::string& dir, const std::string& options_json,
                            const std::string& archive, const val& on_progress) {
  StoreCheckOptions options;
  Status s = StoreCheckOptionsFromJson(options_json, &options);
  if (!s.ok()) return ErrorValue(s);
  std::unique_ptr<Env> owned;
  Env* env = nullptr;
  std::string where;
  s = InspectTarget(dir, archive, &owned, &env, &where);
  if (!s.ok()) return ErrorValue(s);
  StoreFilesReport report;
  s = CheckStoreFiles(env, where, options, JsProgress(on_progress), &report);
  if (!s.ok()) return ErrorValue(s);
  return JsonValue(StoreFilesReportToJson(report));
}

val CheckStoreFilesBinding(const std::string& dir, const std::string& options_json,
                           const std::string& archive) {
  return CheckStoreFilesProgress(dir, options_json, archive, val::null());
}

// on_progress(done, total): bytes hashed, out of twice the archive's member bytes (the
// digests, then the checks of the store inside).
val VerifySnapshotProgress(const std::string& archive, const val& on_progress) {
  SnapshotInfo info;
  Status s = VerifySnapshot(HostEnvSingleton(), archive, JsProgress(on_progress), &info);
  if (!s.ok()) return ErrorValue(s);
  val r = JsonValue(SnapshotInfoToJson(info));
  r.set("healthy", info.problems.empty());
  return r;
}

val VerifySnapshotBinding(const std::string& archive) {
  return VerifySnapshotProgress(archive, val::null());
}

}  // namespace
}  // namespace wasm
}  // namespace t4dx

EMSCRIPTEN_BINDINGS(t4dx) {
  using t4dx::wasm::Store;
  emscripten::function("constants", &t4dx::wasm::ConstantsJson);
  emscripten::function("inspectWal", &t4dx::wasm::InspectWalBinding);
  emscripten::function("checkStoreFiles", &t4dx::wasm::CheckStoreFilesBinding);
  emscripten::function("verifySnapshot", &t4dx::wasm::VerifySnapshotBinding);
  // The same with a progress callback fn(done, total) as the last argument.
  emscripten::function("inspectWal", &t4dx::wasm::InspectWalProgress);
  emscripten::function("checkStoreFiles", &t4dx::wasm::CheckStoreFilesProgress);
  emscripten::function("verifySnapshot", &t4dx::wasm::VerifySnapshotProgress);
  emscripten::class_<Store>("Store")
      .constructor<>()
      .function("open", &Store::Open)
      .function("put", &Store::Put)
      .function("get", &Store::Get)
      .function("remove", &Store::Delete)  // "delete" is embind's destructor
      .function("search", &Store::Search)
      .function("searchFast", &Store::SearchFast)
      .function("queryBuffer", &Store::QueryBuffer)
      .function("searchRaw", &Store::SearchRaw)
      .function("lastError", &Store::LastError)
      .function("explain", &Store::Explain)
      .function("scan", &Store::Scan)
      .function("count", &Store::Count)
      .function("flush", &Store::Flush)
      .function("compact", &Store::Compact)
      .function("maintenanceStep", &Store::MaintenanceStep)
      .function("verify", &Store::Verify)
      .function("describe", &Store::Describe)
      .function("compactWal", &Store::CompactWal)
      .function("truncateWal", &Store::TruncateWal)
      .function("rebuildHnsw", &Store::RebuildHnsw)
      .function("rebuildGlobalIndex", &Store::RebuildGlobalIndex)
      .function("drainLog", &Store::DrainLog)
      .function("close", &Store::Close)
      .function("dim", &Store::Dim)
      .function("isOpen", &Store::IsOpen);
}
