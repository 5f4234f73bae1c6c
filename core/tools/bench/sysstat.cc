#include "sysstat.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace t4dx_bench {

namespace fs = std::filesystem;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double ThreadCpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

namespace {

uint64_t StatusField(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  size_t klen = std::char_traits<char>::length(key);
  while (std::getline(in, line)) {
    if (line.compare(0, klen, key) == 0) {
      return std::strtoull(line.c_str() + klen, nullptr, 10) * 1024;  // kB
    }
  }
  return 0;
}

uint64_t IoField(const std::string& text, const char* key) {
  size_t p = text.find(key);
  if (p == std::string::npos) return 0;
  return std::strtoull(text.c_str() + p + std::char_traits<char>::length(key), nullptr, 10);
}

}  // namespace

uint64_t CurrentRssBytes() { return StatusField("VmRSS:"); }
uint64_t PeakRssBytes() { return StatusField("VmHWM:"); }

void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

uint64_t ProcWriteBytes() {
  std::ifstream in("/proc/self/io");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  uint64_t w = IoField(t, "\nwrite_bytes: ");
  uint64_t c = IoField(t, "\ncancelled_write_bytes: ");
  return w > c ? w - c : 0;
}

uint64_t DirBytes(const std::string& dir) { return FilesBytes(dir, ""); }

uint64_t FilesBytes(const std::string& dir, const std::string& suffix) {
  std::error_code ec;
  uint64_t total = 0;
  if (!fs::exists(dir, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code e2;
    if (!it->is_regular_file(e2)) continue;
    const std::string name = it->path().filename().string();
    if (!suffix.empty() &&
        (name.size() < suffix.size() ||
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)) {
      continue;
    }
    total += it->file_size(e2);
  }
  return total;
}

std::string MachineDescription(const std::string& dir) {
  std::string model;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  uint64_t mem_kb = 0;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    in >> key >> mem_kb;
  }
  std::string fstype, dev;
  {
    // The mount holding dir: the longest mount point that prefixes it.
    std::ifstream in("/proc/mounts");
    std::string d, mp, t, rest;
    size_t best = 0;
    std::error_code ec;
    std::string abs = fs::weakly_canonical(dir, ec).string();
    while (in >> d >> mp >> t && std::getline(in, rest)) {
      if (abs.rfind(mp, 0) == 0 && mp.size() >= best) {
        best = mp.size();
        fstype = t;
        dev = d;
      }
    }
  }
  std::ostringstream o;
  o << std::thread::hardware_concurrency() << " cores (" << model << "), "
    << (mem_kb + (1 << 19)) / (1 << 20) << " GiB RAM, " << fstype << " on " << dev;
  return o.str();
}

std::string DateUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double Percentile(std::vector<double>* s, double p) {
  if (s->empty()) return 0;
  std::sort(s->begin(), s->end());
  size_t i = static_cast<size_t>(p * double(s->size() - 1) + 0.5);
  return (*s)[std::min(i, s->size() - 1)];
}

bool MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  return !ec;
}

void RemoveAll(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

bool CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  return !ec;
}

}  // namespace t4dx_bench
