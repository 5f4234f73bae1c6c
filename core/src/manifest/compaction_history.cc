// compaction_history.jsonl: checksummed JSON lines, appended and bounded
// (core/doc/compaction_history_format.md).
#include "manifest/compaction_history.h"

#include <exception>
#include <nlohmann/json.hpp>

#include "manifest/json_fields.h"
#include "util/checksum.h"

namespace t4dx {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;
using manifest_internal::JsonFields;

constexpr int kHistoryVersion = 1;
constexpr char kChecksumField[] = ",\"checksum\":\"";  // then 16 hex digits, '"', '}'
constexpr size_t kChecksumFieldSize = sizeof(kChecksumField) - 1;
constexpr size_t kTrailerSize = kChecksumFieldSize + 16 + 2;
// No valid line is shorter than this, so a file below kMaxHistoryRecords * this size
// cannot hold too many lines and is not read back after an append.
constexpr uint64_t kMinLineSize = 150;

std::string HistoryPath(const std::string& dir) { return JoinPath(dir, kCompactionHistoryFile); }

// The line for r: its JSON object with ,"checksum":"<hex>"} in place of the final '}'.
std::string RecordLine(const CompactionRecord& r) {
  std::string line = CompactionRecordToJson(r);
  line.pop_back();  // '}'
  const uint64_t h = Hash64(line);
  line += kChecksumField;
  line += HashHex(h);
  line += "\"}\n";
  return line;
}

bool U64List(const Json& o, const char* key, std::vector<uint64_t>* out) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_array()) return false;
  for (const Json& v : *it) {
    if (!v.is_number_unsigned()) return false;
    out->push_back(v.get<uint64_t>());
  }
  return true;
}

// Parses one line (without its '\n'). False for a torn, rotted or foreign line.
bool ParseLine(std::string_view line, CompactionRecord* r) {
  if (line.size() < kTrailerSize + 2 || line.front() != '{') return false;
  const size_t body = line.size() - kTrailerSize;
  if (line.substr(body, kChecksumFieldSize) != kChecksumField ||
      line.substr(line.size() - 2) != "\"}") {
    return false;
  }
  uint64_t stored = 0;
  if (!ParseHashHex(line.substr(body + kChecksumFieldSize, 16), &stored) ||
      stored != Hash64(line.substr(0, body))) {
    return false;
  }
  try {
    Json j = Json::parse(line.begin(), line.end());
    if (!j.is_object()) return false;
    std::string why;
    JsonFields f(&why);
    uint64_t v = 0;
    CompactionRecord out;
    if (!f.U64(j, "v", &v) || v != static_cast<uint64_t>(kHistoryVersion) ||
        !f.Str(j, "kind", &out.kind) || !f.I64(j, "time_ms", &out.time_ms) ||
        !U64List(j, "inputs", &out.inputs) || !U64List(j, "outputs", &out.outputs) ||
        !f.U64(j, "items_in", &out.items_in) || !f.U64(j, "items_out", &out.items_out) ||
        !f.U64(j, "bytes_in", &out.bytes_in) || !f.U64(j, "bytes_out", &out.bytes_out) ||
        !f.U64(j, "dropped_versions", &out.dropped_versions) ||
        !f.I64(j, "duration_us", &out.duration_us)) {
      return false;
    }
    *r = std::move(out);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Keeps the newest kMaxHistoryRecords lines when the file holds more.
Status Rotate(Env* env, const std::string& path) {
  std::string data;
  T4DX_RETURN_IF_ERROR(ReadFileToString(env, path, &data));
  size_t lines = 0;
  for (char c : data) lines += c == '\n';
  if (lines <= kMaxHistoryRecords) return Status::OK();
  size_t skip = lines - kMaxHistoryRecords;
  size_t pos = 0;
  while (skip > 0) {
    pos = data.find('\n', pos) + 1;
    --skip;
  }
  return WriteFileAtomic(env, path, std::string_view(data).substr(pos));
}

}  // namespace

std::string CompactionRecordToJson(const CompactionRecord& r) {
  OrderedJson o;
  o["v"] = kHistoryVersion;
  o["kind"] = r.kind;
  o["time_ms"] = r.time_ms;
  o["inputs"] = r.inputs;
  o["outputs"] = r.outputs;
  o["items_in"] = r.items_in;
  o["items_out"] = r.items_out;
  o["bytes_in"] = r.bytes_in;
  o["bytes_out"] = r.bytes_out;
  o["dropped_versions"] = r.dropped_versions;
  o["duration_us"] = r.duration_us;
  return o.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status AppendCompactionRecord(Env* env, const std::string& dir, const CompactionRecord& r) {
  const std::string path = HistoryPath(dir);
  std::string line;
  try {
    line = RecordLine(r);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot encode a compaction record: ") + e.what());
  }
  const bool existed = env->FileExists(path);
  if (existed) {
    // A torn last line (crash mid-append) must not swallow this record: end it first.
    std::unique_ptr<RandomAccessFile> f;
    uint64_t size = 0;
    T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &f));
    T4DX_RETURN_IF_ERROR(f->Size(&size));
    std::string last;
    if (size > 0) T4DX_RETURN_IF_ERROR(f->Read(size - 1, 1, &last));
    if (last.size() == 1 && last[0] != '\n') line.insert(line.begin(), '\n');
  }
  std::unique_ptr<WritableFile> file;
  T4DX_RETURN_IF_ERROR(env->NewAppendableFile(path, &file));
  T4DX_RETURN_IF_ERROR(file->Append(line));
  T4DX_RETURN_IF_ERROR(file->Sync());
  const uint64_t size = file->Size();
  T4DX_RETURN_IF_ERROR(file->Close());
  if (!existed) T4DX_RETURN_IF_ERROR(env->SyncDir(dir));
  if (size > kMaxHistoryRecords * kMinLineSize) T4DX_RETURN_IF_ERROR(Rotate(env, path));
  return Status::OK();
}

Status ReadCompactionHistory(Env* env, const std::string& dir, std::vector<CompactionRecord>* out,
                             uint64_t* bad_lines) {
  out->clear();
  uint64_t bad = 0;
  std::string data;
  Status s = ReadFileToString(env, HistoryPath(dir), &data);
  if (s.IsNotFound()) {
    if (bad_lines != nullptr) *bad_lines = 0;
    return Status::OK();
  }
  T4DX_RETURN_IF_ERROR(s);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    const size_t end = nl == std::string::npos ? data.size() : nl;
    std::string_view line(data.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    CompactionRecord r;
    if (ParseLine(line, &r)) {
      out->push_back(std::move(r));
    } else {
      ++bad;  // a line without '\n' at the end is a torn append: bad too
    }
  }
  if (bad_lines != nullptr) *bad_lines = bad;
  return Status::OK();
}

}  // namespace t4dx
