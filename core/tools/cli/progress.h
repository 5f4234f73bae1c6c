// A progress bar on stderr for long work (import, verify, rebuilds, compaction, snapshots).
// Drawn only when enabled (stderr is a terminal and --json is off); otherwise every call is
// a no-op, so piped output holds nothing extra.
#pragma once

#include <cstdint>
#include <string>

#include "t4dx/engine.h"

namespace t4dx_cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();  // clears the bar
  // done out of total units (total 0 = unknown: a counter is shown).
  void Update(uint64_t done, uint64_t total);
  // As a t4dx::ProgressFn.
  t4dx::ProgressFn Fn();
  void Clear();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  int last_permille_ = -1;
  int64_t last_draw_us_ = 0;
};

}  // namespace t4dx_cli
