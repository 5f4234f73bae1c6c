// t4dm-service: the T4DX storage HTTP server. See README.md in this directory and --help.
//
// Start: configuration (env, flags) -> data root created and locked (a second server on the
// same root fails here) -> API keys -> session manager -> routes -> bind -> serve.
// Stop (SIGTERM/SIGINT): stop accepting, finish the requests in flight, close every session
// store (WAL synced, index saved, lock released), release the data root lock, exit 0. A
// second signal during shutdown exits at once with status 1 (acknowledged writes are already
// durable per T4DM_WAL_SYNC).
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api_keys.h"
#include "config.h"
#include "http_server.h"
#include "key_file.h"
#include "logger.h"
#include "memory_trimmer.h"
#include "routes.h"
#include "service.h"
#include "session_manager.h"
#include "t4dx/engine.h"
#include "t4dx/env.h"

namespace t4dm {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kLockFileName = "t4dm-service.lock";

int Fail(Logger* logger, const std::string& msg, const nlohmann::json& fields = {}) {
  logger->Error(msg, fields);
  std::string text = "t4dm-service: " + msg;
  if (fields.contains("error")) text += ": " + fields["error"].get<std::string>();
  std::fprintf(stderr, "%s\n", text.c_str());
  return 1;
}

// Creates dir and its missing parents through the Env.
t4dx::Status CreateDirs(t4dx::Env* env, const std::string& dir) {
  std::string path;
  size_t pos = 0;
  while (pos <= dir.size()) {
    size_t slash = dir.find('/', pos);
    if (slash == std::string::npos) slash = dir.size();
    path = dir.substr(0, slash);
    pos = slash + 1;
    if (path.empty() || path == "." || path == "..") continue;
    bool is_dir = false;
    if (env->IsDirectory(path, &is_dir).ok() && is_dir) continue;
    T4DX_RETURN_IF_ERROR(env->CreateDir(path));
  }
  return t4dx::Status::OK();
}

std::string AbsolutePath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

// The inspector's files: the configured directory, else web/dist of the repository that
// holds this binary (build/bin/t4dm-service -> ../../web/dist), else ./web/dist.
std::string FindInspectorDir(const ServiceConfig& config) {
  if (!config.inspector_dir.empty()) return config.inspector_dir;
  t4dx::Env* env = t4dx::Env::Default();
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    const std::string bin_dir = t4dx::DirName(exe);
    const std::string candidate = bin_dir + "/../../web/dist";
    if (env->FileExists(candidate + "/index.html")) return AbsolutePath(candidate);
  }
  if (env->FileExists("web/dist/index.html")) return AbsolutePath("web/dist");
  return "";
}

