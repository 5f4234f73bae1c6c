// ProcessStats: the service process's own resources, for /metrics (Linux /proc; zero
// elsewhere). Open file handles and memory must stay bounded however many sessions and
// segments exist; these are the figures that show it.
#pragma once

#include <cstdint>

namespace t4dm {

struct ProcessStats {
  int64_t open_fds = 0;
  int64_t max_fds = 0;  // the soft RLIMIT_NOFILE
  int64_t resident_bytes = 0;
  int64_t virtual_bytes = 0;
  int64_t threads = 0;
};

ProcessStats ReadProcessStats();

}  // namespace t4dm
