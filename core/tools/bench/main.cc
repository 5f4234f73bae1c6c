// t4dx-bench: named workloads over T4DX and its peers, in the habit of LevelDB's db_bench.
//   t4dx-bench ann --data ../shared/data/debian --json
// See README.md in this directory and flags.cc for every option.
#include <unistd.h>

#include <iostream>

#include "dataset.h"
#include "flags.h"
#include "markdown_report.h"
#include "report.h"
#include "sysstat.h"
#include "workloads.h"

using namespace t4dx_bench;

int main(int argc, char** argv) {
  Flags flags;
  std::string error;
  for (int i = 1; i < argc; i++) {  // `t4dx-bench --help` and `t4dx-bench ann --help` alike
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::cout << Usage();
      return 0;
    }
  }
  if (argc >= 2 && std::string(argv[1]) == "report") return RunReport(argc, argv);
  if (!ParseFlags(argc, argv, &flags, &error)) {
    std::cerr << "t4dx-bench: " << error << "\n\n" << Usage();
    return 2;
  }
  bool own_scratch = flags.dir.empty();
  std::string scratch =
      own_scratch ? "/tmp/t4dx-bench-" + std::to_string(getpid()) : flags.dir;
  if (!MakeDirs(scratch)) {
    std::cerr << "t4dx-bench: cannot create scratch directory " << scratch << "\n";
    return 2;
  }
  Reporter out(flags);
  Dataset data;
  double t0 = Now();
  if (!LoadDataset(flags, &data, &error)) {
    std::cerr << "t4dx-bench: " << error << "\n";
    return 2;
  }
  out.Note("data: " + data.source + ": " + std::to_string(data.n) + " x " +
           std::to_string(data.dim) + ", " + std::to_string(data.nq) + " queries (" +
           std::to_string(Now() - t0) + " s); machine: " + out.machine());
  Context ctx{flags, data, out, scratch};
  int rc = 1;
  if (flags.workload == "ingest") rc = RunIngest(ctx);
  else if (flags.workload == "ann") rc = RunAnn(ctx);
  else if (flags.workload == "filtered") rc = RunFiltered(ctx);
  else if (flags.workload == "fresh") rc = RunFresh(ctx);
  else if (flags.workload == "mixed") rc = RunMixed(ctx);
  else if (flags.workload == "recovery") rc = RunRecovery(ctx);
  if (own_scratch && !flags.keep) RemoveAll(scratch);
  return rc;
}
