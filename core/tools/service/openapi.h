// The OpenAPI 3 document of the service (openapi.json in this directory, embedded at build
// time by CMakeLists.txt), answered by GET /openapi.json.
#pragma once

namespace t4dm {

extern const char* const kOpenApiJson;

}  // namespace t4dm
