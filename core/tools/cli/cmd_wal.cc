// WAL commands: stats, status, dump, check, repair, compact, truncate. Reading goes through
// the inspect API (the engine's own WAL reader); changes take the store's lock.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "render.h"
#include "t4dx/clock.h"
#include "t4dx/inspect.h"

namespace t4dx_cli {
namespace {

using json = nlohmann::json;
using t4dx::Status;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Where(const t4dx::WalIssue& p) {
  return p.file + " line " + std::to_string(p.line) + " (byte " + std::to_string(p.offset) + ", " +
         std::to_string(p.length) + " bytes to the end)";
}

int RunWalStats(Context& ctx, const Args&) {
  t4dx::WalInspectOptions o;
  o.summaries = false;
  t4dx::WalInspection r;
  Status s = t4dx::InspectWal(StoreEnv(ctx), ctx.data, o, {}, &r);
  if (!s.ok()) return Fail(ctx, s);
  Emit(ctx, t4dx::WalInspectionToJson(r));
  return kExitOk;
}

int RunWalStatus(Context& ctx, const Args&) { return RunView(ctx, t4dx::View::kWalStatus, "", {}); }

int RunWalDump(Context& ctx, const Args& a) {
  uint64_t from = 0, limit = 0;
  Status s = a.GetUint("--from", 0, &from);
  if (s.ok()) s = a.GetUint("--limit", 0, &limit);
  if (!s.ok()) return Usage(ctx, s.message());
  t4dx::WalInspectOptions o;
  o.from_lsn = from;
  o.max_content_chars = a.Has("--full") ? 0 : 200;
  const bool detail = a.Has("--full");
  uint64_t shown = 0;
  t4dx::WalInspection r;
  s = t4dx::InspectWal(
      StoreEnv(ctx), ctx.data, o,
      [&](const t4dx::WalEntryInfo& e) {
        if (limit != 0 && shown >= limit) return false;
        ++shown;
        if (ctx.json) {
          json j = {{"file", e.file},
                    {"line", e.line},
                    {"offset", e.offset},
                    {"length", e.length},
                    {"lsn", e.lsn},
                    {"last_lsn", e.last_lsn},
                    {"timestamp", e.timestamp},
                    {"op_type", e.op_type},
                    {"ids", e.ids},
                    {"entry", json::parse(e.summary_json, nullptr, false)}};
          std::cout << Dump(j) << "\n";
        } else {
          std::string ids;
          for (size_t i = 0; i < e.ids.size() && i < 3; ++i) ids += (i ? "," : "") + e.ids[i];
          if (e.ids.size() > 3) ids += " (+" + std::to_string(e.ids.size() - 3) + ")";
          std::string lsn = std::to_string(e.lsn);
          if (e.last_lsn != e.lsn) lsn += ".." + std::to_string(e.last_lsn);
          std::string name = e.file.substr(e.file.rfind('/') + 1);
          std::cout << "lsn " << lsn << "  " << IsoTime(e.timestamp) << "  " << e.op_type << "  "
                    << ids << "  " << name << ":" << e.line << " @" << e.offset << " (" << e.length
                    << " B)\n";
          if (detail) std::cout << "  " << e.summary_json << "\n";
        }
        return true;
      },
      &r);
  if (!s.ok()) return Fail(ctx, s);
  for (const auto& p : r.problems) {
    if (ctx.json) {
      std::cout << Dump({{"problem", json::parse(t4dx::WalIssueToJson(p), nullptr, false)}})
                << "\n";
    } else {
      std::cout << (p.torn_tail ? "torn tail: " : "CORRUPT: ") << Where(p) << ": " << p.reason
                << "\n";
    }
  }
  std::cout.flush();
  return kExitOk;
}

int RunWalCheck(Context& ctx, const Args&) {
  t4dx::WalInspectOptions o;
  o.summaries = false;
  t4dx::WalInspection r;
  Status s = t4dx::InspectWal(StoreEnv(ctx), ctx.data, o, {}, &r);
  if (!s.ok()) return Fail(ctx, s);
  json doc = json::parse(t4dx::WalInspectionToJson(r));
  if (!r.problems.empty()) {
    doc["fix"] = "t4dx --data " + ctx.data + " wal repair";
    doc["note"] = r.corrupt
                      ? "mid-log corruption: `wal repair` keeps every entry before the bad line "
                        "and moves the rest to quarantine/ (nothing is deleted)"
                      : "a torn last line is what a crash mid-write leaves (or a write in "
                        "progress on a store in use); the next open cuts it, or `wal repair`";
  }
  if (!ctx.json) {
    if (r.problems.empty()) {
      std::cout << "WAL ok: " << r.records << " records, LSN " << r.first_lsn << ".." << r.last_lsn
                << " in " << r.files.size() << " file(s)\n";
    }
    for (const auto& p : r.problems) {
      std::cout << (p.torn_tail ? "WAL torn tail: " : "WAL CORRUPT: ") << Where(p) << ": "
                << p.reason << "\n";
    }
    if (!r.problems.empty()) std::cout << "fix: " << doc["fix"].get<std::string>() << "\n\n";
  }
  Emit(ctx, Dump(doc));
  return r.problems.empty() ? kExitOk : kExitProblems;
}

int RunWalRepair(Context& ctx, const Args&) {
  if (ctx.snapshot_env) return Fail(ctx, Status::InvalidArgument("a snapshot is read-only"));
  std::unique_ptr<t4dx::FileLock> lock;
  Status s = t4dx::LockStore(ctx.env, ctx.data, &lock);
  if (!s.ok()) return Fail(ctx, s);
  t4dx::WalRepairResult r;
  s = t4dx::RepairWal(ctx.env, ctx.data, t4dx::Clock::Default()->NowUnixMillis(), &r);
  if (!s.ok()) return Fail(ctx, s);
  if (!ctx.json) {
    if (r.actions.empty()) std::cout << "WAL healthy: nothing to repair\n";
    for (const auto& act : r.actions) {
      std::cout << act.action << ": " << act.file << " at byte " << act.offset << ", " << act.bytes
                << " bytes saved to " << act.saved_to << " (" << act.reason << ")\n";
    }
    if (!r.note.empty()) std::cout << r.note << "\n";
    if (r.actions.empty()) std::cout << "the WAL ends at LSN " << r.last_good_lsn << "\n";
    return kExitOk;
  }
  Emit(ctx, t4dx::WalRepairResultToJson(r));
  return kExitOk;
}

int RunWalCompact(Context& ctx, const Args& a) {
  uint64_t keep = 0;
  if (!a.Has("--keep")) return Usage(ctx, "wal compact needs --keep N");
  Status s = a.GetUint("--keep", 0, &keep);
  if (!s.ok()) return Usage(ctx, s.message());
  std::unique_ptr<t4dx::Engine> db;
  s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string result;
  s = db->CompactWal(keep, &result);
  if (!s.ok()) return Fail(ctx, s);
  Emit(ctx, result);
  s = db->Close();
  return s.ok() ? kExitOk : Fail(ctx, s);
}

int RunWalTruncate(Context& ctx, const Args& a) {
  if (a.Get("--confirm") != "I_UNDERSTAND") {
    return Usage(ctx, "wal truncate empties the WAL; pass --confirm I_UNDERSTAND");
  }
  std::unique_ptr<t4dx::Engine> db;
  Status s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string result;
  s = db->TruncateWal(&result);
  if (!s.ok()) return Fail(ctx, s);
  Emit(ctx, result);
  s = db->Close();
  return s.ok() ? kExitOk : Fail(ctx, s);
}

}  // namespace

void AddWalCommands(std::vector<CommandSpec>* out) {
  auto add = [&](CommandSpec c) { out->push_back(std::move(c)); };
  add({"wal stats",
       "",
       "size, entries, op counts, LSN and time range, sealed files",
       "Reads every WAL file (wal_<LSN>.jsonl sealed files, then wal.jsonl) with the engine's\n"
       "reader. Read-only.",
       {},
       0,
       0,
       true,
       RunWalStats});
  add({"wal status",
       "",
       "the engine's WAL view (unflushed entries, sync mode, retention)",
       "The /storage/wal-status document. Read-only.",
       {},
       0,
       0,
       true,
       RunWalStatus});
  add({"wal dump",
       "",
       "decoded WAL entries (embeddings summarized)",
       "One line per record: LSN, time, op_type, ids, file:line @byte offset. With --json,\n"
       "one JSON object per line (\"entry\" is the decoded record, embeddings as\n"
       "{dim, norm, head}). Problems found are printed after the entries. Read-only.",
       {{"--from", true, "start at this LSN"},
        {"--limit", true, "print at most N records"},
        {"--full", false, "show whole records (content uncut)"}},
       0,
       0,
       true,
       RunWalDump});
  add({"wal check",
       "",
       "torn tail vs mid-log corruption, with file, line and byte offset",
       "Checks every line's checksum and the LSN order. A torn tail (the last line of the\n"
       "newest file, incomplete: a crash mid-write) is told apart from corruption (anything\n"
       "else). Read-only. Exit 1 when either is found.",
       {},
       0,
       0,
       true,
       RunWalCheck});
  add({"wal repair",
       "",
       "cut a torn tail / quarantine what follows the last good entry",
       "The runbook's `cp wal.jsonl wal.jsonl.bak; head -n -1 ...` as one safe command. Takes\n"
       "the store's lock. The bytes from the first bad line on are saved (synced) under\n"
       "quarantine/ before the file is cut there. Newer WAL files are kept when the entries\n"
       "cut are all in segments already (no hole in the history), else moved to\n"
       "quarantine/ whole. Prints where everything went.",
       {},
       0,
       0,
       true,
       RunWalRepair});
  add({"wal compact",
       "",
       "delete flushed sealed WAL files, keeping the newest N entries",
       "POST /storage/compact-wal. Takes the lock. Never drops an unflushed entry.",
       {{"--keep", true, "flushed entries to keep (required)"}},
       0,
       0,
       true,
       RunWalCompact});
  add({"wal truncate",
       "",
       "empty the WAL after copying it aside (dangerous)",
       "POST /storage/truncate-wal. Takes the lock. The WAL files are copied under\n"
       "quarantine/ first; the result counts the unflushed entries dropped.",
       {{"--confirm", true, "must be I_UNDERSTAND"}},
       0,
       0,
       true,
       RunWalTruncate});
}

}  // namespace t4dx_cli
