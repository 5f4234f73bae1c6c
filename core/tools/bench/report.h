// Results: one per (workload, system, parameter point). With --json each is one line:
//   {"workload":"ann","system":"t4dx","params":{"ef":40,...},"figures":{"recall_at_10":..},
//    "machine":"...","date":"...","command":"..."}
// Without --json a readable line. --out appends the JSON lines to a file as well.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "flags.h"

namespace t4dx_bench {

using json = nlohmann::json;

struct Result {
  std::string workload;
  std::string system;
  json params = json::object();
  json figures = json::object();
};

class Reporter {
 public:
  explicit Reporter(const Flags& flags);
  // Prints (or, in a captured child, sends to the parent) one result.
  void Emit(const Result& r);
  // In a child process started by RunIsolated: Emit writes results to fd instead.
  void CaptureTo(int fd) { capture_fd_ = fd; }
  // A progress or context note (stderr, so stdout stays JSON lines with --json).
  void Note(const std::string& text) const;
  const std::string& machine() const { return machine_; }

 private:
  const Flags& flags_;
  std::string machine_;
  std::string date_;
  int capture_fd_ = -1;
};

// The compact JSON of a result's own fields, and back.
std::string ResultToLine(const Result& r);
bool ResultFromLine(const std::string& line, Result* r);

}  // namespace t4dx_bench
