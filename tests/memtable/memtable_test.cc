// MemTable: one entry per id, newest wins; counters; stable entry addresses; checked
// against a std::map model on random puts and deletes (index growth included).
#include "memtable/memtable.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace t4dx {
namespace {

MemEntry Put(const std::string& id, uint64_t lsn, const std::string& content = "c") {
  MemEntry e;
  e.item.id = id;
  e.item.content = content;
  e.item.embedding = {1.0f, 2.0f};
  e.lsn = lsn;
  return e;
}

MemEntry Tombstone(const std::string& id, uint64_t lsn) {
  MemEntry e;
  e.item.id = id;
  e.lsn = lsn;
  e.deleted = true;
  return e;
}

TEST(MemTableTest, NewestVersionWins) {
  MemTable m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.Find("a"), nullptr);
  m.Apply(Put("a", 1, "first"));
  m.Apply(Put("b", 2));
  const MemEntry* a = m.Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->item.content, "first");
  m.Apply(Put("a", 3, "second"));
  EXPECT_EQ(m.Find("a"), a);  // replaced in place
  EXPECT_EQ(a->item.content, "second");
  EXPECT_EQ(a->lsn, 3u);
  m.Apply(Tombstone("b", 4));
  EXPECT_TRUE(m.Find("b")->deleted);
  EXPECT_EQ(m.count(), 2u);
  EXPECT_EQ(m.live_count(), 1u);
  EXPECT_EQ(m.applied(), 4u);
  EXPECT_EQ(m.min_lsn(), 1u);
  EXPECT_EQ(m.max_lsn(), 4u);
  m.Apply(Put("b", 5));
  EXPECT_EQ(m.live_count(), 2u);
  EXPECT_EQ(m.bytes(), MemTable::EstimateBytes(m.Find("a")->item) +
                           MemTable::EstimateBytes(m.Find("b")->item));
}

TEST(MemTableTest, ForEachInFirstApplyOrderAndSortedById) {
  MemTable m;
  for (const char* id : {"m", "c", "x", "a"}) m.Apply(Put(id, 1));
  m.Apply(Put("c", 2));
  std::string order;
  m.ForEach([&](const MemEntry& e) { order += e.item.id; });
  EXPECT_EQ(order, "mcxa");
  std::string sorted;
  for (const MemEntry* e : m.SortedById()) sorted += e->item.id;
  EXPECT_EQ(sorted, "acmx");
}

TEST(MemTableTest, MatchesAMapModelWhileGrowing) {
  std::mt19937 rng(7);
  MemTable m;
  m.Reserve(10);  // a hint only: the index grows past it
  std::map<std::string, MemEntry> model;
  std::map<std::string, const MemEntry*> first_address;
  for (uint64_t lsn = 1; lsn <= 20000; ++lsn) {
    const std::string id = "id-" + std::to_string(rng() % 5000);
    MemEntry e = rng() % 5 == 0 ? Tombstone(id, lsn) : Put(id, lsn, std::to_string(lsn));
    model[id] = e;
    m.Apply(std::move(e));
    if (!first_address.count(id)) first_address[id] = m.Find(id);
  }
  ASSERT_EQ(m.count(), model.size());
  size_t tombstones = 0;
  for (const auto& [id, want] : model) {
    const MemEntry* got = m.Find(id);
    ASSERT_NE(got, nullptr) << id;
    EXPECT_EQ(got, first_address[id]) << id;  // addresses survive growth
    EXPECT_EQ(got->lsn, want.lsn);
    EXPECT_EQ(got->deleted, want.deleted);
    EXPECT_EQ(got->item.content, want.item.content);
    tombstones += want.deleted;
  }
  EXPECT_EQ(m.live_count(), model.size() - tombstones);
  EXPECT_EQ(m.Find("id-5000"), nullptr);
  EXPECT_EQ(m.Find(""), nullptr);
  size_t seen = 0;
  m.ForEach([&](const MemEntry&) { ++seen; });
  EXPECT_EQ(seen, model.size());
}

}  // namespace
}  // namespace t4dx
