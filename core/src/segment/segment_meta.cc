// meta.json: encoding, strict decoding and its content checksum. nlohmann::json is used
// only here and may throw; every call into it is inside a try block.
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "segment/segment_format.h"
#include "segment/segment_internal.h"
#include "t4dx/item.h"
#include "util/checksum.h"
#include "util/json_util.h"

namespace t4dx {
namespace segment_internal {
namespace {

using Json = nlohmann::json;                 // std::map keys: the canonical form
using OrderedJson = nlohmann::ordered_json;  // the operator-friendly file layout

constexpr auto kReplace = Json::error_handler_t::replace;

// The checksum of a meta object: XXH64 of the compact dump of the object without its
// "checksum" key, with keys in sorted order (nlohmann's std::map order).
std::string CanonicalChecksum(const Json& without_checksum) {
  return HashHex(Hash64(without_checksum.dump(-1, ' ', false, kReplace)));
}

OrderedJson FileJson(const FileInfo& f) {
  OrderedJson o;
  o["size"] = f.size;
  o["block_size"] = kSegmentBlockSize;
  OrderedJson blocks = OrderedJson::array();
  for (uint64_t h : f.blocks) blocks.push_back(HashHex(h));
  o["blocks"] = std::move(blocks);
  return o;
}

OrderedJson StatsJson(const SegmentStats& s) {
  OrderedJson o;
  o["kinds"] = OrderedJson::object();
  for (const auto& [k, n] : s.kinds) o["kinds"][k] = n;
  o["values"] = OrderedJson::object();
  for (const auto& [key, vals] : s.values) {
    OrderedJson v = OrderedJson::object();
    for (const auto& [val, n] : vals) v[val] = n;
    o["values"][key] = std::move(v);
  }
  o["overflow"] = OrderedJson::array();
  for (const auto& [key, on] : s.overflow) {
    if (on) o["overflow"].push_back(key);
  }
  o["key_counts"] = OrderedJson::object();
  for (const auto& [key, n] : s.key_counts) o["key_counts"][key] = n;
  return o;
}

// Strict field access: every getter checks presence and type, and records why not.
class Fields {
 public:
  explicit Fields(std::string* why) : why_(why) {}

  bool U64(const Json& o, const char* key, uint64_t* v) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_unsigned()) {
      return Fail(std::string("field \"") + key + "\" is missing or not a non-negative integer");
    }
    *v = it->get<uint64_t>();
    return true;
  }
  bool I64(const Json& o, const char* key, int64_t* v) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_integer() ||
        (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t{INT64_MAX})) {
      return Fail(std::string("field \"") + key + "\" is missing or not a 64-bit integer");
    }
    *v = it->get<int64_t>();
    return true;
  }
  bool Str(const Json& o, const char* key, std::string* v) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) {
      return Fail(std::string("field \"") + key + "\" is missing or not a string");
    }
    *v = it->get<std::string>();
    return true;
  }
  const Json* Obj(const Json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_object()) {
      Fail(std::string("field \"") + key + "\" is missing or not an object");
      return nullptr;
    }
    return &*it;
  }
  const Json* Arr(const Json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_array()) {
      Fail(std::string("field \"") + key + "\" is missing or not an array");
      return nullptr;
    }
    return &*it;
  }
  // An object whose every value is a non-negative integer.
  bool CountMap(const Json& o, const std::string& what, std::map<std::string, uint64_t>* out) {
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (!it.value().is_number_unsigned()) {
        return Fail(what + "[\"" + it.key() + "\"] is not a non-negative integer");
      }
      (*out)[it.key()] = it.value().get<uint64_t>();
    }
    return true;
  }
  bool Fail(const std::string& why) {
    *why_ = why;
    return false;
  }

 private:
  std::string* why_;
};

