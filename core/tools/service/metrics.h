// Metrics: Prometheus text exposition (format 0.0.4) for GET /metrics.
//
//   t4dm_http_requests_total{route,method,status}            counter
//   t4dm_http_request_duration_seconds{route,method,status}  histogram
//   t4dm_http_requests_in_flight                             gauge
//   t4dm_store_<field>{session}   one gauge per numeric field of the session's
//                                 Describe(View::kStats) document, nested keys joined by '_'
//                                 (e.g. memtable.items -> t4dm_store_memtable_items); the
//                                 figures are the engine's own, never recomputed here
//   t4dm_sessions_*, t4dm_process_*                          see service.cc
//
// `route` is the endpoint pattern ("/storage/segment/{segment_id}/verify"), never the raw
// path, so the number of series stays bounded whatever clients send.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace t4dm {

// Builds one exposition document; samples of a family are grouped under one HELP/TYPE.
class PromText {
 public:
  // name: family name; sample_name: name of this sample (family name, or with _bucket/_sum/
  // _count for histograms); labels: pairs rendered in order, values escaped.
  void Add(const std::string& name, const char* type, const std::string& help,
           const std::string& sample_name,
           const std::vector<std::pair<std::string, std::string>>& labels, double value);
  void Gauge(const std::string& name, const std::string& help,
             const std::vector<std::pair<std::string, std::string>>& labels, double value) {
    Add(name, "gauge", help, name, labels, value);
  }
  std::string Render() const;

 private:
  struct Family {
    std::string type;
    std::string help;
    std::vector<std::string> lines;
  };
  std::map<std::string, Family> families_;
};

// Adds a gauge per numeric or boolean leaf of a JSON object (the session's kStats view).
// Arrays and strings are skipped. Returns false when stats_json is not a JSON object.
bool AddStoreGauges(const std::string& session_id, const std::string& stats_json, PromText* out);

class HttpMetrics {
 public:
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void Observe(const std::string& route, const std::string& method, int status, double seconds);
  void AddTo(PromText* out) const;

  std::atomic<int64_t> in_flight{0};

 private:
  struct Series {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;  // GUARDED_BY(mu_)
};

}  // namespace t4dm
