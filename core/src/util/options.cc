// Names of option enums and the T4DM_* environment variables.
#include "t4dx/options.h"

#include <cstdlib>

namespace t4dx {

const char* MetricName(Metric m) {
  switch (m) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kInnerProduct:
      return "ip";
    case Metric::kL2:
      return "l2";
  }
  return "unknown";
}

namespace {
std::string Lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}
}  // namespace

Status ParseMetric(const std::string& s, Metric* m) {
  const std::string l = Lower(s);
  if (l == "cosine") {
    *m = Metric::kCosine;
  } else if (l == "ip" || l == "inner_product") {
    *m = Metric::kInnerProduct;
  } else if (l == "l2") {
    *m = Metric::kL2;
  } else {
    return Status::InvalidArgument("unknown metric \"" + s +
                                   "\" (expected cosine, ip, inner_product or l2)");
  }
  return Status::OK();
}

const char* WalSyncName(WalSync s) {
  switch (s) {
    case WalSync::kAlways:
      return "always";
    case WalSync::kInterval:
      return "interval";
    case WalSync::kNone:
      return "none";
  }
  return "unknown";
}

Status ParseWalSync(const std::string& s, WalSync* out) {
  const std::string l = Lower(s);
  if (l == "always") {
    *out = WalSync::kAlways;
  } else if (l == "interval") {
    *out = WalSync::kInterval;
  } else if (l == "none") {
    *out = WalSync::kNone;
  } else {
    return Status::InvalidArgument("unknown WAL sync mode \"" + s +
                                   "\" (expected always, interval or none)");
  }
  return Status::OK();
}

namespace {

// The variable's value, or null when it is unset or empty (an empty value is "unset").
const char* Get(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && v[0] != '\0') ? v : nullptr;
}

// Fits size_t on 32-bit WASM too.
constexpr uint64_t kMaxFlushThreshold = 1000000000;

Status Malformed(const char* name, const char* value, const char* expected) {
  return Status::InvalidArgument(std::string(name) + "=\"" + value + "\" is malformed: expected " +
                                 expected);
}

}  // namespace

Status ApplyEnvironment(Options* options) {
  // Parse everything first so that a malformed variable changes nothing.
  Options result = *options;
  if (const char* v = Get("T4DM_FLUSH_THRESHOLD")) {
    uint64_t n = 0;
    bool ok = true;
    for (const char* p = v; *p != '\0'; ++p) {
      if (*p < '0' || *p > '9' || n > kMaxFlushThreshold) {
        ok = false;
        break;
      }
      n = n * 10 + static_cast<uint64_t>(*p - '0');
    }
    if (!ok || n == 0 || n > kMaxFlushThreshold) {
      return Malformed("T4DM_FLUSH_THRESHOLD", v, "a positive integer (items)");
    }
    result.flush_threshold_items = static_cast<size_t>(n);
  }
  if (const char* v = Get("T4DM_RECOVERY_STRICT")) {
    const std::string l = Lower(v);
    if (l == "true" || l == "1" || l == "yes") {
      result.recovery_strict = true;
    } else if (l == "false" || l == "0" || l == "no") {
      result.recovery_strict = false;
    } else {
      return Malformed("T4DM_RECOVERY_STRICT", v, "true, false, 1, 0, yes or no");
    }
  }
  if (const char* v = Get("T4DM_WAL_SYNC")) {
    if (!ParseWalSync(v, &result.wal_sync).ok()) {
      return Malformed("T4DM_WAL_SYNC", v, "always, interval or none");
    }
  }
  *options = std::move(result);
  return Status::OK();
}

}  // namespace t4dx
