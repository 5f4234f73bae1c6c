// Pieces shared by snapshot creation and verification (not part of the public API).
#pragma once

#include <string>
#include <string_view>

#include "t4dx/env.h"
#include "t4dx/inspect.h"
#include "t4dx/status.h"

namespace t4dx {
namespace snapshot_internal {

// Writes data to path (created or truncated), synced and closed.
Status WriteWhole(Env* env, const std::string& path, std::string_view data);

// The text of t4dx_snapshot.json for info (members, counts), ending in
// ,"checksum":"<XXH64 of the bytes before it>"} and '\n'.
std::string SnapshotManifestText(const SnapshotInfo& info, const std::string& source_dir);

// Parses and checks t4dx_snapshot.json: its checksum, format and version. Fills
// info->members, created_ms, manifest_generation, durable_lsn, segments, wal_files.
Status ParseSnapshotManifest(std::string_view text, const std::string& where, SnapshotInfo* info);

}  // namespace snapshot_internal
}  // namespace t4dx
