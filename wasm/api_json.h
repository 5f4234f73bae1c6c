// The JSON side of the WebAssembly API: options objects from JavaScript, the constants the
// JavaScript packages read (instead of copying numbers), and the renderings of results.
// Compiled natively too (tests/wasm_glue), so the argument checking is tested by GoogleTest.
//
// JavaScript option names are camelCase (flushThreshold, includeEmbedding); item and filter
// objects use the engine's field names (item_json.h). Unknown keys are rejected with
// kInvalidArgument naming the key, so a typo never silently changes behaviour.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "t4dx/engine.h"
#include "t4dx/inspect.h"
#include "t4dx/options.h"
#include "t4dx/query.h"
#include "t4dx/status.h"

namespace t4dx {
namespace wasm {

// {dim, metric, flushThreshold, memtableMaxBytes, sync: "always"|"interval"|"none"|bool,
//  syncIntervalMs, recovery: "strict"|"lenient", readOnly, createIfMissing,
//  walRetentionEntries, walRetentionBytes, hnswM, efConstruction, efSearch,
//  compactionFanout, maxK, maxBatchItems}. Fields not given keep *options as it is.
// Background compaction is always off (no threads in WebAssembly).
Status OptionsFromJson(std::string_view json, Options* options);
// {k, ef, filter: <filter JSON of item_json.h>, includeItems, includeEmbedding}
Status SearchOptionsFromJson(std::string_view json, SearchOptions* options);
// {timeFrom, timeTo, limit, includeEmbedding}
Status ScanOptionsFromJson(std::string_view json, ScanOptions* options);

// {fromLsn, summaries, maxContentChars, limit, skip} of inspectWal; limit and skip (entries
// to return, entries to pass over first) go to *limit and *skip.
Status WalInspectOptionsFromJson(std::string_view json, WalInspectOptions* options, double* limit,
                                 double* skip);

// {segmentBlocks, wal} of checkStoreFiles.
Status StoreCheckOptionsFromJson(std::string_view json, StoreCheckOptions* options);

// View names: "status", "stats", "segments", "segment", "segment_metadata",
// "segment_verify", "segment_count", "memtable", "wal_status", "hnsw_stats",
// "global_index", "compaction_history", "replay_estimate", "recovery_report".
Status ViewFromName(const std::string& name, View* view);

// Everything JavaScript needs to know as numbers or names: status codes, metrics, sync
// modes, views, limits, option defaults and the host ABI constants of host_env.h.
std::string ConstantsJson();

// Items from JavaScript: one item object (batch=false) or an array of them (batch=true),
// normally without "embedding" fields; lengths[i] floats of `flat` (taken in order) are item
// i's embedding (0 = none; empty lengths = no embeddings). Errors name "item" or "items[i]".
Status ItemsFromJson(std::string_view json, const std::vector<float>& flat,
                     const std::vector<uint32_t>& lengths, bool batch, std::vector<Item>* items);

// Search hits as [{"id","score","item"?}], best first. Items never carry "embedding"
// here: the bindings hand embeddings over as one Float32Array. Without include_scores the
// "score" fields are left out (the bindings hand scores over as a Float32Array too:
// formatting a float as its shortest decimal costs ~40 us in WebAssembly).
std::string HitsToJson(const SearchResult& result, bool include_items, bool include_scores = true);

}  // namespace wasm
}  // namespace t4dx
