// Base64, RFC 4648 standard alphabet with '=' padding. Decoding accepts only the
// canonical form (what Base64Encode produces), so one byte string has one text.
#include "util/base64.h"

#include <cstdint>
#include <cstring>

#include "util/coding.h"

namespace t4dx {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// kDecode[c]: the 6-bit value of alphabet character c, 0xff for any other byte.
struct DecodeTable {
  uint8_t v[256];
  constexpr DecodeTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = 0xff;
    for (int i = 0; i < 64; ++i) v[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
};
constexpr DecodeTable kDecode;

// kShifted[k][c]: the 6-bit value of c already in place for position k of a quad (bits
// 18, 12, 6, 0 of the 24-bit group), or kInvalid for a byte outside the alphabet; the OR
// of a quad's four entries is its group, with kInvalid set if any character is bad.
constexpr uint32_t kInvalid = uint32_t{1} << 24;
struct ShiftedTables {
  uint32_t v[4][256];
  constexpr ShiftedTables() : v() {
    for (int k = 0; k < 4; ++k) {
      for (int c = 0; c < 256; ++c) {
        const uint32_t d = kDecode.v[c];
        v[k][c] = d == 0xff ? kInvalid : d << (18 - 6 * k);
      }
    }
  }
};
constexpr ShiftedTables kShifted;

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  AppendBase64(&out, data);
  return out;
}

void AppendBase64(std::string* out, std::string_view data) {
  const size_t at = out->size();
  out->resize(at + (data.size() + 2) / 3 * 4);  // resize grows geometrically; reserve may not
  const auto* in = reinterpret_cast<const uint8_t*>(data.data());
  char* o = &(*out)[at];
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t(in[i]) << 16) | (uint32_t(in[i + 1]) << 8) | in[i + 2];
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
    o += 4;
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t(in[i]) << 16;
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = '=';
    o[3] = '=';
  } else if (rest == 2) {
    const uint32_t v = (uint32_t(in[i]) << 16) | (uint32_t(in[i + 1]) << 8);
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = '=';
  }
}

namespace {

// Padding characters at the end of text (0, 1 or 2); text.size() is a multiple of 4.
int Padding(std::string_view text) {
  if (text.empty() || text.back() != '=') return 0;
  return text[text.size() - 2] == '=' ? 2 : 1;
}

}  // namespace

bool Base64DecodedSize(std::string_view text, size_t* size) {
  if (text.size() % 4 != 0) return false;
  *size = text.size() / 4 * 3 - size_t(Padding(text));
  return true;
}

bool Base64DecodeTo(std::string_view text, char* out) {
  if (text.size() % 4 != 0) return false;
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  const size_t quads = text.size() / 4;
  const int pad = Padding(text);
  char* o = out;
  // Every full quad; the last one separately when it is padded. A bad character anywhere
  // fails the whole text, so validity is checked once after the loop.
  const size_t full = pad ? quads - 1 : quads;
  uint32_t bad = 0;
  size_t q = 0;
  if (kHostLittleEndian) {
    // Four bytes stored per quad (the fourth is overwritten by the next quad), so every
    // full quad but the last.
    for (; q + 1 < full; ++q, in += 4, o += 3) {
      const uint32_t n =
          kShifted.v[0][in[0]] | kShifted.v[1][in[1]] | kShifted.v[2][in[2]] | kShifted.v[3][in[3]];
      bad |= n;
      const uint32_t w = __builtin_bswap32(n << 8);  // bytes n>>16, n>>8, n, 0 in memory
      std::memcpy(o, &w, 4);
    }
  }
  for (; q < full; ++q, in += 4, o += 3) {
    const uint32_t n =
        kShifted.v[0][in[0]] | kShifted.v[1][in[1]] | kShifted.v[2][in[2]] | kShifted.v[3][in[3]];
    bad |= n;
    o[0] = static_cast<char>(n >> 16);
    o[1] = static_cast<char>(n >> 8);
    o[2] = static_cast<char>(n);
  }
  if (bad & kInvalid) return false;
  if (pad) {
    const uint32_t a = kDecode.v[in[0]], b = kDecode.v[in[1]];
    const uint32_t c = pad == 2 ? 0 : kDecode.v[in[2]];
    if ((a | b | c) & 0x80) return false;
    const uint32_t n = (a << 18) | (b << 12) | (c << 6);
    o[0] = static_cast<char>(n >> 16);
    if (pad == 2) {
      if ((n & 0xffff) != 0) return false;  // non-zero unused bits: not canonical
    } else {
      o[1] = static_cast<char>(n >> 8);
      if ((n & 0xff) != 0) return false;
    }
  }
  return true;
}

bool Base64Decode(std::string_view text, std::string* out) {
  size_t size = 0;
  if (!Base64DecodedSize(text, &size)) return false;
  std::string result(size, '\0');
  if (!Base64DecodeTo(text, result.data())) return false;
  *out = std::move(result);
  return true;
}

}  // namespace t4dx
