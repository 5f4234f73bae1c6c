#include "session_manager.h"

#include <algorithm>
#include <chrono>

#include "ids.h"
#include "t4dx/env.h"

namespace t4dm {

using t4dx::Status;

namespace {
// How long an open waits for a store to become idle when every open store is in use.
constexpr int64_t kBusyWaitMs = 2000;
}  // namespace

struct SessionSlot {
  std::string id;
  std::mutex open_mu;                    // held while opening or closing this store
  std::unique_ptr<t4dx::Engine> engine;  // GUARDED_BY(open_mu)
  // GUARDED_BY(SessionManager::mu_):
  int leases = 0;
  bool open = false;
  int64_t last_used_ms = 0;
};

// ---- SessionLease ----

SessionLease::SessionLease(SessionLease&& other) noexcept { *this = std::move(other); }

SessionLease& SessionLease::operator=(SessionLease&& other) noexcept {
  if (this != &other) {
    Release();
    manager_ = other.manager_;
    slot_ = std::move(other.slot_);
    engine_ = other.engine_;
    session_id_ = std::move(other.session_id_);
    other.manager_ = nullptr;
    other.engine_ = nullptr;
  }
  return *this;
}

SessionLease::~SessionLease() { Release(); }

void SessionLease::Release() {
  if (manager_ != nullptr && slot_ != nullptr) manager_->Release(slot_);
  manager_ = nullptr;
  slot_.reset();
  engine_ = nullptr;
}

// ---- SessionManager ----

SessionManager::SessionManager(Config config) : config_(std::move(config)) {}

SessionManager::~SessionManager() { CloseAll(); }

int64_t SessionManager::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string SessionManager::StoreDir(const std::string& id) const {
  return t4dx::JoinPath(config_.data_root, id);
}

void SessionManager::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (reaper_.joinable() || closing_) return;
  reaper_ = std::thread([this] { ReaperLoop(); });
}

Status SessionManager::Acquire(const std::string& session_id, Mode mode, SessionLease* lease) {
  if (!IsValidSessionId(session_id)) {
    return Status::InvalidArgument("invalid session id (expected [A-Za-z0-9_-]{1,64})");
  }
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return Status::Aborted("the service is shutting down");
    std::shared_ptr<Slot>& entry = slots_[session_id];
    if (!entry) {
      entry = std::make_shared<Slot>();
      entry->id = session_id;
    }
    slot = entry;
    ++slot->leases;
    slot->last_used_ms = NowMs();
    ++acquires_;
  }
  Status status;
  t4dx::Engine* engine = nullptr;
  {
    std::lock_guard<std::mutex> open_lock(slot->open_mu);
    if (!slot->engine) status = OpenStore(slot.get(), mode == Mode::kCreate);
    engine = slot->engine.get();
  }
  if (!status.ok() || engine == nullptr) {
    Release(slot);
    return status.ok() ? Status::Aborted("session store closed") : status;
  }
  SessionLease fresh;
  fresh.manager_ = this;
  fresh.slot_ = std::move(slot);
  fresh.engine_ = engine;
  fresh.session_id_ = session_id;
  *lease = std::move(fresh);
  return Status::OK();
}

bool SessionManager::AcquireIfOpen(const std::string& session_id, SessionLease* lease) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    auto it = slots_.find(session_id);
    if (it == slots_.end() || !it->second->open) return false;
    slot = it->second;
    ++slot->leases;  // last_used_ms untouched: metrics scrapes do not keep a store open
  }
  t4dx::Engine* engine = nullptr;
  {
    std::lock_guard<std::mutex> open_lock(slot->open_mu);
    engine = slot->engine.get();
  }
  if (engine == nullptr) {
    Release(slot);
    return false;
  }
  SessionLease fresh;
  fresh.manager_ = this;
  fresh.slot_ = std::move(slot);
  fresh.engine_ = engine;
  fresh.session_id_ = session_id;
  *lease = std::move(fresh);
  return true;
}

Status SessionManager::OpenStore(Slot* slot, bool create) {
  const std::string dir = StoreDir(slot->id);
  t4dx::Env* env =
      config_.engine_options.env != nullptr ? config_.engine_options.env : t4dx::Env::Default();
  if (!create) {
    bool is_dir = false;
    if (!env->IsDirectory(dir, &is_dir).ok() || !is_dir) {
      return Status::NotFound("session \"" + slot->id +
                              "\" does not exist (no store yet: its first write creates it)");
    }
  }
  // Reserve a place among the open stores, closing idle ones to make room; when every open
  // store is in use, wait a little for one to become idle.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyWaitMs);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return Status::Aborted("the service is shutting down");
      if (open_reserved_ < config_.max_open) {
        ++open_reserved_;
        break;
      }
    }
    if (EvictOne(slot)) continue;
    std::unique_lock<std::mutex> lock(mu_);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Busy("all " + std::to_string(config_.max_open) +
                          " open session stores are in use (--max-open-sessions); retry");
    }
    leases_cv_.wait_until(lock, deadline);
  }
  t4dx::Options options = config_.engine_options;
  options.create_if_missing = create;
  options.log = config_.make_log ? config_.make_log(slot->id) : t4dx::LogFn();
  std::unique_ptr<t4dx::Engine> engine;
  Status status = t4dx::Engine::Open(options, dir, &engine);
  if (status.ok() && !engine) status = Status::IOError("Engine::Open returned no engine");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok()) {
      slot->open = true;
      ++opens_;
    } else {
      --open_reserved_;
    }
  }
  if (status.ok()) slot->engine = std::move(engine);
  if (config_.on_event)
    config_.on_event(slot->id, status.ok() ? "opened" : "open_failed", status, slot->engine.get());
  return status;
}

