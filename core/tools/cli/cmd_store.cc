// Store-wide commands: the diagnostic views, verify, recover, segment, global-index, hnsw,
// flush, compact.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli.h"
#include "progress.h"
#include "t4dx/clock.h"
#include "t4dx/inspect.h"

namespace t4dx_cli {
namespace {

using json = nlohmann::json;
using t4dx::Engine;
using t4dx::Status;
using t4dx::View;

json Parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

int RunView(Context& ctx, View view, const std::string& arg,
            const std::vector<std::string>& health_keys) {
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, /*read_only=*/true, /*create=*/false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string doc;
  s = db->Describe(view, arg, &doc);
  if (!s.ok()) return s.IsNotFound() ? (Fail(ctx, s), kExitProblems) : Fail(ctx, s);
  Emit(ctx, doc);
  return health_keys.empty() || DocFlag(doc, health_keys, true) ? kExitOk : kExitProblems;
}

namespace {

// Closes a store opened for writing; a failed close (e.g. the final WAL sync) is an error.
int CloseAndReturn(Context& ctx, std::unique_ptr<Engine>* db, int code) {
  Status s = (*db)->Close();
  if (!s.ok()) return Fail(ctx, s.WithContext("closing " + ctx.data));
  return code;
}

json ProblemJ(const t4dx::FileProblem& p) {
  json j = {{"kind", p.area == "global_index" ? "global_index_file" : p.area},
            {"file", p.file},
            {"offset", p.offset},
            {"reason", p.reason},
            {"severity", p.severity},
            {"source", "file_check"}};
  if (p.line > 0) j["line"] = p.line;
  return j;
}

// Adds the file-level findings (global_index.json unreadable, HNSW container missing or
// damaged, segment directories missing) that a read-only open cannot report because it
// repairs them in memory, unless the engine's report already names the file. Findings of
// severity "info" (a missing HNSW container) are listed without making the verdict
// unhealthy. Returns true when the verdict changed.
bool MergeFileProblems(Context& ctx, json* doc, const std::set<std::string>& areas) {
  t4dx::StoreCheckOptions o;
  o.segment_blocks = false;
  o.wal = false;
  t4dx::StoreFilesReport files;
  if (!t4dx::CheckStoreFiles(StoreEnv(ctx), ctx.data, o, {}, &files).ok()) return false;
  json& problems = (*doc)["problems"];
  if (!problems.is_array()) problems = json::array();
  bool added = false;
  for (const auto& p : files.problems) {
    if (!areas.count(p.area)) continue;
    bool named = false;
    for (const auto& q : problems) {
      const std::string f = q.is_object() && q.contains("file") && q["file"].is_string()
                                ? q["file"].get<std::string>()
                                : "";
      const std::string r = q.is_object() && q.contains("reason") && q["reason"].is_string()
                                ? q["reason"].get<std::string>()
                                : (q.is_string() ? q.get<std::string>() : "");
      named = named || f == p.file || r.find(p.file) != std::string::npos;
    }
    if (named) continue;
    problems.push_back(ProblemJ(p));
    if (p.severity != "info") added = true;
  }
  if (added) (*doc)["healthy"] = false;
  return added;
}

// ---- views ----

int RunStatus(Context& ctx, const Args&) { return RunView(ctx, View::kStatus, "", {"healthy"}); }
int RunStats(Context& ctx, const Args&) { return RunView(ctx, View::kStats, "", {}); }
int RunSegments(Context& ctx, const Args&) { return RunView(ctx, View::kSegments, "", {}); }
int RunMemTable(Context& ctx, const Args&) { return RunView(ctx, View::kMemTable, "", {}); }
int RunHistory(Context& ctx, const Args&) { return RunView(ctx, View::kCompactionHistory, "", {}); }
int RunReplayEstimate(Context& ctx, const Args&) {
  return RunView(ctx, View::kReplayEstimate, "", {});
}
int RunHnswStats(Context& ctx, const Args&) { return RunView(ctx, View::kHnswStats, "", {}); }
int RunSegmentShow(Context& ctx, const Args& a) {
  return RunView(ctx, View::kSegment, a.positional[0], {});
}
int RunSegmentMeta(Context& ctx, const Args& a) {
  return RunView(ctx, View::kSegmentMetadata, a.positional[0], {});
}
int RunSegmentVerify(Context& ctx, const Args& a) {
  return RunView(ctx, View::kSegmentVerify, a.positional[0], {"valid"});
}
int RunSegmentCount(Context& ctx, const Args& a) {
  return RunView(ctx, View::kSegmentCount, a.positional[0], {});
}

int RunGlobalIndexCheck(Context& ctx, const Args&) {
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, true, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string text;
  s = db->Describe(View::kGlobalIndex, "", &text);
  if (!s.ok()) return Fail(ctx, s);
  json doc = Parse(text);
  doc["healthy"] = DocFlag(text, {"consistency.ok"}, true);
  MergeFileProblems(ctx, &doc, {"global_index", "segment"});
  Emit(ctx, Dump(doc));
  return doc["healthy"].get<bool>() ? kExitOk : kExitProblems;
}

// ---- verify ----

// The manifest as it is now: its bytes ("" when unreadable) and the segment ids it names.
struct ManifestView {
  std::string bytes;
  std::set<uint64_t> segments;
};

ManifestView ReadManifest(Context& ctx) {
  ManifestView view;
  t4dx::Env* env = StoreEnv(ctx);
  std::unique_ptr<t4dx::RandomAccessFile> file;
  uint64_t size = 0;
  if (!env->NewRandomAccessFile(ctx.data + "/global_index.json", &file).ok() ||
      !file->Size(&size).ok() || !file->Read(0, size, &view.bytes).ok()) {
    return ManifestView();
  }
  const json j = json::parse(view.bytes, nullptr, false);
  if (j.is_object() && j.contains("segments") && j["segments"].is_array()) {
    for (const auto& seg : j["segments"]) {
      if (seg.is_object() && seg.contains("id") && seg["id"].is_number_unsigned()) {
        view.segments.insert(seg["id"].get<uint64_t>());
      }
    }
  }
  return view;
}

// The segment a problem is about (its "segment" field, or a seg_NNNNNN in its file path or
// reason); false when it names none.
bool ProblemSegment(const json& p, uint64_t* id) {
  auto digits = [id](const std::string& s, size_t from) {
    size_t end = from;
    while (end < s.size() && end - from < 19 && s[end] >= '0' && s[end] <= '9') ++end;
    if (end == from) return false;
    *id = std::stoull(s.substr(from, end - from));
    return true;
  };
  if (!p.is_object()) return false;
  if (p.contains("segment") && p["segment"].is_string() &&
      digits(p["segment"].get<std::string>(), 0)) {
    return true;
  }
  for (const char* key : {"file", "reason"}) {
    if (!p.contains(key) || !p[key].is_string()) continue;
    const std::string s = p[key].get<std::string>();
    const size_t at = s.find("seg_");
    if (at != std::string::npos && digits(s, at + 4)) return true;
  }
  return false;
}

// Drops the problems about segments that the current manifest no longer names and that are
// gone from the disk: a running service removed them (a compaction's inputs) while they were
// being checked. They are listed under "skipped"; the verdict is recomputed.
void DropVanishedSegments(Context& ctx, const ManifestView& now, json* doc) {
  if (now.bytes.empty()) return;  // no readable manifest: nothing to judge against
  json& problems = (*doc)["problems"];
  if (!problems.is_array()) return;
  json kept = json::array();
  json skipped = json::array();
  for (const auto& p : problems) {
    uint64_t id = 0;
    char dir[32];
    if (ProblemSegment(p, &id) && now.segments.count(id) == 0) {
      std::snprintf(dir, sizeof(dir), "/seg_%06llu", static_cast<unsigned long long>(id));
      if (!StoreEnv(ctx)->FileExists(ctx.data + dir)) {
        json q = p;
        q["note"] = "segment removed by a concurrent compaction while it was checked";
        skipped.push_back(q);
        continue;
      }
    }
    kept.push_back(p);
  }
  if (skipped.empty()) return;
  problems = kept;
  (*doc)["skipped"] = skipped;
  bool healthy = true;
  for (const auto& p : kept) {
    if (!p.is_object() || !p.contains("severity") || p["severity"] != "info") healthy = false;
  }
  if (doc->contains("opened") && (*doc)["opened"] == false) healthy = false;
  (*doc)["healthy"] = healthy;
}

// One verification: the engine's (read-only open + Verify) plus the file-level findings; if
// the store does not open, the files checked directly. *error: a failure to report as such
// (store missing, locked, I/O error), with no document.
json VerifyOnce(Context& ctx, ProgressBar* bar, Status* error) {
  *error = Status::OK();
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, true, false, &db);
  Status open_error = s;
  if (s.ok()) {
    std::string report;
    bool healthy = false;
    s = db->Verify(&report, &healthy, bar->Fn());
    bar->Clear();
    if (s.ok()) {
      json doc = Parse(report);
      MergeFileProblems(ctx, &doc, {"global_index", "hnsw", "segment"});
      return doc;
    }
    open_error = s;
  }
  db.reset();
  if (s.IsNotFound() || s.IsLocked() || s.IsIOError() || s.IsInvalidArgument()) {
    *error = s;
    return json();
  }
  // The store does not open (or verification stopped on damage): check the files
  // themselves, which needs no open engine.
  t4dx::StoreFilesReport files;
  Status c =
      t4dx::CheckStoreFiles(StoreEnv(ctx), ctx.data, t4dx::StoreCheckOptions(), bar->Fn(), &files);
  bar->Clear();
  if (!c.ok()) {
    *error = c;
    return json();
  }
  json problems = json::array();
  json err = {{"kind", "open"},
              {"file", open_error.file().empty() ? ctx.data : open_error.file()},
              {"offset", open_error.offset()},
              {"reason", open_error.ToString()}};
  if (open_error.line() > 0) err["line"] = open_error.line();
  problems.push_back(err);
  for (const auto& p : files.problems) problems.push_back(ProblemJ(p));
  return {{"healthy", false},
          {"opened", false},
          {"dir", ctx.data},
          {"problems", problems},
          {"files", Parse(t4dx::StoreFilesReportToJson(files))}};
}

// Verify is read-only and runs beside a service that may flush and compact the store while
// it reads: a segment named by the manifest when the check began can be gone by the time it
// is read, and a first flush shows its segment before the first manifest exists (a run
// inside that window sees the same missing manifest before and after). So a run that
// found problems is run again while its manifest changed underneath it, or once when there
// was no manifest (a few times in all; a damaged store with a manifest is not checked
// twice); what a last run still reports about segments that the current
// manifest no longer names and that are gone from disk is listed under "skipped", never as
// damage. Real damage stays: it is there again in a run over a stable manifest.
int RunVerify(Context& ctx, const Args&) {
  constexpr int kAttempts = 5;
  ProgressBar bar("verify", ctx.progress);
  json doc;
  Status error;
  int attempt = 1;
  for (;; ++attempt) {
    const ManifestView before = ReadManifest(ctx);
    doc = VerifyOnce(ctx, &bar, &error);
    const ManifestView after = ReadManifest(ctx);
    const bool clean = error.ok() && doc.is_object() && doc.value("healthy", false);
    const bool changed = before.bytes != after.bytes || (before.bytes.empty() && attempt == 1);
    if (clean || !changed || attempt == kAttempts) {
      if (error.ok()) DropVanishedSegments(ctx, after, &doc);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
  }
  if (!error.ok()) return Fail(ctx, error);
  if (attempt > 1) doc["attempts"] = attempt;
  Emit(ctx, Dump(doc));
  return DocFlag(Dump(doc), {"healthy"}, false) ? kExitOk : kExitProblems;
}

// ---- recover / segment repair ----

// Moves aside (to quarantine/) the segments among `only` (all when empty) that fail their
// checksums and whose LSN range the WAL still holds, so the read-write open that follows
// rebuilds them from the WAL. Damaged segments the WAL no longer covers stay in place
// (their undamaged blocks stay readable) and are reported.
Status SetAsideDamaged(Context& ctx, const std::set<std::string>& only, json* actions,
                       json* problems, ProgressBar* bar) {
  std::unique_ptr<Engine> db;
  T4DX_RETURN_IF_ERROR(OpenStore(ctx, true, false, &db));
  std::string text;
  T4DX_RETURN_IF_ERROR(db->Describe(View::kSegments, "", &text));
  json segs = Parse(text)["segments"];
  if (!segs.is_array()) segs = json::array();
  t4dx::WalInspection wal;
  t4dx::WalInspectOptions wo;
  wo.summaries = false;
  T4DX_RETURN_IF_ERROR(t4dx::InspectWal(ctx.env, ctx.data, wo, {}, &wal));
  uint64_t wal_ok_through = wal.last_lsn;  // the WAL is readable up to here
  for (const auto& f : wal.files) {
    if (f.has_problem && !f.problem.torn_tail) {
      wal_ok_through = f.last_lsn;
      break;
    }
  }
  struct Damaged {
    std::string id, dir;
    uint64_t lsn_min, lsn_max;
    json reasons;
  };
  std::vector<Damaged> damaged;
  uint64_t done = 0;
  for (const auto& seg : segs) {
    const std::string id = seg.value("id", "");
    if (!only.empty() && !only.count(id)) continue;
    std::string v;
    T4DX_RETURN_IF_ERROR(db->Describe(View::kSegmentVerify, id, &v));
    if (bar) bar->Update(++done, segs.size());
    if (DocFlag(v, {"valid"}, true)) continue;
    damaged.push_back({id, seg.value("dir", "seg_" + id), seg.value("lsn_min", uint64_t{0}),
                       seg.value("lsn_max", uint64_t{0}), Parse(v)["problems"]});
  }
  db.reset();  // closes (read-only: nothing written)
  const std::string stamp = std::to_string(t4dx::Clock::Default()->NowUnixMillis());
  for (const Damaged& d : damaged) {
    const bool covered =
        wal.first_lsn != 0 && wal.first_lsn <= d.lsn_min && wal_ok_through >= d.lsn_max;
    if (!covered) {
      problems->push_back(
          "segment " + d.id + " fails its checksums and the WAL no longer holds LSNs " +
          std::to_string(d.lsn_min) + ".." + std::to_string(d.lsn_max) + " (WAL holds " +
          std::to_string(wal.first_lsn) + ".." + std::to_string(wal_ok_through) +
          "): left in place so its undamaged blocks stay readable; restore it from a snapshot "
          "(t4dx snapshot restore) or a backup");
      continue;
    }
    const std::string qdir = t4dx::JoinPath(ctx.data, "quarantine");
    T4DX_RETURN_IF_ERROR(ctx.env->CreateDir(qdir));
    const std::string to = t4dx::JoinPath(qdir, d.dir + "." + stamp + ".damaged");
    T4DX_RETURN_IF_ERROR(ctx.env->RenameFile(t4dx::JoinPath(ctx.data, d.dir), to));
    T4DX_RETURN_IF_ERROR(ctx.env->SyncDir(qdir));
    T4DX_RETURN_IF_ERROR(ctx.env->SyncDir(ctx.data));
    actions->push_back({{"action", "segment_set_aside"},
                        {"segment", d.id},
                        {"moved_to", to},
                        {"problems", d.reasons},
                        {"note", "the WAL holds LSNs " + std::to_string(d.lsn_min) + ".." +
                                     std::to_string(d.lsn_max) +
                                     ": the open below rebuilds the segment from it"}});
  }
  return Status::OK();
}

int Recover(Context& ctx, bool verify, const std::set<std::string>& only) {
  if (ctx.snapshot_env) return Fail(ctx, Status::InvalidArgument("a snapshot is read-only"));
  json actions = json::array(), problems = json::array();
  {
    std::unique_ptr<t4dx::FileLock> lock;
    Status s = t4dx::LockStore(ctx.env, ctx.data, &lock);
    if (!s.ok()) return Fail(ctx, s);
    if (verify) {
      ProgressBar bar("verify segments", ctx.progress);
      s = SetAsideDamaged(ctx, only, &actions, &problems, &bar);
      if (!s.ok()) return Fail(ctx, s);
    }
  }  // the lock is released here: the engine takes it again just below
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string text;
  s = db->Describe(View::kRecoveryReport, "", &text);
  if (!s.ok()) return Fail(ctx, s);
  json report = Parse(text);
  std::string status_text;
  db->Describe(View::kStatus, "", &status_text);
  json status = Parse(status_text);
  json doc = {{"set_aside", actions},
              {"recovery", report},
              {"healthy", problems.empty() && status.value("healthy", true)},
              {"problems", problems}};
  if (status["problems"].is_array()) {
    for (const auto& p : status["problems"]) doc["problems"].push_back(p);
  }
  Emit(ctx, Dump(doc));
  return CloseAndReturn(ctx, &db, doc["healthy"].get<bool>() ? kExitOk : kExitProblems);
}

int RunRecover(Context& ctx, const Args& a) { return Recover(ctx, !a.Has("--skip-verify"), {}); }

int RunSegmentRepair(Context& ctx, const Args& a) {
  uint64_t id = 0;
  Status s = t4dx::ParseSegmentId(a.positional[0], &id);
  if (!s.ok()) return Fail(ctx, s);
  std::string name = std::to_string(id);
  if (name.size() < 6) name = std::string(6 - name.size(), '0') + name;
  return Recover(ctx, true, {name});
}

// ---- maintenance ----

int RunGlobalIndexRebuild(Context& ctx, const Args&) {
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string result, recovery;
  s = db->RebuildGlobalIndex(&result);
  if (!s.ok()) return Fail(ctx, s);
  db->Describe(View::kRecoveryReport, "", &recovery);
  json doc = {{"rebuilt", Parse(result)}, {"recovery_actions", Parse(recovery)["actions"]}};
  Emit(ctx, Dump(doc));
  return CloseAndReturn(ctx, &db, kExitOk);
}

int RunHnswRebuild(Context& ctx, const Args&) {
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string result;
  {
    ProgressBar bar("rebuild hnsw", ctx.progress);
    s = db->RebuildHnsw(bar.Fn(), &result);
  }
  if (!s.ok()) return Fail(ctx, s);
  Emit(ctx, result);
  return CloseAndReturn(ctx, &db, kExitOk);
}

int RunFlush(Context& ctx, const Args&) {
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  s = db->Flush();
  if (!s.ok()) return Fail(ctx, s);
  std::string mem;
  db->Describe(View::kMemTable, "", &mem);
  Emit(ctx, Dump({{"flushed", true}, {"memtable", Parse(mem)}}));
  return CloseAndReturn(ctx, &db, kExitOk);
}

int RunCompact(Context& ctx, const Args&) {
  std::unique_ptr<Engine> db;
  Status s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  s = db->Compact();
  if (!s.ok()) return Fail(ctx, s);
  std::string segs;
  db->Describe(View::kSegments, "", &segs);
  Emit(ctx, Dump({{"compacted", true}, {"segments", Parse(segs)["segments"]}}));
  return CloseAndReturn(ctx, &db, kExitOk);
}

}  // namespace

void AddStoreCommands(std::vector<CommandSpec>* out) {
  auto add = [&](CommandSpec c) { out->push_back(std::move(c)); };
  add({"status",
       "",
       "health verdict, problems, recovery report, compactor state",
       "The /storage/status document. Read-only. Exit 1 when the store is not healthy.",
       {},
       0,
       0,
       true,
       RunStatus});
  add({"stats",
       "",
       "every counter of the store (MemTable, WAL, segments, HNSW, ...)",
       "The /storage/stats document. Read-only.",
       {},
       0,
       0,
       true,
       RunStats});
  add({"segments",
       "",
       "list the segments",
       "The /storage/segments document: id, items, bytes, dim, LSN and time ranges. Read-only.",
       {},
       0,
       0,
       true,
       RunSegments});
  add({"segment show",
       "ID",
       "one segment (id as 000001)",
       "The /storage/segment/{id} document: summary, files and sizes, kinds. Read-only.",
       {},
       1,
       1,
       true,
       RunSegmentShow});
  add({"segment metadata",
       "ID",
       "one segment's meta.json",
       "The /storage/segment/{id}/metadata document. Read-only.",
       {},
       1,
       1,
       true,
       RunSegmentMeta});
  add({"segment verify",
       "ID",
       "whole-segment checksum check",
       "Verifies every block of every file of the segment against meta.json; prints each\n"
       "failing file and byte offset. Read-only. Exit 1 when a checksum fails.",
       {},
       1,
       1,
       true,
       RunSegmentVerify});
  add({"segment count",
       "ID",
       "items in one segment",
       "The /storage/segment/{id}/count document. Read-only.",
       {},
       1,
       1,
       true,
       RunSegmentCount});
  add({"segment repair",
       "ID",
       "set a damaged segment aside and rebuild it from the WAL",
       "The runbook's `mv seg_000001 seg_000001.bak` + restart, as one safe command. Takes the\n"
       "store's lock; verifies the segment; when it fails and the WAL still holds its LSN\n"
       "range, moves it to quarantine/ and opens the store, which rebuilds it from the WAL.\n"
       "When the WAL no longer covers it, nothing is moved (exit 1): restore from a snapshot.",
       {},
       1,
       1,
       true,
       RunSegmentRepair});
  add({"verify",
       "",
       "check every checksum and the indexes; list every problem",
       "Every segment block checksum, every WAL line checksum and the LSN order, the global\n"
       "index against the segments, the HNSW indexed set against the stored live set, and\n"
       "the files a read-only open would repair in memory (global_index.json, the HNSW\n"
       "container). Every problem names its file and byte offset (and line for the WAL).\n"
       "Read-only. A torn WAL tail is reported with severity \"info\" (it is what a crash\n"
       "mid-write leaves, cut on the next open; use `wal check` to fail on it). When the\n"
       "store does not open at all, the files are checked directly. Beside a running\n"
       "service, a run during which the manifest changed is run again (a compaction may\n"
       "remove segments being checked); problems of segments the current manifest no\n"
       "longer names and that are gone are listed under \"skipped\", not as damage.\n"
       "Exit 1 when any problem is found.",
       {},
       0,
       0,
       true,
       RunVerify});
  add({"recover",
       "",
       "open read-write: run recovery, rebuild what the WAL covers",
       "The runbook's \"restart the service: the engine rebuilds on startup\". Takes the lock,\n"
       "verifies every segment and sets aside those that fail and that the WAL still covers,\n"
       "then opens the store read-write: recovery cuts a torn WAL tail (saved under\n"
       "quarantine/), quarantines mid-log corruption, rebuilds global_index.json from the\n"
       "segments and lost segments from the WAL. Prints what was done and what is still\n"
       "wrong. Exit 1 when problems remain.",
       {{"--skip-verify", false, "do not verify segment blocks first (faster)"}},
       0,
       0,
       true,
       RunRecover});
  add({"global-index check",
       "",
       "global_index.json summary and consistency check",
       "The /storage/global-index document (segments, id mappings per segment, duplicates\n"
       "resolved by LSN, unlisted segment directories, quarantined data) plus a check of the\n"
       "file itself. Read-only. Exit 1 when inconsistent or unreadable.",
       {},
       0,
       0,
       true,
       RunGlobalIndexCheck});
  add({"global-index rebuild",
       "",
       "rebuild global_index.json from the segments",
       "Takes the lock; an unreadable global_index.json is moved to quarantine/ first.",
       {},
       0,
       0,
       true,
       RunGlobalIndexRebuild});
  add({"hnsw stats",
       "",
       "HNSW index: indexed vs stored vectors, lag, parameters",
       "The /storage/hnsw-stats document. Read-only.",
       {},
       0,
       0,
       true,
       RunHnswStats});
  add({"hnsw rebuild",
       "",
       "rebuild the HNSW index from the segments and save it",
       "Takes the lock. Shows progress on a terminal.",
       {},
       0,
       0,
       true,
       RunHnswRebuild});
  add({"memtable",
       "",
       "MemTable items, bytes, threshold, stalls",
       "The /storage/memtable document. Read-only (a read-only open replays the WAL, so it\n"
       "shows what the WAL holds above the durable watermark).",
       {},
       0,
       0,
       true,
       RunMemTable});
  add({"compaction-history",
       "",
       "flushes and merges, newest last",
       "The /storage/compaction-history document. Read-only.",
       {},
       0,
       0,
       true,
       RunHistory});
  add({"replay-estimate",
       "",
       "estimated WAL replay time at the next open",
       "The /storage/estimate-replay-time document. Read-only.",
       {},
       0,
       0,
       true,
       RunReplayEstimate});
  add({"flush",
       "",
       "write the MemTable to a segment",
       "Takes the lock, replays the WAL, flushes everything to segments durably.",
       {},
       0,
       0,
       true,
       RunFlush});
  add({"compact",
       "",
       "flush, then merge all segments into one",
       "Takes the lock. Drops overwritten versions and deletes.",
       {},
       0,
       0,
       true,
       RunCompact});
}

}  // namespace t4dx_cli
