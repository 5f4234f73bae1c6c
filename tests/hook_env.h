// HookEnv: a ForwardingEnv that runs a test's function when a given file is opened for
// reading, to change a store at that exact moment (a writer sealing wal.jsonl between a
// reader's listing of the WAL files and its opening of them, say).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "forwarding_env.h"

namespace t4dx {
namespace testing_util {

class HookEnv : public ForwardingEnv {
 public:
  enum class When {
    kBeforeOpen,  // the hook runs, then the file is opened (it sees the hook's changes)
    kAfterOpen,   // the file is opened, then the hook runs while it is held open
  };
  explicit HookEnv(Env* base) : ForwardingEnv(base) {}
  // Calls `fn` on the first `times` opens of `path` for reading (NewRandomAccessFile).
  void SetHook(const std::string& path, std::function<void()> fn, int times = 1,
               When when = When::kBeforeOpen) {
    hooks_[path] = Hook{std::move(fn), times, 0, when};
  }
  // How many times the hook of `path` ran.
  int fired_count(const std::string& path) const {
    auto it = hooks_.find(path);
    return it == hooks_.end() ? 0 : it->second.fired;
  }

  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* f) override {
    auto it = hooks_.find(p);
    if (it == hooks_.end() || it->second.fired == it->second.times) {
      return base()->NewRandomAccessFile(p, f);
    }
    Hook& h = it->second;
    h.fired++;
    if (h.when == When::kAfterOpen) {
      Status s = base()->NewRandomAccessFile(p, f);
      h.fn();
      return s;
    }
    h.fn();
    return base()->NewRandomAccessFile(p, f);
  }

 private:
  struct Hook {
    std::function<void()> fn;
    int times;
    int fired;
    When when;
  };
  std::map<std::string, Hook> hooks_;
};

}  // namespace testing_util
}  // namespace t4dx