bool DecodeFile(Fields* f, const Json& files, const char* name, FileInfo* info) {
  const Json* o = f->Obj(files, name);
  if (o == nullptr) return false;
  info->name = name;
  uint64_t block_size = 0;
  if (!f->U64(*o, "size", &info->size) || !f->U64(*o, "block_size", &block_size)) return false;
  if (block_size != kSegmentBlockSize) {
    return f->Fail(std::string(name) + " block_size is " + std::to_string(block_size) +
                   ", expected " + std::to_string(kSegmentBlockSize));
  }
  const Json* blocks = f->Arr(*o, "blocks");
  if (blocks == nullptr) return false;
  uint64_t want = info->size / kSegmentBlockSize + (info->size % kSegmentBlockSize != 0);
  if (blocks->size() != want) {
    return f->Fail(std::string(name) + " lists " + std::to_string(blocks->size()) +
                   " block checksums, its size needs " + std::to_string(want));
  }
  info->blocks.clear();
  info->blocks.reserve(blocks->size());
  for (const Json& b : *blocks) {
    uint64_t h = 0;
    if (!b.is_string() || !ParseHashHex(b.get<std::string>(), &h)) {
      return f->Fail(std::string(name) + " has a block checksum that is not 16 hex digits");
    }
    info->blocks.push_back(h);
  }
  return true;
}

bool DecodeStats(Fields* f, const Json& o, SegmentStats* s) {
  const Json* kinds = f->Obj(o, "kinds");
  const Json* values = f->Obj(o, "values");
  const Json* overflow = f->Arr(o, "overflow");
  const Json* key_counts = f->Obj(o, "key_counts");
  if (!kinds || !values || !overflow || !key_counts) return false;
  if (!f->CountMap(*kinds, "stats.kinds", &s->kinds)) return false;
  for (auto it = values->begin(); it != values->end(); ++it) {
    if (!it.value().is_object())
      return f->Fail("stats.values[\"" + it.key() + "\"] is not an object");
    if (!f->CountMap(it.value(), "stats.values[\"" + it.key() + "\"]", &s->values[it.key()])) {
      return false;
    }
  }
  for (const Json& k : *overflow) {
    if (!k.is_string()) return f->Fail("stats.overflow holds a non-string");
    s->overflow[k.get<std::string>()] = true;
  }
  return f->CountMap(*key_counts, "stats.key_counts", &s->key_counts);
}

// Checks that hold between fields (counts against sizes, ranges).
bool CheckConsistency(Fields* f, const SegmentMeta& m, const std::vector<FileInfo>& files) {
  const FileInfo& vectors = files[1];
  const FileInfo& ids = files[2];
  if (m.live > m.count) return f->Fail("live > count");
  if (m.vectors > m.live) return f->Fail("vectors > live");
  if (m.dim > kMaxDimension) return f->Fail("dim " + std::to_string(m.dim) + " is too large");
  if (m.lsn_min > m.lsn_max) return f->Fail("lsn_min > lsn_max");
  if (m.time_min > m.time_max) return f->Fail("time_min > time_max");
  uint64_t row_bytes = uint64_t{m.dim} * sizeof(float);
  bool vectors_ok = row_bytes == 0
                        ? (vectors.size == 0 && m.vectors == 0)
                        : (vectors.size % row_bytes == 0 && vectors.size / row_bytes == m.vectors);
  if (!vectors_ok) {
    return f->Fail("vectors.f32 size " + std::to_string(vectors.size) + " is not vectors (" +
                   std::to_string(m.vectors) + ") x dim (" + std::to_string(m.dim) + ") x 4");
  }
  if (ids.size < kIdIndexHeaderSize ||
      m.count > (ids.size - kIdIndexHeaderSize) / kIdIndexMinEntrySize) {
    return f->Fail("ids.idx size " + std::to_string(ids.size) + " cannot hold " +
                   std::to_string(m.count) + " entries");
  }
  return true;
}

}  // namespace

