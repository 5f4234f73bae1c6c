// The named workloads. Each runs every selected system on the same data, emits one Result
// per (system, parameter point) and returns a process exit code (0 = all ran).
#pragma once

#include <string>

#include "dataset.h"
#include "flags.h"
#include "report.h"

namespace t4dx_bench {

struct Context {
  const Flags& flags;
  Dataset& data;
  Reporter& out;
  std::string scratch;  // a directory owned by this run
};

int RunIngest(Context& ctx);
int RunAnn(Context& ctx);
int RunFiltered(Context& ctx);
int RunFresh(Context& ctx);
int RunMixed(Context& ctx);
int RunRecovery(Context& ctx);

}  // namespace t4dx_bench
