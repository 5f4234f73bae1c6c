// Process and machine figures read from /proc (Linux): resident memory, bytes written to
// the storage layer, directory sizes, a monotonic clock and percentiles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace t4dx_bench {

// Monotonic seconds.
double Now();
// CPU seconds used by the calling thread (time it was descheduled does not count).
double ThreadCpuNow();
// The 1-minute load average (/proc/loadavg), to judge how busy the shared machine was.
double LoadAverage();

// Resident set size now, and its peak (VmHWM) since the last ResetPeakRss().
uint64_t CurrentRssBytes();
uint64_t PeakRssBytes();
// Resets VmHWM to the current RSS (writes 5 to /proc/self/clear_refs), so each system's
// peak is measured on its own although all run in one process.
void ResetPeakRss();

// Bytes this process caused to be written to storage (/proc/self/io write_bytes minus
// cancelled_write_bytes): counted when pages are dirtied, so it includes data the kernel
// writes back later, and every re-dirtied page of a small synced append.
uint64_t ProcWriteBytes();

// Sum of the sizes of the regular files below dir (0 if it does not exist).
uint64_t DirBytes(const std::string& dir);
// Size of the files below dir whose name ends with suffix.
uint64_t FilesBytes(const std::string& dir, const std::string& suffix);

// "2 cores (model), 24 GiB RAM, ext4 on /dev/vda".
std::string MachineDescription(const std::string& dir);
// UTC, ISO 8601.
std::string DateUtc();

// p in [0,1] over unsorted samples (sorted in place). 0 for an empty vector.
double Percentile(std::vector<double>* samples, double p);

// Creates dir and its parents; removes it recursively.
bool MakeDirs(const std::string& dir);
void RemoveAll(const std::string& dir);
// Copies a directory tree.
bool CopyTree(const std::string& from, const std::string& to);

}  // namespace t4dx_bench