std::string EncodeSegmentMeta(SegmentMeta* meta, const std::vector<FileInfo>& files) {
  OrderedJson o;
  o["format"] = kMetaFormatName;
  o["version"] = kSegmentFormatVersion;
  o["id"] = meta->id;
  o["count"] = meta->count;
  o["live"] = meta->live;
  o["vectors"] = meta->vectors;
  o["dim"] = meta->dim;
  o["metric"] = MetricName(meta->metric);
  o["lsn_min"] = meta->lsn_min;
  o["lsn_max"] = meta->lsn_max;
  o["time_min"] = meta->time_min;
  o["time_max"] = meta->time_max;
  o["created_ms"] = meta->created_ms;
  o["inputs"] = meta->inputs;
  o["files"] = OrderedJson::object();
  for (const FileInfo& f : files) o["files"][f.name] = FileJson(f);
  o["stats"] = StatsJson(meta->stats);
  // Re-parsing our own output cannot fail; it turns the ordered layout into the canonical
  // sorted form the reader will rebuild.
  meta->meta_checksum = CanonicalChecksum(Json::parse(o.dump(-1, ' ', false, kReplace)));
  o["checksum"] = meta->meta_checksum;
  return o.dump(2, ' ', false, kReplace) + "\n";
}

Status DecodeSegmentMeta(const std::string& path, std::string_view text, SegmentMeta* meta,
                         std::vector<FileInfo>* files) {
  SegmentMeta m;
  std::vector<FileInfo> fs(3);
  std::string why;
  Fields f(&why);
  if (!json_util::NestingWithin(text, json_util::kMaxJsonDepth)) {
    return InvalidSegmentFile(path, -1, "meta.json nests deeper than " +
                                            std::to_string(json_util::kMaxJsonDepth) + " levels");
  }
  try {
    Json j;
    try {
      j = Json::parse(text.begin(), text.end());
    } catch (const Json::parse_error& e) {
      return InvalidSegmentFile(path, static_cast<int64_t>(e.byte),
                                std::string("meta.json is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) return InvalidSegmentFile(path, -1, "meta.json is not a JSON object");
    std::string format;
    if (!f.Str(j, "format", &format)) return InvalidSegmentFile(path, -1, why);
    if (format != kMetaFormatName) {
      return InvalidSegmentFile(
          path, -1, "format is \"" + format + "\", expected \"" + kMetaFormatName + "\"");
    }
    uint64_t version = 0;
    if (!f.U64(j, "version", &version)) return InvalidSegmentFile(path, -1, why);
    if (version > static_cast<uint64_t>(kSegmentFormatVersion)) {
      return Status::NotSupported(path + ": segment format version " + std::to_string(version) +
                                  " is newer than this build (" +
                                  std::to_string(kSegmentFormatVersion) + ")");
    }
    if (version != static_cast<uint64_t>(kSegmentFormatVersion)) {
      return InvalidSegmentFile(path, -1, "format version " + std::to_string(version));
    }
    std::string stored;
    if (!f.Str(j, "checksum", &stored)) return InvalidSegmentFile(path, -1, why);
    Json body = j;
    body.erase("checksum");
    const std::string computed = CanonicalChecksum(body);
    if (stored != computed) {
      return ChecksumMismatch(
          path, -1, "meta.json content checksum: stored " + stored + ", computed " + computed);
    }
    m.format_version = static_cast<int>(version);
    m.meta_checksum = stored;
    uint64_t dim = 0;
    std::string metric;
    const Json* inputs = nullptr;
    const Json* file_obj = nullptr;
    const Json* stats = nullptr;
    bool ok = f.U64(j, "id", &m.id) && f.U64(j, "count", &m.count) && f.U64(j, "live", &m.live) &&
              f.U64(j, "vectors", &m.vectors) && f.U64(j, "dim", &dim) &&
              f.Str(j, "metric", &metric) && f.U64(j, "lsn_min", &m.lsn_min) &&
              f.U64(j, "lsn_max", &m.lsn_max) && f.I64(j, "time_min", &m.time_min) &&
              f.I64(j, "time_max", &m.time_max) && f.I64(j, "created_ms", &m.created_ms) &&
              (inputs = f.Arr(j, "inputs")) != nullptr &&
              (file_obj = f.Obj(j, "files")) != nullptr && (stats = f.Obj(j, "stats")) != nullptr;
    if (!ok) return InvalidSegmentFile(path, -1, why);
    if (dim > kMaxDimension) return InvalidSegmentFile(path, -1, "dim " + std::to_string(dim));
    m.dim = static_cast<uint32_t>(dim);
    if (!ParseMetric(metric, &m.metric).ok() || metric != MetricName(m.metric)) {
      return InvalidSegmentFile(path, -1, "unknown metric \"" + metric + "\"");
    }
    for (const Json& in : *inputs) {
      if (!in.is_number_unsigned()) return InvalidSegmentFile(path, -1, "inputs holds a non-id");
      m.inputs.push_back(in.get<uint64_t>());
    }
    if (file_obj->size() != 3) {
      return InvalidSegmentFile(path, -1,
                                "files must list exactly items.jsonl, vectors.f32, ids.idx");
    }
    ok = DecodeFile(&f, *file_obj, kSegmentItemsFile, &fs[0]) &&
         DecodeFile(&f, *file_obj, kSegmentVectorsFile, &fs[1]) &&
         DecodeFile(&f, *file_obj, kSegmentIdsFile, &fs[2]) && DecodeStats(&f, *stats, &m.stats) &&
         CheckConsistency(&f, m, fs);
    if (!ok) return InvalidSegmentFile(path, -1, why);
  } catch (const std::exception& e) {
    return InvalidSegmentFile(path, -1, std::string("meta.json: ") + e.what());
  }
  m.total_bytes = text.size();
  for (const FileInfo& fi : fs) m.total_bytes += fi.size;
  *meta = std::move(m);
  if (files != nullptr) *files = std::move(fs);
  return Status::OK();
}

Status LoadSegmentMeta(Env* env, const std::string& seg_dir, SegmentMeta* meta,
                       std::vector<FileInfo>* files) {
  const std::string path = JoinPath(seg_dir, kSegmentMetaFile);
  uint64_t size = 0;
  Status s = env->GetFileSize(path, &size);
  bool is_dir = false;
  if (s.IsNotFound() && env->IsDirectory(seg_dir, &is_dir).ok() && is_dir) {
    // The directory is there without its meta.json: a damaged segment, not a missing one.
    return InvalidSegmentFile(path, -1, "meta.json is missing");
  }
  T4DX_RETURN_IF_ERROR(s);
  if (size > kMaxMetaFileSize) {
    return InvalidSegmentFile(
        path, -1, "meta.json is " + std::to_string(size) + " bytes, more than any segment writes");
  }
  std::string text;
  T4DX_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  SegmentMeta m;
  T4DX_RETURN_IF_ERROR(DecodeSegmentMeta(path, text, &m, files));
  // The directory name, when it is a segment name, must agree with the id inside.
  size_t slash = seg_dir.find_last_of('/');
  std::string base = slash == std::string::npos ? seg_dir : seg_dir.substr(slash + 1);
  uint64_t dir_id = 0;
  if (ParseSegmentDirName(base, &dir_id) && dir_id != m.id) {
    return InvalidSegmentFile(
        path, -1,
        "meta.json names segment " + std::to_string(m.id) + " but the directory is " + base);
  }
  *meta = std::move(m);
  return Status::OK();
}

}  // namespace segment_internal

Status ReadSegmentMeta(Env* env, const std::string& seg_dir, SegmentMeta* meta) {
  return segment_internal::LoadSegmentMeta(env, seg_dir, meta, nullptr);
}

}  // namespace t4dx
