// Fixed-width little-endian encoding: every binary field T4DX writes goes through these,
// so files are the same bytes on every host (64-bit native, 32-bit WASM, any endianness).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace t4dx {

void PutFixed16(std::string* dst, uint16_t v);
void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutFloat32(std::string* dst, float v);
void PutFloat64(std::string* dst, double v);
// Appends the floats as little-endian float32.
void PutFloats(std::string* dst, const float* v, size_t n);

uint16_t DecodeFixed16(const char* p);
uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);
float DecodeFloat32(const char* p);
double DecodeFloat64(const char* p);
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
