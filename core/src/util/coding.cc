// Little-endian fixed-width coding, written byte by byte so the bytes do not depend on
// the host's endianness. Bulk float arrays take a memcpy fast path on little-endian hosts.
#include "util/coding.h"

namespace t4dx {

void PutFixed16(std::string* dst, uint16_t v) {
  char buf[2] = {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff)};
  dst->append(buf, 2);
}

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  dst->append(buf, 4);
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  dst->append(buf, 8);
}

void PutFloat32(std::string* dst, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  PutFixed32(dst, bits);
}

void PutFloat64(std::string* dst, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  PutFixed64(dst, bits);
}

void PutFloats(std::string* dst, const float* v, size_t n) {
  if (kHostLittleEndian) {
    dst->append(reinterpret_cast<const char*>(v), n * sizeof(float));
    return;
  }
  dst->reserve(dst->size() + n * 4);
  for (size_t i = 0; i < n; ++i) PutFloat32(dst, v[i]);
}

void DecodeFloats(const char* p, size_t n, std::vector<float>* out) {
  out->resize(n);
  if (n == 0) return;
  if (kHostLittleEndian) {
    std::memcpy(out->data(), p, n * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; ++i) (*out)[i] = DecodeFloat32(p + 4 * i);
}

bool Decoder::GetFixed8(uint8_t* v) {
  if (failed_ || remaining() < 1) return failed_ = true, false;
  *v = static_cast<uint8_t>(data_[pos_]);
  pos_ += 1;
  return true;
}

bool Decoder::GetFixed16(uint16_t* v) {
  if (failed_ || remaining() < 2) return failed_ = true, false;
  *v = DecodeFixed16(data_.data() + pos_);
  pos_ += 2;
  return true;
}

bool Decoder::GetFixed32(uint32_t* v) {
  if (failed_ || remaining() < 4) return failed_ = true, false;
  *v = DecodeFixed32(data_.data() + pos_);
  pos_ += 4;
  return true;
}

bool Decoder::GetFixed64(uint64_t* v) {
  if (failed_ || remaining() < 8) return failed_ = true, false;
  *v = DecodeFixed64(data_.data() + pos_);
  pos_ += 8;
  return true;
}

bool Decoder::GetFloat64(double* v) {
  if (failed_ || remaining() < 8) return failed_ = true, false;
  *v = DecodeFloat64(data_.data() + pos_);
  pos_ += 8;
  return true;
}

bool Decoder::GetBytes(size_t n, std::string_view* v) {
  if (failed_ || remaining() < n) return failed_ = true, false;
  *v = data_.substr(pos_, n);
  pos_ += n;
  return true;
}

}  // namespace t4dx
