// Hostile segment files: random mutations of ids.idx and meta.json must give errors (or,
// for meta.json, an unchanged meaning), never a crash or an absurd allocation. Part of the
// corpus recomputes the checksums so the decoders themselves see the hostile bytes.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment_test_util.h"
#include "util/checksum.h"

namespace t4dx {
namespace {

using namespace segment_test;
using Json = nlohmann::json;

constexpr uint32_t kDim = 4;
constexpr char kDir[] = "/store/seg_000001";

std::string Mutate(const std::string& in, std::mt19937_64* rng) {
  std::string s = in;
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : (*rng)() % n; };
  switch (pick(7)) {
    case 0:  // flip one bit
      if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
      break;
    case 1:  // set a random byte
      if (!s.empty()) s[pick(s.size())] = static_cast<char>(pick(256));
      break;
    case 2:  // truncate
      s.resize(pick(s.size()));
      break;
    case 3:  // append garbage
      for (uint64_t n = 1 + pick(64); n > 0; --n) s.push_back(static_cast<char>(pick(256)));
      break;
    case 4: {  // insert garbage
      size_t at = pick(s.size() + 1);
      s.insert(at, std::string(1 + pick(16), static_cast<char>(pick(256))));
      break;
    }
    case 5: {  // delete a range
      size_t at = pick(s.size() + 1);
      s.erase(at, 1 + pick(32));
      break;
    }
    default: {  // a run of 0xFF (huge lengths and counts)
      if (s.empty()) break;
      size_t at = pick(s.size());
      for (size_t k = at; k < s.size() && k < at + 8; ++k) s[k] = '\xff';
      break;
    }
  }
  if (s == in) s.push_back('x');  // every mutation changes something
  return s;
}

class SegmentFuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = NewMemEnv();
    ASSERT_TRUE(env_->CreateDir("/store").ok());
    ASSERT_TRUE(WriteSegment(env_.get(), "/store", 1, MakeEntries(25, kDim), kDim, Metric::kCosine,
                             {}, 1, &meta_)
                    .ok());
    ids_ = ReadAll(env_.get(), Path(kSegmentIdsFile));
    meta_json_ = ReadAll(env_.get(), Path(kSegmentMetaFile));
  }
  std::string Path(const char* name) const { return JoinPath(kDir, name); }

  // Opens the segment and, when that works, exercises every read.
  Status OpenAndReadAll() {
    std::unique_ptr<SegmentReader> r;
    Status s = SegmentReader::Open(env_.get(), kDir, &r);
    if (!s.ok()) return s;
    for (size_t i = 0; i < r->size(); ++i) {
      Item item;
      r->ReadItem(i, true, &item);
      r->Find(r->entries()[i].id);
    }
    std::vector<float> v;
    r->ReadVectors(0, r->meta().vectors, &v);
    std::vector<SegmentProblem> problems;
    r->VerifyChecksum(&problems);
    return s;
  }

  // Rewrites meta.json so that it vouches for ids (size, block checksums) with a valid
  // content checksum, after applying edit to the parsed object.
  void Vouch(const std::string& ids, const std::function<void(Json*)>& edit = nullptr) {
    Json j = Json::parse(meta_json_);
    j["files"]["ids.idx"]["size"] = ids.size();
    Json blocks = Json::array();
    for (size_t off = 0; off < ids.size(); off += kSegmentBlockSize) {
      blocks.push_back(
          HashHex(Hash64(ids.data() + off, std::min<size_t>(kSegmentBlockSize, ids.size() - off))));
    }
    j["files"]["ids.idx"]["blocks"] = blocks;
    if (edit) edit(&j);
    j.erase("checksum");
    j["checksum"] = HashHex(Hash64(j.dump()));
    WriteAll(env_.get(), Path(kSegmentMetaFile), j.dump(2));
    WriteAll(env_.get(), Path(kSegmentIdsFile), ids);
  }

  std::unique_ptr<Env> env_;
  SegmentMeta meta_;
  std::string ids_, meta_json_;
};

TEST_F(SegmentFuzzTest, MutatedIdsIndexIsAlwaysAnError) {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 400; ++round) {
    WriteAll(env_.get(), Path(kSegmentIdsFile), Mutate(ids_, &rng));
    Status s = OpenAndReadAll();
    ASSERT_FALSE(s.ok()) << "round " << round;
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
}

