// Helpers shared by the inspect module's files (not part of the public API).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/inspect.h"
#include "t4dx/status.h"

namespace t4dx {
namespace inspect_internal {

constexpr char kQuarantineDir[] = "quarantine";
constexpr char kLockFileName[] = "LOCK";  // must match the engine (recovery.cc)

// Names of the WAL files in dir: sealed ones by first LSN, then wal.jsonl if present.
Status ListWalFiles(Env* env, const std::string& dir, std::vector<std::string>* names);

// True for the HNSW container's name (a file or folder starting with "hnsw"), excluding
// temporary files (".tmp" suffix).
bool IsHnswName(const std::string& name);

// Copies [offset, offset+n) of path into an open writable file, in chunks.
Status CopyRange(const RandomAccessFile& in, const std::string& path, uint64_t offset, uint64_t n,
                 WritableFile* out);

// JSON builders used by the *ToJson functions (nlohmann is internal to the .cc files).
nlohmann::json WalIssueJ(const WalIssue& issue);
nlohmann::json WalInspectionJ(const WalInspection& report);
nlohmann::json FileProblemJ(const FileProblem& p);
// dump() that never throws on invalid UTF-8 (it is replaced).
std::string Dump(const nlohmann::json& j);

}  // namespace inspect_internal
}  // namespace t4dx
