// Fuzz target: the files of a segment. A valid segment is written once into an in-memory
// Env (seg_000001 with live items, tombstones, items without vectors and metadata of every
// type); each input replaces one of its files, then the segment is opened and read every
// way (ReadItem, ReadVectors with in- and out-of-range rows, ForEachItem, VerifyChecksum).
//
// Input: byte 0 chooses the file and the mode, the rest is the file's new contents.
//   byte0 & 3:  0 meta.json, 1 ids.idx, 2 items.jsonl, 3 vectors.f32
//   byte0 & 4:  "vouch": rewrite meta.json so that its sizes, block checksums and content
//               checksum accept the new bytes, so the decoders behind them see them.
// Properties: no crash or sanitizer report; every failure is an error Status; without
// vouching, any change of a data file is caught (Open/reads fail or VerifyChecksum reports
// it) and a changed meta.json either fails or means the same; with vouching, an item read
// has the id of its index entry and ForEachItem agrees with ReadItem.
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "t4dx/env.h"
#include "util/checksum.h"

namespace t4dx {
namespace fuzz {
namespace {

using Json = nlohmann::json;
constexpr char kStore[] = "/store";
constexpr char kDir[] = "/store/seg_000001";
constexpr uint32_t kDim = 3;
const char* const kFiles[4] = {kSegmentMetaFile, kSegmentIdsFile, kSegmentItemsFile,
                               kSegmentVectorsFile};

std::vector<SegmentEntry> SeedEntries() {
  std::vector<SegmentEntry> out;
  for (int i = 0; i < 9; ++i) {
    SegmentEntry e;
    char id[16];
    std::snprintf(id, sizeof(id), "item-%02d", i);
    e.item.id = id;
    e.lsn = 10 + static_cast<uint64_t>(i) * 2;
    e.item.timestamp = 1700000000000 + i * 1000;
    if (i == 4) {
      e.deleted = true;
    } else {
      e.item.kind = i % 2 ? "fact" : "episode";
      e.item.content = "content " + std::to_string(i) + " \"q\" \\ \xc3\xbc\n";
      e.item.metadata["source"] = MetaValue::String(i % 3 ? "chat" : "tool");
      e.item.metadata["score"] = MetaValue::Number(i * 0.5 - 1);
      e.item.metadata["pinned"] = MetaValue::Bool(i % 2 == 0);
      e.item.metadata["tags"] = MetaValue::StringList({"t" + std::to_string(i % 3), "all"});
      if (i % 3 != 2) {
        for (uint32_t d = 0; d < kDim; ++d) e.item.embedding.push_back(0.25f * (i + 1) - d);
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

// The four files of the seed segment, in kFiles order.
const std::vector<std::string>& SeedFiles() {
  static const std::vector<std::string> files = [] {
    std::vector<std::string> out;
    std::unique_ptr<Env> env = NewMemEnv();
    env->CreateDir(kStore);
    SegmentMeta meta;
    Status s = WriteSegment(env.get(), kStore, 1, SeedEntries(), kDim, Metric::kCosine, {}, 1, &meta);
    if (!s.ok()) ReportFailure(__FILE__, __LINE__, "cannot write the seed segment: " + s.ToString());
    for (const char* name : kFiles) {
      std::string data;
      ReadFileToString(env.get(), JoinPath(kDir, name), &data);
      out.push_back(std::move(data));
    }
    return out;
  }();
  return files;
}

void Put(Env* env, const char* name, std::string_view data) {
  std::unique_ptr<WritableFile> f;
  if (!env->NewWritableFile(JoinPath(kDir, name), &f).ok() || !f->Append(data).ok() ||
      !f->Close().ok()) {
    ReportFailure(__FILE__, __LINE__, "cannot write an in-memory segment file");
  }
}

// meta.json text with a correct content checksum for object j (false if j cannot be dumped).
bool Seal(Json j, std::string* text) {
  if (!j.is_object()) return false;
  j.erase("checksum");
  j["checksum"] = HashHex(Hash64(j.dump(-1, ' ', false, Json::error_handler_t::replace)));
  *text = j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return true;
}

// meta.json vouching for `data` as file `name`.
std::string VouchFor(const char* name, std::string_view data) {
  Json j = Json::parse(SeedFiles()[0]);
  Json blocks = Json::array();
  for (size_t off = 0; off < data.size(); off += kSegmentBlockSize) {
    blocks.push_back(HashHex(Hash64(data.substr(off, kSegmentBlockSize))));
  }
  j["files"][name]["size"] = data.size();
  j["files"][name]["blocks"] = blocks;
  std::string text;
  Seal(std::move(j), &text);
  return text;
}

// Equal items, embeddings compared bit for bit (a hostile vectors.f32 may hold NaN).
bool SameBits(const Item& a, const Item& b) {
  Item x = a, y = b;
  x.embedding.clear();
  y.embedding.clear();
  return x == y && a.embedding.size() == b.embedding.size() &&
         (a.embedding.empty() ||
          std::memcmp(a.embedding.data(), b.embedding.data(), a.embedding.size() * 4) == 0);
}

struct Outcome {
  bool opened = false;
  bool all_reads_ok = false;
  size_t problems = 0;
  std::string meta_checksum;
};

Outcome OpenAndReadAll(Env* env, bool vouched) {
  Outcome o;
  std::unique_ptr<SegmentReader> r;
  Status s = SegmentReader::Open(env, kDir, &r);
  if (!s.ok()) {
    T4DX_FUZZ_CHECK(!s.message().empty(), "an Open failure without a message");
    return o;
  }
  o.opened = true;
  o.meta_checksum = r->meta().meta_checksum;
  o.all_reads_ok = true;
  std::vector<Status> item_status(r->size());
  std::vector<Item> items(r->size());
  for (size_t i = 0; i < r->size(); ++i) {
    item_status[i] = r->ReadItem(i, true, &items[i]);
    if (!item_status[i].ok()) {
      o.all_reads_ok = false;
      continue;
    }
    T4DX_FUZZ_CHECK(items[i].id == r->entries()[i].id, "ReadItem returned another id");
    T4DX_FUZZ_CHECK(r->Find(items[i].id) >= 0, "Find misses an id the segment holds");
  }
  Item ignored;
  T4DX_FUZZ_CHECK(!r->ReadItem(r->size(), true, &ignored).ok(), "ReadItem past the end");
  std::vector<float> v;
  const uint64_t rows = r->meta().vectors;
  if (!r->ReadVectors(0, rows, &v).ok()) o.all_reads_ok = false;
  else T4DX_FUZZ_CHECK(v.size() == rows * r->vector_dim(), "ReadVectors returned a wrong size");
  T4DX_FUZZ_CHECK(!r->ReadVectors(rows, 1, &v).ok(), "ReadVectors past the end");
  T4DX_FUZZ_CHECK(!r->ReadVectors(UINT64_MAX, 2, &v).ok(), "ReadVectors at UINT64_MAX");
  T4DX_FUZZ_CHECK(!r->ReadVectors(1, UINT64_MAX, &v).ok(), "ReadVectors of UINT64_MAX rows");
  s = r->ForEachItem(true, [&](size_t index, Item& item) {
    if (index < items.size() && item_status[index].ok()) {
      T4DX_FUZZ_CHECK(SameBits(item, items[index]), "ForEachItem and ReadItem disagree");
    }
    return Status::OK();
  });
  if (!s.ok()) o.all_reads_ok = false;
  std::vector<SegmentProblem> problems;
  s = r->VerifyChecksum(&problems);
  T4DX_FUZZ_CHECK(s.ok(), "VerifyChecksum did not run: " + s.ToString());
  o.problems = problems.size();
  if (vouched) {
    for (const SegmentProblem& p : problems) {
      // Vouched bytes pass every checksum; what may remain is what they say (non-finite
      // vectors).
      T4DX_FUZZ_CHECK(p.reason.find("checksum mismatch") == std::string::npos,
                      "VerifyChecksum fails a vouched segment: " + p.reason);
    }
  }
  return o;
}

}  // namespace

int FuzzSegment(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] & 3;
  const bool vouch = (data[0] & 4) != 0;
  const std::string_view bytes = AsView(data + 1, size - 1);
  const std::vector<std::string>& seed = SeedFiles();

  std::unique_ptr<Env> env = NewMemEnv();
  env->CreateDir(kStore);
  env->CreateDir(kDir);
  for (int i = 0; i < 4; ++i) Put(env.get(), kFiles[i], i == which ? bytes : seed[i]);
  bool vouched = false;
  if (vouch) {
    std::string meta;
    if (which == 0) {
      Json j = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
      vouched = Seal(std::move(j), &meta);
    } else {
      meta = VouchFor(kFiles[which], bytes);
      vouched = true;
    }
    if (vouched) Put(env.get(), kSegmentMetaFile, meta);
  }

  const Outcome o = OpenAndReadAll(env.get(), vouched && which == 0 ? false : vouched);
  const bool unchanged = bytes == seed[which];
  if (!vouch && unchanged) {
    T4DX_FUZZ_CHECK(o.opened && o.all_reads_ok && o.problems == 0,
                    "the unchanged seed segment does not read cleanly");
  }
  if (!vouch && !unchanged) {
    if (which == 0) {
      // A changed meta.json is refused, or it is a layout change with the same content.
      Json a = Json::parse(seed[0]);
      if (o.opened) T4DX_FUZZ_CHECK(o.meta_checksum == a["checksum"].get<std::string>(),
                                    "a changed meta.json was accepted with another content");
    } else {
      T4DX_FUZZ_CHECK(!o.opened || !o.all_reads_ok || o.problems > 0,
                      std::string("a changed ") + kFiles[which] + " went unnoticed");
    }
  }
  return 0;
}

}  // namespace fuzz
}  // namespace t4dx

T4DX_FUZZ_ENTRY(FuzzSegment)
