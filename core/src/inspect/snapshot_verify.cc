// VerifySnapshot and RestoreSnapshot: every checksum in an archive is checked before a
// single byte of a restored store is written.
#include <algorithm>
#include <map>
#include <set>

#include "inspect/inspect_internal.h"
#include "inspect/snapshot_internal.h"
#include "inspect/tar.h"
#include "util/checksum.h"
#include "util/json_util.h"
#include "wal/wal_format.h"

namespace t4dx {
namespace snapshot_internal {

Status WriteWhole(Env* env, const std::string& path, std::string_view data) {
  std::unique_ptr<WritableFile> f;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(path, &f));
  T4DX_RETURN_IF_ERROR(f->Append(data));
  T4DX_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

std::string SnapshotManifestText(const SnapshotInfo& info, const std::string& source_dir) {
  nlohmann::json members = nlohmann::json::array();
  for (const SnapshotMemberInfo& m : info.members) {
    members.push_back({{"name", m.name}, {"bytes", m.bytes}, {"xxh64", m.xxh64}});
  }
  nlohmann::json j = {
      {"format", "t4dx-snapshot"},       {"version", kSnapshotFormatVersion},
      {"created_ms", info.created_ms},   {"source", source_dir},
      {"attempts", info.attempts},       {"manifest_generation", info.manifest_generation},
      {"durable_lsn", info.durable_lsn}, {"segments", info.segments},
      {"wal_files", info.wal_files},     {"total_bytes", info.total_bytes},
      {"members", std::move(members)}};
  std::string text = inspect_internal::Dump(j);
  text.pop_back();  // the closing '}'
  const std::string sum = HashHex(Hash64(text));
  text += ",\"checksum\":\"" + sum + "\"}\n";
  return text;
}

Status ParseSnapshotManifest(std::string_view text, const std::string& where, SnapshotInfo* info) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  const std::string_view field = ",\"checksum\":\"";
  const size_t at = text.rfind(field);
  if (at == std::string_view::npos || text.size() != at + field.size() + 16 + 2 ||
      text.substr(text.size() - 2) != "\"}") {
    return Status::CorruptionAt(where, 0, -1, "no checksum trailer");
  }
  uint64_t stored = 0;
  if (!ParseHashHex(text.substr(at + field.size(), 16), &stored)) {
    return Status::CorruptionAt(where, 0, static_cast<int64_t>(at),
                                "checksum is not 16 hex digits");
  }
  const uint64_t computed = Hash64(text.substr(0, at));
  if (stored != computed) {
    return Status::CorruptionAt(
        where, 0, 0,
        "checksum mismatch (stored " + HashHex(stored) + ", computed " + HashHex(computed) + ")");
  }
  nlohmann::json j;
  std::string reason;
  if (!json_util::Parse(text, &j, &reason)) return Status::CorruptionAt(where, 0, -1, reason);
  try {
    if (!j.is_object() || j.value("format", "") != "t4dx-snapshot") {
      return Status::CorruptionAt(where, 0, -1, "not a t4dx snapshot manifest");
    }
    const int version = j.value("version", 0);
    if (version != kSnapshotFormatVersion) {
      return Status::NotSupported(where + ": snapshot format version " + std::to_string(version) +
                                  " (this build reads version " +
                                  std::to_string(kSnapshotFormatVersion) + ")");
    }
    info->created_ms = j.value("created_ms", int64_t{0});
    info->manifest_generation = j.value("manifest_generation", uint64_t{0});
    info->durable_lsn = j.value("durable_lsn", uint64_t{0});
    info->segments = j.value("segments", uint64_t{0});
    info->wal_files = j.value("wal_files", uint64_t{0});
    info->members.clear();
    for (const auto& m : j.at("members")) {
      info->members.push_back({m.at("name").get<std::string>(), m.at("bytes").get<uint64_t>(),
                               m.at("xxh64").get<std::string>()});
    }
  } catch (const std::exception& e) {
    return Status::CorruptionAt(where, 0, -1, std::string("bad field: ") + e.what());
  }
  return Status::OK();
}

}  // namespace snapshot_internal

namespace {

FileProblem SnapProblem(const std::string& file, int64_t offset, std::string reason) {
  FileProblem p;
  p.area = "snapshot";
  p.file = file;
  p.offset = offset;
  p.reason = std::move(reason);
  return p;
}

// Hashes a member's data (and optionally copies it to out).
Status HashMember(const RandomAccessFile& tar, const TarMember& m, WritableFile* out,
                  uint64_t* digest, const std::function<void(uint64_t)>& advanced) {
  Hasher h;
  std::string buf;
  uint64_t off = 0;
  while (off < m.size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(m.size - off, 1u << 20));
    T4DX_RETURN_IF_ERROR(tar.Read(m.data_offset + off, want, &buf));
    if (buf.size() != want) return Status::IOError("short read of " + m.name);
    h.Update(buf);
    if (out != nullptr) T4DX_RETURN_IF_ERROR(out->Append(buf));
    off += want;
    if (advanced) advanced(want);
  }
  *digest = h.Digest();
  return Status::OK();
}

}  // namespace

