// WriteSegment: builds the four files of a segment under seg_NNNNNN.tmp/ and publishes the
// directory with one rename (core/doc/segment_format.md, "Publication").
#include <algorithm>
#include <set>

#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment/segment_internal.h"
#include "util/coding.h"
#include "util/item_codec.h"

namespace t4dx {
namespace {

using segment_internal::BlockHasher;
using segment_internal::FileInfo;

constexpr size_t kWriteBufferSize = 1 << 20;

// Streams one file: buffered appends, block checksums on the way, then sync and close.
class FileSink {
 public:
  Status Open(Env* env, const std::string& path, const char* name) {
    path_ = path;
    name_ = name;
    return env->NewWritableFile(path, &file_);
  }
  Status Append(std::string_view data) {
    hasher_.Add(data);
    buffer_.append(data.data(), data.size());
    return buffer_.size() >= kWriteBufferSize ? Flush() : Status::OK();
  }
  uint64_t size() const { return hasher_.size(); }
  // Writes what is buffered, syncs and closes; fills info.
  Status Finish(FileInfo* info) {
    T4DX_RETURN_IF_ERROR(Flush());
    T4DX_RETURN_IF_ERROR(file_->Sync());
    T4DX_RETURN_IF_ERROR(file_->Close());
    file_.reset();
    info->name = name_;
    info->size = hasher_.size();
    info->blocks = hasher_.Finish();
    return Status::OK();
  }

 private:
  Status Flush() {
    if (buffer_.empty()) return Status::OK();
    Status s = file_->Append(buffer_);
    buffer_.clear();
    return s;
  }

  std::string path_;
  const char* name_ = "";
  std::unique_ptr<WritableFile> file_;
  std::string buffer_;
  BlockHasher hasher_;
};

Status ValidateEntries(const std::vector<SegmentEntry>& entries, uint32_t dim) {
  uint64_t rows = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const SegmentEntry& e = entries[i];
    const std::string where = "segment entries[" + std::to_string(i) + "]";
    Status s = ValidateId(e.item.id);
    if (!s.ok()) return s.WithContext(where);
    if (i > 0 && !(entries[i - 1].item.id < e.item.id)) {
      return Status::InvalidArgument(where + ": id \"" + e.item.id + "\" is not after \"" +
                                     entries[i - 1].item.id +
                                     "\" (entries must be sorted by id, ids unique)");
    }
    if (e.deleted) continue;
    if (e.item.kind.size() > 255) {
      return Status::InvalidArgument(where + ": kind is longer than 255 bytes");
    }
    if (!e.item.embedding.empty()) {
      if (e.item.embedding.size() != dim) {
        return Status::InvalidArgument(where + ": embedding has " +
                                       std::to_string(e.item.embedding.size()) +
                                       " values, the store's dimension is " + std::to_string(dim));
      }
      ++rows;
    }
  }
  if (rows >= segment_internal::kNoRow) {
    return Status::InvalidArgument("segment: too many vectors for one segment");
  }
  return Status::OK();
}

// Adds one live entry to the planner statistics (see SegmentStats).
void AddToStats(const Item& item, SegmentStats* stats, std::set<std::string>* too_many) {
  ++stats->kinds[item.kind];
  for (const auto& [key, value] : item.metadata) {
    ++stats->key_counts[key];
    std::vector<std::string> strings;
    if (value.type == MetaValue::Type::kString) {
      strings.push_back(value.str);
    } else if (value.type == MetaValue::Type::kStringList) {
      std::set<std::string> distinct(value.list.begin(), value.list.end());
      strings.assign(distinct.begin(), distinct.end());
    } else {
      stats->overflow[key] = true;  // numbers and booleans are not tracked: incomplete
    }
    if (too_many->count(key) != 0) continue;
    for (const std::string& s : strings) {
      auto& values = stats->values[key];
      ++values[s];
      if (values.size() > SegmentStats::kMaxTrackedValues) {
        stats->values.erase(key);
        stats->overflow[key] = true;
        too_many->insert(key);
        break;
      }
    }
  }
}

// Best effort: removes dir and the files in it (a segment directory is flat).
void RemoveDirTree(Env* env, const std::string& dir) {
  std::vector<std::string> names;
  if (env->GetChildren(dir, &names).ok()) {
    for (const std::string& n : names) env->RemoveFile(JoinPath(dir, n));
  }
  env->RemoveDir(dir);
}

Status WriteFiles(Env* env, const std::string& tmp, const std::vector<SegmentEntry>& entries,
                  SegmentMeta* meta) {
  FileSink items, vectors, ids;
  T4DX_RETURN_IF_ERROR(items.Open(env, JoinPath(tmp, kSegmentItemsFile), kSegmentItemsFile));
  T4DX_RETURN_IF_ERROR(vectors.Open(env, JoinPath(tmp, kSegmentVectorsFile), kSegmentVectorsFile));
  T4DX_RETURN_IF_ERROR(ids.Open(env, JoinPath(tmp, kSegmentIdsFile), kSegmentIdsFile));

  std::string buf;
  segment_internal::EncodeIdIndexHeader(entries.size(), &buf);
  T4DX_RETURN_IF_ERROR(ids.Append(buf));
  std::set<std::string> too_many;
  bool any_live = false;
  for (size_t i = 0; i < entries.size(); ++i) {
    const SegmentEntry& e = entries[i];
    SegmentEntryHeader h;
    h.id = e.item.id;
    h.lsn = e.lsn;
    h.deleted = e.deleted;
    h.timestamp = e.item.timestamp;
    Item tombstone;
    const Item* item = &e.item;
    if (e.deleted) {  // only the id and the time of the delete are kept
      tombstone.id = e.item.id;
      tombstone.timestamp = e.item.timestamp;
      item = &tombstone;
    } else {
      h.kind = e.item.kind;
      h.metadata = e.item.metadata;
    }
    buf.clear();
    AppendItemJsonExact(*item, /*with_embedding=*/false, &buf);
    if (buf.empty() || buf.back() != '}') {
      return Status::InvalidArgument("segment entries[" + std::to_string(i) +
                                     "]: the item does not encode as a JSON object");
    }
    buf.pop_back();
    buf += ",\"lsn\":" + std::to_string(e.lsn) + ",\"deleted\":" + (e.deleted ? "true" : "false") +
           "}";
    if (buf.size() >= UINT32_MAX) {
      return Status::InvalidArgument("segment entries[" + std::to_string(i) +
                                     "]: item line is larger than 4 GiB");
    }
    h.item_offset = items.size();
    h.item_length = static_cast<uint32_t>(buf.size());
    buf.push_back('\n');
    T4DX_RETURN_IF_ERROR(items.Append(buf));
    if (!e.deleted && !e.item.embedding.empty()) {
      h.row = static_cast<int64_t>(meta->vectors++);
      buf.clear();
      PutFloats(&buf, e.item.embedding.data(), e.item.embedding.size());
      T4DX_RETURN_IF_ERROR(vectors.Append(buf));
    }
    buf.clear();
    segment_internal::EncodeIdIndexEntry(h, &buf);
    T4DX_RETURN_IF_ERROR(ids.Append(buf));

    meta->lsn_min = i == 0 ? e.lsn : std::min(meta->lsn_min, e.lsn);
    meta->lsn_max = i == 0 ? e.lsn : std::max(meta->lsn_max, e.lsn);
    if (!e.deleted) {
      ++meta->live;
      meta->time_min = any_live ? std::min(meta->time_min, h.timestamp) : h.timestamp;
      meta->time_max = any_live ? std::max(meta->time_max, h.timestamp) : h.timestamp;
      any_live = true;
      AddToStats(e.item, &meta->stats, &too_many);
    }
  }
  meta->count = entries.size();

  std::vector<FileInfo> files(3);
  T4DX_RETURN_IF_ERROR(items.Finish(&files[0]));
  T4DX_RETURN_IF_ERROR(vectors.Finish(&files[1]));
  T4DX_RETURN_IF_ERROR(ids.Finish(&files[2]));

  // meta.json last: its presence with a valid checksum says the other files are complete.
  const std::string text = segment_internal::EncodeSegmentMeta(meta, files);
  std::unique_ptr<WritableFile> f;
  T4DX_RETURN_IF_ERROR(env->NewWritableFile(JoinPath(tmp, kSegmentMetaFile), &f));
  T4DX_RETURN_IF_ERROR(f->Append(text));
  T4DX_RETURN_IF_ERROR(f->Sync());
  T4DX_RETURN_IF_ERROR(f->Close());
  meta->total_bytes = text.size();
  for (const FileInfo& fi : files) meta->total_bytes += fi.size;
  return Status::OK();
}

}  // namespace

