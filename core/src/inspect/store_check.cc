// CheckStoreFiles: the checks that need no open Engine, so a store that does not open (or
// a snapshot) can still be diagnosed. Every check is done by the module that owns the
// format: ReadManifest, SegmentReader, ReadWalFile (through InspectWal), ParseHnswContainer,
// ReadCompactionHistory.
#include <map>

#include "inspect/inspect_internal.h"
#include "manifest/compaction_history.h"
#include "manifest/manifest.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "t4dx/inspect.h"
#include "vector/hnsw_container.h"
#include "vector/hnsw_index.h"

namespace t4dx {
namespace {

FileProblem FromStatus(const std::string& area, const Status& s, const std::string& file) {
  FileProblem p;
  p.area = area;
  p.file = s.file().empty() ? file : s.file();
  p.line = s.line();
  p.offset = s.offset();
  p.reason = s.ToString();
  return p;
}

FileProblem Problem(const std::string& area, const std::string& file, std::string reason,
                    int64_t offset = -1) {
  FileProblem p;
  p.area = area;
  p.file = file;
  p.offset = offset;
  p.reason = std::move(reason);
  return p;
}

}  // namespace

Status CheckStoreFiles(Env* env, const std::string& dir, const StoreCheckOptions& options,
                       ProgressFn progress, StoreFilesReport* report) {
  *report = StoreFilesReport();
  std::vector<FileProblem>& problems = report->problems;

  bool is_dir = false;
  Status s = env->IsDirectory(dir, &is_dir);
  if (s.IsNotFound() || (s.ok() && !is_dir)) {
    return Status::NotFound("store " + dir + " does not exist (or is not a directory)");
  }
  T4DX_RETURN_IF_ERROR(s);
  std::vector<std::string> children;
  T4DX_RETURN_IF_ERROR(env->GetChildren(dir, &children));
  std::map<uint64_t, std::string> seg_dirs;  // id -> name
  std::vector<std::string> hnsw_names;
  for (const std::string& n : children) {
    uint64_t id = 0;
    if (ParseSegmentDirName(n, &id)) seg_dirs[id] = n;
    if (inspect_internal::IsHnswName(n)) hnsw_names.push_back(n);
  }
  report->segments_on_disk = seg_dirs.size();

  // 1. The manifest.
  const std::string manifest_path = JoinPath(dir, kManifestFile);
  Manifest m;
  s = ReadManifest(env, dir, &m);
  if (s.ok()) {
    report->manifest_ok = true;
    report->manifest_generation = m.generation;
    report->durable_lsn = m.durable_lsn;
    report->segments_listed = m.segments.size();
  } else if (s.IsNotFound()) {
    if (!seg_dirs.empty()) {
      problems.push_back(Problem("global_index", manifest_path,
                                 "global_index.json is missing but " +
                                     std::to_string(seg_dirs.size()) +
                                     " segment directories exist"));
    }
  } else if (s.IsCorruption() || s.IsInvalidArgument() || s.code() == Status::Code::kNotSupported) {
    problems.push_back(FromStatus("global_index", s, manifest_path));
  } else {
    return s;
  }

  // 2. Segments: every one the manifest names must exist and match; every directory on
  // disk must pass every block checksum.
  const uint64_t total = seg_dirs.size() + 2;
  uint64_t done = 0;
  std::map<uint64_t, SegmentMeta> metas;
  bool any_vectors = false;
  for (const auto& [id, name] : seg_dirs) {
    const std::string seg_dir = JoinPath(dir, name);
    std::unique_ptr<SegmentReader> reader;
    s = SegmentReader::Open(env, seg_dir, &reader);
    if (!s.ok()) {
      if (s.IsIOError() || s.IsNoSpace()) return s;
      problems.push_back(FromStatus("segment", s, seg_dir));
    } else {
      std::vector<SegmentProblem> seg_problems;
      s = options.segment_blocks ? reader->VerifyChecksum(&seg_problems) : Status::OK();
      if (!s.ok() && !s.IsCorruption()) return s;
      if (!s.ok() && seg_problems.empty()) problems.push_back(FromStatus("segment", s, seg_dir));
      for (const SegmentProblem& sp : seg_problems) {
        problems.push_back(Problem("segment", sp.file, sp.reason, sp.offset));
      }
      if (s.ok() && seg_problems.empty() && options.segment_blocks) ++report->segments_verified;
      report->segment_entries += reader->meta().count;
      if (reader->meta().vectors > 0) any_vectors = true;
      metas[id] = reader->meta();
    }
    if (progress) progress(++done, total);
  }
  if (report->manifest_ok) {
    for (const ManifestSegment& ms : m.segments) {
      const std::string seg_dir = JoinPath(dir, SegmentDirName(ms.id));
      if (seg_dirs.count(ms.id) == 0) {
        problems.push_back(Problem("segment", seg_dir,
                                   "segment " + SegmentDirName(ms.id).substr(4) +
                                       " is listed in global_index.json but its directory is "
                                       "missing (LSN " +
                                       std::to_string(ms.lsn_min) + ".." +
                                       std::to_string(ms.lsn_max) + ", " +
                                       std::to_string(ms.count) + " entries)"));
        continue;
      }
      auto it = metas.find(ms.id);
      if (it == metas.end()) continue;  // already reported as unreadable
      if (!ms.meta_checksum.empty() && it->second.meta_checksum != ms.meta_checksum) {
        problems.push_back(Problem("segment", JoinPath(seg_dir, kSegmentMetaFile),
                                   "meta.json checksum " + it->second.meta_checksum +
                                       " differs from the " + ms.meta_checksum +
                                       " recorded in global_index.json"));
      }
      if (it->second.count != ms.count) {
        problems.push_back(Problem("segment", JoinPath(seg_dir, kSegmentMetaFile),
                                   "holds " + std::to_string(it->second.count) +
                                       " entries; global_index.json says " +
                                       std::to_string(ms.count)));
      }
    }
  }

  // 3. The WAL.
  WalInspectOptions wo;
  wo.summaries = false;
  if (options.wal) T4DX_RETURN_IF_ERROR(InspectWal(env, dir, wo, {}, &report->wal));
  for (const WalIssue& w : report->wal.problems) {
    FileProblem p;
    p.area = "wal";
    p.file = w.file;
    p.line = static_cast<int64_t>(w.line);
    p.offset = static_cast<int64_t>(w.offset);
    p.reason = (w.torn_tail ? "torn tail: " : "corruption: ") + w.reason;
    p.torn_tail = w.torn_tail;
    if (w.torn_tail) p.severity = "info";
    problems.push_back(std::move(p));
  }
  if (progress) progress(++done, total);

  // 4. The HNSW container (derived data: the engine rebuilds it, but say so).
  const std::string hnsw_path = JoinPath(dir, kHnswContainerFile);
  bool hnsw_file = false;
  for (const std::string& n : hnsw_names) {
    bool d = false;
    if (env->IsDirectory(JoinPath(dir, n), &d).ok() && !d && n == kHnswContainerFile) {
      hnsw_file = true;
    }
  }
  report->hnsw_present = !hnsw_names.empty();
  if (hnsw_file) {
    FileView file;  // mapped natively, as the engine loads it
    s = ReadFileView(env, hnsw_path, &file);
    if (!s.ok() && !s.IsNotFound()) return s;
    if (s.ok()) {
      HnswContainerView view;
      s = ParseHnswContainer(file.data, hnsw_path, &view);
      if (!s.ok()) problems.push_back(FromStatus("hnsw", s, hnsw_path));
    }
  } else if (any_vectors) {
    FileProblem p = Problem("hnsw", hnsw_path,
                            "the HNSW index container is missing while segments hold vectors: "
                            "searches scan exactly until the engine rebuilds it in the "
                            "background (or run `t4dx hnsw rebuild`)");
    p.severity = "info";
    problems.push_back(std::move(p));
  }
  if (progress) progress(++done, total);

  // 5. Compaction history.
  std::vector<CompactionRecord> history;
  uint64_t bad_lines = 0;
  s = ReadCompactionHistory(env, dir, &history, &bad_lines);
  if (!s.ok() && !s.IsNotFound()) {
    if (s.IsIOError()) return s;
    problems.push_back(FromStatus("history", s, JoinPath(dir, kCompactionHistoryFile)));
  } else if (bad_lines > 0) {
    problems.push_back(
        Problem("history", JoinPath(dir, kCompactionHistoryFile),
                std::to_string(bad_lines) + " line(s) fail their checksum or do not parse"));
  }
  return Status::OK();
}

namespace inspect_internal {

nlohmann::json FileProblemJ(const FileProblem& p) {
  nlohmann::json j = {
      {"area", p.area}, {"file", p.file}, {"reason", p.reason}, {"severity", p.severity}};
  j["line"] = p.line > 0 ? nlohmann::json(p.line) : nlohmann::json(nullptr);
  j["offset"] = p.offset >= 0 ? nlohmann::json(p.offset) : nlohmann::json(nullptr);
  if (p.area == "wal") j["torn_tail"] = p.torn_tail;
  return j;
}

}  // namespace inspect_internal

std::string FileProblemToJson(const FileProblem& p) {
  return inspect_internal::Dump(inspect_internal::FileProblemJ(p));
}

bool StoreFilesReport::healthy() const {
  for (const FileProblem& p : problems) {
    if (p.severity != "info") return false;
  }
  return true;
}

std::string StoreFilesReportToJson(const StoreFilesReport& r) {
  nlohmann::json problems = nlohmann::json::array();
  for (const FileProblem& p : r.problems) problems.push_back(inspect_internal::FileProblemJ(p));
  return inspect_internal::Dump({{"healthy", r.healthy()},
                                 {"manifest_ok", r.manifest_ok},
                                 {"manifest_generation", r.manifest_generation},
                                 {"durable_lsn", r.durable_lsn},
                                 {"segments_listed", r.segments_listed},
                                 {"segments_on_disk", r.segments_on_disk},
                                 {"segments_verified", r.segments_verified},
                                 {"segment_entries", r.segment_entries},
                                 {"hnsw_present", r.hnsw_present},
                                 {"wal", inspect_internal::WalInspectionJ(r.wal)},
                                 {"problems", std::move(problems)}});
}

}  // namespace t4dx
