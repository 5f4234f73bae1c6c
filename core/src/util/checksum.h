// Checksums: XXH64 (seed 0) from xxHash, the only file that includes xxhash.h is checksum.cc.
// Every checksum T4DX writes is the XXH64 of exact bytes, printed as 16 lowercase hex
// digits. Same value on every host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace t4dx {

uint64_t Hash64(const void* data, size_t n);
inline uint64_t Hash64(std::string_view s) { return Hash64(s.data(), s.size()); }
std::string HashHex(uint64_t h);  // 16 lowercase hex digits
bool ParseHashHex(std::string_view hex, uint64_t* h);

// Incremental XXH64 over several pieces (same result as Hash64 of the concatenation).
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  uint64_t Digest() const;

 private:
  void* state_;  // XXH64_state_t
};

}  // namespace t4dx
