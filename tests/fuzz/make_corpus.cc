// Writes the seed corpora of the fuzz targets from files the engine itself writes.
//   make_corpus <dir>     fills <dir>/<target>/ (the directories must exist or be creatable)
// A small store is driven through the public API on an in-memory Env (puts with and
// without vectors, a batch, deletes, an overwrite, flushes, a compaction, unflushed writes,
// a close that saves the HNSW container), then its files are copied out. JSON bodies for
// the service come from the public item/filter JSON. scripts/fuzz.sh --make-corpus runs it;
// the output is committed in tests/fuzz/corpus/.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "segment/segment_format.h"
#include "t4dx/clock.h"
#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "t4dx/item_json.h"
#include "vector/hnsw_index.h"

namespace {

using namespace t4dx;

class FixedClock : public Clock {
 public:
  int64_t NowUnixMillis() override { return now_ += 7; }
  int64_t NowMicros() override { return now_ * 1000; }

 private:
  int64_t now_ = 1700000000000;
};

std::string g_root;
int g_written = 0;

void Write(const std::string& target, const std::string& name, const std::string& data) {
  const std::string dir = g_root + "/" + target;
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
    std::fprintf(stderr, "make_corpus: cannot write %s\n", path.c_str());
    std::exit(1);
  }
  std::fclose(f);
  ++g_written;
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "make_corpus: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

Item MakeItem(int i, bool with_vector) {
  Item it;
  it.id = "ep-" + std::to_string(i);
  it.kind = i % 2 ? "fact" : "episode";
  it.content = "memory " + std::to_string(i) + ": \"quoted\" \\ caf\xc3\xa9\n";
  it.timestamp = 1700000000000 + i * 60000;
  it.metadata["source"] = MetaValue::String(i % 3 ? "chat" : "tool");
  it.metadata["score"] = MetaValue::Number(i * 0.75 - 2);
  it.metadata["pinned"] = MetaValue::Bool(i % 2 == 0);
  it.metadata["tags"] = MetaValue::StringList({"t" + std::to_string(i % 3), "all"});
  if (with_vector) it.embedding = {0.5f * i, -1.f, 0.25f, i % 2 ? 1e-38f : -0.f};
  return it;
}

std::string Read(Env* env, const std::string& path) {
  std::string data;
  Check(ReadFileToString(env, path, &data), path.c_str());
  return data;
}

std::vector<std::string> Lines(const std::string& file) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < file.size()) {
    size_t nl = file.find('\n', start);
    if (nl == std::string::npos) nl = file.size();
    out.push_back(file.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

void StoreFiles() {
  std::unique_ptr<Env> env = NewMemEnv();
  FixedClock clock;
  Options options;
  options.env = env.get();
  options.clock = &clock;
  options.dim = 4;
  options.background_compaction = false;
  options.flush_threshold_items = 1000;
  Check(env->CreateDir("/s"), "mkdir");
  std::unique_ptr<Engine> db;
  Check(Engine::Open(options, "/s", &db), "open");
  for (int i = 0; i < 5; ++i) Check(db->Put(MakeItem(i, i != 3)), "put");
  Check(db->PutBatch({MakeItem(5, true), MakeItem(6, false), MakeItem(7, true)}), "batch");
  Check(db->Delete("ep-2"), "delete");
  Check(db->Flush(), "flush");
  Check(db->Put(MakeItem(1, true)), "overwrite");
  Check(db->Put(MakeItem(8, true)), "put");
  Check(db->Flush(), "flush 2");
  Check(db->Compact(), "compact");
  Check(db->Put(MakeItem(9, true)), "put unflushed");
  Check(db->Delete("ep-4"), "delete unflushed");
  Check(db->PutBatch({MakeItem(10, true), MakeItem(11, true)}), "batch unflushed");
  Check(db->Close(), "close");

  std::vector<std::string> names;
  Check(env->GetChildren("/s", &names), "list");
  std::sort(names.begin(), names.end());
  std::string seg;
  int wal_files = 0, lines = 0;
  for (const std::string& name : names) {
    const std::string path = "/s/" + name;
    if (name.rfind("wal", 0) == 0 && name.size() > 6 &&
        name.compare(name.size() - 6, 6, ".jsonl") == 0) {
      const std::string data = Read(env.get(), path);
      Write("wal_file", name, data);
      ++wal_files;
      for (const std::string& line : Lines(data)) {
        Write("wal_line", "line_" + std::to_string(++lines), line);
      }
      if (data.size() > 40) {
        Write("wal_file", "torn_" + name, data.substr(0, data.size() - 23));
        Write("wal_file", "zero_tail_" + name, data + std::string(37, '\0'));
      }
    } else if (name == "global_index.json") {
      Write("manifest", name, Read(env.get(), path));
    } else if (name == kHnswContainerFile) {
      Write("hnsw_container", "store_" + name, Read(env.get(), path));
    } else if (name.rfind("seg_", 0) == 0 && name.find('.') == std::string::npos) {
      seg = path;
    }
  }
  if (seg.empty() || wal_files == 0) {
    std::fprintf(stderr, "make_corpus: the store has no segment or no WAL file\n");
    std::exit(1);
  }
  const char* files[4] = {kSegmentMetaFile, kSegmentIdsFile, kSegmentItemsFile,
                          kSegmentVectorsFile};
  for (int i = 0; i < 4; ++i) {
    const std::string data = Read(env.get(), seg + "/" + files[i]);
    Write("segment", std::string("file") + std::to_string(i) + "_" + files[i],
          std::string(1, static_cast<char>(i)) + data);
    Write("segment", std::string("vouched") + std::to_string(i) + "_" + files[i],
          std::string(1, static_cast<char>(i | 4)) + data);
  }
}

void HnswFiles() {
  for (int n : {0, 1, 12}) {
    HnswParams p;
    p.dim = 3;
    p.m = 4;
    p.ef_construction = 16;
    p.metric = n == 1 ? Metric::kL2 : Metric::kCosine;
    std::unique_ptr<HnswIndex> index;
    Check(HnswIndex::Create(p, &index), "hnsw create");
    for (int i = 0; i < n; ++i) {
      const float v[3] = {static_cast<float>(i), 1.f - i * 0.1f, 0.5f};
      Check(index->Add(100 + i, v), "hnsw add");
    }
    if (n > 2) Check(index->MarkDeleted(101), "hnsw delete");
    std::string bytes;
    Check(index->Serialize(42, &bytes), "hnsw serialize");
    Write("hnsw_container", "elements_" + std::to_string(n), bytes);
  }
}

void JsonBodies() {
  const std::string item = ItemToJson(MakeItem(1, true));
  const std::string item2 = ItemToJson(MakeItem(2, false));
  Filter f;
  f.time_from = 1700000000000;
  f.time_to = 1800000000000;
  f.kinds = {"episode", "fact"};
  MetaCondition c1;
  c1.key = "source";
  c1.values = {MetaValue::String("chat")};
  MetaCondition c2;
  c2.key = "tags";
  c2.op = MetaCondition::Op::kAnyOf;
  c2.values = {MetaValue::String("t1"), MetaValue::String("t2")};
  MetaCondition c3;
  c3.key = "pinned";
  c3.values = {MetaValue::Bool(true)};
  f.metadata = {c1, c2, c3};
  const std::string filter = FilterToJson(f);
  auto with = [](int route, const std::string& body) {
    return std::string(1, static_cast<char>(route)) + body;
  };
  Write("service_json", "item_json", with(0, item));
  Write("service_json", "filter_json", with(1, filter));
  Write("service_json", "filter_all_of",
        with(1, R"({"metadata":{"tags":{"all_of":["a","b"]},"score":{"any_of":[1,2.5]}}})"));
  Write("service_json", "post_episode", with(2, item.substr(0, item.size() - 1) +
                                                    R"(,"session_id":"s1"})"));
  Write("service_json", "post_episode_no_id",
        with(2, R"({"content":"hello","embedding":[0.1,0.2,0.3,0.4],"session_id":"s1"})"));
  Write("service_json", "post_batch",
        with(3, R"({"session_id":"s1","items":[)" + item + "," + item2 + "]}"));
  Write("service_json", "post_search",
        with(4, R"({"session_id":"s1","query_vector":[0.1,0.2,0.3,0.4],"k":5,"filter":)" +
                    filter + "}"));
  Write("service_json", "post_query_plan",
        with(4, R"({"session_id":"s1","query_vector":[1,0,0,0],"k":10,"ef":80,"explain":true,)"
                R"("include_embedding":false,"include_items":true})"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus <corpus dir>\n");
    return 2;
  }
  g_root = argv[1];
  ::mkdir(g_root.c_str(), 0755);
  StoreFiles();
  HnswFiles();
  JsonBodies();
  std::printf("make_corpus: %d files under %s\n", g_written, g_root.c_str());
  return 0;
}
