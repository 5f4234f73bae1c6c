// NewMemEnv: an in-memory Env for tests and the inspector. It is a FaultInjectionEnv
// that is never told to fail or crash, so both share one tested implementation of
// files and directories (lenient: missing parent directories are created implicitly).
#include "env/fault_env.h"
#include "t4dx/env.h"

namespace t4dx {

std::unique_ptr<Env> NewMemEnv() { return std::make_unique<FaultInjectionEnv>(); }

}  // namespace t4dx
