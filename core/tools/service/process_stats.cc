// Reads /proc/self: process introspection, not storage, so it does not go through t4dx::Env.
#include "process_stats.h"

#include <dirent.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>

namespace t4dm {

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (struct dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++stats.open_fds;
    }
    ::closedir(dir);
    --stats.open_fds;  // the descriptor of the listing itself
  }
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) stats.max_fds = static_cast<int64_t>(rl.rlim_cur);
  if (std::FILE* f = std::fopen("/proc/self/status", "re")) {
    char line[256];
    while (std::fgets(line, sizeof(line), f)) {
      long long v = 0;
      if (std::sscanf(line, "VmRSS: %lld kB", &v) == 1)
        stats.resident_bytes = v * 1024;
      else if (std::sscanf(line, "VmSize: %lld kB", &v) == 1)
        stats.virtual_bytes = v * 1024;
      else if (std::sscanf(line, "Threads: %lld", &v) == 1)
        stats.threads = v;
    }
    std::fclose(f);
  }
  return stats;
}

}  // namespace t4dm
