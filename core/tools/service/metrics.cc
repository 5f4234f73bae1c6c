#include "metrics.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace t4dm {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", v);
  }
  return buf;
}

// A Prometheus metric name part: [a-zA-Z0-9_], everything else becomes '_'.
std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out.push_back(ok ? c : '_');
  }
  return out;
}

void Flatten(const nlohmann::json& node, const std::string& prefix, const std::string& path,
             const std::string& session_id, PromText* out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      Flatten(it.value(), prefix + "_" + Sanitize(it.key()),
              path.empty() ? it.key() : path + "." + it.key(), session_id, out);
    }
  } else if (node.is_number() || node.is_boolean()) {
    const double v = node.is_boolean() ? (node.get<bool>() ? 1 : 0) : node.get<double>();
    out->Gauge(prefix, "Describe(kStats) field " + path + " of each open session store",
               {{"session", session_id}}, v);
  }
}

}  // namespace

void PromText::Add(const std::string& name, const char* type, const std::string& help,
                   const std::string& sample_name,
                   const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  Family& family = families_[name];
  if (family.type.empty()) {
    family.type = type;
    family.help = help;
  }
  std::string line = sample_name;
  if (!labels.empty()) {
    line.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) line.push_back(',');
      line += labels[i].first + "=\"" + EscapeLabel(labels[i].second) + "\"";
    }
    line.push_back('}');
  }
  line.push_back(' ');
  line += FormatValue(value);
  family.lines.push_back(std::move(line));
}

std::string PromText::Render() const {
  std::string out;
  for (const auto& entry : families_) {
    std::string help = entry.second.help;
    for (char& c : help) {
      if (c == '\n') c = ' ';
    }
    out += "# HELP " + entry.first + " " + help + "\n";
    out += "# TYPE " + entry.first + " " + entry.second.type + "\n";
    for (const std::string& line : entry.second.lines) out += line + "\n";
  }
  return out;
}

bool AddStoreGauges(const std::string& session_id, const std::string& stats_json, PromText* out) {
  nlohmann::json doc = nlohmann::json::parse(stats_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  Flatten(doc, "t4dm_store", "", session_id, out);
  return true;
}

void HttpMetrics::Observe(const std::string& route, const std::string& method, int status,
                          double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[std::make_tuple(route, method, status)];
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  if (i < kBuckets.size()) ++s.buckets[i];
  ++s.count;
  s.sum += seconds;
}

void HttpMetrics::AddTo(PromText* out) const {
  const std::string requests = "t4dm_http_requests_total";
  const std::string duration = "t4dm_http_request_duration_seconds";
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& entry : series_) {
    const std::vector<std::pair<std::string, std::string>> labels = {
        {"route", std::get<0>(entry.first)},
        {"method", std::get<1>(entry.first)},
        {"status", std::to_string(std::get<2>(entry.first))}};
    const Series& s = entry.second;
    out->Add(requests, "counter", "HTTP requests answered, by endpoint, method and status",
             requests, labels, static_cast<double>(s.count));
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= kBuckets.size(); ++i) {
      auto bucket_labels = labels;
      if (i < kBuckets.size()) {
        cumulative += s.buckets[i];
        bucket_labels.emplace_back("le", FormatValue(kBuckets[i]));
      } else {
        cumulative = s.count;
        bucket_labels.emplace_back("le", "+Inf");
      }
      out->Add(duration, "histogram", "Time to answer an HTTP request, in seconds",
               duration + "_bucket", bucket_labels, static_cast<double>(cumulative));
    }
    out->Add(duration, "histogram", "", duration + "_sum", labels, s.sum);
    out->Add(duration, "histogram", "", duration + "_count", labels, static_cast<double>(s.count));
  }
}

}  // namespace t4dm
