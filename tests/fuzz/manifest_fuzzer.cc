// Fuzz target: global_index.json (ReadManifest over an in-memory Env). The input is the
// file; it is read as given and again "vouched" (parsed and re-sealed with a correct content
// checksum, when it is a JSON object) so the field checks see the hostile values.
// Properties: failures are kCorruption or kNotSupported with a message; a manifest that
// reads is consistent enough to be written back (WriteManifest) and reads back equal.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.h"
#include "manifest/manifest.h"
#include "t4dx/env.h"
#include "util/checksum.h"

namespace t4dx {
namespace fuzz {
namespace {

using Json = nlohmann::json;
constexpr char kStore[] = "/store";

bool SameSegment(const ManifestSegment& a, const ManifestSegment& b) {
  return a.id == b.id && a.count == b.count && a.live == b.live && a.lsn_min == b.lsn_min &&
         a.lsn_max == b.lsn_max && a.time_min == b.time_min && a.time_max == b.time_max &&
         a.bytes == b.bytes && a.meta_checksum == b.meta_checksum;
}

bool SameQuarantine(const QuarantineRecord& a, const QuarantineRecord& b) {
  return a.what == b.what && a.moved_to == b.moved_to && a.lsn_min == b.lsn_min &&
         a.lsn_max == b.lsn_max && a.id_min == b.id_min && a.id_max == b.id_max &&
         a.reason == b.reason && a.time_ms == b.time_ms;
}

bool SameManifest(const Manifest& a, const Manifest& b) {
  if (a.format_version != b.format_version || a.generation != b.generation || a.dim != b.dim ||
      a.metric != b.metric || a.durable_lsn != b.durable_lsn || a.hnsw_lsn != b.hnsw_lsn ||
      a.next_segment_id != b.next_segment_id || a.segments.size() != b.segments.size() ||
      a.quarantined.size() != b.quarantined.size()) {
    return false;
  }
  for (size_t i = 0; i < a.segments.size(); ++i) {
    if (!SameSegment(a.segments[i], b.segments[i])) return false;
  }
  for (size_t i = 0; i < a.quarantined.size(); ++i) {
    if (!SameQuarantine(a.quarantined[i], b.quarantined[i])) return false;
  }
  return true;
}

void Put(Env* env, std::string_view text) {
  std::unique_ptr<WritableFile> f;
  if (!env->NewWritableFile(JoinPath(kStore, kManifestFile), &f).ok() || !f->Append(text).ok() ||
      !f->Close().ok()) {
    ReportFailure(__FILE__, __LINE__, "cannot write the in-memory manifest");
  }
}

void ReadOne(std::string_view text) {
  std::unique_ptr<Env> env = NewMemEnv();
  env->CreateDir(kStore);
  Put(env.get(), text);
  Manifest m;
  Status s = ReadManifest(env.get(), kStore, &m);
  if (!s.ok()) {
    T4DX_FUZZ_CHECK(s.IsCorruption() || s.code() == Status::Code::kNotSupported,
                    "ReadManifest failed with an unexpected code: " + s.ToString());
    T4DX_FUZZ_CHECK(!s.message().empty(), "a manifest error without a message");
    return;
  }
  s = WriteManifest(env.get(), kStore, m);
  T4DX_FUZZ_CHECK(s.ok(), "a manifest that reads cannot be written back: " + s.ToString());
  Manifest again;
  s = ReadManifest(env.get(), kStore, &again);
  T4DX_FUZZ_CHECK(s.ok(), "a written manifest does not read back: " + s.ToString());
  T4DX_FUZZ_CHECK(!s.ok() || SameManifest(m, again), "a manifest changes when written back");
}

}  // namespace

int FuzzManifest(const uint8_t* data, size_t size) {
  const std::string_view text = AsView(data, size);
  ReadOne(text);
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    j.erase("checksum");
    j["checksum"] = HashHex(Hash64(j.dump(-1, ' ', false, Json::error_handler_t::replace)));
    ReadOne(j.dump(2, ' ', false, Json::error_handler_t::replace));
  }
  return 0;
}

}  // namespace fuzz
}  // namespace t4dx

T4DX_FUZZ_ENTRY(FuzzManifest)
