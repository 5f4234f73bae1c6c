// Snapshot commands: create (from a store that may be in use), verify, restore.
// The archive format is core/doc/snapshot_format.md.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "progress.h"
#include "t4dx/inspect.h"

namespace t4dx_cli {
namespace {

using json = nlohmann::json;
using t4dx::Status;

// The document without the per-member list in human mode (it can be long).
void EmitInfo(const Context& ctx, const t4dx::SnapshotInfo& info) {
  std::string text = t4dx::SnapshotInfoToJson(info);
  if (!ctx.json) {
    json j = json::parse(text, nullptr, false);
    if (j.is_object()) {
      j["members"] = j["members"].size();
      text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  Emit(ctx, text);
}

int RunCreate(Context& ctx, const Args& a) {
  if (ctx.snapshot_env) {
    return Fail(ctx, Status::InvalidArgument("--data is already a snapshot archive"));
  }
  t4dx::SnapshotOptions o;
  ProgressBar bar("snapshot", ctx.progress);
  o.progress = bar.Fn();
  t4dx::SnapshotInfo info;
  Status s = t4dx::CreateSnapshot(ctx.env, ctx.data, a.positional[0], o, &info);
  bar.Clear();
  if (!s.ok()) return Fail(ctx, s);
  EmitInfo(ctx, info);
  return kExitOk;
}

int RunVerify(Context& ctx, const Args& a) {
  ProgressBar bar("verify snapshot", ctx.progress);
  t4dx::SnapshotInfo info;
  Status s = t4dx::VerifySnapshot(ctx.env, a.positional[0], bar.Fn(), &info);
  bar.Clear();
  if (!s.ok()) return Fail(ctx, s);
  EmitInfo(ctx, info);
  return info.problems.empty() ? kExitOk : kExitProblems;
}

int RunRestore(Context& ctx, const Args& a) {
  ProgressBar bar("restore", ctx.progress);
  t4dx::SnapshotInfo info;
  Status s = t4dx::RestoreSnapshot(ctx.env, a.positional[0], a.positional[1], bar.Fn(), &info);
  bar.Clear();
  if (!s.ok()) {
    if (!info.problems.empty()) EmitInfo(ctx, info);
    return Fail(ctx, s);
  }
  EmitInfo(ctx, info);
  return kExitOk;
}

}  // namespace

void AddSnapshotCommands(std::vector<CommandSpec>* out) {
  out->push_back(
      {"snapshot create",
       "FILE.tar",
       "consistent point-in-time copy of the store",
       "Writes a ustar archive: global_index.json, exactly the segments it names, the WAL up\n"
       "to its last complete line, the HNSW container, the compaction history and\n"
       "t4dx_snapshot.json (every member's size and XXH64). Takes no lock and changes no\n"
       "byte in the store: works on a store a running service holds; a concurrent\n"
       "compaction or WAL rotation makes it start over. The web inspector loads these files,\n"
       "and every read-only t4dx command accepts one as --data.",
       {},
       1,
       1,
       true,
       RunCreate});
  out->push_back(
      {"snapshot verify",
       "FILE.tar",
       "check every checksum in a snapshot",
       "Member digests, the manifest checksum, every segment's meta.json and blocks, every\n"
       "WAL line, the HNSW container, the compaction history. Exit 1 when any fails.",
       {},
       1,
       1,
       false,
       RunVerify});
  out->push_back(
      {"snapshot restore",
       "FILE.tar DIR",
       "verify a snapshot, then write it as a new store",
       "Checks every checksum (as snapshot verify) before writing anything; DIR must not\n"
       "exist or be empty. Files are written under DIR.restore-tmp, synced, and the\n"
       "directory renamed into place. Exit 1 (nothing written) when a check fails.",
       {},
       2,
       2,
       false,
       RunRestore});
}

}  // namespace t4dx_cli
