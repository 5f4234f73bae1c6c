// FlatLabelMap behaves like std::unordered_map<uint64_t, V> for the operations it offers.
#include "vector/flat_label_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <unordered_map>

namespace t4dx {
namespace {

struct Loc {
  int seg = 0;
  uint32_t index = 0;
};

// The map's contents, ordered, for comparison.
std::map<uint64_t, int> Contents(const FlatLabelMap<Loc>& m) {
  std::map<uint64_t, int> out;
  for (const auto& kv : m) EXPECT_TRUE(out.emplace(kv.first, kv.second.seg).second);
  return out;
}

TEST(FlatLabelMapTest, EmptyMap) {
  FlatLabelMap<Loc> m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.find(7) == m.end());
  EXPECT_EQ(m.count(7), 0u);
  EXPECT_EQ(m.erase(7), 0u);
  EXPECT_TRUE(m.begin() == m.end());
  m.Prefetch(7);  // a hint: harmless on an empty map
}

TEST(FlatLabelMapTest, InsertFindOverwriteErase) {
  FlatLabelMap<Loc> m;
  m[5] = {1, 10};
  m[6].seg = 2;
  EXPECT_EQ(m.size(), 2u);
  ASSERT_TRUE(m.find(5) != m.end());
  EXPECT_EQ(m.find(5)->second.index, 10u);
  EXPECT_EQ(m.find(6)->second.seg, 2);
  m[5] = {3, 30};  // overwrite keeps one entry
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.find(5)->second.seg, 3);
  EXPECT_EQ(m.erase(5), 1u);
  EXPECT_EQ(m.erase(5), 0u);
  EXPECT_TRUE(m.find(5) == m.end());
  EXPECT_EQ(m.count(6), 1u);
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(m.find(6) == m.end());
}

// The largest key is the map's free-slot marker internally; it must still work as a key.
TEST(FlatLabelMapTest, LargestKeyIsAnOrdinaryKey) {
  FlatLabelMap<Loc> m;
  const uint64_t big = ~uint64_t(0);
  m[big] = {9, 9};
  m[0] = {1, 1};
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.find(big)->second.seg, 9);
  EXPECT_EQ(Contents(m), (std::map<uint64_t, int>{{0, 1}, {big, 9}}));
  for (uint64_t k = 1; k < 100; k++) m[k].seg = int(k);  // rehashes keep it
  EXPECT_EQ(m.find(big)->second.seg, 9);
  EXPECT_EQ(m.erase(big), 1u);
  EXPECT_TRUE(m.find(big) == m.end());
  EXPECT_EQ(m.size(), 100u);
}

// Random inserts, overwrites and erases (dense keys collide in probe runs; erase must
// keep every other key findable) against std::unordered_map.
TEST(FlatLabelMapTest, MatchesUnorderedMapUnderRandomOperations) {
  std::mt19937_64 rng(42);
  FlatLabelMap<Loc> m;
  std::unordered_map<uint64_t, int> ref;
  for (int step = 0; step < 200000; step++) {
    const uint64_t key = (step % 3 == 0) ? rng() : rng() % 5000;
    const int op = int(rng() % 10);
    if (op < 6) {
      m[key].seg = step;
      ref[key] = step;
    } else if (op < 9) {
      EXPECT_EQ(m.erase(key), ref.erase(key));
    } else {
      auto it = m.find(key);
      auto rit = ref.find(key);
      ASSERT_EQ(it == m.end(), rit == ref.end());
      if (rit != ref.end()) {
        EXPECT_EQ(it->second.seg, rit->second);
      }
    }
    ASSERT_EQ(m.size(), ref.size());
  }
  for (const auto& kv : ref) {
    auto it = m.find(kv.first);
    ASSERT_TRUE(it != m.end());
    EXPECT_EQ(it->second.seg, kv.second);
  }
  std::map<uint64_t, int> want(ref.begin(), ref.end());
  EXPECT_EQ(Contents(m), want);
}

TEST(FlatLabelMapTest, ReserveKeepsContents) {
  FlatLabelMap<Loc> m;
  for (uint64_t k = 0; k < 1000; k++) m[k * 7].seg = int(k);
  m.reserve(100000);
  EXPECT_EQ(m.size(), 1000u);
  for (uint64_t k = 0; k < 1000; k++) ASSERT_EQ(m.find(k * 7)->second.seg, int(k));
  const FlatLabelMap<Loc>& c = m;
  size_t n = 0;
  for (auto it = c.begin(); it != c.end(); ++it) n++;
  EXPECT_EQ(n, 1000u);
}

}  // namespace
}  // namespace t4dx
