#include "report.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include "sysstat.h"

namespace t4dx_bench {

Reporter::Reporter(const Flags& flags) : flags_(flags) {
  machine_ = MachineDescription(flags.dir.empty() ? "/tmp" : flags.dir);
  date_ = DateUtc();
}

namespace {

std::string Short(const json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    char buf[32];
    if (d != 0 && (d < 0.01 && d > -0.01)) std::snprintf(buf, sizeof buf, "%.3g", d);
    else if (d >= 1000 || d <= -1000) std::snprintf(buf, sizeof buf, "%.0f", d);
    else std::snprintf(buf, sizeof buf, "%.4g", d);
    return buf;
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

std::string ResultToLine(const Result& r) {
  json j;
  j["workload"] = r.workload;
  j["system"] = r.system;
  j["params"] = r.params;
  j["figures"] = r.figures;
  return j.dump();
}

bool ResultFromLine(const std::string& line, Result* r) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  r->workload = j.value("workload", "");
  r->system = j.value("system", "");
  r->params = j.value("params", json::object());
  r->figures = j.value("figures", json::object());
  return true;
}

void Reporter::Emit(const Result& r) {
  if (capture_fd_ >= 0) {
    std::string line = ResultToLine(r) + "\n";
    size_t off = 0;
    while (off < line.size()) {
      ssize_t w = write(capture_fd_, line.data() + off, line.size() - off);
      if (w <= 0) break;
      off += size_t(w);
    }
    return;
  }
  json j;
  j["workload"] = r.workload;
  j["system"] = r.system;
  j["params"] = r.params;
  j["figures"] = r.figures;
  j["machine"] = machine_;
  j["load_average"] = LoadAverage();
  j["date"] = date_;
  j["command"] = flags_.command;
  std::string line = j.dump();
  if (flags_.json) {
    std::cout << line << std::endl;
  } else {
    std::string text = r.workload + "  " + r.system + "  ";
    for (auto& kv : r.params.items()) text += kv.key() + "=" + Short(kv.value()) + " ";
    text += "|";
    for (auto& kv : r.figures.items()) text += " " + kv.key() + "=" + Short(kv.value());
    std::cout << text << std::endl;
  }
  if (!flags_.out.empty()) {
    std::ofstream out(flags_.out, std::ios::app);
    out << line << "\n";
  }
}

void Reporter::Note(const std::string& text) const {
  std::cerr << "[t4dx-bench] " << text << std::endl;
}

}  // namespace t4dx_bench
