#include "progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace t4dx_cli {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Clear() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const int64_t now = NowMicros();
  const int permille =
      total > 0 ? static_cast<int>(done >= total ? 1000 : done * 1000 / total) : -1;
  // Redraw when the bar moves, at most every 50 ms (and always at the end).
  if (permille == last_permille_ && total > 0) return;
  if (now - last_draw_us_ < 50000 && permille != 1000) return;
  last_permille_ = permille;
  last_draw_us_ = now;
  char line[160];
  if (total > 0) {
    constexpr int kWidth = 30;
    const int fill = permille * kWidth / 1000;
    std::string bar(static_cast<size_t>(fill), '#');
    bar.append(static_cast<size_t>(kWidth - fill), '.');
    std::snprintf(line, sizeof(line), "\r\033[K%s [%s] %3d%% %llu/%llu", label_.c_str(),
                  bar.c_str(), permille / 10, static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total));
  } else {
    std::snprintf(line, sizeof(line), "\r\033[K%s %llu", label_.c_str(),
                  static_cast<unsigned long long>(done));
  }
  std::fputs(line, stderr);
  std::fflush(stderr);
  drawn_ = true;
}

t4dx::ProgressFn ProgressBar::Fn() {
  if (!enabled_) return {};
  return [this](uint64_t done, uint64_t total) { Update(done, total); };
}

}  // namespace t4dx_cli
