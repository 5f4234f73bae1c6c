// Command-line options of t4dx-bench. One struct for every workload; each workload reads
// the fields it needs. Parsing never exits: it returns an error message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace t4dx_bench {

enum class SyncMode : uint8_t { kAlways, kInterval, kNone };
const char* SyncModeName(SyncMode m);

struct Flags {
  std::string workload;  // ingest | ann | filtered | fresh | mixed | recovery

  // ---- data ----
  std::string base;     // .fbin (uint32 n, uint32 dim, float32 rows)
  std::string queries;  // .fbin
  std::string gt;       // .ibin (uint32 nq, uint32 k, ids, then scores)
  std::string items;    // .jsonl, line i <-> row i
  size_t synthetic = 0;  // generate this many clustered rows instead of --base
  uint32_t dim = 384;    // of synthetic data
  size_t clusters = 64;  // of synthetic data
  size_t n = 0;          // use the first n rows (0 = all); beyond the file: rows are cycled
  size_t nq = 0;         // use the first nq queries (0 = all)
  uint64_t seed = 42;

  // ---- index ----
  size_t m = 16;
  size_t ef_construction = 200;
  std::vector<size_t> ef = {10, 20, 40, 80, 160, 320};
  size_t k = 10;
  size_t build_threads = 1;  // plain hnswlib build threads (the engine: one per core, HnswBulkAdd)
  size_t runs = 3;           // timed passes over the queries per point; the fastest counts

  // ---- filtered ----
  std::string filter_key;  // metadata key; default "section" with --items, else "bucket"
  std::vector<double> selectivity = {0.01, 0.10, 0.50};

  // ---- writes ----
  std::vector<SyncMode> sync = {SyncMode::kAlways};
  uint32_t interval_ms = 100;
  std::vector<size_t> threads = {1};
  size_t batch = 1;  // items per write call
  bool no_vectors = false;  // ingest: the items without their embeddings (the storage path alone)

  // ---- fresh ----
  size_t fresh_items = 1000;
  size_t segments = 4;
  size_t segment_items = 1000;

  // ---- mixed ----
  double duration_s = 10;
  size_t mixed_ef = 64;

  // ---- recovery ----
  bool skip_rebuild = false;

  // ---- run ----
  std::vector<std::string> systems;  // empty = the workload's default set
  std::string dir;                   // scratch directory (default /tmp/t4dx-bench-<pid>)
  bool keep = false;                 // keep the scratch directory
  bool json = false;                 // one JSON line per result on stdout
  std::string out;                   // also append the JSON lines to this file
  std::string command;               // the command line, for the report

  bool HasSystem(const std::string& s) const;
};

// Parses argv (argv[1] is the workload). On error returns false with *error set.
bool ParseFlags(int argc, char** argv, Flags* flags, std::string* error);
// The usage text.
const char* Usage();

}  // namespace t4dx_bench
