#include "config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "logger.h"

namespace t4dm {
namespace {

using t4dx::Status;

// One configurable setting: its flag, its variable, its help line and how to apply a value.
struct Setting {
  const char* flag;   // without the leading "--"
  const char* env;    // variable name, or nullptr
  const char* value;  // placeholder in the help ("" for a boolean switch)
  const char* help;
  // Applies the text; the message of a failure says what is expected.
  std::function<Status(const std::string&, ServiceConfig*)> apply;
  bool engine_env = false;  // the variable is read by t4dx::ApplyEnvironment
};

Status ParseUnsigned(const std::string& text, uint64_t min, uint64_t max, uint64_t* out) {
  if (text.empty() || text.size() > 20 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("expected a whole number, got \"" + text + "\"");
  }
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno != 0 || v < min || v > max) {
    return Status::InvalidArgument("expected a number from " + std::to_string(min) + " to " +
                                   std::to_string(max) + ", got " + text);
  }
  *out = v;
  return Status::OK();
}

Status ParseBool(const std::string& text, bool* out) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") {
    *out = true;
  } else if (text == "0" || text == "false" || text == "no" || text == "off") {
    *out = false;
  } else {
    return Status::InvalidArgument("expected true or false, got \"" + text + "\"");
  }
  return Status::OK();
}

template <typename T>
std::function<Status(const std::string&, ServiceConfig*)> Number(T ServiceConfig::*field,
                                                                 uint64_t min, uint64_t max) {
  return [field, min, max](const std::string& text, ServiceConfig* c) {
    uint64_t v = 0;
    T4DX_RETURN_IF_ERROR(ParseUnsigned(text, min, max, &v));
    c->*field = static_cast<T>(v);
    return Status::OK();
  };
}

template <typename T>
std::function<Status(const std::string&, ServiceConfig*)> EngineNumber(T t4dx::Options::*field,
                                                                       uint64_t min, uint64_t max) {
  return [field, min, max](const std::string& text, ServiceConfig* c) {
    uint64_t v = 0;
    T4DX_RETURN_IF_ERROR(ParseUnsigned(text, min, max, &v));
    c->engine.*field = static_cast<T>(v);
    return Status::OK();
  };
}

std::function<Status(const std::string&, ServiceConfig*)> Text(std::string ServiceConfig::*field,
                                                               bool allow_empty) {
  return [field, allow_empty](const std::string& text, ServiceConfig* c) {
    if (text.empty() && !allow_empty) return Status::InvalidArgument("expected a value");
    c->*field = text;
    return Status::OK();
  };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"data-dir", "T4DM_DATA_DIR", "DIR",
       "data root (default ./data); session S is the store DIR/S, e.g. DIR/default/wal.jsonl",
       Text(&ServiceConfig::data_dir, false)},
      {"host", "T4DM_HOST", "ADDR",
       "address to listen on (default 127.0.0.1); a non-loopback address needs a key",
       Text(&ServiceConfig::host, false)},
      {"port", "T4DM_PORT", "N", "TCP port (default 8000; 0 = any free port)",
       Number(&ServiceConfig::port, 0, 65535)},
      {"api-key", "T4DM_API_KEY", "KEY",
       "admin key for every session (prefer the variable: flags show in ps). Without a key "
       "or keys file, one is generated once and kept in DATA_DIR/.api_key (mode 0600)",
       Text(&ServiceConfig::api_key, true)},
      {"api-keys-file", "T4DM_API_KEYS_FILE", "FILE",
       "JSON keys file: {\"keys\":[{\"key\":\"...\",\"role\":\"read-only|read-write|admin\","
       "\"sessions\":[\"s1\",\"team-*\"] or \"*\"}]}",
       Text(&ServiceConfig::api_keys_file, true)},
      {"flush-threshold", "T4DM_FLUSH_THRESHOLD", "N",
       "MemTable items that trigger a flush to a segment (default 1000)",
       EngineNumber(&t4dx::Options::flush_threshold_items, 1, 100000000), true},
      {"recovery-strict", "T4DM_RECOVERY_STRICT", "BOOL",
       "refuse to open a store whose WAL fails a checksum mid-log (default false: open at "
       "the last good entry, quarantine the rest, report it in /storage/status)",
       [](const std::string& text, ServiceConfig* c) {
         return ParseBool(text, &c->engine.recovery_strict);
       },
       true},
      {"wal-sync", "T4DM_WAL_SYNC", "MODE",
       "always (default: fdatasync before each acknowledgement) | interval | none",
       [](const std::string& text, ServiceConfig* c) {
         return t4dx::ParseWalSync(text, &c->engine.wal_sync);
       },
       true},
      {"max-body-bytes", "T4DM_MAX_BODY_BYTES", "N",
       "largest request body accepted (default 33554432); larger ones get 413",
       Number(&ServiceConfig::max_body_bytes, 1024, 1ull << 32)},
      {"max-k", "T4DM_MAX_K", "N", "largest k of a search (default 10000)",
       EngineNumber(&t4dx::Options::max_k, 1, 1000000)},
      {"max-batch-items", "T4DM_MAX_BATCH_ITEMS", "N",
       "most items in one POST /episodes/batch (default 10000)",
       EngineNumber(&t4dx::Options::max_batch_items, 1, 1000000)},
      {"max-content-bytes", "T4DM_MAX_CONTENT_BYTES", "N", "largest item content (default 1048576)",
       EngineNumber(&t4dx::Options::max_content_bytes, 1, 1ull << 30)},
      {"max-open-sessions", "T4DM_MAX_OPEN_SESSIONS", "N",
       "session stores open at once (default 64); the least recently used idle one is "
       "closed to open another",
       Number(&ServiceConfig::max_open_sessions, 1, 100000)},
      {"session-idle-seconds", "T4DM_SESSION_IDLE_SECONDS", "N",
       "close a session store unused for this long (default 300)",
       Number(&ServiceConfig::session_idle_seconds, 1, 86400 * 365)},
      {"http-threads", "T4DM_HTTP_THREADS", "N",
       "connections served at once (default 32); more wait in the accept queue",
       Number(&ServiceConfig::http_threads, 1, 4096)},
      {"read-timeout-seconds", "T4DM_READ_TIMEOUT_SECONDS", "N",
       "drop a client that sends nothing for this long (default 5)",
       Number(&ServiceConfig::read_timeout_seconds, 1, 3600)},
      {"request-timeout-seconds", "T4DM_REQUEST_TIMEOUT_SECONDS", "N",
       "a request (head and body) must arrive within this long of its first byte, plus 1 s "
       "per --min-request-bytes-per-second bytes of it (default 5); else 408 and the "
       "connection is closed: slow clients cannot hold the HTTP threads",
       Number(&ServiceConfig::request_timeout_seconds, 1, 3600)},
      {"min-request-bytes-per-second", "T4DM_MIN_REQUEST_BYTES_PER_SECOND", "N",
       "the slowest upload rate a large body may keep (default 16384)",
       Number(&ServiceConfig::min_request_bytes_per_second, 1, 1ull << 32)},
      {"keep-alive-seconds", "T4DM_KEEP_ALIVE_SECONDS", "N",
       "close an idle keep-alive connection after this long (default 2); shutdown waits for "
       "idle connections up to this long",
       Number(&ServiceConfig::keep_alive_seconds, 1, 3600)},
      {"inspector-dir", "T4DM_INSPECTOR_DIR", "DIR",
       "web inspector files served at /inspector/ (default: web/dist of the repository "
       "holding the binary, else ./web/dist; not served when missing)",
       Text(&ServiceConfig::inspector_dir, true)},
      {"log-level", "T4DM_LOG_LEVEL", "LEVEL", "debug | info (default) | warn | error",
       [](const std::string& text, ServiceConfig* c) {
         if (!Logger::ParseLevel(text, &c->log_level)) {
           return Status::InvalidArgument("expected debug, info, warn or error, got \"" + text +
                                          "\"");
         }
         return Status::OK();
       }},
      {"access-log", "T4DM_ACCESS_LOG", "BOOL", "log one line per request (default true)",
       [](const std::string& text, ServiceConfig* c) { return ParseBool(text, &c->access_log); }},
  };
  return kSettings;
}

