// Base64, RFC 4648 standard alphabet with '=' padding. Decoding accepts only the
// canonical form (what Base64Encode produces), so one byte string has one text.
#include "util/base64.h"

#include <cstdint>

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

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out((data.size() + 2) / 3 * 4, '\0');
  const auto* in = reinterpret_cast<const uint8_t*>(data.data());
  char* o = &out[0];
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
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  size_t quads = text.size() / 4;
  int pad = 0;
  if (quads > 0 && in[text.size() - 1] == '=') pad = in[text.size() - 2] == '=' ? 2 : 1;
  std::string result(quads * 3 - pad, '\0');
  char* o = &result[0];
  // Every full quad; the last one separately when it is padded.
  const size_t full = pad ? quads - 1 : quads;
  for (size_t q = 0; q < full; ++q, in += 4, o += 3) {
    const uint32_t a = kDecode.v[in[0]], b = kDecode.v[in[1]], c = kDecode.v[in[2]],
                   d = kDecode.v[in[3]];
    if ((a | b | c | d) & 0x80) return false;
    const uint32_t n = (a << 18) | (b << 12) | (c << 6) | d;
    o[0] = static_cast<char>(n >> 16);
    o[1] = static_cast<char>(n >> 8);
    o[2] = static_cast<char>(n);
  }
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
  *out = std::move(result);
  return true;
}

}  // namespace t4dx
