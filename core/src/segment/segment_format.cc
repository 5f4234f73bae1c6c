#include "segment/segment_format.h"

#include <cstdio>

namespace t4dx {

std::string SegmentDirName(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg_%06llu", static_cast<unsigned long long>(id));
  return buf;
}

bool ParseSegmentDirName(const std::string& name, uint64_t* id) {
  constexpr size_t kPrefix = 4;  // "seg_"
  if (name.size() < kPrefix + 6 || name.compare(0, kPrefix, "seg_") != 0) return false;
  uint64_t v = 0;
  for (size_t i = kPrefix; i < name.size(); ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  // Only the canonical spelling: "seg_0000001" is not the directory of segment 1.
  if (SegmentDirName(v) != name) return false;
  *id = v;
  return true;
}

}  // namespace t4dx
