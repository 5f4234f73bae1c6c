#include "ids.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>

namespace t4dm {
namespace {

// Per-thread generator seeded from the OS's random source.
std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return rng;
}

}  // namespace

bool IsValidSessionId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool NormalizeSegmentId(const std::string& text, std::string* canonical) {
  std::string digits = text;
  if (digits.rfind("seg_", 0) == 0) digits = digits.substr(4);
  if (digits.empty() || digits.size() > 18) return false;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06llu", static_cast<unsigned long long>(value));
  *canonical = buf;
  return true;
}

std::string GenerateItemId() {
  const uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  const uint64_t r1 = Rng()();
  const uint64_t r2 = Rng()();
  // 48 bits of time, version 7, 12 random bits, variant 10, 62 random bits.
  const uint64_t hi = (ms << 16) | 0x7000u | (r1 & 0x0fffu);
  const uint64_t lo = (r2 & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffull));
  return buf;
}

std::string GenerateApiKey() {
  std::random_device rd;  // the OS's random source, not the seeded per-thread generator
  std::string key = "t4dm_";
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 20; ++i) {
    const unsigned v = rd() & 0xffu;
    key.push_back(kHex[v >> 4]);
    key.push_back(kHex[v & 0xf]);
  }
  return key;
}

}  // namespace t4dm
