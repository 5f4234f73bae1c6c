// ServiceConfig: everything t4dm-service is configured with, from the environment and
// command-line flags (a flag overrides its variable). `t4dm-service --help` prints the
// table built from the same list the parser uses, so the help never drifts from the code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dm {

struct ServiceConfig {
  std::string data_dir = "./data";  // T4DM_DATA_DIR: the data root; one store per session
  std::string host = "127.0.0.1";   // T4DM_HOST
  int port = 8000;                  // T4DM_PORT (0: any free port, printed at start)
  std::string api_key;              // T4DM_API_KEY: admin key for every session
  std::string api_keys_file;        // T4DM_API_KEYS_FILE: keys with roles and sessions
  std::string inspector_dir;        // T4DM_INSPECTOR_DIR: "" = <repo>/web/dist if present

  // Engine options of every session store: T4DM_FLUSH_THRESHOLD, T4DM_RECOVERY_STRICT,
  // T4DM_WAL_SYNC (t4dx::ApplyEnvironment), and the k / batch / content limits.
  t4dx::Options engine;

  size_t max_body_bytes = 32u << 20;   // T4DM_MAX_BODY_BYTES: larger bodies get 413
  size_t max_json_depth = 32;          // nesting of a request body
  size_t max_open_sessions = 64;       // T4DM_MAX_OPEN_SESSIONS: stores open at once
  int64_t session_idle_seconds = 300;  // T4DM_SESSION_IDLE_SECONDS: idle stores closed
  size_t http_threads = 32;            // T4DM_HTTP_THREADS: concurrent connections served
  int64_t read_timeout_seconds = 5;    // a client silent this long is dropped
  // T4DM_REQUEST_TIMEOUT_SECONDS / T4DM_MIN_REQUEST_BYTES_PER_SECOND: a request (head and
  // body) must arrive within this long of its first byte, plus one second per
  // min_request_bytes_per_second bytes received; else 408 and the connection closed.
  int64_t request_timeout_seconds = 5;
  size_t min_request_bytes_per_second = 16384;
  // An idle keep-alive connection is closed after this long. Shutdown waits for idle
  // connections up to this long (the HTTP library cannot interrupt them sooner).
  int64_t keep_alive_seconds = 2;                    // T4DM_KEEP_ALIVE_SECONDS
  t4dx::LogLevel log_level = t4dx::LogLevel::kInfo;  // T4DM_LOG_LEVEL
  bool access_log = true;                            // T4DM_ACCESS_LOG: one line per request

  bool help = false;
  bool version = false;
};

// Looks up an environment variable; false when unset.
using EnvLookup = std::function<bool(const char* name, std::string* value)>;
// The process environment.
EnvLookup ProcessEnvironment();

// Fills *config from defaults, then the environment, then argv (argv[0] skipped).
// InvalidArgument naming the flag or variable and the bad value on any error.
t4dx::Status ParseConfig(int argc, const char* const* argv, const EnvLookup& env,
                         ServiceConfig* config);

// The --help text: usage, every flag with its variable, default and meaning.
std::string HelpText();

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace t4dm
