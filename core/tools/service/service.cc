#include "service.h"

#include <algorithm>
#include <exception>

#include "ids.h"
#include "t4dx/item.h"

namespace t4dm {

void SetJson(int status, std::string body, HttpResponse* response) {
  response->status = status;
  response->content_type = "application/json";
  if (body.empty() || body.back() != '\n') body.push_back('\n');
  response->body = std::move(body);
}

void SetError(const ApiStatus& error, HttpResponse* response) {
  SetJson(error.http_status(), error.ToJson(), response);
  if (error.http_status() == 503) response->headers.emplace_back("Retry-After", "1");
}

Service::Service(const ServiceConfig& config, const ApiKeys& keys, SessionManager* sessions,
                 Logger* logger)
    : config_(config), keys_(keys), sessions_(sessions), logger_(logger) {}

HttpCallbacks Service::Callbacks() {
  HttpCallbacks cb;
  cb.admit = [this](const HttpRequest& req, HttpResponse* res) { return Admit(req, res); };
  cb.handle = [this](const HttpRequest& req, HttpResponse* res) { Handle(req, res); };
  cb.on_library_response = [this](const HttpRequest& req, const HttpResponse& res) {
    metrics_.Observe("unmatched", req.method, res.status, 0);
    if (config_.access_log || res.status >= 500) {
      logger_->Log(res.status >= 500 ? t4dx::LogLevel::kError : t4dx::LogLevel::kInfo, "request",
                   {{"method", req.method},
                    {"path", req.path},
                    {"status", res.status},
                    {"remote", req.remote_addr}});
    }
  };
  cb.error_body = [](int, const std::string& code, const std::string& message) {
    return ErrorJson(code, message) + "\n";
  };
  return cb;
}

const Route* Service::Find(const HttpRequest& request, std::map<std::string, std::string>* params,
                           ApiStatus* error) const {
  std::string allow;
  const Route* route = router_.Match(request.method, request.path, params, &allow);
  if (route != nullptr) return route;
  if (!allow.empty()) {
    *error = ApiStatus::Error(
        405, "method_not_allowed",
        request.method + " is not supported on " + request.path + " (allowed: " + allow + ")");
  } else {
    *error = ApiStatus::Error(
        404, "not_found",
        "no endpoint " + request.method + " " + request.path + " (see GET /openapi.json)");
  }
  return nullptr;
}

ApiStatus Service::Authorize(const Route& route, const HttpRequest& request,
                             const ApiKey** key) const {
  *key = nullptr;
  if (!route.auth) return ApiStatus::OK();
  if (!request.HasHeader("x-api-key")) {
    return ApiStatus::Error(401, "unauthorized", "missing X-API-Key header");
  }
  const ApiKey* found = keys_.Find(request.Header("x-api-key"));
  if (found == nullptr) return ApiStatus::Error(401, "unauthorized", "invalid API key");
  *key = found;
  if (!found->HasRole(route.role)) {
    return ApiStatus::Error(403, "forbidden",
                            "key \"" + found->name + "\" has role " + RoleName(found->role) + "; " +
                                route.method + " " + route.pattern + " needs " +
                                RoleName(route.role));
  }
  if (route.all_sessions && !found->all_sessions) {
    return ApiStatus::Error(403, "forbidden",
                            "key \"" + found->name + "\" is limited to some " + "sessions; " +
                                route.pattern + " needs a key for every session");
  }
  return ApiStatus::OK();
}

ApiStatus Service::ResolveSession(const HttpRequest& request, Json* body,
                                  std::string* session) const {
  std::string from_query;
  bool has_query = false;
  for (const std::string& v : request.QueryValues("session_id")) {
    if (has_query && v != from_query) {
      return ApiStatus::BadRequest("conflicting_session", "session_id is given twice, differently");
    }
    from_query = v;
    has_query = true;
  }
  std::string from_body;
  bool has_body = false;
  auto it = body->find("session_id");
  if (it != body->end()) {
    if (!it->is_string() && !it->is_null()) {
      return ApiStatus::BadRequest("wrong_type", "session_id must be a string");
    }
    if (it->is_string()) {
      from_body = it->get<std::string>();
      has_body = true;
    }
    body->erase(it);
  }
  if (has_query && has_body && from_query != from_body) {
    return ApiStatus::BadRequest("conflicting_session",
                                 "session_id differs between the query string and the body");
  }
  std::string id = has_body ? from_body : from_query;
  if (id.empty()) id = kDefaultSession;
  if (!IsValidSessionId(id)) {
    return ApiStatus::BadRequest("invalid_session_id", "session_id must match [A-Za-z0-9_-]{1,64}");
  }
  *session = id;
  return ApiStatus::OK();
}

bool Service::Admit(const HttpRequest& request, HttpResponse* response) {
  const Clock::time_point start = Clock::now();
  std::map<std::string, std::string> params;
  ApiStatus error;
  const Route* route = Find(request, &params, &error);
  const ApiKey* key = nullptr;
  if (route != nullptr) error = Authorize(*route, request, &key);
  if (error.ok()) return false;  // read the body, then Handle()
  SetError(error, response);
  Finish(request, route ? route->pattern : "unmatched", "", key, error, start, response);
  return true;
}

void Service::Handle(const HttpRequest& request, HttpResponse* response) {
  const Clock::time_point start = Clock::now();
  ++metrics_.in_flight;
  std::string route_name = "unmatched";
  std::string session;
  const ApiKey* key = nullptr;
  ApiStatus error;
  try {
    error = Run(request, response, &route_name, &session, &key);
  } catch (const std::exception& e) {
    error = ApiStatus::Error(500, "internal", std::string("unexpected error: ") + e.what());
  } catch (...) {
    error = ApiStatus::Error(500, "internal", "unexpected error");
  }
  if (!error.ok()) {
    *response = HttpResponse();
    SetError(error, response);
  }
  response->headers.emplace_back("Cache-Control", "no-store");
  Finish(request, route_name, session, key, error, start, response);
  --metrics_.in_flight;
}

ApiStatus Service::Run(const HttpRequest& request, HttpResponse* response, std::string* route_name,
                       std::string* session, const ApiKey** key) {
  std::map<std::string, std::string> params;
  ApiStatus error;
  const Route* route = Find(request, &params, &error);
  if (route == nullptr) return error;
  *route_name = route->pattern;
  T4DM_RETURN_IF_API_ERROR(Authorize(*route, request, key));

  RouteContext ctx(request);
  ctx.params = std::move(params);
  ctx.key = *key;
  const bool has_body =
      request.method == "POST" || (request.method == "DELETE" && !request.body.empty());
  if (has_body) {
    // Limits checked while parsing, so that no oversized array is ever built whole: a batch
    // holds at most max_batch_items items, any other array or object at most as many values
    // as the largest legitimate one (an embedding of kMaxDimension, or a batch).
    JsonLimits limits;
    limits.max_depth = config_.max_json_depth;
    limits.max_elements = std::max<size_t>(t4dx::kMaxDimension, config_.engine.max_batch_items);
    limits.counted_field = "items";
    limits.counted_max = config_.engine.max_batch_items;
    limits.counted_code = "batch_too_large";
    limits.counted_hint = " (--max-batch-items)";
    T4DM_RETURN_IF_API_ERROR(ParseJsonObject(request.body, limits, &ctx.body));
  }
  if (route->session != SessionUse::kNone) {
    T4DM_RETURN_IF_API_ERROR(ResolveSession(request, &ctx.body, &ctx.session_id));
    *session = ctx.session_id;
    if (*key != nullptr && !(*key)->AllowsSession(ctx.session_id)) {
      return ApiStatus::Error(
          403, "forbidden",
          "key \"" + (*key)->name + "\" may not use session \"" + ctx.session_id + "\"");
    }
    const SessionManager::Mode mode = route->session == SessionUse::kCreate
                                          ? SessionManager::Mode::kCreate
                                          : SessionManager::Mode::kRead;
    SessionManager* sessions = sessions_;
    ctx.open_session = [sessions, mode](RouteContext* c) {
      auto lease = std::make_shared<SessionLease>();
      const t4dx::Status s = sessions->Acquire(c->session_id, mode, lease.get());
      if (!s.ok()) {
        if (s.IsNotFound()) return ApiStatus::Error(404, "session_not_found", s.message());
        return ApiStatus::FromEngine(s);
      }
      c->engine = lease->engine();
      c->lease = std::move(lease);
      return ApiStatus::OK();
    };
    if (route->session == SessionUse::kRead) T4DM_RETURN_IF_API_ERROR(ctx.OpenSession());
  } else {
    ctx.open_session = [](RouteContext*) {
      return ApiStatus::Error(500, "internal", "this endpoint has no session");
    };
  }
  return route->handler(ctx, response);
}

void Service::Finish(const HttpRequest& request, const std::string& route_name,
                     const std::string& session, const ApiKey* key, const ApiStatus& error,
                     Clock::time_point start, HttpResponse* response) {
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  metrics_.Observe(route_name, request.method, response->status, seconds);
  const bool server_error = response->status >= 500;
  if (!config_.access_log && !server_error) return;
  Json fields = {{"method", request.method},
                 {"route", route_name},
                 {"path", request.path},
                 {"status", response->status},
                 {"duration_ms", seconds * 1000.0},
                 {"remote", request.remote_addr}};
  if (!session.empty()) fields["session"] = session;
  if (key != nullptr) fields["key"] = key->name;
  if (!error.ok()) {
    fields["error"] = error.code();
    if (server_error) fields["message"] = error.message();
  }
  logger_->Log(server_error ? t4dx::LogLevel::kError : t4dx::LogLevel::kInfo, "request", fields);
}

}  // namespace t4dm