Status WriteSegment(Env* env, const std::string& store_dir, uint64_t id,
                    const std::vector<SegmentEntry>& entries, uint32_t dim, Metric metric,
                    const std::vector<uint64_t>& inputs, int64_t now_ms, SegmentMeta* meta) {
  if (id == 0) return Status::InvalidArgument("segment id 0 is reserved");
  T4DX_RETURN_IF_ERROR(ValidateEntries(entries, dim));
  const std::string final_dir = JoinPath(store_dir, SegmentDirName(id));
  const std::string tmp_dir = final_dir + ".tmp";
  bool is_dir = false;
  if (env->FileExists(final_dir) || env->IsDirectory(final_dir, &is_dir).ok()) {
    return Status::FailedPrecondition("segment directory " + final_dir +
                                      " already exists; segments are never overwritten");
  }

  SegmentMeta m;
  m.format_version = kSegmentFormatVersion;
  m.id = id;
  m.dim = dim;
  m.metric = metric;
  m.created_ms = now_ms;
  m.inputs = inputs;

  if (env->IsDirectory(tmp_dir, &is_dir).ok()) RemoveDirTree(env, tmp_dir);  // a stale try
  T4DX_RETURN_IF_ERROR(env->CreateDir(tmp_dir));
  Status s = WriteFiles(env, tmp_dir, entries, &m);
  if (s.ok()) s = env->SyncDir(tmp_dir);
  if (s.ok()) s = env->RenameFile(tmp_dir, final_dir);
  if (!s.ok()) {
    RemoveDirTree(env, tmp_dir);
    return s.WithContext("writing segment " + final_dir);
  }
  // The rename is done; only its durability can still fail. The directory is complete, so
  // it stays: the caller must not publish it in the manifest while this returns an error.
  T4DX_RETURN_IF_ERROR(env->SyncDir(store_dir).WithContext("publishing segment " + final_dir));
  if (meta != nullptr) *meta = std::move(m);
  return Status::OK();
}

}  // namespace t4dx
