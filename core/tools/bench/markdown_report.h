// `t4dx-bench report DIR [--out FILE] [--plots PLOTDIR]`: turns the JSON lines in DIR/*.jsonl
// into the Markdown tables of BENCHMARKS.md (one table per workload, each followed by the
// machine, commands and dates its figures come from, and the targets checked),
// and, with --plots, gnuplot data files and scripts (PLOTDIR/*.dat, *.gp; `gnuplot x.gp`
// run inside PLOTDIR writes x.svg). Existing PLOTDIR/*.svg are linked from the tables.
#pragma once

namespace t4dx_bench {

// argv[1] == "report". Returns the exit code.
int RunReport(int argc, char** argv);

}  // namespace t4dx_bench