const Setting* FindSetting(const std::string& flag) {
  for (const Setting& s : Settings()) {
    if (flag == s.flag) return &s;
  }
  return nullptr;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const char* name, std::string* value) {
    const char* v = std::getenv(name);
    if (v == nullptr) return false;
    *value = v;
    return true;
  };
}

Status ParseConfig(int argc, const char* const* argv, const EnvLookup& env, ServiceConfig* config) {
  // The engine's own variables, parsed by the engine's own code.
  Status s = t4dx::ApplyEnvironment(&config->engine);
  if (!s.ok()) return s;
  for (const Setting& setting : Settings()) {
    if (setting.env == nullptr || setting.engine_env) continue;
    std::string value;
    if (!env(setting.env, &value)) continue;
    s = setting.apply(value, config);
    if (!s.ok()) return Status::InvalidArgument(std::string(setting.env) + ": " + s.message());
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      config->help = true;
      continue;
    }
    if (arg == "--version") {
      config->version = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      return Status::InvalidArgument("unexpected argument \"" + arg + "\" (see --help)");
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Setting* setting = FindSetting(name);
    if (setting == nullptr) {
      return Status::InvalidArgument("unknown flag --" + name + " (see --help)");
    }
    if (!has_value) {
      bool next_is_bool = false;
      if (i + 1 < argc) {
        bool ignored = false;
        next_is_bool = ParseBool(argv[i + 1], &ignored).ok();
      }
      if (std::strcmp(setting->value, "BOOL") == 0 && !next_is_bool) {
        value = "true";  // a bare switch: --recovery-strict
      } else if (i + 1 >= argc) {
        return Status::InvalidArgument("--" + name + " needs a value");
      } else {
        value = argv[++i];
      }
    }
    s = setting->apply(value, config);
    if (!s.ok()) return Status::InvalidArgument("--" + name + ": " + s.message());
  }
  return Status::OK();
}

std::string HelpText() {
  std::string out =
      "t4dm-service: the T4DX storage HTTP server (runbook: DEBUGGING_STORAGE.md).\n"
      "\n"
      "Usage: t4dm-service [--flag VALUE | --flag=VALUE]...\n"
      "Every flag overrides its environment variable.\n"
      "\n";
  for (const Setting& s : Settings()) {
    std::string left = std::string("  --") + s.flag + " " + s.value;
    if (left.size() < 30) left.resize(30, ' ');
    out += left + (s.env ? s.env : "") + "\n      " + s.help + "\n";
  }
  out +=
      "  --help                      this text\n"
      "  --version                   the version\n"
      "\n"
      "Every endpoint except GET /healthz and the static files under /inspector/ needs the\n"
      "header X-API-Key. SIGTERM or SIGINT stops accepting, finishes what is in flight, closes\n"
      "every store (WAL synced, index saved, locks released) and exits 0. Exit status 1:\n"
      "could not start (bad configuration, data root held by another server, port in use).\n";
  return out;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // 127.0.0.0/8 written as a dotted quad.
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      return false;
  }
  return dots == 3;
}

}  // namespace t4dm
