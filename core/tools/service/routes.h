// The endpoints, registered on a Service's router. One function per group:
//   storage_routes.cc  the runbook's diagnostics and maintenance (/storage/..., /consolidation)
//   episode_routes.cc  the data plane (/episodes...)
//   ops_routes.cc      /healthz, /metrics, /openapi.json, /sessions, /inspector/
// Every diagnostic answer is the engine's own Describe() document, unchanged.
#pragma once

#include <string>

#include "service.h"

namespace t4dm {

void AddStorageRoutes(Service* service);
void AddEpisodeRoutes(Service* service);

struct OpsOptions {
  std::string inspector_dir;  // "" = not built: /inspector/ answers 404 explaining why
  std::string version;
};
void AddOpsRoutes(Service* service, const OpsOptions& options);

}  // namespace t4dm
