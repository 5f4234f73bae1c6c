// XXH64 (seed 0). The only file that includes xxhash.h; XXH_INLINE_ALL compiles the
// implementation in, so nothing needs linking (native and WASM alike).
#include "util/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace t4dx {

uint64_t Hash64(const void* data, size_t n) { return XXH64(data, n, 0); }

std::string HashHex(uint64_t h) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[h & 0xf];
    h >>= 4;
  }
  return out;
}

bool ParseHashHex(std::string_view hex, uint64_t* h) {
  if (hex.size() != 16) return false;
  uint64_t v = 0;
  for (char c : hex) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *h = v;
  return true;
}

Hasher::Hasher() : state_(XXH64_createState()) {
  XXH64_reset(static_cast<XXH64_state_t*>(state_), 0);
}

Hasher::~Hasher() { XXH64_freeState(static_cast<XXH64_state_t*>(state_)); }

void Hasher::Update(const void* data, size_t n) {
  XXH64_update(static_cast<XXH64_state_t*>(state_), data, n);
}

uint64_t Hasher::Digest() const { return XXH64_digest(static_cast<const XXH64_state_t*>(state_)); }

}  // namespace t4dx
