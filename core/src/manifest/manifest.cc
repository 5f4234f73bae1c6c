// global_index.json: encoding, strict reading and atomic replacement
// (core/doc/global_index_format.md). nlohmann::json may throw; every call into it is
// inside a try block.
#include "manifest/manifest.h"

#include <exception>
#include <nlohmann/json.hpp>

#include "manifest/json_fields.h"
#include "t4dx/item.h"
#include "util/checksum.h"
#include "util/json_util.h"

namespace t4dx {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;
using manifest_internal::JsonFields;

constexpr char kFormatName[] = "t4dx-global-index";
constexpr auto kReplace = Json::error_handler_t::replace;

// XXH64 of the compact dump, keys sorted, of the object without "checksum".
std::string CanonicalChecksum(const Json& without_checksum) {
  return HashHex(Hash64(without_checksum.dump(-1, ' ', false, kReplace)));
}

// Returns "" when m is consistent, else the first reason it is not.
std::string CheckManifest(const Manifest& m) {
  if (m.dim > kMaxDimension) return "dim " + std::to_string(m.dim) + " is too large";
  if (m.next_segment_id == 0) return "next_segment_id is 0";
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const ManifestSegment& s = m.segments[i];
    const std::string where =
        "segments[" + std::to_string(i) + "] (id " + std::to_string(s.id) + "): ";
    if (s.id == 0) return where + "id 0 is reserved";
    if (i > 0 && s.id <= m.segments[i - 1].id) return where + "ids are not sorted and unique";
    if (s.id >= m.next_segment_id) return where + "id is not below next_segment_id";
    if (s.live > s.count) return where + "live > count";
    if (s.lsn_min > s.lsn_max) return where + "lsn_min > lsn_max";
    if (s.time_min > s.time_max) return where + "time_min > time_max";
    uint64_t h = 0;
    if (!ParseHashHex(s.meta_checksum, &h) || HashHex(h) != s.meta_checksum) {
      return where + "meta_checksum \"" + s.meta_checksum + "\" is not 16 lowercase hex digits";
    }
  }
  for (size_t i = 0; i < m.quarantined.size(); ++i) {
    if (m.quarantined[i].lsn_min > m.quarantined[i].lsn_max) {
      return "quarantined[" + std::to_string(i) + "]: lsn_min > lsn_max";
    }
  }
  return "";
}

OrderedJson ManifestObject(const Manifest& m) {
  OrderedJson o;
  o["format"] = kFormatName;
  o["version"] = kManifestFormatVersion;
  o["generation"] = m.generation;
  o["dim"] = m.dim;
  o["metric"] = MetricName(m.metric);
  o["durable_lsn"] = m.durable_lsn;
  o["hnsw_lsn"] = m.hnsw_lsn;
  o["next_segment_id"] = m.next_segment_id;
  o["segments"] = OrderedJson::array();
  for (const ManifestSegment& s : m.segments) {
    OrderedJson e;
    e["id"] = s.id;
    e["count"] = s.count;
    e["live"] = s.live;
    e["lsn_min"] = s.lsn_min;
    e["lsn_max"] = s.lsn_max;
    e["time_min"] = s.time_min;
    e["time_max"] = s.time_max;
    e["bytes"] = s.bytes;
    e["meta_checksum"] = s.meta_checksum;
    o["segments"].push_back(std::move(e));
  }
  o["quarantined"] = OrderedJson::array();
  for (const QuarantineRecord& q : m.quarantined) {
    OrderedJson e;
    e["what"] = q.what;
    e["moved_to"] = q.moved_to;
    e["lsn_min"] = q.lsn_min;
    e["lsn_max"] = q.lsn_max;
    e["id_min"] = q.id_min;
    e["id_max"] = q.id_max;
    e["reason"] = q.reason;
    e["time_ms"] = q.time_ms;
    o["quarantined"].push_back(std::move(e));
  }
  return o;
}

bool DecodeSegments(JsonFields* f, const Json& arr, std::vector<ManifestSegment>* out) {
  for (size_t i = 0; i < arr.size(); ++i) {
    const Json& e = arr[i];
    f->SetPrefix("segments[" + std::to_string(i) + "]: ");
    if (!e.is_object()) return f->Fail("not an object");
    ManifestSegment s;
    if (!f->U64(e, "id", &s.id) || !f->U64(e, "count", &s.count) || !f->U64(e, "live", &s.live) ||
        !f->U64(e, "lsn_min", &s.lsn_min) || !f->U64(e, "lsn_max", &s.lsn_max) ||
        !f->I64(e, "time_min", &s.time_min) || !f->I64(e, "time_max", &s.time_max) ||
        !f->U64(e, "bytes", &s.bytes) || !f->Str(e, "meta_checksum", &s.meta_checksum)) {
      return false;
    }
    out->push_back(std::move(s));
  }
  f->SetPrefix("");
  return true;
}

