#include "dataset.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

namespace t4dx_bench {

using json = nlohmann::json;

t4dx::Item Dataset::MakeItem(size_t i) const {
  t4dx::Item it;
  it.id = ids[i];
  it.kind = kind;
  it.content = contents[i];
  it.embedding.assign(row(i), row(i) + dim);
  it.timestamp = timestamps[i];
  it.metadata = metadata[i];
  return it;
}

size_t Dataset::ItemBytes(size_t i) const {
  size_t b = ids[i].size() + kind.size() + contents[i].size() + 8 + size_t(dim) * 4;
  for (const auto& kv : metadata[i]) {
    b += kv.first.size();
    const t4dx::MetaValue& v = kv.second;
    switch (v.type) {
      case t4dx::MetaValue::Type::kString: b += v.str.size(); break;
      case t4dx::MetaValue::Type::kNumber: b += 8; break;
      case t4dx::MetaValue::Type::kBool: b += 1; break;
      case t4dx::MetaValue::Type::kStringList:
        for (auto& s : v.list) b += s.size();
        break;
    }
  }
  return b;
}

size_t Dataset::TotalItemBytes(size_t begin, size_t end) const {
  size_t t = 0;
  for (size_t i = begin; i < end; i++) t += ItemBytes(i);
  return t;
}

namespace {

void Normalize(float* v, uint32_t dim) {
  double s = 0;
  for (uint32_t d = 0; d < dim; d++) s += double(v[d]) * v[d];
  if (s <= 0) return;
  float inv = float(1.0 / std::sqrt(s));
  for (uint32_t d = 0; d < dim; d++) v[d] *= inv;
}

// Reads the header and the first `want` rows (0 = all) of an .fbin file.
bool ReadFbin(const std::string& path, size_t want, std::vector<float>* out, size_t* n,
              uint32_t* dim, size_t* file_rows, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  uint32_t hdr[2];
  if (!in.read(reinterpret_cast<char*>(hdr), sizeof hdr)) {
    *error = path + ": shorter than its 8-byte header";
    return false;
  }
  *file_rows = hdr[0];
  *dim = hdr[1];
  if (*dim == 0 || *dim > 4096) {
    *error = path + ": dimension " + std::to_string(*dim) + " at byte 4 is out of range";
    return false;
  }
  *n = want == 0 ? hdr[0] : std::min<size_t>(want, hdr[0]);
  out->resize(*n * *dim);
  if (!in.read(reinterpret_cast<char*>(out->data()), std::streamsize(out->size() * 4))) {
    *error = path + ": truncated: header says " + std::to_string(hdr[0]) + " rows of " +
             std::to_string(*dim) + " floats";
    return false;
  }
  return true;
}

bool ReadGroundTruth(const std::string& path, size_t nq, Dataset* d, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  uint32_t hdr[2];
  if (!in.read(reinterpret_cast<char*>(hdr), sizeof hdr) || hdr[0] < nq) {
    *error = path + ": header does not cover " + std::to_string(nq) + " queries";
    return false;
  }
  d->gt_k = hdr[1];
  std::vector<uint32_t> all(size_t(hdr[0]) * hdr[1]);
  if (!in.read(reinterpret_cast<char*>(all.data()), std::streamsize(all.size() * 4))) {
    *error = path + ": truncated id block";
    return false;
  }
  all.resize(nq * d->gt_k);
  d->gt = std::move(all);
  return true;
}

t4dx::MetaValue FromJson(const json& v) {
  if (v.is_string()) return t4dx::MetaValue::String(v.get<std::string>());
  if (v.is_boolean()) return t4dx::MetaValue::Bool(v.get<bool>());
  if (v.is_number()) return t4dx::MetaValue::Number(v.get<double>());
  if (v.is_array()) {
    std::vector<std::string> l;
    for (auto& e : v) l.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    return t4dx::MetaValue::StringList(l);
  }
  return t4dx::MetaValue::String(v.dump());
}

bool ReadItems(const std::string& path, size_t n, Dataset* d, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  std::string line;
  size_t i = 0;
  uint64_t offset = 0;
  while (i < n && std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      *error = path + ":" + std::to_string(i + 1) + " (byte " + std::to_string(offset) +
               "): not a JSON object";
      return false;
    }
    d->ids.push_back(j.value("id", "row-" + std::to_string(i)));
    d->contents.push_back(j.value("content", ""));
    d->timestamps.push_back(j.value("timestamp", int64_t(1735689600000) + int64_t(i) * 1000));
    t4dx::Metadata m;
    if (j.contains("metadata") && j["metadata"].is_object()) {
      for (auto& kv : j["metadata"].items()) m[kv.key()] = FromJson(kv.value());
    }
    d->metadata.push_back(std::move(m));
    offset += line.size() + 1;
    i++;
  }
  if (i < n) {
    *error = path + ": " + std::to_string(i) + " lines, fewer than the " + std::to_string(n) +
             " rows used";
    return false;
  }
  return true;
}

const char* kWords[] = {"memory", "agent", "store", "vector", "search", "segment", "index",
                        "recall", "episode", "context", "tool", "query", "result", "plan",
                        "user", "session", "write", "flush", "graph", "embedding"};

void Synthesize(const Flags& f, Dataset* d) {
  std::mt19937_64 rng(f.seed);
  std::normal_distribution<float> g(0, 1);
  d->dim = f.dim;
  size_t c = std::max<size_t>(1, f.clusters);
  std::vector<float> centers(c * d->dim);
  for (auto& x : centers) x = g(rng);
  for (size_t i = 0; i < c; i++) Normalize(&centers[i * d->dim], d->dim);
  float sigma = 1.2f / std::sqrt(float(d->dim));  // noise comparable to the spread of centers
  auto draw = [&](std::vector<float>* out, size_t rows, std::vector<size_t>* cl) {
    out->resize(rows * d->dim);
    for (size_t i = 0; i < rows; i++) {
      size_t ci = rng() % c;
      if (cl) cl->push_back(ci);
      float* v = out->data() + i * d->dim;
      for (uint32_t k = 0; k < d->dim; k++) v[k] = centers[ci * d->dim + k] + sigma * g(rng);
      Normalize(v, d->dim);
    }
  };
  std::vector<size_t> cl;
  d->n = f.synthetic;
  draw(&d->base, d->n, &cl);
  d->nq = f.nq ? f.nq : 1000;
  draw(&d->queries, d->nq, nullptr);
  char buf[64];
  for (size_t i = 0; i < d->n; i++) {
    std::snprintf(buf, sizeof buf, "syn-%09zu", i);
    d->ids.push_back(buf);
    std::string text;
    while (text.size() < 300) {
      text += kWords[rng() % 20];
      text += ' ';
    }
    d->contents.push_back(text);
    d->timestamps.push_back(int64_t(1735689600000) + int64_t(i) * 1000);
    t4dx::Metadata m;
    std::snprintf(buf, sizeof buf, "c%03zu", cl[i]);
    m["cluster"] = t4dx::MetaValue::String(buf);
    std::snprintf(buf, sizeof buf, "b%02u", unsigned((i * 2654435761u >> 7) % 100));
    m["bucket"] = t4dx::MetaValue::String(buf);
    d->metadata.push_back(std::move(m));
  }
  d->source = "synthetic(n=" + std::to_string(d->n) + ",dim=" + std::to_string(d->dim) +
              ",clusters=" + std::to_string(c) + ",seed=" + std::to_string(f.seed) + ")";
}

// Cycles rows [0, have) up to want rows, each copy with noise and a new id.
void Extend(Dataset* d, size_t want, uint64_t seed) {
  size_t have = d->n;
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::normal_distribution<float> g(0, 0.01f);
  d->base.resize(want * d->dim);
  for (size_t i = have; i < want; i++) {
    size_t src = i % have;
    size_t round = i / have;
    float* v = d->base.data() + i * d->dim;
    const float* s = d->base.data() + src * d->dim;
    for (uint32_t k = 0; k < d->dim; k++) v[k] = s[k] + g(rng);
    Normalize(v, d->dim);
    d->ids.push_back(d->ids[src] + ":r" + std::to_string(round));
    d->contents.push_back(d->contents[src]);
    d->timestamps.push_back(d->timestamps[have - 1] + int64_t(i - have + 1) * 1000);
    d->metadata.push_back(d->metadata[src]);
  }
  d->n = want;
  d->gt.clear();  // the file's ground truth no longer applies
  d->gt_k = 0;
  d->source += " cycled to " + std::to_string(want) + " rows (ids with :rK, noise 0.01)";
}

}  // namespace

