#include "render.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <vector>

namespace t4dx_cli {
namespace {

using json = nlohmann::ordered_json;

constexpr size_t kMaxTableWidth = 160;
constexpr size_t kMaxCell = 48;

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool IsTimeKey(const std::string& k) {
  return EndsWith(k, "_ms") || EndsWith(k, "time") || EndsWith(k, "timestamp") ||
         EndsWith(k, "_at") || k == "time_min" || k == "time_max";
}

bool IsBytesKey(const std::string& k) { return EndsWith(k, "bytes") || EndsWith(k, "_size"); }

std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_float()) {
    const double d = v.get<double>();
    char buf[64];
    if (std::fabs(d) >= 1e6 || (d != 0 && std::fabs(d) < 1e-3)) {
      std::snprintf(buf, sizeof(buf), "%.4g", d);
    } else {
      std::snprintf(buf, sizeof(buf), "%.4f", d);
      std::string s = buf;
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
      return s;
    }
    return buf;
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The scalar with a hint for humans: "1700000000000 (2023-11-14T22:13:20.000Z)".
std::string WithHint(const std::string& key, const json& v) {
  std::string s = Scalar(v);
  if (v.is_number_integer() || v.is_number_unsigned()) {
    const double d = v.get<double>();
    if (IsTimeKey(key) && d > 1e11 && d < 1e14) {
      s += " (" + IsoTime(v.get<int64_t>()) + ")";
    } else if (IsBytesKey(key) && d >= 1024) {
      s += " (" + HumanBytes(d) + ")";
    }
  }
  return s;
}

bool IsScalar(const json& v) { return !v.is_object() && !v.is_array(); }

bool AllScalars(const json& a) {
  for (const auto& e : a) {
    if (!IsScalar(e)) return false;
  }
  return true;
}

bool AllObjects(const json& a) {
  for (const auto& e : a) {
    if (!e.is_object()) return false;
  }
  return true;
}

std::string Pad(int indent) { return std::string(static_cast<size_t>(indent), ' '); }

void RenderObject(const json& o, int indent, std::string* out);

std::string CellOf(const std::string& key, const json& v) {
  if (IsScalar(v)) return WithHint(key, v);
  if (v.is_array() && AllScalars(v)) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + Scalar(e);
    return s;
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// An array of objects as an aligned table; false when it would be too wide or would have
// to cut a value (a problem's reason must be read whole): the caller then lists it.
bool RenderTable(const json& a, int indent, std::string* out) {
  std::vector<std::string> cols;
  for (const auto& row : a) {
    for (auto it = row.begin(); it != row.end(); ++it) {
      bool have = false;
      for (const auto& c : cols) have = have || c == it.key();
      if (!have) cols.push_back(it.key());
    }
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(cols.size());
  for (size_t c = 0; c < cols.size(); ++c) width[c] = cols[c].size();
  for (const auto& row : a) {
    std::vector<std::string> r;
    for (size_t c = 0; c < cols.size(); ++c) {
      auto it = row.find(cols[c]);
      r.push_back(it == row.end() ? "" : CellOf(cols[c], *it));
      if (r.back().size() > kMaxCell) return false;
      width[c] = std::max(width[c], r.back().size());
    }
    cells.push_back(std::move(r));
  }
  size_t total = static_cast<size_t>(indent);
  for (size_t w : width) total += w + 2;
  if (total > kMaxTableWidth) return false;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l = Pad(indent);
    for (size_t c = 0; c < r.size(); ++c) {
      l += r[c];
      if (c + 1 < r.size()) l += std::string(width[c] - r[c].size() + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    *out += l + "\n";
  };
  line(cols);
  for (const auto& r : cells) line(r);
  return true;
}

void RenderArray(const std::string& key, const json& a, int indent, std::string* out) {
  if (a.empty()) {
    *out += Pad(indent) + key + ": (none)\n";
  } else if (AllScalars(a)) {
    std::string s;
    for (const auto& e : a) s += (s.empty() ? "" : ", ") + WithHint(key, e);
    *out += Pad(indent) + key + ": " + s + "\n";
  } else if (AllObjects(a)) {
    *out += Pad(indent) + key + ": (" + std::to_string(a.size()) + ")\n";
    if (!RenderTable(a, indent + 2, out)) {
      for (const auto& e : a) {
        std::string item;
        RenderObject(e, indent + 4, &item);
        if (item.size() > static_cast<size_t>(indent + 4)) {
          item.replace(static_cast<size_t>(indent + 2), 2, "- ");
        }
        *out += item;
      }
    }
  } else {
    *out += Pad(indent) + key + ":\n";
    for (const auto& e : a) {
      *out +=
          Pad(indent + 2) + "- " + e.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    }
  }
}

void RenderObject(const json& o, int indent, std::string* out) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (v.is_object()) {
      if (v.empty()) {
        *out += Pad(indent) + k + ": (none)\n";
      } else {
        *out += Pad(indent) + k + ":\n";
        RenderObject(v, indent + 2, out);
      }
    } else if (v.is_array()) {
      RenderArray(k, v, indent, out);
    } else {
      *out += Pad(indent) + k + ": " + WithHint(k, v) + "\n";
    }
  }
}

}  // namespace

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

std::string IsoTime(int64_t ms) {
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buf;
}

std::string RenderHuman(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return text + (text.empty() || text.back() != '\n' ? "\n" : "");
  std::string out;
  if (j.is_object()) {
    RenderObject(j, 0, &out);
  } else if (j.is_array()) {
    RenderArray("items", j, 0, &out);
  } else {
    out = Scalar(j) + "\n";
  }
  return out;
}

}  // namespace t4dx_cli
