// Router: the table of endpoints. Each route names its method, its path pattern (literal
// segments and {param} segments), who may call it and which session store it works on; the
// service applies those rules before the handler runs, so a handler only does its own job.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api_keys.h"
#include "api_status.h"
#include "http_server.h"
#include "json_body.h"

namespace t4dx {
class Engine;
}

namespace t4dm {

enum class SessionUse {
  kNone,    // the endpoint does not touch a session store
  kRead,    // the store must exist: 404 otherwise, nothing created
  kCreate,  // a write: the store is created on first use
};

// What a handler gets: the request, its path parameters, its body (POST/DELETE; without
// "session_id") and, when the route uses a session, the session's engine. For kRead routes
// the store is leased before the handler runs; a kCreate handler calls OpenSession() itself
// once it has validated the request, so that bad input never creates a store.
struct RouteContext {
  explicit RouteContext(const HttpRequest& request) : http(request) {}
  const HttpRequest& http;
  std::map<std::string, std::string> params;
  Json body = Json::object();
  std::string session_id;
  t4dx::Engine* engine = nullptr;  // set by OpenSession()
  const ApiKey* key = nullptr;

  // Leases the session's store (idempotent); sets engine.
  ApiStatus OpenSession() { return engine != nullptr ? ApiStatus::OK() : open_session(this); }
  std::function<ApiStatus(RouteContext* ctx)> open_session;
  std::shared_ptr<void> lease;  // keeps the store open until the request is answered
};

// Fills *response on success; an error status is turned into the JSON error body.
using RouteHandler = std::function<ApiStatus(RouteContext& ctx, HttpResponse* response)>;

struct Route {
  std::string method;   // GET, POST, DELETE (GET routes also answer HEAD)
  std::string pattern;  // "/storage/segment/{segment_id}/verify"; "/inspector/*" = prefix
  bool auth = true;     // X-API-Key required
  Role role = Role::kReadOnly;
  bool all_sessions = false;  // the key must cover every session (e.g. /metrics)
  SessionUse session = SessionUse::kNone;
  RouteHandler handler;
};

class Router {
 public:
  void Add(Route route);

  // The route for method and path, with its {param} values. When the path exists under
  // other methods only, returns nullptr and sets *allow ("GET, POST").
  const Route* Match(const std::string& method, const std::string& path,
                     std::map<std::string, std::string>* params, std::string* allow) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;
    bool prefix = false;
  };
  static bool MatchPath(const Compiled& compiled, const std::vector<std::string>& path,
                        std::map<std::string, std::string>* params);

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

// "/a/b/" -> {"a", "b", ""}; "/" -> {""}.
std::vector<std::string> SplitPath(const std::string& path);

}  // namespace t4dm