Status VerifySnapshot(Env* env, const std::string& tar_path, ProgressFn progress,
                      SnapshotInfo* info) {
  *info = SnapshotInfo();
  info->path = tar_path;
  std::unique_ptr<RandomAccessFile> tar;
  T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(tar_path, &tar));
  std::vector<TarMember> members;
  T4DX_RETURN_IF_ERROR(ReadTarIndex(*tar, tar_path, &members));

  // 1. The snapshot's own manifest and every member's digest.
  const TarMember* self = nullptr;
  uint64_t total = 0;
  for (const TarMember& m : members) {
    if (m.name == kSnapshotManifestName) self = &m;
    total += m.size;
  }
  const std::string self_path = tar_path + "/" + kSnapshotManifestName;
  std::map<std::string, SnapshotMemberInfo> listed;
  if (self == nullptr) {
    info->problems.push_back(
        SnapProblem(self_path, -1, "not a t4dx snapshot: the archive has no t4dx_snapshot.json"));
  } else {
    std::string text;
    T4DX_RETURN_IF_ERROR(tar->Read(self->data_offset, static_cast<size_t>(self->size), &text));
    SnapshotInfo parsed;
    Status s = snapshot_internal::ParseSnapshotManifest(text, self_path, &parsed);
    if (!s.ok()) {
      info->problems.push_back(
          SnapProblem(self_path, static_cast<int64_t>(self->data_offset), s.ToString()));
    } else {
      info->created_ms = parsed.created_ms;
      info->manifest_generation = parsed.manifest_generation;
      info->durable_lsn = parsed.durable_lsn;
      for (const auto& m : parsed.members) listed[m.name] = m;
    }
  }
  uint64_t done = 0;
  auto advanced = [&](uint64_t n) {
    done += n;
    if (progress) progress(done, 2 * total);
  };
  std::set<std::string> present;
  for (const TarMember& m : members) {
    if (m.is_dir || &m == self) continue;
    present.insert(m.name);
    uint64_t digest = 0;
    T4DX_RETURN_IF_ERROR(HashMember(*tar, m, nullptr, &digest, advanced));
    info->members.push_back({m.name, m.size, HashHex(digest)});
    info->total_bytes += m.size;
    if (self == nullptr || listed.empty()) continue;
    auto it = listed.find(m.name);
    const std::string where = tar_path + "/" + m.name;
    if (it == listed.end()) {
      info->problems.push_back(SnapProblem(where, static_cast<int64_t>(m.header_offset),
                                           "member not listed in t4dx_snapshot.json"));
    } else if (it->second.bytes != m.size) {
      info->problems.push_back(SnapProblem(where, static_cast<int64_t>(m.data_offset),
                                           "holds " + std::to_string(m.size) +
                                               " bytes; t4dx_snapshot.json says " +
                                               std::to_string(it->second.bytes)));
    } else if (it->second.xxh64 != HashHex(digest)) {
      info->problems.push_back(SnapProblem(
          where, static_cast<int64_t>(m.data_offset),
          "checksum mismatch (listed " + it->second.xxh64 + ", computed " + HashHex(digest) + ")"));
    }
  }
  for (const auto& [name, m] : listed) {
    if (!present.count(name)) {
      info->problems.push_back(
          SnapProblem(tar_path + "/" + name, -1, "listed in t4dx_snapshot.json but missing"));
    }
  }

  // 2. The store inside: every format's own checksums, read through the archive.
  std::unique_ptr<Env> tar_env;
  T4DX_RETURN_IF_ERROR(OpenSnapshotEnv(env, tar_path, &tar_env));
  StoreFilesReport report;
  T4DX_RETURN_IF_ERROR(CheckStoreFiles(
      tar_env.get(), tar_path, StoreCheckOptions(),
      [&](uint64_t d, uint64_t t) {
        if (progress && t > 0) progress(total + total * d / t, 2 * total);
      },
      &report));
  for (FileProblem& p : report.problems) {
    if (p.area == "wal" && p.torn_tail) {
      p.reason += " (a snapshot holds complete lines only)";
      p.severity = "error";
    }
    if (p.severity == "info") continue;  // e.g. no HNSW container: rebuilt after restore
    info->problems.push_back(std::move(p));
  }
  info->segments = report.segments_listed;
  info->wal_files = report.wal.files.size();
  info->wal_last_lsn = report.wal.last_lsn;
  if (progress) progress(2 * total, 2 * total);
  return Status::OK();
}

