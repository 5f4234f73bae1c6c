// System "sqlite": SQLite 3.40 (Debian) in WAL mode, one table
//   items(id TEXT PRIMARY KEY, timestamp INTEGER, kind TEXT, content TEXT, metadata TEXT,
//         embedding BLOB)
// One transaction per write call (INSERT OR REPLACE per item). Durability: always =
// synchronous=FULL (the WAL is synced at every commit); interval = NORMAL, with FULL for
// the commit that falls due; none = OFF. SQLite has one writer at a time: writers are
// serialized in process by a mutex (a busy-timeout retry loop is far slower).
#include <sqlite3.h>

#include <mutex>

#include "store.h"
#include "sysstat.h"

namespace t4dx_bench {

namespace {

class SqliteStore final : public Store {
 public:
  const char* name() const override { return "sqlite"; }
  ~SqliteStore() override { Close(); }

  Status Open(const StoreConfig& c) override {
    config_ = c;
    clock_ = std::make_unique<SyncClock>(c.interval_ms);
    MakeDirs(c.dir);
    std::string path = c.dir + "/items.db";
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) return Error("open " + path);
    const char* base_sync = c.sync == SyncMode::kAlways     ? "FULL"
                            : c.sync == SyncMode::kInterval ? "NORMAL"
                                                            : "OFF";
    std::string setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + std::string(base_sync) +
                        "; PRAGMA busy_timeout=60000;";
    if (c.keep_in_log) setup += " PRAGMA wal_autocheckpoint=0;";
    setup +=
        " CREATE TABLE IF NOT EXISTS items(id TEXT PRIMARY KEY, timestamp INTEGER, kind TEXT,"
        " content TEXT, metadata TEXT, embedding BLOB);";
    T4DX_RETURN_IF_ERROR(Exec(setup));
    if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO items VALUES(?,?,?,?,?,?)", -1, &insert_,
                           nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "DELETE FROM items WHERE id=?", -1, &delete_, nullptr) !=
            SQLITE_OK) {
      return Error("prepare");
    }
    return Status::OK();
  }

  Status Write(const std::vector<t4dx::Item>& items) override {
    std::lock_guard<std::mutex> l(mu_);
    T4DX_RETURN_IF_ERROR(Begin());
    for (const auto& it : items) {
      std::string meta = MetadataJson(it.metadata);
      sqlite3_bind_text(insert_, 1, it.id.data(), int(it.id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 2, it.timestamp);
      sqlite3_bind_text(insert_, 3, it.kind.data(), int(it.kind.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 4, it.content.data(), int(it.content.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 5, meta.data(), int(meta.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(insert_, 6, it.embedding.data(), int(it.embedding.size() * 4),
                        SQLITE_STATIC);
      int rc = sqlite3_step(insert_);
      sqlite3_reset(insert_);
      if (rc != SQLITE_DONE) {
        Exec("ROLLBACK");
        return Error("insert");
      }
    }
    return Exec("COMMIT");
  }
  Status Delete(const std::string& id) override {
    std::lock_guard<std::mutex> l(mu_);
    T4DX_RETURN_IF_ERROR(Begin());
    sqlite3_bind_text(delete_, 1, id.data(), int(id.size()), SQLITE_STATIC);
    int rc = sqlite3_step(delete_);
    sqlite3_reset(delete_);
    if (rc != SQLITE_DONE) {
      Exec("ROLLBACK");
      return Error("delete");
    }
    return Exec("COMMIT");
  }
  Status Finish() override { return Status::OK(); }
  Status Close() override {
    if (insert_) sqlite3_finalize(insert_);
    if (delete_) sqlite3_finalize(delete_);
    insert_ = delete_ = nullptr;
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    return Status::OK();
  }
  json Extra() override { return json{{"sqlite_version", sqlite3_libversion()}}; }

  // In WAL mode the first read after open rebuilds the WAL index: Get is that read.
  Status Get(const std::string& id, bool* found) override {
    std::lock_guard<std::mutex> l(mu_);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT length(embedding) FROM items WHERE id=?", -1, &st,
                           nullptr) != SQLITE_OK) {
      return Error("get");
    }
    sqlite3_bind_text(st, 1, id.data(), int(id.size()), SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::OK() : Error("get");
  }

 private:
  // REQUIRES: mu_ held.
  Status Begin() {
    if (config_.sync == SyncMode::kInterval) {
      bool due = clock_->Due();
      if (due != full_) {
        T4DX_RETURN_IF_ERROR(Exec(due ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
        full_ = due;
      }
    }
    return Exec("BEGIN IMMEDIATE");
  }
  Status Exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : "?";
      sqlite3_free(msg);
      return Status::IOError("sqlite '" + sql.substr(0, 60) + "': " + m);
    }
    return Status::OK();
  }
  Status Error(const std::string& what) {
    return Status::IOError("sqlite " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "no handle"));
  }

  StoreConfig config_;
  std::unique_ptr<SyncClock> clock_;
  std::mutex mu_;
  bool full_ = false;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> NewSqliteStore() { return std::make_unique<SqliteStore>(); }

}  // namespace t4dx_bench
