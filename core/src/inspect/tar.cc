#include "inspect/tar.h"

#include <cstring>
#include <set>

namespace t4dx {
namespace {

// Field offsets and sizes of a ustar header block.
constexpr size_t kNameOff = 0, kNameLen = 100;
constexpr size_t kModeOff = 100;
constexpr size_t kUidOff = 108;
constexpr size_t kGidOff = 116;
constexpr size_t kSizeOff = 124, kSizeLen = 12;
constexpr size_t kMtimeOff = 136, kMtimeLen = 12;
constexpr size_t kChksumOff = 148, kChksumLen = 8;
constexpr size_t kTypeOff = 156;
constexpr size_t kMagicOff = 257;
constexpr size_t kVersionOff = 263;
constexpr size_t kUnameOff = 265, kGnameOff = 297;
constexpr size_t kPrefixOff = 345, kPrefixLen = 155;
constexpr uint64_t kMaxOctal11 = 077777777777ull;  // 8 GiB - 1

void PutOctal(char* field, size_t len, uint64_t v) {
  // len-1 octal digits, zero padded, then NUL.
  for (size_t i = len - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
  field[len - 1] = '\0';
}

void PutBase256(char* field, size_t len, uint64_t v) {
  std::memset(field, 0, len);
  for (size_t i = len; i-- > 1;) {
    field[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  field[0] = static_cast<char>(0x80);
}

bool ParseNumber(const char* field, size_t len, uint64_t* v) {
  const auto* u = reinterpret_cast<const unsigned char*>(field);
  if (u[0] & 0x80) {  // GNU base-256 (positive values only)
    if (u[0] != 0x80) return false;
    uint64_t r = 0;
    for (size_t i = 1; i < len; ++i) {
      if (r >> 56) return false;
      r = (r << 8) | u[i];
    }
    *v = r;
    return true;
  }
  size_t i = 0;
  while (i < len && field[i] == ' ') ++i;
  uint64_t r = 0;
  bool any = false;
  for (; i < len && field[i] != '\0' && field[i] != ' '; ++i) {
    if (field[i] < '0' || field[i] > '7') return false;
    if (r >> 60) return false;
    r = (r << 3) | static_cast<uint64_t>(field[i] - '0');
    any = true;
  }
  *v = any ? r : 0;
  return true;
}

std::string FieldString(const char* field, size_t len) {
  size_t n = 0;
  while (n < len && field[n] != '\0') ++n;
  return std::string(field, n);
}

// Normalizes a member name; false when it is unsafe to extract below a directory.
bool NormalizeName(std::string name, std::string* out) {
  while (name.compare(0, 2, "./") == 0) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (name.empty() || name[0] == '/' || name.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string_view part(name.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  *out = std::move(name);
  return true;
}

}  // namespace

Status FormatTarHeader(const std::string& name, char type, uint64_t size, int64_t mtime_s,
                       std::string* out) {
  std::string full = name;
  if (type == '5' && (full.empty() || full.back() != '/')) full += '/';
  std::string prefix, base = full;
  if (full.size() > kNameLen) {
    // Split at a '/' so that the prefix fits 155 bytes and the rest fits 100.
    size_t split = std::string::npos;
    for (size_t i = 0; i < full.size() && i <= kPrefixLen; ++i) {
      if (full[i] == '/' && full.size() - i - 1 <= kNameLen && full.size() - i - 1 > 0) {
        split = i;
        break;
      }
    }
    if (split == std::string::npos) {
      return Status::InvalidArgument("tar: member name too long for ustar: " + name);
    }
    prefix = full.substr(0, split);
    base = full.substr(split + 1);
  }
  out->assign(kTarBlockSize, '\0');
  char* h = &(*out)[0];
  std::memcpy(h + kNameOff, base.data(), base.size());
  PutOctal(h + kModeOff, 8, type == '5' ? 0755 : 0644);
  PutOctal(h + kUidOff, 8, 0);
  PutOctal(h + kGidOff, 8, 0);
  if (size <= kMaxOctal11) {
    PutOctal(h + kSizeOff, kSizeLen, size);
  } else {
    PutBase256(h + kSizeOff, kSizeLen, size);
  }
  PutOctal(h + kMtimeOff, kMtimeLen, mtime_s > 0 ? static_cast<uint64_t>(mtime_s) : 0);
  h[kTypeOff] = type;
  std::memcpy(h + kMagicOff, "ustar", 6);  // "ustar\0"
  std::memcpy(h + kVersionOff, "00", 2);
  std::memcpy(h + kUnameOff, "t4dx", 4);
  std::memcpy(h + kGnameOff, "t4dx", 4);
  std::memcpy(h + kPrefixOff, prefix.data(), prefix.size());
  // Checksum: sum of all bytes with the checksum field taken as spaces.
  std::memset(h + kChksumOff, ' ', kChksumLen);
  uint64_t sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) sum += static_cast<unsigned char>(h[i]);
  PutOctal(h + kChksumOff, 7, sum);  // six digits + NUL
  h[kChksumOff + 7] = ' ';
  return Status::OK();
}

Status TarWriter::Append(std::string_view data) {
  T4DX_RETURN_IF_ERROR(file_->Append(data));
  offset_ += data.size();
  return Status::OK();
}

Status TarWriter::WriteHeader(const std::string& name, char type, uint64_t size) {
  if (in_file_) return Status::FailedPrecondition("tar: previous member not ended");
  std::string header;
  T4DX_RETURN_IF_ERROR(FormatTarHeader(name, type, size, mtime_s_, &header));
  return Append(header);
}

Status TarWriter::AddDirectory(const std::string& name) { return WriteHeader(name, '5', 0); }

Status TarWriter::BeginFile(const std::string& name, uint64_t size) {
  T4DX_RETURN_IF_ERROR(WriteHeader(name, '0', size));
  in_file_ = true;
  remaining_ = size;
  return Status::OK();
}

Status TarWriter::Write(std::string_view data) {
  if (!in_file_) return Status::FailedPrecondition("tar: Write outside a member");
  if (data.size() > remaining_) {
    return Status::FailedPrecondition("tar: member longer than announced");
  }
  remaining_ -= data.size();
  return Append(data);
}

Status TarWriter::EndFile() {
  if (!in_file_) return Status::FailedPrecondition("tar: EndFile outside a member");
  if (remaining_ != 0) {
    return Status::FailedPrecondition("tar: member shorter than announced by " +
                                      std::to_string(remaining_) + " bytes");
  }
  in_file_ = false;
  size_t pad = static_cast<size_t>((kTarBlockSize - offset_ % kTarBlockSize) % kTarBlockSize);
  if (pad) return Append(std::string(pad, '\0'));
  return Status::OK();
}

Status TarWriter::Finish() {
  if (in_file_) return Status::FailedPrecondition("tar: Finish inside a member");
  return Append(std::string(2 * kTarBlockSize, '\0'));
}

Status ReadTarIndex(const RandomAccessFile& file, const std::string& path,
                    std::vector<TarMember>* members) {
  members->clear();
  uint64_t file_size = 0;
  T4DX_RETURN_IF_ERROR(file.Size(&file_size));
  std::set<std::string> seen;
  uint64_t offset = 0;
  std::string block;
  while (true) {
    if (offset + kTarBlockSize > file_size) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  "tar: archive ends without its end-of-archive blocks");
    }
    T4DX_RETURN_IF_ERROR(file.Read(offset, kTarBlockSize, &block));
    if (block.size() != kTarBlockSize) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset), "tar: short read");
    }
    if (block.find_first_not_of('\0') == std::string::npos) break;  // end of archive
    const char* h = block.data();
    uint64_t stored = 0, sum = 0;
    int64_t ssum = 0;
    if (!ParseNumber(h + kChksumOff, kChksumLen, &stored)) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  "tar: header checksum field is not a number");
    }
    for (size_t i = 0; i < kTarBlockSize; ++i) {
      bool in_field = i >= kChksumOff && i < kChksumOff + kChksumLen;
      sum += in_field ? ' ' : static_cast<unsigned char>(h[i]);
      ssum += in_field ? ' ' : static_cast<signed char>(h[i]);
    }
    if (stored != sum && static_cast<int64_t>(stored) != ssum) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  "tar: header checksum mismatch (stored " +
                                      std::to_string(stored) + ", computed " + std::to_string(sum) +
                                      ")");
    }
    std::string name = FieldString(h + kNameOff, kNameLen);
    if (std::memcmp(h + kMagicOff, "ustar", 5) == 0) {
      std::string prefix = FieldString(h + kPrefixOff, kPrefixLen);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    uint64_t size = 0;
    if (!ParseNumber(h + kSizeOff, kSizeLen, &size)) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  "tar: size field of '" + name + "' is not a number");
    }
    char type = h[kTypeOff];
    TarMember m;
    if (type == '0' || type == '\0' || type == '7') {
      m.is_dir = false;
    } else if (type == '5') {
      m.is_dir = true;
      size = 0;
    } else {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  std::string("tar: member '") + name + "' has type '" + type +
                                      "'; snapshots hold only files and directories");
    }
    if (!NormalizeName(name, &m.name)) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  "tar: unsafe member name '" + name + "'");
    }
    if (!seen.insert(m.name).second) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  "tar: duplicate member '" + m.name + "'");
    }
    m.header_offset = offset;
    m.data_offset = offset + kTarBlockSize;
    m.size = size;
    if (size > file_size || m.data_offset > file_size - size) {
      return Status::CorruptionAt(path, 0, static_cast<int64_t>(offset),
                                  "tar: member '" + m.name + "' (" + std::to_string(size) +
                                      " bytes) runs past the end of the archive (" +
                                      std::to_string(file_size) + " bytes)");
    }
    uint64_t padded = (size + kTarBlockSize - 1) / kTarBlockSize * kTarBlockSize;
    offset = m.data_offset + padded;
    members->push_back(std::move(m));
  }
  return Status::OK();
}

}  // namespace t4dx