Status RestoreSnapshot(Env* env, const std::string& tar_path, const std::string& target_dir,
                       ProgressFn progress, SnapshotInfo* info) {
  T4DX_RETURN_IF_ERROR(VerifySnapshot(env, tar_path, {}, info));
  if (!info->problems.empty()) {
    const FileProblem& p = info->problems.front();
    return Status::Corruption(
        "snapshot " + tar_path + " fails verification (" + std::to_string(info->problems.size()) +
        " problem(s), first: " + p.file + ": " + p.reason + "); nothing was written");
  }
  bool exists_as_dir = false;
  Status s = env->IsDirectory(target_dir, &exists_as_dir);
  if (s.ok() && !exists_as_dir) {
    return Status::InvalidArgument("restore target " + target_dir + " exists and is a file");
  }
  if (s.ok()) {
    std::vector<std::string> children;
    T4DX_RETURN_IF_ERROR(env->GetChildren(target_dir, &children));
    if (!children.empty()) {
      return Status::InvalidArgument("restore target " + target_dir +
                                     " is not empty; restore into a new directory");
    }
  } else if (!s.IsNotFound()) {
    return s;
  }
  const std::string tmp = target_dir + ".restore-tmp";
  if (env->FileExists(tmp)) {
    return Status::FailedPrecondition(tmp +
                                      " exists (left by an interrupted restore?); "
                                      "remove it and retry");
  }

  std::unique_ptr<RandomAccessFile> tar;
  T4DX_RETURN_IF_ERROR(env->NewRandomAccessFile(tar_path, &tar));
  std::vector<TarMember> members;
  T4DX_RETURN_IF_ERROR(ReadTarIndex(*tar, tar_path, &members));
  std::map<std::string, std::string> verified;  // name -> xxh64 from VerifySnapshot
  for (const auto& m : info->members) verified[m.name] = m.xxh64;

  T4DX_RETURN_IF_ERROR(env->CreateDir(tmp));
  std::set<std::string> dirs = {tmp};
  auto ensure_dirs = [&](const std::string& rel) -> Status {
    std::string path = tmp;
    size_t start = 0;
    while (true) {
      size_t slash = rel.find('/', start);
      if (slash == std::string::npos) return Status::OK();
      path = JoinPath(tmp, rel.substr(0, slash));
      if (dirs.insert(path).second) T4DX_RETURN_IF_ERROR(env->CreateDir(path));
      start = slash + 1;
    }
  };
  uint64_t done = 0;
  auto advanced = [&](uint64_t n) {
    done += n;
    if (progress) progress(done, info->total_bytes);
  };
  for (const TarMember& m : members) {
    if (m.name == kSnapshotManifestName) continue;
    T4DX_RETURN_IF_ERROR(ensure_dirs(m.name));
    const std::string path = JoinPath(tmp, m.name);
    if (m.is_dir) {
      if (dirs.insert(path).second) T4DX_RETURN_IF_ERROR(env->CreateDir(path));
      continue;
    }
    std::unique_ptr<WritableFile> out;
    T4DX_RETURN_IF_ERROR(env->NewWritableFile(path, &out));
    uint64_t digest = 0;
    T4DX_RETURN_IF_ERROR(HashMember(*tar, m, out.get(), &digest, advanced));
    T4DX_RETURN_IF_ERROR(out->Sync());
    T4DX_RETURN_IF_ERROR(out->Close());
    if (verified[m.name] != HashHex(digest)) {
      return Status::Corruption("snapshot " + tar_path + " changed during the restore (" + m.name +
                                "); the partial copy is in " + tmp);
    }
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) T4DX_RETURN_IF_ERROR(env->SyncDir(*it));
  if (exists_as_dir) T4DX_RETURN_IF_ERROR(env->RemoveDir(target_dir));
  T4DX_RETURN_IF_ERROR(env->RenameFile(tmp, target_dir));
  const std::string parent = DirName(target_dir);
  return env->SyncDir(parent.empty() ? "." : parent);
}

std::string SnapshotInfoToJson(const SnapshotInfo& info) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : info.members) {
    members.push_back({{"name", m.name}, {"bytes", m.bytes}, {"xxh64", m.xxh64}});
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : info.problems) problems.push_back(inspect_internal::FileProblemJ(p));
  return inspect_internal::Dump({{"path", info.path},
                                 {"healthy", info.problems.empty()},
                                 {"created_ms", info.created_ms},
                                 {"attempts", info.attempts},
                                 {"manifest_generation", info.manifest_generation},
                                 {"durable_lsn", info.durable_lsn},
                                 {"segments", info.segments},
                                 {"wal_files", info.wal_files},
                                 {"wal_last_lsn", info.wal_last_lsn},
                                 {"total_bytes", info.total_bytes},
                                 {"members", std::move(members)},
                                 {"problems", std::move(problems)}});
}

}  // namespace t4dx