const char* SignalName(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

int Main(int argc, char** argv) {
  // Signals are taken by one thread with sigwait; every other thread inherits this mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  MemoryTrimmer::ConfigureAllocator();  // before any other thread (memory_trimmer.h)

  ServiceConfig config;
  t4dx::Status s = ParseConfig(argc, argv, ProcessEnvironment(), &config);
  if (!s.ok()) {
    std::fprintf(stderr, "t4dm-service: %s\n", s.message().c_str());
    return 2;
  }
  if (config.help) {
    std::fputs(HelpText().c_str(), stdout);
    return 0;
  }
  if (config.version) {
    std::printf("t4dm-service %s\n", kVersion);
    return 0;
  }
  Logger logger(config.log_level);

  // The data root, created if missing, and held exclusively while the service runs.
  t4dx::Env* env = t4dx::Env::Default();
  s = CreateDirs(env, config.data_dir);
  if (!s.ok()) {
    return Fail(&logger, "cannot create the data root",
                {{"data_dir", config.data_dir}, {"error", s.ToString()}});
  }
  const std::string root = AbsolutePath(config.data_dir);
  std::unique_ptr<t4dx::FileLock> root_lock;
  const std::string lock_path = t4dx::JoinPath(root, kLockFileName);
  s = env->LockFile(lock_path, &root_lock);
  if (!s.ok()) {
    return Fail(&logger,
                "the data root is already in use by another t4dm-service (or a tool holding "
                "its lock); stop it first or choose another T4DM_DATA_DIR",
                {{"data_dir", root}, {"lock_file", lock_path}, {"error", s.ToString()}});
  }

  // API keys.
  ApiKeys keys;
  std::string printed_key;
  std::string key_source;
  if (!config.api_key.empty()) {
    ApiKey key;
    key.name = "T4DM_API_KEY";
    key.secret = config.api_key;
    key.role = Role::kAdmin;
    key.all_sessions = true;
    keys.Add(key);
    printed_key = config.api_key;
    key_source = "from T4DM_API_KEY";
  }
  if (!config.api_keys_file.empty()) {
    std::string text;
    s = t4dx::ReadFileToString(env, config.api_keys_file, &text);
    if (s.ok()) s = keys.AddFromJson(text, config.api_keys_file);
    if (!s.ok()) {
      return Fail(&logger, "cannot load the API keys file",
                  {{"file", config.api_keys_file}, {"error", s.ToString()}});
    }
    if (key_source.empty()) key_source = "keys file " + config.api_keys_file;
  }
  if (keys.size() == 0) {
    if (!IsLoopbackHost(config.host)) {
      return Fail(&logger,
                  "refusing to listen on a non-loopback address without an API key: set "
                  "T4DM_API_KEY or T4DM_API_KEYS_FILE",
                  {{"host", config.host}});
    }
    bool created = false;
    std::string warning;
    s = LoadOrCreateApiKeyFile(root, &printed_key, &created, &warning);
    if (!s.ok())
      return Fail(&logger, "cannot read or create the API key file", {{"error", s.ToString()}});
    if (!warning.empty()) logger.Warn("API key file permissions", {{"detail", warning}});
    ApiKey key;
    key.name = "data-root-key";
    key.secret = printed_key;
    key.role = Role::kAdmin;
    key.all_sessions = true;
    keys.Add(key);
    key_source = (created ? "generated, kept in " : "from ") + ApiKeyFilePath(root);
  }

  // Session stores.
  SessionManager::Config sm;
  sm.data_root = root;
  sm.engine_options = config.engine;
  sm.max_open = config.max_open_sessions;
  sm.idle_ms = config.session_idle_seconds * 1000;
  sm.make_log = [&logger](const std::string& id) -> t4dx::LogFn {
    return [&logger, id](t4dx::LogLevel level, const std::string& message) {
      logger.Log(level, message, {{"session", id}, {"source", "engine"}});
    };
  };
  sm.on_event = [&logger](const std::string& id, const char* event, const t4dx::Status& status,
                          t4dx::Engine* engine) {
    const std::string what = event;
    nlohmann::json fields = {{"session", id}};
    if (what == "opened") {
      std::string report;
      if (engine != nullptr && engine->Describe(t4dx::View::kRecoveryReport, "", &report).ok()) {
        nlohmann::json parsed = nlohmann::json::parse(report, nullptr, false);
        if (!parsed.is_discarded()) fields["recovery"] = parsed;
      }
      logger.Info("session opened", fields);
      return;
    }
    if (!status.ok()) {
      fields["code"] = t4dx::Status::CodeName(status.code());
      fields["error"] = status.ToString();
      if (!status.file().empty()) {
        fields["file"] = status.file();
        fields["line"] = status.line();
        fields["offset"] = status.offset();
      }
    }
    if (what == "open_failed") {
      const bool wal = status.file().find("wal") != std::string::npos ||
                       status.message().find("wal") != std::string::npos ||
                       status.message().find("WAL") != std::string::npos;
      logger.Error(wal && status.IsCorruption() ? "WAL replay failed" : "session open failed",
                   fields);
    } else if (status.ok()) {
      logger.Info("session closed", fields);
    } else {
      logger.Error("session close failed", fields);
    }
  };
  SessionManager sessions(sm);

  Service service(config, keys, &sessions, &logger);
  AddStorageRoutes(&service);
  AddEpisodeRoutes(&service);
  OpsOptions ops;
  ops.inspector_dir = FindInspectorDir(config);
  ops.version = kVersion;
  AddOpsRoutes(&service, ops);

  HttpServerOptions http;
  http.host = config.host;
  http.port = config.port;
  http.threads = config.http_threads;
  http.max_body_bytes = config.max_body_bytes;
  http.read_timeout_seconds = config.read_timeout_seconds;
  http.request_timeout_seconds = config.request_timeout_seconds;
  http.min_request_bytes_per_second = config.min_request_bytes_per_second;
  http.keep_alive_timeout_seconds = config.keep_alive_seconds;
  std::unique_ptr<HttpServer> server;
  s = HttpServer::Create(http, service.Callbacks(), &server);
  if (!s.ok()) return Fail(&logger, "cannot listen", {{"error", s.ToString()}});
  sessions.Start();
  // Gives the pages that flushes, indexing and closed stores free back to the OS while the
  // service works (memory_trimmer.h): resident memory follows what the open stores hold.
  MemoryTrimmer trimmer(2000, [&sessions] { return sessions.acquires() + sessions.closes(); });
  trimmer.Start();

  // The signal thread: the first SIGTERM/SIGINT stops the server (repeatedly, until Run()
  // has returned, so a signal that lands before the accept loop starts is not lost); a
  // second one exits at once.
  std::mutex server_mu;       // guards the server against Stop() after it is destroyed
  bool run_returned = false;  // GUARDED_BY(server_mu)
  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    bool stopping = false;
    const timespec tick{0, 50 * 1000 * 1000};
    while (!done.load()) {
      siginfo_t info;
      const int sig = sigtimedwait(&signals, &info, &tick);
      if (sig > 0) {
        if (stopping) {
          logger.Error("second signal during shutdown: exiting now", {{"signal", SignalName(sig)}});
          std::_Exit(1);
        }
        stopping = true;
        logger.Info("shutdown requested: no new requests, finishing those in flight",
                    {{"signal", SignalName(sig)}});
      }
      if (stopping) {
        std::lock_guard<std::mutex> lock(server_mu);
        if (!run_returned) server->Stop();
      }
    }
  });

  const std::string url = "http://" + config.host + ":" + std::to_string(server->port());
  std::printf("t4dm-service %s listening on %s\n", kVersion, url.c_str());
  std::printf("  data root:  %s  (session S is the store %s/S)\n", root.c_str(), root.c_str());
  if (!printed_key.empty()) {
    std::printf("  API key:    %s  (%s)\n", printed_key.c_str(), key_source.c_str());
    std::printf("  try:        export T4DM_API_KEY=%s SESSION_ID=default\n", printed_key.c_str());
    std::printf(
        "              curl -H \"X-API-Key: $T4DM_API_KEY\" \"http://localhost:%d"
        "/storage/status?session_id=$SESSION_ID\"\n",
        server->port());
  } else {
    std::printf("  API keys:   %s\n", key_source.c_str());
  }
  std::printf("  inspector:  %s\n", ops.inspector_dir.empty() ? "not built (web/dist missing)"
                                                              : (url + "/inspector/").c_str());
  std::printf("  stop:       Ctrl-C or SIGTERM\n");
  std::fflush(stdout);
  logger.Info("listening", {{"host", config.host},
                            {"port", server->port()},
                            {"data_dir", root},
                            {"version", kVersion},
                            {"keys", keys.size()},
                            {"inspector_dir", ops.inspector_dir},
                            {"wal_sync", t4dx::WalSyncName(config.engine.wal_sync)},
                            {"flush_threshold", config.engine.flush_threshold_items},
                            {"recovery_strict", config.engine.recovery_strict}});

  s = server->Run();
  {
    std::lock_guard<std::mutex> lock(server_mu);
    run_returned = true;
  }
  int exit_code = 0;
  if (!s.ok()) {
    logger.Error("the HTTP server failed", {{"error", s.ToString()}});
    exit_code = 1;
  }
  logger.Info("stopped accepting; closing session stores", {{"open", sessions.open_count()}});
  server.reset();
  trimmer.Stop();
  sessions.CloseAll();
  root_lock.reset();
  logger.Info("stopped", {{"exit_code", exit_code}});
  done.store(true);
  signal_thread.join();
  return exit_code;
}

}  // namespace
}  // namespace t4dm

int main(int argc, char** argv) { return t4dm::Main(argc, argv); }
