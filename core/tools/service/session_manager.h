// SessionManager: one T4DX store per session, opened on first use, closed when idle.
//
// Session S lives in <data root>/S (S matches [A-Za-z0-9_-]{1,64}, checked before any path
// is built). A read of a session whose directory does not exist is NotFound and creates
// nothing; a write creates the store. At most max_open stores are open at once: opening one
// more closes the least recently used store that no request is using; when every open store
// is in use the request waits up to 2 s for one to become idle, then gets Busy (503). A
// reaper thread closes stores unused for idle_ms.
//
// A request holds a SessionLease for as long as it uses the engine; a leased store is never
// closed under it. CloseAll() (shutdown) waits for the leases, closes every store (syncing
// its WAL, saving its index, releasing its lock) and refuses new leases.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "t4dx/engine.h"
#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dm {

class SessionManager;
struct SessionSlot;  // one session's state, defined in session_manager.cc

// Keeps one session's store open while it lives. Movable, not copyable.
class SessionLease {
 public:
  SessionLease() = default;
  SessionLease(SessionLease&& other) noexcept;
  SessionLease& operator=(SessionLease&& other) noexcept;
  SessionLease(const SessionLease&) = delete;
  SessionLease& operator=(const SessionLease&) = delete;
  ~SessionLease();

  t4dx::Engine* engine() const { return engine_; }
  const std::string& session_id() const { return session_id_; }
  explicit operator bool() const { return engine_ != nullptr; }

 private:
  friend class SessionManager;
  void Release();

  SessionManager* manager_ = nullptr;
  std::shared_ptr<SessionSlot> slot_;
  t4dx::Engine* engine_ = nullptr;
  std::string session_id_;
};

class SessionManager {
 public:
  struct Config {
    std::string data_root;
    t4dx::Options engine_options;  // log is replaced per session (see make_log)
    size_t max_open = 64;
    int64_t idle_ms = 300000;
    // The engine log function of a session (may be null: no engine logging).
    std::function<t4dx::LogFn(const std::string& session_id)> make_log;
    // Called after a store was opened or closed, or failed to open (may be null).
    std::function<void(const std::string& session_id, const char* event, const t4dx::Status& status,
                       t4dx::Engine* engine)>
        on_event;
  };

  enum class Mode {
    kRead,    // the store must exist (NotFound otherwise)
    kCreate,  // the store is created when missing (the first write)
  };

  explicit SessionManager(Config config);
  ~SessionManager();  // CloseAll()
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Starts the idle reaper thread.
  void Start();

  // REQUIRES: session_id is valid (ids.h).
  t4dx::Status Acquire(const std::string& session_id, Mode mode, SessionLease* lease);
  // Leases the store only when it is open right now (never opens one).
  bool AcquireIfOpen(const std::string& session_id, SessionLease* lease);

  // Ids of the stores open right now.
  std::vector<std::string> OpenSessions();
  // Session directories under the data root (valid names only).
  t4dx::Status ListSessions(std::vector<std::string>* ids);
  size_t open_count();
  size_t max_open() const { return config_.max_open; }
  uint64_t opens() const;     // stores opened since start
  uint64_t closes() const;    // stores closed since start (idle, evicted or shutdown)
  uint64_t acquires() const;  // Acquire calls since start (the service's store work)

  // Waits for every lease, closes every store, refuses leases from then on (Aborted).
  void CloseAll();

 private:
  friend class SessionLease;
  using Slot = SessionSlot;

  void Release(const std::shared_ptr<Slot>& slot);
  // Closes the least recently used idle store other than keep. False when there is none.
  bool EvictOne(const Slot* keep);
  // Closes slot's store when nobody leases it (and, with idle_before_ms >= 0, when it has
  // been unused since then). Never blocks on a store being opened. True when it closed it.
  bool TryClose(const std::shared_ptr<Slot>& slot, int64_t idle_before_ms);
  void ReaperLoop();
  // REQUIRES: slot->open_mu held, slot->engine null.
  t4dx::Status OpenStore(Slot* slot, bool create);
  std::string StoreDir(const std::string& id) const;
  static int64_t NowMs();

  const Config config_;

  mutable std::mutex mu_;
  std::condition_variable leases_cv_;                   // while closing: a lease was released
  std::condition_variable reaper_cv_;                   // the reaper should stop
  std::map<std::string, std::shared_ptr<Slot>> slots_;  // GUARDED_BY(mu_)
  size_t open_reserved_ = 0;  // stores open or being opened, GUARDED_BY(mu_)
  bool closing_ = false;      // GUARDED_BY(mu_)
  uint64_t opens_ = 0;        // GUARDED_BY(mu_)
  uint64_t closes_ = 0;       // GUARDED_BY(mu_)
  uint64_t acquires_ = 0;     // GUARDED_BY(mu_)
  std::thread reaper_;
};

}  // namespace t4dm
