#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/checksum.h"
#include "wal/wal_format.h"

namespace t4dx {
namespace fuzz {
namespace {

FailureHandler& Handler() {
  static FailureHandler handler;
  return handler;
}

}  // namespace

void SetFailureHandler(FailureHandler handler) { Handler() = std::move(handler); }

void ReportFailure(const char* file, int line, const std::string& what) {
  if (Handler()) {
    Handler()(file, line, what);
    return;
  }
  std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what.c_str());
  std::abort();
}

std::string FixWalLineChecksum(std::string_view line) {
  constexpr size_t kPrefix = sizeof(kWalChecksumField) - 1;
  if (line.size() < kWalChecksumTrailerSize) return std::string(line);
  const size_t trailer = line.size() - kWalChecksumTrailerSize;
  if (line.compare(trailer, kPrefix, kWalChecksumField) != 0 ||
      line.compare(line.size() - 2, 2, "\"}") != 0) {
    return std::string(line);
  }
  std::string out(line);
  const std::string hex = HashHex(Hash64(line.data(), trailer));
  out.replace(trailer + kPrefix, hex.size(), hex);
  return out;
}

std::string FixWalFileChecksums(std::string_view file) {
  std::string out;
  out.reserve(file.size());
  size_t start = 0;
  while (start < file.size()) {
    size_t nl = file.find('\n', start);
    const size_t end = nl == std::string_view::npos ? file.size() : nl;
    out += FixWalLineChecksum(file.substr(start, end - start));
    if (nl == std::string_view::npos) break;
    out.push_back('\n');
    start = nl + 1;
  }
  return out;
}

}  // namespace fuzz
}  // namespace t4dx
