// The ustar writer and reader used by snapshots (core/src/inspect/tar.h).
#include "inspect/tar.h"

#include <gtest/gtest.h>

#include <cstring>

#include "t4dx/env.h"

namespace t4dx {
namespace {

std::string Read(Env* env, const std::string& path) {
  std::string data;
  EXPECT_TRUE(ReadFileToString(env, path, &data).ok());
  return data;
}

void WriteArchive(Env* env, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& files) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(path, &f).ok());
  TarWriter tar(f.get(), 1700000000);
  ASSERT_TRUE(tar.AddDirectory("seg_000001").ok());
  for (const auto& [name, data] : files) {
    ASSERT_TRUE(tar.BeginFile(name, data.size()).ok());
    ASSERT_TRUE(tar.Write(data).ok());
    ASSERT_TRUE(tar.EndFile().ok());
  }
  ASSERT_TRUE(tar.Finish().ok());
  ASSERT_TRUE(f->Close().ok());
}

std::vector<TarMember> Index(Env* env, const std::string& path, Status* s) {
  std::unique_ptr<RandomAccessFile> f;
  EXPECT_TRUE(env->NewRandomAccessFile(path, &f).ok());
  std::vector<TarMember> members;
  *s = ReadTarIndex(*f, path, &members);
  return members;
}

TEST(TarTest, RoundTrip) {
  auto env = NewMemEnv();
  // 131 bytes: stored as prefix (the directory) + name.
  const std::string long_name = "seg_000001/" + std::string(70, 'd') + "/" + std::string(49, 'x');
  WriteArchive(env.get(), "a.tar",
               {{"seg_000001/items.jsonl", "hello\n"},
                {"wal.jsonl", std::string(1000, 'w')},
                {"empty", ""},
                {long_name, "long"}});
  const std::string bytes = Read(env.get(), "a.tar");
  EXPECT_EQ(bytes.size() % kTarBlockSize, 0u);
  Status s;
  auto m = Index(env.get(), "a.tar", &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(m.size(), 5u);
  EXPECT_TRUE(m[0].is_dir);
  EXPECT_EQ(m[0].name, "seg_000001");
  EXPECT_EQ(m[1].name, "seg_000001/items.jsonl");
  EXPECT_EQ(bytes.substr(m[1].data_offset, m[1].size), "hello\n");
  EXPECT_EQ(m[2].size, 1000u);
  EXPECT_EQ(m[3].size, 0u);
  EXPECT_EQ(m[4].name, long_name);  // split into prefix + name
  EXPECT_EQ(bytes.substr(m[4].data_offset, 4), "long");
  // Standard fields a tar tool relies on.
  EXPECT_EQ(bytes.substr(257, 6), std::string("ustar\0", 6));
}

TEST(TarTest, WriterEnforcesAnnouncedSize) {
  auto env = NewMemEnv();
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile("b.tar", &f).ok());
  TarWriter tar(f.get(), 0);
  ASSERT_TRUE(tar.BeginFile("x", 3).ok());
  EXPECT_FALSE(tar.Write("abcd").ok());
  ASSERT_TRUE(tar.Write("ab").ok());
  EXPECT_FALSE(tar.EndFile().ok());  // one byte short
}

TEST(TarTest, HeaderChecksumMismatchNamesOffset) {
  auto env = NewMemEnv();
  WriteArchive(env.get(), "c.tar", {{"a", "1"}, {"b", "2"}});
  std::string bytes = Read(env.get(), "c.tar");
  // Blocks: dir header, a header, a data, b header: flip a byte of b's name.
  bytes[3 * 512] ^= 0x01;
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile("c.tar", &f).ok());
  ASSERT_TRUE(f->Append(bytes).ok());
  ASSERT_TRUE(f->Close().ok());
  Status s;
  Index(env.get(), "c.tar", &s);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.offset(), 3 * 512);
  EXPECT_NE(s.message().find("header checksum mismatch"), std::string::npos) << s.ToString();
}

TEST(TarTest, RejectsUnsafeNamesAndTruncation) {
  auto env = NewMemEnv();
  for (const char* bad : {"../etc/passwd", "/abs", "a//b", "a/./b"}) {
    std::string header;
    ASSERT_TRUE(FormatTarHeader(bad, '0', 0, 0, &header).ok());
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env->NewWritableFile("d.tar", &f).ok());
    ASSERT_TRUE(f->Append(header + std::string(1024, '\0')).ok());
    ASSERT_TRUE(f->Close().ok());
    Status s;
    Index(env.get(), "d.tar", &s);
    EXPECT_TRUE(s.IsCorruption()) << bad;
    EXPECT_NE(s.message().find("unsafe member name"), std::string::npos) << s.ToString();
  }
  // A member longer than the archive.
  std::string header;
  ASSERT_TRUE(FormatTarHeader("big", '0', 1 << 20, 0, &header).ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile("e.tar", &f).ok());
  ASSERT_TRUE(f->Append(header + std::string(1024, 'x')).ok());
  ASSERT_TRUE(f->Close().ok());
  Status s;
  Index(env.get(), "e.tar", &s);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("runs past the end"), std::string::npos) << s.ToString();
  // No end-of-archive blocks.
  ASSERT_TRUE(env->NewWritableFile("f.tar", &f).ok());
  ASSERT_TRUE(f->Append(std::string(100, 'z')).ok());
  ASSERT_TRUE(f->Close().ok());
  Index(env.get(), "f.tar", &s);
  EXPECT_TRUE(s.IsCorruption());
}

TEST(TarTest, RejectsLinks) {
  auto env = NewMemEnv();
  std::string header;
  ASSERT_TRUE(FormatTarHeader("link", '2', 0, 0, &header).ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile("g.tar", &f).ok());
  ASSERT_TRUE(f->Append(header + std::string(1024, '\0')).ok());
  ASSERT_TRUE(f->Close().ok());
  Status s;
  Index(env.get(), "g.tar", &s);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("has type '2'"), std::string::npos) << s.ToString();
}

TEST(TarTest, HugeSizeUsesBase256) {
  std::string header;
  const uint64_t size = 20ull << 30;  // 20 GiB: beyond 11 octal digits
  ASSERT_TRUE(FormatTarHeader("huge", '0', size, 0, &header).ok());
  EXPECT_EQ(static_cast<unsigned char>(header[124]), 0x80);
  uint64_t decoded = 0;
  for (int i = 125; i < 136; ++i) decoded = (decoded << 8) | static_cast<unsigned char>(header[i]);
  EXPECT_EQ(decoded, size);
}

}  // namespace
}  // namespace t4dx
