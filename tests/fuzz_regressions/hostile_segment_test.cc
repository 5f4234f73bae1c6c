// Found by segment_fuzzer (tests/fuzz/regressions/segment/vouched_vectors_with_nan): a
// segment whose vectors.f32 holds NaN or infinite values under valid checksums (a crafted
// store or snapshot; the engine never writes one) was read without complaint: searches
// returned NaN scores and Get a NaN vector. Every vector the engine accepts is finite, so
// such a segment is corruption: the store still opens (recovery rebuilds the segment from
// the WAL when it can, or quarantines it), searches score finitely, and what was found is
// named in status or by Verify.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "manifest/manifest.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "util/checksum.h"
#include "vector/hnsw_index.h"

namespace t4dx {
namespace {

using Json = nlohmann::json;

std::string Read(Env* env, const std::string& path) {
  std::string data;
  EXPECT_TRUE(ReadFileToString(env, path, &data).ok()) << path;
  return data;
}

void Put(Env* env, const std::string& path, const std::string& data) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(path, &f).ok());
  ASSERT_TRUE(f->Append(data).ok());
  ASSERT_TRUE(f->Close().ok());
}

// Replaces seg's vectors.f32 by `vectors` and re-seals meta.json and the manifest so every
// checksum vouches for the new bytes.
void Vouch(Env* env, const std::string& store, const std::string& seg, const std::string& vectors) {
  Put(env, seg + "/" + kSegmentVectorsFile, vectors);
  Json j = Json::parse(Read(env, seg + "/" + kSegmentMetaFile));
  Json blocks = Json::array();
  for (size_t off = 0; off < vectors.size(); off += kSegmentBlockSize) {
    blocks.push_back(HashHex(Hash64(std::string_view(vectors).substr(off, kSegmentBlockSize))));
  }
  j["files"][kSegmentVectorsFile]["blocks"] = blocks;
  j.erase("checksum");
  const std::string sum = HashHex(Hash64(j.dump(-1, ' ', false, Json::error_handler_t::replace)));
  j["checksum"] = sum;
  Put(env, seg + "/" + kSegmentMetaFile, j.dump(2) + "\n");
  Manifest m;
  ASSERT_TRUE(ReadManifest(env, store, &m).ok());
  for (ManifestSegment& s : m.segments) s.meta_checksum = sum;
  m.generation++;
  ASSERT_TRUE(WriteManifest(env, store, m).ok());
}

class HostileSegmentTest : public ::testing::TestWithParam<float> {};

TEST_P(HostileSegmentTest, NonFiniteVectorsAreCorruptionNotScores) {
  std::unique_ptr<Env> env = NewMemEnv();
  ASSERT_TRUE(env->CreateDir("/s").ok());
  Options o;
  o.env = env.get();
  o.background_compaction = false;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Engine::Open(o, "/s", &db).ok());
  for (int i = 0; i < 4; ++i) {
    Item it;
    it.id = "i" + std::to_string(i);
    it.timestamp = 1000 + i;
    it.embedding = {1.f + i, 0.5f, -0.25f};
    ASSERT_TRUE(db->Put(it).ok());
  }
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_TRUE(db->Close().ok());
  db.reset();

  const std::string seg = std::string("/s/") + SegmentDirName(1);
  std::string vectors = Read(env.get(), seg + "/" + kSegmentVectorsFile);
  ASSERT_EQ(vectors.size(), 4u * 3 * 4);
  const float bad = GetParam();
  std::memcpy(&vectors[4], &bad, 4);  // row 0, component 1
  Vouch(env.get(), "/s", seg, vectors);
  env->RemoveFile(std::string("/s/") + kHnswContainerFile);  // rebuilt from the segment

  Status s = Engine::Open(o, "/s", &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  SearchOptions so;
  so.k = 4;
  SearchResult r;
  s = db->Search({1.f, 0.5f, -0.25f}, so, &r);
  if (s.ok()) {
    for (const SearchHit& h : r.hits) EXPECT_TRUE(std::isfinite(h.score)) << h.id;
  }
  // Either recovery noticed it (and rebuilt the segment from the WAL, or quarantined it),
  // or Verify names it.
  std::string status_json;
  ASSERT_TRUE(db->Describe(View::kStatus, "", &status_json).ok());
  const bool recovered = status_json.find(SegmentDirName(1)) != std::string::npos &&
                         status_json.find("not finite") != std::string::npos;
  std::string report;
  bool healthy = true;
  ASSERT_TRUE(db->Verify(&report, &healthy).ok());
  if (!recovered) {
    EXPECT_FALSE(healthy) << report;
    EXPECT_NE(report.find("not finite"), std::string::npos) << report;
  }
  Item got;
  s = db->Get("i0", &got);
  EXPECT_TRUE(!s.ok() || std::isfinite(got.embedding[1])) << "a non-finite vector was returned";
  EXPECT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Values, HostileSegmentTest,
                         ::testing::Values(std::numeric_limits<float>::quiet_NaN(),
                                           std::numeric_limits<float>::infinity()));

}  // namespace
}  // namespace t4dx
