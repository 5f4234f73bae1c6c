// The POSIX Env (native builds only; posix_env.cc is the only file with POSIX includes).
#pragma once

#ifndef __EMSCRIPTEN__
#include "t4dx/env.h"

namespace t4dx {

// The process-wide POSIX Env. Never null, never destroyed.
Env* PosixEnv();

}  // namespace t4dx
#endif  // __EMSCRIPTEN__