void SessionManager::Release(const std::shared_ptr<Slot>& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  --slot->leases;
  slot->last_used_ms = NowMs();
  if (slot->leases == 0 && !slot->open) {
    auto it = slots_.find(slot->id);
    if (it != slots_.end() && it->second == slot) slots_.erase(it);
  }
  if (slot->leases == 0) leases_cv_.notify_all();  // CloseAll, or an opener waiting for room
}

bool SessionManager::EvictOne(const Slot* keep) {
  std::vector<std::shared_ptr<Slot>> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& entry : slots_) {
      const std::shared_ptr<Slot>& s = entry.second;
      if (s.get() != keep && s->open && s->leases == 0) idle.push_back(s);
    }
    std::sort(idle.begin(), idle.end(),
              [](const std::shared_ptr<Slot>& a, const std::shared_ptr<Slot>& b) {
                return a->last_used_ms < b->last_used_ms;
              });
  }
  for (const auto& s : idle) {
    if (TryClose(s, -1)) return true;
  }
  return false;
}

bool SessionManager::TryClose(const std::shared_ptr<Slot>& slot, int64_t idle_before_ms) {
  std::unique_lock<std::mutex> open_lock(slot->open_mu, std::try_to_lock);
  if (!open_lock.owns_lock()) return false;
  std::unique_ptr<t4dx::Engine> engine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!slot->open || slot->leases > 0) return false;
    if (idle_before_ms >= 0 && slot->last_used_ms > idle_before_ms) return false;
    slot->open = false;
    engine = std::move(slot->engine);
  }
  const Status status = engine ? engine->Close() : Status::OK();
  engine.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    --open_reserved_;
    ++closes_;
    if (slot->leases == 0 && !slot->open) {
      auto it = slots_.find(slot->id);
      if (it != slots_.end() && it->second == slot) slots_.erase(it);
    }
  }
  if (config_.on_event) config_.on_event(slot->id, "closed", status, nullptr);
  return true;
}

void SessionManager::ReaperLoop() {
  const int64_t period_ms = std::min<int64_t>(5000, std::max<int64_t>(50, config_.idle_ms / 4));
  std::unique_lock<std::mutex> lock(mu_);
  while (!closing_) {
    reaper_cv_.wait_for(lock, std::chrono::milliseconds(period_ms));
    if (closing_) break;
    const int64_t idle_before = NowMs() - config_.idle_ms;
    std::vector<std::shared_ptr<Slot>> idle;
    for (const auto& entry : slots_) {
      const std::shared_ptr<Slot>& s = entry.second;
      if (s->open && s->leases == 0 && s->last_used_ms <= idle_before) idle.push_back(s);
    }
    lock.unlock();
    for (const auto& s : idle) TryClose(s, idle_before);
    lock.lock();
  }
}

std::vector<std::string> SessionManager::OpenSessions() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& entry : slots_) {
    if (entry.second->open) ids.push_back(entry.first);
  }
  return ids;
}

Status SessionManager::ListSessions(std::vector<std::string>* ids) {
  ids->clear();
  t4dx::Env* env =
      config_.engine_options.env != nullptr ? config_.engine_options.env : t4dx::Env::Default();
  std::vector<std::string> names;
  T4DX_RETURN_IF_ERROR(env->GetChildren(config_.data_root, &names));
  for (const std::string& name : names) {
    if (!IsValidSessionId(name)) continue;
    bool is_dir = false;
    if (env->IsDirectory(StoreDir(name), &is_dir).ok() && is_dir) ids->push_back(name);
  }
  std::sort(ids->begin(), ids->end());
  return Status::OK();
}

size_t SessionManager::open_count() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& entry : slots_) n += entry.second->open ? 1 : 0;
  return n;
}

uint64_t SessionManager::opens() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opens_;
}

uint64_t SessionManager::closes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closes_;
}

uint64_t SessionManager::acquires() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acquires_;
}

void SessionManager::CloseAll() {
  std::thread reaper;
  {
    std::unique_lock<std::mutex> lock(mu_);
    closing_ = true;
    reaper_cv_.notify_all();
    reaper = std::move(reaper_);
  }
  if (reaper.joinable()) reaper.join();
  std::vector<std::shared_ptr<Slot>> slots;
  {
    std::unique_lock<std::mutex> lock(mu_);
    leases_cv_.wait(lock, [this] {
      for (const auto& entry : slots_) {
        if (entry.second->leases > 0) return false;
      }
      return true;
    });
    for (const auto& entry : slots_) slots.push_back(entry.second);
  }
  for (const auto& slot : slots) {
    std::unique_ptr<t4dx::Engine> engine;
    {
      std::lock_guard<std::mutex> open_lock(slot->open_mu);
      std::lock_guard<std::mutex> lock(mu_);
      if (!slot->open) continue;
      slot->open = false;
      engine = std::move(slot->engine);
    }
    const Status status = engine ? engine->Close() : Status::OK();
    engine.reset();
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_reserved_;
      ++closes_;
    }
    if (config_.on_event) config_.on_event(slot->id, "closed", status, nullptr);
  }
  std::lock_guard<std::mutex> lock(mu_);
  slots_.clear();
}

}  // namespace t4dm
