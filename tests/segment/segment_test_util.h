// Helpers shared by the segment tests: deterministic entries, file surgery through an Env,
// and a POSIX temp directory that cleans itself up.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "segment/segment.h"
#include "segment/segment_format.h"
#include "t4dx/env.h"
#include "t4dx/item.h"

namespace t4dx {
namespace segment_test {

inline std::string IdOf(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "item-%05d", i);
  return buf;
}

// Entry i: every 7th a tombstone, every 3rd without embedding, metadata of every type.
inline SegmentEntry MakeEntry(int i, uint32_t dim, size_t content_bytes = 40) {
  SegmentEntry e;
  e.item.id = IdOf(i);
  e.lsn = 1000 + static_cast<uint64_t>(i) * 3;
  e.item.timestamp = 1700000000000 + i * 1000;
  if (i % 7 == 3) {
    e.deleted = true;
    return e;
  }
  e.item.kind = i % 2 == 0 ? "episode" : "fact";
  std::string content = "content of " + e.item.id + " \"quoted\" \\ ünïcödé\n";
  while (content.size() < content_bytes) content += static_cast<char>('a' + (content.size() % 26));
  e.item.content = content;
  e.item.metadata["source"] = MetaValue::String(i % 3 == 0 ? "chat" : "tool");
  e.item.metadata["score"] = MetaValue::Number(i * 0.25 - 3.1);
  e.item.metadata["pinned"] = MetaValue::Bool(i % 4 == 0);
  e.item.metadata["tags"] = MetaValue::StringList({"t" + std::to_string(i % 5), "all", "all"});
  if (i % 3 != 1 && dim > 0) {
    for (uint32_t d = 0; d < dim; ++d) {
      e.item.embedding.push_back(static_cast<float>((i + 1) * 0.001 * (d + 1)) *
                                 (d % 2 ? -1.f : 1.f));
    }
  }
  return e;
}

inline std::vector<SegmentEntry> MakeEntries(int n, uint32_t dim, size_t content_bytes = 40) {
  std::vector<SegmentEntry> out;
  for (int i = 0; i < n; ++i) out.push_back(MakeEntry(i, dim, content_bytes));
  return out;
}

inline std::string ReadAll(Env* env, const std::string& path) {
  std::string data;
  Status s = ReadFileToString(env, path, &data);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return data;
}

// Replaces the file's contents (not atomically: this is the damage under test).
inline void WriteAll(Env* env, const std::string& path, const std::string& data) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(path, &f).ok());
  ASSERT_TRUE(f->Append(data).ok());
  ASSERT_TRUE(f->Close().ok());
}

inline void FlipByte(Env* env, const std::string& path, uint64_t offset) {
  std::string data = ReadAll(env, path);
  ASSERT_LT(offset, data.size());
  data[offset] = static_cast<char>(data[offset] ^ 0x20);
  WriteAll(env, path, data);
}

// A fresh directory under /tmp for tests of the POSIX Env; removed on destruction.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("t4dx_segment_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace segment_test
}  // namespace t4dx
