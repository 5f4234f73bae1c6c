// WAL file names (see wal_format.h and core/doc/wal_format.md).
#include "wal/wal_format.h"

#include <cstring>

namespace t4dx {
namespace {

constexpr size_t kLsnDigits = 20;  // enough for every uint64_t

}  // namespace

std::string SealedWalName(uint64_t first_lsn) {
  std::string digits(kLsnDigits, '0');
  for (size_t i = kLsnDigits; i > 0 && first_lsn != 0; --i) {
    digits[i - 1] = static_cast<char>('0' + first_lsn % 10);
    first_lsn /= 10;
  }
  return std::string(kWalSealedPrefix) + digits + kWalSealedSuffix;
}

bool ParseSealedWalName(const std::string& name, uint64_t* first_lsn) {
  const size_t prefix = std::strlen(kWalSealedPrefix);
  const size_t suffix = std::strlen(kWalSealedSuffix);
  if (name.size() != prefix + kLsnDigits + suffix) return false;
  if (name.compare(0, prefix, kWalSealedPrefix) != 0) return false;
  if (name.compare(prefix + kLsnDigits, suffix, kWalSealedSuffix) != 0) return false;
  uint64_t v = 0;
  for (size_t i = prefix; i < prefix + kLsnDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // above 18446744073709551615
    v = v * 10 + d;
  }
  *first_lsn = v;
  return true;
}

}  // namespace t4dx