TEST_F(SegmentFuzzTest, MutatedMetaJsonIsAnErrorOrMeansTheSame) {
  std::mt19937_64 rng(2);
  int errors = 0;
  for (int round = 0; round < 400; ++round) {
    WriteAll(env_.get(), Path(kSegmentMetaFile), Mutate(meta_json_, &rng));
    SegmentMeta m;
    Status s = ReadSegmentMeta(env_.get(), kDir, &m);
    Status o = OpenAndReadAll();
    EXPECT_EQ(s.ok(), o.ok());
    if (s.ok()) {
      // Only a change of layout (whitespace) can pass: the content is the same.
      EXPECT_EQ(m.meta_checksum, meta_.meta_checksum);
      EXPECT_EQ(m.count, meta_.count);
    } else {
      ++errors;
      EXPECT_TRUE(s.IsCorruption() || s.code() == Status::Code::kNotSupported) << s.ToString();
    }
  }
  EXPECT_GT(errors, 300);
}

TEST_F(SegmentFuzzTest, VouchedHostileIdsIndexNeverCrashes) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 600; ++round) {
    std::string ids = Mutate(ids_, &rng);
    if (round % 3 == 0) ids = Mutate(ids, &rng);
    Vouch(ids);
    OpenAndReadAll();  // any status; ASan/UBSan watch the decoding
  }
}

TEST_F(SegmentFuzzTest, VouchedHostileMetaFieldsAreErrors) {
  const std::vector<std::function<void(Json*)>> edits = {
      [](Json* j) { (*j)["count"] = uint64_t{1} << 62; },
      [](Json* j) { (*j)["count"] = 26; },
      [](Json* j) { (*j)["live"] = 1000; },
      [](Json* j) { (*j)["vectors"] = uint64_t{1} << 40; },
      [](Json* j) { (*j)["dim"] = uint64_t{1} << 33; },
      [](Json* j) { (*j)["dim"] = 5; },
      [](Json* j) { (*j)["dim"] = 0; },
      [](Json* j) { (*j)["metric"] = "manhattan"; },
      [](Json* j) { (*j)["lsn_min"] = 999999; },
      [](Json* j) { (*j)["lsn_max"] = 1; },
      [](Json* j) { (*j)["time_max"] = -5; },
      [](Json* j) { (*j)["time_min"] = "yesterday"; },
      [](Json* j) { (*j)["time_min"] = 1.5; },
      [](Json* j) { (*j)["id"] = 2; },
      [](Json* j) { (*j)["id"] = -1; },
      [](Json* j) { j->erase("stats"); },
      [](Json* j) { (*j)["stats"]["kinds"]["x"] = -1; },
      [](Json* j) { (*j)["stats"]["values"] = Json::array(); },
      [](Json* j) { (*j)["files"]["items.jsonl"]["size"] = uint64_t{1} << 63; },
      [](Json* j) { (*j)["files"]["items.jsonl"]["size"] = UINT64_MAX; },
      [](Json* j) { (*j)["files"]["vectors.f32"]["blocks"].push_back("0000000000000000"); },
      [](Json* j) { (*j)["files"]["vectors.f32"]["block_size"] = 4096; },
      [](Json* j) { (*j)["files"]["ids.idx"]["blocks"][0] = "not hex at all!!"; },
      [](Json* j) { (*j)["files"]["extra"] = Json::object(); },
      [](Json* j) { j->erase("files"); },
      [](Json* j) { (*j)["format"] = "t4dx-segmen"; },
      [](Json* j) { (*j)["version"] = 0; },
      [](Json* j) { (*j)["inputs"] = Json::array({-3}); },
  };
  for (size_t k = 0; k < edits.size(); ++k) {
    Vouch(ids_, edits[k]);
    Status s = OpenAndReadAll();
    EXPECT_FALSE(s.ok()) << "edit " << k;
    EXPECT_TRUE(s.IsCorruption()) << "edit " << k << ": " << s.ToString();
  }
  Vouch(ids_);  // the unchanged content, re-vouched, still opens
  Status s = OpenAndReadAll();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace t4dx
