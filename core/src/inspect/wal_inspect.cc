// InspectWal: every WAL file of a store read through the one WAL reader (ReadWalFile), with
// per-file and overall reports. The CLI's `wal stats/dump/check` and the inspector use it.
#include <algorithm>
#include <cmath>

#include "inspect/inspect_internal.h"
#include "manifest/manifest.h"
#include "t4dx/inspect.h"
#include "t4dx/item_json.h"
#include "util/json_util.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

namespace t4dx {
namespace inspect_internal {

Status ListWalFiles(Env* env, const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  std::vector<std::string> children;
  T4DX_RETURN_IF_ERROR(env->GetChildren(dir, &children));
  std::vector<std::pair<uint64_t, std::string>> sealed;
  bool active = false;
  for (const std::string& n : children) {
    uint64_t first = 0;
    if (ParseSealedWalName(n, &first)) {
      sealed.emplace_back(first, n);
    } else if (n == kWalActiveName) {
      active = true;
    }
  }
  std::sort(sealed.begin(), sealed.end());
  for (auto& s : sealed) names->push_back(std::move(s.second));
  if (active) names->push_back(kWalActiveName);
  return Status::OK();
}

bool IsHnswName(const std::string& name) {
  if (name.compare(0, 4, "hnsw") != 0) return false;
  return !(name.size() >= 4 && name.compare(name.size() - 4, 4, ".tmp") == 0);
}

Status CopyRange(const RandomAccessFile& in, const std::string& path, uint64_t offset, uint64_t n,
                 WritableFile* out) {
  constexpr size_t kChunk = 1u << 20;
  std::string buf;
  while (n > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
    T4DX_RETURN_IF_ERROR(in.Read(offset, want, &buf));
    if (buf.size() != want) {
      return Status::IOError("read " + path + ": file ended at byte " +
                             std::to_string(offset + buf.size()) + " (changed while copied)");
    }
    T4DX_RETURN_IF_ERROR(out->Append(buf));
    offset += want;
    n -= want;
  }
  return Status::OK();
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json WalIssueJ(const WalIssue& p) {
  return {{"file", p.file},
          {"line", p.line},
          {"offset", p.offset},
          {"length", p.length},
          {"reason", p.reason},
          {"torn_tail", p.torn_tail},
          {"kind", p.torn_tail ? "torn_tail" : "corruption"}};
}

namespace {

nlohmann::json OpCounts(const std::map<std::string, uint64_t>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

}  // namespace

nlohmann::json WalInspectionJ(const WalInspection& r) {
  nlohmann::json files = nlohmann::json::array();
  for (const WalFileInfo& f : r.files) {
    nlohmann::json j = {{"name", f.name},
                        {"file", f.file},
                        {"sealed", f.sealed},
                        {"bytes", f.bytes},
                        {"good_bytes", f.good_bytes},
                        {"records", f.records},
                        {"entries", f.entries},
                        {"first_lsn", f.first_lsn},
                        {"last_lsn", f.last_lsn},
                        {"first_time", f.first_time},
                        {"last_time", f.last_time},
                        {"op_counts", OpCounts(f.op_counts)},
                        {"problem", nullptr}};
    if (f.has_problem) j["problem"] = WalIssueJ(f.problem);
    files.push_back(std::move(j));
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const WalIssue& p : r.problems) problems.push_back(WalIssueJ(p));
  const char* verdict = r.corrupt ? "corrupt" : r.torn_tail ? "torn_tail" : "ok";
  return {{"verdict", verdict},
          {"healthy", r.problems.empty()},
          {"complete", r.complete},
          {"files", r.files.size()},
          {"sealed_files", r.sealed_files},
          {"bytes", r.bytes},
          {"good_bytes", r.good_bytes},
          {"records", r.records},
          {"entries", r.entries},
          {"first_lsn", r.first_lsn},
          {"last_lsn", r.last_lsn},
          {"first_time", r.first_time},
          {"last_time", r.last_time},
          {"op_counts", OpCounts(r.op_counts)},
          {"problems", std::move(problems)},
          {"wal_files", std::move(files)}};
}

}  // namespace inspect_internal

namespace {

using inspect_internal::Dump;

double Round6(double v) {
  if (!std::isfinite(v)) return 0;
  return std::round(v * 1e6) / 1e6;
}

nlohmann::json ItemSummary(const Item& item, size_t max_content_chars) {
  nlohmann::json j;
  std::string reason;
  if (!json_util::Parse(ItemToJson(item, /*include_embedding=*/false), &j, &reason)) {
    j = {{"id", item.id}};
  }
  if (max_content_chars > 0 && item.content.size() > max_content_chars) {
    // Cut at a UTF-8 character boundary.
    size_t cut = max_content_chars;
    while (cut > 0 && (static_cast<unsigned char>(item.content[cut]) & 0xC0) == 0x80) --cut;
    j["content"] = item.content.substr(0, cut) + "...";
    j["content_bytes"] = item.content.size();
  }
  if (!item.embedding.empty()) {
    double sq = 0;
    for (float v : item.embedding) sq += static_cast<double>(v) * v;
    nlohmann::json head = nlohmann::json::array();
    for (size_t i = 0; i < item.embedding.size() && i < 4; ++i) {
      head.push_back(Round6(item.embedding[i]));
    }
    j["embedding"] = {
        {"dim", item.embedding.size()}, {"norm", Round6(std::sqrt(sq))}, {"head", std::move(head)}};
  }
  return j;
}

std::string RecordSummary(const WalRecord& r, size_t max_content_chars) {
  nlohmann::json j = {{"lsn", r.lsn}, {"timestamp", r.timestamp}, {"op_type", WalOpName(r.op)}};
  switch (r.op) {
    case WalOp::kPut:
      if (!r.items.empty()) j["item"] = ItemSummary(r.items[0], max_content_chars);
      break;
    case WalOp::kDelete:
      j["id"] = r.id;
      break;
    case WalOp::kBatch: {
      j["lsn_last"] = r.last_lsn();
      nlohmann::json items = nlohmann::json::array();
      for (const Item& it : r.items) items.push_back(ItemSummary(it, max_content_chars));
      j["items"] = std::move(items);
      break;
    }
  }
  return Dump(j);
}

void AddOps(const std::map<std::string, uint64_t>& from, std::map<std::string, uint64_t>* to) {
  for (const auto& [k, v] : from) (*to)[k] += v;
}

}  // namespace

Status InspectWal(Env* env, const std::string& dir, const WalInspectOptions& options,
                  const std::function<bool(const WalEntryInfo&)>& on_entry, WalInspection* report) {
  return InspectWal(env, dir, options, on_entry, ProgressFn(), report);
}

Status InspectWal(Env* env, const std::string& dir, const WalInspectOptions& options,
                  const std::function<bool(const WalEntryInfo&)>& on_entry, ProgressFn progress,
                  WalInspection* report) {
  *report = WalInspection();
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(inspect_internal::ListWalFiles(env, dir, &names));
  uint64_t total_bytes = 0, done_bytes = 0;  // for progress
  if (progress) {
    for (const std::string& n : names) {
      uint64_t size = 0;
      if (env->GetFileSize(JoinPath(dir, n), &size).ok()) total_bytes += size;
    }
  }

  // Every LSN above the manifest's durable_lsn must be in the WAL without a hole (the
  // engine's recovery holds the same rule). Below it a hole is normal: retention, or a bad
  // tail of a flushed sealed file cut. Without a readable manifest only holes between two
  // records are reported. The manifest is read after the listing, so it is at least as new.
  Manifest manifest;
  const bool know_durable = ReadManifest(env, dir, &manifest).ok();
  const uint64_t durable = know_durable ? manifest.durable_lsn : 0;
  // A hole before a file's first record may also be a writer at work beside this read (a
  // read-only command beside the service): wal.jsonl sealed after the listing, or a listed
  // file removed by retention. It is reported only when the WAL files are still the ones
  // listed. Files only grow at their end, so a hole inside a file is always reported.
  auto listing_changed = [&] {
    std::vector<std::string> now;
    return !inspect_internal::ListWalFiles(env, dir, &now).ok() || now != names;
  };
  uint64_t previous_lsn = 0;
  bool start_unknown = false;  // the previous file was not read to its end
  bool stopped = false;
  for (size_t i = 0; i < names.size() && !stopped; ++i) {
    WalFileInfo f;
    f.name = names[i];
    f.file = JoinPath(dir, names[i]);
    f.sealed = names[i] != kWalActiveName;
    WalReadOptions ro;
    ro.previous_lsn = previous_lsn;
    WalFileSummary sum;
    WalPosition gap_pos;
    std::string gap_reason;
    uint64_t seen_lsn = start_unknown ? 0 : previous_lsn;
    auto on_record = [&](const WalRecord& r, const WalPosition& pos) -> Status {
      const uint64_t expected = std::max(seen_lsn, durable) + 1;
      const bool known = seen_lsn != 0 || (know_durable && !start_unknown);
      if (known && r.last_lsn() > durable && r.lsn > expected &&
          (f.records != 0 || !listing_changed())) {
        gap_pos = pos;
        gap_reason = WalLsnGapReason(r.lsn, expected);
        return Status::Corruption(gap_reason);
      }
      seen_lsn = r.last_lsn();
      ++f.records;
      f.entries += r.last_lsn() - r.lsn + 1;
      ++f.op_counts[WalOpName(r.op)];
      if (f.first_lsn == 0) {
        f.first_lsn = r.lsn;
        f.first_time = r.timestamp;
      }
      f.last_lsn = r.last_lsn();
      f.last_time = r.timestamp;
      f.good_bytes = pos.offset + pos.length;
      if (progress) progress(std::min(total_bytes, done_bytes + f.good_bytes), total_bytes);
      if (!on_entry || r.last_lsn() < options.from_lsn) return Status::OK();
      WalEntryInfo e;
      e.file = f.file;
      e.line = pos.line;
      e.offset = pos.offset;
      e.length = pos.length;
      e.lsn = r.lsn;
      e.last_lsn = r.last_lsn();
      e.timestamp = r.timestamp;
      e.op_type = WalOpName(r.op);
      if (r.op == WalOp::kDelete) {
        e.ids.push_back(r.id);
      } else {
        for (const Item& it : r.items) e.ids.push_back(it.id);
      }
      if (options.summaries) e.summary_json = RecordSummary(r, options.max_content_chars);
      if (!on_entry(e)) {
        stopped = true;
        return Status::Aborted("stopped by the caller");
      }
      return Status::OK();
    };
    Status s = ReadWalFile(env, f.file, ro, on_record, &sum);
    if (s.IsCorruption() && !gap_reason.empty()) {
      s = Status::OK();
      sum.has_problem = true;
      sum.good_bytes = gap_pos.offset;
      sum.problem = WalProblem{f.file, gap_pos.line, gap_pos.offset,
                               sum.file_bytes - gap_pos.offset, gap_reason, false};
    }
    if (s.IsNotFound()) {  // removed (rotated or cleaned up) since it was listed
      start_unknown = true;
      continue;
    }
    if (!s.ok() && !(stopped && s.code() == Status::Code::kAborted)) return s;
    f.bytes = sum.file_bytes;
    done_bytes += f.bytes;
    if (progress) progress(std::min(total_bytes, done_bytes), total_bytes);
    if (!stopped) {
      f.good_bytes = sum.good_bytes;
      if (sum.has_problem) {
        f.has_problem = true;
        const WalProblem& p = sum.problem;
        f.problem = WalIssue{p.file, p.line, p.offset, p.length, p.reason, p.torn_tail};
        // Only the newest file can end in a torn tail: sealed files were complete when
        // they were sealed.
        if (p.torn_tail && i + 1 != names.size()) {
          f.problem.torn_tail = false;
          f.problem.reason += " (in a sealed WAL file, so not a crash of the last write)";
        }
      }
    }
    if (f.last_lsn != 0) previous_lsn = f.last_lsn;
    start_unknown = f.has_problem;
    report->files.push_back(std::move(f));
  }

  WalInspection& r = *report;
  r.complete = !stopped;
  for (const WalFileInfo& f : r.files) {
    if (f.sealed) ++r.sealed_files;
    r.bytes += f.bytes;
    r.good_bytes += f.good_bytes;
    r.records += f.records;
    r.entries += f.entries;
    if (f.first_lsn != 0 && r.first_lsn == 0) {
      r.first_lsn = f.first_lsn;
      r.first_time = f.first_time;
    }
    if (f.last_lsn != 0) {
      r.last_lsn = f.last_lsn;
      r.last_time = f.last_time;
    }
    AddOps(f.op_counts, &r.op_counts);
    if (f.has_problem) {
      r.problems.push_back(f.problem);
      if (!f.problem.torn_tail) r.corrupt = true;
    }
  }
  r.torn_tail = !r.problems.empty() && !r.corrupt;
  return Status::OK();
}

std::string WalInspectionToJson(const WalInspection& report) {
  return Dump(inspect_internal::WalInspectionJ(report));
}

std::string WalIssueToJson(const WalIssue& issue) {
  return Dump(inspect_internal::WalIssueJ(issue));
}

}  // namespace t4dx