bool LoadDataset(const Flags& f, Dataset* d, std::string* error) {
  if (f.synthetic) {
    Synthesize(f, d);
    if (f.n && f.n < d->n) {
      d->n = f.n;
      d->base.resize(d->n * d->dim);
      d->ids.resize(d->n);
      d->contents.resize(d->n);
      d->timestamps.resize(d->n);
      d->metadata.resize(d->n);
    }
    return true;
  }
  size_t file_rows = 0;
  if (!ReadFbin(f.base, f.n, &d->base, &d->n, &d->dim, &file_rows, error)) return false;
  d->source = f.base;
  if (!f.queries.empty()) {
    uint32_t qdim = 0;
    size_t qrows = 0;
    if (!ReadFbin(f.queries, f.nq, &d->queries, &d->nq, &qdim, &qrows, error)) return false;
    if (qdim != d->dim) {
      *error = f.queries + ": dimension " + std::to_string(qdim) + ", base has " +
               std::to_string(d->dim);
      return false;
    }
  }
  for (size_t i = 0; i < d->n; i++) Normalize(d->base.data() + i * d->dim, d->dim);
  for (size_t q = 0; q < d->nq; q++) Normalize(d->queries.data() + q * d->dim, d->dim);
  if (!f.items.empty()) {
    if (!ReadItems(f.items, d->n, d, error)) return false;
  } else {
    char buf[32];
    for (size_t i = 0; i < d->n; i++) {
      std::snprintf(buf, sizeof buf, "row-%09zu", i);
      d->ids.push_back(buf);
      d->contents.push_back("");
      d->timestamps.push_back(int64_t(1735689600000) + int64_t(i) * 1000);
      d->metadata.emplace_back();
    }
  }
  // The file's ground truth holds only over all of the file's rows.
  if (!f.gt.empty() && d->n == file_rows && d->nq > 0) {
    if (!ReadGroundTruth(f.gt, d->nq, d, error)) return false;
  }
  if (f.n > d->n) Extend(d, f.n, f.seed);
  return true;
}

std::string PrepareFilterKey(const Flags& f, Dataset* d) {
  std::string key = f.filter_key;
  if (key.empty()) key = (!d->metadata.empty() && d->metadata[0].count("section")) ? "section" : "bucket";
  if (key == "bucket") {
    char buf[8];
    for (size_t i = 0; i < d->n; i++) {
      if (d->metadata[i].count("bucket")) continue;
      std::snprintf(buf, sizeof buf, "b%02u", unsigned((i * 2654435761u >> 7) % 100));
      d->metadata[i]["bucket"] = t4dx::MetaValue::String(buf);
    }
  }
  return key;
}

}  // namespace t4dx_bench
