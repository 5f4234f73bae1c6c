// Item commands: get, delete, put, import, export, search. Items are JSON with the engine's
// field names (t4dx/item_json.h): {"id","kind","content","embedding":[...],"timestamp",
// "metadata"}.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.h"
#include "progress.h"
#include "t4dx/item_json.h"

namespace t4dx_cli {
namespace {

using json = nlohmann::json;
using t4dx::Status;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

int RunGet(Context& ctx, const Args& a) {
  std::unique_ptr<t4dx::Engine> db;
  Status s = OpenStore(ctx, true, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  t4dx::Item item;
  s = db->Get(a.positional[0], &item);
  if (s.IsNotFound()) {
    Fail(ctx, s);
    return kExitProblems;
  }
  if (!s.ok()) return Fail(ctx, s);
  // An item is data: printed as JSON in both modes.
  std::cout << t4dx::ItemToJson(item, !a.Has("--no-embedding")) << std::endl;
  return kExitOk;
}

int RunDelete(Context& ctx, const Args& a) {
  std::unique_ptr<t4dx::Engine> db;
  Status s = OpenStore(ctx, false, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  uint64_t lsn = 0;
  s = db->Delete(a.positional[0], &lsn);
  if (s.IsNotFound()) {
    Fail(ctx, s);
    return kExitProblems;
  }
  if (!s.ok()) return Fail(ctx, s);
  Emit(ctx, Dump({{"deleted", a.positional[0]}, {"lsn", lsn}}));
  s = db->Close();
  return s.ok() ? kExitOk : Fail(ctx, s);
}

int RunPut(Context& ctx, const Args&) {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  t4dx::Item item;
  Status s = t4dx::ItemFromJson(text, &item, "stdin");
  if (!s.ok()) return Fail(ctx, s);
  std::unique_ptr<t4dx::Engine> db;
  s = OpenStore(ctx, false, true, &db);
  if (!s.ok()) return Fail(ctx, s);
  uint64_t lsn = 0;
  s = db->Put(item, &lsn);
  if (!s.ok()) return Fail(ctx, s);
  Emit(ctx, Dump({{"id", item.id}, {"lsn", lsn}}));
  s = db->Close();
  return s.ok() ? kExitOk : Fail(ctx, s);
}

// Reads FILE.jsonl ("-": stdin) one item per line and writes them in batches. Every line is
// parsed before the first write when FILE is a file, so a malformed line changes nothing.
int RunImport(Context& ctx, const Args& a) {
  uint64_t batch = 0;
  Status s = a.GetUint("--batch", 1000, &batch);
  if (!s.ok() || batch == 0) return Usage(ctx, "--batch wants a whole number above 0");
  const std::string path = a.positional[0];
  const bool from_stdin = path == "-";
  const bool acks = a.Has("--acks");
  std::ifstream file;
  uint64_t total_bytes = 0;
  if (!from_stdin) {
    file.open(path, std::ios::binary);
    if (!file) return Fail(ctx, Status::IOError("open " + path + ": cannot read"));
    file.seekg(0, std::ios::end);
    total_bytes = static_cast<uint64_t>(file.tellg());
    // Pass 1: every line parses.
    file.seekg(0);
    std::string line;
    uint64_t n = 0;
    ProgressBar check("check " + path, ctx.progress);
    while (std::getline(file, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      t4dx::Item item;
      s = t4dx::ItemFromJson(line, &item, path + ":" + std::to_string(n));
      if (!s.ok()) return Fail(ctx, s.WithContext("nothing imported"));
      if ((n & 1023) == 0) check.Update(static_cast<uint64_t>(file.tellg()), total_bytes);
    }
    file.clear();
    file.seekg(0);
  }
  std::istream& in = from_stdin ? std::cin : file;

  std::unique_ptr<t4dx::Engine> db;
  s = OpenStore(ctx, false, true, &db);
  if (!s.ok()) return Fail(ctx, s);
  ProgressBar bar("import", ctx.progress);
  std::vector<t4dx::Item> items;
  uint64_t imported = 0, line_no = 0, read_bytes = 0, last_lsn = 0;
  auto commit = [&]() -> Status {
    if (items.empty()) return Status::OK();
    uint64_t lsn = 0;
    T4DX_RETURN_IF_ERROR(db->PutBatch(items, &lsn));
    imported += items.size();
    last_lsn = lsn;
    if (acks) {
      // Acknowledged: durable per T4DM_WAL_SYNC. One line per batch, flushed at once, so
      // a supervisor (or a crash test) knows what was acknowledged.
      std::cout << Dump({{"acknowledged", imported},
                         {"last_id", items.back().id},
                         {"last_lsn", lsn}})
                << std::endl;
    }
    items.clear();
    bar.Update(read_bytes, total_bytes);
    return Status::OK();
  };
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    read_bytes += line.size() + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    t4dx::Item item;
    s = t4dx::ItemFromJson(line, &item, path + ":" + std::to_string(line_no));
    if (s.ok()) {
      items.push_back(std::move(item));
      if (items.size() >= batch) s = commit();
    }
    if (!s.ok()) {
      bar.Clear();
      return Fail(ctx, s.WithContext("import stopped after " + std::to_string(imported) +
                                     " items (the lines before this batch)"));
    }
  }
  s = commit();
  bar.Clear();
  if (!s.ok()) {
    return Fail(ctx, s.WithContext("import stopped after " + std::to_string(imported) + " items"));
  }
  s = db->Close();
  if (!s.ok()) return Fail(ctx, s);
  Emit(ctx,
       Dump({{"imported", imported}, {"lines", line_no}, {"last_lsn", last_lsn}, {"file", path}}));
  return kExitOk;
}

int RunExport(Context& ctx, const Args& a) {
  const std::string path = a.positional[0];
  const bool to_stdout = path == "-";
  std::unique_ptr<t4dx::Engine> db;
  Status s = OpenStore(ctx, true, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  uint64_t total = 0;
  db->Count(&total);
  const std::string tmp = path + ".tmp";
  std::ofstream file;
  if (!to_stdout) {
    file.open(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(ctx, Status::IOError("create " + tmp + ": cannot write"));
  }
  std::ostream& out = to_stdout ? std::cout : file;
  ProgressBar bar("export", ctx.progress && !to_stdout);
  uint64_t n = 0;
  t4dx::ScanOptions so;
  so.include_embedding = !a.Has("--no-embedding");
  s = db->Scan(so, [&](const t4dx::Item& item) {
    out << t4dx::ItemToJson(item, so.include_embedding) << '\n';
    if ((++n & 255) == 0) bar.Update(n, total);
    return static_cast<bool>(out);
  });
  bar.Clear();
  if (!s.ok()) return Fail(ctx, s);
  out.flush();
  if (!out) return Fail(ctx, Status::IOError("write " + (to_stdout ? "stdout" : tmp) + " failed"));
  if (!to_stdout) {
    file.close();
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      return Fail(ctx, Status::IOError("rename " + tmp + " to " + path + " failed"));
    }
    Emit(ctx, Dump({{"exported", n}, {"file", path}}));
  }
  return kExitOk;
}

int RunSearch(Context& ctx, const Args& a) {
  if (a.Has("--vector") == a.Has("--like")) {
    return Usage(ctx, "search wants exactly one of --vector JSON and --like ID");
  }
  uint64_t k = 0, ef = 0;
  Status s = a.GetUint("--k", 10, &k);
  if (s.ok()) s = a.GetUint("--ef", 0, &ef);
  if (!s.ok()) return Usage(ctx, s.message());
  t4dx::SearchOptions so;
  so.k = k;
  so.ef = ef;
  so.explain = a.Has("--explain");
  so.include_items = true;
  if (a.Has("--filter")) {
    s = t4dx::FilterFromJson(a.Get("--filter"), &so.filter);
    if (!s.ok()) return Fail(ctx, s.WithContext("--filter"));
  }
  std::vector<float> query;
  if (a.Has("--vector")) {
    json v = json::parse(a.Get("--vector"), nullptr, false);
    if (!v.is_array() || v.empty()) {
      return Usage(ctx, "--vector wants a JSON array of numbers, e.g. [0.1,0.2]");
    }
    for (const auto& x : v) {
      if (!x.is_number()) return Usage(ctx, "--vector: every element must be a number");
      query.push_back(x.get<float>());
    }
  }
  std::unique_ptr<t4dx::Engine> db;
  s = OpenStore(ctx, true, false, &db);
  if (!s.ok()) return Fail(ctx, s);
  std::string like;
  if (a.Has("--like")) {
    like = a.Get("--like");
    t4dx::Item item;
    s = db->Get(like, &item);
    if (s.IsNotFound()) {
      Fail(ctx, s.WithContext("--like"));
      return kExitProblems;
    }
    if (!s.ok()) return Fail(ctx, s);
    if (item.embedding.empty()) {
      return Fail(ctx, Status::InvalidArgument("--like " + like + ": the item has no embedding"));
    }
    query = item.embedding;
    so.k = k + 1;  // the item itself is found first; it is left out below
  }
  t4dx::SearchResult result;
  s = db->Search(query, so, &result);
  if (!s.ok()) return Fail(ctx, s);
  json hits = json::array();
  for (const auto& h : result.hits) {
    if (!like.empty() && h.id == like) continue;
    if (hits.size() >= k) break;
    json hit = {{"id", h.id}, {"score", h.score}};
    json item = json::parse(t4dx::ItemToJson(h.item, false), nullptr, false);
    if (!item.is_discarded()) {
      for (const char* f : {"kind", "content", "timestamp", "metadata"}) {
        if (item.contains(f)) hit[f] = item[f];
      }
    }
    hits.push_back(std::move(hit));
  }
  json doc = {{"k", k}, {"hits", hits}};
  if (!like.empty()) doc["like"] = like;
  if (so.explain) doc["plan"] = json::parse(result.plan_json, nullptr, false);
  Emit(ctx, Dump(doc));
  return kExitOk;
}

}  // namespace

void AddItemCommands(std::vector<CommandSpec>* out) {
  auto add = [&](CommandSpec c) { out->push_back(std::move(c)); };
  add({"get",
       "ID",
       "print one item as JSON",
       "Read-only. Exit 1 when the id is not stored.",
       {{"--no-embedding", false, "leave the embedding out"}},
       1,
       1,
       true,
       RunGet});
  add({"delete",
       "ID",
       "delete one item",
       "Takes the lock. Exit 1 when the id is not stored.",
       {},
       1,
       1,
       true,
       RunDelete});
  add({"put",
       "",
       "store one item given as JSON on stdin",
       "echo '{\"id\":\"a1\",\"content\":\"...\",\"embedding\":[...]}' | t4dx --data DIR put\n"
       "Takes the lock; creates the store if missing.",
       {},
       0,
       0,
       true,
       RunPut});
  add({"import",
       "FILE.jsonl",
       "store every item of a JSON-lines file (- = stdin)",
       "One item per line, the engine's field names, embedding as a JSON array. Every line\n"
       "is parsed before the first write (for a file), so a malformed line changes nothing.\n"
       "Items are written in atomic batches; each batch is acknowledged per T4DM_WAL_SYNC.\n"
       "Takes the lock; creates the store if missing. Progress on a terminal.",
       {{"--batch", true, "items per atomic batch (default 1000)"},
        {"--acks", false, "print {\"acknowledged\":N,...} after each durable batch"}},
       1,
       1,
       true,
       RunImport});
  add({"export",
       "FILE.jsonl",
       "write every live item as JSON lines (- = stdout)",
       "In timestamp order, embedding as a JSON array. Read-only: works beside a service.",
       {{"--no-embedding", false, "leave embeddings out"}},
       1,
       1,
       true,
       RunExport});
  add({"search",
       "",
       "nearest items to a vector or to a stored item",
       "t4dx --data DIR search --vector '[0.1,0.2,...]' --k 10 [--filter JSON] [--explain]\n"
       "t4dx --data DIR search --like ID --k 10\n"
       "Filter: {\"time_from\":ms,\"time_to\":ms,\"kind\":\"x\",\"metadata\":{\"key\":value}}.\n"
       "--explain adds the query planner's plan. Read-only.",
       {{"--vector", true, "query vector as a JSON array"},
        {"--like", true, "use this stored item's embedding (the item is left out)"},
        {"--k", true, "hits to return (default 10)"},
        {"--ef", true, "HNSW ef for this search"},
        {"--filter", true, "filter as JSON"},
        {"--explain", false, "include the plan"}},
       0,
       0,
       true,
       RunSearch});
}

}  // namespace t4dx_cli
