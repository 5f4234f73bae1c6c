// Fixed-width little-endian encoding: every binary field T4DX writes goes through these,
// so files are the same bytes on every host (64-bit native, 32-bit WASM, any endianness).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace t4dx {

// Whether this host stores integers and floats little-endian (the files' byte order), so
// that their bytes can be copied as they are.
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
inline constexpr bool kHostLittleEndian = true;
#else
inline constexpr bool kHostLittleEndian = false;
#endif

void PutFixed16(std::string* dst, uint16_t v);
void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutFloat32(std::string* dst, float v);
void PutFloat64(std::string* dst, double v);
// Appends the floats as little-endian float32.
void PutFloats(std::string* dst, const float* v, size_t n);

// Decoders are inline: the byte-by-byte form compiles to one load on little-endian hosts,
// and as calls they were a quarter of opening a store (the HNSW container is decoded one
// 32-bit word at a time: 37 million calls for 100,000 vectors of 384 dimensions).
inline uint16_t DecodeFixed16(const char* p) {
  const auto* b = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* b = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
}
inline uint64_t DecodeFixed64(const char* p) {
  return static_cast<uint64_t>(DecodeFixed32(p)) |
         (static_cast<uint64_t>(DecodeFixed32(p + 4)) << 32);
}
inline float DecodeFloat32(const char* p) {
  const uint32_t bits = DecodeFixed32(p);
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}
inline double DecodeFloat64(const char* p) {
  const uint64_t bits = DecodeFixed64(p);
  double v;
  std::memcpy(&v, &bits, 8);
  return v;
}
// Decodes n little-endian float32 values from p into out (resized to n).
void DecodeFloats(const char* p, size_t n, std::vector<float>* out);

// A cursor over a byte string for bounds-checked decoding: every Get returns false
// (and leaves the cursor failed) instead of reading past the end.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}
  bool GetFixed8(uint8_t* v);
  bool GetFixed16(uint16_t* v);
  bool GetFixed32(uint32_t* v);
  bool GetFixed64(uint64_t* v);
  bool GetFloat64(double* v);
  bool GetBytes(size_t n, std::string_view* v);
  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool failed() const { return failed_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace t4dx
