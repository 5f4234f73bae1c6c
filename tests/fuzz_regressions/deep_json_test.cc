// Deeply nested JSON in the files the engine reads. global_index.json and a segment's
// meta.json nested a few hundred thousand levels deep used to overflow the stack (nlohmann's
// copy and dump recurse) before any checksum was checked: a hostile store or snapshot
// crashed the engine, the CLI and the inspector. Found by running the manifest and segment
// fuzz targets on inputs longer than libFuzzer's default length. They must be refused as
// corruption instead, quickly. The same holds for item JSON and WAL lines (not copied
// recursively today; checked so it stays so).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "manifest/manifest.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "t4dx/env.h"
#include "t4dx/item_json.h"
#include "util/json_util.h"
#include "wal/wal_record.h"

namespace t4dx {
namespace {

constexpr size_t kDepth = 1000000;

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

void Put(Env* env, const std::string& path, const std::string& data) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(path, &f).ok());
  ASSERT_TRUE(f->Append(data).ok());
  ASSERT_TRUE(f->Close().ok());
}

TEST(DeepJsonTest, ManifestIsCorruptionNotACrash) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/s").ok());
  Put(env.get(), std::string("/s/") + kManifestFile,
      R"({"format":"t4dx-global-index","version":1,"checksum":"0000000000000000","x":)" +
          Nested(kDepth) + "}");
  Manifest m;
  Status s = ReadManifest(env.get(), "/s", &m);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("nest"), std::string::npos) << s.ToString();
}

TEST(DeepJsonTest, SegmentMetaIsCorruptionNotACrash) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/s").ok());
  ASSERT_TRUE(env->CreateDir("/s/seg_000001").ok());
  Put(env.get(), std::string("/s/seg_000001/") + kSegmentMetaFile,
      R"({"format":"t4dx-segment","version":1,"checksum":"0000000000000000","x":)" +
          Nested(kDepth) + "}");
  SegmentMeta meta;
  Status s = ReadSegmentMeta(env.get(), "/s/seg_000001", &meta);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  std::unique_ptr<SegmentReader> r;
  s = SegmentReader::Open(env.get(), "/s/seg_000001", &r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(DeepJsonTest, ItemJsonAndWalLinesAreRefused) {
  Item item;
  EXPECT_FALSE(ItemFromJson(R"({"id":"a","metadata":)" + Nested(kDepth) + "}", &item).ok());
  Filter filter;
  EXPECT_FALSE(FilterFromJson(R"({"metadata":)" + Nested(kDepth) + "}", &filter).ok());
  WalRecord r;
  std::string reason;
  EXPECT_FALSE(DecodeWalRecord(R"({"v":1,"lsn":1,"timestamp":1,"op_type":"put","item":{"id":"a",)"
                               R"("timestamp":1,"metadata":{"k":)" +
                                   Nested(kDepth) + R"(}},"checksum":"0000000000000000"})",
                               &r, &reason));
}

TEST(DeepJsonTest, NestingWithin) {
  EXPECT_TRUE(json_util::NestingWithin("{}", 1));
  EXPECT_TRUE(json_util::NestingWithin(R"({"a":[1,{"b":2}]})", 3));
  EXPECT_FALSE(json_util::NestingWithin(R"({"a":[1,{"b":2}]})", 2));
  EXPECT_TRUE(json_util::NestingWithin(R"({"a":"[[[[\"[[["})", 1));  // brackets in strings
  EXPECT_FALSE(json_util::NestingWithin(Nested(100), 99));
  EXPECT_TRUE(json_util::NestingWithin(Nested(100), 100));
}

}  // namespace
}  // namespace t4dx