bool DecodeQuarantine(JsonFields* f, const Json& arr, std::vector<QuarantineRecord>* out) {
  for (size_t i = 0; i < arr.size(); ++i) {
    const Json& e = arr[i];
    f->SetPrefix("quarantined[" + std::to_string(i) + "]: ");
    if (!e.is_object()) return f->Fail("not an object");
    QuarantineRecord q;
    if (!f->Str(e, "what", &q.what) || !f->Str(e, "moved_to", &q.moved_to) ||
        !f->U64(e, "lsn_min", &q.lsn_min) || !f->U64(e, "lsn_max", &q.lsn_max) ||
        !f->Str(e, "id_min", &q.id_min) || !f->Str(e, "id_max", &q.id_max) ||
        !f->Str(e, "reason", &q.reason) || !f->I64(e, "time_ms", &q.time_ms)) {
      return false;
    }
    out->push_back(std::move(q));
  }
  f->SetPrefix("");
  return true;
}

Status Bad(const std::string& path, int64_t offset, const std::string& reason) {
  return Status::CorruptionAt(path, 0, offset, reason);
}

Status DecodeManifest(const std::string& path, const std::string& text, Manifest* out) {
  if (!json_util::NestingWithin(text, json_util::kMaxJsonDepth)) {
    return Bad(path, -1, "JSON nests deeper than " + std::to_string(json_util::kMaxJsonDepth) +
                             " levels");
  }
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Bad(path, static_cast<int64_t>(e.byte), std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object()) return Bad(path, -1, "not a JSON object");
  std::string why;
  JsonFields f(&why);
  std::string format, metric, stored;
  uint64_t version = 0;
  if (!f.Str(j, "format", &format)) return Bad(path, -1, why);
  if (format != kFormatName) {
    return Bad(path, -1, "format is \"" + format + "\", expected \"" + kFormatName + "\"");
  }
  if (!f.U64(j, "version", &version)) return Bad(path, -1, why);
  if (version > static_cast<uint64_t>(kManifestFormatVersion)) {
    return Status::NotSupported(path + ": global_index.json format version " +
                                std::to_string(version) + " is newer than this build (" +
                                std::to_string(kManifestFormatVersion) + ")");
  }
  if (version != static_cast<uint64_t>(kManifestFormatVersion)) {
    return Bad(path, -1, "format version " + std::to_string(version) + " is not supported");
  }
  if (!f.Str(j, "checksum", &stored)) return Bad(path, -1, why);
  Json body = j;
  body.erase("checksum");
  const std::string computed = CanonicalChecksum(body);
  if (stored != computed) {
    return Bad(path, -1, "checksum mismatch: stored \"" + stored + "\", computed " + computed);
  }
  Manifest m;
  m.format_version = static_cast<int>(version);
  uint64_t dim = 0;
  const Json* segments = nullptr;
  const Json* quarantined = nullptr;
  bool ok = f.U64(j, "generation", &m.generation) && f.U64(j, "dim", &dim) &&
            f.Str(j, "metric", &metric) && f.U64(j, "durable_lsn", &m.durable_lsn) &&
            f.U64(j, "hnsw_lsn", &m.hnsw_lsn) && f.U64(j, "next_segment_id", &m.next_segment_id) &&
            (segments = f.Arr(j, "segments")) != nullptr &&
            (quarantined = f.Arr(j, "quarantined")) != nullptr &&
            DecodeSegments(&f, *segments, &m.segments) &&
            DecodeQuarantine(&f, *quarantined, &m.quarantined);
  if (!ok) return Bad(path, -1, why);
  if (dim > kMaxDimension) return Bad(path, -1, "dim " + std::to_string(dim) + " is too large");
  m.dim = static_cast<uint32_t>(dim);
  if (!ParseMetric(metric, &m.metric).ok() || metric != MetricName(m.metric)) {
    return Bad(path, -1, "unknown metric \"" + metric + "\"");
  }
  const std::string reason = CheckManifest(m);
  if (!reason.empty()) return Bad(path, -1, reason);
  *out = std::move(m);
  return Status::OK();
}

Status ReadManifestFile(Env* env, const std::string& path, Manifest* m) {
  std::string text;
  T4DX_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  try {
    return DecodeManifest(path, text, m);
  } catch (const std::exception& e) {
    return Bad(path, -1, std::string("unreadable: ") + e.what());
  }
}

}  // namespace

std::string ManifestToJson(const Manifest& m) {
  OrderedJson o = ManifestObject(m);
  // Re-parsing our own output cannot fail: it yields the canonical (sorted) form.
  o["checksum"] = CanonicalChecksum(Json::parse(o.dump(-1, ' ', false, kReplace)));
  return o.dump(2, ' ', false, kReplace) + "\n";
}

Status ReadManifest(Env* env, const std::string& dir, Manifest* m) {
  return ReadManifestFile(env, JoinPath(dir, kManifestFile), m);
}

Status WriteManifest(Env* env, const std::string& dir, const Manifest& m) {
  const std::string reason = CheckManifest(m);
  if (!reason.empty()) {
    return Status::InvalidArgument("refusing to write " + JoinPath(dir, kManifestFile) + ": " +
                                   reason);
  }
  std::string text;
  try {
    text = ManifestToJson(m);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot encode the manifest: ") + e.what());
  }
  return WriteFileAtomic(env, JoinPath(dir, kManifestFile), text);
}

}  // namespace t4dx
