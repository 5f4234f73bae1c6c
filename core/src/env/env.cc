// Env::Default: POSIX natively unless SetDefault chose another; in WebAssembly the host
// Env installed by the bindings (null before SetDefault).
#include "t4dx/env.h"

#include <atomic>

#include "env/posix_env.h"

namespace t4dx {
namespace {
std::atomic<Env*> g_default_env{nullptr};
}  // namespace

Env* Env::Default() {
  Env* env = g_default_env.load(std::memory_order_acquire);
#ifndef __EMSCRIPTEN__
  if (env == nullptr) env = PosixEnv();
#endif
  return env;
}

void Env::SetDefault(Env* env) { g_default_env.store(env, std::memory_order_release); }

}  // namespace t4dx
