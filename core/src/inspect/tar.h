// A small ustar (POSIX.1-1988) writer and reader for store snapshots
// (core/doc/snapshot_format.md). Only what snapshots need: regular files and directories,
// names up to 255 bytes (prefix + name split), sizes of any length (octal up to 8 GiB - 1,
// GNU base-256 above). Everything goes through t4dx::Env.
//
// Thread safety: a TarWriter is not thread safe. A TarIndex is immutable after Read and
// may be shared by threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "t4dx/env.h"
#include "t4dx/status.h"

namespace t4dx {

constexpr size_t kTarBlockSize = 512;

// Writes members one after another to a WritableFile it does not own.
class TarWriter {
 public:
  // mtime_s: modification time recorded in every header (seconds since the epoch).
  TarWriter(WritableFile* file, int64_t mtime_s) : file_(file), mtime_s_(mtime_s) {}

  // A directory entry ("seg_000001"; the trailing '/' is added).
  Status AddDirectory(const std::string& name);
  // Starts a regular file of exactly size bytes; Write() must then supply them all.
  Status BeginFile(const std::string& name, uint64_t size);
  Status Write(std::string_view data);
  // Pads the member to a block boundary. FailedPrecondition if fewer bytes were written
  // than announced.
  Status EndFile();
  // Writes the two zero blocks that end the archive.
  Status Finish();

  uint64_t bytes_written() const { return offset_; }

 private:
  Status WriteHeader(const std::string& name, char type, uint64_t size);
  Status Append(std::string_view data);

  WritableFile* file_;
  int64_t mtime_s_;
  uint64_t offset_ = 0;
  uint64_t remaining_ = 0;  // bytes still owed to the current file
  bool in_file_ = false;
};

// One member of an archive.
struct TarMember {
  std::string name;  // normalized: no leading "./", no trailing '/'
  bool is_dir = false;
  uint64_t header_offset = 0;  // byte offset of the header block in the archive
  uint64_t data_offset = 0;    // byte offset of the first data byte
  uint64_t size = 0;
};

// Parses the headers of a whole archive (data is not read). Rejects, with kCorruption
// naming the header's byte offset: a bad header checksum, a truncated member, an unknown
// member type (links, devices, pax headers), an unsafe name (absolute, "..", empty
// component) and duplicate names.
Status ReadTarIndex(const RandomAccessFile& file, const std::string& path,
                    std::vector<TarMember>* members);

// Formats a ustar header (exposed for tests). out receives exactly 512 bytes.
Status FormatTarHeader(const std::string& name, char type, uint64_t size, int64_t mtime_s,
                       std::string* out);

}  // namespace t4dx
