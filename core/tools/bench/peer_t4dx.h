// T4DX through its public API: the Store adapter plus the helpers the read workloads use
// directly (they need the engine's own controls: ef per search, Describe, MaintenanceStep).
#pragma once

#include <memory>
#include <string>

#include "report.h"
#include "store.h"
#include "t4dx/engine.h"
#include "t4dx/options.h"

namespace t4dx_bench {

// The engine options for a store config (the user-visible knobs only).
t4dx::Options T4dxOptions(const StoreConfig& c);
// A Describe view parsed (an object with "error" when the call fails).
json T4dxView(t4dx::Engine* e, t4dx::View v);
// Flush, then wait until kHnswStats shows every stored vector indexed (lag_vectors 0,
// in_sync, no unindexed segment, no MemTable vector). *index_wait_s: the wait after Flush.
Status T4dxWaitSearchable(t4dx::Engine* e, double* index_wait_s = nullptr,
                          double timeout_s = 3600);
// Engine counters worth reporting next to a figure (flushes, merges, syncs, stalls, HNSW
// memory).
json T4dxCounters(t4dx::Engine* e);

}  // namespace t4dx_bench
